//! The handler's answers checked against `openapi.json`: the document's own webhook examples are signed and sent
//! through `handle` against the ServiceNow simulator, and every answer (each outcome, and each error the
//! document lists) must be one the document describes.

use super::tests::{WEBHOOK_SECRET, answer, client, signed, world};
use super::*;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};
use servicenow_sim::{Fault, FaultTarget};
use shared::domain::status::Status;
use shared::http::auth::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use shared::secrets::StaticSettings;
use shared::store::{FaultyStore, MemoryStore};
use std::sync::Arc;
use test_support::openapi::{Coverage, request_example, request_examples};
use test_support::simulator_secret;

const ROUTE: &str = "/v1/servicenow/events";

/// The document's example for `name`, about the ticket `sys_id`.
fn example_about(name: &str, sys_id: &str) -> Value {
    let mut body = request_example("POST", ROUTE, name);
    body["sys_id"] = json!(sys_id);
    body
}

#[track_caller]
fn expect(response: &ApiResponse, status: StatusCode) {
    assert_eq!(response.status(), status, "{}", response.body());
}

/// The document's examples as they are name tickets the simulator does not have (404); about real tickets they
/// record each outcome (200). Every answer conforms.
async fn examples_get_conforming_answers(coverage: &mut Coverage) {
    let w = world().await;
    let examples = request_examples("POST", ROUTE);
    assert!(examples.len() >= 2, "{examples:?}");
    for (name, example) in &examples {
        let response = w.send(example).await;
        assert_eq!(
            response.status(),
            StatusCode::NOT_FOUND,
            "{name}: {}",
            response.body()
        );
        coverage.check("POST", ROUTE, &response);
    }

    let outcomes = [
        ("pmc-openapi-undecided", None, None, "ticketed"),
        ("pmc-openapi-approved", Some("approved"), None, "approved"),
        ("pmc-openapi-denied", Some("rejected"), None, "denied"),
        ("pmc-openapi-cancelled", None, Some(false), "cancelled"),
    ];
    for (pmc, approval, active, status) in outcomes {
        let (record, sys_id) = w.ticketed(pmc).await;
        w.decide(&sys_id, approval, Some("4 hours"), active).await;
        let body = example_about("incident", &sys_id);
        for _ in 0..2 {
            // The second event is a repetition: the same answer, nothing changes.
            let response = w.send(&body).await;
            expect(&response, StatusCode::OK);
            assert_eq!(
                answer(&response),
                json!({"requestId": record.id, "status": status})
            );
            coverage.check("POST", ROUTE, &response);
        }
    }
}

/// Each error the document lists, provoked from the document's example.
async fn errors_conform(coverage: &mut Coverage) {
    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-openapi-errors").await;
    let body = example_about("incident", &sys_id).to_string();

    // 401: unsigned, wrong secret, stale either way (well past the 300 s window, so that the second ticking
    // between signing and checking cannot bring it back in), malformed timestamp, tampered body.
    let mut unsigned = signed(&body, WEBHOOK_SECRET, 0);
    unsigned.headers_mut().remove(SIGNATURE_HEADER);
    let mut no_timestamp = signed(&body, WEBHOOK_SECRET, 0);
    no_timestamp.headers_mut().remove(TIMESTAMP_HEADER);
    let mut malformed = signed(&body, WEBHOOK_SECRET, 0);
    malformed
        .headers_mut()
        .insert(TIMESTAMP_HEADER, HeaderValue::from_static("yesterday"));
    let mut tampered = signed(&body, WEBHOOK_SECRET, 0);
    *tampered.body_mut() = body.replace(sys_id.as_str(), &"f".repeat(32)).into_bytes();
    for request in [
        unsigned,
        no_timestamp,
        malformed,
        tampered,
        signed(&body, "not-the-secret", 0),
        signed(&body, WEBHOOK_SECRET, -400),
        signed(&body, WEBHOOK_SECRET, 400),
    ] {
        let response = handle(&w.callback, request).await;
        expect(&response, StatusCode::UNAUTHORIZED);
        coverage.check("POST", ROUTE, &response);
    }

    // 400 and 415 after a valid signature; 413 before it is looked at.
    for bad in ["{\"table\":", "[]", "\"incident\""] {
        let response = handle(&w.callback, signed(bad, WEBHOOK_SECRET, 0)).await;
        expect(&response, StatusCode::BAD_REQUEST);
        coverage.check("POST", ROUTE, &response);
    }
    let mut text = signed(&body, WEBHOOK_SECRET, 0);
    text.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    let response = handle(&w.callback, text).await;
    expect(&response, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    coverage.check("POST", ROUTE, &response);
    let mut padded = example_about("incident", &sys_id);
    padded["work_notes"] = json!("x".repeat(70 * 1024));
    let response = w.send(&padded).await;
    expect(&response, StatusCode::PAYLOAD_TOO_LARGE);
    coverage.check("POST", ROUTE, &response);

    // 422: a bad reference in the body, and an approval carrying a duration that is not one.
    for bad in [
        json!({"table": "incident"}),
        json!({"table": "sys_user", "sys_id": sys_id}),
        json!({"table": "incident", "sys_id": "../../x"}),
    ] {
        let response = w.send(&bad).await;
        expect(&response, StatusCode::UNPROCESSABLE_ENTITY);
        coverage.check("POST", ROUTE, &response);
    }
    w.decide(&sys_id, Some("approved"), Some("25 hours"), None)
        .await;
    let response = w.send(&example_about("incident", &sys_id)).await;
    expect(&response, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer(&response)["errors"][0]["field"], "u_pm_duration");
    coverage.check("POST", ROUTE, &response);

    // 404: a ticket in another table than the request's.
    let response = w.send(&example_about("change-request", &sys_id)).await;
    expect(&response, StatusCode::NOT_FOUND);
    coverage.check("POST", ROUTE, &response);

    // 502 and 503: ServiceNow refuses the connector, or is down, when the ticket is read back.
    for (status, expected) in [
        (403, StatusCode::BAD_GATEWAY),
        (503, StatusCode::SERVICE_UNAVAILABLE),
    ] {
        w.sim.inject(Fault::Status {
            target: FaultTarget::TableRead,
            status,
            retry_after_secs: None,
            times: 1,
        });
        let response = w.send(&example_about("incident", &sys_id)).await;
        expect(&response, expected);
        coverage.check("POST", ROUTE, &response);
    }
    assert_eq!(
        w.store.get(&record.id).await.unwrap().unwrap().status,
        Status::Ticketed,
        "no error changed the request"
    );

    // 405 with Allow.
    for method in ["GET", "PUT", "DELETE"] {
        let mut request = signed(&body, WEBHOOK_SECRET, 0);
        *request.method_mut() = method.parse().unwrap();
        let response = handle(&w.callback, request).await;
        expect(&response, StatusCode::METHOD_NOT_ALLOWED);
        coverage.check(method, ROUTE, &response);
    }

    // 503: the connector's own settings secret is invalid; the detail names the field.
    let invalid = Callback::new(
        TicketCallback::new(Arc::new(MemoryStore::new()), client()),
        StaticSettings::new("{\"webhookSecrets\": []}"),
    );
    let response = handle(&invalid, signed(&body, WEBHOOK_SECRET, 0)).await;
    expect(&response, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.body().contains("webhookSecrets"),
        "{}",
        response.body()
    );
    coverage.check("POST", ROUTE, &response);

    // 500: the store answers what cannot be read.
    let corrupt = Callback::new(
        TicketCallback::new(Arc::new(FaultyStore { corrupt: true }), client()),
        StaticSettings::new(simulator_secret(&w.sim.base_url())),
    );
    let response = handle(&corrupt, signed(&body, WEBHOOK_SECRET, 0)).await;
    expect(&response, StatusCode::INTERNAL_SERVER_ERROR);
    coverage.check("POST", ROUTE, &response);
}

#[tokio::test]
async fn every_status_the_document_lists_is_provoked_and_conforms() {
    let mut coverage = Coverage::new();
    examples_get_conforming_answers(&mut coverage).await;
    errors_conform(&mut coverage).await;
    coverage.assert_covers("POST", ROUTE, &[]);
}
