//! `ticket-creator`: turns each new request on the table's stream into exactly one ServiceNow ticket (CONTRACT §9).

mod handler;

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use shared::config::{FunctionConfig, aws_sdk_config};
use shared::secrets::SecretsManagerSettings;
use shared::servicenow::{ServiceNowClient, http_client};
use shared::store::DynamoStore;
use shared::ticketing::TicketCreator;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = FunctionConfig::from_env()?;
    let aws = aws_sdk_config().await;
    let creator = TicketCreator::new(
        DynamoStore::from_config(&aws, config.table_name),
        SecretsManagerSettings::from_config(
            &aws,
            config.settings_secret_id,
            config.settings_cache_ttl,
        ),
        ServiceNowClient::new(http_client()),
    );
    let creator = &creator;
    run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(handler::handle(creator, event.payload).await)
    }))
    .await
}
