//! `ticket-callback`: ServiceNow's signed webhook says a ticket changed; the decision is read back from the
//! ticket and recorded (CONTRACT §10).

mod handler;

use lambda_http::{Body, Error, Request, run, service_fn};
use shared::callback::Callback;
use shared::config::{FunctionConfig, aws_sdk_config};
use shared::secrets::SecretsManagerSettings;
use shared::servicenow::{ServiceNowClient, http_client};
use shared::store::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = FunctionConfig::from_env()?;
    let aws = aws_sdk_config().await;
    let callback = Callback::new(
        DynamoStore::from_config(&aws, config.table_name),
        SecretsManagerSettings::from_config(
            &aws,
            config.settings_secret_id,
            config.settings_cache_ttl,
        ),
        ServiceNowClient::new(http_client()),
    );
    let callback = &callback;
    run(service_fn(move |event: Request| async move {
        let response = handler::handle(callback, handler::api_request(event)).await;
        Ok::<_, Error>(response.map(Body::from))
    }))
    .await
}
