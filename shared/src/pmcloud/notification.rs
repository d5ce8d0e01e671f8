//! The body of `POST /management-api/v2/AuthorizationRequest/notification`, built only here (CONTRACT §12; the
//! field names are the ones BeyondTrust's API reference lists and public integrations send, not an official
//! schema).

use crate::domain::duration::Duration;
use crate::domain::record::{Decision, Outcome, RequestRecord};
use crate::domain::status::Status;
use crate::domain::time::Timestamp;
use serde::Serialize;

/// `decisionTime`'s form: `YYYY-MM-DD HH:MM:SS`, UTC (PM Cloud takes ServiceNow's form).
const DECISION_TIME: &str = "%Y-%m-%d %H:%M:%S";
const CANCELLED_MESSAGE: &str = "The ServiceNow ticket was closed without a decision";
/// Who PM Cloud is told decided when ServiceNow did not say (a cancellation, or a record without
/// `sys_updated_by`): every field must be a non-empty string.
const UNNAMED_DECIDER: &str = "ServiceNow";

/// `{"itsmRequestId", "systemId", "ticketId", "ticketUrl", "decision", "status", "duration",
/// "decisionPerformedByUser", "decisionTime", "message"}`, every value a string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationBody {
    /// PM Cloud's id of the request (`pmcRequestId`).
    pub itsm_request_id: String,
    /// The ticket's `sys_id`.
    pub system_id: String,
    /// The ticket's number.
    pub ticket_id: String,
    pub ticket_url: String,
    /// `Approved` or `Denied`.
    pub decision: &'static str,
    /// `2000` approved, `2001` denied.
    pub status: &'static str,
    /// See [`duration_text`].
    pub duration: String,
    pub decision_performed_by_user: String,
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    pub decision_time: String,
    pub message: String,
}

impl NotificationBody {
    /// The body for a decided or cancelled request; `None` for any other (nothing to tell PM Cloud yet).
    /// A cancellation is a denial "closed without a decision", at the time it was recorded.
    pub fn of(request: &RequestRecord) -> Option<Self> {
        let ticket = request.ticket.as_ref()?;
        let (outcome, duration, decided_by, decided_at, message) =
            match (request.status, &request.decision) {
                (Status::Approved | Status::Denied | Status::Expired, Some(decision)) => (
                    decision.outcome,
                    duration_text(decision),
                    decision.decided_by.clone(),
                    decision.decided_at,
                    // PM Cloud requires every field to be a non-empty string (CONTRACT §12 v3).
                    decision
                        .notes
                        .clone()
                        .filter(|notes| !notes.trim().is_empty())
                        .unwrap_or_else(|| {
                            match decision.outcome {
                                Outcome::Approved => "Approved in ServiceNow",
                                Outcome::Denied | Outcome::Expired => "Denied in ServiceNow",
                            }
                            .to_owned()
                        }),
                ),
                (Status::Cancelled, _) => (
                    Outcome::Denied,
                    ONCE.to_owned(),
                    None,
                    cancelled_at(request),
                    CANCELLED_MESSAGE.to_owned(),
                ),
                _ => return None,
            };
        // An expiry reaches PM Cloud as a denial, its message saying why (CONTRACT §15).
        let (decision, status) = match outcome {
            Outcome::Approved => ("Approved", "2000"),
            Outcome::Denied | Outcome::Expired => ("Denied", "2001"),
        };
        Some(Self {
            itsm_request_id: request.pmc_request_id.to_string(),
            system_id: ticket.sys_id.to_string(),
            ticket_id: ticket.number.clone(),
            ticket_url: ticket.url.clone(),
            decision,
            status,
            duration,
            decision_performed_by_user: decided_by
                .filter(|by| !by.trim().is_empty())
                .unwrap_or_else(|| UNNAMED_DECIDER.to_owned()),
            decision_time: decided_at.format(DECISION_TIME).to_string(),
            message,
        })
    }
}

const ONCE: &str = "Once";
/// PM Cloud's acceptance of this word is not verified (CONTRACT §8); it is written only here.
const FOREVER: &str = "Forever";

/// A decision's duration as PM Cloud takes it (CONTRACT §8): `Once` (also for denials), `Forever`, or the
/// number of seconds as a decimal string: minutes × 60, hours × 3600, days × 86400, and for months the seconds from
/// `decidedAt` to `expiresAt` (calendar months differ in length).
pub fn duration_text(decision: &Decision) -> String {
    let seconds = |s: i64| s.to_string();
    match (decision.outcome, decision.duration) {
        (Outcome::Denied | Outcome::Expired, _) | (_, None | Some(Duration::Once)) => {
            ONCE.to_owned()
        }
        (_, Some(Duration::Forever)) => FOREVER.to_owned(),
        (_, Some(fixed @ (Duration::Minutes(_) | Duration::Hours(_) | Duration::Days(_)))) => fixed
            .fixed_seconds()
            .map_or_else(|| ONCE.to_owned(), |s| seconds(s.into())),
        (_, Some(Duration::Months(_))) => decision
            .expires_at
            .map(|expires_at| seconds((expires_at - decision.decided_at).num_seconds()))
            .unwrap_or_else(|| ONCE.to_owned()),
    }
}

/// When a cancellation was recorded: the moment its push began to wait (it does not move while it waits).
fn cancelled_at(request: &RequestRecord) -> Timestamp {
    request
        .pm_cloud_notification
        .as_ref()
        .map_or(request.updated_at, |n| n.at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::SysId;
    use crate::domain::request::Submission;
    use crate::domain::ticket::{TaskType, Ticket};
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn at(h: u32, m: u32, s: u32) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 28, h, m, s).unwrap()
    }

    fn request() -> RequestRecord {
        let body = json!({
            "pmcRequestId": "pmc-42", "requestType": "application", "user": {"name": "ACME\\\\jdoe"},
            "computer": {"hostName": "LT-0042"},
            "application": {"name": "Wireshark", "path": "C:\\\\Tools\\\\Wireshark.exe"},
            "reason": {"text": "capture"}
        });
        RequestRecord::new(
            Submission::parse(body.as_object().unwrap(), false).unwrap(),
            crate::domain::ids::RequestId::random(),
            at(12, 0, 0),
        )
    }

    fn ticket() -> Ticket {
        let sys_id = SysId::parse("9d385017c611228701d22104cc95c371").unwrap();
        let instance = crate::domain::base_url::BaseUrl::parse(
            "https://acme.service-now.com",
            crate::domain::base_url::Hosts::Public,
        )
        .unwrap();
        Ticket::new(&instance, TaskType::Incident, "INC0010001".into(), sys_id)
    }

    fn decision(outcome: Outcome, duration: Option<Duration>, decided_at: Timestamp) -> Decision {
        Decision {
            outcome,
            duration,
            expires_at: duration.and_then(|d| d.expires_at(decided_at).unwrap()),
            decided_by: Some("alice.approver".into()),
            decided_at,
            notes: Some("Approved for the capture".into()),
            decided_in: crate::domain::record::DecidedIn::ServiceNow,
        }
    }

    #[test]
    fn an_approval_for_4_hours_carries_every_field() {
        let decided = request()
            .decided(
                decision(Outcome::Approved, Some(Duration::Hours(4)), at(12, 4, 5)),
                ticket(),
                true,
                at(12, 4, 6),
            )
            .unwrap();
        assert_eq!(
            serde_json::to_value(NotificationBody::of(&decided).unwrap()).unwrap(),
            json!({
                "itsmRequestId": "pmc-42",
                "systemId": "9d385017c611228701d22104cc95c371",
                "ticketId": "INC0010001",
                "ticketUrl": "https://acme.service-now.com/nav_to.do?uri=incident.do%3Fsys_id%3D9d385017c611228701d22104cc95c371",
                "decision": "Approved",
                "status": "2000",
                "duration": "14400",
                "decisionPerformedByUser": "alice.approver",
                "decisionTime": "2026-11-28 12:04:05",
                "message": "Approved for the capture"
            })
        );
    }

    #[test]
    fn durations_are_once_forever_or_seconds() {
        let at = at(12, 0, 0);
        let text = |duration| duration_text(&decision(Outcome::Approved, duration, at));
        assert_eq!(text(Some(Duration::Once)), "Once");
        assert_eq!(text(None), "Once");
        assert_eq!(text(Some(Duration::Forever)), "Forever");
        assert_eq!(text(Some(Duration::Hours(1))), "3600");
        assert_eq!(text(Some(Duration::Minutes(90))), "5400");
        assert_eq!(text(Some(Duration::Minutes(5))), "300");
        assert_eq!(text(Some(Duration::Days(2))), "172800");
        // 28 November + 3 months = 28 February: 30 + 31 + 31 days.
        assert_eq!(text(Some(Duration::Months(3))), (92 * 86_400).to_string());
        let jan31 = Utc.with_ymd_and_hms(2027, 1, 31, 9, 0, 0).unwrap();
        let one_month = decision(Outcome::Approved, Some(Duration::Months(1)), jan31);
        assert_eq!(duration_text(&one_month), (28 * 86_400).to_string());
        assert_eq!(
            duration_text(&decision(Outcome::Denied, Some(Duration::Hours(4)), at)),
            "Once"
        );
    }

    #[test]
    fn denials_and_cancellations_map_as_the_contract_says() {
        let mut denial = decision(Outcome::Denied, None, at(13, 0, 0));
        denial.notes = Some(" \n".into());
        denial.decided_by = None;
        let denied = request()
            .decided(denial, ticket(), true, at(13, 0, 1))
            .unwrap();
        let body = NotificationBody::of(&denied).unwrap();
        assert_eq!(
            (body.decision, body.status, body.duration.as_str()),
            ("Denied", "2001", "Once")
        );
        assert_eq!(
            body.message, "Denied in ServiceNow",
            "never an empty message"
        );
        let mut approval = decision(Outcome::Approved, Some(Duration::Hours(1)), at(13, 0, 0));
        approval.notes = None;
        let approved = request()
            .decided(approval, ticket(), true, at(13, 0, 1))
            .unwrap();
        assert_eq!(
            NotificationBody::of(&approved).unwrap().message,
            "Approved in ServiceNow"
        );
        assert_eq!(body.decision_performed_by_user, "ServiceNow");

        let cancelled = request()
            .ticketed(ticket(), at(12, 1, 0))
            .unwrap()
            .cancelled(ticket(), true, at(14, 30, 0))
            .unwrap();
        let body = NotificationBody::of(&cancelled).unwrap();
        assert_eq!((body.decision, body.status), ("Denied", "2001"));
        assert_eq!(
            body.message,
            "The ServiceNow ticket was closed without a decision"
        );
        assert_eq!(body.decision_time, "2026-11-28 14:30:00");
        assert_eq!(body.duration, "Once");

        assert_eq!(
            NotificationBody::of(&request()),
            None,
            "nothing to tell yet"
        );
    }
}
