//! What a ticket says (CONTRACT §9): a short description an agent can scan and a description with every detail.
//! The ServiceNow adapter places them in its fields ([`crate::servicenow::NewTicket`]).

use crate::domain::fields::is_hidden_or_control;
use crate::domain::record::{Origin, RequestRecord};
use crate::domain::request::RequestType;

/// The length of ServiceNow's `short_description` field, in characters.
const MAX_SHORT_DESCRIPTION: usize = 160;

/// `text` as every instance stores it and every agent reads it as it is: line breaks become `\n`, and each
/// character spelled `U+1F600` (uppercase hex, at least 4 digits) that is
/// - outside the Basic Multilingual Plane (above U+FFFF: emoji, 𝔘, …): ServiceNow instances on MySQL with `utf8`
///   (3-byte) columns cut a field at its first 4-byte character, silently losing the rest;
/// - a control character other than `\n` and `\t` (NUL, escape sequences, …), or one that shows nothing or
///   reorders or breaks text ([`is_hidden_or_control`]): such characters can make what an approver sees differ
///   from what was requested.
pub fn plain_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if spelled_out(c) {
            out.push_str(&format!("U+{:04X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

fn spelled_out(c: char) -> bool {
    u32::from(c) > 0xFFFF || (is_hidden_or_control(c) && c != '\n' && c != '\t')
}

/// [`plain_text`] on one line: line breaks and tabs become spaces.
fn one_line(text: &str) -> String {
    plain_text(text).replace(['\n', '\t'], " ")
}

/// The user as the ticket names them: the display name, else the account name; `None` when PM Cloud sent neither.
fn user_label(record: &RequestRecord) -> Option<String> {
    let user = record.details.user.as_ref()?;
    user.display_name
        .as_deref()
        .or(user.name.as_deref())
        .map(one_line)
}

/// At most 160 characters naming the application (or admin access), the user and the computer, as far as the
/// request names them (CONTRACT §9; every part is optional in v3). When too long, the application name is
/// shortened (ending in '…'); only when the user and computer alone do not fit is the whole text cut. The parts
/// pass through [`one_line`] first, so the length is that of the text sent.
pub fn short_description(record: &RequestRecord) -> String {
    let details = &record.details;
    let host = details
        .computer
        .as_ref()
        .and_then(|c| c.host_name.as_deref())
        .map(one_line);
    let user = user_label(record);
    let who = match (&user, &host) {
        (Some(user), Some(host)) => format!(" for {user} on {host}"),
        (Some(user), None) => format!(" for {user}"),
        (None, Some(host)) => format!(" on {host}"),
        (None, None) => format!(" (PM Cloud request {})", record.pmc_request_id),
    };
    let app = details.application.as_ref().and_then(|a| a.name.as_deref());
    let text = match (details.request_type, app.map(one_line)) {
        (RequestType::Application, Some(app)) => {
            let with = |app: &str| format!("Elevation request: {app}{who}");
            // Characters left for the application name; none when the user and computer alone overflow.
            let room = MAX_SHORT_DESCRIPTION.saturating_sub(with("").chars().count());
            if room > 0 {
                with(&truncate(&app, room))
            } else {
                with(&app)
            }
        }
        (RequestType::Application, None) => format!("Elevation request{who}"),
        (RequestType::Admin, _) => match (user, host) {
            (Some(user), Some(host)) => format!("Admin access request: {user} on {host}"),
            (Some(user), None) => format!("Admin access request: {user}"),
            (None, _) => format!("Admin access request{who}"),
        },
    };
    truncate(&text, MAX_SHORT_DESCRIPTION)
}

/// `text` when it has at most `max` (≥ 1) characters; otherwise its first `max - 1` followed by '…'.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// Whether PM Cloud confirmed the values a ticket shows (CONTRACT §5 "Read back from PM Cloud", §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// Read back from PM Cloud's Management API: these parts (`user`, `computer`, …) are PM Cloud's, the rest the
    /// webhook's.
    Confirmed(Vec<&'static str>),
    /// PM Cloud was asked but did not confirm them (`404`, no answer in time, `5xx`, `429`, a pause): the values
    /// are the webhook's; why, in a few words.
    NotConfirmed(String),
    /// No `pmCloud` settings: there was no one to ask.
    NotAsked,
}

impl Confirmation {
    /// The description's line about it, for a request that came as `origin` says.
    fn line(&self, origin: Origin) -> String {
        let came = match origin {
            Origin::Webhook => "as its webhook sent them",
            Origin::PmCloudSweep => {
                "as PM Cloud's list of requests gave them (its webhook never reached the connector)"
            }
        };
        match self {
            Self::Confirmed(parts) if parts.is_empty() => {
                format!(
                    "PM Cloud's record of the request holds none of these values; they are {came}."
                )
            }
            Self::Confirmed(parts) => format!(
                "Confirmed by PM Cloud's Management API: {}; anything else {came}.",
                parts.join(", ")
            ),
            Self::NotConfirmed(why) => format!(
                "PM Cloud did not confirm these values; they are {came} ({}).",
                one_line(why)
            ),
            Self::NotAsked => {
                format!("Values {came} (no pmCloud settings to confirm them with).")
            }
        }
    }
}

/// Every detail of the request, one `Label: value` per line (absent details are left out); a value's further lines
/// are indented, so that no text of the requester's can pass for a line of the connector's. The identifiers come
/// first, so that a description cut short by ServiceNow still carries them.
pub fn description(record: &RequestRecord, confirmation: &Confirmation) -> String {
    let d = &record.details;
    let mut lines = vec![
        format!("PM Cloud request id: {}", record.pmc_request_id),
        format!("Connector request id: {}", record.id),
        String::new(),
        "Elevation request from BeyondTrust Privilege Management Cloud".to_owned(),
        confirmation.line(record.origin),
        String::new(),
    ];
    let mut line = |label: &str, value: Option<&str>| {
        if let Some(value) = value {
            let value = plain_text(value).replace('\n', "\n    ");
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
    if let Some(user) = &d.user {
        line("User", user.name.as_deref());
        line("User display name", user.display_name.as_deref());
        line("User e-mail", user.email.as_deref());
    }
    if let Some(computer) = &d.computer {
        line("Computer", computer.host_name.as_deref());
        line("Operating system", computer.os.as_deref());
        line("Domain", computer.domain.as_deref());
    }
    if let Some(app) = &d.application {
        line("Application", app.name.as_deref());
        line("Application path", app.path.as_deref());
        line("Publisher", app.publisher.as_deref());
        line("Version", app.version.as_deref());
        line("SHA-256", app.sha256.as_deref());
        line("SHA-1", app.sha1.as_deref());
        line("Command line", app.command_line.as_deref());
    }
    if let Some(reason) = &d.reason {
        line("Reason", reason.choice.as_deref());
        line("Reason text", reason.text.as_deref());
    }
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
    for (key, value) in &d.details {
        line(key, Some(value));
    }
    lines.join("\n")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::request::Submission;
    use serde_json::{Value, json};
    use test_support::sample_body;

    /// The record of a request `body` submits.
    pub(crate) fn record(body: Value) -> RequestRecord {
        RequestRecord::new(
            Submission::parse(body.as_object().unwrap(), false).unwrap(),
            crate::domain::ids::RequestId::random(),
            crate::domain::time::now(),
        )
    }

    #[test]
    fn admin_requests_name_the_user_and_computer() {
        let mut body = sample_body("p");
        body["requestType"] = json!("admin");
        body.as_object_mut().unwrap().remove("application");
        body.as_object_mut().unwrap().remove("requestedDuration");
        let admin = record(body);
        assert_eq!(
            short_description(&admin),
            "Admin access request: Jane Doe on LT-0042"
        );
        assert!(
            description(&admin, &Confirmation::NotAsked)
                .contains("Requested duration: not specified")
        );
    }

    #[test]
    fn description_starts_with_the_identifiers() {
        let record = record(sample_body("pmc-77"));
        let text = description(&record, &Confirmation::NotAsked);
        let first: Vec<&str> = text.lines().take(2).collect();
        assert_eq!(
            first,
            [
                "PM Cloud request id: pmc-77".to_owned(),
                format!("Connector request id: {}", record.id),
            ]
        );
    }

    #[test]
    fn the_description_says_where_unconfirmed_values_came_from() {
        let confirmed = Confirmation::Confirmed(vec!["user", "computer"]);
        let mut record = record(sample_body("pmc-78"));
        assert!(description(&record, &confirmed).contains(
            "Confirmed by PM Cloud's Management API: user, computer; anything else as its webhook sent them."
        ));
        record.origin = Origin::PmCloudSweep;
        let text = description(&record, &confirmed);
        assert!(
            text.contains(
                "anything else as PM Cloud's list of requests gave them (its webhook never reached the connector)."
            ),
            "{text}"
        );
        assert!(!text.contains("webhook sent"), "{text}");
    }

    #[test]
    fn a_long_application_name_is_shortened_not_the_user_or_computer() {
        let mut body = sample_body("p");
        body["application"]["name"] = json!("W".repeat(300));
        let text = short_description(&record(body));
        assert_eq!(text.chars().count(), 160);
        assert!(text.starts_with("Elevation request: WWW"), "{text}");
        assert!(text.ends_with("W… for Jane Doe on LT-0042"), "{text}");
    }

    #[test]
    fn long_user_and_computer_leave_the_application_what_room_remains() {
        let mut body = sample_body("p");
        body["application"]["name"] = json!("W".repeat(300));
        body["user"]["displayName"] = json!("U".repeat(60));
        body["computer"]["hostName"] = json!("H".repeat(60));
        // 28 characters of wording + 120 of user and computer leave 12: 11 of the name and '…'.
        let expected = format!(
            "Elevation request: {}… for {} on {}",
            "W".repeat(11),
            "U".repeat(60),
            "H".repeat(60)
        );
        assert_eq!(short_description(&record(body)), expected);
    }

    #[test]
    fn user_and_computer_that_overflow_alone_cut_the_whole_text() {
        let mut body = sample_body("p");
        body["user"]["displayName"] = json!("U".repeat(100));
        body["computer"]["hostName"] = json!("H".repeat(100));
        let text = short_description(&record(body));
        assert_eq!(text.chars().count(), 160);
        assert!(
            text.starts_with("Elevation request: Wireshark for UUU"),
            "{text}"
        );
        assert!(text.ends_with("HH…"), "{text}");
    }

    #[test]
    fn plain_text_spells_characters_above_u_ffff() {
        assert_eq!(plain_text("a😀b𝔘c"), "aU+1F600bU+1D518c");
        assert_eq!(plain_text("\u{10000}\u{10FFFF}"), "U+10000U+10FFFF");
        let bmp = "é 中 \u{FFFF} ☃ plain\n\ttabbed";
        assert_eq!(plain_text(bmp), bmp);
    }

    #[test]
    fn plain_text_spells_control_and_reordering_characters() {
        assert_eq!(
            plain_text("a\0b\x07c\x1b[31md"),
            "aU+0000bU+0007cU+001B[31md"
        );
        assert_eq!(plain_text("evil\u{202E}exe.pdf"), "evilU+202Eexe.pdf");
        assert_eq!(
            plain_text("x\u{2028}y\u{2066}z\u{200F}"),
            "xU+2028yU+2066zU+200F"
        );
        assert_eq!(plain_text("one\r\ntwo\rthree"), "one\ntwo\nthree");
    }

    #[test]
    fn a_requesters_line_breaks_cannot_forge_a_line_of_the_connectors() {
        let mut body = sample_body("p");
        body["reason"]["text"] =
            json!("Need it\nRequested duration: forever\r\nPublisher: Microsoft");
        body["computer"]["hostName"] = json!("LT-0042\nApproved");
        let record = record(body);
        let description = description(&record, &Confirmation::NotAsked);
        assert!(
            description.contains(
                "Reason text: Need it\n    Requested duration: forever\n    Publisher: Microsoft"
            ),
            "{description}"
        );
        assert!(
            !description
                .lines()
                .any(|line| line == "Requested duration: forever"
                    || line.starts_with("Publisher: Microsoft")),
            "{description}"
        );
        let short = short_description(&record);
        assert!(
            !short.contains('\n') && short.contains("LT-0042 Approved"),
            "{short}"
        );
    }
}
