//! `request-intake`: PM Cloud submits elevation requests and reads their decisions (CONTRACT §5, §6), and says
//! when a decision changed in PM Cloud (§13 v3).

mod handler;

use handler::Rules;
use shared::http::{Edge, lambda};
use shared::outbound::client::http_client;
use shared::pmcloud::PmCloudClient;
use shared::runtime::{Adapters, init_telemetry};
use shared::servicenow::ServiceNowClient;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_telemetry("request-intake");
    let adapters = Adapters::from_env()?;
    let rules = Rules::new(
        adapters.store,
        ServiceNowClient::new(http_client(adapters.hosts)),
        PmCloudClient::new(http_client(adapters.hosts)),
    );
    let intake = Edge::new(rules, adapters.settings);
    let intake = &intake;
    lambda::serve(move |request| handler::handle(intake, request)).await
}
