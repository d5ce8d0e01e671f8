//! A stored request: what was asked, where it stands, and the resource PM Cloud reads (CONTRACT §7).

use crate::domain::duration::Duration;
use crate::domain::ids::{PmcRequestId, RequestId};
use crate::domain::request::{ContentHash, NewRequest, RequestType, Submission};
use crate::domain::status::Status;
use crate::domain::ticket::Ticket;
use crate::domain::time::{Timestamp, rfc3339};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Approved,
    Denied,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub outcome: Outcome,
    pub duration: Option<Duration>,
    #[serde(with = "rfc3339::option")]
    pub expires_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    #[serde(with = "rfc3339")]
    pub decided_at: Timestamp,
    pub notes: Option<String>,
}

/// Why a request became `failed` (CONTRACT §7 `failure.code`), spelt as the contract spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureCode {
    /// The OAuth grant was refused, or the Table API refused a fresh token.
    #[serde(rename = "servicenow_auth_failed")]
    AuthFailed,
    /// ServiceNow refused the record: `400` (bad fields) or `403` (ACL, business rule, data policy).
    #[serde(rename = "servicenow_rejected")]
    Rejected,
    /// `404`: the table does not exist for this user, or an ACL hides it.
    #[serde(rename = "servicenow_not_found")]
    NotFound,
    /// The settings secret is invalid, so no ticket can be opened until an administrator fixes it.
    #[serde(rename = "settings_invalid")]
    SettingsInvalid,
}

impl FailureCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthFailed => "servicenow_auth_failed",
            Self::Rejected => "servicenow_rejected",
            Self::NotFound => "servicenow_not_found",
            Self::SettingsInvalid => "settings_invalid",
        }
    }
}

/// `{"code", "detail"}`: `detail` is written for an administrator and never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub code: FailureCode,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    pub id: RequestId,
    pub pmc_request_id: PmcRequestId,
    pub request_type: RequestType,
    pub status: Status,
    pub ticket: Option<Ticket>,
    pub decision: Option<Decision>,
    pub failure: Option<Failure>,
    #[serde(with = "rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "rfc3339")]
    pub updated_at: Timestamp,
    pub details: NewRequest,
    pub content_hash: ContentHash,
}

/// The request resource exactly as CONTRACT §7 shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestResource<'a> {
    pub id: &'a RequestId,
    pub pmc_request_id: &'a PmcRequestId,
    pub request_type: RequestType,
    pub status: Status,
    pub ticket: &'a Option<Ticket>,
    pub decision: &'a Option<Decision>,
    pub failure: &'a Option<Failure>,
    #[serde(with = "rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "rfc3339")]
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} request cannot become {to}")]
pub struct InvalidTransition {
    pub from: Status,
    pub to: Status,
}

impl RequestRecord {
    /// A new `pending` request with a fresh id.
    pub fn new(submission: Submission, now: Timestamp) -> Self {
        let Submission {
            request: details,
            content_hash,
        } = submission;
        Self {
            id: RequestId::random(),
            pmc_request_id: details.pmc_request_id.clone(),
            request_type: details.request_type,
            status: Status::Pending,
            ticket: None,
            decision: None,
            failure: None,
            created_at: now,
            updated_at: now,
            details,
            content_hash,
        }
    }

    pub fn resource(&self) -> RequestResource<'_> {
        RequestResource {
            id: &self.id,
            pmc_request_id: &self.pmc_request_id,
            request_type: self.request_type,
            status: self.status,
            ticket: &self.ticket,
            decision: &self.decision,
            failure: &self.failure,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// A copy moved to `next`, or the reason it may not move.
    fn moved_to(&self, next: Status, now: Timestamp) -> Result<Self, InvalidTransition> {
        if !self.status.can_move_to(next) {
            return Err(InvalidTransition {
                from: self.status,
                to: next,
            });
        }
        Ok(Self {
            status: next,
            updated_at: now,
            ..self.clone()
        })
    }

    pub fn ticketed(&self, ticket: Ticket, now: Timestamp) -> Result<Self, InvalidTransition> {
        let mut next = self.moved_to(Status::Ticketed, now)?;
        next.ticket = Some(ticket);
        Ok(next)
    }

    pub fn failed(&self, failure: Failure, now: Timestamp) -> Result<Self, InvalidTransition> {
        let mut next = self.moved_to(Status::Failed, now)?;
        next.failure = Some(failure);
        Ok(next)
    }

    /// Records an approval or denial; the ticket is recorded too, for a decision that beat `ticket-creator`.
    pub fn decided(
        &self,
        decision: Decision,
        ticket: Ticket,
        now: Timestamp,
    ) -> Result<Self, InvalidTransition> {
        let status = match decision.outcome {
            Outcome::Approved => Status::Approved,
            Outcome::Denied => Status::Denied,
        };
        let mut next = self.moved_to(status, now)?;
        next.decision = Some(decision);
        next.ticket.get_or_insert(ticket);
        Ok(next)
    }

    pub fn cancelled(&self, ticket: Ticket, now: Timestamp) -> Result<Self, InvalidTransition> {
        let mut next = self.moved_to(Status::Cancelled, now)?;
        next.ticket.get_or_insert(ticket);
        Ok(next)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::ids::SysId;
    use crate::domain::ticket::TaskType;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    pub(crate) fn sample_record(pmc_request_id: &str) -> RequestRecord {
        let body = json!({
            "pmcRequestId": pmc_request_id, "requestType": "application",
            "user": {"name": "ACME\\jdoe"}, "computer": {"hostName": "LT-0042"},
            "application": {"name": "Wireshark", "path": "C:\\Tools\\Wireshark.exe"},
            "reason": {"choice": "Troubleshooting"}
        });
        RequestRecord::new(
            Submission::parse(body.as_object().unwrap()).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap(),
        )
    }

    pub(crate) fn ticket() -> Ticket {
        Ticket {
            table: TaskType::Incident,
            number: "INC0010001".into(),
            sys_id: SysId::parse(&"a".repeat(32)).unwrap(),
            url: "https://acme.service-now.com/x".into(),
        }
    }

    #[test]
    fn resource_has_exactly_the_contract_fields() {
        let record = sample_record("p-1");
        let resource = serde_json::to_value(record.resource()).unwrap();
        let mut keys: Vec<_> = resource.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "createdAt",
                "decision",
                "failure",
                "id",
                "pmcRequestId",
                "requestType",
                "status",
                "ticket",
                "updatedAt"
            ]
        );
        assert_eq!(resource["status"], "pending");
        assert_eq!(resource["ticket"], json!(null));
        assert_eq!(resource["createdAt"], "2026-11-28T12:00:00Z");
    }

    #[test]
    fn ids_are_unique_and_fit_a_correlation_id() {
        let (a, b) = (sample_record("p"), sample_record("p"));
        assert_ne!(a.id, b.id);
        assert!(a.id.len() <= 100);
    }

    #[test]
    fn a_decision_keeps_the_recorded_ticket_and_records_a_missing_one() {
        let now = Utc::now();
        let decision = Decision {
            outcome: Outcome::Denied,
            duration: None,
            expires_at: None,
            decided_by: Some("alice".into()),
            decided_at: now,
            notes: None,
        };
        let pending = sample_record("p");
        let denied = pending.decided(decision.clone(), ticket(), now).unwrap();
        assert_eq!(
            (denied.status, denied.ticket.as_ref()),
            (Status::Denied, Some(&ticket()))
        );

        let mut other = ticket();
        other.number = "INC0099999".into();
        let ticketed = pending.ticketed(ticket(), now).unwrap();
        let denied = ticketed.decided(decision.clone(), other, now).unwrap();
        assert_eq!(denied.ticket.as_ref().unwrap().number, "INC0010001");
        assert!(
            denied.decided(decision, ticket(), now).is_err(),
            "a decision is final"
        );
    }

    #[test]
    fn failure_only_from_pending() {
        let failure = Failure {
            code: FailureCode::Rejected,
            detail: "y".into(),
        };
        let now = Utc::now();
        let failed = sample_record("p").failed(failure.clone(), now).unwrap();
        assert_eq!(failed.status, Status::Failed);
        let ticketed = sample_record("p").ticketed(ticket(), now).unwrap();
        assert_eq!(
            ticketed.failed(failure, now).unwrap_err(),
            InvalidTransition {
                from: Status::Ticketed,
                to: Status::Failed
            }
        );
    }
}
