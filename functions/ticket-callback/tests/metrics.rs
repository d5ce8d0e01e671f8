//! The built function, run as Lambda runs it, writes the decision it records as a metric line (CloudWatch's
//! Embedded Metric Format on standard output, CONTRACT §13) after the invocation: an HTTP function's metrics
//! reach CloudWatch as the stream functions' do. Needs the AWS emulator (`make test` starts it).

use secrecy::SecretString;
use serde_json::{Value, json};
use servicenow_sim::{SimConfig, SimDecision, Simulator};
use shared::domain::base_url::Hosts;
use shared::domain::record::RequestRecord;
use shared::domain::request::Submission;
use shared::http::auth::{SIGNATURE_HEADER, TIMESTAMP_HEADER, webhook_signature};
use shared::outbound::client::http_client_with_timeout;
use shared::pmcloud::PmCloudClient;
use shared::rules::ticket_creator::TicketCreator;
use shared::secrets::StaticSettings;
use shared::servicenow::ServiceNowClient;
use shared::store::{DynamoStore, RequestStore};
use std::sync::Arc;
use std::time::Duration;
use test_support::fake_runtime::FakeRuntime;
use test_support::{create_requests_table, emulator_config, sample_body, simulator_secret};

const WEBHOOK_SECRET: &str = "local-dev-webhook-secret-not-for-production";

/// The fixture event for ServiceNow's webhook with `body`, signed now with the simulator's webhook secret.
fn signed_event(body: &Value) -> Value {
    let path = format!(
        "{}/../../events/ticket-callback/servicenow-event.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let body = body.to_string();
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = webhook_signature(
        &SecretString::from(WEBHOOK_SECRET),
        &timestamp,
        body.as_bytes(),
    );
    event["headers"][TIMESTAMP_HEADER] = json!(timestamp);
    event["headers"][SIGNATURE_HEADER] = json!(signature);
    event["body"] = json!(body);
    event
}

/// The Embedded Metric Format lines in `stdout`.
fn metric_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("_aws").is_some())
        .collect()
}

#[tokio::test]
async fn a_recorded_decision_is_written_as_a_metric_line() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let secret = simulator_secret(&sim.base_url());
    let aws = emulator_config().await;
    let table = create_requests_table(&aws).await;
    let secret_id = format!("metrics-{}", uuid::Uuid::new_v4().simple());
    aws_sdk_secretsmanager::Client::new(&aws)
        .create_secret()
        .name(&secret_id)
        .secret_string(&secret)
        .send()
        .await
        .unwrap();

    // A request ticket-creator has ticketed, then approved in ServiceNow.
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        &table,
    ));
    let body = sample_body("pmc-metrics");
    let submission = Submission::parse(body.as_object().unwrap(), false).unwrap();
    let id = store
        .request_id_for(&submission.request.pmc_request_id)
        .await
        .unwrap();
    let record = RequestRecord::new(submission, id, shared::domain::time::now());
    store.create(&record).await.unwrap();
    let http = http_client_with_timeout(Duration::from_secs(2), Hosts::Local);
    let servicenow = ServiceNowClient::new(http.clone());
    TicketCreator::new(
        Arc::clone(&store),
        StaticSettings::new(secret),
        servicenow,
        PmCloudClient::new(http),
    )
    .process(&record.id)
    .await
    .unwrap();
    let ticket = store
        .get(&record.id)
        .await
        .unwrap()
        .unwrap()
        .ticket
        .unwrap();
    let decision = SimDecision {
        approval: Some("approved".into()),
        duration: Some("4 hours".into()),
        notes: None,
        by: Some("alice.approver".into()),
        active: None,
        send_webhook: None,
    };
    let _no_webhook_target = sim
        .decide("incident", ticket.sys_id.as_str(), decision)
        .await;

    let event = signed_event(&json!({"table": "incident", "sys_id": ticket.sys_id.as_str()}));
    let runtime = FakeRuntime::start(vec![event]).await;
    let ran = runtime
        .run_function(
            env!("CARGO_BIN_EXE_ticket-callback"),
            &[
                ("AWS_LAMBDA_FUNCTION_NAME", "ticket-callback"),
                ("TABLE_NAME", &table),
                ("SETTINGS_SECRET_ID", &secret_id),
                ("ALLOW_LOCAL_URLS", "true"),
            ],
            1,
            Duration::from_secs(30),
        )
        .await;

    assert_eq!(
        ran.answers[0].0["statusCode"], 200,
        "{:?}\n{}",
        ran.answers, ran.stderr
    );
    let lines = metric_lines(&ran.stdout);
    let recorded = lines
        .iter()
        .find(|line| line.get("DecisionsRecorded").is_some())
        .unwrap_or_else(|| panic!("no DecisionsRecorded metric line in:\n{}", ran.stdout));
    assert_eq!(recorded["DecisionsRecorded"], 1);
    assert_eq!(recorded["Function"], "ticket-callback");
    assert_eq!(
        recorded["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        shared::runtime::METRICS_NAMESPACE
    );
}
