//! `settings-validator`'s handler: who may ask (the caller's key, checked before anything is read uncached), what
//! may be asked (method, body), and the report in a `200` answer that echoes no secret. The checks themselves are
//! tested beside the rules (`shared/src/rules/settings_validator/tests.rs`).

use super::*;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;
use shared::domain::base_url::Hosts;
use shared::http::lambda::api_request_from_json;
use shared::outbound::client::http_client_with_timeout;
use shared::pmcloud::PmCloudClient;
use shared::secrets::StaticSettings;
use shared::servicenow::ServiceNowClient;
use std::time::Duration;
use test_support::{SIMULATOR_SECRETS, failing_check, simulator_secret};

// The setup below is `pub(super)` because `openapi_tests.rs` builds its validators and requests with it.

/// A validator over any settings source (the OpenAPI tests also need one whose secret cannot be read).
pub(super) fn validator_of<C: SettingsSource>(settings: C) -> Validator<C> {
    let http = http_client_with_timeout(Duration::from_millis(800), Hosts::Local);
    let rules = SettingsValidator::new(
        ServiceNowClient::new(http.clone()),
        PmCloudClient::new(http),
    );
    Validator::new(rules, settings)
}

pub(super) fn validator(secret: String) -> Validator<StaticSettings> {
    validator_of(StaticSettings::new(secret))
}

pub(super) fn fixture(name: &str) -> ApiRequest {
    let path = format!(
        "{}/../../events/settings-validator/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    api_request_from_json(&std::fs::read_to_string(path).unwrap())
}

/// The report, after checking that it echoes no secret.
async fn report(validator: &Validator<StaticSettings>, request: ApiRequest) -> Value {
    report_in(&handle(validator, request).await)
}

/// The report in a 200 answer, after checking that it echoes no secret.
pub(super) fn report_in(response: &ApiResponse) -> Value {
    assert_eq!(response.status(), StatusCode::OK, "{}", response.body());
    for secret in SIMULATOR_SECRETS {
        assert!(
            !response.body().contains(secret),
            "{secret} echoed in {}",
            response.body()
        );
    }
    serde_json::from_str(response.body()).unwrap()
}

#[tokio::test]
async fn invalid_stored_settings_are_reported_not_refused() {
    let secret = simulator_secret("https://acme.service-now.com").replace(
        "\"webhookSecrets\":[\"local-dev-webhook-secret-not-for-production\"]",
        "\"webhookSecrets\":[]",
    );
    let failed = failing_check(
        &report(&validator(secret), fixture("validate-stored.json")).await,
        "config",
    );
    assert!(
        failed["detail"]
            .as_str()
            .unwrap()
            .contains("webhookSecrets"),
        "{failed}"
    );
}

#[tokio::test]
async fn callers_without_a_valid_key_get_401() {
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    for value in [None, Some("Bearer nope")] {
        let mut request = fixture("validate-stored.json");
        request.headers_mut().remove(AUTHORIZATION);
        if let Some(value) = value {
            request
                .headers_mut()
                .insert(AUTHORIZATION, value.parse().unwrap());
        }
        assert_eq!(
            handle(&validator, request).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn bad_bodies_and_methods_are_refused() {
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    let mut text = fixture("validate-candidate.json");
    text.headers_mut()
        .insert(CONTENT_TYPE, "text/plain".parse().unwrap());
    assert_eq!(
        handle(&validator, text).await.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let mut malformed = fixture("validate-candidate.json");
    *malformed.body_mut() = b"{\"servicenow\":".to_vec();
    assert_eq!(
        handle(&validator, malformed).await.status(),
        StatusCode::BAD_REQUEST
    );
    let mut get = fixture("validate-stored.json");
    *get.method_mut() = http::Method::GET;
    let response = handle(&validator, get).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[http::header::ALLOW], "POST");
}

#[tokio::test]
async fn the_template_placeholder_key_lets_no_one_in_and_the_answer_names_the_field() {
    let placeholder = "REPLACE-ME-WITH-A-LONG-RANDOM-KEY-OF-YOUR-OWN";
    let secret = simulator_secret("http://127.0.0.1:9")
        .replace("local-dev-pmc-key-not-for-production-use", placeholder);
    let mut request = fixture("validate-stored.json");
    request.headers_mut().insert(
        AUTHORIZATION,
        format!("Bearer {placeholder}").parse().unwrap(),
    );
    let response = handle(&validator(secret), request).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let problem: Value = serde_json::from_str(response.body()).unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("pmcApiKeys[0] is still the template's placeholder"),
        "{problem}"
    );
    assert!(!response.body().contains(placeholder), "{problem}");
}

/// The 503 names what actually keeps every caller out: a key with white space at either end, or a secret that is
/// not JSON at all.
#[tokio::test]
async fn the_answer_names_why_no_key_lets_anyone_in() {
    let key = "local-dev-pmc-key-not-for-production-use";
    let padded = simulator_secret("http://127.0.0.1:9").replace(key, &format!(" {key}"));
    for (secret, named) in [
        (
            padded,
            "pmcApiKeys[0] must not begin or end with white space",
        ),
        ("not json".to_owned(), "(secret) is not valid JSON"),
    ] {
        let response = handle(&validator(secret), fixture("validate-stored.json")).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.body().contains(named), "{}", response.body());
        assert!(!response.body().contains(key), "{}", response.body());
    }
}

#[tokio::test]
async fn a_valid_key_beside_a_short_one_lets_the_caller_see_what_is_wrong() {
    let secret = simulator_secret("http://127.0.0.1:9").replace(
        "\"pmcApiKeys\":[\"local-dev-pmc-key-not-for-production-use\"]",
        "\"pmcApiKeys\":[\"local-dev-pmc-key-not-for-production-use\",\"short\"]",
    );
    let failed = failing_check(
        &report(&validator(secret), fixture("validate-stored.json")).await,
        "config",
    );
    let detail = failed["detail"].as_str().unwrap();
    assert!(
        detail.contains("pmcApiKeys[1]") && detail.contains("32 characters"),
        "{failed}"
    );
    assert!(!detail.contains("short\""), "{failed}");
}

/// Counts uncached reads of the secret.
struct CountingSettings {
    inner: StaticSettings,
    raw_reads: std::sync::atomic::AtomicUsize,
}

impl SettingsSource for CountingSettings {
    async fn settings(
        &self,
    ) -> Result<std::sync::Arc<shared::domain::settings::Settings>, shared::secrets::SettingsError>
    {
        self.inner.settings().await
    }
    async fn caller_keys(
        &self,
    ) -> Result<std::sync::Arc<[secrecy::SecretString]>, shared::secrets::SettingsError> {
        self.inner.caller_keys().await
    }
    async fn raw(&self) -> Result<String, shared::secrets::SettingsError> {
        self.raw_reads
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.raw().await
    }
    fn hosts(&self) -> Hosts {
        self.inner.hosts()
    }
}

#[tokio::test]
async fn an_unauthenticated_call_costs_no_uncached_read_of_the_secret() {
    let validator = validator_of(CountingSettings {
        inner: StaticSettings::new(simulator_secret("http://127.0.0.1:9")),
        raw_reads: Default::default(),
    });
    let mut request = fixture("validate-stored.json");
    request
        .headers_mut()
        .insert(AUTHORIZATION, "Bearer nope".parse().unwrap());
    assert_eq!(
        handle(&validator, request).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let reads = || {
        validator
            .settings
            .raw_reads
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    assert_eq!(reads(), 0);
    handle(&validator, fixture("validate-stored.json")).await;
    assert_eq!(
        reads(),
        1,
        "an authenticated call reads the secret as it is now"
    );
}
