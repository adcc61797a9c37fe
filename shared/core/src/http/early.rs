//! What is refused before a handler runs, as problem documents like every other
//! error: a declared body over the limit (413 at once, not after waiting for it) and a
//! path that is not UTF-8 once percent-decoded (400; the router would answer it in
//! plain text).

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::body::MAX_BODY_BYTES;
use super::problem::ApiError;

/// Middleware for both routers.
pub async fn refuse_early(request: Request, next: Next) -> Response {
    let declared = declared_body_length(request.headers());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        }
        .into_response();
    }
    if std::str::from_utf8(&percent_decoded(request.uri().path())).is_err() {
        return ApiError::BadRequest {
            detail: "the path is not UTF-8 once percent-decoded".to_owned(),
            errors: vec![],
        }
        .into_response();
    }
    next.run(request).await
}

/// The body length a request declares (`Content-Length`), if it declares one.
pub fn declared_body_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// The bytes `%XX` sequences stand for; anything else as it is.
fn percent_decoded(path: &str) -> Vec<u8> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::percent_decoded;

    #[test]
    fn percent_sequences_decode_to_their_bytes() {
        assert_eq!(percent_decoded("/webhooks/wh%5F1"), b"/webhooks/wh_1");
        assert!(std::str::from_utf8(&percent_decoded("/webhooks/%FF")).is_err());
        assert_eq!(percent_decoded("/a%2"), b"/a%2");
        assert_eq!(
            std::str::from_utf8(&percent_decoded("/%C3%A9")).unwrap(),
            "/é"
        );
    }
}
