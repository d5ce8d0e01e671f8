//! `ticket-creator`: turns each new request on the table's stream into exactly one ServiceNow ticket (CONTRACT §9).

mod handler;

use shared::outbound::client::http_client;
use shared::rules::ticket_creator::TicketCreator;
use shared::runtime::serve::{Trigger, serve};
use shared::runtime::{Adapters, init_telemetry};
use shared::servicenow::ServiceNowClient;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_telemetry("ticket-creator");
    let adapters = Adapters::from_env()?;
    let servicenow = ServiceNowClient::new(http_client(adapters.hosts));
    let creator = TicketCreator::new(adapters.store, adapters.settings, servicenow);
    let creator = &creator;
    serve(Trigger::Stream, move |event, deadline| {
        handler::handle(creator, event, deadline)
    })
    .await
}
