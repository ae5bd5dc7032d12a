//! SCIM pages by `startIndex`/`count` on the keyset path.
//!
//! SCIM numbers results from 1 and asks for a page by its first index; Okta walks an account
//! with `startIndex=1, 101, 201, ...`. Served as OFFSET, that walk reads 1 + 101 + 201 + ...
//! rows: quadratic in the size of the account. Instead each page served remembers, per
//! (account, filter), the key its last user ended at, under the index the next page starts at;
//! the next page then continues after that key, as a ListUsers page token does, and costs what
//! the first page cost. The total counted for the first page is kept with it (it is what a walk
//! that started then saw; a walk counts once, not once per page).
//!
//! A `startIndex` that no page ended at (a client that jumps, or a cursor evicted, or a
//! restarted server) is a miss: it costs one `OFFSET` over the index to find the key
//! ([`Store::scim_position`](crate::store::Store::scim_position)) and one count, after which
//! the walk goes on by keyset again. The cache holds [`CAPACITY`] cursors, oldest out first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// How many cursors are kept (some 200 bytes each).
pub const CAPACITY: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CursorKey {
    account_id: String,
    filter: String,
    start_index: u64,
}

/// Where a page at some `startIndex` starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The key of the last user of the page before.
    pub after: String,
    /// The total counted when the walk started.
    pub total: i64,
}

/// The cursors of the pages served (shared by every request of a server).
#[derive(Default)]
pub struct Cursors {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<CursorKey, Cursor>,
    order: VecDeque<CursorKey>,
}

impl Cursors {
    /// The cursor of the page at `start_index` of this list, if a page ended there.
    pub fn get(&self, account_id: &str, filter: &str, start_index: u64) -> Option<Cursor> {
        let key = CursorKey {
            account_id: account_id.to_string(),
            filter: filter.to_string(),
            start_index,
        };
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.map.get(&key).cloned()
    }

    /// Remembers where the page at `start_index` starts.
    pub fn put(&self, account_id: &str, filter: &str, start_index: u64, cursor: Cursor) {
        let key = CursorKey {
            account_id: account_id.to_string(),
            filter: filter.to_string(),
            start_index,
        };
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.map.insert(key.clone(), cursor).is_none() {
            inner.order.push_back(key);
        }
        while inner.order.len() > CAPACITY {
            if let Some(old) = inner.order.pop_front() {
                inner.map.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_per_account_filter_and_index_and_bounded() {
        let cursors = Cursors::default();
        let cursor = Cursor {
            after: "k".into(),
            total: 3,
        };
        cursors.put("a", "", 101, cursor.clone());
        assert_eq!(cursors.get("a", "", 101), Some(cursor));
        assert_eq!(cursors.get("b", "", 101), None);
        assert_eq!(cursors.get("a", "userName pr", 101), None);
        assert_eq!(cursors.get("a", "", 201), None);
        for i in 0..(CAPACITY as u64 + 10) {
            cursors.put(
                "a",
                "",
                1000 + i,
                Cursor {
                    after: "x".into(),
                    total: 1,
                },
            );
        }
        assert_eq!(cursors.get("a", "", 101), None);
        assert!(cursors.get("a", "", 1000 + CAPACITY as u64).is_some());
    }
}
