//! The Lambda side of the HTTP edge: an API Gateway HTTP API event (payload format 2.0) becomes an
//! [`ApiRequest`], and the handler's [`ApiResponse`] goes back, so that handlers and their tests never see Lambda
//! types.
//!
//! The event is read here rather than by `lambda_http`, which panics on a body marked base64 that is not, on a
//! `rawQueryString` that is not a valid URI query and on an `X-Forwarded-Proto` it does not know, and which routes
//! on the raw path, where a named stage turns every route into a `404`. Here an event that cannot be read is a
//! `400` problem, and the path a handler sees is the route API Gateway matched (`routeKey` with its
//! `pathParameters`); only under `$default` (function URLs, `cargo lambda watch`) is it the raw path.

use super::{ApiRequest, ApiResponse, Problem};
use crate::domain::deadline::Deadline;
use crate::runtime::serve::{Trigger, serve as serve_invocations};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderName, HeaderValue, Method};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;

/// Where a request came from, for logs: the caller's address as API Gateway saw it and the route it matched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub source_ip: String,
    pub route: String,
}

/// The parts of a payload 2.0 event the connector uses; every one optional, so that an odd event is answered.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct HttpApiEvent {
    route_key: Option<String>,
    raw_path: Option<String>,
    raw_query_string: Option<String>,
    headers: HashMap<String, String>,
    path_parameters: HashMap<String, String>,
    body: Option<String>,
    is_base64_encoded: bool,
    request_context: RequestContext,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RequestContext {
    http: HttpContext,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct HttpContext {
    method: Option<String>,
    source_ip: Option<String>,
}

/// Bytes escaped in a query or a path segment rebuilt from the event: controls, space and what a URI does not
/// allow there, so that any `rawQueryString` makes a valid URI and decodes to what was sent.
const QUERY_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');
const SEGMENT_ESCAPES: &AsciiSet = &QUERY_ESCAPES.add(b'/').add(b'?').add(b'%');

/// The event as a plain `http` request with its raw body bytes and its [`Origin`] as an extension.
/// Errors: a `400` problem when the event is not an HTTP API event or its body is marked base64 but is not.
pub fn api_request(event: Value) -> Result<ApiRequest, Problem> {
    let event: HttpApiEvent = serde_json::from_value(event)
        .map_err(|e| Problem::bad_request(format!("the request could not be read: {e}")))?;
    let method = event
        .request_context
        .http
        .method
        .as_deref()
        .or_else(|| route_method(event.route_key.as_deref()))
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .ok_or_else(|| Problem::bad_request("the request has no HTTP method"))?;
    let path = matched_path(&event);
    let uri = match event.raw_query_string.as_deref().filter(|q| !q.is_empty()) {
        Some(query) => format!("{path}?{}", utf8_percent_encode(query, QUERY_ESCAPES)),
        None => path,
    };
    let body = match (event.body, event.is_base64_encoded) {
        (None, _) => Vec::new(),
        (Some(text), false) => text.into_bytes(),
        (Some(text), true) => BASE64.decode(text.trim()).map_err(|_| {
            Problem::bad_request("the body is marked base64-encoded but is not valid base64")
        })?,
    };
    let mut request = http::Request::builder()
        .method(method)
        .uri(&uri)
        .body(body)
        .map_err(|_| Problem::bad_request("the request path or query is not a valid URI"))?;
    for (name, value) in &event.headers {
        // API Gateway passes only valid headers; anything else is dropped rather than failing the request.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            request.headers_mut().append(name, value);
        }
    }
    request.extensions_mut().insert(Origin {
        source_ip: event.request_context.http.source_ip.unwrap_or_default(),
        route: event.route_key.unwrap_or_default(),
    });
    Ok(request)
}

/// `GET` of `GET /v1/requests`; `None` for `ANY …` and `$default`.
fn route_method(route_key: Option<&str>) -> Option<&str> {
    route_key?
        .split_once(' ')
        .map(|(method, _)| method)
        .filter(|m| *m != "ANY")
}

/// The route's template with its path parameters filled in (escaped, so that a parameter is one segment), or the
/// raw path under `$default`.
fn matched_path(event: &HttpApiEvent) -> String {
    let template = event
        .route_key
        .as_deref()
        .and_then(|key| key.split_once(' '))
        .map(|(_, template)| template);
    let Some(template) = template else {
        let raw = event.raw_path.as_deref().unwrap_or("/");
        return utf8_percent_encode(raw, QUERY_ESCAPES).to_string();
    };
    template
        .split('/')
        .map(|segment| {
            let name = segment
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .map(|s| s.trim_end_matches('+'));
            match name {
                Some(name) => {
                    let value = event.path_parameters.get(name).map_or("", String::as_str);
                    utf8_percent_encode(value, SEGMENT_ESCAPES).to_string()
                }
                None => segment.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The response as API Gateway reads it (payload format 2.0), with an empty `cookies` list: API Gateway does
/// without it, but `cargo lambda watch` (the local stack) refuses a response that lacks it.
pub fn api_response(response: ApiResponse) -> Value {
    let headers: serde_json::Map<String, Value> = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), json!(value.to_str().ok()?))))
        .collect();
    json!({
        "statusCode": response.status().as_u16(),
        "headers": headers,
        "body": response.body(),
        "isBase64Encoded": false,
        "cookies": [],
    })
}

/// Answers one event: `400` for an event that cannot be read, `503` when the handler would outlive the time the
/// invocation has left before `deadline`'s margin (its remote calls are dropped then), the handler's answer
/// otherwise.
pub async fn answer<F>(
    event: Value,
    deadline: Deadline,
    handler: impl FnOnce(ApiRequest) -> F,
) -> Value
where
    F: Future<Output = ApiResponse>,
{
    let response = match api_request(event) {
        Ok(request) => {
            tracing::debug!(method = %request.method(), path = %request.uri().path(), "request");
            let budget = deadline.left();
            // Boxed: the handlers' futures are deep, and the runtime's service would nest them deeper still.
            match tokio::time::timeout(budget, Box::pin(handler(request))).await {
                Ok(response) => response,
                Err(_) => {
                    tracing::error!(
                        seconds = budget.as_secs_f64(),
                        "the handler ran out of time"
                    );
                    Problem::unavailable("the connector ran out of time answering; retry shortly")
                        .into()
                }
            }
        }
        Err(problem) => {
            tracing::warn!(detail = %problem.detail, "an event that is not a readable HTTP request");
            problem.into()
        }
    };
    api_response(response)
}

/// Serves `handler` on the Lambda Runtime API until the execution environment ends, in the one invocation loop
/// ([`crate::runtime::serve`]) with the HTTP margin.
pub async fn serve<H, F>(handler: H) -> Result<(), lambda_runtime::Error>
where
    H: Fn(ApiRequest) -> F,
    F: Future<Output = ApiResponse> + Send,
{
    let handler = &handler;
    serve_invocations(Trigger::Http, move |event, deadline| {
        answer(event, deadline, handler)
    })
    .await
}

/// The event in a JSON file, as a request (the fixtures in `events/`). Panics when it cannot be read: for tests.
pub fn api_request_from_json(text: &str) -> ApiRequest {
    let event: Value = serde_json::from_str(text).expect("the event is JSON");
    api_request(event).expect("the event is an HTTP API request")
}

#[cfg(test)]
#[path = "lambda_tests.rs"]
mod tests;
