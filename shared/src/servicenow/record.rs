//! A task record as the Table API returns it: every value a string, reference fields possibly `{link, value}`;
//! and the [`TicketState`] read from it, in ServiceNow's field names (its "Task" table reference).

use super::error::ServiceNowError;
use super::wire::parse_datetime;
use crate::domain::base_url::BaseUrl;
use crate::domain::ids::{RequestId, SysId};
use crate::domain::settings::ServiceNowSettings;
use crate::domain::ticket::{TaskType, Ticket};
use crate::domain::ticket_state::{Approval, TicketState};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The fields a [`TicketState`] is read from: these, and the configured duration and notes fields.
const STATE_FIELDS: [&str; 8] = [
    "sys_id",
    "number",
    "correlation_id",
    "approval",
    "active",
    "sys_created_by",
    "sys_updated_by",
    "sys_updated_on",
];

/// Every field [`TaskRecord::state`] reads, for `sysparm_fields`.
pub(crate) fn state_fields(settings: &ServiceNowSettings) -> Vec<&str> {
    STATE_FIELDS
        .iter()
        .copied()
        .chain([
            settings.duration_field.as_str(),
            settings.notes_field.as_str(),
        ])
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct TaskRecord(pub Map<String, Value>);

impl TaskRecord {
    /// The field's value as text; `None` when absent or empty. Reads `{"value": …}` reference shapes too.
    pub fn text(&self, field: &str) -> Option<&str> {
        let value = match self.0.get(field)? {
            Value::Object(reference) => reference.get("value")?,
            other => other,
        };
        value.as_str().map(str::trim).filter(|s| !s.is_empty())
    }

    /// `sys_id`, when it is one.
    pub fn sys_id(&self) -> Option<SysId> {
        self.text("sys_id").and_then(|t| SysId::parse(t).ok())
    }

    pub fn number(&self) -> Option<&str> {
        self.text("number")
    }

    /// `correlation_id`, when it could name a request of this connector.
    pub fn correlation_id(&self) -> Option<RequestId> {
        self.text("correlation_id")
            .and_then(|t| RequestId::parse(t).ok())
    }

    /// The reference the request records. Errors: transient when ServiceNow answered a record without its
    /// `sys_id` or number (a retry reads it again).
    pub fn ticket(
        &self,
        table: TaskType,
        instance_url: &BaseUrl,
    ) -> Result<Ticket, ServiceNowError> {
        let (Some(sys_id), Some(number)) = (self.sys_id(), self.number()) else {
            return Err(ServiceNowError::transient(
                "ServiceNow returned a ticket without its sys_id or number",
            ));
        };
        Ok(Ticket::new(instance_url, table, number.to_owned(), sys_id))
    }

    /// `sys_created_on` (UTC), when readable: where approval deadlines count from (CONTRACT §15).
    pub fn created_on(&self) -> Option<crate::domain::time::Timestamp> {
        self.text("sys_created_on").and_then(parse_datetime)
    }

    /// `sys_updated_on` (UTC), when readable.
    pub fn updated_on(&self) -> Option<crate::domain::time::Timestamp> {
        self.text("sys_updated_on").and_then(parse_datetime)
    }

    /// The ticket of `table` as a record read with [`state_fields`] shows it. Errors: as [`Self::ticket`].
    pub fn state(
        &self,
        table: TaskType,
        settings: &ServiceNowSettings,
    ) -> Result<TicketState, ServiceNowError> {
        let owned = |field: &str| self.text(field).map(str::to_owned);
        Ok(TicketState {
            ticket: self.ticket(table, &settings.instance_url)?,
            correlation: self.correlation_id(),
            approval: match self.text("approval") {
                Some("approved") => Approval::Approved,
                Some("rejected") => Approval::Rejected,
                _ => Approval::Undecided,
            },
            active: self.text("active") != Some("false"),
            created_by: owned("sys_created_by"),
            updated_by: owned("sys_updated_by"),
            updated_on: self.updated_on(),
            duration_text: owned(&settings.duration_field),
            notes: owned(&settings.notes_field),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::duration::Duration;
    use crate::domain::fields::FieldError;
    use crate::domain::record::{Decision, Outcome};
    use crate::domain::request::NewRequest;
    use crate::domain::settings::tests::servicenow_settings_with as settings;
    use crate::domain::ticket_state::{Verdict, verdict};
    use crate::domain::time::Timestamp;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn reads_strings_and_reference_values() {
        let record = TaskRecord(
            json!({
                "number": "INC0010001", "empty": "", "active": "false",
                "assignment_group": {"link": "https://x/api/now/table/sys_user_group/abc", "value": "abc"},
                "odd": 5
            })
            .as_object()
            .unwrap()
            .clone(),
        );
        assert_eq!(record.number(), Some("INC0010001"));
        assert_eq!(record.text("assignment_group"), Some("abc"));
        assert_eq!(record.text("active"), Some("false"));
        assert_eq!(record.text("empty"), None);
        assert_eq!(record.text("missing"), None);
        assert_eq!(record.text("odd"), None);
    }

    #[test]
    fn a_ticket_needs_a_sys_id_and_a_number() {
        let url = BaseUrl::parse(
            "https://acme.service-now.com",
            crate::domain::base_url::Hosts::Public,
        )
        .unwrap();
        let record = |fields: Value| TaskRecord(fields.as_object().unwrap().clone());
        let sys_id = "0123456789abcdef0123456789abcdef";
        let ticket = record(json!({"sys_id": sys_id, "number": "INC0010001"}))
            .ticket(TaskType::Incident, &url)
            .unwrap();
        assert_eq!(ticket.number, "INC0010001");
        assert_eq!(ticket.sys_id, sys_id);
        assert!(ticket.url.ends_with(sys_id));
        for incomplete in [
            json!({"number": "INC0010001"}),
            json!({"sys_id": sys_id}),
            json!({"sys_id": "not-a-sys-id", "number": "INC0010001"}),
        ] {
            assert!(matches!(
                record(incomplete).ticket(TaskType::Incident, &url),
                Err(ServiceNowError::Transient { .. })
            ));
        }
    }

    fn ticket(fields: Value) -> TaskRecord {
        let mut base = json!({
            "sys_id": "0123456789abcdef0123456789abcdef", "number": "INC0010001",
            "sys_updated_by": "alice.approver", "sys_updated_on": "2026-11-28 12:04:05", "active": "true"
        });
        base.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        TaskRecord(base.as_object().unwrap().clone())
    }

    fn verdict_of(
        fields: Value,
        settings: &ServiceNowSettings,
        now: Timestamp,
    ) -> Result<Verdict, FieldError> {
        verdict_on(&application(), fields, settings, now)
    }

    fn verdict_on(
        request: &NewRequest,
        fields: Value,
        settings: &ServiceNowSettings,
        now: Timestamp,
    ) -> Result<Verdict, FieldError> {
        let state = ticket(fields).state(TaskType::Incident, settings).unwrap();
        verdict(&state, request, settings, now)
    }

    fn request(body: Value) -> NewRequest {
        NewRequest::parse(body.as_object().unwrap(), true).unwrap()
    }

    fn application() -> NewRequest {
        request(
            json!({"pmcRequestId": "p-app", "requestedDuration": {"type": "hours", "value": 4}}),
        )
    }

    fn admin(requested: Option<Value>) -> NewRequest {
        let mut body = json!({"pmcRequestId": "p-admin", "requestType": "admin"});
        if let Some(requested) = requested {
            body["requestedDuration"] = requested;
        }
        request(body)
    }

    /// The duration an approval records for `request` with `text` in the duration field, or the refusal's message.
    fn duration_on(
        request: &NewRequest,
        text: &str,
        extra: Value,
    ) -> Result<Option<Duration>, String> {
        let fields = json!({"approval": "approved", "u_pm_duration": text});
        match verdict_on(request, fields, &settings(extra), chrono::Utc::now()) {
            Ok(Verdict::Decided(decision)) => Ok(decision.duration),
            Ok(other) => panic!("{other:?}"),
            Err(error) => {
                assert_eq!(error.field, "u_pm_duration");
                Err(error.message)
            }
        }
    }

    #[test]
    fn admin_sessions_take_minutes_or_hours_and_default_to_what_was_asked_else_an_hour() {
        let asked_two_hours = admin(Some(json!({"type": "hours", "value": 2})));
        assert_eq!(
            duration_on(&asked_two_hours, "90 minutes", json!({})),
            Ok(Some(Duration::Minutes(90)))
        );
        assert_eq!(
            duration_on(&asked_two_hours, "PT90M", json!({})),
            Ok(Some(Duration::Minutes(90)))
        );
        assert_eq!(
            duration_on(&asked_two_hours, "24 hours", json!({})),
            Ok(Some(Duration::Hours(24)))
        );
        assert_eq!(
            duration_on(&asked_two_hours, "", json!({})),
            Ok(Some(Duration::Hours(2)))
        );
        assert_eq!(
            duration_on(&admin(None), "", json!({})),
            Ok(Some(Duration::Minutes(60)))
        );
        for refused in [
            "2 days",
            "once",
            "forever",
            "1 month",
            "4 minutes",
            "1441 min",
        ] {
            let message =
                duration_on(&asked_two_hours, refused, json!({"allowForever": true})).unwrap_err();
            assert!(!message.is_empty(), "{refused}");
        }
        let message = duration_on(&asked_two_hours, "2 days", json!({})).unwrap_err();
        assert!(
            message.contains("admin sessions last 5 minutes to 24 hours")
                && message.contains("90 minutes"),
            "says what to write instead: {message}"
        );
    }

    #[test]
    fn application_requests_take_no_minutes_and_forever_only_when_allowed() {
        let app = application();
        assert!(
            duration_on(&app, "90 minutes", json!({}))
                .unwrap_err()
                .contains("not for applications")
        );
        assert!(
            duration_on(&app, "forever", json!({}))
                .unwrap_err()
                .contains("allowForever")
        );
        assert_eq!(
            duration_on(&app, "forever", json!({"allowForever": true})),
            Ok(Some(Duration::Forever))
        );
        assert_eq!(
            duration_on(&app, "", json!({})),
            Ok(Some(Duration::Once)),
            "defaultDuration"
        );
    }

    fn decided(fields: Value, extra: Value) -> Decision {
        match verdict_of(fields, &settings(extra), chrono::Utc::now()).unwrap() {
            Verdict::Decided(decision) => decision,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_approval_carries_duration_expiry_approver_time_and_notes() {
        let decision = decided(
            json!({"approval": "approved", "u_pm_duration": "4 hours", "u_pm_message": "Approved for the capture"}),
            json!({}),
        );
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 28, 12, 4, 5)
            .unwrap();
        assert_eq!(decision.outcome, Outcome::Approved);
        assert_eq!(decision.duration, Some(Duration::Hours(4)));
        assert_eq!(decision.decided_at, at);
        assert_eq!(
            decision.expires_at,
            Some(
                chrono::Utc
                    .with_ymd_and_hms(2026, 11, 28, 16, 4, 5)
                    .unwrap()
            )
        );
        assert_eq!(decision.decided_by.as_deref(), Some("alice.approver"));
        assert_eq!(decision.notes.as_deref(), Some("Approved for the capture"));
    }

    #[test]
    fn an_empty_duration_means_the_configured_default() {
        assert_eq!(
            decided(json!({"approval": "approved"}), json!({})).duration,
            Some(Duration::Once)
        );
        let decision = decided(
            json!({"approval": "approved", "u_pm_duration": ""}),
            json!({"defaultDuration": "P2D"}),
        );
        assert_eq!(decision.duration, Some(Duration::Days(2)));
        assert!(decision.expires_at.is_some());
        let once = decided(json!({"approval": "approved"}), json!({}));
        assert_eq!(once.expires_at, None);
    }

    #[test]
    fn configured_fields_are_read() {
        let decision = decided(
            json!({"approval": "approved", "u_len": "P3M", "work_notes": "ok"}),
            json!({"durationField": "u_len", "notesField": "work_notes"}),
        );
        assert_eq!(decision.duration, Some(Duration::Months(3)));
        assert_eq!(decision.notes.as_deref(), Some("ok"));
    }

    #[test]
    fn a_rejection_is_a_denial_without_duration() {
        let decision = decided(
            json!({"approval": "rejected", "u_pm_duration": "4 hours", "u_pm_message": "No"}),
            json!({}),
        );
        assert_eq!(
            (decision.outcome, decision.duration, decision.expires_at),
            (Outcome::Denied, None, None)
        );
        assert_eq!(decision.notes.as_deref(), Some("No"));
    }

    #[test]
    fn an_invalid_duration_on_an_approval_is_refused_naming_the_field() {
        let error = verdict_of(
            json!({"approval": "approved", "u_pm_duration": "25 hours"}),
            &settings(json!({})),
            chrono::Utc::now(),
        )
        .unwrap_err();
        assert_eq!(error.field, "u_pm_duration");
    }

    #[test]
    fn closed_without_a_decision_is_cancelled_and_anything_else_is_no_change() {
        let s = settings(json!({}));
        let now = chrono::Utc::now();
        assert_eq!(
            verdict_of(json!({"approval": "requested", "active": "false"}), &s, now),
            Ok(Verdict::Cancelled)
        );
        assert_eq!(
            verdict_of(json!({"approval": "cancelled", "active": "false"}), &s, now),
            Ok(Verdict::Cancelled)
        );
        assert_eq!(
            verdict_of(json!({"approval": "requested"}), &s, now),
            Ok(Verdict::Undecided)
        );
        assert_eq!(
            verdict_of(json!({"approval": "not requested"}), &s, now),
            Ok(Verdict::Undecided)
        );
        // A decision on a closed ticket is still the decision.
        assert!(matches!(
            verdict_of(json!({"approval": "rejected", "active": "false"}), &s, now),
            Ok(Verdict::Decided(_))
        ));
    }

    #[test]
    fn an_unreadable_update_time_falls_back_to_now() {
        let now = chrono::Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        let s = settings(json!({}));
        match verdict_of(
            json!({"approval": "rejected", "sys_updated_on": "yesterday"}),
            &s,
            now,
        )
        .unwrap()
        {
            Verdict::Decided(d) => assert_eq!(d.decided_at, now),
            other => panic!("{other:?}"),
        }
    }
}
