//! What a served operation answers: its modeled status and JSON body.

use axum::body::Bytes;

/// A successful reply: the modeled status and a JSON body (empty for 204), in pieces that are
/// sent one after the other: a ListUsers page shares its users' JSON with the page cache
/// rather than copying it into a body of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<Bytes>,
}

impl Reply {
    pub fn json(status: u16, body: String) -> Self {
        Reply::pieces(status, vec![Bytes::from(body)])
    }

    /// A body made of `pieces`, in order (empty pieces are dropped when it is sent).
    pub fn pieces(status: u16, pieces: Vec<Bytes>) -> Self {
        Reply {
            status,
            body: pieces,
        }
    }

    /// A modeled success with no output members: 204 with no body, or `{}`.
    pub fn empty(status: u16) -> Self {
        if status == 204 {
            Reply::pieces(status, Vec::new())
        } else {
            Reply::json(status, "{}".to_string())
        }
    }

    /// The whole body in one buffer (a copy: for tests and tools, not for serving).
    pub fn body_bytes(&self) -> Vec<u8> {
        self.body.concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_204_has_no_body_pieces() {
        // Tools (and the json_bodies fuzz target) take a reply with pieces to have a body.
        assert!(Reply::empty(204).body.is_empty());
        assert_eq!(Reply::empty(200).body_bytes(), b"{}");
    }
}
