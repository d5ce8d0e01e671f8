//! The kit under a simulator of the smallest kind: one route, `GET /echo`, which its faults apply to.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sim_kit::{Api, Base, Counted, Due, Faults, Sim, Target, WhoAmI};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum EchoTarget {
    Echo,
    Other,
}

/// The path of a request.
impl Target for EchoTarget {
    type Request = &'static str;

    fn matches(self, path: &str) -> bool {
        (path == "/echo") == (self == EchoTarget::Echo)
    }
}

fn is_echo(path: &str) -> bool {
    path == "/echo"
}

sim_kit::faults! {
    /// The echo simulator's faults.
    enum Fault for EchoTarget, own EchoFault matching is_echo {
        /// Answer `text` instead of the echo.
        Say { text: String },
    }
}

/// A simulator that echoes and counts.
struct Echo {
    base: Base<Echo>,
}

/// The echo simulator's memory and counters: its calls so far.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Calls {
    calls: u64,
}

impl From<&()> for Calls {
    fn from((): &()) -> Self {
        Calls { calls: 0 }
    }
}

impl Counted for Calls {
    type Stats = Calls;

    fn stats(&self) -> &Calls {
        self
    }
}

impl Api for Echo {
    const NAME: &'static str = "echo-sim";
    const DEFAULT_PORT: u16 = 8099;
    const HOME_PAGE: &'static str = "<!DOCTYPE html>\n<html><body>echo-sim</body></html>\n";
    type Config = ();
    type Memory = Calls;
    type Fault = Fault;

    fn routes() -> Router<Arc<Echo>> {
        Router::new().route("/echo", get(echo).post(echo))
    }

    fn new(base: Base<Echo>) -> Self {
        Echo { base }
    }

    fn base(&self) -> &Base<Echo> {
        &self.base
    }
}

async fn echo(State(sim): State<Arc<Echo>>) -> (StatusCode, String) {
    sim.base.lock().calls += 1;
    match sim.base.faults.due("/echo").await {
        None => (StatusCode::OK, "echo".into()),
        Some(Due::Status { status, .. } | Due::Html { status }) => {
            (StatusCode::from_u16(status).unwrap(), "fault".into())
        }
        Some(Due::Own(EchoFault::Say { text })) => (StatusCode::OK, text),
    }
}

async fn echoed(sim: &Sim<Echo>) -> (StatusCode, String) {
    let answer = reqwest::get(sim.url("/echo")).await.unwrap();
    (answer.status(), answer.text().await.unwrap())
}

#[tokio::test]
async fn the_simulator_answers_http_at_its_root() {
    let sim = Sim::<Echo>::started().await;
    assert!(!sim.base_url().ends_with('/'));
    let answer = reqwest::get(format!("{}/", sim.base_url())).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let content_type = answer.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(answer.text().await.unwrap().contains("echo-sim"));
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let sim = Sim::<Echo>::started().await;
    let url = format!("{}/", sim.base_url());
    sim.shutdown().await;
    assert!(reqwest::get(url).await.is_err());
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let sim = Sim::<Echo>::started().await;
    let url = sim.url("/");
    drop(sim);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(reqwest::get(url).await.is_err());
}

#[tokio::test]
async fn whoami_names_the_simulator_and_its_process() {
    let before = chrono::Utc::now();
    let sim = Sim::<Echo>::started().await;
    let answer = sim.get_json("/sim/whoami").await;
    assert_eq!(answer.as_object().unwrap().len(), 3);
    let me: WhoAmI = serde_json::from_value(answer).unwrap();
    assert_eq!(me, sim.whoami());
    assert_eq!((me.name.as_str(), me.pid), ("echo-sim", std::process::id()));
    assert!(before <= me.started_at && me.started_at <= chrono::Utc::now());
}

#[tokio::test]
async fn faults_from_the_handle_and_the_control_route_share_one_queue() {
    let sim = Sim::<Echo>::started().await;
    sim.inject(Fault::status(EchoTarget::Echo, 503));
    let answer = sim
        .post_json(
            "/sim/faults",
            &json!({"kind": "say", "text": "hi", "times": 2}),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    let answer = sim
        .post_json("/sim/faults", &json!({"kind": "html", "target": "echo"}))
        .await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert_eq!(echoed(&sim).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(echoed(&sim).await, (StatusCode::OK, "hi".into()));
    assert_eq!(echoed(&sim).await, (StatusCode::OK, "hi".into()));
    // `html` without a status answers 200.
    assert_eq!(echoed(&sim).await, (StatusCode::OK, "fault".into()));
    assert_eq!(echoed(&sim).await, (StatusCode::OK, "echo".into()));
    let answer = sim
        .post_json("/sim/faults", &json!({"kind": "nonsense"}))
        .await;
    assert!(answer.status().is_client_error());
}

#[tokio::test]
async fn a_delay_fault_slows_the_answer_only() {
    let sim = Sim::<Echo>::started().await;
    sim.inject(Fault::delay(EchoTarget::Echo, 300));
    let started = Instant::now();
    assert_eq!(echoed(&sim).await, (StatusCode::OK, "echo".into()));
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn reset_empties_the_fault_queue_and_the_simulators_memory() {
    let sim = Sim::<Echo>::started().await;
    echoed(&sim).await;
    assert_eq!(sim.stats(), Calls { calls: 1 });
    assert_eq!(sim.get_json("/sim/stats").await, json!({"calls": 1}));
    sim.inject(Fault::status(EchoTarget::Echo, 500));
    let answer = sim.post_json("/sim/reset", &json!(null)).await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert_eq!(sim.stats(), Calls { calls: 0 });
    assert_eq!(echoed(&sim).await.0, StatusCode::OK);
    sim.inject(Fault::status(EchoTarget::Echo, 500));
    sim.reset();
    assert_eq!(echoed(&sim).await.0, StatusCode::OK);
}

#[tokio::test]
async fn delete_empties_the_fault_queue_only() {
    let sim = Sim::<Echo>::started().await;
    echoed(&sim).await;
    sim.inject(Fault::status(EchoTarget::Echo, 503).times(1000));
    assert_eq!(echoed(&sim).await.0, StatusCode::SERVICE_UNAVAILABLE);
    let answer = reqwest::Client::new()
        .delete(sim.url("/sim/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert_eq!(echoed(&sim).await, (StatusCode::OK, "echo".into()));
    assert_eq!(sim.stats(), Calls { calls: 3 }, "the memory is kept");
}

#[tokio::test]
async fn the_request_log_finds_calls_by_what_their_path_query_or_body_mention() {
    let sim = Sim::<Echo>::started().await;
    sim.inject(Fault::status(EchoTarget::Echo, 503));
    let client = reqwest::Client::new();
    let answer = client
        .post(sim.url("/echo"))
        .body(r#"{"correlation_id":"req-1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let answer = client
        .get(sim.url("/echo?sysparm_query=correlation_id%3Dreq-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.text().await.unwrap(), "echo");
    sim.get_json("/sim/stats").await;

    let first = sim.get_json("/sim/requests?containing=req-1").await;
    assert_eq!(first.as_array().unwrap().len(), 1, "{first}");
    assert_eq!(first[0]["method"], "POST");
    assert_eq!(first[0]["path"], "/echo");
    assert_eq!(first[0]["status"], 503, "the fault's answer is logged");
    assert!(first[0].get("query").is_none());
    let second = sim.get_json("/sim/requests?containing=req-2").await;
    assert_eq!(second[0]["query"], "sysparm_query=correlation_id%3Dreq-2");
    assert_eq!(second[0]["status"], 200);
    let all = sim.get_json("/sim/requests").await;
    assert_eq!(
        all.as_array().unwrap().len(),
        2,
        "control routes are not logged: {all}"
    );
    let logged: Vec<sim_kit::LoggedRequest> = serde_json::from_value(all).unwrap();
    assert!(logged[0].received_at <= logged[1].received_at);
    assert_eq!(
        sim.get_json("/sim/requests?containing=req-3").await,
        json!([])
    );

    sim.reset();
    assert_eq!(sim.get_json("/sim/requests").await, json!([]));
}

#[test]
fn faults_are_used_up_in_queue_order_per_target() {
    let queue = Faults::default();
    let say = Fault::Say {
        text: "own".into(),
        times: 1,
    };
    for fault in [
        Fault::status(EchoTarget::Other, 500),
        Fault::delay(EchoTarget::Echo, 1).times(2),
        Fault::html(EchoTarget::Echo, 502).times(0),
        say.clone(),
    ] {
        queue.push(fault);
    }
    let taken = [
        "/echo", "/echo", "/echo", "/other", "/other", "/echo", "/echo",
    ]
    .map(|path| queue.take(path));
    assert_eq!(
        taken,
        [
            Some(Fault::delay(EchoTarget::Echo, 1)),
            Some(Fault::delay(EchoTarget::Echo, 1)),
            // times 0 counts as 1.
            Some(Fault::html(EchoTarget::Echo, 502).times(0)),
            Some(Fault::status(EchoTarget::Other, 500)),
            None,
            // The own kinds apply to the requests the simulator names.
            Some(say),
            None,
        ]
    );
}

#[test]
fn fault_json_is_tagged_camel_case_with_defaults() {
    let cases = [
        (
            r#"{"kind":"status","target":"echo","status":429,"retryAfterSecs":7,"times":2}"#,
            Fault::Status {
                target: EchoTarget::Echo,
                status: 429,
                retry_after_secs: Some(7),
                times: 2,
            },
        ),
        (
            r#"{"kind":"delay","target":"other","millis":5}"#,
            Fault::delay(EchoTarget::Other, 5),
        ),
        (
            r#"{"kind":"html","target":"echo"}"#,
            Fault::html(EchoTarget::Echo, 200),
        ),
        (
            r#"{"kind":"say","text":"x"}"#,
            Fault::Say {
                text: "x".into(),
                times: 1,
            },
        ),
    ];
    for (json, fault) in cases {
        assert_eq!(
            serde_json::from_str::<Fault>(json).unwrap(),
            fault,
            "{json}"
        );
    }
}
