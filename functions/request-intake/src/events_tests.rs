//! `POST /v1/pmcloud/events` (CONTRACT §13 v3) through the handler: what it answers for a known request, an
//! unknown one, a body without an id, and without `pmCloud` settings. (What it records is proven with the rules,
//! in `shared::rules::pmcloud_mirror`.)

use super::tests::{assert_problem, body, intake, rules, submit_json, submit_with};
use super::*;
use pmcloud_sim::{PmCloudSim, SimConfig};
use serde_json::json;
use shared::secrets::StaticSettings;
use shared::store::MemoryStore;
use std::sync::Arc;
use test_support::{sample_body, simulator_secret, with_pm_cloud};

fn event(body: &[u8]) -> ApiRequest {
    let mut request = submit_with(body);
    *request.uri_mut() = "/v1/pmcloud/events".parse().unwrap();
    request
}

/// The function with `pmCloud` pointing at a PM Cloud simulator that holds no request.
async fn with_pm_cloud_sim() -> (PmCloudSim, Intake<Arc<MemoryStore>, StaticSettings>) {
    let sim = PmCloudSim::start(SimConfig::default()).await.unwrap();
    let secret = with_pm_cloud(
        &simulator_secret("https://acme.service-now.com"),
        &sim.base_url(),
    );
    let intake = Intake::new(
        rules(Arc::new(MemoryStore::new())),
        StaticSettings::new(secret),
    );
    (sim, intake)
}

#[tokio::test]
async fn a_known_request_is_202_with_its_status_whatever_pm_cloud_says() {
    let (sim, intake) = with_pm_cloud_sim().await;
    let submitted = handle(&intake, submit_json(&sample_body("evt-known"))).await;
    assert_eq!(submitted.status(), StatusCode::ACCEPTED);
    let answer = handle(
        &intake,
        event(br#"{"pmcRequestId": "evt-known", "eventType": "x"}"#),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::ACCEPTED, "{}", answer.body());
    assert_eq!(
        body(&answer),
        json!({"pmcRequestId": "evt-known", "status": "pending"})
    );
    assert_eq!(
        sim.stats().authorization_request_read_calls,
        1,
        "read back from PM Cloud (which answered 404)"
    );
}

#[tokio::test]
async fn an_unknown_request_is_404_without_asking_pm_cloud() {
    let (sim, intake) = with_pm_cloud_sim().await;
    let answer = handle(&intake, event(br#"{"pmcRequestId": "evt-unknown"}"#)).await;
    let problem = assert_problem(&answer, 404);
    assert!(problem["detail"].as_str().unwrap().contains("evt-unknown"));
    assert_eq!(sim.stats().authorization_request_calls, 0);
}

#[tokio::test]
async fn a_body_without_a_valid_id_is_422_and_bad_json_400() {
    let (_sim, intake) = with_pm_cloud_sim().await;
    for bad in [
        &br#"{"eventType": "x"}"#[..],
        br#"{"pmcRequestId": "has space"}"#,
    ] {
        let problem = assert_problem(&handle(&intake, event(bad)).await, 422);
        assert_eq!(problem["errors"][0]["field"], "pmcRequestId");
    }
    assert_problem(&handle(&intake, event(b"{not json")).await, 400);
    let mut get = event(b"");
    *get.method_mut() = http::Method::GET;
    assert_problem(&handle(&intake, get).await, 405);
}

#[tokio::test]
async fn without_pm_cloud_settings_it_is_503_whatever_the_id() {
    let (intake, _store) = intake();
    for id in ["evt-any", "has space"] {
        let body = json!({"pmcRequestId": id}).to_string();
        let problem = assert_problem(&handle(&intake, event(body.as_bytes())).await, 503);
        assert!(problem["detail"].as_str().unwrap().contains("pmCloud"));
    }
}

/// Every status the document lists for `POST /v1/pmcloud/events`, provoked, and each answer conforms.
#[tokio::test]
async fn every_status_the_document_lists_for_events_is_provoked_and_conforms() {
    use http::HeaderValue;
    use http::header::{AUTHORIZATION, CONTENT_TYPE};
    use test_support::openapi::{Coverage, request_example};
    const EVENTS: &str = "/v1/pmcloud/events";
    let mut coverage = Coverage::new();
    let (sim, events) = with_pm_cloud_sim().await;
    let example = request_example("POST", EVENTS, "decision-updated");
    let example = example.to_string();
    let known = sample_body(example_id(&example));
    assert_eq!(
        handle(&events, submit_json(&known)).await.status(),
        StatusCode::ACCEPTED
    );
    let check = |coverage: &mut Coverage, response: &ApiResponse, status: u16| {
        assert_eq!(response.status(), status, "{}", response.body());
        coverage.check("POST", EVENTS, response);
    };
    check(
        &mut coverage,
        &handle(&events, event(example.as_bytes())).await,
        202,
    );
    check(
        &mut coverage,
        &handle(&events, event(br#"{"pmcRequestId": "nobody"}"#)).await,
        404,
    );
    check(&mut coverage, &handle(&events, event(b"[]")).await, 400);
    check(&mut coverage, &handle(&events, event(b"{}")).await, 422);
    let padded = json!({"pmcRequestId": "x", "pad": "x".repeat(70 * 1024)}).to_string();
    check(
        &mut coverage,
        &handle(&events, event(padded.as_bytes())).await,
        413,
    );
    let mut text = event(example.as_bytes());
    text.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    check(&mut coverage, &handle(&events, text).await, 415);
    let mut stranger = event(example.as_bytes());
    stranger
        .headers_mut()
        .insert(AUTHORIZATION, HeaderValue::from_static("Bearer wrong-key"));
    check(&mut coverage, &handle(&events, stranger).await, 401);
    let mut put = event(example.as_bytes());
    *put.method_mut() = http::Method::PUT;
    let put = handle(&events, put).await;
    assert_eq!(put.headers()[http::header::ALLOW], "POST");
    check(&mut coverage, &put, 405);
    let secret = with_pm_cloud(
        &simulator_secret("https://acme.service-now.com"),
        &sim.base_url(),
    );
    let corrupt = Intake::new(
        rules(shared::store::FaultyStore { corrupt: true }),
        StaticSettings::new(secret),
    );
    check(
        &mut coverage,
        &handle(&corrupt, event(example.as_bytes())).await,
        500,
    );
    let (without_pm_cloud, _) = intake();
    check(
        &mut coverage,
        &handle(&without_pm_cloud, event(example.as_bytes())).await,
        503,
    );
    coverage.assert_covers("POST", EVENTS, &[]);
}

/// The `pmcRequestId` of the document's example.
fn example_id(example: &str) -> &'static str {
    let value: serde_json::Value = serde_json::from_str(example).unwrap();
    Box::leak(
        value["pmcRequestId"]
            .as_str()
            .unwrap()
            .to_owned()
            .into_boxed_str(),
    )
}

/// The README's *Decision Updated* template, filled as PM Cloud fills it (published placeholders only), is taken.
#[tokio::test]
async fn the_decision_updated_template_is_taken_as_pm_cloud_fills_it() {
    let (_sim, intake) = with_pm_cloud_sim().await;
    handle(&intake, submit_json(&sample_body("evt-template"))).await;
    let template = super::tests::webhook_template("decision-updated-template.json");
    let filled = template
        .replace("%%RequestId%%", "evt-template")
        .replace("%%EventType%%", "JIT Application Access Decision Updated")
        .replace("%%TenantId%%", "6f0b2c3d-1a2b-4c5d-8e9f-0a1b2c3d4e5f");
    assert!(
        !filled.contains("%%"),
        "every placeholder is one BeyondTrust publishes: {filled}"
    );
    let answer = handle(&intake, event(filled.as_bytes())).await;
    assert_eq!(answer.status(), StatusCode::ACCEPTED, "{}", answer.body());
}
