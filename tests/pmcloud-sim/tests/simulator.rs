//! The simulator seen from outside, over HTTP, the way the connector sees PM Cloud.

use std::time::{Duration, Instant};

use pmcloud_sim::{
    ADMIN_DECISION_PATH, DECISION_UPDATED, DecisionWebhook, Fault, FaultTarget, JitAccess, PENDING,
    PmCloudSim, SimConfig, Stats,
};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const NOTIFICATION: &str = "/management-api/v2/AuthorizationRequest/notification";

/// The ten fields, in the body's camelCase.
const FIELDS: [&str; 10] = [
    "itsmRequestId",
    "systemId",
    "ticketId",
    "ticketUrl",
    "decision",
    "status",
    "duration",
    "decisionPerformedByUser",
    "decisionTime",
    "message",
];

fn token_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", "pmc-client"),
        ("client_secret", "pmc-client-secret"),
    ]
}

async fn access_token(sim: &PmCloudSim) -> String {
    let answer = grant(sim, &token_form()).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn grant(sim: &PmCloudSim, form: &[(&str, &str)]) -> reqwest::Response {
    sim.post_form("/oauth/connect/token", form).await
}

/// A notification the real API accepts.
fn sample() -> Value {
    json!({
        "itsmRequestId": "7a1f3c2e-5b8d-4e6f-9a0b-1c2d3e4f5a6b",
        "systemId": "servicenow-prod",
        "ticketId": "INC0010001",
        "ticketUrl": "https://example.service-now.com/nav_to.do?uri=incident.do?sys_id=abc",
        "decision": "Approved",
        "status": "2000",
        "duration": "Once",
        "decisionPerformedByUser": "jane.approver",
        "decisionTime": "2025-03-01 14:05:09",
        "message": "Approved for the upgrade window",
    })
}

fn with(field: &str, value: Value) -> Value {
    let mut body = sample();
    body[field] = value;
    body
}

fn notification_call(sim: &PmCloudSim, token: &str) -> reqwest::RequestBuilder {
    authorized_post(sim, NOTIFICATION, token)
}

fn authorized_post(sim: &PmCloudSim, path: &str, token: &str) -> reqwest::RequestBuilder {
    Client::new()
        .post(format!("{}{path}", sim.base_url()))
        .bearer_auth(token)
}

async fn notify(sim: &PmCloudSim, token: &str, body: &Value) -> reqwest::Response {
    notification_call(sim, token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A ProblemDetails body without its `traceId`, after checking the media type and the id's `traceparent` shape.
async fn problem(answer: reqwest::Response) -> Value {
    assert_eq!(
        answer.headers()["content-type"],
        "application/problem+json; charset=utf-8"
    );
    let mut body: Value = answer.json().await.unwrap();
    let trace_id = body.as_object_mut().unwrap().remove("traceId").unwrap();
    let parts: Vec<&str> = trace_id.as_str().unwrap().split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [2, 32, 16, 2],
        "{trace_id}"
    );
    body
}

fn validation_problem(errors: Value) -> Value {
    json!({
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": errors,
    })
}

/// A 400 answer's `errors`.
async fn errors(sim: &PmCloudSim, token: &str, body: &Value) -> Value {
    let answer = notify(sim, token, body).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{body}");
    let problem = problem(answer).await;
    assert_eq!(problem["title"], "One or more validation errors occurred.");
    problem["errors"].clone()
}

/// The field names an `errors` object reports, sorted: whether JSON objects keep their order depends on features.
fn names(errors: &Value) -> Vec<String> {
    let mut names: Vec<String> = errors.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

fn pascal(name: &str) -> String {
    name[..1].to_uppercase() + &name[1..]
}

// --- Token endpoint ---

#[tokio::test]
async fn client_credentials_grant_issues_a_bearer_token() {
    let sim = PmCloudSim::started().await;
    let answer = grant(&sim, &token_form()).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        answer.headers()["cache-control"],
        "no-store, no-cache, max-age=0"
    );
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "urn:management:api");
    let token = body["access_token"].as_str().unwrap();
    assert!(token.len() >= 32);
    assert_eq!(
        notify(&sim, token, &sample()).await.status(),
        StatusCode::OK
    );

    // Naming the API's scope is allowed, and each grant is a new token.
    let mut form = token_form();
    form.push(("scope", "urn:management:api"));
    let answer = grant(&sim, &form).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let second: Value = answer.json().await.unwrap();
    assert_ne!(second["access_token"], body["access_token"]);
    assert_eq!(sim.stats().token_grants, 2);
}

#[tokio::test]
async fn a_wrong_client_id_or_secret_is_invalid_client() {
    let sim = PmCloudSim::started().await;
    for (field, wrong) in [("client_id", "other-client"), ("client_secret", "wrong")] {
        let mut form = token_form();
        form.iter_mut().find(|(name, _)| *name == field).unwrap().1 = wrong;
        let answer = grant(&sim, &form).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{field}");
        assert_eq!(
            answer.json::<Value>().await.unwrap(),
            json!({"error": "invalid_client"}),
            "{field}"
        );
    }
    let answer = grant(&sim, &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        json!({"error": "invalid_client"})
    );
    // The client is checked first, as IdentityServer does: a bad client with a bad grant is still invalid_client.
    let answer = grant(&sim, &[("grant_type", "password"), ("client_id", "x")]).await;
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        json!({"error": "invalid_client"})
    );
    let stats = sim.stats();
    assert_eq!((stats.token_grants, stats.failed_grants), (0, 4));
}

#[tokio::test]
async fn a_missing_or_other_grant_type_is_unsupported() {
    let sim = PmCloudSim::started().await;
    for grant_type in [None, Some("password"), Some("refresh_token"), Some("")] {
        let mut form = token_form();
        form.retain(|(name, _)| *name != "grant_type");
        if let Some(grant_type) = grant_type {
            form.push(("grant_type", grant_type));
        }
        let answer = grant(&sim, &form).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{grant_type:?}");
        assert_eq!(
            answer.json::<Value>().await.unwrap(),
            json!({"error": "unsupported_grant_type"}),
            "{grant_type:?}"
        );
    }
    let mut form = token_form();
    form.push(("scope", "openid"));
    let answer = grant(&sim, &form).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        json!({"error": "invalid_scope"})
    );
    assert_eq!(sim.stats().failed_grants, 5);
}

#[tokio::test]
async fn the_token_endpoint_takes_form_bodies_only() {
    let sim = PmCloudSim::started().await;
    let url = format!("{}/oauth/connect/token", sim.base_url());
    let json_body: serde_json::Map<String, Value> = token_form()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    let as_json = Client::new()
        .post(&url)
        .json(&json_body)
        .send()
        .await
        .unwrap();
    let no_body = Client::new().post(&url).send().await.unwrap();
    for answer in [as_json, no_body] {
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            answer.json::<Value>().await.unwrap(),
            json!({"error": "invalid_request"})
        );
    }
    assert_eq!(sim.stats().failed_grants, 2);
}

#[tokio::test]
async fn a_token_runs_out_after_its_lifetime() {
    let sim = PmCloudSim::start(SimConfig {
        token_lifetime_secs: 1,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let answer: Value = grant(&sim, &token_form()).await.json().await.unwrap();
    assert_eq!(answer["expires_in"], 1);
    let token = answer["access_token"].as_str().unwrap();
    assert_eq!(
        notify(&sim, token, &sample()).await.status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let answer = notify(&sim, token, &sample()).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    assert_eq!(sim.notifications().len(), 1);
}

#[tokio::test]
async fn expire_tokens_refuses_every_live_token() {
    let sim = PmCloudSim::started().await;
    let tokens = [access_token(&sim).await, access_token(&sim).await];
    for token in &tokens {
        assert_eq!(
            notify(&sim, token, &sample()).await.status(),
            StatusCode::OK
        );
    }
    sim.expire_tokens();
    for token in &tokens {
        assert_eq!(
            notify(&sim, token, &sample()).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // The client itself still works: a new token is accepted.
    let token = access_token(&sim).await;
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn rotating_the_secret_drops_live_tokens_and_the_old_secret() {
    let sim = PmCloudSim::started().await;
    let old_token = access_token(&sim).await;
    sim.rotate_secret("regenerated-secret");
    assert_eq!(
        notify(&sim, &old_token, &sample()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let answer = grant(&sim, &token_form()).await;
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        json!({"error": "invalid_client"})
    );
    let mut form = token_form();
    form[2].1 = "regenerated-secret";
    let answer: Value = grant(&sim, &form).await.json().await.unwrap();
    let token = answer["access_token"].as_str().unwrap();
    assert_eq!(
        notify(&sim, token, &sample()).await.status(),
        StatusCode::OK
    );
}

// --- Notification: who may call ---

#[tokio::test]
async fn the_notification_needs_a_live_bearer_token() {
    let sim = PmCloudSim::started().await;
    let url = format!("{}{NOTIFICATION}", sim.base_url());
    let answer = Client::new()
        .post(&url)
        .json(&sample())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(answer.headers()["www-authenticate"], "Bearer");
    assert_eq!(answer.text().await.unwrap(), "");

    let answer = Client::new()
        .post(&url)
        .basic_auth("pmc-client", Some("pmc-client-secret"))
        .json(&sample())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);

    let answer = notify(&sim, "not-a-token", &sample()).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    assert_eq!(answer.text().await.unwrap(), "");

    // Authentication comes before anything else: an empty body without a token is still a 401.
    let answer = Client::new().post(&url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert!(sim.notifications().is_empty());
    let stats = sim.stats();
    assert_eq!(
        (stats.notification_calls, stats.notifications_accepted),
        (4, 0)
    );
}

#[tokio::test]
async fn an_account_without_full_jit_access_is_forbidden() {
    let sim = PmCloudSim::start(SimConfig {
        jit_access: JitAccess::ReadOnly,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let token = access_token(&sim).await;
    for access in [JitAccess::ReadOnly, JitAccess::None] {
        sim.set_jit_access(access);
        let answer = notify(&sim, &token, &sample()).await;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{access:?}");
        let body = problem(answer).await;
        assert_eq!(
            body["type"],
            "https://tools.ietf.org/html/rfc9110#section-15.5.4"
        );
        assert_eq!(body["title"], "Forbidden");
        assert_eq!(body["status"], 403);
        assert!(body["detail"].as_str().unwrap().contains("Full Access"));
    }
    // The permission is checked before the body: a bad body is still a 403.
    let answer = notification_call(&sim, &token)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);

    // The change applies to a token issued before it.
    sim.set_jit_access(JitAccess::Full);
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::OK
    );
    assert_eq!(sim.notifications().len(), 1);
}

// --- Notification: what it must carry ---

#[tokio::test]
async fn a_body_that_is_not_json_is_unsupported_media() {
    let sim = PmCloudSim::started().await;
    let token = access_token(&sim).await;
    let text = sample().to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut call = notification_call(&sim, &token).body(text.clone());
        if let Some(content_type) = content_type {
            call = call.header("content-type", content_type);
        }
        let answer = call.send().await.unwrap();
        assert_eq!(
            answer.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(
            problem(answer).await,
            json!({
                "type": "https://tools.ietf.org/html/rfc9110#section-15.5.16",
                "title": "Unsupported Media Type",
                "status": 415,
            })
        );
    }
    // Every JSON media type ASP.NET reads is fine.
    for content_type in [
        "application/json; charset=utf-8",
        "text/json",
        "application/merge-patch+json",
    ] {
        let answer = notification_call(&sim, &token)
            .header("content-type", content_type)
            .body(text.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{content_type}");
    }
    assert_eq!(sim.stats().notification_calls, 6);
    assert_eq!(sim.stats().notifications_accepted, 3);
}

#[tokio::test]
async fn each_missing_or_empty_field_is_named() {
    let sim = PmCloudSim::started().await;
    let token = access_token(&sim).await;
    for field in FIELDS {
        let property = pascal(field);
        let expected = json!({ property.clone(): [format!("The {property} field is required.")] });
        let mut missing = sample();
        missing.as_object_mut().unwrap().remove(field);
        for body in [
            missing,
            with(field, json!("")),
            with(field, json!("   ")),
            with(field, Value::Null),
        ] {
            let answer = notify(&sim, &token, &body).await;
            assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(
                problem(answer).await,
                validation_problem(expected.clone()),
                "{body}"
            );
        }
    }
    // All at once when the body is empty.
    let all = errors(&sim, &token, &json!({})).await;
    let mut expected: Vec<String> = FIELDS.iter().map(|f| pascal(f)).collect();
    expected.sort();
    assert_eq!(names(&all), expected);
    assert!(sim.notifications().is_empty());
    assert_eq!(sim.stats().notifications_accepted, 0);
}

#[tokio::test]
async fn decision_status_time_and_duration_must_be_well_formed() {
    let sim = PmCloudSim::started().await;
    let token = access_token(&sim).await;
    let cases = [
        (
            "decision",
            vec!["approved", "Approve", "Pending"],
            "The field Decision must be Approved or Denied.",
        ),
        (
            "status",
            vec!["200", "2002", "Approved"],
            "The field Status must be 2000 or 2001.",
        ),
        (
            "decisionTime",
            vec![
                "2025-03-01T14:05:09Z",
                "2025-03-01 14:05",
                "2025-02-30 10:00:00",
                "01/03/2025 14:05:09",
            ],
            "The field DecisionTime must be a date and time in the form yyyy-MM-dd HH:mm:ss.",
        ),
        (
            "duration",
            vec!["once", "PT4H", "4 hours", "-60", "1.5"],
            "The field Duration must be Once, Forever or a number of seconds.",
        ),
    ];
    for (field, bad_values, message) in cases {
        for bad in bad_values {
            let body = with(field, json!(bad));
            assert_eq!(
                errors(&sim, &token, &body).await,
                json!({ pascal(field): [message] }),
                "{field} = {bad}"
            );
        }
    }
    // Several bad fields are reported together.
    let mut body = with("decision", json!("Maybe"));
    body["status"] = json!("9");
    body["ticketId"] = json!("");
    let reported = errors(&sim, &token, &body).await;
    assert_eq!(names(&reported), ["Decision", "Status", "TicketId"]);

    // The other accepted values.
    for (field, good) in [
        ("decision", "Denied"),
        ("status", "2001"),
        ("duration", "Forever"),
        ("duration", "14400"),
        ("decisionTime", "2024-02-29 23:59:59"),
    ] {
        let answer = notify(&sim, &token, &with(field, json!(good))).await;
        assert_eq!(answer.status(), StatusCode::OK, "{field} = {good}");
    }
}

#[tokio::test]
async fn bodies_that_do_not_bind_are_bad_requests() {
    let sim = PmCloudSim::started().await;
    let token = access_token(&sim).await;
    let raw = |body: &'static str| {
        notification_call(&sim, &token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let answer = raw("").await.unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        problem(answer).await,
        validation_problem(json!({"": ["A non-empty request body is required."]}))
    );
    for body in ["{\"itsmRequestId\": ", "[1, 2]", "\"text\""] {
        let answer = raw(body).await.unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{body}");
        let errors = problem(answer).await["errors"].clone();
        assert_eq!(errors.as_object().unwrap().len(), 1, "{body}");
        assert!(errors["$"][0].is_string(), "{body}");
    }
    // A value that is not a string fails binding, and that error comes alone.
    let mut body = with("duration", json!(3600));
    body["decision"] = json!(true);
    body["message"] = json!("");
    let reported = errors(&sim, &token, &body).await;
    assert_eq!(names(&reported), ["$.decision", "$.duration"]);
    assert!(
        reported["$.duration"][0]
            .as_str()
            .unwrap()
            .starts_with("The JSON value could not be converted to System.String.")
    );
}

#[tokio::test]
async fn property_names_bind_case_insensitively_and_extra_fields_are_kept() {
    let sim = PmCloudSim::started().await;
    let token = access_token(&sim).await;
    let mut body = serde_json::Map::new();
    for (name, value) in sample().as_object().unwrap() {
        body.insert(pascal(name), value.clone());
    }
    body.insert("extra".into(), json!({"nested": 1}));
    let body = Value::Object(body);
    assert_eq!(notify(&sim, &token, &body).await.status(), StatusCode::OK);
    assert_eq!(sim.notifications()[0].body, body);
}

// --- Notification: what it does ---

#[tokio::test]
async fn an_accepted_notification_is_recorded_with_its_correlation_id() {
    let sim = PmCloudSim::started().await;
    let token = access_token(&sim).await;
    let before = chrono::Utc::now();
    let answer = notification_call(&sim, &token)
        .header("x-correlation-id", "corr-123")
        .json(&sample())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.text().await.unwrap(), "");
    let second = with("decision", json!("Denied"));
    assert_eq!(notify(&sim, &token, &second).await.status(), StatusCode::OK);
    let after = chrono::Utc::now();

    let recorded = sim.notifications();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].body, sample());
    assert_eq!(recorded[0].correlation_id.as_deref(), Some("corr-123"));
    assert_eq!(recorded[1].body, second);
    assert_eq!(recorded[1].correlation_id, None);
    for notification in &recorded {
        assert!(before <= notification.received_at && notification.received_at <= after);
    }
    assert!(recorded[0].received_at <= recorded[1].received_at);
    assert_eq!(
        sim.stats(),
        Stats {
            token_grants: 1,
            failed_grants: 0,
            notification_calls: 2,
            notifications_accepted: 2,
            authorization_request_calls: 0,
            ..Stats::default()
        }
    );
}

#[tokio::test]
async fn unknown_request_ids_are_refused_only_when_the_known_ids_are_listed() {
    let sim = PmCloudSim::started().await;
    let token = access_token(&sim).await;
    let any = with("itsmRequestId", json!("whatever-id"));
    assert_eq!(notify(&sim, &token, &any).await.status(), StatusCode::OK);

    let sim = PmCloudSim::start(SimConfig {
        known_request_ids: Some(vec!["req-1".into()]),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let token = access_token(&sim).await;
    let known = with("itsmRequestId", json!("req-1"));
    assert_eq!(notify(&sim, &token, &known).await.status(), StatusCode::OK);
    let answer = notify(&sim, &token, &with("itsmRequestId", json!("req-2"))).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let body = problem(answer).await;
    assert_eq!(
        body["type"],
        "https://tools.ietf.org/html/rfc9110#section-15.5.5"
    );
    assert_eq!(body["title"], "Not Found");
    assert!(body["detail"].as_str().unwrap().contains("req-2"));
    // Validation comes first: a bad body with an unknown id is a 400.
    let mut bad = with("itsmRequestId", json!("req-2"));
    bad["status"] = json!("1");
    assert_eq!(
        notify(&sim, &token, &bad).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(sim.notifications().len(), 1);
    assert_eq!(sim.notifications()[0].body, known);
    let stats = sim.stats();
    assert_eq!(
        (stats.notification_calls, stats.notifications_accepted),
        (3, 1)
    );
}

// --- Faults ---

#[tokio::test]
async fn a_rate_limit_fault_always_carries_retry_after() {
    let sim = PmCloudSim::started().await;
    let token = access_token(&sim).await;
    for (retry_after_secs, expected) in [(None, "1"), (Some(7), "7")] {
        sim.inject(Fault::Status {
            target: FaultTarget::Notification,
            status: 429,
            retry_after_secs,
            times: 1,
        });
        let answer = notify(&sim, &token, &sample()).await;
        assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(answer.headers()["retry-after"], expected);
        let body = problem(answer).await;
        assert_eq!(
            (body["status"].clone(), body["title"].clone()),
            (json!(429), json!("Too Many Requests"))
        );
    }
    sim.inject(Fault::status(FaultTarget::Token, 429));
    let answer = grant(&sim, &token_form()).await;
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.headers()["retry-after"], "1");
    // Used up: the next calls go through, and nothing faulted was recorded.
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::OK
    );
    assert_eq!(sim.notifications().len(), 1);
    let stats = sim.stats();
    assert_eq!(
        (
            stats.notification_calls,
            stats.notifications_accepted,
            stats.token_grants,
            stats.failed_grants
        ),
        (3, 1, 1, 0)
    );
}

#[tokio::test]
async fn a_status_fault_applies_times_times_then_is_used_up() {
    let sim = PmCloudSim::started().await;
    sim.inject(Fault::status(FaultTarget::Token, 503).times(2));
    for _ in 0..2 {
        let answer = grant(&sim, &token_form()).await;
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!answer.headers().contains_key("retry-after"));
        assert_eq!(
            answer.json::<Value>().await.unwrap(),
            json!({"error": "server_error"})
        );
    }
    let token = access_token(&sim).await;
    // An injected fault is not a refused grant.
    assert_eq!(sim.stats().failed_grants, 0);

    sim.inject(Fault::Status {
        target: FaultTarget::Notification,
        status: 500,
        retry_after_secs: Some(3),
        times: 1,
    });
    let answer = notify(&sim, &token, &sample()).await;
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.headers()["retry-after"], "3");
    assert_eq!(
        problem(answer).await,
        json!({
            "type": "https://tools.ietf.org/html/rfc9110#section-15.6.1",
            "title": "An error occurred while processing your request.",
            "status": 500,
        })
    );
    // A fault answers before the bearer check: even a call without a token gets it.
    sim.inject(Fault::status(FaultTarget::Notification, 401));
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_delay_fault_slows_the_answer() {
    let sim = PmCloudSim::started().await;
    sim.inject(Fault::delay(FaultTarget::Token, 300));
    let started = Instant::now();
    let token = access_token(&sim).await;
    assert!(started.elapsed() >= Duration::from_millis(300));

    sim.inject(Fault::delay(FaultTarget::Notification, 300).times(2));
    for _ in 0..2 {
        let started = Instant::now();
        assert_eq!(
            notify(&sim, &token, &sample()).await.status(),
            StatusCode::OK
        );
        assert!(started.elapsed() >= Duration::from_millis(300));
    }
    let started = Instant::now();
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::OK
    );
    assert!(started.elapsed() < Duration::from_millis(300));
    // A delayed notification is still handled and recorded.
    assert_eq!(sim.notifications().len(), 3);
}

#[tokio::test]
async fn an_html_fault_answers_an_error_page_instead_of_json() {
    let sim = PmCloudSim::started().await;
    let token = access_token(&sim).await;
    sim.inject(Fault::html(FaultTarget::Notification, 502).times(2));
    for _ in 0..2 {
        let answer = notify(&sim, &token, &sample()).await;
        assert_eq!(answer.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(answer.headers()["content-type"], "text/html; charset=utf-8");
        let page = answer.text().await.unwrap();
        assert!(page.starts_with("<html>"), "{page}");
        assert!(page.contains("<title>502 Bad Gateway</title>"), "{page}");
        assert!(serde_json::from_str::<Value>(&page).is_err());
    }
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::OK
    );

    sim.inject(Fault::html(FaultTarget::Token, 429));
    let answer = grant(&sim, &token_form()).await;
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.headers()["retry-after"], "1");
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("429 Too Many Requests")
    );
    assert_eq!(grant(&sim, &token_form()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_fault_waits_for_a_request_of_its_own_target() {
    let sim = PmCloudSim::started().await;
    sim.inject(Fault::status(FaultTarget::Notification, 503));
    // Token requests pass by the notification fault.
    let token = access_token(&sim).await;
    access_token(&sim).await;
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::OK
    );
}

// --- The control API and the rest ---

#[tokio::test]
async fn the_control_api_drives_the_simulator_over_http() {
    let sim = PmCloudSim::started().await;
    let control = |path: &str| format!("{}/sim/{path}", sim.base_url());
    let client = Client::new();
    let get = |path: &str| {
        let request = client.get(control(path));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    let token = access_token(&sim).await;
    let answer = notification_call(&sim, &token)
        .header("x-correlation-id", "corr-1")
        .json(&sample())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let recorded = get("notifications").await;
    assert_eq!(recorded.as_array().unwrap().len(), 1);
    assert_eq!(recorded[0]["body"], sample());
    assert_eq!(recorded[0]["correlationId"], "corr-1");
    let received_at = recorded[0]["receivedAt"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(received_at).is_ok());

    let answer = sim
        .post_json(
            "/sim/faults",
            &json!({"kind": "status", "target": "notification", "status": 429, "times": 1}),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    let answer = notify(&sim, &token, &sample()).await;
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.headers()["retry-after"], "1");
    let answer = sim
        .post_json(
            "/sim/faults",
            &json!({"kind": "sideways", "target": "token"}),
        )
        .await;
    assert!(answer.status().is_client_error());

    assert_eq!(
        get("stats").await,
        json!({"tokenGrants": 1, "failedGrants": 0, "notificationCalls": 2, "notificationsAccepted": 1,
               "authorizationRequestCalls": 0})
    );

    let answer = client
        .put(control("jit-access"))
        .json(&json!({"jitAccess": "readOnly"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::FORBIDDEN
    );
    client
        .put(control("jit-access"))
        .json(&json!({"jitAccess": "full"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::OK
    );

    let answer = client.post(control("tokens/expire")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let token = access_token(&sim).await;
    let answer = client
        .post(control("client-secret"))
        .json(&json!({"clientSecret": "new-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        grant(&sim, &token_form()).await.status(),
        StatusCode::BAD_REQUEST
    );
    let mut form = token_form();
    form[2].1 = "new-secret";
    assert_eq!(grant(&sim, &form).await.status(), StatusCode::OK);

    // Reset: back to the configured secret and permission, with nothing remembered.
    sim.set_jit_access(JitAccess::None);
    sim.post_json(
        "/sim/faults",
        &json!({"kind": "delay", "target": "token", "millis": 5_000}),
    )
    .await;
    let answer = client.post(control("reset")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert_eq!(get("notifications").await, json!([]));
    assert_eq!(sim.stats(), Stats::default());
    let started = Instant::now();
    let token = access_token(&sim).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the fault was dropped"
    );
    assert_eq!(grant(&sim, &form).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn reset_drops_live_tokens() {
    let sim = PmCloudSim::started().await;
    let token = access_token(&sim).await;
    sim.reset();
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn whoami_names_the_simulator_and_its_process() {
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let sim = PmCloudSim::started().await;
    let answer = reqwest::get(format!("{}/sim/whoami", sim.base_url()))
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["name"], "pmcloud-sim");
    assert_eq!(body["pid"], std::process::id());
    let started_at =
        chrono::DateTime::parse_from_rfc3339(body["startedAt"].as_str().unwrap()).unwrap();
    assert!(before <= started_at && started_at <= chrono::Utc::now());
    assert_eq!(body.as_object().unwrap().len(), 3);
}

/// What every simulator serves at its root is the kit's (`tests/sim-kit/tests/kit.rs`); the page is the tenant's.
#[tokio::test]
async fn the_tenant_answers_http_at_its_root() {
    let sim = PmCloudSim::started().await;
    let answer = reqwest::get(sim.url("/")).await.unwrap();
    assert!(answer.text().await.unwrap().contains("pmcloud-sim"));
}

#[test]
fn config_json_is_camel_case_with_defaults() {
    let config: SimConfig = serde_json::from_str(
        r#"{"clientId": "c", "tokenLifetimeSecs": 60, "jitAccess": "readOnly", "knownRequestIds": ["r1"]}"#,
    )
    .unwrap();
    assert_eq!(config.client_id, "c");
    assert_eq!(config.client_secret, "pmc-client-secret");
    assert_eq!(config.token_lifetime_secs, 60);
    assert_eq!(config.jit_access, JitAccess::ReadOnly);
    assert_eq!(config.known_request_ids, Some(vec!["r1".to_owned()]));
    let config: SimConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(
        (
            config.client_id.as_str(),
            config.token_lifetime_secs,
            config.jit_access,
            config.known_request_ids
        ),
        ("pmc-client", 3600, JitAccess::Full, None)
    );
    let access: JitAccess = serde_json::from_str(r#""none""#).unwrap();
    assert_eq!(access, JitAccess::None);
}

// --- The binary ---

/// The child's exit status, killing it and failing if it has not exited within five seconds.
fn wait_for_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("pmcloud-sim did not stop");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn the_binary_serves_its_config_file_until_sigterm() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let config = std::env::temp_dir().join(format!("pmcloud-sim-test-{}.json", std::process::id()));
    std::fs::write(
        &config,
        r#"{"clientId": "from-file", "clientSecret": "file-secret"}"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pmcloud-sim"))
        .args(["--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    std::fs::remove_file(&config).unwrap();
    let base_url = line
        .trim()
        .strip_prefix("pmcloud-sim listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();

    let whoami: Value = reqwest::get(format!("{base_url}/sim/whoami"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(whoami["name"], "pmcloud-sim");
    assert_eq!(whoami["pid"], child.id());
    let answer = Client::new()
        .post(format!("{base_url}/oauth/connect/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "from-file"),
            ("client_secret", "file-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(wait_for_exit(&mut child).success());
    assert!(reqwest::get(format!("{base_url}/")).await.is_err());
}

#[test]
fn the_binary_refuses_unknown_arguments_and_unreadable_config() {
    let binary = env!("CARGO_BIN_EXE_pmcloud-sim");
    let output = std::process::Command::new(binary)
        .arg("--port")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("usage: pmcloud-sim [--listen ADDR (default 127.0.0.1:8090)]"),
        "{stderr}"
    );
    let output = std::process::Command::new(binary)
        .args(["--config", "/nonexistent/pmcloud-sim.json"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--config /nonexistent/pmcloud-sim.json"),
        "{stderr}"
    );
}

const AUTHORIZATION_REQUESTS: &str = "/management-api/v2/AuthorizationRequest";

async fn read(sim: &PmCloudSim, token: &str, path_and_query: &str) -> reqwest::Response {
    Client::new()
        .get(format!("{}{path_and_query}", sim.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn authorization_requests_are_listed_newest_first_in_pages_and_read_one_by_one() {
    let sim = PmCloudSim::started().await;
    for n in 0..5 {
        let info = json!({"user": format!("ACME\\user{n}"), "hostName": "LT-0042"});
        sim.add_authorization_request(Some(format!("req-{n}")), info.as_object().unwrap().clone());
    }
    let token = access_token(&sim).await;
    let page = |n: u32, size: u32| {
        format!(
            "{AUTHORIZATION_REQUESTS}?Pagination.PageNumber={n}&Pagination.PageSize={size}&Sorts[0].by=created&Sorts[0].order=desc"
        )
    };
    let first: Value = read(&sim, &token, &page(1, 2)).await.json().await.unwrap();
    assert_eq!(
        (
            first["pageCount"].as_u64(),
            first["totalRecordCount"].as_u64()
        ),
        (Some(3), Some(5))
    );
    let ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&first), ["req-4", "req-3"]);
    let last: Value = read(&sim, &token, &page(3, 2)).await.json().await.unwrap();
    assert_eq!(ids(&last), ["req-0"]);
    let past: Value = read(&sim, &token, &page(4, 2)).await.json().await.unwrap();
    assert!(ids(&past).is_empty(), "a page past the end is empty");
    assert_eq!(
        read(&sim, &token, &page(1, 201)).await.status(),
        StatusCode::BAD_REQUEST
    );

    let one: Value = read(&sim, &token, &format!("{AUTHORIZATION_REQUESTS}/req-2"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["requestInfo"]["user"], "ACME\\user2");
    assert_eq!(one["accessDecision"]["status"], PENDING);
    assert!(one["requestInfo"]["created"].is_string());
    let missing = read(&sim, &token, &format!("{AUTHORIZATION_REQUESTS}/nope")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(sim.stats().authorization_request_calls, 6);
}

#[tokio::test]
async fn reading_needs_a_token_and_some_jit_access() {
    let sim = PmCloudSim::started().await;
    let without = read(&sim, "not-a-token", AUTHORIZATION_REQUESTS).await;
    assert_eq!(without.status(), StatusCode::UNAUTHORIZED);
    let token = access_token(&sim).await;
    sim.set_jit_access(JitAccess::ReadOnly);
    assert_eq!(
        read(&sim, &token, AUTHORIZATION_REQUESTS).await.status(),
        StatusCode::OK
    );
    sim.set_jit_access(JitAccess::None);
    let refused = read(&sim, &token, AUTHORIZATION_REQUESTS).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        problem(refused).await["detail"]
            .as_str()
            .unwrap()
            .contains("JIT")
    );
    sim.inject(Fault::Status {
        target: FaultTarget::AuthorizationRequest,
        status: 503,
        retry_after_secs: None,
        times: 1,
    });
    sim.set_jit_access(JitAccess::Full);
    assert_eq!(
        read(&sim, &token, AUTHORIZATION_REQUESTS).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn a_decision_in_the_portal_or_by_notification_is_recorded_on_the_request() {
    let sim = PmCloudSim::started().await;
    sim.add_authorization_request(Some("in-portal".into()), Default::default());
    sim.add_authorization_request(
        Some(sample()["itsmRequestId"].as_str().unwrap().into()),
        Default::default(),
    );
    let decided = sim
        .post_json(
            "/sim/authorization-requests/in-portal/decision",
            &json!({"approved": false, "by": "carol.admin"}),
        )
        .await;
    assert_eq!(decided.status(), StatusCode::OK);
    let record: Value = decided.json().await.unwrap();
    assert_eq!(record["accessDecision"]["status"], 2001);
    assert_eq!(
        record["accessDecision"]["decisionPerformedByUser"],
        "carol.admin"
    );
    let unknown = sim
        .post_json(
            "/sim/authorization-requests/nope/decision",
            &json!({"approved": true, "by": "x"}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let token = access_token(&sim).await;
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::OK
    );
    let notified = sim
        .authorization_request(sample()["itsmRequestId"].as_str().unwrap())
        .unwrap();
    assert_eq!(notified["accessDecision"]["status"], 2000);
    assert_eq!(
        notified["accessDecision"]["decisionPerformedByUser"],
        "jane.approver"
    );
}

#[tokio::test]
async fn admin_decisions_are_taken_at_the_admin_path_and_recorded_with_it() {
    let sim = PmCloudSim::started().await;
    let token = access_token(&sim).await;
    let body = with("duration", json!("5400"));
    let sent = authorized_post(&sim, ADMIN_DECISION_PATH, &token).json(&body);
    let answer = sent.send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let recorded = sim.notifications();
    assert_eq!(recorded[0].path, ADMIN_DECISION_PATH);
    assert_eq!(recorded[0].body["duration"], "5400");
    let created = sim
        .post_json(
            "/sim/authorization-requests",
            &json!({"requestInfo": {"user": "u"}}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(
        sim.get_json("/sim/authorization-requests")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn page_of(n: usize) -> String {
    format!(
        "{AUTHORIZATION_REQUESTS}?Pagination.PageNumber={n}&Pagination.PageSize=200&Sorts[0].by=created&Sorts[0].order=desc"
    )
}

fn ids_of(records: &Value) -> Vec<&str> {
    records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_thousand_requests_at_once_page_newest_first_by_created_at_200() {
    let sim = PmCloudSim::started().await;
    let hours_ago = |hours: i64| {
        (chrono::Utc::now() - chrono::Duration::hours(hours))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    // Older ones first given last, in both forms `created` takes.
    let older = sim
        .post_json(
            "/sim/authorization-requests",
            &json!([
                {"id": "day-old", "requestInfo": {"user": "ACME\\old", "created": hours_ago(25)}},
                {"id": "hour-old", "requestInfo": {"user": "ACME\\recent",
                 "created": (chrono::Utc::now() - chrono::Duration::hours(1)).format("%Y-%m-%d %H:%M:%S").to_string()}},
            ]),
        )
        .await;
    assert_eq!(older.status(), StatusCode::CREATED);
    assert_eq!(
        ids_of(&older.json().await.unwrap()),
        ["day-old", "hour-old"]
    );
    let bench = sim
        .post_json(
            "/sim/authorization-requests",
            &json!({"count": 1000, "id": "bench", "requestInfo": {"user": "ACME\\jdoe"}}),
        )
        .await;
    assert_eq!(bench.status(), StatusCode::CREATED);
    let bench: Value = bench.json().await.unwrap();
    assert_eq!(bench.as_array().unwrap().len(), 1000);
    assert_eq!(bench[0]["id"], "bench-1");
    assert_eq!(bench[999]["accessDecision"]["status"], PENDING);
    assert_eq!(bench[999]["requestInfo"]["user"], "ACME\\jdoe");

    let token = access_token(&sim).await;
    let mut listed: Vec<Value> = Vec::new();
    for n in 1.. {
        let page: Value = read(&sim, &token, &page_of(n)).await.json().await.unwrap();
        assert_eq!(
            (
                page["pageCount"].as_u64(),
                page["totalRecordCount"].as_u64()
            ),
            (Some(6), Some(1002))
        );
        let data = page["data"].as_array().unwrap();
        if data.is_empty() {
            break;
        }
        assert_eq!(data.len(), if n < 6 { 200 } else { 2 }, "page {n}");
        listed.extend(data.iter().cloned());
    }
    let ids: Vec<&str> = listed.iter().map(|r| r["id"].as_str().unwrap()).collect();
    // Newest first; the bench's requests share one second, so the last created comes first.
    assert_eq!(ids.len(), 1002);
    assert_eq!(&ids[..2], ["bench-1000", "bench-999"]);
    assert_eq!(&ids[999..], ["bench-1", "hour-old", "day-old"]);
    assert_eq!(
        sim.stats(),
        Stats {
            token_grants: 1,
            authorization_request_calls: 7,
            authorization_request_list_calls: 7,
            ..Stats::default()
        }
    );
    let one = read(&sim, &token, &format!("{AUTHORIZATION_REQUESTS}/day-old")).await;
    assert_eq!(one.status(), StatusCode::OK);
    let stats = sim.get_json("/sim/stats").await;
    assert_eq!(
        (
            &stats["authorizationRequestCalls"],
            &stats["authorizationRequestListCalls"],
            &stats["authorizationRequestReadCalls"]
        ),
        (&json!(8), &json!(7), &json!(1))
    );

    let too_many = sim
        .post_json("/sim/authorization-requests", &json!({"count": 10_001}))
        .await;
    assert_eq!(too_many.status(), StatusCode::BAD_REQUEST);
    assert_eq!(sim.authorization_requests().len(), 1002);
}

#[tokio::test]
async fn requests_are_kept_in_the_order_of_their_created_time() {
    let sim = PmCloudSim::started().await;
    let info = |created: &str| json!({"created": created}).as_object().unwrap().clone();
    sim.add_authorization_request(Some("noon".into()), info("2026-12-07T12:00:00Z"));
    sim.add_authorization_request(Some("morning".into()), info("2026-12-07 09:00:00"));
    sim.add_authorization_request(Some("not-a-time".into()), info("yesterday"));
    // 11:00 UTC, given in another zone.
    sim.add_authorization_request(Some("eleven".into()), info("2026-12-07T12:00:00+01:00"));
    let added = sim.add_authorization_requests([
        (Some("late".into()), info("2026-12-07T18:00:00.250Z")),
        (None, info("2026-12-07T18:00:00.250Z")),
    ]);
    assert_eq!(added[0]["id"], "late");
    let twin = added[1]["id"].as_str().unwrap().to_owned();
    let ids: Vec<String> = sim
        .authorization_requests()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        [
            "not-a-time",
            "morning",
            "eleven",
            "noon",
            "late",
            twin.as_str()
        ]
    );
    let token = access_token(&sim).await;
    let page: Value = read(&sim, &token, &page_of(1)).await.json().await.unwrap();
    assert_eq!(
        ids_of(&page["data"]),
        [
            twin.as_str(),
            "late",
            "noon",
            "eleven",
            "morning",
            "not-a-time"
        ]
    );
    assert_eq!(
        sim.get_json("/sim/authorization-requests").await[0]["id"],
        "not-a-time"
    );
}

/// What a stand-in for the connector's `POST /v1/pmcloud/events` received: the `Authorization` header and the body.
type Announced = (Option<String>, Value);

async fn events_receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<Announced>) {
    let (sender, received) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/v1/pmcloud/events",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
                let authorization = headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned());
                sender.send((authorization, body)).unwrap();
                async { StatusCode::ACCEPTED }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/v1/pmcloud/events",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

async fn next(received: &mut tokio::sync::mpsc::UnboundedReceiver<Announced>) -> Announced {
    tokio::time::timeout(Duration::from_secs(5), received.recv())
        .await
        .expect("the decision webhook arrives")
        .unwrap()
}

#[tokio::test]
async fn a_portal_decision_is_announced_to_the_decision_webhook() {
    let (url, mut received) = events_receiver().await;
    let config: SimConfig = serde_json::from_value(
        json!({"decisionWebhook": {"url": url, "authorization": "Bearer events-key"}}),
    )
    .unwrap();
    let sim = PmCloudSim::start(config).await.unwrap();
    sim.add_authorization_requests([
        (Some("in-portal".into()), Default::default()),
        (
            Some(sample()["itsmRequestId"].as_str().unwrap().into()),
            Default::default(),
        ),
    ]);
    let decided = sim
        .post_json(
            "/sim/authorization-requests/in-portal/decision",
            &json!({"approved": true, "by": "carol.admin", "duration": "3600"}),
        )
        .await;
    assert_eq!(decided.status(), StatusCode::OK);
    assert_eq!(
        next(&mut received).await,
        (
            Some("Bearer events-key".to_owned()),
            json!({"pmcRequestId": "in-portal", "eventType": DECISION_UPDATED})
        )
    );

    // A decision the ITSM notified is not announced; an unknown id decides nothing.
    let token = access_token(&sim).await;
    assert_eq!(
        notify(&sim, &token, &sample()).await.status(),
        StatusCode::OK
    );
    assert!(sim.decide_in_portal("nope", true, "x", "Once").is_none());

    // Set over HTTP, kept by a reset, without a header when none is given; `null` stops it.
    let answer = Client::new()
        .put(sim.url("/sim/decision-webhook"))
        .json(&json!({"url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    sim.reset();
    sim.add_authorization_request(Some("after-reset".into()), Default::default());
    sim.decide_in_portal("after-reset", false, "carol.admin", "Once")
        .unwrap();
    assert_eq!(
        next(&mut received).await,
        (
            None,
            json!({"pmcRequestId": "after-reset", "eventType": DECISION_UPDATED})
        )
    );
    sim.set_decision_webhook(None);
    sim.decide_in_portal("after-reset", true, "carol.admin", "Once")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(received.try_recv().is_err(), "nothing else was announced");

    // A webhook that gets no answer is only logged: the decision stands.
    sim.set_decision_webhook(Some(DecisionWebhook {
        url: "http://127.0.0.1:9/v1/pmcloud/events".into(),
        authorization: None,
    }));
    let record = sim
        .decide_in_portal("after-reset", true, "dave", "Once")
        .unwrap();
    assert_eq!(record["accessDecision"]["decisionPerformedByUser"], "dave");
}
