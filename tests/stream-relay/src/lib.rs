//! `stream-relay`: does locally what Lambda's event source mapping does in AWS for `ticket-creator`,
//! reading the table's DynamoDB stream (moto) and invoking the function (`cargo lambda watch`).

pub mod cli;
pub mod deliver;
pub mod event;
pub mod filter;
mod stream;

pub use cli::{Command, Config, USAGE, parse_args};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot describe table {table}: {message}")]
    DescribeTable { table: String, message: String },
    #[error(
        "table {0} has no stream; create it with a StreamSpecification (StreamViewType NEW_IMAGE) as template.yaml does"
    )]
    NoStream(String),
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
    #[error("cannot convert a stream record: {0}")]
    Record(#[from] event::ConvertError),
}

/// Relays the table's latest stream to `config.invoke_url` until `shutdown` completes (then `Ok`),
/// or until an error that retrying cannot fix.
pub async fn run(
    config: &Config,
    aws: &aws_config::SdkConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let stream_arn =
        stream::latest_stream_arn(&aws_sdk_dynamodb::Client::new(aws), &config.table).await?;
    println!(
        "stream-relay: relaying {stream_arn} to {}",
        config.invoke_url
    );
    let relay = stream::Relay::new(config, aws, stream_arn)?;
    tokio::select! {
        result = relay.run() => result,
        () = shutdown => Ok(()),
    }
}
