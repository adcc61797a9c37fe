//! Errors as `application/problem+json` (RFC 9457). Internals never leak: a 500 is
//! logged with its cause and answered generically.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::ports::{BoxError, StoreError};
use crate::usecases::admin::AdminError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field's complaint.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request body is invalid")]
    Validation(Vec<FieldError>),
    #[error("the request is malformed: {detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{0} not found")]
    NotFound(String),
    #[error("version mismatch")]
    PreconditionFailed { detail: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("method not allowed: {0}")]
    MethodNotAllowed(String),
    #[error("misdirected request: {0}")]
    Misdirected(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("service unavailable: {0}")]
    Unavailable(#[source] BoxError),
    #[error("internal error: {0}")]
    Internal(#[source] BoxError),
}

/// What a 503 asks the client to wait before trying again.
const RETRY_AFTER_SECONDS: &str = "30";

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn bad_query(field: &str, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        ApiError::BadRequest {
            detail: format!("query parameter {}: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    pub fn internal(error: impl Into<BoxError>) -> Self {
        ApiError::Internal(error.into())
    }

    fn parts(
        &self,
    ) -> (
        StatusCode,
        &'static str,
        &'static str,
        String,
        Vec<FieldError>,
    ) {
        match self {
            ApiError::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid request",
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                errors.clone(),
            ),
            ApiError::BadRequest { detail, errors } => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                detail.clone(),
                errors.clone(),
            ),
            ApiError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                format!("{what} does not exist"),
                vec![],
            ),
            ApiError::PreconditionFailed { detail } => (
                StatusCode::PRECONDITION_FAILED,
                "version-mismatch",
                "Precondition failed",
                detail.clone(),
                vec![],
            ),
            ApiError::Conflict(detail) => (
                StatusCode::CONFLICT,
                "conflict",
                "Conflict",
                detail.clone(),
                vec![],
            ),
            ApiError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
                format!("the request body exceeds {limit} bytes"),
                vec![],
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                "send Authorization: Bearer <token>".to_owned(),
                vec![],
            ),
            ApiError::MethodNotAllowed(detail) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                detail.clone(),
                vec![],
            ),
            ApiError::Forbidden(detail) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                detail.clone(),
                vec![],
            ),
            ApiError::Misdirected(detail) => (
                StatusCode::MISDIRECTED_REQUEST,
                "misdirected-request",
                "Misdirected request",
                detail.clone(),
                vec![],
            ),
            ApiError::UnsupportedMediaType(detail) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                detail.clone(),
                vec![],
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                "the store cannot take writes for now; it has been logged, try again later"
                    .to_owned(),
                vec![],
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "something went wrong on our side; it has been logged".to_owned(),
                vec![],
            ),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::InvalidCursor => {
                ApiError::bad_query("cursor", "is not a cursor this API returned")
            }
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            other => ApiError::internal(other),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> Self {
        match error {
            AdminError::NotFound(id) => ApiError::NotFound(format!("webhook {id}")),
            AdminError::VersionMismatch { .. } => ApiError::PreconditionFailed {
                detail: error.to_string(),
            },
            AdminError::Store(store) => store.into(),
            missing @ AdminError::MissingField(_) => ApiError::internal(missing),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) | ApiError::Unavailable(cause) = &self {
            tracing::error!(error = %cause, source = ?cause.source(), "request failed");
        }
        let (status, slug, title, detail, errors) = self.parts();
        let problem = Problem {
            problem_type: format!("urn:webhooks:problem:{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if matches!(self, ApiError::Unavailable(_)) {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        if matches!(self, ApiError::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_unavailable_for_now_is_a_503_with_retry_after() {
        let error = ApiError::from(StoreError::Unavailable("disk full".into()));
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], RETRY_AFTER_SECONDS);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
