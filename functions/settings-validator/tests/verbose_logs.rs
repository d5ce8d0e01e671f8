//! The built function, run as Lambda runs it at the most verbose log level, logs no secret: not the caller's
//! key, not a candidate's password or client secret, not the stored ones (CONTRACT §4; issue: the Lambda runtime
//! crate logs whole events at TRACE). A refused caller is logged with its address and route, never its key.
//! Needs the AWS emulator (`make test` starts it).

use serde_json::{Value, json};
use servicenow_sim::{SimConfig, Simulator};
use std::time::Duration;
use test_support::fake_runtime::FakeRuntime;
use test_support::{emulator_config, simulator_secret};

const CANDIDATE_PASSWORD: &str = "candidate-PASSWORD-must-not-be-logged";
const CANDIDATE_CLIENT_SECRET: &str = "candidate-CLIENT-SECRET-must-not-be-logged";
const WRONG_KEY: &str = "wrong-KEY-presented-by-a-stranger-000000";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../events/settings-validator/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn at_trace_level_no_secret_reaches_the_logs() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let stored = simulator_secret(&sim.base_url());
    let stored_json: Value = serde_json::from_str(&stored).unwrap();
    let key = stored_json["pmcApiKeys"][0].as_str().unwrap().to_owned();

    let secret_id = format!("verbose-logs-{}", uuid::Uuid::new_v4().simple());
    aws_sdk_secretsmanager::Client::new(&emulator_config().await)
        .create_secret()
        .name(&secret_id)
        .secret_string(&stored)
        .send()
        .await
        .unwrap();

    let mut candidate = fixture("validate-candidate.json");
    candidate["body"] = json!(
        json!({"servicenow": {
            "instanceUrl": sim.base_url(), "username": "svc.pm.connector", "password": CANDIDATE_PASSWORD,
            "clientId": "sim-client", "clientSecret": CANDIDATE_CLIENT_SECRET, "taskType": "incident"
        }})
        .to_string()
    );
    let mut stranger = fixture("validate-stored.json");
    stranger["headers"]["authorization"] = json!(format!("Bearer {WRONG_KEY}"));
    let runtime = FakeRuntime::start(vec![candidate, stranger]).await;

    let ran = runtime
        .run_function(
            env!("CARGO_BIN_EXE_settings-validator"),
            &[
                ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
                ("RUST_LOG", "trace"),
                ("AWS_LAMBDA_FUNCTION_NAME", "settings-validator"),
                ("TABLE_NAME", "unused"),
                ("SETTINGS_SECRET_ID", &secret_id),
                ("ALLOW_LOCAL_URLS", "true"),
            ],
            2,
            Duration::from_secs(30),
        )
        .await;
    let (answers, logs) = (ran.answers, format!("{}{}", ran.stdout, ran.stderr));

    assert_eq!(answers[0].0["statusCode"], 200, "{:?}", answers[0]);
    assert_eq!(answers[1].0["statusCode"], 401, "{:?}", answers[1]);
    assert!(logs.contains("DEBUG"), "the level was verbose: {logs}");
    for secret in [
        key.as_str(),
        WRONG_KEY,
        CANDIDATE_PASSWORD,
        CANDIDATE_CLIENT_SECRET,
        "sim-password",
        "sim-client-secret",
        "local-dev-webhook-secret-not-for-production",
    ] {
        assert!(!logs.contains(secret), "{secret} logged:\n{logs}");
    }
    let refusal = logs
        .lines()
        .find(|line| line.contains("authentication refused"))
        .unwrap_or_else(|| panic!("the refusal is logged:\n{logs}"));
    assert!(
        refusal.contains("203.0.113.10") && refusal.contains("ANY /v1/settings/validate"),
        "{refusal}"
    );
}
