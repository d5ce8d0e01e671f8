//! `ticket-creator`: turns each new request on the table's stream into exactly one ServiceNow ticket (CONTRACT §9).

mod handler;

use shared::outbound::client::http_client;
use shared::pmcloud::PmCloudClient;
use shared::rules::ticket_creator::TicketCreator;
use shared::runtime::serve::{Trigger, serve};
use shared::runtime::{Adapters, init_telemetry};
use shared::servicenow::ServiceNowClient;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_telemetry("ticket-creator");
    let adapters = Adapters::from_env()?;
    // One HTTP client (and so one connection pool) for both remotes.
    let http = http_client(adapters.hosts);
    let servicenow = ServiceNowClient::new(http.clone());
    let pm_cloud = PmCloudClient::new(http);
    let creator = TicketCreator::new(adapters.store, adapters.settings, servicenow, pm_cloud);
    let creator = &creator;
    serve(Trigger::Stream, move |event, deadline| {
        handler::handle(creator, event, deadline)
    })
    .await
}
