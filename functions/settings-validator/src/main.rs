//! `settings-validator`: the "Validate Settings" button (CONTRACT §11).

mod handler;

use lambda_http::{Body, Error, Request, run, service_fn};
use shared::config::{FunctionConfig, aws_sdk_config};
use shared::secrets::SecretsManagerSettings;
use shared::servicenow::http_client_with_timeout;
use shared::validation::SettingsValidator;
use std::time::Duration;

/// An administrator waits for the answer, and four checks must fit the function's timeout.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = FunctionConfig::from_env()?;
    let aws = aws_sdk_config().await;
    let validator = SettingsValidator::new(
        SecretsManagerSettings::from_config(
            &aws,
            config.settings_secret_id,
            config.settings_cache_ttl,
        ),
        http_client_with_timeout(CHECK_TIMEOUT),
    );
    let validator = &validator;
    run(service_fn(move |event: Request| async move {
        let response = handler::handle(validator, handler::api_request(event)).await;
        Ok::<_, Error>(response.map(Body::from))
    }))
    .await
}
