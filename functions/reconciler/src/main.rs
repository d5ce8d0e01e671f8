//! `reconciler`: every 5 minutes, finds what the usual paths stranded (a decision whose webhook never arrived, a
//! push PM Cloud did not take, a request a long outage or a rate limit left pending) and drives it (CONTRACT §13).

mod handler;

use shared::outbound::client::http_client;
use shared::pmcloud::PmCloudClient;
use shared::rules::reconciler::Reconciler;
use shared::runtime::serve::{Trigger, serve};
use shared::runtime::{Adapters, init_telemetry, reconcile_thresholds};
use shared::servicenow::ServiceNowClient;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_telemetry("reconciler");
    let adapters = Adapters::from_env()?;
    let reconciler = Reconciler::new(
        adapters.store,
        adapters.settings,
        ServiceNowClient::new(http_client(adapters.hosts)),
        PmCloudClient::new(http_client(adapters.hosts)),
        reconcile_thresholds()?,
    );
    let reconciler = &reconciler;
    serve(Trigger::Schedule, move |_event, deadline| {
        handler::handle(reconciler, deadline)
    })
    .await
}
