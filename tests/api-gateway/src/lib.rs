//! `api-gateway`: does locally what the stack's API Gateway HTTP API does in AWS. There, PM Cloud and ServiceNow
//! call one base URL (the `ApiUrl` output) with the paths of `openapi.json`, and API Gateway hands each request to
//! the function whose route it matches. `cargo lambda watch` serves each function under a URL of its own instead
//! (`/lambda-url/<function>/<path>`), so a client of the contract as written, such as a fuzzer reading
//! `openapi.json`, needs this stand-in in front of it.
//!
//! It forwards what it receives as it is (method, headers, the raw path and query, the body bytes) and relays the
//! function's answer as it is (status, headers, body). What it answers itself is what API Gateway answers itself,
//! with API Gateway's own bodies: `404 {"message":"Not Found"}` for a path no route matches, `413` for a body over
//! the HTTP API's 10 MB limit, `503` when the function does not answer in time and `500` when it cannot be
//! reached. Each of those is logged with its reason, so that it is not taken for the function's own answer.
//!
//! Two things it does not keep, both from its HTTP client: a request without `Accept` reaches the function with
//! `Accept: */*` (reqwest adds it; the functions ignore `Accept`), and a path or query with characters a client
//! should have percent-encoded (a space, `"`, `<`, `>`, `'` in a query) or with `.` / `..` segments reaches the
//! function encoded and resolved as a URL parser does; each such rewrite is logged. Hop-by-hop headers
//! (`Connection` and those it names, `Keep-Alive`, `TE`, `Transfer-Encoding`, `Upgrade`, `Proxy-Connection`) are
//! per connection, so they are not forwarded in either direction.

pub mod cli;
pub mod routes;

pub use cli::{Command, Config, USAGE, parse_args};
pub use routes::{ROUTES, Route, function_for};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

/// An HTTP API accepts request bodies of up to 10 MB.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

struct Gateway {
    client: reqwest::Client,
    functions_url: String,
}

/// The gateway as an axum router: every method and path goes to one handler, which routes by the table.
pub fn router(config: &Config) -> Result<Router, String> {
    let client = reqwest::Client::builder()
        // A redirect is the function's answer to relay, not one to follow.
        .redirect(reqwest::redirect::Policy::none())
        // The functions are on this machine; a proxy from the environment must not stand between.
        .no_proxy()
        .timeout(config.timeout)
        .build()
        .map_err(|err| format!("cannot build the HTTP client: {}", error_chain(&err)))?;
    let gateway = Gateway {
        client,
        functions_url: config.functions_url.clone(),
    };
    Ok(Router::new()
        .fallback(forward)
        .with_state(Arc::new(gateway)))
}

/// Serves the gateway on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let router = router(config)?;
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|err| format!("serving failed: {err}"))
}

async fn forward(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let shown = parts
        .uri
        .path_and_query()
        .map_or(path, |whole| whole.as_str());
    let Some(function) = function_for(path) else {
        println!("{} {shown} -> no route: 404", parts.method);
        return own_answer(StatusCode::NOT_FOUND, "Not Found");
    };
    let answer = relay(&gateway, function, &parts, body).await;
    match &answer {
        Ok(response) => println!(
            "{} {shown} -> {function}: {} ({} ms)",
            parts.method,
            response.status().as_u16(),
            started.elapsed().as_millis()
        ),
        Err((response, reason)) => eprintln!(
            "{} {shown} -> {function}: the gateway answers {} itself: {reason}",
            parts.method,
            response.status().as_u16()
        ),
    }
    answer.unwrap_or_else(|(response, _)| response)
}

/// The function's answer, or the gateway's own with the reason it gave one.
async fn relay(
    gateway: &Gateway,
    function: &str,
    parts: &axum::http::request::Parts,
    body: Body,
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

    let path = parts.uri.path();
    let mut target = format!("{}/{function}{path}", gateway.functions_url);
    if let Some(query) = parts.uri.query() {
        target.push('?');
        target.push_str(query);
    }
    let url = reqwest::Url::parse(&target).map_err(|err| {
        (
            own_answer(StatusCode::BAD_REQUEST, "Bad Request"),
            format!("{target} is not a URL: {err}"),
        )
    })?;
    if url.as_str() != target {
        eprintln!(
            "note: the path or query was rewritten on the way to {function}: {target} became {url}"
        );
    }

    // The client frames a body it sends itself, except an empty one: the client's `Content-Length: 0` then goes
    // along as it came (a request that had none gets none).
    let mut request = gateway
        .client
        .request(parts.method.clone(), url)
        .headers(end_to_end(&parts.headers, body.is_empty()));
    if !body.is_empty() {
        request = request.body(body);
    }
    let answer = request.send().await.map_err(|err| {
        let (status, message) = if err.is_timeout() {
            (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
        } else {
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        };
        (
            own_answer(status, message),
            format!("{function} did not answer: {}", error_chain(&err)),
        )
    })?;

    let status = answer.status();
    // Hyper frames the relayed body itself, except for HEAD, whose answer has none to count.
    let headers = end_to_end(answer.headers(), parts.method == Method::HEAD);
    let bytes = answer.bytes().await.map_err(|err| {
        (
            own_answer(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
            format!("{function}'s answer broke off: {}", error_chain(&err)),
        )
    })?;
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// `headers` without the hop-by-hop ones, and without `Content-Length` unless `keep_length`: the client on the
/// other side frames the body it sends.
fn end_to_end(headers: &HeaderMap, keep_length: bool) -> HeaderMap {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    let mut kept = headers.clone();
    for name in [
        header::CONNECTION,
        HeaderName::from_static("keep-alive"),
        HeaderName::from_static("proxy-connection"),
        header::TE,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ]
    .into_iter()
    .chain(named)
    {
        kept.remove(name);
    }
    if !keep_length {
        kept.remove(header::CONTENT_LENGTH);
    }
    kept
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

/// An error with its causes, which reqwest keeps out of its own message.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_stay_behind() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-private"),
        );
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert("x-private", HeaderValue::from_static("1"));
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("3"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer k"));
        headers.append("x-many", HeaderValue::from_static("a"));
        headers.append("x-many", HeaderValue::from_static("b"));

        let kept = end_to_end(&headers, false);
        let mut names: Vec<_> = kept.keys().map(|name| name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["authorization", "x-many"]);
        assert_eq!(kept.get_all("x-many").iter().count(), 2);
        assert_eq!(end_to_end(&headers, true)[header::CONTENT_LENGTH], "3");
    }

    #[test]
    fn own_answers_have_api_gateways_shape() {
        let response = own_answer(StatusCode::NOT_FOUND, "Not Found");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }
}
