//! ASP.NET Core's error answers: the Management API is an ASP.NET Core service, so its 4xx/5xx bodies are RFC 9457
//! ProblemDetails with a `traceId`, and its model validation failures are ValidationProblemDetails.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// `{"type", "title", "status", "traceId"}` with ASP.NET's default type URI and title for `status`.
pub(crate) fn problem(status: StatusCode) -> Response {
    respond(status, members(status, default_title(status)))
}

/// [`problem`] with a `detail` member, for answers a client can act on (a missing permission, an unknown id).
pub(crate) fn problem_with_detail(status: StatusCode, detail: &str) -> Response {
    let mut body = members(status, default_title(status));
    body.insert("detail".into(), json!(detail));
    respond(status, body)
}

/// A 400 ValidationProblemDetails: `errors` maps a field name to its messages.
pub(crate) fn validation(errors: Map<String, Value>) -> Response {
    let status = StatusCode::BAD_REQUEST;
    let mut body = members(status, "One or more validation errors occurred.");
    body.insert("errors".into(), Value::Object(errors));
    respond(status, body)
}

fn members(status: StatusCode, title: &str) -> Map<String, Value> {
    let mut body = Map::new();
    if let Some(uri) = type_uri(status) {
        body.insert("type".into(), json!(uri));
    }
    body.insert("title".into(), json!(title));
    body.insert("status".into(), json!(status.as_u16()));
    body
}

fn respond(status: StatusCode, mut body: Map<String, Value>) -> Response {
    body.insert("traceId".into(), json!(trace_id()));
    (
        status,
        [(
            header::CONTENT_TYPE,
            "application/problem+json; charset=utf-8",
        )],
        Value::Object(body).to_string(),
    )
        .into_response()
}

/// ASP.NET Core's `ProblemDetailsDefaults`: only these statuses get a `type`.
fn type_uri(status: StatusCode) -> Option<&'static str> {
    Some(match status.as_u16() {
        400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        401 => "https://tools.ietf.org/html/rfc9110#section-15.5.2",
        403 => "https://tools.ietf.org/html/rfc9110#section-15.5.4",
        404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        405 => "https://tools.ietf.org/html/rfc9110#section-15.5.6",
        406 => "https://tools.ietf.org/html/rfc9110#section-15.5.7",
        408 => "https://tools.ietf.org/html/rfc9110#section-15.5.9",
        409 => "https://tools.ietf.org/html/rfc9110#section-15.5.10",
        412 => "https://tools.ietf.org/html/rfc9110#section-15.5.13",
        415 => "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        422 => "https://tools.ietf.org/html/rfc9110#section-15.5.21",
        426 => "https://tools.ietf.org/html/rfc9110#section-15.5.22",
        500 => "https://tools.ietf.org/html/rfc9110#section-15.6.1",
        502 => "https://tools.ietf.org/html/rfc9110#section-15.6.3",
        503 => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        504 => "https://tools.ietf.org/html/rfc9110#section-15.6.5",
        _ => return None,
    })
}

fn default_title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        500 => "An error occurred while processing your request.",
        _ => status.canonical_reason().unwrap_or("Error"),
    }
}

/// A W3C `traceparent`-shaped id, as ASP.NET puts in every problem.
fn trace_id() -> String {
    let span = uuid::Uuid::new_v4().simple().to_string();
    format!("00-{}-{}-00", uuid::Uuid::new_v4().simple(), &span[..16])
}
