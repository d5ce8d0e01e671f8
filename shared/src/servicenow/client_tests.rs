//! Odd answers that are easier to stage with wiremock than with the simulator.

use super::*;
use crate::domain::base_url::Hosts;
use crate::domain::settings::tests::servicenow_json;
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn settings(server: &MockServer) -> ServiceNowSettings {
    ServiceNowSettings::parse(&servicenow_json(&server.uri()), Hosts::Local).unwrap()
}

fn client() -> ServiceNowClient {
    ServiceNowClient::new(crate::outbound::client::http_client_with_timeout(
        std::time::Duration::from_secs(2),
        Hosts::Local,
    ))
}

fn request_id(text: &str) -> RequestId {
    RequestId::parse(text).unwrap()
}

fn sys_id() -> SysId {
    SysId::parse(&"c".repeat(32)).unwrap()
}

fn token(access: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": access, "refresh_token": "refresh-1", "scope": "useraccount",
        "token_type": "Bearer", "expires_in": 1799
    }))
}

async fn grants(server: &MockServer, access: &str) {
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=password"))
        .respond_with(token(access))
        .mount(server)
        .await;
}

#[tokio::test]
async fn rows_that_do_not_carry_the_correlation_id_are_not_the_ticket() {
    let server = MockServer::start().await;
    grants(&server, "token-1").await;
    // As if ServiceNow had ignored the query (a misspelt field matches every row).
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .and(query_param(
            "sysparm_query",
            "correlation_id=req-1^ORDERBYsys_created_on",
        ))
        .and(header("accept", "application/json"))
        .and(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": [
            {"sys_id": "a".repeat(32), "number": "INC0000001", "correlation_id": "someone-else"},
            {"sys_id": "b".repeat(32), "number": "INC0000002", "correlation_id": ""}
        ]})))
        .mount(&server)
        .await;
    let found = client()
        .table(&settings(&server), TaskType::Incident)
        .find_by_correlation_id(&request_id("req-1"))
        .await
        .unwrap();
    assert_eq!(found, None);
}

/// The connector's row among others: one for another request, and one for this request that another user created
/// (CONTRACT §10 v3: never adopted), which sorts first.
#[tokio::test]
async fn the_matching_row_is_found_among_others() {
    let server = MockServer::start().await;
    grants(&server, "token-1").await;
    let user = settings(&server).connector_user().unwrap().to_owned();
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .and(query_param("sysparm_fields", "sys_id,number,correlation_id,sys_created_by,sys_created_on"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": [
            {"sys_id": "a".repeat(32), "number": "INC0000001", "correlation_id": "someone-else", "sys_created_by": user},
            {"sys_id": "c".repeat(32), "number": "INC0000003", "correlation_id": "req-1", "sys_created_by": "mallory"},
            {"sys_id": "b".repeat(32), "number": "INC0000002", "correlation_id": "req-1",
             "sys_created_by": user.to_uppercase()}
        ]})))
        .mount(&server)
        .await;
    let found = client()
        .table(&settings(&server), TaskType::Incident)
        .find_by_correlation_id(&request_id("req-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.number(), Some("INC0000002"));
}

#[tokio::test]
async fn a_token_answer_without_a_token_is_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .mount(&server)
        .await;
    let error = client()
        .table(&settings(&server), TaskType::Incident)
        .find_by_correlation_id(&request_id("req-1"))
        .await
        .unwrap_err();
    assert!(matches!(error, ServiceNowError::Transient(_)), "{error:?}");
}

#[tokio::test]
async fn a_created_record_without_sys_id_is_transient_so_the_retry_looks_it_up() {
    let server = MockServer::start().await;
    grants(&server, "token-1").await;
    Mock::given(method("POST"))
        .and(path("/api/now/table/incident"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"result": {"number": "INC0000009"}})),
        )
        .mount(&server)
        .await;
    let id = RequestId::random();
    let ticket = NewTicket {
        short_description: "x".into(),
        description: String::new(),
        correlation_id: &id,
        assignment_group: None,
        duration: None,
    };
    let error = client()
        .table(&settings(&server), TaskType::Incident)
        .create(&ticket)
        .await
        .unwrap_err();
    assert!(matches!(error, ServiceNowError::Transient(_)), "{error:?}");
}

#[tokio::test]
async fn a_401_is_retried_once_with_a_new_token_and_then_fails_for_good() {
    let server = MockServer::start().await;
    grants(&server, "token-1").await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(token("token-2"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(record_path())
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
            "status": "failure"
        })))
        .expect(2)
        .mount(&server)
        .await;
    let error = client()
        .table(&settings(&server), TaskType::Incident)
        .get(&sys_id(), &["sys_id"])
        .await
        .unwrap_err();
    match error {
        ServiceNowError::Permanent { code, detail, .. } => {
            assert_eq!(code, FailureCode::AuthFailed);
            assert_eq!(
                detail,
                "401 from the Table API: User Not Authenticated (Required to provide Auth information)"
            );
        }
        other => panic!("{other:?}"),
    }
}

fn record_path() -> wiremock::matchers::PathExactMatcher {
    path(format!("/api/now/table/incident/{}", "c".repeat(32)))
}

#[tokio::test]
async fn an_unknown_record_reads_as_none() {
    let server = MockServer::start().await;
    grants(&server, "token-1").await;
    Mock::given(method("GET"))
        .and(record_path())
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"message": "No Record found", "detail": "Record doesn't exist or ACL restricts the record retrieval"},
            "status": "failure"
        })))
        .mount(&server)
        .await;
    assert_eq!(
        client()
            .table(&settings(&server), TaskType::Incident)
            .get(&sys_id(), &["sys_id"])
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_long_retry_after_is_left_to_the_caller() {
    let server = MockServer::start().await;
    grants(&server, "token-1").await;
    Mock::given(method("GET"))
        .and(record_path())
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "120"))
        .expect(1)
        .mount(&server)
        .await;
    let error = client()
        .table(&settings(&server), TaskType::Incident)
        .get(&sys_id(), &["sys_id"])
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ServiceNowError::Transient(Transient {
            detail: "429 from the Table API: no body".into(),
            retry_after: Some(std::time::Duration::from_secs(120)),
            unanswered: false,
        })
    );
}

#[tokio::test]
async fn an_html_page_refusing_the_token_is_transient_not_a_verdict_on_the_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("content-type", "text/html; charset=utf-8")
                .set_body_string("<html><body>Your instance is hibernating</body></html>"),
        )
        .mount(&server)
        .await;
    let error = client()
        .table(&settings(&server), TaskType::Incident)
        .get(&sys_id(), &["sys_id"])
        .await
        .unwrap_err();
    assert!(matches!(error, ServiceNowError::Transient(_)), "{error:?}");
}

#[tokio::test]
async fn a_client_credentials_token_is_renewed_by_a_new_grant_never_by_a_refresh() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .and(body_string_contains("grant_type=client_credentials"))
        // The answer carries a refresh token anyway: it must not be used.
        .respond_with(token("token-1"))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(token("refreshed"))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(record_path())
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&server)
        .await;
    let mut value = servicenow_json(&server.uri());
    value["grantType"] = json!("client_credentials");
    let settings = ServiceNowSettings::parse(&value, Hosts::Local).unwrap();
    let error = client()
        .table(&settings, TaskType::Incident)
        .get(&sys_id(), &["sys_id"])
        .await
        .unwrap_err();
    assert!(
        matches!(error, ServiceNowError::Permanent { .. }),
        "{error:?}"
    );
}

/// CONTRACT §11: the settings check's probe carries exactly these parameters.
#[tokio::test]
async fn the_probe_asks_exactly_what_the_contract_spells() {
    let server = MockServer::start().await;
    grants(&server, "token-1").await;
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .and(query_param("sysparm_query", "correlation_id=probe-1"))
        .and(query_param(
            "sysparm_fields",
            "sys_id,number,correlation_id",
        ))
        .and(query_param("sysparm_limit", "1"))
        .and(wiremock::matchers::query_param_is_missing(
            "sysparm_exclude_reference_link",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": []})))
        .expect(1)
        .mount(&server)
        .await;
    client()
        .table(&settings(&server), TaskType::Incident)
        .probe_correlation_id("probe-1")
        .await
        .unwrap();
}
