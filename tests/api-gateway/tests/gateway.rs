//! The gateway in-process, in front of a scripted stand-in for `cargo lambda watch` that records what reaches it
//! and answers what a test tells it to: what reaches a function is what the client sent, and what reaches the
//! client is what the function answered.

use api_gateway::{Config, MAX_BODY_BYTES, ROUTES, router};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// What one function call received.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    /// Path and query, as sent on the wire.
    target: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Default)]
struct Functions {
    received: Mutex<Vec<Received>>,
    /// How long each call waits before it answers.
    delay: Mutex<Duration>,
}

/// The scripted functions: each answers `207` with a body and headers no function would send, so that a relay that
/// keeps anything less than all of them shows.
async fn function(State(functions): State<Arc<Functions>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("a body");
    functions.received.lock().unwrap().push(Received {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map(|pq| pq.to_string())
            .unwrap_or_default(),
        headers: parts.headers,
        body,
    });
    let delay = *functions.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    Response::builder()
        .status(207)
        .header("content-type", "application/problem+json; charset=utf-8")
        .header("location", "/v1/requests/abc")
        .header("allow", "GET, POST")
        .header("set-cookie", "a=1")
        .header("set-cookie", "b=2")
        .header("x-function", "answered")
        .body(Body::from(&b"{\"not\": \"json\xff\xfe\"}"[..]))
        .unwrap()
}

struct Setup {
    gateway: String,
    functions: Arc<Functions>,
    http: reqwest::Client,
}

async fn listen(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

async fn setup_with(timeout: Duration, functions_url: Option<String>) -> Setup {
    let functions = Arc::new(Functions::default());
    let watch = listen(
        Router::new()
            .fallback(function)
            .with_state(functions.clone()),
    )
    .await;
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        functions_url: functions_url.unwrap_or(format!("http://{watch}/lambda-url")),
        timeout,
    };
    let gateway = listen(router(&config).expect("a router")).await;
    Setup {
        gateway: format!("http://{gateway}"),
        functions,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap(),
    }
}

async fn setup() -> Setup {
    setup_with(Duration::from_secs(30), None).await
}

impl Setup {
    fn received(&self) -> Vec<Received> {
        self.functions.received.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn each_route_reaches_its_function_with_every_byte_kept() {
    let setup = setup().await;
    let body: &[u8] = b"{\"pmcRequestId\": \"x\"}\x00\xff raw \r\n bytes";
    for (path, function) in [
        ("/v1/requests", "request-intake"),
        ("/v1/requests/a%2Fb%20c", "request-intake"),
        ("/v1/settings/validate", "settings-validator"),
        ("/v1/servicenow/events", "ticket-callback"),
    ] {
        let query = "pmcRequestId=dev%2D0001&x=%F0%9F%98%80&empty=&x=2&flag";
        let answer = setup
            .http
            .post(format!("{}{path}?{query}", setup.gateway))
            .header("authorization", "Bearer local-dev-pmc-key")
            .header(
                "content-type",
                "application/vnd.custom+json; charset=latin1",
            )
            .header("accept", "application/problem+json")
            .header("x-webhook-signature", "c2lnbmF0dXJl")
            .header("x-many", "one")
            .header("x-many", "two")
            .body(body)
            .send()
            .await
            .expect("the gateway answers");

        // The function's answer, as it is.
        assert_eq!(answer.status().as_u16(), 207, "{path}");
        let headers = answer.headers().clone();
        assert_eq!(
            headers["content-type"],
            "application/problem+json; charset=utf-8"
        );
        assert_eq!(headers["location"], "/v1/requests/abc");
        assert_eq!(headers["allow"], "GET, POST");
        assert_eq!(headers["x-function"], "answered");
        let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(
            answer.bytes().await.unwrap().as_ref(),
            b"{\"not\": \"json\xff\xfe\"}"
        );

        // What the function received, as sent.
        let received = setup.received().pop().expect("the function was called");
        assert_eq!(received.method, "POST");
        assert_eq!(
            received.target,
            format!("/lambda-url/{function}{path}?{query}")
        );
        assert_eq!(received.body.as_ref(), body);
        let sent = &received.headers;
        assert_eq!(sent["authorization"], "Bearer local-dev-pmc-key");
        assert_eq!(
            sent["content-type"],
            "application/vnd.custom+json; charset=latin1"
        );
        assert_eq!(sent["accept"], "application/problem+json");
        assert_eq!(sent["x-webhook-signature"], "c2lnbmF0dXJl");
        let many: Vec<_> = sent.get_all("x-many").iter().collect();
        assert_eq!(many, ["one", "two"]);
        assert_eq!(sent["content-length"], body.len().to_string());
        // API Gateway gives the function the API's own host.
        assert_eq!(sent["host"], setup.gateway.trim_start_matches("http://"));
    }
    assert_eq!(setup.received().len(), 4);
}

#[tokio::test]
async fn every_method_is_forwarded_as_the_template_routes_any() {
    let setup = setup().await;
    for method in ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let answer = setup
            .http
            .request(method.clone(), format!("{}/v1/requests/abc", setup.gateway))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 207, "{method}");
        let received = setup.received().pop().unwrap();
        assert_eq!(received.method, method.as_str());
        assert_eq!(
            received.target,
            "/lambda-url/request-intake/v1/requests/abc"
        );
        assert!(received.body.is_empty());
        // Nothing framed, nothing added: a bodiless request stays bodiless.
        assert!(!received.headers.contains_key("content-length"), "{method}");
        assert!(
            !received.headers.contains_key("transfer-encoding"),
            "{method}"
        );
    }
}

/// Sends `request` as it is and returns the whole answer: what an HTTP client frames on its own is left to chance.
async fn raw(gateway: &str, request: &'static str) -> String {
    let addr = gateway.trim_start_matches("http://").to_string();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).expect("the gateway listens");
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn an_empty_body_arrives_framed_as_it_was_sent() {
    let setup = setup().await;
    let answer = raw(
        &setup.gateway,
        "POST /v1/settings/validate HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 207"), "{answer}");
    let received = setup.received().pop().unwrap();
    assert_eq!(received.headers["content-length"], "0");
    assert!(received.body.is_empty());

    let answer = raw(
        &setup.gateway,
        "POST /v1/settings/validate HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 207"), "{answer}");
    let received = setup.received().pop().unwrap();
    assert!(!received.headers.contains_key("content-length"));
    assert!(!received.headers.contains_key("transfer-encoding"));
    assert!(received.body.is_empty());
}

#[tokio::test]
async fn a_path_no_route_matches_gets_api_gateways_own_404() {
    let setup = setup().await;
    for path in [
        "/",
        "/v1",
        "/v1/requests/",
        "/v1/requests/a/b",
        "/v1/Requests",
        "/v1/settings/validate/",
        "/v1/servicenow/event",
        "/request-intake/v1/requests",
        "/lambda-url/request-intake/v1/requests",
        "/v1/requests%2Fabc",
    ] {
        for method in [reqwest::Method::GET, reqwest::Method::POST] {
            let answer = setup
                .http
                .request(method.clone(), format!("{}{path}", setup.gateway))
                .header("authorization", "Bearer local-dev-pmc-key")
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{method} {path}");
            assert_eq!(answer.headers()["content-type"], "application/json");
            assert_eq!(answer.text().await.unwrap(), r#"{"message":"Not Found"}"#);
        }
    }
    assert!(setup.received().is_empty(), "no function was called");
}

#[tokio::test]
async fn a_redirect_is_relayed_not_followed() {
    let watch = listen(Router::new().fallback(|| async {
        Response::builder()
            .status(302)
            .header("location", "http://127.0.0.1:1/elsewhere")
            .body(Body::empty())
            .unwrap()
    }))
    .await;
    let setup = setup_with(
        Duration::from_secs(30),
        Some(format!("http://{watch}/lambda-url")),
    )
    .await;
    let answer = setup
        .http
        .get(format!("{}/v1/requests", setup.gateway))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 302);
    assert_eq!(answer.headers()["location"], "http://127.0.0.1:1/elsewhere");
}

#[tokio::test]
async fn a_function_that_cannot_be_reached_is_api_gateways_500() {
    // A port that was free a moment ago: nothing listens there.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let setup = setup_with(
        Duration::from_secs(30),
        Some(format!("http://{closed}/lambda-url")),
    )
    .await;
    let answer = setup
        .http
        .get(format!("{}/v1/requests", setup.gateway))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.headers()["content-type"], "application/json");
    assert_eq!(
        answer.text().await.unwrap(),
        r#"{"message":"Internal Server Error"}"#
    );
}

#[tokio::test]
async fn a_function_that_answers_too_late_is_api_gateways_503() {
    let setup = setup_with(Duration::from_secs(1), None).await;
    *setup.functions.delay.lock().unwrap() = Duration::from_secs(3);
    let answer = setup
        .http
        .get(format!("{}/v1/requests", setup.gateway))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        answer.text().await.unwrap(),
        r#"{"message":"Service Unavailable"}"#
    );
}

#[tokio::test]
async fn a_body_over_the_http_apis_limit_is_refused_with_413() {
    let setup = setup().await;
    let answer = setup
        .http
        .post(format!("{}/v1/requests", setup.gateway))
        .body(vec![b'x'; MAX_BODY_BYTES + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        answer.text().await.unwrap(),
        r#"{"message":"Request Entity Too Large"}"#
    );
    // At the limit, it goes through.
    let answer = setup
        .http
        .post(format!("{}/v1/requests", setup.gateway))
        .body(vec![b'x'; MAX_BODY_BYTES])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 207);
    assert_eq!(setup.received().pop().unwrap().body.len(), MAX_BODY_BYTES);
}

#[test]
fn every_route_has_a_function_under_functions() {
    for route in ROUTES {
        let package = format!(
            "{}/../../functions/{}/Cargo.toml",
            env!("CARGO_MANIFEST_DIR"),
            route.function
        );
        assert!(
            std::path::Path::new(&package).exists(),
            "{} routes to {}, which is not a package under functions/",
            route.path,
            route.function
        );
    }
}
