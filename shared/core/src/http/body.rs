//! Request bodies: size-limited, JSON objects, with errors as problem+json.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::problem::{ApiError, FieldError};
use crate::domain::event::MAX_EVENT_BYTES;

/// Request bodies larger than this are answered 413.
pub const MAX_BODY_BYTES: usize = MAX_EVENT_BYTES;

/// The raw bytes of a body within the size limit.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) if bytes.len() > MAX_BODY_BYTES => Err(ApiError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            }),
            Ok(bytes) => Ok(RawBody(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::PayloadTooLarge {
                    limit: MAX_BODY_BYTES,
                })
            }
            Err(rejection) => Err(ApiError::BadRequest {
                detail: rejection.body_text(),
                errors: vec![],
            }),
        }
    }
}

/// A body that must be one JSON object.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(object)) => Ok(JsonObject(object)),
            Ok(_) => Err(ApiError::Validation(vec![FieldError::new(
                "body",
                "must be a JSON object",
            )])),
            Err(error) => Err(ApiError::BadRequest {
                detail: format!("the body is not valid JSON: {error}"),
                errors: vec![FieldError::new("body", "is not valid JSON")],
            }),
        }
    }
}
