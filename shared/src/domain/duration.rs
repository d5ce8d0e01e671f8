//! How long an approval lasts (CONTRACT §8): the JSON form, the ServiceNow text forms and `expiresAt`.

use crate::domain::fields::FieldError;
use crate::domain::time::Timestamp;
use chrono::Months;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::fmt;

/// A valid duration; the ranges are checked when one is built, so holders never re-check them. Which durations a
/// request can take depends on its type ([`crate::domain::request::RequestType::admits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Duration {
    Once,
    Forever,
    /// 5–1440 minutes: admin sessions only (BeyondTrust: an admin session lasts 5 minutes to 24 hours).
    Minutes(u16),
    Hours(u16),
    Days(u16),
    Months(u16),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("unknown duration type; expected once, forever, minutes, hours, days or months")]
    UnknownType,
    #[error("value must be a whole number from {min} to {max}")]
    OutOfRange { min: u16, max: u16 },
    #[error("`{0}` {hint}", hint = NOT_A_DURATION)]
    Unreadable(String),
    /// The end of the access would fall outside the dates the connector can represent (a decision time far in the
    /// future): the duration is invalid rather than a panic (CONTRACT §8).
    #[error("the access would end beyond the last date the connector can represent")]
    EndsOutOfRange,
}

const NOT_A_DURATION: &str = "is not a duration; write once, forever, `90 minutes`, `4 hours`, `2 days`, \
                              `3 months`, PT90M, PT4H, P2D or P3M";

impl DurationError {
    /// The message without the text that was read, for settings problems, which name fields, never values.
    pub fn without_value(&self) -> String {
        match self {
            Self::Unreadable(_) => NOT_A_DURATION.to_owned(),
            other => other.to_string(),
        }
    }
}

/// The unit of a bounded duration, with its range.
#[derive(Clone, Copy)]
enum Unit {
    Minutes,
    Hours,
    Days,
    Months,
}

impl Unit {
    /// The unit a JSON `type` (plural) or a ServiceNow text word (singular, plural, or `min`) names.
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "minutes" | "minute" | "min" | "mins" => Some(Self::Minutes),
            "hours" | "hour" => Some(Self::Hours),
            "days" | "day" => Some(Self::Days),
            "months" | "month" => Some(Self::Months),
            _ => None,
        }
    }

    fn range(self) -> (u16, u16) {
        match self {
            Self::Minutes => (5, 1440),
            Self::Hours => (1, 24),
            Self::Days => (1, 31),
            Self::Months => (1, 12),
        }
    }

    fn with_value(self, value: u64) -> Result<Duration, DurationError> {
        let (min, max) = self.range();
        let value = u16::try_from(value)
            .ok()
            .filter(|v| (min..=max).contains(v))
            .ok_or(DurationError::OutOfRange { min, max })?;
        Ok(match self {
            Self::Minutes => Duration::Minutes(value),
            Self::Hours => Duration::Hours(value),
            Self::Days => Duration::Days(value),
            Self::Months => Duration::Months(value),
        })
    }
}

impl Duration {
    pub fn minutes(value: u64) -> Result<Self, DurationError> {
        Unit::Minutes.with_value(value)
    }

    pub fn hours(value: u64) -> Result<Self, DurationError> {
        Unit::Hours.with_value(value)
    }

    pub fn days(value: u64) -> Result<Self, DurationError> {
        Unit::Days.with_value(value)
    }

    pub fn months(value: u64) -> Result<Self, DurationError> {
        Unit::Months.with_value(value)
    }

    /// The JSON `type` of this duration.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::Once => "once",
            Self::Forever => "forever",
            Self::Minutes(_) => "minutes",
            Self::Hours(_) => "hours",
            Self::Days(_) => "days",
            Self::Months(_) => "months",
        }
    }

    pub fn value(self) -> Option<u16> {
        match self {
            Self::Once | Self::Forever => None,
            Self::Minutes(v) | Self::Hours(v) | Self::Days(v) | Self::Months(v) => Some(v),
        }
    }

    /// The length in seconds for the units of fixed length (minutes, hours, days); `None` for once, forever and
    /// calendar months, whose length depends on when they start.
    pub fn fixed_seconds(self) -> Option<u32> {
        match self {
            Self::Minutes(m) => Some(u32::from(m) * 60),
            Self::Hours(h) => Some(u32::from(h) * 3600),
            Self::Days(d) => Some(u32::from(d) * 86_400),
            Self::Once | Self::Forever | Self::Months(_) => None,
        }
    }

    /// Reads the JSON form, naming every bad field under `path` (for example `requestedDuration.value`).
    pub fn from_json(value: &Value, path: &str) -> Result<Self, Vec<FieldError>> {
        let Some(object) = value.as_object() else {
            return Err(vec![FieldError::new(path, "must be an object with a type")]);
        };
        let type_path = format!("{path}.type");
        let value_path = format!("{path}.value");
        let kind = match object.get("type") {
            Some(Value::String(kind)) => kind.as_str(),
            None | Some(Value::Null) => {
                return Err(vec![FieldError::new(type_path, "is required")]);
            }
            Some(_) => return Err(vec![FieldError::new(type_path, "must be a string")]),
        };
        match kind {
            "once" => Ok(Self::Once),
            "forever" => Ok(Self::Forever),
            other => {
                let Some(unit) = Unit::from_name(other)
                    .filter(|_| matches!(other, "minutes" | "hours" | "days" | "months"))
                else {
                    return Err(vec![FieldError::new(
                        type_path,
                        DurationError::UnknownType.to_string(),
                    )]);
                };
                let number = match object.get("value") {
                    None | Some(Value::Null) => {
                        return Err(vec![FieldError::new(value_path, "is required")]);
                    }
                    Some(Value::Number(n)) => n.as_u64(),
                    Some(_) => None,
                };
                let (min, max) = unit.range();
                number
                    .ok_or(DurationError::OutOfRange { min, max })
                    .and_then(|n| unit.with_value(n))
                    .map_err(|e| vec![FieldError::new(value_path, e.to_string())])
            }
        }
    }

    /// Reads a ServiceNow field's text. `Ok(None)` for an empty field, which means the configured default.
    pub fn from_servicenow_text(text: &str) -> Result<Option<Self>, DurationError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let lower = text.to_ascii_lowercase();
        let unreadable = || DurationError::Unreadable(text.chars().take(40).collect());
        if lower == "once" {
            return Ok(Some(Self::Once));
        }
        if lower == "forever" {
            return Ok(Some(Self::Forever));
        }
        if let Some(iso) = lower.strip_prefix('p') {
            return parse_iso8601(iso).ok_or_else(unreadable)?.map(Some);
        }
        let mut words = lower.split_whitespace();
        let (Some(number), Some(unit), None) = (words.next(), words.next(), words.next()) else {
            return Err(unreadable());
        };
        let unit = Unit::from_name(unit).ok_or_else(unreadable)?;
        let number = parse_count(number).ok_or_else(unreadable)?;
        unit.with_value(number).map(Some)
    }

    /// When access granted at `decided_at` ends; `Ok(None)` for once and forever.
    /// Months are calendar months: 31 January + 1 month ends on the last day of February.
    /// Errors: [`DurationError::EndsOutOfRange`] when the end is past the last representable date (every add is
    /// checked: no decision time, however far off, can panic here).
    pub fn expires_at(self, decided_at: Timestamp) -> Result<Option<Timestamp>, DurationError> {
        let end = match self {
            Self::Once | Self::Forever => return Ok(None),
            Self::Months(m) => decided_at.checked_add_months(Months::new(u32::from(m))),
            fixed => fixed.fixed_seconds().and_then(|s| {
                decided_at.checked_add_signed(chrono::Duration::seconds(i64::from(s)))
            }),
        };
        end.map(Some).ok_or(DurationError::EndsOutOfRange)
    }
}

/// `4` but not `+4`, `4.0` or `04x`.
fn parse_count(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The part after `P`: `T90M`, `T4H`, `2D` or `3M` (ISO 8601: minutes and hours after `T`, days and months
/// before it). `None` when it is not one of those shapes.
fn parse_iso8601(rest: &str) -> Option<Result<Duration, DurationError>> {
    let (unit, digits) = if let Some(time) = rest.strip_prefix('t') {
        match time.strip_suffix('h') {
            Some(hours) => (Unit::Hours, hours),
            None => (Unit::Minutes, time.strip_suffix('m')?),
        }
    } else if let Some(days) = rest.strip_suffix('d') {
        (Unit::Days, days)
    } else {
        (Unit::Months, rest.strip_suffix('m')?)
    };
    parse_count(digits).map(|n| unit.with_value(n))
}

/// The readable form, which `from_servicenow_text` reads back: `once`, `forever`, `90 minutes`, `1 hour`, …
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (value, unit) = match self {
            Self::Once => return f.write_str("once"),
            Self::Forever => return f.write_str("forever"),
            Self::Minutes(v) => (v, "minute"),
            Self::Hours(v) => (v, "hour"),
            Self::Days(v) => (v, "day"),
            Self::Months(v) => (v, "month"),
        };
        let plural = if *value == 1 { "" } else { "s" };
        write!(f, "{value} {unit}{plural}")
    }
}

#[derive(Serialize, Deserialize)]
struct DurationJson {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<u16>,
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        DurationJson {
            kind: self.type_name().to_owned(),
            value: self.value(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = DurationJson::deserialize(deserializer)?;
        let mut object = serde_json::Map::new();
        object.insert("type".into(), Value::String(json.kind));
        if let Some(v) = json.value {
            object.insert("value".into(), Value::from(v));
        }
        Duration::from_json(&Value::Object(object), "duration").map_err(|errors| {
            let first = errors
                .into_iter()
                .next()
                .map(|e| e.message)
                .unwrap_or_default();
            serde::de::Error::custom(first)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;
    use serde_json::json;

    fn text(s: &str) -> Result<Option<Duration>, DurationError> {
        Duration::from_servicenow_text(s)
    }

    #[test]
    fn reads_every_text_form_case_insensitively() {
        let cases = [
            ("once", Duration::Once),
            ("ONCE", Duration::Once),
            ("Forever", Duration::Forever),
            ("4 hours", Duration::Hours(4)),
            ("1 hour", Duration::Hours(1)),
            ("2 days", Duration::Days(2)),
            ("1 Day", Duration::Days(1)),
            ("3 months", Duration::Months(3)),
            ("1 month", Duration::Months(1)),
            ("PT4H", Duration::Hours(4)),
            ("pt24h", Duration::Hours(24)),
            ("P2D", Duration::Days(2)),
            ("P3M", Duration::Months(3)),
            ("  12 MONTHS ", Duration::Months(12)),
            ("90 minutes", Duration::Minutes(90)),
            ("1440 Minutes", Duration::Minutes(1440)),
            ("5 minute", Duration::Minutes(5)),
            ("90 min", Duration::Minutes(90)),
            ("90 MINS", Duration::Minutes(90)),
            ("PT90M", Duration::Minutes(90)),
            ("pt5m", Duration::Minutes(5)),
        ];
        for (input, expected) in cases {
            assert_eq!(text(input), Ok(Some(expected)), "{input}");
        }
    }

    #[test]
    fn empty_text_means_the_default() {
        assert_eq!(text(""), Ok(None));
        assert_eq!(text("   "), Ok(None));
    }

    #[test]
    fn refuses_text_out_of_range_or_unreadable() {
        for input in [
            "0 hours",
            "25 hours",
            "32 days",
            "13 months",
            "PT0H",
            "PT4M",
            "4 minutes",
            "1441 min",
            "PT1441M",
            "PT25H",
            "P13M",
            "P0D",
        ] {
            assert!(
                matches!(text(input), Err(DurationError::OutOfRange { .. })),
                "{input}"
            );
        }
        for input in [
            "soon",
            "4",
            "hours",
            "4.5 hours",
            "-1 hours",
            "+4 hours",
            "4 weeks",
            "P1W",
            "P",
            "PT",
            "4 hours please",
            "P1Y",
            "P4H",
        ] {
            assert!(
                matches!(text(input), Err(DurationError::Unreadable(_))),
                "{input}"
            );
        }
    }

    #[test]
    fn reads_the_json_form() {
        assert_eq!(
            Duration::from_json(&json!({"type": "once"}), "d"),
            Ok(Duration::Once)
        );
        assert_eq!(
            Duration::from_json(&json!({"type": "forever"}), "d"),
            Ok(Duration::Forever)
        );
        assert_eq!(
            Duration::from_json(&json!({"type": "hours", "value": 4}), "d"),
            Ok(Duration::Hours(4))
        );
        assert_eq!(
            Duration::from_json(&json!({"type": "days", "value": 31}), "d"),
            Ok(Duration::Days(31))
        );
        assert_eq!(
            Duration::from_json(&json!({"type": "months", "value": 12}), "d"),
            Ok(Duration::Months(12))
        );
        assert_eq!(
            Duration::from_json(&json!({"type": "minutes", "value": 90}), "d"),
            Ok(Duration::Minutes(90))
        );
    }

    #[test]
    fn refuses_bad_json_forms_naming_the_field() {
        let field = |v: Value| {
            Duration::from_json(&v, "requestedDuration").unwrap_err()[0]
                .field
                .clone()
        };
        assert_eq!(
            field(json!({"type": "hours", "value": 0})),
            "requestedDuration.value"
        );
        assert_eq!(
            field(json!({"type": "hours", "value": 25})),
            "requestedDuration.value"
        );
        assert_eq!(
            field(json!({"type": "days", "value": 32})),
            "requestedDuration.value"
        );
        assert_eq!(
            field(json!({"type": "months", "value": 13})),
            "requestedDuration.value"
        );
        assert_eq!(
            field(json!({"type": "hours", "value": 1.5})),
            "requestedDuration.value"
        );
        assert_eq!(
            field(json!({"type": "hours", "value": -1})),
            "requestedDuration.value"
        );
        assert_eq!(
            field(json!({"type": "hours", "value": "4"})),
            "requestedDuration.value"
        );
        assert_eq!(field(json!({"type": "hours"})), "requestedDuration.value");
        assert_eq!(
            field(json!({"type": "weeks", "value": 1})),
            "requestedDuration.type"
        );
        assert_eq!(
            field(json!({"type": "hour", "value": 1})),
            "requestedDuration.type"
        );
        assert_eq!(
            field(json!({"type": "minutes", "value": 4})),
            "requestedDuration.value"
        );
        assert_eq!(
            field(json!({"type": "minutes", "value": 1441})),
            "requestedDuration.value"
        );
        assert_eq!(
            field(json!({"type": "min", "value": 90})),
            "requestedDuration.type"
        );
        assert_eq!(field(json!({"value": 1})), "requestedDuration.type");
        assert_eq!(field(json!({"type": 4})), "requestedDuration.type");
        assert_eq!(field(json!("4 hours")), "requestedDuration");
    }

    #[test]
    fn serialises_to_the_contract_form() {
        assert_eq!(
            serde_json::to_value(Duration::Hours(4)).unwrap(),
            json!({"type": "hours", "value": 4})
        );
        assert_eq!(
            serde_json::to_value(Duration::Once).unwrap(),
            json!({"type": "once"})
        );
        assert!(serde_json::from_value::<Duration>(json!({"type": "hours", "value": 30})).is_err());
    }

    #[test]
    fn expiry_adds_hours_days_and_calendar_months() {
        let at = |y, m, d, h| Utc.with_ymd_and_hms(y, m, d, h, 4, 5).unwrap();
        let decided = at(2026, 11, 28, 12);
        assert_eq!(
            Duration::Hours(4).expires_at(decided),
            Ok(Some(at(2026, 11, 28, 16)))
        );
        assert_eq!(
            Duration::Days(3).expires_at(decided),
            Ok(Some(at(2026, 12, 1, 12)))
        );
        assert_eq!(
            Duration::Months(3).expires_at(decided),
            Ok(Some(at(2027, 2, 28, 12)))
        );
        assert_eq!(
            Duration::Months(1).expires_at(at(2027, 1, 31, 9)),
            Ok(Some(at(2027, 2, 28, 9)))
        );
        assert_eq!(
            Duration::Months(1).expires_at(at(2028, 1, 31, 9)),
            Ok(Some(at(2028, 2, 29, 9)))
        );
        assert_eq!(
            Duration::Months(12).expires_at(at(2028, 2, 29, 9)),
            Ok(Some(at(2029, 2, 28, 9)))
        );
        assert_eq!(Duration::Once.expires_at(decided), Ok(None));
        assert_eq!(Duration::Forever.expires_at(decided), Ok(None));
    }

    #[test]
    fn expiry_never_panics_and_an_end_past_the_calendar_is_invalid() {
        let last = chrono::DateTime::<Utc>::MAX_UTC;
        for d in [
            Duration::Minutes(5),
            Duration::Hours(1),
            Duration::Days(1),
            Duration::Months(1),
        ] {
            assert_eq!(
                d.expires_at(last),
                Err(DurationError::EndsOutOfRange),
                "{d}"
            );
        }
        let decided = Utc.with_ymd_and_hms(2026, 11, 28, 12, 4, 5).unwrap();
        assert_eq!(
            Duration::Minutes(90).expires_at(decided),
            Ok(Some(Utc.with_ymd_and_hms(2026, 11, 28, 13, 34, 5).unwrap()))
        );
    }

    fn any_duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            Just(Duration::Once),
            Just(Duration::Forever),
            (5u16..=1440).prop_map(Duration::Minutes),
            (1u16..=24).prop_map(Duration::Hours),
            (1u16..=31).prop_map(Duration::Days),
            (1u16..=12).prop_map(Duration::Months),
        ]
    }

    proptest! {
        #[test]
        fn text_form_round_trips(d in any_duration()) {
            prop_assert_eq!(text(&d.to_string()), Ok(Some(d)));
            prop_assert_eq!(text(&d.to_string().to_uppercase()), Ok(Some(d)));
        }

        #[test]
        fn json_form_round_trips(d in any_duration()) {
            let json = serde_json::to_value(d).unwrap();
            prop_assert_eq!(Duration::from_json(&json, "d"), Ok(d));
        }

        #[test]
        fn ranges_hold_at_every_value(n in 0u64..2000) {
            prop_assert_eq!(Duration::minutes(n).is_ok(), (5..=1440).contains(&n));
            prop_assert_eq!(text(&format!("PT{n}M")).is_ok(), (5..=1440).contains(&n));
            prop_assert_eq!(text(&format!("{n} min")).is_ok(), (5..=1440).contains(&n));
            prop_assert_eq!(Duration::hours(n).is_ok(), (1..=24).contains(&n));
            prop_assert_eq!(Duration::days(n).is_ok(), (1..=31).contains(&n));
            prop_assert_eq!(Duration::months(n).is_ok(), (1..=12).contains(&n));
            prop_assert_eq!(text(&format!("PT{n}H")).is_ok(), (1..=24).contains(&n));
            prop_assert_eq!(text(&format!("{n} days")).is_ok(), (1..=31).contains(&n));
            prop_assert_eq!(text(&format!("P{n}M")).is_ok(), (1..=12).contains(&n));
        }

        #[test]
        fn months_never_overflow_into_the_next_month(day in 1u32..=31, months in 1u16..=12) {
            let start = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::days(i64::from(day - 1));
            let end = Duration::Months(months).expires_at(start).unwrap().unwrap();
            let expected_month = (u32::from(months)) % 12 + 1;
            prop_assert_eq!(chrono::Datelike::month(&end), expected_month);
        }
    }
}
