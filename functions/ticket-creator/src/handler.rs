//! Maps a DynamoDB Streams batch to the ticket-creator rules, and their answer to a partial batch response.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use shared::rules::ticket_creator::{StreamItem, TicketCreator};
use shared::secrets::SettingsSource;
use shared::store::{RequestStore, record_from_stream_image};

pub fn stream_items(event: Event) -> Vec<StreamItem> {
    event
        .records
        .into_iter()
        .map(|record| StreamItem {
            id: record.change.sequence_number.unwrap_or_default(),
            request: record_from_stream_image(record.change.new_image),
        })
        .collect()
}

pub async fn handle<S: RequestStore, C: SettingsSource>(
    creator: &TicketCreator<S, C>,
    event: Event,
) -> DynamoDbEventResponse {
    let failed = creator.process_batch(stream_items(event)).await;
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(id);
            failure
        })
        .collect();
    response
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;
