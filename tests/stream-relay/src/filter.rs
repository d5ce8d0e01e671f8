//! The subset of Lambda's event filtering that the template uses: nested objects descend into the
//! record, arrays list the scalar values a field may equal. Anything else is refused up front, so a
//! pattern never silently means something different here than in AWS.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// Every named field must exist and match its pattern.
    Fields(Vec<(String, Pattern)>),
    /// The field must equal one of these scalars (or, for a list field, contain one of them).
    OneOf(Vec<Value>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("filter pattern is not JSON: {0}")]
    NotJson(String),
    #[error("filter pattern must be a JSON object at the top, found {0}")]
    NotAnObject(String),
    #[error(
        "filter pattern at {path}: unsupported construct {construct} (only nested objects and arrays of exact values are supported)"
    )]
    Unsupported { path: String, construct: String },
    #[error("filter pattern at {0}: an empty array matches nothing")]
    EmptyArray(String),
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let value: Value =
            serde_json::from_str(text).map_err(|err| PatternError::NotJson(err.to_string()))?;
        match value {
            Value::Object(_) => Self::from_value(&value, "$"),
            other => Err(PatternError::NotAnObject(other.to_string())),
        }
    }

    fn from_value(value: &Value, path: &str) -> Result<Self, PatternError> {
        let unsupported = |construct: &Value| PatternError::Unsupported {
            path: path.to_owned(),
            construct: construct.to_string(),
        };
        match value {
            Value::Object(fields) => fields
                .iter()
                .map(|(key, inner)| {
                    Ok((
                        key.clone(),
                        Self::from_value(inner, &format!("{path}.{key}"))?,
                    ))
                })
                .collect::<Result<_, _>>()
                .map(Pattern::Fields),
            Value::Array(values) if values.is_empty() => {
                Err(PatternError::EmptyArray(path.to_owned()))
            }
            Value::Array(values) => match values.iter().find(|v| v.is_object() || v.is_array()) {
                Some(construct) => Err(unsupported(construct)),
                None => Ok(Pattern::OneOf(values.clone())),
            },
            // Lambda itself rejects a bare scalar; say so rather than guess it meant `[scalar]`.
            scalar => Err(unsupported(scalar)),
        }
    }

    pub fn matches(&self, value: &Value) -> bool {
        match self {
            Pattern::Fields(fields) => fields
                .iter()
                .all(|(key, pattern)| value.get(key).is_some_and(|inner| pattern.matches(inner))),
            Pattern::OneOf(allowed) => match value {
                Value::Array(items) => items.iter().any(|item| allowed.contains(item)),
                scalar => allowed.contains(scalar),
            },
        }
    }
}

/// Lambda lets a record through when any pattern matches, and everything through when there is none.
pub fn passes(patterns: &[Pattern], record: &Value) -> bool {
    patterns.is_empty() || patterns.iter().any(|pattern| pattern.matches(record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEMPLATE_PATTERN: &str = r#"{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"kind": {"S": ["request"]}, "status": {"S": ["pending"]}}}}"#;

    fn record(event_name: &str, kind: &str, status: &str) -> Value {
        json!({
            "eventName": event_name,
            "dynamodb": {"NewImage": {"pk": {"S": "a"}, "kind": {"S": kind}, "status": {"S": status}}}
        })
    }

    #[test]
    fn the_template_pattern_lets_pending_requests_through() {
        let pattern = Pattern::parse(TEMPLATE_PATTERN).expect("valid pattern");
        assert!(pattern.matches(&record("INSERT", "request", "pending")));
        assert!(pattern.matches(&record("MODIFY", "request", "pending")));
    }

    #[test]
    fn the_template_pattern_drops_everything_else() {
        let pattern = Pattern::parse(TEMPLATE_PATTERN).expect("valid pattern");
        assert!(!pattern.matches(&record("REMOVE", "request", "pending")));
        assert!(!pattern.matches(&record("INSERT", "request", "created")));
        assert!(!pattern.matches(&record("INSERT", "ticket", "pending")));
        // A field of another type (N instead of S) or a missing image does not match.
        assert!(!pattern.matches(&json!({
            "eventName": "INSERT",
            "dynamodb": {"NewImage": {"kind": {"S": "request"}, "status": {"N": "1"}}}
        })));
        assert!(!pattern.matches(&json!({"eventName": "INSERT", "dynamodb": {"Keys": {}}})));
    }

    #[test]
    fn any_pattern_may_match_and_none_means_all() {
        let insert = Pattern::parse(r#"{"eventName": ["INSERT"]}"#).expect("valid");
        let remove = Pattern::parse(r#"{"eventName": ["REMOVE"]}"#).expect("valid");
        let modify = record("MODIFY", "request", "pending");
        assert!(passes(&[], &modify));
        assert!(!passes(&[insert.clone(), remove.clone()], &modify));
        assert!(passes(&[insert, remove], &record("REMOVE", "x", "y")));
    }

    #[test]
    fn list_fields_match_when_any_element_is_allowed() {
        let pattern = Pattern::parse(r#"{"tags": {"SS": ["red"]}}"#).expect("valid");
        assert!(pattern.matches(&json!({"tags": {"SS": ["blue", "red"]}})));
        assert!(!pattern.matches(&json!({"tags": {"SS": ["blue"]}})));
    }

    #[test]
    fn non_string_scalars_compare_exactly() {
        let pattern = Pattern::parse(r#"{"a": [true, null, 3]}"#).expect("valid");
        assert!(pattern.matches(&json!({"a": true})));
        assert!(pattern.matches(&json!({"a": null})));
        assert!(pattern.matches(&json!({"a": 3})));
        assert!(!pattern.matches(&json!({"a": "true"})));
        assert!(!pattern.matches(&json!({})));
    }

    #[test]
    fn unsupported_constructs_are_refused_by_name() {
        for (text, construct) in [
            (
                r#"{"kind": {"S": [{"prefix": "req"}]}}"#,
                r#"{"prefix":"req"}"#,
            ),
            (r#"{"kind": [{"exists": true}]}"#, r#"{"exists":true}"#),
            (
                r#"{"n": [{"numeric": [">", 1]}]}"#,
                r#"{"numeric":[">",1]}"#,
            ),
            (r#"{"kind": "request"}"#, r#""request""#),
            (r#"{"kind": [["request"]]}"#, r#"["request"]"#),
        ] {
            let err = Pattern::parse(text).expect_err(text);
            assert!(
                matches!(&err, PatternError::Unsupported { construct: c, .. } if c == construct),
                "{text}: {err}"
            );
        }
        let err =
            Pattern::parse(r#"{"dynamodb": {"NewImage": {"kind": {"S": [{"prefix": "r"}]}}}}"#)
                .expect_err("prefix");
        assert!(
            err.to_string().contains("$.dynamodb.NewImage.kind.S"),
            "{err}"
        );
    }

    #[test]
    fn malformed_patterns_are_refused() {
        assert!(matches!(Pattern::parse("{"), Err(PatternError::NotJson(_))));
        assert!(matches!(
            Pattern::parse(r#"["INSERT"]"#),
            Err(PatternError::NotAnObject(_))
        ));
        assert!(matches!(
            Pattern::parse(r#"{"eventName": []}"#),
            Err(PatternError::EmptyArray(_))
        ));
    }
}
