//! Reading the `servicenow` and `pmCloud` objects field by field, every bad field named (CONTRACT §2).

use super::{PLACEHOLDER, PmCloudSettings, ServiceNowGrant, ServiceNowSettings};
use crate::domain::base_url::{BaseUrl, Hosts};
use crate::domain::duration::Duration;
use crate::domain::fields::{
    Collector, FieldError, MAX_STRING, ObjectReader, is_hidden_or_control,
};
use crate::domain::ids::SysId;
use crate::domain::request::RequestType;
use crate::domain::ticket::TaskType;
use serde_json::Value;

const DEFAULT_DURATION_FIELD: &str = "u_pm_duration";
/// CONTRACT §2 v3: a field the approver writes for the end user (PM Cloud may show it to them), never
/// `close_notes`, which is internal resolution text.
const DEFAULT_NOTES_FIELD: &str = "u_pm_message";

fn field_name(name: &str) -> Result<String, &'static str> {
    if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(name.to_owned())
    } else {
        Err("must be a ServiceNow field name (letters, digits and _)")
    }
}

/// Parses `value` on its own as the settings' part `key`, with `read`, naming every bad field (paths start with
/// `key.`).
pub(super) fn parse_part<T>(
    key: &str,
    value: &Value,
    read: impl FnOnce(&mut Collector, &ObjectReader<'_>) -> Option<T>,
) -> Result<T, Vec<FieldError>> {
    let mut c = Collector::default();
    let wrapper = serde_json::Map::from_iter([(key.to_owned(), value.clone())]);
    let root = c.root(&wrapper);
    let part = c.object(&root, key, true).and_then(|o| read(&mut c, &o));
    c.finish(|| part.expect("every missing field was reported"))
}

/// Reads the fields, collecting errors in `c`; `None` only when it reported a missing or bad required field.
pub(super) fn read_servicenow(
    c: &mut Collector,
    o: &ObjectReader<'_>,
    hosts: Hosts,
) -> Option<ServiceNowSettings> {
    let instance_url = c.parsed(o, "instanceUrl", true, MAX_STRING, |t| {
        filled_in(t).and_then(|t| BaseUrl::parse(t, hosts))
    });
    let errors_before = c.error_count();
    let grant_type = c.parsed(o, "grantType", false, MAX_STRING, |t| match t {
        "password" => Ok(false),
        "client_credentials" => Ok(true),
        _ => Err("must be password or client_credentials"),
    });
    // A bad grantType was reported: which credentials it needs cannot be told.
    let bad_grant_type = c.error_count() > errors_before;
    // With client_credentials, username and password are not required, and ignored (CONTRACT §2).
    let grant = if grant_type == Some(true) {
        Some(ServiceNowGrant::ClientCredentials)
    } else if bad_grant_type {
        None
    } else {
        let username = required_name(c, o, "username");
        let password = required_setting(c, o, "password");
        username
            .zip(password)
            .map(|(username, password)| ServiceNowGrant::Password {
                username,
                password: password.into(),
            })
    };
    // With client_credentials a clean `username` names the OAuth Application User; anything else (a placeholder,
    // white space) is ignored, as the grant does not read it.
    let application_user = o
        .get("username")
        .and_then(Value::as_str)
        .filter(|t| grant_type == Some(true) && !t.is_empty() && name(t).is_ok())
        .map(str::to_owned);
    let client_id = required_name(c, o, "clientId");
    let client_secret = required_setting(c, o, "clientSecret");
    let task_type = c.parsed(o, "taskType", true, MAX_STRING, TaskType::parse);
    let assignment_group = c.parsed(o, "assignmentGroup", false, 32, |t| {
        SysId::parse(t)
            .map_err(|_| "must be the sys_id (32 hexadecimal digits) of a sys_user_group")
    });
    let duration_field = c.parsed(o, "durationField", false, 80, field_name);
    let notes_field = c.parsed(o, "notesField", false, 80, field_name);
    let allow_forever = c.boolean(o, "allowForever").unwrap_or(false);
    let default_duration = c
        .string(o, "defaultDuration", false, MAX_STRING)
        .and_then(|text| match Duration::from_servicenow_text(&text) {
            Ok(duration) => duration,
            Err(e) => {
                c.push(o.child_path("defaultDuration"), e.without_value());
                None
            }
        })
        .filter(|duration| {
            // The default applies to application requests (admin ones default to what they asked for, §8).
            let admitted = RequestType::Application.admits(*duration, allow_forever);
            if let Err(why) = admitted {
                c.push(o.child_path("defaultDuration"), format!("{duration} {why}"));
            }
            admitted.is_ok()
        });
    let approvals = super::approvals::read_approvals(c, o);
    Some(ServiceNowSettings {
        instance_url: instance_url?,
        grant: grant?,
        client_id: client_id?,
        client_secret: client_secret?.into(),
        task_type: task_type?,
        assignment_group,
        duration_field: duration_field.unwrap_or_else(|| DEFAULT_DURATION_FIELD.to_owned()),
        notes_field: notes_field.unwrap_or_else(|| DEFAULT_NOTES_FIELD.to_owned()),
        default_duration: default_duration.unwrap_or(Duration::Once),
        allow_forever,
        application_user,
        approvals,
    })
}

/// `text`, unless it still holds the template's placeholder. Errors: "still holds the template's placeholder".
fn filled_in(text: &str) -> Result<&str, &'static str> {
    if text.contains(PLACEHOLDER) {
        Err("still holds the template's placeholder (REPLACE-ME): put your own value")
    } else {
        Ok(text)
    }
}

/// A required string setting that has been filled in (not the template's placeholder).
fn required_setting(c: &mut Collector, o: &ObjectReader<'_>, key: &str) -> Option<String> {
    c.parsed(o, key, true, MAX_STRING, |t| {
        filled_in(t).map(str::to_owned)
    })
}

/// A required name (`clientId`, `username`): see [`name`].
fn required_name(c: &mut Collector, o: &ObjectReader<'_>, key: &str) -> Option<String> {
    c.parsed(o, key, true, MAX_STRING, |t| name(t).map(str::to_owned))
}

/// `text` as a name: filled in, with no white space at either end and no control character, which in a name are
/// slips of pasting that the remote side would refuse less helpfully. Errors: which rule it breaks.
fn name(text: &str) -> Result<&str, &'static str> {
    let text = filled_in(text)?;
    if text.trim() != text {
        Err("must not begin or end with white space")
    } else if text.chars().any(is_hidden_or_control) {
        Err("must not contain a control or invisible character such as a line break")
    } else {
        Ok(text)
    }
}

/// Reads the `pmCloud` fields, collecting errors in `c`; `None` when one is missing or bad.
pub(super) fn read_pm_cloud(
    c: &mut Collector,
    o: &ObjectReader<'_>,
    hosts: Hosts,
) -> Option<PmCloudSettings> {
    let api_url = c.parsed(o, "apiUrl", true, MAX_STRING, |t| {
        filled_in(t).and_then(|t| BaseUrl::parse(t, hosts))
    });
    let client_id = required_name(c, o, "clientId");
    let client_secret = required_setting(c, o, "clientSecret");
    let admin_decision_path = c.parsed(o, "adminDecisionPath", false, 200, api_path);
    Some(PmCloudSettings {
        api_url: api_url?,
        client_id: client_id?,
        client_secret: client_secret?.into(),
        admin_decision_path,
    })
}

/// A path on PM Cloud's API host: `/` then letters, digits and `/ _ - . ~`, without `//` or `..`, so that joined
/// to `apiUrl` it stays on that host.
fn api_path(text: &str) -> Result<String, &'static str> {
    let safe = text.starts_with('/')
        && !text.contains("//")
        && !text.contains("..")
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'.' | b'~'));
    if safe {
        Ok(text.to_owned())
    } else {
        Err(
            "must be a path on the API host, such as /management-api/v2/…: a leading /, then letters, digits and / _ - . ~",
        )
    }
}
