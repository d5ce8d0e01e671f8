//! Reads the table's stream shard by shard from TRIM_HORIZON, as the event source mapping does, and
//! hands each shard's records, filtered, to delivery in order.

use crate::Error;
use crate::cli::Config;
use crate::deliver::Deliverer;
use crate::event::to_lambda_record;
use crate::filter::passes;
use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use dev_tool::error_chain;
use std::collections::HashSet;
use std::time::Duration;
use tokio::time::Instant;

/// Shards split every few hours in AWS; looking once in a while is enough to pick up new ones.
const DISCOVERY_INTERVAL: Duration = Duration::from_secs(10);
/// After an AWS error (emulator restarting, table gone) slow down instead of repeating it every poll.
const ERROR_PAUSE: Duration = Duration::from_secs(5);

pub async fn latest_stream_arn(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<String, Error> {
    let described = dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .map_err(|err| Error::DescribeTable {
            table: table.to_owned(),
            message: aws_error(&err),
        })?;
    described
        .table()
        .and_then(|t| t.latest_stream_arn())
        .map(str::to_owned)
        .ok_or_else(|| Error::NoStream(table.to_owned()))
}

/// The service's own code and message when it answered, else what kept the request from it.
fn aws_error<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err.code() {
        Some(code) => format!("{code}: {}", err.message().unwrap_or_default()),
        None => error_chain(err),
    }
}

struct Shard {
    id: String,
    parent: Option<String>,
    /// `None` before the first read and after an error made the old one unusable.
    iterator: Option<String>,
    /// The last record read, so a lost iterator resumes right after it.
    checkpoint: Option<String>,
    /// Closed and fully read: nothing more will come.
    finished: bool,
}

pub struct Relay<'a> {
    config: &'a Config,
    streams: Client,
    stream_arn: String,
    region: String,
    deliverer: Deliverer,
}

impl<'a> Relay<'a> {
    pub fn new(
        config: &'a Config,
        aws: &aws_config::SdkConfig,
        stream_arn: String,
    ) -> Result<Self, Error> {
        let deliverer = Deliverer::new(
            config.invoke_url.clone(),
            config.max_retries,
            config.failures_file.clone(),
            stream_arn.clone(),
        )
        .map_err(|err| Error::HttpClient(err.to_string()))?;
        Ok(Self {
            config,
            streams: Client::new(aws),
            stream_arn,
            region: aws.region().map(|r| r.to_string()).unwrap_or_default(),
            deliverer,
        })
    }

    /// Polls until an unrecoverable error; AWS errors are reported and retried.
    pub async fn run(&self) -> Result<(), Error> {
        let mut shards: Vec<Shard> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut next_discovery = Instant::now();
        loop {
            let mut healthy = true;
            if Instant::now() >= next_discovery {
                match self.discover(&mut seen).await {
                    Ok(new) => shards.extend(new),
                    Err(message) => {
                        eprintln!("stream-relay: DescribeStream failed: {message}");
                        healthy = false;
                    }
                }
                next_discovery = Instant::now() + DISCOVERY_INTERVAL;
            }
            let unfinished: HashSet<String> = shards.iter().map(|s| s.id.clone()).collect();
            for shard in &mut shards {
                // A child shard continues its parent's keys: read it only once the parent is done.
                if shard
                    .parent
                    .as_ref()
                    .is_some_and(|p| unfinished.contains(p))
                {
                    continue;
                }
                if let Err(message) = self.poll(shard).await? {
                    eprintln!("stream-relay: {}: {message}", shard.id);
                    shard.iterator = None;
                    healthy = false;
                }
            }
            shards.retain(|shard| !shard.finished);
            tokio::time::sleep(if healthy {
                self.config.poll_interval
            } else {
                ERROR_PAUSE
            })
            .await;
        }
    }

    /// Shards not seen before, in the order DescribeStream lists them (parents first).
    async fn discover(&self, seen: &mut HashSet<String>) -> Result<Vec<Shard>, String> {
        let mut found = Vec::new();
        let mut start_after: Option<String> = None;
        loop {
            let page = self
                .streams
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(start_after)
                .send()
                .await
                .map_err(|err| aws_error(&err))?;
            let Some(description) = page.stream_description() else {
                return Ok(found);
            };
            for shard in description.shards() {
                let Some(id) = shard.shard_id() else { continue };
                if seen.insert(id.to_owned()) {
                    found.push(Shard {
                        id: id.to_owned(),
                        parent: shard.parent_shard_id().map(str::to_owned),
                        iterator: None,
                        checkpoint: None,
                        finished: false,
                    });
                }
            }
            start_after = description.last_evaluated_shard_id().map(str::to_owned);
            if start_after.is_none() {
                return Ok(found);
            }
        }
    }

    /// One GetRecords on the shard and delivery of what passes the filters. The outer error stops
    /// the relay (a record it cannot convert); the inner one is an AWS error worth retrying.
    async fn poll(&self, shard: &mut Shard) -> Result<Result<(), String>, Error> {
        let iterator = match shard.iterator.take() {
            Some(iterator) => iterator,
            None => match self.iterator(shard).await {
                Ok(iterator) => iterator,
                Err(message) => return Ok(Err(format!("GetShardIterator failed: {message}"))),
            },
        };
        let output = match self
            .streams
            .get_records()
            .shard_iterator(iterator)
            .limit(self.config.batch_size)
            .send()
            .await
        {
            Ok(output) => output,
            Err(err) => return Ok(Err(format!("GetRecords failed: {}", aws_error(&err)))),
        };
        // No next iterator means the shard is closed and everything in it has been read.
        match output.next_shard_iterator() {
            Some(next) => shard.iterator = Some(next.to_owned()),
            None => shard.finished = true,
        }
        let mut batch = Vec::new();
        for record in output.records() {
            let record = to_lambda_record(record, &self.stream_arn, &self.region)?;
            shard.checkpoint = Some(record.sequence_number.clone());
            // Filtered-out records count as processed, as with Lambda's event filtering.
            if passes(&self.config.filters, &record.json) {
                batch.push(record);
            }
        }
        if !batch.is_empty() {
            self.deliverer.deliver(&shard.id, batch).await;
        }
        Ok(Ok(()))
    }

    async fn iterator(&self, shard: &Shard) -> Result<String, String> {
        let request = self
            .streams
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(&shard.id);
        let request = match &shard.checkpoint {
            Some(sequence_number) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(sequence_number),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let output = request.send().await.map_err(|err| aws_error(&err))?;
        output
            .shard_iterator()
            .map(str::to_owned)
            .ok_or_else(|| "GetShardIterator returned no iterator".to_owned())
    }
}
