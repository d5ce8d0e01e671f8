//! `ticket-creator`'s handler: a DynamoDB Streams event in, a partial batch response out, against the in-memory
//! store and the ServiceNow simulator. What the rules do with a batch is tested beside them
//! (`shared/src/rules/ticket_creator_tests.rs`).

use super::*;
use aws_lambda_events::event::dynamodb::Event;
use serde_json::Value;
use servicenow_sim::{SimConfig, Simulator};
use shared::domain::base_url::Hosts;
use shared::domain::ids::RequestId;
use shared::domain::record::RequestRecord;
use shared::domain::request::Submission;
use shared::domain::time::now;
use shared::outbound::client::http_client_with_timeout;
use shared::pmcloud::PmCloudClient;
use shared::runtime::serve::Trigger;
use shared::secrets::StaticSettings;
use shared::servicenow::ServiceNowClient;
use shared::store::{MemoryStore, RequestStore, SharedState, stream_image_of};
use std::sync::Arc;
use std::time::Duration;
use test_support::{sample_body, simulator_secret};

/// The handler as Lambda calls it, with the event as JSON and a deadline far enough away.
async fn handle<S: RequestStore + SharedState + Clone, C: SettingsSource>(
    rules: &TicketCreator<S, C>,
    event: Event,
) -> DynamoDbEventResponse {
    let event = serde_json::to_value(event).expect("a stream event serialises");
    super::handle(
        rules,
        event,
        Trigger::Stream.deadline(std::time::SystemTime::now() + std::time::Duration::from_secs(60)),
    )
    .await
}

type Creator = TicketCreator<Arc<MemoryStore>, StaticSettings>;

type Store = Arc<MemoryStore>;

/// The simulator, ticket-creator over an in-memory store, and that store.
async fn setup() -> (Simulator, Creator, Store) {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let http = http_client_with_timeout(Duration::from_millis(700), Hosts::Local);
    let creator = TicketCreator::new(
        Arc::clone(&store),
        StaticSettings::new(simulator_secret(&sim.base_url())),
        ServiceNowClient::new(http.clone()),
        PmCloudClient::new(http),
    );
    (sim, creator, store)
}

fn fixture() -> Event {
    let path = format!(
        "{}/../../events/ticket-creator/new-request.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .expect("a valid DynamoDB Streams event")
}

/// A stream event carrying `records`, built like the fixture (sequence numbers "1", "2", …).
fn event_for(records: &[&RequestRecord]) -> Event {
    let template = fixture().records.remove(0);
    let mut event = fixture();
    event.records = records
        .iter()
        .enumerate()
        .map(|(i, record)| {
            let mut item = template.clone();
            item.change.new_image = stream_image_of(record).unwrap();
            item.change.sequence_number = Some((i + 1).to_string());
            item
        })
        .collect();
    event
}

/// A request for `pmc` stored as `request-intake` would have stored it.
async fn stored(store: &Store, pmc: &str) -> RequestRecord {
    let body = sample_body(pmc);
    let submission = Submission::parse(body.as_object().unwrap(), false).unwrap();
    let record = RequestRecord::new(submission, RequestId::random(), now());
    store.create(&record).await.unwrap();
    record
}

fn failures(response: &DynamoDbEventResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .filter_map(|f| f.item_identifier.clone())
        .collect()
}

fn tickets_for(sim: &Simulator, record: &RequestRecord) -> Vec<Value> {
    sim.tickets()
        .into_iter()
        .filter(|t| t["correlation_id"] == record.id.as_str())
        .collect()
}

#[tokio::test]
async fn a_request_the_store_does_not_show_yet_is_retried_without_a_ticket() {
    let (sim, creator, store) = setup().await;
    // The fixture's request was never stored here: as if the stream announced it before the store showed it.
    let response = handle(&creator, fixture()).await;
    assert_eq!(
        failures(&response),
        ["4421584500000000017450439091"],
        "the fixture's sequence number, for a retry"
    );
    assert!(
        sim.tickets().is_empty(),
        "no ticket for a request the store does not hold"
    );
    assert_eq!(sim.stats().table_requests, 0);

    // Once it is readable, the redelivery tickets it.
    let record: RequestRecord =
        shared::store::record_from_stream_image(fixture().records.remove(0).change.new_image)
            .unwrap()
            .unwrap();
    store.create(&record).await.unwrap();
    assert!(failures(&handle(&creator, fixture()).await).is_empty());
    assert_eq!(tickets_for(&sim, &record).len(), 1);
}

#[tokio::test]
async fn an_unreadable_record_is_skipped_without_blocking_the_others() {
    let (sim, creator, store) = setup().await;
    let good = stored(&store, "pmc-good").await;
    let mut event = event_for(&[&good, &good]);
    let broken: Value = serde_json::json!({"kind": {"S": "request"}, "id": {"S": "x"}});
    event.records[0].change.new_image = serde_json::from_value(broken).unwrap();
    let response = handle(&creator, event).await;
    assert!(failures(&response).is_empty());
    assert_eq!(tickets_for(&sim, &good).len(), 1);
}
