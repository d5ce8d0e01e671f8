//! `request-intake`: PM Cloud submits elevation requests and reads their decisions (CONTRACT §5, §6).

mod handler;

use lambda_http::{Body, Error, Request, run, service_fn};
use shared::config::{FunctionConfig, aws_sdk_config};
use shared::intake::Intake;
use shared::secrets::SecretsManagerSettings;
use shared::store::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = FunctionConfig::from_env()?;
    let aws = aws_sdk_config().await;
    let intake = Intake::new(
        DynamoStore::from_config(&aws, config.table_name),
        SecretsManagerSettings::from_config(
            &aws,
            config.settings_secret_id,
            config.settings_cache_ttl,
        ),
    );
    let intake = &intake;
    run(service_fn(move |event: Request| async move {
        let response = handler::handle(intake, handler::api_request(event)).await;
        Ok::<_, Error>(response.map(Body::from))
    }))
    .await
}
