//! Turns a DynamoDB Streams record, as the SDK returns it, into the record JSON Lambda puts in a
//! DynamoDB event, so the function cannot tell the relay from the real event source mapping.

use aws_sdk_dynamodbstreams::types::{AttributeValue, Record};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// One record ready for delivery: its JSON plus the sequence number that partial failures name.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaRecord {
    pub sequence_number: String,
    pub json: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error("stream record {0} has no {1}")]
    Missing(String, &'static str),
    #[error("stream record {0} holds an attribute type this SDK does not know")]
    UnknownAttributeType(String),
}

/// The `{"Records": [...]}` body Lambda invokes the function with.
pub fn lambda_event(records: &[LambdaRecord]) -> Value {
    json!({ "Records": records.iter().map(|record| &record.json).collect::<Vec<_>>() })
}

/// `region` stands in when the record does not name one (DynamoDB always does).
pub fn to_lambda_record(
    record: &Record,
    stream_arn: &str,
    region: &str,
) -> Result<LambdaRecord, ConvertError> {
    let event_id = record.event_id().unwrap_or_default();
    let missing = |what| ConvertError::Missing(event_id.to_owned(), what);
    let change = record.dynamodb().ok_or_else(|| missing("dynamodb"))?;
    let sequence_number = change
        .sequence_number()
        .ok_or_else(|| missing("SequenceNumber"))?
        .to_owned();
    let event_name = record.event_name().ok_or_else(|| missing("eventName"))?;
    let unknown = || ConvertError::UnknownAttributeType(sequence_number.clone());

    let mut dynamodb = Map::new();
    if let Some(time) = change.approximate_creation_date_time() {
        dynamodb.insert("ApproximateCreationDateTime".into(), json!(time.secs()));
    }
    for (name, image) in [
        ("Keys", change.keys()),
        ("NewImage", change.new_image()),
        ("OldImage", change.old_image()),
    ] {
        if let Some(image) = image {
            dynamodb.insert(name.into(), item_json(image).ok_or_else(unknown)?);
        }
    }
    dynamodb.insert("SequenceNumber".into(), json!(sequence_number));
    if let Some(size) = change.size_bytes() {
        dynamodb.insert("SizeBytes".into(), json!(size));
    }
    if let Some(view) = change.stream_view_type() {
        dynamodb.insert("StreamViewType".into(), json!(view.as_str()));
    }

    let mut json = json!({
        "eventID": event_id,
        "eventName": event_name.as_str(),
        // What Lambda sends for DynamoDB, whatever the stream reports (moto says "1.0").
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region().unwrap_or(region),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    });
    // Only TTL deletions carry an identity; Lambda passes it on.
    if let Some(identity) = record.user_identity() {
        json["userIdentity"] = json!({
            "type": identity.r#type(),
            "principalId": identity.principal_id(),
        });
    }
    Ok(LambdaRecord {
        sequence_number,
        json,
    })
}

/// DynamoDB JSON for a whole item; `None` when an attribute has a type this SDK does not know.
fn item_json(item: &HashMap<String, AttributeValue>) -> Option<Value> {
    item.iter()
        .map(|(name, value)| Some((name.clone(), attribute_json(value)?)))
        .collect::<Option<Map<_, _>>>()
        .map(Value::Object)
}

fn attribute_json(value: &AttributeValue) -> Option<Value> {
    let base64 = |blob: &aws_sdk_dynamodbstreams::primitives::Blob| BASE64.encode(blob.as_ref());
    Some(match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": base64(b) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(n) => json!({ "NULL": n }),
        AttributeValue::Ss(set) => json!({ "SS": set }),
        AttributeValue::Ns(set) => json!({ "NS": set }),
        AttributeValue::Bs(set) => json!({ "BS": set.iter().map(base64).collect::<Vec<_>>() }),
        AttributeValue::M(map) => json!({ "M": item_json(map)? }),
        AttributeValue::L(list) => {
            json!({ "L": list.iter().map(attribute_json).collect::<Option<Vec<_>>>()? })
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::dynamodb::{Event, StreamViewType as LambdaViewType};
    use aws_sdk_dynamodbstreams::primitives::{Blob, DateTime};
    use aws_sdk_dynamodbstreams::types::{Identity, OperationType, StreamRecord, StreamViewType};
    use serde_dynamo::AttributeValue as Dynamo;

    const ARN: &str =
        "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000";

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.into())
    }

    fn every_type() -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("pk".into(), s("req-1")),
            ("n".into(), AttributeValue::N("4".into())),
            (
                "b".into(),
                AttributeValue::B(Blob::new(b"\x00\xffbin".to_vec())),
            ),
            ("yes".into(), AttributeValue::Bool(true)),
            ("nothing".into(), AttributeValue::Null(true)),
            (
                "ss".into(),
                AttributeValue::Ss(vec!["a".into(), "b".into()]),
            ),
            (
                "ns".into(),
                AttributeValue::Ns(vec!["1".into(), "2.5".into()]),
            ),
            (
                "bs".into(),
                AttributeValue::Bs(vec![Blob::new(b"x".to_vec())]),
            ),
            (
                "m".into(),
                AttributeValue::M(HashMap::from([("inner".into(), s("v"))])),
            ),
            (
                "l".into(),
                AttributeValue::L(vec![s("x"), AttributeValue::N("1".into())]),
            ),
        ])
    }

    fn record(new_image: HashMap<String, AttributeValue>) -> Record {
        Record::builder()
            .event_id("e1")
            .event_name(OperationType::Insert)
            .event_version("1.0")
            .event_source("aws:dynamodb")
            .aws_region("eu-west-1")
            .dynamodb(
                StreamRecord::builder()
                    .approximate_creation_date_time(DateTime::from_secs(1_700_000_000))
                    .keys("pk", s("req-1"))
                    .set_new_image(Some(new_image))
                    .sequence_number("1100000000017454423010")
                    .size_bytes(123)
                    .stream_view_type(StreamViewType::NewImage)
                    .build(),
            )
            .build()
    }

    #[test]
    fn produces_the_json_lambda_sends() {
        let converted = to_lambda_record(
            &record(HashMap::from([("pk".into(), s("req-1"))])),
            ARN,
            "us-east-1",
        )
        .expect("converts");
        assert_eq!(converted.sequence_number, "1100000000017454423010");
        assert_eq!(
            converted.json,
            json!({
                "eventID": "e1",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "eu-west-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1_700_000_000,
                    "Keys": {"pk": {"S": "req-1"}},
                    "NewImage": {"pk": {"S": "req-1"}},
                    "SequenceNumber": "1100000000017454423010",
                    "SizeBytes": 123,
                    "StreamViewType": "NEW_IMAGE"
                },
                "eventSourceARN": ARN
            })
        );
    }

    #[test]
    fn every_attribute_type_is_dynamodb_json() {
        let converted =
            to_lambda_record(&record(every_type()), ARN, "us-east-1").expect("converts");
        assert_eq!(
            converted.json["dynamodb"]["NewImage"],
            json!({
                "pk": {"S": "req-1"},
                "n": {"N": "4"},
                "b": {"B": "AP9iaW4="},
                "yes": {"BOOL": true},
                "nothing": {"NULL": true},
                "ss": {"SS": ["a", "b"]},
                "ns": {"NS": ["1", "2.5"]},
                "bs": {"BS": ["eA=="]},
                "m": {"M": {"inner": {"S": "v"}}},
                "l": {"L": [{"S": "x"}, {"N": "1"}]}
            })
        );
    }

    #[test]
    fn the_event_round_trips_into_aws_lambda_events() {
        let mut with_old = record(every_type());
        if let Some(change) = with_old.dynamodb.as_mut() {
            change.old_image = Some(HashMap::from([("pk".into(), s("old"))]));
        }
        with_old.user_identity = Some(
            Identity::builder()
                .r#type("Service")
                .principal_id("dynamodb.amazonaws.com")
                .build(),
        );
        let converted = to_lambda_record(&with_old, ARN, "us-east-1").expect("converts");
        let event: Event = serde_json::from_value(lambda_event(&[converted]))
            .expect("deserializes as Lambda's DynamoDB event");

        let [record] = event.records.as_slice() else {
            panic!("one record expected, got {}", event.records.len());
        };
        assert_eq!(record.event_name, "INSERT");
        assert_eq!(record.event_source.as_deref(), Some("aws:dynamodb"));
        assert_eq!(record.event_version.as_deref(), Some("1.1"));
        assert_eq!(record.event_source_arn.as_deref(), Some(ARN));
        assert_eq!(record.aws_region, "eu-west-1");
        let identity = record.user_identity.as_ref().expect("identity");
        assert_eq!(identity.type_, "Service");
        assert_eq!(identity.principal_id, "dynamodb.amazonaws.com");

        let change = &record.change;
        assert_eq!(
            change.approximate_creation_date_time.timestamp(),
            1_700_000_000
        );
        assert_eq!(
            change.sequence_number.as_deref(),
            Some("1100000000017454423010")
        );
        assert_eq!(change.size_bytes, 123);
        assert_eq!(change.stream_view_type, Some(LambdaViewType::NewImage));
        assert_eq!(change.keys.get("pk"), Some(&Dynamo::S("req-1".into())));
        assert_eq!(change.old_image.get("pk"), Some(&Dynamo::S("old".into())));

        let image = &change.new_image;
        assert_eq!(image.len(), 10);
        assert_eq!(image.get("n"), Some(&Dynamo::N("4".into())));
        assert_eq!(image.get("b"), Some(&Dynamo::B(b"\x00\xffbin".to_vec())));
        assert_eq!(image.get("yes"), Some(&Dynamo::Bool(true)));
        assert_eq!(image.get("nothing"), Some(&Dynamo::Null(true)));
        assert_eq!(
            image.get("ss"),
            Some(&Dynamo::Ss(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            image.get("ns"),
            Some(&Dynamo::Ns(vec!["1".into(), "2.5".into()]))
        );
        assert_eq!(image.get("bs"), Some(&Dynamo::Bs(vec![b"x".to_vec()])));
        assert_eq!(
            image.get("m"),
            Some(&Dynamo::M(HashMap::from([(
                "inner".into(),
                Dynamo::S("v".into())
            )])))
        );
        assert_eq!(
            image.get("l"),
            Some(&Dynamo::L(vec![
                Dynamo::S("x".into()),
                Dynamo::N("1".into())
            ]))
        );
    }

    #[test]
    fn a_record_without_sequence_number_is_an_error() {
        let mut broken = record(HashMap::new());
        if let Some(change) = broken.dynamodb.as_mut() {
            change.sequence_number = None;
        }
        assert_eq!(
            to_lambda_record(&broken, ARN, "us-east-1"),
            Err(ConvertError::Missing("e1".into(), "SequenceNumber"))
        );
    }
}
