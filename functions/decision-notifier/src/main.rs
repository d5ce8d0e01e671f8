//! `decision-notifier`: pushes each decision recorded on the table's stream to PM Cloud's Management API
//! (CONTRACT §12).

mod handler;

use shared::outbound::client::http_client;
use shared::pmcloud::PmCloudClient;
use shared::rules::decision_notifier::DecisionNotifier;
use shared::runtime::serve::{Trigger, serve};
use shared::runtime::{Adapters, init_telemetry};
use shared::servicenow::ServiceNowClient;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_telemetry("decision-notifier");
    let adapters = Adapters::from_env()?;
    let pm_cloud = PmCloudClient::new(http_client(adapters.hosts));
    let servicenow = ServiceNowClient::new(http_client(adapters.hosts));
    let notifier = DecisionNotifier::new(adapters.store, adapters.settings, pm_cloud, servicenow);
    let notifier = &notifier;
    serve(Trigger::Stream, move |event, deadline| {
        handler::handle(notifier, event, deadline)
    })
    .await
}
