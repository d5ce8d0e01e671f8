//! `settings-validator`: the "Validate Settings" button (CONTRACT §11).

mod handler;

use shared::http::{Edge, lambda};
use shared::outbound::client::http_client_with_timeout;
use shared::pmcloud::PmCloudClient;
use shared::rules::settings_validator::SettingsValidator;
use shared::runtime::{Adapters, init_telemetry};
use shared::servicenow::ServiceNowClient;
use shared::store::{Remote, SharedState};
use std::time::Duration;

/// An administrator waits for the answer, and five checks must fit the function's timeout.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_telemetry("settings-validator");
    let adapters = Adapters::from_env()?;
    let http = http_client_with_timeout(CHECK_TIMEOUT, adapters.hosts);
    let store = adapters.store;
    let rules = SettingsValidator::new(
        ServiceNowClient::new(http.clone()),
        PmCloudClient::new(http),
    )
    .with_pm_cloud_pause(Box::new(move || {
        let store = store.clone();
        Box::pin(async move { store.paused_until(Remote::PmCloud).await.ok().flatten() })
    }));
    let validator = Edge::new(rules, adapters.settings);
    let validator = &validator;
    lambda::serve(move |request| handler::handle(validator, request)).await
}
