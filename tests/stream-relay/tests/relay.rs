//! The relay end to end, in-process: moto's DynamoDB stream in, a scripted stand-in for
//! `cargo lambda watch` out. Uses the moto at AWS_ENDPOINT_URL when set (as `make test` does),
//! otherwise starts one from the project's venv and stops it when the test ends, pass or fail.

use aws_config::{BehaviorVersion, Region};
use aws_lambda_events::event::dynamodb::Event;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use axum::{Json, Router, extract::State, routing::post};
use serde_json::{Value, json};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use stream_relay::{Config, filter::Pattern, run};

const INVOKE_PATH: &str = "/2015-03-31/functions/ticket-creator/invocations";
const TEMPLATE_PATTERN: &str = r#"{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"kind": {"S": ["request"]}, "status": {"S": ["pending"]}}}}"#;

/// The emulator in use; kills the one this test started when dropped, also on panic.
struct Moto {
    endpoint: String,
    child: Option<Child>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn moto() -> Moto {
    if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
        return Moto {
            endpoint,
            child: None,
        };
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let server = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.venv/bin/moto_server");
    let child = Command::new(server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {server} (run scripts/bootstrap.sh): {err}"));
    let mut moto = Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        child: Some(child),
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(child) = moto.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            panic!("moto exited early: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "moto did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}

/// Every event the stand-in received; it fails the first delivery of `FAIL_ONCE` by sequence number.
#[derive(Clone, Default)]
struct Function {
    events: Arc<Mutex<Vec<Value>>>,
}

const FAIL_ONCE: &str = "req-match";

fn records_for(event: &Value, pk: &str) -> Vec<Value> {
    event["Records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|record| record["dynamodb"]["Keys"]["pk"]["S"] == pk)
        .cloned()
        .collect()
}

async fn invoke(State(function): State<Function>, Json(event): Json<Value>) -> Json<Value> {
    let mut events = function.events.lock().expect("lock");
    let first_time = events
        .iter()
        .all(|seen| records_for(seen, FAIL_ONCE).is_empty());
    let failures: Vec<Value> = records_for(&event, FAIL_ONCE)
        .iter()
        .filter(|_| first_time)
        .map(|record| json!({"itemIdentifier": record["dynamodb"]["SequenceNumber"]}))
        .collect();
    events.push(event);
    Json(json!({ "batchItemFailures": failures }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_filtered_records_and_redelivers_reported_failures() {
    let moto = moto();
    let aws = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&moto.endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    let table = format!("stream-relay-test-{nanos}");
    let created = dynamodb
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .expect("stream"),
        )
        .send()
        .await
        .expect("create table");
    let stream_arn = created
        .table_description()
        .and_then(|t| t.latest_stream_arn())
        .expect("the table has a stream")
        .to_owned();

    let function = Function::default();
    let app = Router::new()
        .route(INVOKE_PATH, post(invoke))
        .with_state(function.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let invoke_url = format!(
        "http://{}{INVOKE_PATH}",
        listener.local_addr().expect("addr")
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let failures_file = std::env::temp_dir().join(format!("stream-relay-test-{nanos}.jsonl"));
    let config = Config {
        table: table.clone(),
        invoke_url,
        filters: vec![Pattern::parse(TEMPLATE_PATTERN).expect("pattern")],
        batch_size: 10,
        poll_interval: Duration::from_millis(100),
        max_retries: 3,
        failures_file: failures_file.clone(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let relay_aws = aws.clone();
    let relay = tokio::spawn(async move {
        run(&config, &relay_aws, async {
            let _ = stopped.await;
        })
        .await
    });

    let put = |pk: &'static str, status: &'static str| {
        dynamodb
            .put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S(pk.into()))
            .item("kind", AttributeValue::S("request".into()))
            .item("status", AttributeValue::S(status.into()))
            .item("attempt", AttributeValue::N("1".into()))
            .send()
    };
    // The non-matching item goes first: once the matching one has arrived, it has been read too.
    put("req-skip", "created")
        .await
        .expect("put non-matching item");
    put(FAIL_ONCE, "pending").await.expect("put matching item");

    let deliveries = || -> Vec<Value> {
        let events = function.events.lock().expect("lock");
        events
            .iter()
            .flat_map(|event| records_for(event, FAIL_ONCE))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while deliveries().len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let _ = stop.send(());
    let stopped = tokio::time::timeout(Duration::from_secs(5), relay)
        .await
        .expect("the relay stops on shutdown")
        .expect("the relay task does not panic");
    server.abort();
    if moto.child.is_none() {
        // A shared emulator outlives this test: leave it as it was.
        let _ = dynamodb.delete_table().table_name(&table).send().await;
    }
    stopped.expect("the relay ends cleanly");

    let events = function.events.lock().expect("lock").clone();
    for event in &events {
        serde_json::from_value::<Event>(event.clone())
            .unwrap_or_else(|err| panic!("not a Lambda DynamoDB event ({err}): {event}"));
        assert!(
            records_for(event, "req-skip").is_empty(),
            "the filter should have dropped req-skip: {event}"
        );
    }

    let deliveries = deliveries();
    assert_eq!(
        deliveries.len(),
        2,
        "delivered once, failed by the function, delivered again; events: {events:?}"
    );
    let first = &deliveries[0];
    assert_eq!(first["eventName"], "INSERT");
    assert_eq!(first["eventSource"], "aws:dynamodb");
    assert_eq!(first["eventVersion"], "1.1");
    assert_eq!(first["awsRegion"], "us-east-1");
    assert_eq!(first["eventSourceARN"], stream_arn.as_str());
    let change = &first["dynamodb"];
    assert_eq!(change["Keys"], json!({"pk": {"S": FAIL_ONCE}}));
    assert_eq!(
        change["NewImage"],
        json!({
            "pk": {"S": FAIL_ONCE},
            "kind": {"S": "request"},
            "status": {"S": "pending"},
            "attempt": {"N": "1"}
        })
    );
    assert_eq!(change["StreamViewType"], "NEW_IMAGE");
    assert!(
        change["ApproximateCreationDateTime"].is_number(),
        "{change}"
    );
    assert!(change["SizeBytes"].is_number(), "{change}");
    assert!(change.get("OldImage").is_none(), "{change}");
    assert!(change["SequenceNumber"].is_string(), "{change}");
    assert_eq!(
        deliveries[1]["dynamodb"]["SequenceNumber"], change["SequenceNumber"],
        "the retry re-sends the failed record"
    );
    assert!(
        !failures_file.exists(),
        "nothing was given up on, so nothing is written to {}",
        failures_file.display()
    );
}
