//! The handler's answers checked against `openapi.json`: the document's own request examples are sent through
//! `handle` against the ServiceNow simulator, and every answer (reports with passing and failing checks, and
//! each error the document lists) must be one the document describes.

use super::tests::{fixture, report_in, validator, validator_of};
use super::*;
use http::StatusCode;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use pmcloud_sim::PmCloudSim;
use serde_json::{Value, json};
use servicenow_sim::{SimConfig, SimUser, Simulator};
use shared::secrets::{StaticSettings, UnreadableSettings};
use test_support::openapi::{Coverage, request_example, request_examples};
use test_support::simulator_secret;

const ROUTE: &str = "/v1/settings/validate";

/// A JSON request with `body`, from the candidate fixture (which carries the key and the media type).
fn post(body: &Value) -> ApiRequest {
    let mut request = fixture("validate-candidate.json");
    *request.body_mut() = body.to_string().into_bytes();
    request
}

/// The document's candidate example, aimed at the simulator; with the simulator's credentials when `valid`.
fn candidate(sim: &Simulator, valid: bool) -> Value {
    let mut body = request_example("POST", ROUTE, "candidate");
    let servicenow = &mut body["servicenow"];
    servicenow["instanceUrl"] = json!(sim.base_url());
    if valid {
        servicenow["username"] = json!("svc.pm.connector");
        servicenow["password"] = json!("sim-password");
        servicenow["clientId"] = json!("sim-client");
        servicenow["clientSecret"] = json!("sim-client-secret");
    }
    body
}

/// The name of the check that failed, if one did.
fn failed_check(report: &Value) -> Option<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ok"] == false && c.get("skipped").is_none())
        .map(|c| c["name"].as_str().unwrap().to_owned())
}

/// Every example of the document, sent as it is (aimed at the simulator), gets a report that conforms; so does
/// an empty body.
async fn examples_get_conforming_reports(coverage: &mut Coverage) {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let pmc = PmCloudSim::start(pmcloud_sim::SimConfig::default())
        .await
        .unwrap();
    let validator = validator(simulator_secret(&sim.base_url()));
    let examples = request_examples("POST", ROUTE);
    assert!(examples.len() >= 3, "{examples:?}");
    for (name, example) in examples {
        let mut body = example.clone();
        if body["servicenow"].is_object() {
            body["servicenow"]["instanceUrl"] = json!(sim.base_url());
        }
        if body["pmCloud"].is_object() {
            body["pmCloud"]["apiUrl"] = json!(pmc.base_url());
        }
        let response = handle(&validator, post(&body)).await;
        let report = report_in(&response);
        assert_eq!(report["checks"].as_array().unwrap().len(), 5, "{name}");
        coverage.check("POST", ROUTE, &response);
    }

    let empty = handle(&validator, fixture("validate-stored.json")).await;
    assert_eq!(report_in(&empty)["valid"], true, "{}", empty.body());
    coverage.check("POST", ROUTE, &empty);

    let valid = handle(&validator, post(&candidate(&sim, true))).await;
    assert_eq!(report_in(&valid)["valid"], true, "{}", valid.body());
    coverage.check("POST", ROUTE, &valid);
    assert_eq!(sim.stats().creates, 0, "nothing is written");
}

/// A report in which each of the four checks is the one that fails conforms.
async fn each_failing_check_conforms(coverage: &mut Coverage) {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let validator = validator(simulator_secret("http://127.0.0.1:9"));

    let mut bad_config = candidate(&sim, true);
    bad_config["servicenow"]["taskType"] = json!("problem");
    bad_config["servicenow"]["instanceUrl"] = json!("http://acme.service-now.com");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut unreachable = candidate(&sim, true);
    unreachable["servicenow"]["instanceUrl"] = json!(format!("http://{closed}"));
    let wrong_credentials = candidate(&sim, false);

    for (body, failing) in [
        (bad_config, "config"),
        (unreachable, "connect"),
        (wrong_credentials, "oauth"),
    ] {
        let response = handle(&validator, post(&body)).await;
        assert_eq!(
            failed_check(&report_in(&response)).as_deref(),
            Some(failing)
        );
        coverage.check("POST", ROUTE, &response);
    }

    let restricted = Simulator::start(SimConfig {
        users: vec![SimUser {
            username: "svc.pm.connector".into(),
            password: "sim-password".into(),
            tables: Some(vec!["sc_task".into()]),
        }],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let response = handle(&validator, post(&candidate(&restricted, true))).await;
    assert_eq!(
        failed_check(&report_in(&response)).as_deref(),
        Some("table_access")
    );
    coverage.check("POST", ROUTE, &response);

    let pmc = PmCloudSim::start(pmcloud_sim::SimConfig::default())
        .await
        .unwrap();
    let refused_account = json!({"pmCloud": {
        "apiUrl": pmc.base_url(), "clientId": "pmc-client", "clientSecret": "a-wrong-secret"
    }});
    let with_sim = validator_of(StaticSettings::new(simulator_secret(&sim.base_url())));
    let response = handle(&with_sim, post(&refused_account)).await;
    assert_eq!(
        failed_check(&report_in(&response)).as_deref(),
        Some("pmcloud")
    );
    coverage.check("POST", ROUTE, &response);

    // A broken stored secret is reported, not refused.
    let broken = validator_with_broken_secret();
    let response = handle(&broken, fixture("validate-stored.json")).await;
    assert_eq!(
        failed_check(&report_in(&response)).as_deref(),
        Some("config")
    );
    coverage.check("POST", ROUTE, &response);
}

fn validator_with_broken_secret() -> Validator<StaticSettings> {
    validator(
        json!({"servicenow": {"instanceUrl": "ftp://acme"}, "pmcApiKeys": ["local-dev-pmc-key-not-for-production-use"]})
            .to_string(),
    )
}

/// Each error the document lists.
async fn errors_conform(coverage: &mut Coverage) {
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    let example = request_example("POST", ROUTE, "candidate");

    for authorization in [
        None,
        Some("Bearer nope"),
        Some("local-dev-pmc-key-not-for-production-use"),
    ] {
        for mut request in [post(&example), fixture("validate-stored.json")] {
            request.headers_mut().remove(AUTHORIZATION);
            if let Some(value) = authorization {
                request
                    .headers_mut()
                    .insert(AUTHORIZATION, value.parse().unwrap());
            }
            let response = handle(&validator, request).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            coverage.check("POST", ROUTE, &response);
        }
    }

    for bytes in [b"{\"servicenow\":".as_slice(), b"[1]", b"\"text\""] {
        let mut request = post(&example);
        *request.body_mut() = bytes.to_vec();
        let response = handle(&validator, request).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        coverage.check("POST", ROUTE, &response);
    }

    let mut padded = example.clone();
    padded["servicenow"]["notesField"] = json!("x".repeat(70 * 1024));
    let response = handle(&validator, post(&padded)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    coverage.check("POST", ROUTE, &response);

    for content_type in [Some("text/plain"), None] {
        let mut request = post(&example);
        request.headers_mut().remove(CONTENT_TYPE);
        if let Some(value) = content_type {
            request
                .headers_mut()
                .insert(CONTENT_TYPE, value.parse().unwrap());
        }
        let response = handle(&validator, request).await;
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        coverage.check("POST", ROUTE, &response);
    }

    for method in ["GET", "PUT", "DELETE"] {
        let mut request = post(&example);
        *request.method_mut() = method.parse().unwrap();
        let response = handle(&validator, request).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        coverage.check(method, ROUTE, &response);
    }

    let unreadable = validator_of(UnreadableSettings);
    let response = handle(&unreadable, post(&example)).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    coverage.check("POST", ROUTE, &response);
}

#[tokio::test]
async fn every_status_the_document_lists_is_provoked_and_conforms() {
    let mut coverage = Coverage::new();
    examples_get_conforming_reports(&mut coverage).await;
    each_failing_check_conforms(&mut coverage).await;
    errors_conform(&mut coverage).await;
    coverage.assert_covers("POST", ROUTE, &[]);
}
