//! What a ticket says (CONTRACT §9): a short description an agent can scan, a description with every detail,
//! and the fields that tie it to the request.

use crate::domain::record::RequestRecord;
use crate::domain::request::RequestType;
use crate::domain::settings::ServiceNowSettings;
use serde_json::{Map, Value};

const MAX_SHORT_DESCRIPTION: usize = 160;

/// The fields of the `POST /api/now/table/<taskType>` body.
pub fn ticket_fields(record: &RequestRecord, settings: &ServiceNowSettings) -> Map<String, Value> {
    let mut fields = Map::new();
    let mut set = |name: &str, value: String| {
        fields.insert(name.to_owned(), Value::String(value));
    };
    set("short_description", short_description(record));
    set("description", description(record));
    set("correlation_id", record.id.to_string());
    set("correlation_display", "PM Cloud".to_owned());
    set("approval", "requested".to_owned());
    if let Some(group) = &settings.assignment_group {
        set("assignment_group", group.to_string());
    }
    // Pre-filled so that an approver who agrees with the request only has to approve it.
    if let Some(duration) = record.details.requested_duration {
        set(&settings.duration_field, duration.to_string());
    }
    fields
}

fn user_label(record: &RequestRecord) -> &str {
    let user = &record.details.user;
    user.display_name.as_deref().unwrap_or(&user.name)
}

pub fn short_description(record: &RequestRecord) -> String {
    let details = &record.details;
    let host = &details.computer.host_name;
    let user = user_label(record);
    let text = match (
        details.request_type,
        details.application.as_ref().and_then(|a| a.name.as_deref()),
    ) {
        (RequestType::Application, Some(app)) => {
            format!("Elevation request: {app} for {user} on {host}")
        }
        (RequestType::Application, None) => format!("Elevation request for {user} on {host}"),
        (RequestType::Admin, _) => format!("Admin access request: {user} on {host}"),
    };
    truncate(&text, MAX_SHORT_DESCRIPTION)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

pub fn description(record: &RequestRecord) -> String {
    let d = &record.details;
    let mut lines = vec![
        "Elevation request from BeyondTrust Privilege Management Cloud".to_owned(),
        String::new(),
    ];
    let mut line = |label: &str, value: Option<&str>| {
        if let Some(value) = value {
            lines.push(format!("{label}: {value}"));
        }
    };
    line(
        "Request type",
        Some(match d.request_type {
            RequestType::Application => "run an application elevated",
            RequestType::Admin => "time-boxed administrator rights",
        }),
    );
    line("User", Some(&d.user.name));
    line("User display name", d.user.display_name.as_deref());
    line("User e-mail", d.user.email.as_deref());
    line("Computer", Some(&d.computer.host_name));
    line("Operating system", d.computer.os.as_deref());
    line("Domain", d.computer.domain.as_deref());
    if let Some(app) = &d.application {
        line("Application", app.name.as_deref());
        line("Application path", app.path.as_deref());
        line("Publisher", app.publisher.as_deref());
        line("Version", app.version.as_deref());
        line("SHA-256", app.sha256.as_deref());
        line("Command line", app.command_line.as_deref());
    }
    line("Reason", d.reason.choice.as_deref());
    line("Reason text", d.reason.text.as_deref());
    let duration = d.requested_duration.map(|duration| duration.to_string());
    line(
        "Requested duration",
        Some(duration.as_deref().unwrap_or("not specified")),
    );
    if let Some(policy) = &d.policy {
        line("Workstyle", policy.workstyle.as_deref());
        line("Application group", policy.application_group.as_deref());
        line("Rule", policy.rule.as_deref());
    }
    line("PM Cloud request id", Some(record.pmc_request_id.as_str()));
    line("Connector request id", Some(&record.id));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::Submission;
    use crate::domain::settings::tests::servicenow_settings_with as settings;
    use serde_json::json;
    use test_support::sample_body;

    fn record(body: Value) -> RequestRecord {
        RequestRecord::new(
            Submission::parse(body.as_object().unwrap()).unwrap(),
            crate::domain::time::now(),
        )
    }

    #[test]
    fn carries_the_correlation_approval_and_every_detail() {
        let record = record(sample_body("pmc-77"));
        let fields = ticket_fields(&record, &settings(json!({})));
        assert_eq!(fields["correlation_id"], record.id.as_str());
        assert_eq!(fields["correlation_display"], "PM Cloud");
        assert_eq!(fields["approval"], "requested");
        assert_eq!(fields["u_pm_duration"], "4 hours");
        assert!(!fields.contains_key("assignment_group"));
        assert_eq!(
            fields["short_description"],
            "Elevation request: Wireshark for Jane Doe on LT-0042"
        );
        let description = fields["description"].as_str().unwrap();
        for expected in [
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
        ] {
            assert!(
                description.contains(expected),
                "{expected} missing from:\n{description}"
            );
        }
        assert!(description.contains(&format!("Connector request id: {}", record.id)));
    }

    #[test]
    fn uses_the_configured_group_and_duration_field() {
        let group = "0123456789abcdef0123456789abcdef";
        let fields = ticket_fields(
            &record(sample_body("p")),
            &settings(json!({"assignmentGroup": group, "durationField": "u_len"})),
        );
        assert_eq!(fields["assignment_group"], group);
        assert_eq!(fields["u_len"], "4 hours");
    }

    #[test]
    fn admin_requests_and_long_names_fit_160_characters() {
        let mut body = sample_body("p");
        body["requestType"] = json!("admin");
        body.as_object_mut().unwrap().remove("application");
        body.as_object_mut().unwrap().remove("requestedDuration");
        let admin = record(body);
        assert_eq!(
            short_description(&admin),
            "Admin access request: Jane Doe on LT-0042"
        );
        assert!(description(&admin).contains("Requested duration: not specified"));

        let mut long = sample_body("p");
        long["application"]["name"] = json!("W".repeat(300));
        let text = short_description(&record(long));
        assert_eq!(text.chars().count(), 160);
        assert!(text.ends_with('…'));
    }
}
