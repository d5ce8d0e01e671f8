//! Where PM Cloud's record of a request stands (CONTRACT §13): an item of `GET …/AuthorizationRequest` (or the
//! answer of `GET …/AuthorizationRequest/{id}`), read for the PM Cloud sweep and the *Decision Updated* webhook.
//!
//! BeyondTrust confirms `id`, `requestInfo.created` and `accessDecision.status` (`1000` pending, `2000` approved,
//! `2001` denied). Who decided, when and for how long are read under the names PM Cloud's own notification call
//! uses (`decisionPerformedByUser`, `decisionTime`, `duration`: `Once` or seconds), which the record is inferred
//! to share; each is matched without regard to case, and a missing one is simply not used. Times are ISO 8601 or
//! `YYYY-MM-DD HH:MM:SS`, UTC when no zone is given. This file is the one place that knows these names.

use super::authorization_request::{text, text_of};
use crate::domain::duration::Duration;
use crate::domain::fields::MAX_STRING;
use crate::domain::ids::PmcRequestId;
use crate::domain::record::{DecidedIn, Decision, Outcome};
use crate::domain::request::RequestType;
use crate::domain::time::Timestamp;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

/// One of PM Cloud's authorization requests, as far as the sweep needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// `id`: PM Cloud's id of the request (the webhook's `%%RequestId%%`); `None` when it is not one the
    /// connector could take (CONTRACT §5's `pmcRequestId` rule).
    pub id: Option<PmcRequestId>,
    /// `requestInfo.created` (UTC), if readable.
    pub created: Option<Timestamp>,
    pub state: AccessState,
}

/// `accessDecision`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessState {
    /// `1000`: nobody decided yet.
    Pending,
    /// `2000` or `2001`.
    Decided(PmCloudDecision),
    /// No status, or one the connector does not know: left alone.
    Unknown,
}

/// A decision as PM Cloud records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PmCloudDecision {
    pub outcome: Outcome,
    /// `decisionPerformedByUser`.
    pub by: Option<String>,
    /// `decisionTime`.
    pub at: Option<Timestamp>,
    pub granted: Option<Granted>,
}

/// `duration`: `Once`, or seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granted {
    Once,
    Seconds(u64),
}

impl AuthorizationRequest {
    /// Reads an item; anything unexpected gives `None`s and [`AccessState::Unknown`], never an error.
    pub fn of(record: &Value) -> Self {
        let none = Map::new();
        let object = record.as_object().unwrap_or(&none);
        let info = object
            .get("requestInfo")
            .and_then(Value::as_object)
            .unwrap_or(&none);
        let decision = object
            .get("accessDecision")
            .and_then(Value::as_object)
            .unwrap_or(&none);
        Self {
            id: text_of(object, "id", MAX_STRING).and_then(|id| PmcRequestId::parse(&id).ok()),
            created: text_of(info, "created", MAX_STRING).and_then(|t| time(&t)),
            state: state_of(decision),
        }
    }
}

fn state_of(decision: &Map<String, Value>) -> AccessState {
    let status = decision
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("status"))
        .and_then(|(_, value)| text(value, MAX_STRING));
    let outcome = match status
        .as_deref()
        .map(str::trim)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("1000" | "pending") => return AccessState::Pending,
        Some("2000" | "approved") => Outcome::Approved,
        Some("2001" | "denied") => Outcome::Denied,
        _ => return AccessState::Unknown,
    };
    let granted = text_of(decision, "duration", MAX_STRING).and_then(|text| {
        let text = text.trim();
        if text.eq_ignore_ascii_case("once") {
            Some(Granted::Once)
        } else {
            text.parse().ok().map(Granted::Seconds)
        }
    });
    AccessState::Decided(PmCloudDecision {
        outcome,
        by: text_of(decision, "decisionPerformedByUser", MAX_STRING),
        at: text_of(decision, "decisionTime", MAX_STRING).and_then(|t| time(&t)),
        granted,
    })
}

/// ISO 8601 with a zone, or without one (`T` or a space between date and time) read as UTC.
fn time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

impl PmCloudDecision {
    /// The decision as the connector records it for a request of `request_type` (CONTRACT §13): made in PM
    /// Cloud, at `decisionTime` (else `found_at`, when the connector found it); `Once` → once; seconds →
    /// `expiresAt` exactly that long after, and the duration [`Duration::granted_seconds`]. An approval without
    /// a readable duration is recorded as once, the narrowest grant.
    pub fn decision(&self, request_type: RequestType, found_at: Timestamp) -> Decision {
        let decided_at = self.at.unwrap_or(found_at);
        let (duration, expires_at) = match (self.outcome, self.granted) {
            (Outcome::Denied | Outcome::Expired, _) => (None, None),
            // No duration PM Cloud's record names readably: the narrowest grant, once.
            (Outcome::Approved, Some(Granted::Once) | None) => (Some(Duration::Once), None),
            (Outcome::Approved, Some(Granted::Seconds(seconds))) => (
                Some(Duration::granted_seconds(
                    seconds,
                    request_type == RequestType::Admin,
                )),
                i64::try_from(seconds)
                    .ok()
                    .and_then(|s| decided_at.checked_add_signed(chrono::Duration::try_seconds(s)?)),
            ),
        };
        Decision {
            outcome: self.outcome,
            duration,
            expires_at,
            decided_by: self.by.clone(),
            decided_at,
            notes: None,
            decided_in: DecidedIn::PmCloud,
        }
    }
}

#[cfg(test)]
#[path = "access_decision_tests.rs"]
mod tests;
