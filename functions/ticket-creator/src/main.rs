//! `ticket-creator`: turns each new request on the table's stream into exactly one ServiceNow ticket (CONTRACT §9).

mod handler;

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use shared::outbound::http_client;
use shared::rules::ticket_creator::TicketCreator;
use shared::runtime::{Adapters, init_tracing};
use shared::servicenow::ServiceNowClient;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let adapters = Adapters::from_env().await?;
    let servicenow = ServiceNowClient::new(http_client());
    let creator = TicketCreator::new(adapters.store, adapters.settings, servicenow);
    let creator = &creator;
    run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(handler::handle(creator, event.payload).await)
    }))
    .await
}
