//! The HTTP edge of the pipeline: header and body limits on the way in, the Chime wire
//! shape of every response on the way out.

use std::pin::Pin;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use hyper::body::{Frame, SizeHint};

use super::{MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_HEADER_COUNT};
use crate::api::Reply;
use crate::error::ApiError;

/// Refuses a header section over [`MAX_HEADER_BYTES`] or [`MAX_HEADER_COUNT`] lines.
pub(super) fn check_headers(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    if headers.len() > MAX_HEADER_COUNT {
        return Err(ApiError::bad_request(format!(
            "The request has more than {MAX_HEADER_COUNT} headers"
        )));
    }
    // Each line is `name: value\r\n`.
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if bytes > MAX_HEADER_BYTES {
        return Err(ApiError::bad_request(format!(
            "The request headers are larger than {MAX_HEADER_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Reads the whole body: at most [`MAX_BODY_BYTES`] (a larger `Content-Length` is refused
/// before any of it is read) within the body read timeout.
pub(super) async fn read_body(
    headers: &axum::http::HeaderMap,
    body: Body,
    timeout: Duration,
) -> Result<axum::body::Bytes, ApiError> {
    read_body_up_to(headers, body, timeout, MAX_BODY_BYTES).await
}

/// [`read_body`] with another limit than [`MAX_BODY_BYTES`] (the console's file uploads).
pub(super) async fn read_body_up_to(
    headers: &axum::http::HeaderMap,
    body: Body,
    timeout: Duration,
    limit: usize,
) -> Result<axum::body::Bytes, ApiError> {
    let too_large =
        || ApiError::bad_request(format!("The request body is larger than {limit} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let read = async move {
        let mut body = body;
        let mut bytes = Vec::with_capacity(declared.unwrap_or(0) as usize);
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let frame = frame.map_err(|_| {
                ApiError::bad_request("The request body could not be read completely")
            })?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > limit {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(axum::body::Bytes::from(bytes))
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::bad_request(format!(
                "The request body was not received within {} s",
                timeout.as_secs_f64()
            )))
        })
}

/// The response to a request: its reply, or its error in the Chime shape; with
/// `x-amzn-RequestId` either way.
pub(super) fn respond(result: Result<Reply, ApiError>, request_id: &str) -> Response {
    let (status, mut pieces, error_type, retry_after) = match result {
        Ok(reply) => (reply.status, reply.body, None, None),
        Err(e) => (
            e.kind.status(),
            vec![Bytes::from(e.body())],
            Some(e.kind.shape()),
            e.retry_after,
        ),
    };
    pieces.retain(|piece| !piece.is_empty());
    let has_body = !pieces.is_empty();
    let body = match pieces.len() {
        0 => Body::empty(),
        1 => Body::from(pieces.pop().expect("one piece")),
        _ => Body::new(Pieces::new(pieces)),
    };
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    if has_body {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    if let Some(shape) = error_type {
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(shape));
    }
    if let Some(secs) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// A response body sent as the pieces it was made of, without joining them: hyper writes them
/// with one vectored write. Its exact length is known, so the response has a `Content-Length`.
struct Pieces {
    pieces: std::collections::VecDeque<Bytes>,
    remaining: u64,
}

impl Pieces {
    fn new(pieces: Vec<Bytes>) -> Pieces {
        let remaining = pieces.iter().map(|p| p.len() as u64).sum();
        Pieces {
            pieces: pieces.into(),
            remaining,
        }
    }
}

impl HttpBody for Pieces {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let piece = self.pieces.pop_front();
        if let Some(piece) = &piece {
            self.remaining -= piece.len() as u64;
        }
        std::task::Poll::Ready(piece.map(|piece| Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}
