//! The handler's answers checked against `openapi.json`: the document's own request examples are sent through
//! `handle`, and every answer (successes and each error the document lists) must be one the document describes.

use super::tests::{KEY, body, get_path, intake, rules, settings, submit_json};
use super::*;
use http::HeaderValue;
use http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use serde_json::json;
use shared::domain::duration::Duration;
use shared::domain::ids::{RequestId, SysId};
use shared::domain::record::{Decision, Failure, FailureCode, NotificationState, Outcome};
use shared::domain::ticket::{TaskType, Ticket};
use shared::secrets::{StaticSettings, UnreadableSettings};
use shared::store::{FaultyStore, MemoryStore};
use std::sync::Arc;
use test_support::openapi::{Coverage, request_example, request_examples};

const REQUESTS: &str = "/v1/requests";
const REQUEST: &str = "/v1/requests/{id}";

fn with_method(mut request: ApiRequest, method: &str, path: &str) -> ApiRequest {
    *request.method_mut() = method.parse().unwrap();
    *request.uri_mut() = path.parse().unwrap();
    request
}

/// Every submission example of the document is accepted (202 with `Location`), retried (200), and read back
/// by id and by pmcRequestId (200); every answer conforms.
async fn examples_are_accepted_retried_and_read_back(coverage: &mut Coverage) {
    let (intake, _) = intake();
    let examples = request_examples("POST", REQUESTS);
    assert!(examples.len() >= 2, "{examples:?}");
    for (name, example) in examples {
        let created = handle(&intake, submit_json(&example)).await;
        assert_eq!(
            created.status(),
            StatusCode::ACCEPTED,
            "{name}: {}",
            created.body()
        );
        coverage.check("POST", REQUESTS, &created);
        let resource = body(&created);
        let id = resource["id"].as_str().unwrap();
        assert_eq!(
            created.headers()[LOCATION],
            format!("/v1/requests/{id}").as_str()
        );
        assert_eq!(resource["pmcRequestId"], example["pmcRequestId"], "{name}");

        let retry = handle(&intake, submit_json(&example)).await;
        assert_eq!(retry.status(), StatusCode::OK, "{name}: {}", retry.body());
        coverage.check("POST", REQUESTS, &retry);

        let by_id = handle(&intake, get_path(&format!("/v1/requests/{id}"))).await;
        assert_eq!(by_id.status(), StatusCode::OK, "{name}");
        coverage.check("GET", REQUEST, &by_id);

        let query = format!(
            "/v1/requests?pmcRequestId={}",
            example["pmcRequestId"].as_str().unwrap()
        );
        let by_pmc = handle(&intake, get_path(&query)).await;
        assert_eq!(by_pmc.status(), StatusCode::OK, "{name}");
        coverage.check("GET", REQUESTS, &by_pmc);
        assert_eq!(body(&by_pmc), resource);
    }
}

/// The resource conforms in every status it can reach, with its ticket, decision or failure filled in.
async fn the_resource_conforms_in_every_status(coverage: &mut Coverage) {
    let (intake, store) = intake();
    let example = request_example("POST", REQUESTS, "application");
    let created = body(&handle(&intake, submit_json(&example)).await);
    let id = created["id"].as_str().unwrap();
    let request_id = RequestId::parse(id).unwrap();
    let pending = store.get(&request_id).await.unwrap().unwrap();
    let now = shared::domain::time::now();
    let ticket = Ticket {
        table: TaskType::Incident,
        number: "INC0010001".into(),
        sys_id: SysId::parse("9d385017c611228701d22104cc95c371").unwrap(),
        url: "https://acme.service-now.com/nav_to.do?uri=incident.do%3Fsys_id%3D9d385017c611228701d22104cc95c371".into(),
    };
    let decision = |outcome, duration| Decision {
        outcome,
        duration,
        expires_at: duration.and_then(|d: Duration| d.expires_at(now).unwrap()),
        decided_by: Some("alice.approver".into()),
        decided_at: now,
        notes: Some("Approved for the capture".into()),
        decided_in: shared::domain::record::DecidedIn::ServiceNow,
    };
    let ticketed = pending.ticketed(ticket.clone(), now).unwrap();
    let states = [
        ticketed.clone(),
        ticketed
            .decided(
                decision(Outcome::Approved, Some(Duration::Hours(4))),
                ticket.clone(),
                true,
                now,
            )
            .unwrap(),
        ticketed
            .decided(
                decision(Outcome::Approved, Some(Duration::Hours(4))),
                ticket.clone(),
                true,
                now,
            )
            .unwrap()
            .push_ended(NotificationState::Delivered, None, 1, now),
        ticketed
            .decided(decision(Outcome::Denied, None), ticket.clone(), false, now)
            .unwrap(),
        ticketed.cancelled(ticket.clone(), true, now).unwrap(),
        pending
            .failed(
                Failure {
                    code: FailureCode::Rejected,
                    detail: "403 from the Table API: Operation Failed".into(),
                },
                now,
            )
            .unwrap(),
    ];
    for state in states {
        // Put the record in this state whatever it is now.
        let current = store.get(&request_id).await.unwrap().unwrap();
        let state = RequestRecord {
            revision: current.revision,
            ..state
        };
        store.replace(&state).await.unwrap();
        let by_id = handle(&intake, get_path(&format!("/v1/requests/{id}"))).await;
        assert_eq!(body(&by_id)["status"], state.status.as_str());
        coverage.check("GET", REQUEST, &by_id);
        let by_pmc = handle(
            &intake,
            get_path(&format!(
                "/v1/requests?pmcRequestId={}",
                state.pmc_request_id
            )),
        )
        .await;
        coverage.check("GET", REQUESTS, &by_pmc);
        let retry = handle(&intake, submit_json(&example)).await;
        assert_eq!(retry.status(), StatusCode::OK);
        coverage.check("POST", REQUESTS, &retry);
    }
}

/// Each client error the document lists, provoked with the document's example as the starting point.
async fn client_errors_conform(coverage: &mut Coverage) {
    let (intake, _) = intake();
    let example = request_example("POST", REQUESTS, "application");

    // 401 on every operation, before anything else is looked at.
    for authorization in [None, Some("Bearer wrong-key"), Some(KEY)] {
        let requests = [
            ("POST", REQUESTS, submit_json(&example)),
            ("GET", REQUESTS, get_path("/v1/requests?pmcRequestId=x")),
            ("GET", REQUEST, get_path("/v1/requests/x")),
        ];
        for (method, path, mut request) in requests {
            request.headers_mut().remove(AUTHORIZATION);
            if let Some(value) = authorization {
                request
                    .headers_mut()
                    .insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            }
            let response = handle(&intake, request).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            coverage.check(method, path, &response);
        }
    }

    // 409: the example's pmcRequestId reused with other content.
    let first = handle(&intake, submit_json(&example)).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let mut changed = example.clone();
    changed["reason"]["text"] = json!("something else");
    let conflict = handle(&intake, submit_json(&changed)).await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    coverage.check("POST", REQUESTS, &conflict);

    // 400, 413, 415.
    for (bytes, status) in [
        (b"{\"pmcRequestId\": ".to_vec(), 400),
        (b"[]".to_vec(), 400),
        (b"".to_vec(), 400),
    ] {
        let mut request = submit_json(&example);
        *request.body_mut() = bytes;
        let response = handle(&intake, request).await;
        assert_eq!(response.status(), status);
        coverage.check("POST", REQUESTS, &response);
    }
    let mut padded = example.clone();
    padded["reason"]["text"] = json!("x".repeat(70 * 1024));
    let too_large = handle(&intake, submit_json(&padded)).await;
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    coverage.check("POST", REQUESTS, &too_large);
    for content_type in [Some("text/plain"), None] {
        let mut request = submit_json(&example);
        request.headers_mut().remove(CONTENT_TYPE);
        if let Some(value) = content_type {
            request
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(value));
        }
        let response = handle(&intake, request).await;
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        coverage.check("POST", REQUESTS, &response);
    }

    // 422: several bad fields, an admin session of days, a detail that is not a string; and the missing query
    // parameter.
    let mut bad = example.clone();
    bad["application"]["sha256"] = json!("xyz");
    bad["user"]["email"] = json!("not-an-address");
    bad["requestedDuration"] = json!({"type": "hours", "value": 25});
    let mut admin_for_days = example.clone();
    admin_for_days["requestType"] = json!("admin");
    admin_for_days["requestedDuration"] = json!({"type": "days", "value": 1});
    let mut detail_not_a_string = example.clone();
    detail_not_a_string["details"] = json!({"UacTriggered": true});
    for body in [bad, admin_for_days, detail_not_a_string] {
        let response = handle(&intake, submit_json(&body)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        coverage.check("POST", REQUESTS, &response);
    }
    let missing_query = handle(&intake, get_path("/v1/requests")).await;
    assert_eq!(missing_query.status(), StatusCode::UNPROCESSABLE_ENTITY);
    coverage.check("GET", REQUESTS, &missing_query);

    // 404 by id and by pmcRequestId, including one that could never have been accepted.
    for (path, query) in [
        (REQUEST, "/v1/requests/00000000-0000-4000-8000-000000000000"),
        (REQUESTS, "/v1/requests?pmcRequestId=never-submitted"),
        (REQUESTS, "/v1/requests?pmcRequestId=has%20space"),
    ] {
        let response = handle(&intake, get_path(query)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        coverage.check("GET", path, &response);
    }

    // 405 with Allow, for methods the document has no operation for.
    for (method, path, template) in [
        ("PUT", "/v1/requests", REQUESTS),
        ("DELETE", "/v1/requests", REQUESTS),
        ("PATCH", "/v1/requests/", REQUESTS),
        ("DELETE", "/v1/requests/abc", REQUEST),
        ("POST", "/v1/requests/abc", REQUEST),
    ] {
        let response = handle(&intake, with_method(submit_json(&example), method, path)).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        coverage.check(method, template, &response);
    }
}

/// Faults of the connector's dependencies are 5xx as the document describes them.
async fn faults_conform(coverage: &mut Coverage) {
    let example = request_example("POST", REQUESTS, "application");
    let requests = || {
        [
            ("POST", REQUESTS, submit_json(&example)),
            ("GET", REQUESTS, get_path("/v1/requests?pmcRequestId=x")),
            ("GET", REQUEST, get_path("/v1/requests/x")),
        ]
    };

    let invalid = Intake::new(
        rules(Arc::new(MemoryStore::new())),
        StaticSettings::new("{\"pmcApiKeys\": []}"),
    );
    for (method, path, request) in requests() {
        let response = handle(&invalid, request).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            response.body().contains("pmcApiKeys"),
            "{}",
            response.body()
        );
        coverage.check(method, path, &response);
    }
    let corrupt = Intake::new(rules(FaultyStore { corrupt: true }), settings());
    for (method, path, request) in requests() {
        let response = handle(&corrupt, request).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        coverage.check(method, path, &response);
    }
    let unreadable = Intake::new(rules(Arc::new(MemoryStore::new())), UnreadableSettings);
    let store_down = Intake::new(rules(FaultyStore { corrupt: false }), settings());
    for (method, path, request) in requests() {
        let response = handle(&unreadable, request).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        coverage.check(method, path, &response);
    }
    for (method, path, request) in requests() {
        let response = handle(&store_down, request).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            !response.body().contains("throttled"),
            "{}",
            response.body()
        );
        coverage.check(method, path, &response);
    }
}

#[tokio::test]
async fn every_status_the_document_lists_is_provoked_and_conforms() {
    let mut coverage = Coverage::new();
    examples_are_accepted_retried_and_read_back(&mut coverage).await;
    the_resource_conforms_in_every_status(&mut coverage).await;
    client_errors_conform(&mut coverage).await;
    faults_conform(&mut coverage).await;
    coverage.assert_covers("POST", REQUESTS, &[]);
    coverage.assert_covers("GET", REQUESTS, &[]);
    coverage.assert_covers("GET", REQUEST, &[]);
}
