//! Maps a DynamoDB Streams batch to the decision-notifier rules, and their answer to a partial batch response.

use aws_lambda_events::streams::DynamoDbEventResponse;
use serde_json::Value;
use shared::domain::deadline::Deadline;
use shared::dynamodb_stream::{batch_response, stream_items};
use shared::rules::decision_notifier::DecisionNotifier;
use shared::secrets::SettingsSource;
use shared::store::{RequestStore, SharedState};

pub async fn handle<S: RequestStore + SharedState + Clone, C: SettingsSource>(
    notifier: &DecisionNotifier<S, C>,
    event: Value,
    deadline: Deadline,
) -> DynamoDbEventResponse {
    batch_response(notifier.process_batch(stream_items(event), deadline).await)
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;
