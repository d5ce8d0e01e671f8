//! `api-gateway`: does locally what the stack's API Gateway HTTP API does in AWS. There, PM Cloud and ServiceNow
//! call one base URL (the `ApiUrl` output) with the paths of `openapi.json`; API Gateway matches each request to a
//! route of `template.yaml`, makes a Lambda event of it (payload format 2.0) and invokes the function that owns the
//! route with it, then makes the function's answer the HTTP response. Here the function is invoked through the
//! Lambda Invoke API that `cargo lambda watch` emulates (`POST <invoke-url>/<function>/invocations`), so that the
//! functions get the events AWS gives them, with the route's key (`ANY /v1/requests/{id}`), its path parameters and
//! a body that is not UTF-8 in base64, rather than the `$default` events of `cargo lambda watch`'s function URLs.
//! The event is described in [`event`], the reading of the answer in [`response`].
//!
//! With a named stage (`--stage dev`), the API is served under `/dev`, and `rawPath` and `requestContext.http.path`
//! start with it, as in AWS; the functions must route on `routeKey` for that to work.
//!
//! What it answers itself is what API Gateway answers itself, with API Gateway's own bodies: `404
//! {"message":"Not Found"}` for a request no route matches (no function is invoked), `413` for a body over the
//! HTTP API's 10 MB limit, `500` when the invocation cannot be made (nothing answers at the invoke URL, the Invoke
//! API refuses it, or the event is over Lambda's 6 MB payload limit), `502` when the function fails (an answer with
//! `X-Amz-Function-Error`, or the error `cargo lambda watch` relays as a `500`) or answers what is not a response,
//! and `503` when it does not answer in time. Each of those is logged with its reason, so that it is not taken for
//! the function's own answer. Every answer carries `apigw-requestid`, the event's `requestContext.requestId`.

pub mod cli;
pub mod event;
pub mod response;
pub mod routes;

pub use cli::{Command, Config, USAGE, parse_args};
pub use routes::{Matched, ROUTES, Route, route_for};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::Response;
use axum::serve::IncomingStream;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use dev_tool::error_chain;
use serde_json::Value;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

/// An HTTP API accepts request bodies of up to 10 MB.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Lambda accepts a synchronous invocation's payload (here, the event) of up to 6 MB.
pub const MAX_EVENT_BYTES: usize = 6 * 1024 * 1024;

/// The header of API Gateway's answers that carries the request's id.
pub const REQUEST_ID_HEADER: &str = "apigw-requestid";

/// The header with which the Invoke API marks a function's error.
const FUNCTION_ERROR_HEADER: &str = "x-amz-function-error";

struct Gateway {
    client: reqwest::Client,
    invoke_url: String,
    stage: Option<String>,
}

/// The two ends of a client's connection: the client's address (`sourceIp`) and the gateway's (its port is
/// `X-Forwarded-Port`).
#[derive(Debug, Clone, Copy)]
struct Peers {
    client: SocketAddr,
    local: SocketAddr,
}

impl Connected<IncomingStream<'_, TcpListener>> for Peers {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        let client = *stream.remote_addr();
        Self {
            client,
            local: stream.io().local_addr().unwrap_or(client),
        }
    }
}

/// The gateway as an axum router: every method and path goes to one handler, which routes by the table.
fn router(config: &Config) -> Result<Router, String> {
    let client = reqwest::Client::builder()
        // The Invoke API is on this machine; a proxy from the environment must not stand between.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.timeout)
        .build()
        .map_err(|err| format!("cannot build the HTTP client: {}", error_chain(&err)))?;
    let gateway = Gateway {
        client,
        invoke_url: config.invoke_url.clone(),
        stage: config.stage.clone(),
    };
    Ok(Router::new().fallback(handle).with_state(Arc::new(gateway)))
}

/// Serves the gateway on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let router = router(config)?;
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<Peers>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|err| format!("serving failed: {err}"))
}

async fn handle(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let started = Instant::now();
    let peers = request
        .extensions()
        .get::<ConnectInfo<Peers>>()
        .map_or_else(unknown_peers, |info| info.0);
    let (parts, body) = request.into_parts();
    let shown = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |whole| whole.as_str())
        .to_string();
    let request_id = new_request_id();
    let path = match &gateway.stage {
        None => Some(parts.uri.path()),
        Some(stage) => parts
            .uri
            .path()
            .strip_prefix('/')
            .and_then(|path| path.strip_prefix(stage.as_str()))
            .filter(|rest| rest.starts_with('/')),
    };
    let mut answer = match path.and_then(|path| route_for(parts.method.as_str(), path)) {
        None => {
            println!("{} {shown} -> no route: 404", parts.method);
            own_answer(StatusCode::NOT_FOUND, "Not Found")
        }
        Some(matched) => {
            let function = matched.route.function;
            let route_key = matched.route.key();
            match invoke(&gateway, &matched, &parts, body, peers, &request_id).await {
                Ok(response) => {
                    println!(
                        "{} {shown} -> {function} ({route_key}): {} ({} ms)",
                        parts.method,
                        response.status().as_u16(),
                        started.elapsed().as_millis()
                    );
                    response
                }
                Err((response, reason)) => {
                    eprintln!(
                        "{} {shown} -> {function} ({route_key}): the gateway answers {} itself \
                         (request {request_id}): {reason}",
                        parts.method,
                        response.status().as_u16()
                    );
                    response
                }
            }
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        answer.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    answer
}

/// The function's answer, or the gateway's own with the reason it gave one.
async fn invoke(
    gateway: &Gateway,
    matched: &Matched,
    parts: &Parts,
    body: Body,
    peers: Peers,
    request_id: &str,
) -> Result<Response, (Response, String)> {
    let too_large = || {
        (
            own_answer(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
            format!("the body is over {MAX_BODY_BYTES} bytes"),
        )
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    // A chunked body over the limit ends here too; so does one the client broke off, which reads no answer.
    let body: Bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| too_large())?;

    let incoming = event::Incoming {
        method: &parts.method,
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
        client: peers.client,
        local: peers.local,
    };
    let context = event::Context {
        stage: gateway.stage.as_deref().unwrap_or("$default"),
        request_id,
        time: chrono::Utc::now(),
    };
    let event = serde_json::to_vec(&event::event(&incoming, matched, &context))
        .expect("an event always serialises");
    let internal_error = || own_answer(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    if event.len() > MAX_EVENT_BYTES {
        return Err((
            internal_error(),
            format!(
                "Lambda refuses the invocation: the event is {} bytes, over its {MAX_EVENT_BYTES}",
                event.len()
            ),
        ));
    }

    let function = matched.route.function;
    let url = format!("{}/{function}/invocations", gateway.invoke_url);
    let unavailable = |err: &reqwest::Error| {
        let status = if err.is_timeout() {
            own_answer(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
        } else {
            internal_error()
        };
        (status, format!("invoking {url}: {}", error_chain(err)))
    };
    let answer = gateway
        .client
        .post(&url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(event)
        .send()
        .await
        .map_err(|err| unavailable(&err))?;
    let status = answer.status();
    let function_error = answer
        .headers()
        .get(FUNCTION_ERROR_HEADER)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let payload = answer.bytes().await.map_err(|err| unavailable(&err))?;

    let bad_gateway = || own_answer(StatusCode::BAD_GATEWAY, "Internal Server Error");
    if let Some(kind) = function_error {
        return Err((
            bad_gateway(),
            format!("the function failed ({kind}): {}", shown(&payload)),
        ));
    }
    if status != reqwest::StatusCode::OK {
        // cargo lambda watch relays a function's error as a 500 with the error the runtime reported.
        if status == reqwest::StatusCode::INTERNAL_SERVER_ERROR && is_lambda_error(&payload) {
            return Err((
                bad_gateway(),
                format!("the function failed: {}", shown(&payload)),
            ));
        }
        return Err((
            internal_error(),
            format!(
                "the Invoke API refused the invocation: {status}: {}",
                shown(&payload)
            ),
        ));
    }
    let read = response::read(&payload).map_err(|reason| {
        (
            bad_gateway(),
            format!(
                "the function's answer is not a response: {reason}: {}",
                shown(&payload)
            ),
        )
    })?;
    let mut response = Response::new(Body::from(read.body));
    *response.status_mut() = read.status;
    *response.headers_mut() = read.headers;
    Ok(response)
}

/// True for the error document a Lambda runtime reports: `{"errorType": …, "errorMessage": …}`.
fn is_lambda_error(payload: &[u8]) -> bool {
    serde_json::from_slice::<Value>(payload)
        .is_ok_and(|value| value.get("errorType").is_some() || value.get("errorMessage").is_some())
}

/// An answer for a log line: its text, cut short.
fn shown(payload: &[u8]) -> String {
    const MOST: usize = 600;
    let text = String::from_utf8_lossy(payload);
    match text.char_indices().nth(MOST) {
        Some((end, _)) => format!("{}… ({} bytes)", &text[..end], payload.len()),
        None => text.into_owned(),
    }
}

/// A request id shaped like API Gateway's: 16 characters of base64.
fn new_request_id() -> String {
    BASE64.encode(&uuid::Uuid::new_v4().as_bytes()[..11])
}

fn unknown_peers() -> Peers {
    let unspecified = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
    Peers {
        client: unspecified,
        local: unspecified,
    }
}

/// An answer of API Gateway's own: `{"message": "<message>"}`.
fn own_answer(status: StatusCode, message: &str) -> Response {
    let mut response = Response::new(Body::from(format!(r#"{{"message":"{message}"}}"#)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_answers_have_api_gateways_shape() {
        let response = own_answer(StatusCode::NOT_FOUND, "Not Found");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn a_request_id_looks_like_api_gateways() {
        let id = new_request_id();
        assert_eq!(id.len(), 16, "{id}");
        assert!(id.ends_with('='), "{id}");
        assert_ne!(id, new_request_id());
    }

    #[test]
    fn a_lambda_error_is_told_from_the_emulators_own() {
        assert!(is_lambda_error(
            br#"{"errorType":"&alloc::boxed::Box<dyn core::error::Error>","errorMessage":"boom"}"#
        ));
        assert!(!is_lambda_error(
            br#"{"type":"https://httpstatuses.com/500","status":500,"title":"Internal Server Error"}"#
        ));
        assert!(!is_lambda_error(b"oops"));
    }

    #[test]
    fn a_long_answer_is_cut_short_in_the_log() {
        assert_eq!(shown(b"short"), "short");
        let long = "é".repeat(700);
        let cut = shown(long.as_bytes());
        assert!(cut.starts_with(&"é".repeat(600)), "{cut}");
        assert!(cut.ends_with("… (1400 bytes)"), "{cut}");
    }
}
