//! The Lambda edge of the stream-triggered functions: a DynamoDB Streams event becomes [`StreamItem`]s for the
//! rules, and the identifiers the rules report as failed become a partial batch response
//! (`ReportBatchItemFailures`), so that the rules and their tests never see Lambda types.

use crate::rules::stream::StreamItem;
use crate::store::{StoreError, record_from_stream_image};
use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_json::Value;

/// Each record with its sequence number and the request in its new image. Read record by record: one that does
/// not deserialize (a missing `SizeBytes`, a timestamp written as a string) becomes an unreadable item, which the
/// rules log and skip as retrying cannot mend it, and the batch's good records are still processed.
pub fn stream_items(event: Value) -> Vec<StreamItem> {
    match event {
        Value::Object(mut event) => match event.remove("Records") {
            Some(Value::Array(records)) => records.into_iter().map(stream_item).collect(),
            _ => {
                tracing::error!("a stream event without a Records list");
                Vec::new()
            }
        },
        _ => {
            tracing::error!("a stream event that is not a JSON object");
            Vec::new()
        }
    }
}

fn stream_item(record: Value) -> StreamItem {
    let id = record
        .pointer("/dynamodb/SequenceNumber")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let request = serde_json::from_value::<EventRecord>(record)
        .map_err(|e| StoreError::Corrupt(format!("the stream record cannot be read: {e}")))
        .and_then(|record| record_from_stream_image(record.change.new_image));
    StreamItem { id, request }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(sequence_number: &str, edit: impl FnOnce(&mut Value)) -> Value {
        let mut record = json!({
            "eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1764331445.0,
                "Keys": {"pk": {"S": "x"}},
                "NewImage": {"pk": {"S": "state#x"}, "kind": {"S": "state"}},
                "SequenceNumber": sequence_number, "SizeBytes": 26, "StreamViewType": "NEW_IMAGE"
            },
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026"
        });
        edit(&mut record);
        record
    }

    #[test]
    fn a_record_that_does_not_deserialize_costs_only_itself() {
        let event = json!({"Records": [
            record("1", |_| {}),
            record("2", |r| { r["dynamodb"].as_object_mut().unwrap().remove("SizeBytes"); }),
            record("3", |r| r["dynamodb"]["ApproximateCreationDateTime"] = json!("yesterday")),
            record("4", |_| {}),
        ]});
        let items = stream_items(event);
        let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3", "4"]);
        let readable: Vec<bool> = items.iter().map(|i| i.request.is_ok()).collect();
        assert_eq!(readable, [true, false, false, true]);
    }

    #[test]
    fn an_event_without_records_has_no_items() {
        assert!(stream_items(json!({})).is_empty());
        assert!(stream_items(json!([1, 2])).is_empty());
        assert!(stream_items(json!({"Records": "x"})).is_empty());
    }
}
