//! A remote answer that echoes what the connector sent never carries a secret into a stored detail or a check
//! report (CONTRACT §4). Staged with wiremock: neither simulator echoes credentials.

use crate::domain::base_url::Hosts;
use crate::domain::redact::REDACTED;
use crate::domain::request::Submission;
use crate::domain::settings::tests::{HOOK_SECRET, PMC_KEY_1, secret_json};
use crate::outbound::client::http_client_with_timeout;
use crate::pmcloud::PmCloudClient;
use crate::rules::request_intake::{RequestIntake, Submitted};
use crate::rules::settings_validator::{SettingsValidator, Subject};
use crate::rules::ticket_creator::{Processed, TicketCreator};
use crate::secrets::StaticSettings;
use crate::servicenow::ServiceNowClient;
use crate::store::MemoryStore;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// What `secret_json` holds and what the instance below hands out, all of which it then echoes.
const ECHOED: [&str; 5] = [
    "pw-SECRET",
    "client-SECRET",
    "token-ECHOED-1",
    PMC_KEY_1,
    HOOK_SECRET,
];

fn servicenow() -> ServiceNowClient {
    ServiceNowClient::new(http_client_with_timeout(
        Duration::from_secs(2),
        Hosts::Local,
    ))
}

fn echo_of_everything() -> String {
    format!("you sent {}", ECHOED.join(" and "))
}

/// No secret of `secrets` is in `text`, and something was redacted.
fn assert_redacted_of(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains(REDACTED), "{text}");
}

fn assert_redacted(text: &str) {
    assert_redacted_of(text, &ECHOED);
}

#[tokio::test]
async fn a_failure_detail_quoting_an_echo_is_stored_without_the_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "token-ECHOED-1", "token_type": "Bearer", "expires_in": 1799
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"message": echo_of_everything(), "detail": echo_of_everything()}, "status": "failure"
        })))
        .mount(&server)
        .await;
    let store = Arc::new(MemoryStore::new());
    let submission = Submission::parse(
        test_support::sample_body("pmc-echo")
            .as_object()
            .expect("an object"),
        false,
    )
    .expect("a valid submission");
    let Ok(Submitted::Created(record)) = RequestIntake::new(Arc::clone(&store))
        .submit(submission)
        .await
    else {
        panic!("created")
    };
    let creator = TicketCreator::new(
        Arc::clone(&store),
        StaticSettings::new(secret_json(&server.uri())),
        servicenow(),
        crate::pmcloud::PmCloudClient::new(http_client_with_timeout(
            Duration::from_secs(2),
            Hosts::Local,
        )),
    );
    let Ok(Processed::Failed(failure)) = creator.process(&record.id).await else {
        panic!("a 400 fails the request")
    };
    assert_redacted(&failure.detail);
    let stored = crate::store::RequestStore::get(&*store, &record.id)
        .await
        .unwrap()
        .unwrap();
    assert_redacted(&serde_json::to_string(&stored.resource()).unwrap());
}

#[tokio::test]
async fn a_check_detail_quoting_an_echo_is_answered_without_the_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "access_denied", "error_description": echo_of_everything()
        })))
        .mount(&server)
        .await;
    let validator = SettingsValidator::new(
        servicenow(),
        PmCloudClient::new(http_client_with_timeout(
            Duration::from_secs(2),
            Hosts::Local,
        )),
    );
    let report = validator
        .validate(Subject::Stored, &secret_json(&server.uri()), Hosts::Local)
        .await;
    let oauth = &report.checks[2];
    assert_eq!((oauth.name, oauth.ok), ("oauth", false));
    // No token was granted: the settings' own secrets are what must not come back.
    let settings_secrets = [ECHOED[0], ECHOED[1], ECHOED[3], ECHOED[4]];
    assert_redacted_of(&serde_json::to_string(&report).unwrap(), &settings_secrets);
}
