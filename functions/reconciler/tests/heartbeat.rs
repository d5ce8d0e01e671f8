//! The built reconciler, run as Lambda runs it, writes its heartbeat as a metric line after every run (CONTRACT §13
//! v3: the template alarms when it is missing for 15 minutes), even a run that met a problem. Needs the AWS
//! emulator (`make test` starts it).

use serde_json::Value;
use servicenow_sim::{Fault, FaultTarget, SimConfig, Simulator};
use std::time::Duration;
use test_support::fake_runtime::FakeRuntime;
use test_support::{create_requests_table, emulator_config, simulator_secret};

fn schedule_event() -> Value {
    let path = format!(
        "{}/../../events/reconciler/schedule.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn every_run_writes_its_heartbeat_even_one_that_met_a_problem() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    // ServiceNow is down for the first run: it still finishes, and still beats.
    sim.inject(Fault::Status {
        target: FaultTarget::AnyTable,
        status: 503,
        retry_after_secs: None,
        times: 1,
    });
    let aws = emulator_config().await;
    let table = create_requests_table(&aws).await;
    let secret_id = format!("heartbeat-{}", uuid::Uuid::new_v4().simple());
    aws_sdk_secretsmanager::Client::new(&aws)
        .create_secret()
        .name(&secret_id)
        .secret_string(simulator_secret(&sim.base_url()))
        .send()
        .await
        .unwrap();

    let runtime = FakeRuntime::start(vec![schedule_event(), schedule_event()]).await;
    let ran = runtime
        .run_function(
            env!("CARGO_BIN_EXE_reconciler"),
            &[
                ("AWS_LAMBDA_FUNCTION_NAME", "reconciler"),
                ("TABLE_NAME", &table),
                ("SETTINGS_SECRET_ID", &secret_id),
                ("ALLOW_LOCAL_URLS", "true"),
            ],
            2,
            Duration::from_secs(60),
        )
        .await;

    assert_eq!(ran.answers.len(), 2, "{}", ran.stderr);
    let problems = &ran.answers[0].0["problems"];
    assert!(
        problems.as_array().is_some_and(|p| !p.is_empty()),
        "the first run met the outage: {problems}"
    );
    let beats: Vec<Value> = ran
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("ReconcilerHeartbeat").is_some())
        .collect();
    assert_eq!(beats.len(), 2, "one heartbeat a run:\n{}", ran.stdout);
    for beat in &beats {
        assert_eq!(beat["ReconcilerHeartbeat"], 1);
        assert_eq!(beat["Function"], "reconciler");
    }
}
