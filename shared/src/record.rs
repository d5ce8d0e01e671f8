//! A stored request: what was asked, where it stands, and the resource PM Cloud reads (CONTRACT §7).

use crate::duration::Duration;
use crate::request::{ContentHash, NewRequest, PmcRequestId, RequestType};
use crate::status::Status;
use crate::time::{Timestamp, rfc3339};
use serde::{Deserialize, Serialize};

/// The connector's id for a request; also the ticket's `correlation_id`.
pub type RequestId = String;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub table: String,
    pub number: String,
    pub sys_id: String,
    pub url: String,
}

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub code: String,
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
    pub id: &'a str,
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
    pub fn new(details: NewRequest, content_hash: ContentHash, now: Timestamp) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
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
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    pub(crate) fn sample_request(pmc_request_id: &str) -> (NewRequest, ContentHash) {
        let body = json!({
            "pmcRequestId": pmc_request_id, "requestType": "application",
            "user": {"name": "ACME\\jdoe"}, "computer": {"hostName": "LT-0042"},
            "application": {"name": "Wireshark", "path": "C:\\Tools\\Wireshark.exe"},
            "reason": {"choice": "Troubleshooting"}
        });
        (
            NewRequest::parse(body.as_object().unwrap()).unwrap(),
            ContentHash::of(&body),
        )
    }

    pub(crate) fn sample_record(pmc_request_id: &str) -> RequestRecord {
        let (request, hash) = sample_request(pmc_request_id);
        RequestRecord::new(
            request,
            hash,
            Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap(),
        )
    }

    fn ticket() -> Ticket {
        Ticket {
            table: "incident".into(),
            number: "INC0010001".into(),
            sys_id: "a".repeat(32),
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
            code: "x".into(),
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
