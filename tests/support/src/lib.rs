//! Helpers for the connector's tests, kept out of the production crates: the local AWS emulator (moto) that
//! `make test` starts, sample submissions and settings, and the OpenAPI document as a test oracle ([`openapi`]).

pub mod fake_runtime;
pub mod openapi;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
};

/// The SDK configuration for the emulator named by `AWS_ENDPOINT_URL`, with throwaway credentials.
/// Panics with the fix when the emulator is not configured, so that such a test can never pass by skipping.
pub async fn emulator_config() -> SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!("AWS_ENDPOINT_URL is not set: this test needs the local AWS emulator; run it through `make test`")
    });
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("complete definition")
}

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("complete key")
}

/// A fresh requests table with the template's key schema, backlog index and stream, under a unique name.
pub async fn create_requests_table(config: &SdkConfig) -> String {
    let name = format!("requests-{}", uuid::Uuid::new_v4().simple());
    let backlog_index = GlobalSecondaryIndex::builder()
        .index_name("backlog")
        .key_schema(key("backlog", KeyType::Hash))
        .key_schema(key("backlogSince", KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::KeysOnly)
                .build(),
        )
        .build()
        .expect("complete index");
    aws_sdk_dynamodb::Client::new(config)
        .create_table()
        .table_name(&name)
        .attribute_definitions(string_attribute("pk"))
        .attribute_definitions(string_attribute("backlog"))
        .attribute_definitions(string_attribute("backlogSince"))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(backlog_index)
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .expect("complete stream"),
        )
        .send()
        .await
        .expect("the emulator creates the table");
    name
}

/// A valid submission body for `pmc_request_id`.
pub fn sample_body(pmc_request_id: &str) -> serde_json::Value {
    serde_json::json!({
        "pmcRequestId": pmc_request_id,
        "requestType": "application",
        "user": {"name": "ACME\\jdoe", "email": "jdoe@acme.example", "displayName": "Jane Doe"},
        "computer": {"hostName": "LT-0042", "os": "Windows 11 Enterprise", "domain": "acme.example"},
        "application": {
            "name": "Wireshark", "path": "C:\\Tools\\Wireshark\\Wireshark.exe",
            "publisher": "Wireshark Foundation", "version": "4.2.5",
            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        },
        "reason": {"choice": "Troubleshooting", "text": "Need to capture traffic for INC0012345"},
        "requestedDuration": {"type": "hours", "value": 4},
        "policy": {"workstyle": "Developers"}
    })
}

/// A settings secret for a ServiceNow simulator at `instance_url`, with the simulator's default OAuth client
/// and user, and the keys the tests and the `events/` fixtures use.
pub fn simulator_secret(instance_url: &str) -> String {
    serde_json::json!({
        "servicenow": {
            "instanceUrl": instance_url,
            "username": "svc.pm.connector",
            "password": "sim-password",
            "clientId": "sim-client",
            "clientSecret": "sim-client-secret",
            "taskType": "incident"
        },
        "pmcApiKeys": ["local-dev-pmc-key-not-for-production-use"],
        "webhookSecrets": ["local-dev-webhook-secret-not-for-production"]
    })
    .to_string()
}

/// `secret` (a settings secret's JSON) with a `pmCloud` block for a PM Cloud simulator at `api_url`, with the
/// simulator's default API account.
pub fn with_pm_cloud(secret: &str, api_url: &str) -> String {
    let mut settings: serde_json::Value = serde_json::from_str(secret).expect("a JSON secret");
    settings["pmCloud"] = serde_json::json!({
        "apiUrl": api_url,
        "clientId": "pmc-client",
        "clientSecret": "pmc-client-secret"
    });
    settings.to_string()
}

/// The secrets in [`simulator_secret`] and [`with_pm_cloud`], which no answer may echo.
pub const SIMULATOR_SECRETS: [&str; 4] = [
    "sim-password",
    "sim-client-secret",
    "local-dev-pmc-key-not-for-production-use",
    "pmc-client-secret",
];

/// The checks of "Validate Settings", in order (CONTRACT §11).
pub const SETTINGS_CHECKS: [&str; 5] = ["config", "connect", "oauth", "table_access", "pmcloud"];

/// Asserts the checks' names and order, that the ServiceNow ones before `failing` passed and the ones after were
/// skipped, and returns the failing check. (These settings carry no `pmCloud`: its check is ok and skipped,
/// saying so, whatever else failed.)
pub fn failing_check(report: &serde_json::Value, failing: &str) -> serde_json::Value {
    let checks = report["checks"].as_array().unwrap();
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, SETTINGS_CHECKS);
    let pmcloud = &checks[4];
    assert_eq!(
        (pmcloud["ok"].clone(), pmcloud["skipped"].clone()),
        (serde_json::json!(true), serde_json::json!(true)),
        "{pmcloud}"
    );
    assert!(
        pmcloud["detail"]
            .as_str()
            .unwrap()
            .contains("not configured")
    );
    let checks = &checks[..4];
    assert_eq!(report["valid"], false);
    let at = names.iter().position(|n| *n == failing).unwrap();
    for check in &checks[..at] {
        assert_eq!(check["ok"], true, "{check}");
    }
    let failed = checks[at].clone();
    assert_eq!(failed["ok"], false);
    assert!(
        failed["hint"].as_str().is_some_and(|h| !h.is_empty()),
        "{failed}"
    );
    for check in &checks[at + 1..] {
        assert_eq!(
            (check["ok"].clone(), check["skipped"].clone()),
            (serde_json::json!(false), serde_json::json!(true)),
            "{check}"
        );
        assert_eq!(check["detail"], format!("not tried: {failing} failed"));
    }
    failed
}
