//! The simulator seen from outside, over HTTP, the way the connector sees a ServiceNow instance.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use servicenow_sim::{
    ClientCredentials, Fault, FaultTarget, RateLimit, SimConfig, SimDecision, SimError, SimUser,
    Simulator, WebhookTarget,
};
use sha2::Sha256;
use tokio::sync::mpsc;

const TABLES: [(&str, &str); 4] = [
    ("incident", "INC0010001"),
    ("change_request", "CHG0030001"),
    ("sc_task", "SCTASK0010001"),
    ("sc_req_item", "RITM0010001"),
];

const DENIED: &str = r#"{"error_description":"access_denied","error":"server_error"}"#;

fn password_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant_type", "password"),
        ("client_id", "sim-client"),
        ("client_secret", "sim-client-secret"),
        ("username", "svc.pm.connector"),
        ("password", "sim-password"),
    ]
}

async fn grant(sim: &Simulator, form: &[(&str, &str)]) -> reqwest::Response {
    sim.post_form("/oauth_token.do", form).await
}

/// A password grant's JSON answer.
async fn tokens(sim: &Simulator) -> Value {
    let answer = grant(sim, &password_form()).await;
    assert_eq!(answer.status(), StatusCode::OK);
    answer.json().await.unwrap()
}

async fn access_token(sim: &Simulator) -> String {
    tokens(sim).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A Table API call with the headers the connector sends.
fn table_call(
    sim: &Simulator,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    Client::new()
        .request(method, format!("{}/api/now/table/{path}", sim.base_url()))
        .bearer_auth(token)
        .header("accept", "application/json")
}

async fn create(sim: &Simulator, token: &str, table: &str, body: Value) -> Value {
    let answer = table_call(sim, reqwest::Method::POST, table, token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::CREATED);
    answer.json::<Value>().await.unwrap()["result"].clone()
}

async fn get(sim: &Simulator, token: &str, path: &str) -> (StatusCode, HeaderMap, Value) {
    let answer = table_call(sim, reqwest::Method::GET, path, token)
        .send()
        .await
        .unwrap();
    let (status, headers) = (answer.status(), answer.headers().clone());
    (status, headers, answer.json().await.unwrap())
}

fn sn_error(message: &str, detail: Value) -> Value {
    json!({"error": {"message": message, "detail": detail}, "status": "failure"})
}

// --- OAuth ---

#[tokio::test]
async fn password_grant_issues_bearer_tokens() {
    let sim = Simulator::started().await;
    let answer = tokens(&sim).await;
    assert_eq!(answer["scope"], "useraccount");
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 1799);
    assert!(!answer["access_token"].as_str().unwrap().is_empty());
    assert!(!answer["refresh_token"].as_str().unwrap().is_empty());
    assert_eq!(sim.stats().password_grants, 1);
}

#[tokio::test]
async fn every_refused_password_grant_looks_the_same() {
    let sim = Simulator::started().await;
    for (field, wrong) in [
        ("client_id", "other-client"),
        ("client_secret", "wrong-secret"),
        ("username", "nobody"),
        ("password", "wrong-password"),
    ] {
        let mut form = password_form();
        form.iter_mut().find(|(name, _)| *name == field).unwrap().1 = wrong;
        let answer = grant(&sim, &form).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{field}");
        assert_eq!(answer.text().await.unwrap(), DENIED, "{field}");
    }
    let stats = sim.stats();
    assert_eq!((stats.password_grants, stats.failed_grants), (0, 4));
}

#[tokio::test]
async fn token_endpoint_takes_form_bodies_only() {
    let sim = Simulator::started().await;
    let body: serde_json::Map<String, Value> = password_form()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    let answer = Client::new()
        .post(format!("{}/oauth_token.do", sim.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let answer = grant(&sim, &[("grant_type", "client_credentials")]).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(sim.stats().failed_grants, 2);
}

#[tokio::test]
async fn refresh_gives_a_new_access_token_and_keeps_the_refresh_token() {
    let sim = Simulator::started().await;
    let first = tokens(&sim).await;
    let refresh_token = first["refresh_token"].as_str().unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", "sim-client"),
        ("client_secret", "sim-client-secret"),
        ("refresh_token", refresh_token),
    ];
    let answer = grant(&sim, &form).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let second: Value = answer.json().await.unwrap();
    assert_eq!(second["refresh_token"], refresh_token);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(second["expires_in"], 1799);
    let (status, _, _) = get(&sim, second["access_token"].as_str().unwrap(), "incident").await;
    assert_eq!(status, StatusCode::OK);

    // A refresh needs the right client too.
    let mut wrong_client = form;
    wrong_client[2].1 = "wrong-secret";
    assert_eq!(
        grant(&sim, &wrong_client).await.status(),
        StatusCode::UNAUTHORIZED
    );

    sim.revoke_refresh_tokens();
    let answer = grant(&sim, &form).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(answer.text().await.unwrap(), DENIED);
    let stats = sim.stats();
    assert_eq!(
        (
            stats.password_grants,
            stats.refresh_grants,
            stats.failed_grants
        ),
        (1, 1, 2)
    );
}

#[tokio::test]
async fn expired_or_missing_access_tokens_are_unauthenticated() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    let unauthenticated = sn_error(
        "User Not Authenticated",
        json!("Required to provide Auth information"),
    );
    assert_eq!(get(&sim, &token, "incident").await.0, StatusCode::OK);
    sim.expire_access_tokens();
    let (status, _, body) = get(&sim, &token, "incident").await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, unauthenticated.clone())
    );
    let answer = Client::new()
        .get(format!("{}/api/now/table/incident", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);

    // A token also runs out by itself after expires_in.
    let short = Simulator::start(SimConfig {
        token_lifetime_secs: 0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let answer = tokens(&short).await;
    assert_eq!(answer["expires_in"], 0);
    let (status, _, body) = get(&short, answer["access_token"].as_str().unwrap(), "incident").await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, unauthenticated));
}

fn client_credentials_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", "sim-client"),
        ("client_secret", "sim-client-secret"),
    ]
}

#[tokio::test]
async fn client_credentials_grant_acts_as_the_application_user() {
    let sim = Simulator::started().await;
    let answer = grant(&sim, &client_credentials_form()).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let answer: Value = answer.json().await.unwrap();
    let fields = answer.as_object().unwrap();
    assert!(!fields.contains_key("refresh_token"));
    assert_eq!(answer["scope"], "useraccount");
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 1799);
    let token = answer["access_token"].as_str().unwrap();
    // By default the token acts as the first configured user.
    let record = create(&sim, token, "sc_task", json!({})).await;
    assert_eq!(record["sys_created_by"], "svc.pm.connector");
    let stats = sim.stats();
    assert_eq!(
        (
            stats.client_credentials_grants,
            stats.password_grants,
            stats.failed_grants
        ),
        (1, 0, 0)
    );

    // A named application user brings its own table access.
    let sim = Simulator::start(SimConfig {
        users: vec![
            SimUser {
                username: "svc.pm.connector".into(),
                password: "sim-password".into(),
                tables: None,
            },
            SimUser {
                username: "pm.app".into(),
                password: "unused".into(),
                tables: Some(vec!["incident".into()]),
            },
        ],
        client_credentials: ClientCredentials {
            enabled: true,
            application_user: Some("pm.app".into()),
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let answer: Value = grant(&sim, &client_credentials_form())
        .await
        .json()
        .await
        .unwrap();
    let token = answer["access_token"].as_str().unwrap();
    let record = create(&sim, token, "incident", json!({})).await;
    assert_eq!(record["sys_created_by"], "pm.app");
    let (status, _, body) = get(&sim, token, "sc_task").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        sn_error(
            "User Not Authorized",
            json!("ACL restricts access to table sc_task")
        )
    );
}

#[tokio::test]
async fn refused_client_credentials_grants_look_like_every_other_refusal() {
    let sim = Simulator::started().await;
    for (field, wrong) in [
        ("client_id", "other-client"),
        ("client_secret", "wrong-secret"),
    ] {
        let mut form = client_credentials_form();
        form.iter_mut().find(|(name, _)| *name == field).unwrap().1 = wrong;
        let answer = grant(&sim, &form).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{field}");
        assert_eq!(answer.text().await.unwrap(), DENIED, "{field}");
    }
    let stats = sim.stats();
    assert_eq!(
        (stats.client_credentials_grants, stats.failed_grants),
        (0, 2)
    );

    let disabled = Simulator::start(SimConfig {
        client_credentials: ClientCredentials {
            enabled: false,
            application_user: None,
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let answer = grant(&disabled, &client_credentials_form()).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(answer.text().await.unwrap(), DENIED);
    // The password grant of the same entry still works.
    tokens(&disabled).await;

    let unknown_user = Simulator::start(SimConfig {
        client_credentials: ClientCredentials {
            enabled: true,
            application_user: Some("nobody".into()),
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let answer = grant(&unknown_user, &client_credentials_form()).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(answer.text().await.unwrap(), DENIED);
    assert_eq!(unknown_user.stats().client_credentials_grants, 0);
}

// --- Table API ---

#[tokio::test]
async fn create_answers_201_with_servicenow_fields_per_table() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    for (table, first_number) in TABLES {
        let record = create(
            &sim,
            &token,
            table,
            json!({"short_description": "Elevate Wireshark", "correlation_id": "req-1", "impact": 3, "u_flag": true, "u_none": null}),
        )
        .await;
        assert_eq!(record["number"], first_number, "{table}");
        let sys_id = record["sys_id"].as_str().unwrap();
        assert_eq!(sys_id.len(), 32);
        assert!(
            sys_id
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
        assert_eq!(record["sys_class_name"], table);
        assert_eq!(record["short_description"], "Elevate Wireshark");
        assert_eq!(record["impact"], "3");
        assert_eq!(record["u_flag"], "true");
        assert_eq!(record["u_none"], "");
        assert_eq!(record["approval"], "not requested");
        assert_eq!(record["active"], "true");
        assert_eq!(record["state"], "1");
        assert_eq!(record["sys_created_by"], "svc.pm.connector");
        assert_eq!(record["sys_updated_by"], "svc.pm.connector");
        assert_eq!(record["u_pm_duration"], "");
        let created = record["sys_created_on"].as_str().unwrap();
        assert!(chrono::NaiveDateTime::parse_from_str(created, "%Y-%m-%d %H:%M:%S").is_ok());
        assert_eq!(record["sys_updated_on"], created);
        assert!(record.as_object().unwrap().values().all(Value::is_string));
        assert_eq!(sim.ticket(table, sys_id).unwrap()["number"], first_number);
    }
    let second = create(&sim, &token, "incident", json!({"approval": "requested"})).await;
    assert_eq!(second["number"], "INC0010002");
    assert_eq!(second["approval"], "requested");
    let tickets = sim.tickets();
    assert_eq!(tickets.len(), 5);
    assert_eq!(tickets[1]["sys_class_name"], "change_request");
    assert_eq!(sim.stats().creates, 5);

    let answer = table_call(&sim, reqwest::Method::POST, "incident", &token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = answer.json().await.unwrap();
    let sys_id = body["result"]["sys_id"].as_str().unwrap();
    assert_eq!(
        location,
        format!("{}/api/now/table/incident/{sys_id}", sim.base_url())
    );
}

#[tokio::test]
async fn create_refuses_bodies_that_are_not_json_objects() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    for body in ["not json", "[1, 2]", "\"text\""] {
        let answer = table_call(&sim, reqwest::Method::POST, "incident", &token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["status"], "failure");
    }
    assert_eq!(sim.stats().creates, 0);
}

#[tokio::test]
async fn reference_fields_carry_a_link_unless_excluded() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    let group = "0123456789abcdef0123456789abcdef";
    let record = create(&sim, &token, "incident", json!({"assignment_group": group})).await;
    let link = json!({
        "link": format!("{}/api/now/table/sys_user_group/{group}", sim.base_url()),
        "value": group,
    });
    assert_eq!(record["assignment_group"], link);
    let sys_id = record["sys_id"].as_str().unwrap();
    let (_, _, body) = get(&sim, &token, &format!("incident/{sys_id}")).await;
    assert_eq!(body["result"]["assignment_group"], link);
    let (_, _, body) = get(
        &sim,
        &token,
        &format!("incident/{sys_id}?sysparm_exclude_reference_link=true"),
    )
    .await;
    assert_eq!(body["result"]["assignment_group"], group);
    let (_, _, body) = get(&sim, &token, "incident?sysparm_exclude_reference_link=true").await;
    assert_eq!(body["result"][0]["assignment_group"], group);
    // An empty reference is an empty string, not a link.
    let record = create(&sim, &token, "incident", json!({})).await;
    assert_eq!(record["assignment_group"], "");
    assert_eq!(
        sim.ticket("incident", sys_id).unwrap()["assignment_group"],
        group
    );
}

#[tokio::test]
async fn query_by_correlation_id_finds_the_ticket() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    for id in ["req-1", "req-2", "req-3"] {
        create(&sim, &token, "incident", json!({"correlation_id": id})).await;
    }
    create(&sim, &token, "sc_task", json!({"correlation_id": "req-2"})).await;
    let (status, headers, body) = get(
        &sim,
        &token,
        "incident?sysparm_query=correlation_id=req-2&sysparm_fields=sys_id,number,correlation_id&sysparm_limit=1",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-total-count"], "1");
    let rows = body["result"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["number"], "INC0010002");
    assert_eq!(rows[0]["correlation_id"], "req-2");
    assert_eq!(rows[0].as_object().unwrap().len(), 3);

    let (_, headers, body) = get(&sim, &token, "incident?sysparm_query=correlation_id=none").await;
    assert_eq!(headers["x-total-count"], "0");
    assert_eq!(body["result"], json!([]));
    // Conditions are ANDed; a record's own custom field is a known field.
    create(
        &sim,
        &token,
        "incident",
        json!({"correlation_id": "req-2", "u_site": "b"}),
    )
    .await;
    let (_, _, body) = get(
        &sim,
        &token,
        "incident?sysparm_query=correlation_id=req-2^u_site=b",
    )
    .await;
    assert_eq!(body["result"].as_array().unwrap().len(), 1);
    assert_eq!(body["result"][0]["number"], "INC0010004");
}

#[tokio::test]
async fn a_misspelt_query_field_matches_every_row() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    for id in ["req-1", "req-2"] {
        create(&sim, &token, "incident", json!({"correlation_id": id})).await;
    }
    let (status, headers, body) =
        get(&sim, &token, "incident?sysparm_query=correlaton_id=req-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-total-count"], "2");
    assert_eq!(body["result"].as_array().unwrap().len(), 2);
    // The same condition on a known field filters.
    let (_, headers, _) = get(&sim, &token, "incident?sysparm_query=correlation_id=req-1").await;
    assert_eq!(headers["x-total-count"], "1");
}

#[tokio::test]
async fn sysparm_fields_and_limit_shape_the_answer() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    for _ in 0..3 {
        create(
            &sim,
            &token,
            "change_request",
            json!({"short_description": "x"}),
        )
        .await;
    }
    let (_, headers, body) = get(
        &sim,
        &token,
        "change_request?sysparm_limit=2&sysparm_fields=number,no_such_field,u_pm_duration",
    )
    .await;
    assert_eq!(headers["x-total-count"], "3");
    assert_eq!(
        body["result"],
        json!([
            {"number": "CHG0030001", "u_pm_duration": ""},
            {"number": "CHG0030002", "u_pm_duration": ""},
        ])
    );
    let (_, _, body) = get(&sim, &token, "change_request").await;
    assert_eq!(body["result"].as_array().unwrap().len(), 3);
    let (_, _, body) = get(&sim, &token, "incident").await;
    assert_eq!(body["result"], json!([]));
}

#[tokio::test]
async fn read_by_sys_id_and_patch() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    let record = create(
        &sim,
        &token,
        "sc_req_item",
        json!({"short_description": "x"}),
    )
    .await;
    let sys_id = record["sys_id"].as_str().unwrap();
    let (status, _, body) = get(
        &sim,
        &token,
        &format!("sc_req_item/{sys_id}?sysparm_fields=number,approval"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["result"],
        json!({"number": "RITM0010001", "approval": "not requested"})
    );

    let (status, _, body) = get(&sim, &token, "sc_req_item/0123456789abcdef0123456789abcdef").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        sn_error(
            "No Record found",
            json!("Record doesn't exist or ACL restricts the record retrieval")
        )
    );
    // The record lives in its own table only.
    let (status, _, _) = get(&sim, &token, &format!("incident/{sys_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let answer = table_call(
        &sim,
        reqwest::Method::PATCH,
        &format!("sc_req_item/{sys_id}"),
        &token,
    )
    .json(&json!({"work_notes": "looked at", "priority": 2, "sys_id": "forged"}))
    .send()
    .await
    .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["result"]["work_notes"], "looked at");
    assert_eq!(body["result"]["priority"], "2");
    assert_eq!(body["result"]["sys_id"], sys_id);
    assert_eq!(body["result"]["sys_updated_by"], "svc.pm.connector");

    let answer = table_call(
        &sim,
        reqwest::Method::PATCH,
        "sc_req_item/0123456789abcdef0123456789abcdef",
        &token,
    )
    .json(&json!({}))
    .send()
    .await
    .unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_table_is_a_bad_request() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    let (status, _, body) = get(&sim, &token, "incidnet").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, sn_error("Invalid table incidnet", Value::Null));
}

#[tokio::test]
async fn tables_outside_the_users_roles_are_forbidden() {
    let sim = Simulator::start(SimConfig {
        users: vec![SimUser {
            username: "svc.pm.connector".into(),
            password: "sim-password".into(),
            tables: Some(vec!["incident".into()]),
        }],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let token = access_token(&sim).await;
    assert_eq!(get(&sim, &token, "incident").await.0, StatusCode::OK);
    let answer = table_call(&sim, reqwest::Method::POST, "sc_task", &token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        sn_error(
            "User Not Authorized",
            json!("ACL restricts access to table sc_task")
        )
    );
    assert_eq!(sim.stats().creates, 0);
}

#[tokio::test]
async fn an_accept_header_without_json_is_not_acceptable() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    let url = format!("{}/api/now/table/incident", sim.base_url());
    for (accept, status) in [
        ("application/xml", StatusCode::NOT_ACCEPTABLE),
        ("text/html, application/json;q=0.9", StatusCode::OK),
        ("*/*", StatusCode::OK),
    ] {
        let answer = Client::new()
            .get(&url)
            .bearer_auth(&token)
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "{accept}");
    }
}

/// The `number` of every row of a list answer.
fn numbers(body: &Value) -> Vec<&str> {
    body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["number"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn query_operators_compare_as_text() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    // INC0010001…INC0010004
    for (due, site) in [
        ("2025-03-01 10:00:00", "b"),
        ("2025-01-15 08:30:00", "a"),
        ("2025-03-01 09:59:59", "c"),
        ("2024-12-31 23:59:59", "a"),
    ] {
        create(
            &sim,
            &token,
            "incident",
            json!({"u_due": due, "u_site": site}),
        )
        .await;
    }
    let list = |query: &str| {
        let (sim, token) = (&sim, &token);
        let query = query.to_owned();
        async move {
            let answer = table_call(sim, reqwest::Method::GET, "incident", token)
                .query(&[("sysparm_query", query.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::OK);
            let total = answer.headers()["x-total-count"]
                .to_str()
                .unwrap()
                .to_owned();
            let body: Value = answer.json().await.unwrap();
            assert_eq!(total, body["result"].as_array().unwrap().len().to_string());
            numbers(&body).join(",")
        }
    };
    assert_eq!(list("u_site!=a").await, "INC0010001,INC0010003");
    assert_eq!(list("u_due>2025-03-01 09:59:59").await, "INC0010001");
    assert_eq!(
        list("u_due>=2025-03-01 09:59:59").await,
        "INC0010001,INC0010003"
    );
    assert_eq!(list("u_due<2025-01-15 08:30:00").await, "INC0010004");
    assert_eq!(
        list("u_due<=2025-01-15 08:30:00").await,
        "INC0010002,INC0010004"
    );
    assert_eq!(
        list("u_due>=2025-01-01 00:00:00^u_site=a").await,
        "INC0010002"
    );
    assert_eq!(
        list("number>INC0010002^number<INC0010004").await,
        "INC0010003"
    );
    // An unknown field's condition is dropped, whatever its operator.
    assert_eq!(
        list("u_sight!=a^u_due>2025-02-01 00:00:00").await,
        "INC0010001,INC0010003"
    );
}

#[tokio::test]
async fn orderby_sorts_and_offset_pages_after_counting() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    for (site, rank) in [("b", "1"), ("a", "2"), ("b", "3"), ("a", "1"), ("c", "2")] {
        create(
            &sim,
            &token,
            "incident",
            json!({"u_site": site, "u_rank": rank}),
        )
        .await;
    }
    let list = |params: Vec<(&'static str, &'static str)>| {
        let (sim, token) = (&sim, &token);
        async move {
            let answer = table_call(sim, reqwest::Method::GET, "incident", token)
                .query(&params)
                .send()
                .await
                .unwrap();
            let total: usize = answer.headers()["x-total-count"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let body: Value = answer.json().await.unwrap();
            (total, numbers(&body).join(","))
        }
    };
    let query = |q: &'static str| vec![("sysparm_query", q)];
    // Creation order without ORDERBY.
    assert_eq!(
        list(vec![]).await.1,
        "INC0010001,INC0010002,INC0010003,INC0010004,INC0010005"
    );
    // Ties keep creation order.
    assert_eq!(
        list(query("ORDERBYu_site")).await.1,
        "INC0010002,INC0010004,INC0010001,INC0010003,INC0010005"
    );
    assert_eq!(
        list(query("ORDERBYDESCnumber")).await.1,
        "INC0010005,INC0010004,INC0010003,INC0010002,INC0010001"
    );
    // Several terms apply in order: site first, then rank descending.
    assert_eq!(
        list(query("ORDERBYu_site^ORDERBYDESCu_rank")).await.1,
        "INC0010002,INC0010004,INC0010003,INC0010001,INC0010005"
    );
    // An ORDERBY on an unknown field is ignored.
    assert_eq!(
        list(query("ORDERBYDESCu_nothing")).await.1,
        "INC0010001,INC0010002,INC0010003,INC0010004,INC0010005"
    );
    // Filter, sort, then page; the total is the match count before paging.
    let page = |offset: &'static str| {
        vec![
            ("sysparm_query", "u_site!=c^ORDERBYDESCu_rank^ORDERBYnumber"),
            ("sysparm_limit", "2"),
            ("sysparm_offset", offset),
        ]
    };
    assert_eq!(list(page("0")).await, (4, "INC0010003,INC0010002".into()));
    assert_eq!(list(page("2")).await, (4, "INC0010001,INC0010004".into()));
    assert_eq!(list(page("4")).await, (4, String::new()));
}

#[tokio::test]
async fn the_ticket_link_opens_an_escaped_page_of_the_ticket() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    let record = create(
        &sim,
        &token,
        "incident",
        json!({
            "short_description": "<script>alert(\"x\")</script> & 'co'",
            "description": "Capture on host-7",
            "correlation_id": "req-page",
        }),
    )
    .await;
    let sys_id = record["sys_id"].as_str().unwrap();
    sim.update(
        "incident",
        sys_id,
        [
            ("u_pm_duration", "4 hours"),
            ("close_notes", "OK for the capture"),
            ("approval", "approved"),
        ],
    )
    .unwrap();
    let ticket = sim.ticket("incident", sys_id).unwrap();

    // The link the connector hands out encodes the inner URI; an unencoded one is read the same way.
    for uri in [
        format!("incident.do%3Fsys_id%3D{sys_id}"),
        format!("incident.do?sys_id={sys_id}"),
    ] {
        let answer = reqwest::get(format!("{}/nav_to.do?uri={uri}", sim.base_url()))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{uri}");
        assert!(
            answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let page = answer.text().await.unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"));
        for shown in [
            "INC0010001",
            "Capture on host-7",
            "req-page",
            "approved",
            "true",
            "4 hours",
            "OK for the capture",
            ticket["sys_updated_on"].as_str().unwrap(),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;",
        ] {
            assert!(page.contains(shown), "{shown} missing from {page}");
        }
        assert!(!page.contains("<script>"));
    }

    for uri in [
        "incident.do%3Fsys_id%3D0123456789abcdef0123456789abcdef".to_owned(),
        format!("sc_task.do%3Fsys_id%3D{sys_id}"),
        "incident.do".to_owned(),
    ] {
        let answer = reqwest::get(format!("{}/nav_to.do?uri={uri}", sim.base_url()))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{uri}");
        assert!(answer.text().await.unwrap().starts_with("<!DOCTYPE html>"));
    }
}

// --- Faults ---

#[tokio::test]
async fn rate_limit_fault_answers_429_with_servicenow_headers() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    sim.inject(Fault::Status {
        target: FaultTarget::TableCreate,
        status: 429,
        retry_after_secs: Some(7),
        times: 1,
    });
    // A read does not match a create fault.
    assert_eq!(get(&sim, &token, "incident").await.0, StatusCode::OK);
    let answer = table_call(&sim, reqwest::Method::POST, "incident", &token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    let headers = answer.headers();
    assert_eq!(headers["retry-after"], "7");
    assert!(headers.contains_key("x-ratelimit-limit"));
    let reset: i64 = headers["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((reset - chrono::Utc::now().timestamp() - 7).abs() <= 2);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["message"], "Rate limit exceeded");
    assert_eq!(body["status"], "failure");
    // Used up: the next create goes through.
    create(&sim, &token, "incident", json!({})).await;
    let stats = sim.stats();
    assert_eq!((stats.table_requests, stats.creates), (3, 1));
}

#[tokio::test]
async fn status_fault_applies_times_times_then_is_used_up() {
    let sim = Simulator::started().await;
    // A fault for the Table API leaves the token grant alone.
    sim.inject(Fault::status(FaultTarget::AnyTable, 503).times(2));
    let token = access_token(&sim).await;
    for _ in 0..2 {
        let (status, headers, body) = get(&sim, &token, "incident").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!headers.contains_key("retry-after"));
        assert_eq!(body["status"], "failure");
        assert!(body["error"]["message"].is_string());
    }
    assert_eq!(get(&sim, &token, "incident").await.0, StatusCode::OK);

    sim.inject(Fault::status(FaultTarget::Oauth, 500));
    assert_eq!(
        grant(&sim, &password_form()).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(grant(&sim, &password_form()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn delay_fault_slows_the_answer() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    sim.inject(Fault::delay(FaultTarget::TableRead, 300));
    let started = Instant::now();
    assert_eq!(get(&sim, &token, "incident").await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(get(&sim, &token, "incident").await.0, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn a_lost_create_response_still_stores_the_ticket() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    sim.inject(Fault::LoseCreateResponse {
        hold_millis: 2_000,
        times: 1,
    });
    let impatient = Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = impatient
        .post(format!("{}/api/now/table/incident", sim.base_url()))
        .bearer_auth(&token)
        .json(&json!({"correlation_id": "req-lost"}))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout());
    let tickets = sim.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["correlation_id"], "req-lost");
    assert_eq!(sim.stats().creates, 1);
    // The retry's look-up finds it.
    let (_, _, body) = get(
        &sim,
        &token,
        "incident?sysparm_query=correlation_id=req-lost",
    )
    .await;
    assert_eq!(body["result"][0]["number"], "INC0010001");
}

#[tokio::test]
async fn rate_limit_refuses_requests_beyond_the_limit_until_the_window_ends() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    sim.set_rate_limit(Some(RateLimit {
        limit: 2,
        window_secs: 2,
        target: FaultTarget::AnyTable,
    }));
    let window_start = Instant::now();
    assert_eq!(get(&sim, &token, "incident").await.0, StatusCode::OK);
    create(&sim, &token, "incident", json!({})).await;
    for _ in 0..2 {
        let (status, headers, body) = get(&sim, &token, "incident").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            body,
            sn_error(
                "Rate limit exceeded",
                json!("Rate limit of 2 requests per hour for Table API exceeded")
            )
        );
        let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=2).contains(&retry_after), "{retry_after}");
        assert_eq!(headers["x-ratelimit-limit"], "2");
        let reset: i64 = headers["x-ratelimit-reset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (reset - chrono::Utc::now().timestamp() - 1).abs() <= 2,
            "{reset}"
        );
    }
    // The token endpoint is not the rule's target.
    tokens(&sim).await;
    let stats = sim.stats();
    assert_eq!((stats.rate_limited, stats.table_requests), (2, 4));

    // The next window admits `limit` more: the refusals did not count.
    tokio::time::sleep(
        (window_start + Duration::from_millis(2_050)).saturating_duration_since(Instant::now()),
    )
    .await;
    assert_eq!(get(&sim, &token, "incident").await.0, StatusCode::OK);
    assert_eq!(get(&sim, &token, "incident").await.0, StatusCode::OK);
    assert_eq!(
        get(&sim, &token, "incident").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );

    sim.set_rate_limit(None);
    for _ in 0..3 {
        assert_eq!(get(&sim, &token, "incident").await.0, StatusCode::OK);
    }
    assert_eq!(sim.stats().rate_limited, 3);
}

#[tokio::test]
async fn rate_limit_over_http_and_from_the_config() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    let client = Client::new();
    let answer = client
        .put(format!("{}/sim/rate-limit", sim.base_url()))
        .json(&json!({"limit": 1, "windowSecs": 3600, "target": "tableCreate"}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    for _ in 0..3 {
        assert_eq!(get(&sim, &token, "incident").await.0, StatusCode::OK);
    }
    create(&sim, &token, "incident", json!({})).await;
    let answer = table_call(&sim, reqwest::Method::POST, "incident", &token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    let headers = answer.headers();
    let retry_after: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((3595..=3600).contains(&retry_after), "{retry_after}");
    assert_eq!(headers["x-ratelimit-limit"], "1");
    let reset: i64 = headers["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((reset - chrono::Utc::now().timestamp() - 3600).abs() <= 2);
    assert_eq!(sim.stats().creates, 1);
    let stats: Value = client
        .get(format!("{}/sim/stats", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["rateLimited"], 1);

    // A reset keeps the rule but starts a new window.
    client
        .post(format!("{}/sim/reset", sim.base_url()))
        .send()
        .await
        .unwrap();
    let token = access_token(&sim).await;
    create(&sim, &token, "incident", json!({})).await;
    let answer = table_call(&sim, reqwest::Method::POST, "incident", &token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);

    let answer = client
        .put(format!("{}/sim/rate-limit", sim.base_url()))
        .json(&Value::Null)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    create(&sim, &token, "incident", json!({})).await;

    // A rule in the config is in force from the start, here on the token endpoint.
    let config: SimConfig =
        serde_json::from_str(r#"{"rateLimit": {"limit": 1, "target": "oauth"}}"#).unwrap();
    let rule = config.rate_limit.clone().unwrap();
    assert_eq!((rule.limit, rule.window_secs), (1, 3600));
    let limited = Simulator::start(config).await.unwrap();
    tokens(&limited).await;
    let answer = grant(&limited, &password_form()).await;
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body["error"]["detail"],
        "Rate limit of 1 requests per hour for OAuth token endpoint exceeded"
    );
    let stats = limited.stats();
    assert_eq!(
        (
            stats.password_grants,
            stats.failed_grants,
            stats.rate_limited
        ),
        (1, 0, 1)
    );
}

#[tokio::test]
async fn a_late_commit_stores_the_ticket_only_after_the_delay() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    sim.inject(Fault::CommitLate {
        delay_millis: 1_500,
        times: 1,
    });
    let impatient = Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let sent = Instant::now();
    let error = impatient
        .post(format!("{}/api/now/table/incident", sim.base_url()))
        .bearer_auth(&token)
        .json(&json!({"correlation_id": "req-late"}))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout());
    // The retry's look-up, during the delay, finds nothing: unlike a lost response, nothing is stored yet.
    let (_, headers, body) = get(
        &sim,
        &token,
        "incident?sysparm_query=correlation_id=req-late",
    )
    .await;
    assert_eq!(headers["x-total-count"], "0");
    assert_eq!(body["result"], json!([]));
    assert!(sim.tickets().is_empty());
    assert_eq!(sim.stats().creates, 0);

    // Well after the delay, with room for a slow, shared machine.
    tokio::time::sleep(
        (sent + Duration::from_millis(2_300)).saturating_duration_since(Instant::now()),
    )
    .await;
    let tickets = sim.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["correlation_id"], "req-late");
    assert_eq!(sim.stats().creates, 1);

    // A patient client gets its 201 after the delay, for a record that exists by then.
    sim.inject(Fault::CommitLate {
        delay_millis: 300,
        times: 1,
    });
    let started = Instant::now();
    let record = create(
        &sim,
        &token,
        "incident",
        json!({"correlation_id": "req-slow"}),
    )
    .await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(record["number"], "INC0010002");
    let sys_id = record["sys_id"].as_str().unwrap();
    assert_eq!(
        sim.ticket("incident", sys_id).unwrap()["correlation_id"],
        "req-slow"
    );
}

#[tokio::test]
async fn a_dropped_field_is_stored_empty_and_the_create_still_succeeds() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    let answer = Client::new()
        .post(format!("{}/sim/faults", sim.base_url()))
        .json(&json!({"kind": "dropField", "field": "correlation_id", "times": 2}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    // Reads and updates leave the fault queued.
    assert_eq!(get(&sim, &token, "incident").await.0, StatusCode::OK);
    for id in ["req-1", "req-2"] {
        let record = create(
            &sim,
            &token,
            "incident",
            json!({"correlation_id": id, "short_description": "kept"}),
        )
        .await;
        assert_eq!(record["correlation_id"], "", "{id}");
        assert_eq!(record["short_description"], "kept");
        let stored = sim
            .ticket("incident", record["sys_id"].as_str().unwrap())
            .unwrap();
        assert_eq!(stored["correlation_id"], "");
        assert_eq!(stored["short_description"], "kept");
    }
    let record = create(&sim, &token, "incident", json!({"correlation_id": "req-3"})).await;
    assert_eq!(record["correlation_id"], "req-3");

    // A custom field is dropped the same way.
    sim.inject(Fault::DropField {
        field: "u_site".into(),
        times: 1,
    });
    let record = create(&sim, &token, "incident", json!({"u_site": "b"})).await;
    assert_eq!(record["u_site"], "");
    assert_eq!(sim.stats().creates, 4);
}

#[tokio::test]
async fn html_fault_answers_a_hibernating_instance_page() {
    let sim = Simulator::started().await;
    sim.inject(Fault::html(FaultTarget::Oauth, 200));
    let answer = grant(&sim, &password_form()).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = answer.text().await.unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.to_lowercase().contains("instance is hibernating"));
    let stats = sim.stats();
    assert_eq!((stats.password_grants, stats.failed_grants), (0, 0));
    let token = access_token(&sim).await;

    let answer = Client::new()
        .post(format!("{}/sim/faults", sim.base_url()))
        .json(&json!({"kind": "html", "target": "anyTable", "status": 503}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    let answer = table_call(&sim, reqwest::Method::GET, "incident", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(answer.text().await.unwrap().contains("hibernating"));
    assert_eq!(get(&sim, &token, "incident").await.0, StatusCode::OK);
}

// --- Decisions and the webhook ---

struct Received {
    headers: HeaderMap,
    body: Bytes,
}

/// A stand-in for `ticket-callback` that records what it gets and answers 200.
async fn webhook_receiver() -> (String, mpsc::UnboundedReceiver<Received>) {
    let (sender, received) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/v1/servicenow/events",
        post(move |headers: HeaderMap, body: Bytes| {
            let sender = sender.clone();
            async move {
                sender.send(Received { headers, body }).unwrap();
                r#"{"status":"approved"}"#
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/v1/servicenow/events",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

/// Send `sim`'s webhooks, signed with `secret`, to a new [`webhook_receiver`]; what it receives.
async fn watch_webhooks(sim: &Simulator, secret: &str) -> mpsc::UnboundedReceiver<Received> {
    let (url, received) = webhook_receiver().await;
    sim.set_webhook(Some(WebhookTarget {
        url,
        secret: secret.into(),
    }));
    received
}

fn expected_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn decide_updates_the_ticket_and_sends_a_signed_webhook() {
    let sim = Simulator::started().await;
    let mut received = watch_webhooks(&sim, "shared-secret").await;
    let token = access_token(&sim).await;
    let record = create(&sim, &token, "incident", json!({"approval": "requested"})).await;
    let sys_id = record["sys_id"].as_str().unwrap();

    let delivery = sim
        .decide(
            "incident",
            sys_id,
            SimDecision {
                approval: Some("approved".into()),
                duration: Some("4 hours".into()),
                notes: Some("Approved for the capture".into()),
                by: Some("alice.approver".into()),
                active: Some(false),
                send_webhook: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(delivery.status, 200);
    assert_eq!(delivery.body, r#"{"status":"approved"}"#);

    let hook = received.recv().await.unwrap();
    assert_eq!(
        hook.body,
        format!(r#"{{"table":"incident","sys_id":"{sys_id}"}}"#)
    );
    assert_eq!(hook.headers["content-type"], "application/json");
    let timestamp = hook.headers["x-webhook-timestamp"].to_str().unwrap();
    let sent_at: i64 = timestamp.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - sent_at).abs() <= 5);
    assert_eq!(
        hook.headers["x-webhook-signature"].to_str().unwrap(),
        expected_signature("shared-secret", timestamp, &hook.body)
    );

    let (_, _, body) = get(&sim, &token, &format!("incident/{sys_id}")).await;
    let ticket = &body["result"];
    assert_eq!(ticket["approval"], "approved");
    assert_eq!(ticket["u_pm_duration"], "4 hours");
    assert_eq!(ticket["u_pm_message"], "Approved for the capture");
    assert_eq!(ticket["sys_updated_by"], "alice.approver");
    assert_eq!(ticket["active"], "false");
    let updated = ticket["sys_updated_on"].as_str().unwrap();
    let updated = chrono::NaiveDateTime::parse_from_str(updated, "%Y-%m-%d %H:%M:%S")
        .unwrap()
        .and_utc();
    assert!((chrono::Utc::now() - updated).num_seconds().abs() <= 5);
}

#[tokio::test]
async fn decide_uses_the_configured_fields_and_defaults() {
    let (url, mut received) = webhook_receiver().await;
    let sim = Simulator::start(SimConfig {
        duration_field: "u_access_length".into(),
        notes_field: "comments".into(),
        webhook: Some(WebhookTarget {
            url,
            secret: "k".into(),
        }),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let token = access_token(&sim).await;
    let sys_id = create(&sim, &token, "sc_task", json!({})).await["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let decision = SimDecision {
        approval: Some("rejected".into()),
        duration: Some("P2D".into()),
        notes: Some("No".into()),
        ..SimDecision::default()
    };
    sim.decide("sc_task", &sys_id, decision).await.unwrap();
    received.recv().await.unwrap();
    let ticket = sim.ticket("sc_task", &sys_id).unwrap();
    assert_eq!(ticket["approval"], "rejected");
    assert_eq!(ticket["u_access_length"], "P2D");
    assert_eq!(ticket["comments"], "No");
    assert_eq!(ticket["sys_updated_by"], "sim.approver");
    assert_eq!(ticket["active"], "true");
}

#[tokio::test]
async fn decide_without_a_ticket_or_a_target() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    let missing = sim.decide("incident", "nope", SimDecision::default()).await;
    assert!(matches!(missing, Err(SimError::NotFound)));
    let sys_id = create(&sim, &token, "incident", json!({})).await["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let decision = SimDecision {
        active: Some(false),
        ..SimDecision::default()
    };
    let untargeted = sim.decide("incident", &sys_id, decision).await;
    assert!(matches!(untargeted, Err(SimError::NoWebhookTarget)));
    // The ticket is closed all the same.
    assert_eq!(sim.ticket("incident", &sys_id).unwrap()["active"], "false");
}

#[tokio::test]
async fn a_decision_without_a_webhook_updates_the_ticket_only() {
    let sim = Simulator::started().await;
    let mut received = watch_webhooks(&sim, "s").await;
    let token = access_token(&sim).await;
    let sys_id = create(&sim, &token, "incident", json!({})).await["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let decision = SimDecision {
        approval: Some("approved".into()),
        send_webhook: Some(false),
        ..SimDecision::default()
    };
    let silent = sim.decide("incident", &sys_id, decision).await;
    assert!(matches!(silent, Err(SimError::WebhookSuppressed)));
    assert_eq!(
        sim.ticket("incident", &sys_id).unwrap()["approval"],
        "approved"
    );

    let answer = Client::new()
        .post(format!(
            "{}/sim/tickets/incident/{sys_id}/decide",
            sim.base_url()
        ))
        .json(&json!({"approval": "rejected", "sendWebhook": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        json!({"webhook": null, "sent": false})
    );
    assert_eq!(
        sim.ticket("incident", &sys_id).unwrap()["approval"],
        "rejected"
    );

    // Only the decision that sends one arrives.
    let decision = SimDecision {
        send_webhook: Some(true),
        ..SimDecision::default()
    };
    sim.decide("incident", &sys_id, decision).await.unwrap();
    received.recv().await.unwrap();
    assert!(received.try_recv().is_err());
}

// --- Work notes ---

/// A Table API `PATCH` with the connector's headers.
async fn patch(sim: &Simulator, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let answer = table_call(sim, reqwest::Method::PATCH, path, token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (answer.status(), answer.json().await.unwrap())
}

#[tokio::test]
async fn work_notes_are_journal_entries_and_read_back_empty() {
    let sim = Simulator::started().await;
    let mut received = watch_webhooks(&sim, "s").await;
    let token = access_token(&sim).await;
    let sys_id = create(&sim, &token, "incident", json!({"approval": "requested"})).await["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(sim.work_notes("incident", &sys_id), Some(vec![]));
    let path = format!("incident/{sys_id}");

    let before = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
    let (status, body) = patch(
        &sim,
        &token,
        &path,
        json!({"approval": "approved", "work_notes": "Decided in PM Cloud by carol.admin"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["result"]["approval"], "approved");
    assert_eq!(body["result"]["sys_updated_by"], "svc.pm.connector");
    let (status, _) = patch(&sim, &token, &path, json!({"work_notes": "Second note"})).await;
    assert_eq!(status, StatusCode::OK);
    // An empty note adds no entry.
    let (status, _) = patch(&sim, &token, &path, json!({"work_notes": ""})).await;
    assert_eq!(status, StatusCode::OK);

    // A plain read gives the journal field empty; the other fields of the PATCH were applied.
    let (_, _, read) = get(&sim, &token, &path).await;
    assert_eq!(read["result"]["work_notes"], "");
    assert_eq!(read["result"]["approval"], "approved");
    let (_, _, read) = get(&sim, &token, &format!("{path}?sysparm_fields=work_notes")).await;
    assert_eq!(read["result"], json!({"work_notes": ""}));
    assert_eq!(sim.ticket("incident", &sys_id).unwrap()["work_notes"], "");

    let notes = sim.work_notes("incident", &sys_id).unwrap();
    let values: Vec<&str> = notes.iter().map(|n| n.value.as_str()).collect();
    assert_eq!(
        values,
        ["Decided in PM Cloud by carol.admin", "Second note"]
    );
    for note in &notes {
        assert_eq!(note.sys_created_by, "svc.pm.connector");
        let on = chrono::NaiveDateTime::parse_from_str(&note.sys_created_on, "%Y-%m-%d %H:%M:%S")
            .unwrap();
        assert!(before <= on && on <= chrono::Utc::now().naive_utc());
    }

    // The control route gives the same, in ServiceNow's names.
    let over_http = sim
        .get_json(&format!("/sim/tickets/incident/{sys_id}/work_notes"))
        .await;
    assert_eq!(over_http, json!(notes));
    let mut names: Vec<&String> = over_http[0].as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["sys_created_by", "sys_created_on", "value"]);
    let missing = reqwest::get(format!(
        "{}/sim/tickets/incident/nope/work_notes",
        sim.base_url()
    ))
    .await
    .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.json::<Value>().await.unwrap()["error"].is_string());
    assert_eq!(sim.work_notes("sc_task", &sys_id), None);

    // A person's note through the control API is journaled as theirs.
    sim.update(
        "incident",
        &sys_id,
        [
            ("work_notes", "Called the user"),
            ("sys_updated_by", "carol"),
        ],
    )
    .unwrap();
    let notes = sim.work_notes("incident", &sys_id).unwrap();
    assert_eq!(
        (notes[2].value.as_str(), notes[2].sys_created_by.as_str()),
        ("Called the user", "carol")
    );
    assert_eq!(sim.ticket("incident", &sys_id).unwrap()["work_notes"], "");

    // A Table API update, approval included, is not a decision: no webhook went out.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(received.try_recv().is_err());

    // A note given at creation is journaled too; reset forgets every note.
    let created = create(&sim, &token, "sc_task", json!({"work_notes": "Opened"})).await;
    let created_id = created["sys_id"].as_str().unwrap();
    let notes = sim.work_notes("sc_task", created_id).unwrap();
    assert_eq!(notes[0].value, "Opened");
    assert_eq!(notes[0].sys_created_on, created["sys_created_on"]);
    assert_eq!(sim.ticket("sc_task", created_id).unwrap()["work_notes"], "");
    sim.reset();
    assert_eq!(sim.work_notes("sc_task", created_id), None);
}

#[tokio::test]
async fn a_work_notes_fault_refuses_only_patches_with_work_notes() {
    let sim = Simulator::started().await;
    let token = access_token(&sim).await;
    let sys_id = create(&sim, &token, "incident", json!({"approval": "requested"})).await["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("incident/{sys_id}");
    let answer = sim
        .post_json(
            "/sim/faults",
            &json!({"kind": "status", "target": "workNotes", "status": 403}),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);

    // Reads, creates and PATCHes without a note pass by the fault.
    let (status, _, _) = get(&sim, &token, &path).await;
    assert_eq!(status, StatusCode::OK);
    create(&sim, &token, "incident", json!({})).await;
    let (status, _) = patch(&sim, &token, &path, json!({"short_description": "x"})).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = patch(
        &sim,
        &token,
        &path,
        json!({"approval": "approved", "work_notes": "Approved in PM Cloud"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        sn_error(
            "Operation Failed",
            json!("ACL Exception Update Failed due to security constraints")
        )
    );
    // Refused whole: nothing of it was applied.
    assert_eq!(
        sim.ticket("incident", &sys_id).unwrap()["approval"],
        "requested"
    );
    assert_eq!(sim.work_notes("incident", &sys_id), Some(vec![]));

    // Used up: the next note is written.
    let (status, _) = patch(&sim, &token, &path, json!({"work_notes": "Again"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sim.work_notes("incident", &sys_id).unwrap().len(), 1);

    // Another status is answered with the usual injected error body.
    sim.inject(Fault::status(FaultTarget::WorkNotes, 503));
    let (status, body) = patch(&sim, &token, &path, json!({"work_notes": "Later"})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"]["detail"], "Injected by servicenow-sim");
}

// --- The control API and the rest ---

#[tokio::test]
async fn control_api_drives_the_simulator_over_http() {
    let sim = Simulator::started().await;
    let (url, mut received) = webhook_receiver().await;
    let control = |path: &str| format!("{}/sim/{path}", sim.base_url());
    let client = Client::new();
    let answer = client
        .put(control("webhook"))
        .json(&json!({"url": url, "secret": "s"}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());

    let token = access_token(&sim).await;
    let sys_id = create(&sim, &token, "incident", json!({})).await["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = client
        .post(control(&format!("tickets/incident/{sys_id}/decide")))
        .json(&json!({"approval": "approved", "duration": "once", "by": "bob"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body,
        json!({"webhook": {"status": 200, "body": r#"{"status":"approved"}"#}})
    );
    let hook = received.recv().await.unwrap();
    let timestamp = hook.headers["x-webhook-timestamp"].to_str().unwrap();
    assert_eq!(
        hook.headers["x-webhook-signature"].to_str().unwrap(),
        expected_signature("s", timestamp, &hook.body)
    );
    let answer = client
        .post(control("tickets/incident/nope/decide"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);

    let tickets: Value = client
        .get(control("tickets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tickets[0]["approval"], "approved");
    assert_eq!(tickets[0]["sys_updated_by"], "bob");

    let answer = sim
        .post_json(
            "/sim/faults",
            &json!({"kind": "status", "target": "tableRead", "status": 502, "times": 1}),
        )
        .await;
    assert!(answer.status().is_success());
    assert_eq!(
        get(&sim, &token, "incident").await.0,
        StatusCode::BAD_GATEWAY
    );

    let stats: Value = client
        .get(control("stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats,
        json!({"passwordGrants": 1, "refreshGrants": 0, "failedGrants": 0, "tableRequests": 2, "creates": 1})
    );

    client.post(control("tokens/expire")).send().await.unwrap();
    assert_eq!(
        get(&sim, &token, "incident").await.0,
        StatusCode::UNAUTHORIZED
    );

    let refresh = tokens(&sim).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    client
        .post(control("refresh-tokens/revoke"))
        .send()
        .await
        .unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", "sim-client"),
        ("client_secret", "sim-client-secret"),
        ("refresh_token", refresh.as_str()),
    ];
    assert_eq!(grant(&sim, &form).await.status(), StatusCode::UNAUTHORIZED);

    sim.post_json(
        "/sim/faults",
        &json!({"kind": "delay", "target": "anyTable", "millis": 1}),
    )
    .await;
    let answer = client.post(control("reset")).send().await.unwrap();
    assert!(answer.status().is_success());
    assert!(sim.tickets().is_empty());
    let stats = sim.stats();
    assert_eq!(
        (stats.password_grants, stats.creates, stats.table_requests),
        (0, 0, 0)
    );
    let token = access_token(&sim).await;
    // Numbering starts over, and the webhook target survives a reset.
    let sys_id = create(&sim, &token, "incident", json!({})).await["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        sim.ticket("incident", &sys_id).unwrap()["number"],
        "INC0010001"
    );
    sim.decide("incident", &sys_id, SimDecision::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn tickets_are_read_and_changed_without_a_decision() {
    let sim = Simulator::started().await;
    let mut received = watch_webhooks(&sim, "s").await;
    let token = access_token(&sim).await;
    let record = create(&sim, &token, "incident", json!({"approval": "requested"})).await;
    let sys_id = record["sys_id"].as_str().unwrap();
    let client = Client::new();
    let ticket_url = format!("{}/sim/tickets/incident/{sys_id}", sim.base_url());

    let answer = client.get(&ticket_url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let stored: Value = answer.json().await.unwrap();
    assert_eq!(stored, sim.ticket("incident", sys_id).unwrap());
    assert_eq!(stored["approval"], "requested");

    // sys_updated_on has whole seconds: let one pass so that the change shows.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let updated = sim
        .update(
            "incident",
            sys_id,
            [
                ("approval", "approved"),
                ("u_pm_duration", "2 hours"),
                ("sys_id", "forged"),
            ],
        )
        .unwrap();
    assert_eq!(updated["approval"], "approved");
    assert_eq!(updated["u_pm_duration"], "2 hours");
    assert_eq!(updated["sys_id"], sys_id);
    assert_eq!(updated["sys_updated_by"], "sim.admin");
    let (created, changed) = (
        updated["sys_created_on"].as_str().unwrap(),
        updated["sys_updated_on"].as_str().unwrap(),
    );
    assert!(changed > created, "{changed} after {created}");
    assert_eq!(sim.ticket("incident", sys_id).unwrap(), updated);

    let answer = client
        .patch(&ticket_url)
        .json(
            &json!({"close_notes": "Closed by hand", "active": "false", "sys_updated_by": "carol"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["close_notes"], "Closed by hand");
    assert_eq!(body["active"], "false");
    assert_eq!(body["sys_updated_by"], "carol");
    assert_eq!(body["approval"], "approved");
    let (_, _, read) = get(&sim, &token, &format!("incident/{sys_id}")).await;
    assert_eq!(read["result"]["close_notes"], "Closed by hand");

    // No change is a decision: no webhook went out.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(received.try_recv().is_err());

    let missing = format!("{}/sim/tickets/incident/nope", sim.base_url());
    assert_eq!(
        client.get(&missing).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let answer = client
        .patch(&missing)
        .json(&json!({"approval": "approved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert!(matches!(
        sim.update("incident", "nope", [("approval", "approved")]),
        Err(SimError::NotFound)
    ));
    // A record lives in its own table only.
    assert!(sim.update("sc_task", sys_id, [("a", "b")]).is_err());
}

#[tokio::test]
async fn whoami_names_the_process_that_answers() {
    let before = chrono::Utc::now();
    let sim = Simulator::started().await;
    let answer = sim.get_json("/sim/whoami").await;
    assert_eq!(answer["name"], "servicenow-sim");
    assert_eq!(answer["pid"], std::process::id());
    let started = chrono::DateTime::parse_from_rfc3339(answer["startedAt"].as_str().unwrap())
        .unwrap()
        .to_utc();
    assert!(started >= before && started <= chrono::Utc::now());
    let me = sim.whoami();
    assert_eq!(
        (me.name.as_str(), me.pid, me.started_at),
        ("servicenow-sim", std::process::id(), started)
    );
    // Another simulator in the same process started later.
    let other = Simulator::started().await;
    assert!(other.whoami().started_at >= started);
}

#[tokio::test]
async fn new_counters_show_in_the_stats_once_used() {
    let sim = Simulator::started().await;
    let answer = grant(&sim, &client_credentials_form()).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let stats: Value = reqwest::get(format!("{}/sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats,
        json!({"passwordGrants": 0, "refreshGrants": 0, "failedGrants": 0, "tableRequests": 0, "creates": 0,
               "clientCredentialsGrants": 1})
    );
}

#[test]
fn config_json_is_camel_case_with_defaults() {
    let config: SimConfig = serde_json::from_str(
        r#"{"clientId": "c", "users": [{"username": "u", "password": "p", "tables": ["incident"]}],
            "webhook": {"url": "http://127.0.0.1:9000/x", "secret": "s"}, "tokenLifetimeSecs": 60}"#,
    )
    .unwrap();
    assert_eq!(config.client_id, "c");
    assert_eq!(config.client_secret, "sim-client-secret");
    assert_eq!(config.users[0].tables, Some(vec!["incident".to_owned()]));
    assert_eq!(config.token_lifetime_secs, 60);
    assert_eq!(config.duration_field, "u_pm_duration");
    assert_eq!(config.webhook.unwrap().secret, "s");
    let decision: SimDecision =
        serde_json::from_str(r#"{"approval": "approved", "active": false}"#).unwrap();
    assert_eq!(decision.active, Some(false));
    assert_eq!(decision.by, None);
}

#[test]
fn new_config_and_decision_json() {
    let config: SimConfig = serde_json::from_str(
        r#"{"clientCredentials": {"applicationUser": "pm.app"},
            "rateLimit": {"limit": 5, "windowSecs": 60, "target": "tableRead"}}"#,
    )
    .unwrap();
    assert!(config.client_credentials.enabled);
    assert_eq!(
        config.client_credentials.application_user.as_deref(),
        Some("pm.app")
    );
    assert_eq!(
        config.rate_limit,
        Some(RateLimit {
            limit: 5,
            window_secs: 60,
            target: FaultTarget::TableRead
        })
    );
    let config: SimConfig =
        serde_json::from_str(r#"{"clientCredentials": {"enabled": false}}"#).unwrap();
    assert!(!config.client_credentials.enabled);
    assert_eq!(config.client_credentials.application_user, None);
    let config: SimConfig = serde_json::from_str("{}").unwrap();
    assert!(config.client_credentials.enabled);
    assert_eq!(config.rate_limit, None);

    let decision: SimDecision = serde_json::from_str(r#"{"sendWebhook": false}"#).unwrap();
    assert_eq!(decision.send_webhook, Some(false));
    let decision: SimDecision = serde_json::from_str("{}").unwrap();
    assert_eq!(decision.send_webhook, None);
}
