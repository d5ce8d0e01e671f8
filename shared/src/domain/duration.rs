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

    /// The duration PM Cloud granted as `seconds` (CONTRACT §13: a decision made in PM Cloud): the first form
    /// that is exact (whole minutes 5–1440 when `minutes_allowed`, i.e. admin sessions; whole hours 1–24; whole
    /// days 1–31), else the nearest whole number of days, at least 1 (the decision's `expiresAt` stays exact).
    pub fn granted_seconds(seconds: u64, minutes_allowed: bool) -> Self {
        let whole = |unit: u64, range: std::ops::RangeInclusive<u64>| {
            (seconds.is_multiple_of(unit) && range.contains(&(seconds / unit)))
                .then(|| u16::try_from(seconds / unit).expect("within the range"))
        };
        if minutes_allowed && let Some(minutes) = whole(60, 5..=1440) {
            return Self::Minutes(minutes);
        }
        if let Some(hours) = whole(3600, 1..=24) {
            return Self::Hours(hours);
        }
        if let Some(days) = whole(86_400, 1..=31) {
            return Self::Days(days);
        }
        let days = seconds.saturating_add(43_200) / 86_400;
        Self::Days(u16::try_from(days.max(1)).unwrap_or(u16::MAX))
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
#[path = "duration_tests.rs"]
mod tests;
