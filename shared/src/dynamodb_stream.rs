//! The Lambda edge of the stream-triggered functions: a DynamoDB Streams event becomes [`StreamItem`]s for the
//! rules, and the identifiers the rules report as failed become a partial batch response
//! (`ReportBatchItemFailures`), so that the rules and their tests never see Lambda types.

use crate::rules::stream::StreamItem;
use crate::store::record_from_stream_image;
use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use std::future::Future;

/// Each record with its sequence number and the request in its new image.
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

/// The partial batch response naming `failed` (sequence numbers).
pub fn batch_response(failed: Vec<String>) -> DynamoDbEventResponse {
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

/// Serves `handler` (a stream event in, a partial batch response out) on the Lambda Runtime API until the
/// execution environment ends.
pub async fn serve<H, F>(handler: H) -> Result<(), lambda_runtime::Error>
where
    H: Fn(Event) -> F,
    F: Future<Output = DynamoDbEventResponse> + Send,
{
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Event>| {
            let response = handler(event.payload);
            async move {
                let response = response.await;
                crate::runtime::flush_metrics();
                Ok::<_, lambda_runtime::Error>(response)
            }
        },
    ))
    .await
}
