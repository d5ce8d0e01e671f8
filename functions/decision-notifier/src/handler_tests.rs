//! `decision-notifier`'s handler: a DynamoDB Streams event in, a partial batch response out. What the rules do with
//! a batch is tested beside them (`shared/src/rules/decision_notifier_tests.rs`).

use super::*;
use aws_lambda_events::event::dynamodb::Event;
use pmcloud_sim::{PmCloudSim, SimConfig};
use shared::domain::base_url::Hosts;
use shared::outbound::client::http_client_with_timeout;
use shared::pmcloud::PmCloudClient;
use shared::runtime::serve::Trigger;
use shared::secrets::StaticSettings;
use shared::servicenow::ServiceNowClient;
use shared::store::MemoryStore;
use std::sync::Arc;
use test_support::{simulator_secret, with_pm_cloud};

/// The handler as Lambda calls it, with the event as JSON and a deadline far enough away.
async fn handle<S: RequestStore + shared::store::SharedState + Clone, C: SettingsSource>(
    rules: &DecisionNotifier<S, C>,
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

type Notifier = DecisionNotifier<Arc<MemoryStore>, StaticSettings>;

type Store = Arc<MemoryStore>;

/// The PM Cloud simulator, the notifier with `pmCloud` pointing at it, and the store.
async fn setup() -> (PmCloudSim, Notifier, Store) {
    let sim = PmCloudSim::start(SimConfig::default()).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let secret = with_pm_cloud(
        &simulator_secret("https://acme.service-now.com"),
        &sim.base_url(),
    );
    let http = http_client_with_timeout(std::time::Duration::from_millis(700), Hosts::Local);
    let notifier = DecisionNotifier::new(
        Arc::clone(&store),
        StaticSettings::new(secret),
        PmCloudClient::new(http.clone()),
        ServiceNowClient::new(http),
    );
    (sim, notifier, store)
}

fn failures(response: &DynamoDbEventResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .filter_map(|f| f.item_identifier.clone())
        .collect()
}

#[tokio::test]
async fn the_sample_event_is_a_decision_waiting_for_its_first_push() {
    let (_sim, notifier, _store) = setup().await;
    // Its request is not in the table: it is reported for a retry, like any record the store does not show yet.
    let path = format!(
        "{}/../../events/decision-notifier/approved-decision.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: Event = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let image = shared::store::record_from_stream_image(event.records[0].change.new_image.clone())
        .unwrap()
        .unwrap();
    assert!(image.push_pending());
    assert_eq!(image.pm_cloud_notification.as_ref().unwrap().attempts, 0);
    let sequence_number = event.records[0].change.sequence_number.clone().unwrap();
    assert_eq!(failures(&handle(&notifier, event).await), [sequence_number]);
}
