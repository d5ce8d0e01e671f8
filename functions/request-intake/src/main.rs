//! `request-intake`: PM Cloud submits elevation requests and reads their decisions (CONTRACT §5, §6).

mod handler;

use shared::http::{Edge, lambda};
use shared::rules::request_intake::RequestIntake;
use shared::runtime::{Adapters, init_telemetry};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_telemetry("request-intake");
    let adapters = Adapters::from_env()?;
    let intake = Edge::new(RequestIntake::new(adapters.store), adapters.settings);
    let intake = &intake;
    lambda::serve(move |request| handler::handle(intake, request)).await
}
