//! The gateway in-process, in front of a scripted stand-in for the Lambda Invoke API of `cargo lambda watch` that
//! records each event it is given and answers what a test tells it to: either a fixed answer, or the answer of the
//! functions' own Lambda adapter (`shared::http::lambda`) to an echoing handler, so that what a function makes of
//! the gateway's event is checked too.

use api_gateway::{Config, MAX_BODY_BYTES, MAX_EVENT_BYTES, REQUEST_ID_HEADER, ROUTES, serve};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use shared::http::lambda::Origin;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::net::TcpListener;

/// One invocation the Invoke API received.
#[derive(Debug, Clone)]
struct Invocation {
    function: String,
    content_type: Option<String>,
    event: Value,
}

/// How the scripted Invoke API answers.
#[derive(Clone)]
enum Script {
    /// This status, these headers and this payload.
    Fixed {
        status: u16,
        headers: Vec<(&'static str, &'static str)>,
        payload: Vec<u8>,
    },
    /// The functions' own adapter's answer to a handler that echoes the request it was given.
    Adapter,
}

struct Functions {
    invocations: Mutex<Vec<Invocation>>,
    /// How long each invocation waits before it answers.
    delay: Mutex<Duration>,
    script: Mutex<Script>,
}

/// A function's answer no function would give, so that a reading that keeps anything less than all of it shows:
/// a status of its own, odd headers, two cookies and a body that is not UTF-8, in base64.
fn odd_answer() -> Vec<u8> {
    json!({
        "statusCode": 207,
        "headers": {
            "content-type": "application/problem+json; charset=utf-8",
            "location": "/v1/requests/abc",
            "allow": "GET, POST",
            "x-function": "answered",
        },
        "cookies": ["a=1", "b=2"],
        "body": BASE64.encode(b"{\"not\": \"json\xff\xfe\"}"),
        "isBase64Encoded": true,
    })
    .to_string()
    .into_bytes()
}

fn fixed(status: u16, headers: Vec<(&'static str, &'static str)>, payload: &[u8]) -> Script {
    Script::Fixed {
        status,
        headers,
        payload: payload.to_vec(),
    }
}

/// The request a function's handler was given, as JSON.
fn echo(request: &shared::http::ApiRequest) -> Value {
    let origin = request
        .extensions()
        .get::<Origin>()
        .cloned()
        .unwrap_or_default();
    json!({
        "method": request.method().as_str(),
        "path": request.uri().path(),
        "query": request.uri().query(),
        "body": BASE64.encode(request.body()),
        "authorization": request.headers().get("authorization").map(|v| v.to_str().unwrap()),
        "route": origin.route,
        "sourceIp": origin.source_ip,
    })
}

async fn invoke(
    State(functions): State<Arc<Functions>>,
    Path(function): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let event: Value = serde_json::from_slice(&body).expect("the event is JSON");
    functions.invocations.lock().unwrap().push(Invocation {
        function,
        content_type: headers
            .get("content-type")
            .map(|value| value.to_str().unwrap().to_string()),
        event: event.clone(),
    });
    let delay = *functions.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    let script = functions.script.lock().unwrap().clone();
    match script {
        Script::Fixed {
            status,
            headers,
            payload,
        } => {
            let mut response = Response::builder().status(status);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response.body(Body::from(payload)).unwrap()
        }
        Script::Adapter => {
            let deadline = SystemTime::now() + Duration::from_secs(30);
            let deadline = shared::runtime::serve::Trigger::Http.deadline(deadline);
            let answer = shared::http::lambda::answer(event, deadline, |request| async move {
                shared::http::json_response(StatusCode::OK, &echo(&request))
            })
            .await;
            Response::new(Body::from(answer.to_string()))
        }
    }
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

struct Options {
    timeout: Duration,
    invoke_url: Option<String>,
    stage: Option<&'static str>,
    script: Script,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            invoke_url: None,
            stage: None,
            script: fixed(200, vec![], &odd_answer()),
        }
    }
}

async fn setup_with(options: Options) -> Setup {
    let functions = Arc::new(Functions {
        invocations: Mutex::default(),
        delay: Mutex::default(),
        script: Mutex::new(options.script),
    });
    let lambda = listen(
        Router::new()
            .route("/2015-03-31/functions/{function}/invocations", post(invoke))
            // Lambda takes events of up to 6 MB; the gateway's own limit is under test.
            .layer(DefaultBodyLimit::disable())
            .with_state(functions.clone()),
    )
    .await;
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        invoke_url: options
            .invoke_url
            .unwrap_or(format!("http://{lambda}/2015-03-31/functions")),
        stage: options.stage.map(str::to_string),
        timeout: options.timeout,
    };
    let listener = TcpListener::bind(config.listen).await.expect("a port");
    let gateway = listener.local_addr().unwrap();
    tokio::spawn(async move { serve(listener, &config, std::future::pending()).await });
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
    setup_with(Options::default()).await
}

impl Setup {
    fn invocations(&self) -> Vec<Invocation> {
        self.functions.invocations.lock().unwrap().clone()
    }

    fn last(&self) -> Invocation {
        self.invocations().pop().expect("a function was invoked")
    }
}

#[tokio::test]
async fn each_route_reaches_its_function_as_api_gateways_event() {
    let setup = setup().await;
    let body: &[u8] = b"{\"pmcRequestId\": \"x\"}\x00\xff raw \r\n bytes";
    for (path, function, route_key, parameters) in [
        (
            "/v1/requests",
            "request-intake",
            "ANY /v1/requests",
            Value::Null,
        ),
        (
            "/v1/requests/a%2Fb%20c",
            "request-intake",
            "ANY /v1/requests/{id}",
            json!({"id": "a/b c"}),
        ),
        (
            "/v1/settings/validate",
            "settings-validator",
            "ANY /v1/settings/validate",
            Value::Null,
        ),
        (
            "/v1/servicenow/events",
            "ticket-callback",
            "ANY /v1/servicenow/events",
            Value::Null,
        ),
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
            .header("user-agent", "pm-cloud/1")
            .header("x-many", "one")
            .header("x-many", "two")
            .body(body)
            .send()
            .await
            .expect("the gateway answers");

        // The function's answer, as the response it describes.
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

        // The event the function was invoked with.
        let invocation = setup.last();
        assert_eq!(invocation.function, function);
        assert_eq!(invocation.content_type.as_deref(), Some("application/json"));
        let event = &invocation.event;
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["routeKey"], route_key);
        assert_eq!(event["rawPath"], path);
        assert_eq!(event["rawQueryString"], query);
        assert_eq!(
            event["queryStringParameters"],
            json!({"pmcRequestId": "dev-0001", "x": "😀,2", "empty": "", "flag": ""})
        );
        assert_eq!(event["pathParameters"], parameters, "{path}");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(
            BASE64.decode(event["body"].as_str().unwrap()).unwrap(),
            body
        );
        let sent = &event["headers"];
        assert_eq!(sent["authorization"], "Bearer local-dev-pmc-key");
        assert_eq!(
            sent["content-type"],
            "application/vnd.custom+json; charset=latin1"
        );
        assert_eq!(sent["x-many"], "one,two");
        assert_eq!(sent["content-length"], body.len().to_string());
        assert_eq!(sent["host"], setup.gateway.trim_start_matches("http://"));
        assert_eq!(sent["x-forwarded-for"], "127.0.0.1");
        assert_eq!(sent["x-forwarded-proto"], "http");
        assert_eq!(
            sent["x-forwarded-port"],
            setup.gateway.rsplit(':').next().unwrap()
        );
        assert!(
            sent["x-amzn-trace-id"]
                .as_str()
                .unwrap()
                .starts_with("Root=1-")
        );
        let context = &event["requestContext"];
        assert_eq!(context["routeKey"], route_key);
        assert_eq!(context["stage"], "$default");
        assert_eq!(context["http"]["method"], "POST");
        assert_eq!(context["http"]["path"], path);
        assert_eq!(context["http"]["protocol"], "HTTP/1.1");
        assert_eq!(context["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(context["http"]["userAgent"], "pm-cloud/1");
        assert_eq!(
            context["requestId"],
            headers[REQUEST_ID_HEADER].to_str().unwrap()
        );
        let epoch_ms = context["timeEpoch"].as_i64().unwrap();
        let now_ms = chrono::Utc::now().timestamp_millis();
        assert!((now_ms - 60_000..=now_ms).contains(&epoch_ms), "{epoch_ms}");
        assert!(context["time"].as_str().unwrap().ends_with(" +0000"));
    }
    assert_eq!(setup.invocations().len(), 4);
}

#[tokio::test]
async fn a_utf8_body_goes_as_text() {
    let setup = setup().await;
    setup
        .http
        .post(format!("{}/v1/requests", setup.gateway))
        .header("content-type", "application/octet-stream")
        .body("{\"note\": \"é\"}")
        .send()
        .await
        .unwrap();
    let event = setup.last().event;
    assert_eq!(event["body"], "{\"note\": \"é\"}");
    assert_eq!(event["isBase64Encoded"], false);
}

/// The functions' own adapter reads the event into the request the client sent: method, the route's path with
/// its parameter, the query as sent, the body's bytes; with a named stage, the very same request.
#[tokio::test]
async fn the_functions_adapter_reads_the_request_the_client_sent_with_or_without_a_stage() {
    for stage in [None, Some("dev")] {
        let setup = setup_with(Options {
            stage,
            script: Script::Adapter,
            ..Options::default()
        })
        .await;
        let prefix = stage.map_or(String::new(), |stage| format!("/{stage}"));
        for (method, path, query, body, route) in [
            (
                "POST",
                "/v1/requests",
                Some("a=%20b&c=d+e"),
                &b"{\"x\": 1}"[..],
                "ANY /v1/requests",
            ),
            (
                "GET",
                "/v1/requests/a%2Fb%20c",
                None,
                b"",
                "ANY /v1/requests/{id}",
            ),
            (
                "PUT",
                "/v1/settings/validate",
                Some("x=%FF"),
                b"\xff\xfe\x00",
                "ANY /v1/settings/validate",
            ),
            (
                "DELETE",
                "/v1/servicenow/events",
                None,
                b"plain text",
                "ANY /v1/servicenow/events",
            ),
        ] {
            let target = match query {
                Some(query) => format!("{}{prefix}{path}?{query}", setup.gateway),
                None => format!("{}{prefix}{path}", setup.gateway),
            };
            let answer = setup
                .http
                .request(method.parse().unwrap(), target)
                .header("authorization", "Bearer k")
                .body(body.to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::OK, "{stage:?} {method} {path}");
            assert_eq!(answer.headers()["content-type"], "application/json");
            let seen: Value = answer.json().await.unwrap();
            assert_eq!(
                seen,
                json!({
                    "method": method,
                    "path": path,
                    "query": query,
                    "body": BASE64.encode(body),
                    "authorization": "Bearer k",
                    "route": route,
                    "sourceIp": "127.0.0.1",
                }),
                "{stage:?} {method} {path}"
            );
            let event = setup.last().event;
            assert_eq!(event["rawPath"], format!("{prefix}{path}"));
            assert_eq!(
                event["requestContext"]["stage"],
                stage.unwrap_or("$default")
            );
        }
    }
}

#[tokio::test]
async fn a_named_stage_serves_the_api_under_its_name_only() {
    let setup = setup_with(Options {
        stage: Some("dev"),
        ..Options::default()
    })
    .await;
    let answer = setup
        .http
        .get(format!("{}/dev/v1/requests/abc", setup.gateway))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 207);
    let event = setup.last().event;
    assert_eq!(event["rawPath"], "/dev/v1/requests/abc");
    assert_eq!(event["routeKey"], "ANY /v1/requests/{id}");
    assert_eq!(event["pathParameters"], json!({"id": "abc"}));
    assert_eq!(event["requestContext"]["stage"], "dev");
    assert_eq!(
        event["requestContext"]["http"]["path"],
        "/dev/v1/requests/abc"
    );

    for path in [
        "/v1/requests",
        "/dev",
        "/dev/",
        "/Dev/v1/requests",
        "/devx/v1/requests",
        "/other/v1/requests",
        "/dev/dev/v1/requests",
    ] {
        let answer = setup
            .http
            .get(format!("{}{path}", setup.gateway))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(setup.invocations().len(), 1);
}

#[tokio::test]
async fn every_method_reaches_the_function_as_the_template_routes_any() {
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
        let event = setup.last().event;
        assert_eq!(event["requestContext"]["http"]["method"], method.as_str());
        assert_eq!(event["routeKey"], "ANY /v1/requests/{id}");
        // A bodiless request has no body, and nothing frames one.
        assert!(event.get("body").is_none(), "{method}");
        assert_eq!(event["isBase64Encoded"], false);
        assert!(event["headers"].get("content-length").is_none(), "{method}");
        assert!(event["headers"].get("transfer-encoding").is_none());
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
async fn headers_arrive_as_sent_less_those_of_the_connection() {
    let setup = setup().await;
    let answer = raw(
        &setup.gateway,
        "POST /v1/settings/validate HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nX-Mixed-Case: A\r\n\
         cookie: s=1; t=2\r\nconnection: close, x-private\r\nx-private: 1\r\nkeep-alive: timeout=5\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 207"), "{answer}");
    let event = setup.last().event;
    let headers = event["headers"].as_object().unwrap();
    assert_eq!(headers["content-length"], "0");
    assert_eq!(headers["x-mixed-case"], "A");
    assert_eq!(headers["host"], "x");
    assert_eq!(event["requestContext"]["domainName"], "x");
    assert_eq!(event["cookies"], json!(["s=1", "t=2"]));
    for gone in ["cookie", "connection", "x-private", "keep-alive"] {
        assert!(!headers.contains_key(gone), "{gone}");
    }
    assert!(event.get("body").is_none());

    raw(
        &setup.gateway,
        "POST /v1/settings/validate HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    let event = setup.last().event;
    assert!(event["headers"].get("content-length").is_none());
    assert!(event.get("cookies").is_none());
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
        "/2015-03-31/functions/request-intake/invocations",
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
            assert_eq!(answer.headers()[REQUEST_ID_HEADER].len(), 16);
            assert_eq!(answer.text().await.unwrap(), r#"{"message":"Not Found"}"#);
        }
    }
    assert!(setup.invocations().is_empty(), "no function was invoked");
}

async fn status_and_body(setup: &Setup) -> (StatusCode, String) {
    let answer = setup
        .http
        .get(format!("{}/v1/requests", setup.gateway))
        .send()
        .await
        .unwrap();
    let status = answer.status();
    if status.as_u16() >= 500 {
        assert_eq!(answer.headers()["content-type"], "application/json");
    }
    (status, answer.text().await.unwrap())
}

#[tokio::test]
async fn a_function_that_fails_or_answers_no_response_is_api_gateways_502() {
    let error =
        br#"{"errorType":"&alloc::boxed::Box<dyn core::error::Error>","errorMessage":"boom"}"#;
    for script in [
        // The Invoke API's function error.
        fixed(200, vec![("x-amz-function-error", "Unhandled")], error),
        // cargo lambda watch's: the runtime's error report, relayed as a 500.
        fixed(500, vec![], error),
        fixed(200, vec![], b"not json"),
        fixed(200, vec![], b""),
        fixed(200, vec![], br#"{"statusCode": "200"}"#),
        fixed(
            200,
            vec![],
            br#"{"statusCode": 200, "headers": {"x": "a\nb"}}"#,
        ),
        fixed(
            200,
            vec![],
            br#"{"statusCode": 200, "body": "%", "isBase64Encoded": true}"#,
        ),
    ] {
        let setup = setup_with(Options {
            script,
            ..Options::default()
        })
        .await;
        assert_eq!(
            status_and_body(&setup).await,
            (
                StatusCode::BAD_GATEWAY,
                r#"{"message":"Internal Server Error"}"#.into()
            )
        );
        assert_eq!(setup.invocations().len(), 1);
    }
}

#[tokio::test]
async fn json_without_a_status_code_is_a_200_as_payload_2_0_reads_it() {
    let setup = setup_with(Options {
        script: fixed(200, vec![], br#"{"ok": true}"#),
        ..Options::default()
    })
    .await;
    assert_eq!(
        status_and_body(&setup).await,
        (StatusCode::OK, r#"{"ok": true}"#.into())
    );
}

#[tokio::test]
async fn an_invocation_the_invoke_api_refuses_is_api_gateways_500() {
    for script in [
        fixed(
            404,
            vec![],
            br#"{"title":"Missing function","detail":"that function doesn't exist"}"#,
        ),
        fixed(
            500,
            vec![],
            br#"{"type":"https://httpstatuses.com/500","status":500,"title":"Internal Server Error"}"#,
        ),
        fixed(429, vec![], br#"{"message":"Rate Exceeded."}"#),
    ] {
        let setup = setup_with(Options {
            script,
            ..Options::default()
        })
        .await;
        assert_eq!(
            status_and_body(&setup).await,
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"message":"Internal Server Error"}"#.into()
            )
        );
    }
}

#[tokio::test]
async fn an_invoke_api_that_cannot_be_reached_is_api_gateways_500() {
    // A port that was free a moment ago: nothing listens there.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let setup = setup_with(Options {
        invoke_url: Some(format!("http://{closed}/2015-03-31/functions")),
        ..Options::default()
    })
    .await;
    assert_eq!(
        status_and_body(&setup).await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"message":"Internal Server Error"}"#.into()
        )
    );
}

#[tokio::test]
async fn a_function_that_answers_too_late_is_api_gateways_503() {
    let setup = setup_with(Options {
        timeout: Duration::from_secs(1),
        ..Options::default()
    })
    .await;
    *setup.functions.delay.lock().unwrap() = Duration::from_secs(3);
    assert_eq!(
        status_and_body(&setup).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"message":"Service Unavailable"}"#.into()
        )
    );
}

#[tokio::test]
async fn a_body_over_the_http_apis_limit_is_413_and_an_event_over_lambdas_500() {
    let setup = setup().await;
    let send = |size: usize| {
        setup
            .http
            .post(format!("{}/v1/requests", setup.gateway))
            .body(vec![b'x'; size])
            .send()
    };
    let answer = send(MAX_BODY_BYTES + 1).await.unwrap();
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        answer.text().await.unwrap(),
        r#"{"message":"Request Entity Too Large"}"#
    );
    // Within the HTTP API's limit, but an event Lambda does not take.
    let answer = send(MAX_EVENT_BYTES).await.unwrap();
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(setup.invocations().is_empty());
    // Well within both, it goes through.
    let answer = send(MAX_EVENT_BYTES - 64 * 1024).await.unwrap();
    assert_eq!(answer.status().as_u16(), 207);
    assert_eq!(
        setup.last().event["body"].as_str().unwrap().len(),
        MAX_EVENT_BYTES - 64 * 1024
    );
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
            route.key(),
            route.function
        );
    }
}
