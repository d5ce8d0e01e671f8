//! `ticket-callback`: ServiceNow's signed webhook says a ticket changed; the decision is read back from the
//! ticket and recorded (CONTRACT §10).

mod handler;

use shared::http::{Edge, lambda};
use shared::outbound::client::http_client;
use shared::rules::ticket_callback::TicketCallback;
use shared::runtime::{Adapters, init_telemetry};
use shared::servicenow::ServiceNowClient;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_telemetry("ticket-callback");
    let adapters = Adapters::from_env()?;
    let servicenow = ServiceNowClient::new(http_client(adapters.hosts));
    let callback = Edge::new(
        TicketCallback::new(adapters.store, servicenow),
        adapters.settings,
    );
    let callback = &callback;
    lambda::serve(move |request| handler::handle(callback, request)).await
}
