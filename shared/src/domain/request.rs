//! An elevation request as PM Cloud submits it (CONTRACT §5), parsed once into types that hold only valid values.

use crate::domain::duration::Duration;
use crate::domain::fields::{Collector, FieldError, MAX_STRING, ObjectReader};
use crate::domain::ids::PmcRequestId;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub const MAX_REASON_TEXT: usize = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestType {
    /// An application to run elevated.
    Application,
    /// Time-boxed administrator rights.
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub name: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Computer {
    pub host_name: String,
    pub os: Option<String>,
    pub domain: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub name: Option<String>,
    pub path: Option<String>,
    pub publisher: Option<String>,
    pub version: Option<String>,
    pub sha256: Option<String>,
    pub command_line: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    pub choice: Option<String>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub workstyle: Option<String>,
    pub application_group: Option<String>,
    pub rule: Option<String>,
}

/// A valid submission. Unknown fields of the body are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRequest {
    pub pmc_request_id: PmcRequestId,
    pub request_type: RequestType,
    pub user: User,
    pub computer: Computer,
    pub application: Option<Application>,
    pub reason: Reason,
    pub requested_duration: Option<Duration>,
    pub policy: Option<Policy>,
}

/// A submission's fingerprint: equal for the same JSON value whatever the key order and white space,
/// which is what tells a retry (200) from a reuse of the id (409).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentHash(String);

impl ContentHash {
    /// The SHA-256 (hex) of the body's canonical form.
    pub fn of(body: &Map<String, Value>) -> Self {
        // serde_json's map keeps keys sorted, so serialising a parsed value is canonical.
        let canonical = serde_json::to_vec(body).expect("a JSON value always serialises");
        Self(hex::encode(Sha256::digest(&canonical)))
    }
}

/// A submission as `request-intake` accepts it: the parsed request and the fingerprint of the body it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub request: NewRequest,
    pub content_hash: ContentHash,
}

impl Submission {
    /// Parses a submission body (CONTRACT §5). Errors name every invalid field by its JSON path.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        Ok(Self {
            request: NewRequest::parse(body)?,
            content_hash: ContentHash::of(body),
        })
    }
}

fn email(text: &str) -> Result<String, &'static str> {
    let mut parts = text.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("must be an e-mail address");
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || !domain_ok || text.chars().any(char::is_whitespace) {
        return Err("must be an e-mail address");
    }
    Ok(text.to_owned())
}

fn sha256(text: &str) -> Result<String, &'static str> {
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(text.to_owned())
    } else {
        Err("must be 64 hexadecimal digits")
    }
}

impl NewRequest {
    /// Parses a submission body, naming every invalid field.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut c = Collector::default();
        let root = c.root(body);

        let pmc_request_id = c.parsed(&root, "pmcRequestId", true, usize::MAX, PmcRequestId::parse);
        let request_type = match root.get("requestType") {
            Some(Value::String(t)) if t == "application" => Some(RequestType::Application),
            Some(Value::String(t)) if t == "admin" => Some(RequestType::Admin),
            None => {
                c.push("requestType", "is required");
                None
            }
            Some(_) => {
                c.push("requestType", "must be application or admin");
                None
            }
        };

        let user = c.object(&root, "user", true).map(|o| User {
            name: c.string(&o, "name", true, MAX_STRING).unwrap_or_default(),
            email: c.parsed(&o, "email", false, MAX_STRING, email),
            display_name: c.string(&o, "displayName", false, MAX_STRING),
        });
        let computer = c.object(&root, "computer", true).map(|o| Computer {
            host_name: c
                .string(&o, "hostName", true, MAX_STRING)
                .unwrap_or_default(),
            os: c.string(&o, "os", false, MAX_STRING),
            domain: c.string(&o, "domain", false, MAX_STRING),
        });
        let app_required = request_type == Some(RequestType::Application);
        let application = c
            .object(&root, "application", app_required)
            .map(|o| read_application(&mut c, &o, app_required));
        let reason = c
            .object(&root, "reason", true)
            .and_then(|o| read_reason(&mut c, &o));
        let requested_duration = root.get("requestedDuration").and_then(|v| {
            Duration::from_json(v, "requestedDuration")
                .map_err(|errors| c.extend(errors))
                .ok()
        });
        let policy = c.object(&root, "policy", false).map(|o| Policy {
            workstyle: c.string(&o, "workstyle", false, MAX_STRING),
            application_group: c.string(&o, "applicationGroup", false, MAX_STRING),
            rule: c.string(&o, "rule", false, MAX_STRING),
        });

        c.finish(|| Self {
            pmc_request_id: pmc_request_id.expect("checked above"),
            request_type: request_type.expect("checked above"),
            user: user.expect("checked above"),
            computer: computer.expect("checked above"),
            application,
            reason: reason.expect("checked above"),
            requested_duration,
            policy,
        })
    }
}

fn read_application(
    c: &mut Collector,
    o: &ObjectReader<'_>,
    name_and_path_required: bool,
) -> Application {
    Application {
        name: c.string(o, "name", name_and_path_required, MAX_STRING),
        path: c.string(o, "path", name_and_path_required, MAX_STRING),
        publisher: c.string(o, "publisher", false, MAX_STRING),
        version: c.string(o, "version", false, MAX_STRING),
        sha256: c.parsed(o, "sha256", false, MAX_STRING, sha256),
        command_line: c.string(o, "commandLine", false, MAX_STRING),
    }
}

/// At least one of `choice` and `text` must be non-empty; a wrongly typed one is reported on its own.
fn read_reason(c: &mut Collector, o: &ObjectReader<'_>) -> Option<Reason> {
    let errors_before = c.error_count();
    let choice = c.string(o, "choice", false, MAX_STRING);
    let text = c.string(o, "text", false, MAX_REASON_TEXT);
    if choice.is_none() && text.is_none() && c.error_count() == errors_before {
        c.push(o.path().to_owned(), "needs a non-empty choice or text");
        return None;
    }
    Some(Reason { choice, text })
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
