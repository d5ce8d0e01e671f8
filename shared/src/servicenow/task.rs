//! What the connector writes to a task table, in ServiceNow's field names: a new ticket (CONTRACT §9), and a work
//! note (§14).

use crate::domain::ids::{RequestId, SysId};
use crate::domain::record::{Outcome, RequestRecord};
use crate::domain::settings::ServiceNowSettings;
use crate::domain::ticket_content::{Confirmation, description, short_description};
use serde_json::{Map, Value};

/// A new ticket: the body of `POST /api/now/table/<taskType>`. What the request says reaches it through
/// [`crate::domain::ticket_content`]; the rest is the connector's own ASCII (ids, durations, fixed words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket<'a> {
    pub short_description: String,
    pub description: String,
    /// The request's id, which ties every later read of the ticket to the request.
    pub correlation_id: &'a RequestId,
    pub assignment_group: Option<&'a SysId>,
    /// The configured duration field and [`crate::domain::request::NewRequest::prefilled_duration`], so that an
    /// approver who agrees with the request only has to approve it.
    pub duration: Option<(&'a str, String)>,
}

impl<'a> NewTicket<'a> {
    /// The ticket for `record` (its details as the ticket shows them, PM Cloud's where it confirmed them), with
    /// `settings`' assignment group and duration field.
    pub fn of(
        record: &'a RequestRecord,
        confirmation: &Confirmation,
        settings: &'a ServiceNowSettings,
    ) -> Self {
        Self {
            short_description: short_description(record),
            description: description(record, confirmation),
            correlation_id: &record.id,
            assignment_group: settings.assignment_group.as_ref(),
            duration: record
                .details
                .prefilled_duration()
                .map(|d| (settings.duration_field.as_str(), d.to_string())),
        }
    }

    /// The body: field name → string value. `correlation_display` marks the tickets the connector opened (the
    /// reconciler's query selects them) and `approval` starts at `requested`.
    pub fn fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        let mut set = |name: &str, value: String| {
            fields.insert(name.to_owned(), Value::String(value));
        };
        set("short_description", self.short_description.clone());
        set("description", self.description.clone());
        set("correlation_id", self.correlation_id.to_string());
        set("correlation_display", CORRELATION_DISPLAY.to_owned());
        set("approval", "requested".to_owned());
        if let Some(group) = self.assignment_group {
            set("assignment_group", group.to_string());
        }
        if let Some((field, text)) = &self.duration {
            set(field, text.clone());
        }
        fields
    }
}

/// A work note (CONTRACT §14): the body of `PATCH /api/now/table/<table>/<sys_id>`. `work_notes` is a journal
/// field: writing it appends an entry (DESIGN.md). With a decision made in PM Cloud, the ticket's `approval` is set
/// to match in the same call (§13), which the connector then reads as the decision it already holds (§10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkNoteUpdate<'a> {
    pub text: &'a str,
    pub approval: Option<Outcome>,
}

impl WorkNoteUpdate<'_> {
    /// The body: `{"work_notes": text}`, with `"approval": "approved"|"rejected"` when set.
    pub fn fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("work_notes".to_owned(), Value::from(self.text));
        if let Some(outcome) = self.approval {
            let approval = match outcome {
                Outcome::Approved => "approved",
                Outcome::Denied | Outcome::Expired => "rejected",
            };
            fields.insert("approval".to_owned(), Value::from(approval));
        }
        fields
    }
}

/// The `correlation_display` of every ticket the connector opens.
pub(crate) const CORRELATION_DISPLAY: &str = "PM Cloud";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::tests::servicenow_settings_with as settings;
    use crate::domain::ticket_content::tests::record;
    use serde_json::json;
    use test_support::sample_body;

    /// Fails naming each of `expected` that the description field does not contain.
    fn assert_describes(fields: &Map<String, Value>, expected: &[&str]) {
        let description = fields["description"].as_str().unwrap();
        for expected in expected {
            assert!(
                description.contains(expected),
                "{expected} missing from:\n{description}"
            );
        }
    }

    fn new_ticket_fields(
        record: &RequestRecord,
        settings: &ServiceNowSettings,
    ) -> Map<String, Value> {
        NewTicket::of(record, &Confirmation::NotAsked, settings).fields()
    }

    #[test]
    fn a_work_note_sets_the_approval_only_for_a_decision_made_in_pm_cloud() {
        let note = WorkNoteUpdate {
            text: "PM Cloud accepted",
            approval: None,
        };
        assert_eq!(
            Value::Object(note.fields()),
            json!({"work_notes": "PM Cloud accepted"})
        );
        for (outcome, approval) in [
            (Outcome::Approved, "approved"),
            (Outcome::Denied, "rejected"),
        ] {
            let note = WorkNoteUpdate {
                text: "Decided in PM Cloud",
                approval: Some(outcome),
            };
            assert_eq!(
                Value::Object(note.fields()),
                json!({"work_notes": "Decided in PM Cloud", "approval": approval})
            );
        }
    }

    #[test]
    fn carries_the_correlation_approval_and_every_detail() {
        let record = record(sample_body("pmc-77"));
        let fields = new_ticket_fields(&record, &settings(json!({})));
        assert_eq!(fields["correlation_id"], record.id.as_str());
        assert_eq!(fields["correlation_display"], "PM Cloud");
        assert_eq!(fields["approval"], "requested");
        assert_eq!(fields["u_pm_duration"], "4 hours");
        assert!(!fields.contains_key("assignment_group"));
        assert_eq!(
            fields["short_description"],
            "Elevation request: Wireshark for Jane Doe on LT-0042"
        );
        assert_describes(
            &fields,
            &[
                "User: ACME\\jdoe",
                "Computer: LT-0042",
                "Application path: C:\\Tools\\Wireshark\\Wireshark.exe",
                "Publisher: Wireshark Foundation",
                "Version: 4.2.5",
                "SHA-256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "Reason: Troubleshooting",
                "Reason text: Need to capture traffic for INC0012345",
                "Requested duration: 4 hours",
                "Workstyle: Developers",
                "PM Cloud request id: pmc-77",
            ],
        );
        let description = fields["description"].as_str().unwrap();
        assert!(description.contains(&format!("Connector request id: {}", record.id)));
    }

    #[test]
    fn uses_the_configured_group_and_duration_field() {
        let group = "0123456789abcdef0123456789abcdef";
        let fields = new_ticket_fields(
            &record(sample_body("p")),
            &settings(json!({"assignmentGroup": group, "durationField": "u_len"})),
        );
        assert_eq!(fields["assignment_group"], group);
        assert_eq!(fields["u_len"], "4 hours");
    }

    #[test]
    fn an_admin_request_without_a_duration_is_pre_filled_with_60_minutes_an_application_one_with_nothing()
     {
        let mut admin = sample_body("p-admin");
        admin["requestType"] = json!("admin");
        admin.as_object_mut().unwrap().remove("requestedDuration");
        let fields = new_ticket_fields(&record(admin.clone()), &settings(json!({})));
        assert_eq!(fields["u_pm_duration"], "60 minutes");
        admin["requestedDuration"] = json!({"type": "minutes", "value": 90});
        let fields = new_ticket_fields(&record(admin), &settings(json!({})));
        assert_eq!(fields["u_pm_duration"], "90 minutes");
        let mut app = sample_body("p-app");
        app.as_object_mut().unwrap().remove("requestedDuration");
        let fields = new_ticket_fields(&record(app), &settings(json!({})));
        assert!(!fields.contains_key("u_pm_duration"), "the default applies");
    }

    #[test]
    fn no_field_carries_a_character_above_u_ffff() {
        let mut body = sample_body("p");
        body["application"]["name"] = json!("Wire😀shark");
        body["user"]["displayName"] = json!("Jane 𝔘");
        body["reason"]["text"] = json!("Need it 🙏 today");
        body["policy"]["rule"] = json!("Rule 🚀");
        let fields = new_ticket_fields(&record(body), &settings(json!({})));
        for (name, value) in &fields {
            let text = value.as_str().unwrap();
            assert!(
                text.chars().all(|c| u32::from(c) <= 0xFFFF),
                "{name}: {text}"
            );
        }
        assert_eq!(
            fields["short_description"],
            "Elevation request: WireU+1F600shark for Jane U+1D518 on LT-0042"
        );
        assert_describes(
            &fields,
            &[
                "User display name: Jane U+1D518",
                "Application: WireU+1F600shark",
                "Reason text: Need it U+1F64F today",
                "Rule: Rule U+1F680",
            ],
        );
    }

    #[test]
    fn the_short_description_fits_160_characters_once_spelled() {
        let mut body = sample_body("p");
        body["application"]["name"] = json!("W".repeat(300));
        body["user"]["displayName"] = json!("Jane 😀");
        let fields = new_ticket_fields(&record(body), &settings(json!({})));
        let text = fields["short_description"].as_str().unwrap();
        assert_eq!(text.chars().count(), 160);
        assert!(text.ends_with("W… for Jane U+1F600 on LT-0042"), "{text}");

        let mut body = sample_body("p");
        body["computer"]["hostName"] = json!("😀".repeat(30));
        let fields = new_ticket_fields(&record(body), &settings(json!({})));
        let text = fields["short_description"].as_str().unwrap();
        assert_eq!(text.chars().count(), 160);
    }
}
