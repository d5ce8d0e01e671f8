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

/// Who asked (`%%User%%`). Every field is optional (CONTRACT §5 v3): PM Cloud's placeholders cannot fill all of
/// them, and an absent one is left out of the ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub name: Option<String>,
    pub email: Option<String>,
    pub display_name: Option<String>,
}

/// Where (`%%HostName%%`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Computer {
    pub host_name: Option<String>,
    pub os: Option<String>,
    pub domain: Option<String>,
}

/// What (`%%ProductDescription%%`, the SHA-1 hash). PM Cloud publishes no placeholder for the path, publisher,
/// version or SHA-256; they are kept for senders that have them. Hashes are stored lower-case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub name: Option<String>,
    pub path: Option<String>,
    pub publisher: Option<String>,
    pub version: Option<String>,
    pub sha256: Option<String>,
    #[serde(default)]
    pub sha1: Option<String>,
    pub command_line: Option<String>,
}

/// Why (`%%Reason%%`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    pub choice: Option<String>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub workstyle: Option<String>,
    pub application_group: Option<String>,
    pub rule: Option<String>,
}

/// PM Cloud values without a field of their own (`%%ApplicationType%%`, `%%DriveType%%` …), as `(key, value)` in
/// the order received (CONTRACT §5: at most [`MAX_DETAILS`], keys of [`is_detail_key`], values ≤ 1024 characters).
pub type Details = Vec<(String, String)>;

/// At most this many `details` entries (CONTRACT §5).
pub const MAX_DETAILS: usize = 40;

/// A valid submission. Only `pmcRequestId` is required (CONTRACT §5 v3); a part whose every field is absent is
/// `None`. Unknown fields of the body are ignored. Requests stored by v2 (with `user`, `computer` and `reason`
/// always present, no `details`) read as the same values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRequest {
    pub pmc_request_id: PmcRequestId,
    pub request_type: RequestType,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub computer: Option<Computer>,
    pub application: Option<Application>,
    #[serde(default)]
    pub reason: Option<Reason>,
    pub requested_duration: Option<Duration>,
    pub policy: Option<Policy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Details,
}

/// What an admin session without a stated duration lasts (CONTRACT §8): 60 minutes.
pub const ADMIN_SESSION_DEFAULT: Duration = Duration::Minutes(60);

impl NewRequest {
    /// The duration an approval means when its ticket's duration field is empty (CONTRACT §8): `configured`
    /// (`defaultDuration`) for application requests; for admin requests the requested duration, else
    /// [`ADMIN_SESSION_DEFAULT`]. The same duration is pre-filled on the ticket (§9).
    pub fn unstated_duration(&self, configured: Duration) -> Duration {
        match self.request_type {
            RequestType::Application => configured,
            RequestType::Admin => self.requested_duration.unwrap_or(ADMIN_SESSION_DEFAULT),
        }
    }

    /// What the ticket's duration field starts with (CONTRACT §9): the requested duration, or for an admin
    /// request without one [`ADMIN_SESSION_DEFAULT`]; `None` leaves the field empty (`defaultDuration` applies).
    pub fn prefilled_duration(&self) -> Option<Duration> {
        match self.request_type {
            RequestType::Application => self.requested_duration,
            RequestType::Admin => Some(self.unstated_duration(ADMIN_SESSION_DEFAULT)),
        }
    }
}

impl RequestType {
    /// Whether a request of this type can take `duration` (CONTRACT §8 v3, as PM Cloud offers them): application
    /// requests once, hours, days, months, and `forever` only when `allow_forever`; admin requests (a session of 5
    /// minutes to 24 hours) minutes or hours.
    /// Errors: why not, and what to write instead (for a `422` at intake and the ticket's work note, §14).
    pub fn admits(self, duration: Duration, allow_forever: bool) -> Result<(), &'static str> {
        match (self, duration) {
            (Self::Admin, Duration::Minutes(_) | Duration::Hours(_)) => Ok(()),
            (Self::Admin, _) => Err(
                "is not an admin session: admin sessions last 5 minutes to 24 hours; write, for example, \
                 90 minutes or 2 hours",
            ),
            (Self::Application, Duration::Minutes(_)) => Err(
                "is not for applications, which are granted once or for 1-24 hours, 1-31 days or 1-12 months; \
                 write, for example, once, 4 hours, 2 days or 3 months",
            ),
            (Self::Application, Duration::Forever) if !allow_forever => Err(
                "is not allowed: forever needs allowForever in the settings; write, for example, once, \
                 4 hours, 2 days or 3 months",
            ),
            (Self::Application, _) => Ok(()),
        }
    }
}

/// A submission's fingerprint: equal for the same JSON value whatever the key order and white space,
/// which is what tells a retry (200) from a reuse of the id (409).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentHash(String);

impl ContentHash {
    /// The SHA-256 (hex) of the body's canonical form: keys sorted at every level, no white space (the maps keep
    /// the order received, which `details` needs, so the order is made canonical here).
    pub fn of(body: &Map<String, Value>) -> Self {
        let canonical =
            serde_json::to_vec(&sorted_object(body)).expect("a JSON value always serialises");
        Self(hex::encode(Sha256::digest(&canonical)))
    }
}

/// `object` with its keys, and those of every object inside it, in sorted order.
fn sorted_object(object: &Map<String, Value>) -> Value {
    let mut entries: Vec<_> = object.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.clone(), sorted(v)))
            .collect(),
    )
}

/// `value` with the keys of every object in sorted order.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(object) => sorted_object(object),
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// A submission as `request-intake` accepts it: the parsed request and the fingerprint of the body it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub request: NewRequest,
    pub content_hash: ContentHash,
}

impl Submission {
    /// Parses a submission body (CONTRACT §5); `allow_forever` is the settings' `allowForever` (§8).
    /// Errors name every invalid field by its JSON path.
    pub fn parse(body: &Map<String, Value>, allow_forever: bool) -> Result<Self, Vec<FieldError>> {
        Ok(Self {
            request: NewRequest::parse(body, allow_forever)?,
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

/// `digits` hexadecimal digits, either case, stored lower-case.
fn hex_digest(text: &str, digits: usize) -> Option<String> {
    (text.len() == digits && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

fn sha256(text: &str) -> Result<String, &'static str> {
    hex_digest(text, 64).ok_or("must be 64 hexadecimal digits")
}

fn sha1(text: &str) -> Result<String, &'static str> {
    hex_digest(text, 40).ok_or("must be 40 hexadecimal digits")
}

/// A `details` key: 1–64 characters of `A-Z a-z 0-9 _ . -` (CONTRACT §5).
pub fn is_detail_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl NewRequest {
    /// Parses a submission body, naming every invalid field; `allow_forever` as in [`RequestType::admits`].
    pub fn parse(body: &Map<String, Value>, allow_forever: bool) -> Result<Self, Vec<FieldError>> {
        let mut c = Collector::default();
        let root = c.root(body);

        let pmc_request_id = c.parsed(&root, "pmcRequestId", true, usize::MAX, PmcRequestId::parse);
        let request_type = match c.string(&root, "requestType", false, MAX_STRING).as_deref() {
            None | Some("application") => Some(RequestType::Application),
            Some("admin") => Some(RequestType::Admin),
            Some(_) => {
                c.push("requestType", "must be application or admin");
                None
            }
        };
        let user = c.object(&root, "user", false).map(|o| User {
            name: c.string(&o, "name", false, MAX_STRING),
            email: c.parsed(&o, "email", false, MAX_STRING, email),
            display_name: c.string(&o, "displayName", false, MAX_STRING),
        });
        let computer = c.object(&root, "computer", false).map(|o| Computer {
            host_name: c.string(&o, "hostName", false, MAX_STRING),
            os: c.string(&o, "os", false, MAX_STRING),
            domain: c.string(&o, "domain", false, MAX_STRING),
        });
        let application = c
            .object(&root, "application", false)
            .map(|o| read_application(&mut c, &o));
        let reason = c.object(&root, "reason", false).map(|o| Reason {
            choice: c.string(&o, "choice", false, MAX_STRING),
            text: c.string(&o, "text", false, MAX_REASON_TEXT),
        });
        let requested_duration = root.get("requestedDuration").and_then(|v| {
            Duration::from_json(v, "requestedDuration")
                .map_err(|errors| c.extend(errors))
                .ok()
        });
        if let (Some(kind), Some(duration)) = (request_type, requested_duration)
            && let Err(why) = kind.admits(duration, allow_forever)
        {
            c.push("requestedDuration", format!("{duration} {why}"));
        }
        let policy = c.object(&root, "policy", false).map(|o| Policy {
            workstyle: c.string(&o, "workstyle", false, MAX_STRING),
            application_group: c.string(&o, "applicationGroup", false, MAX_STRING),
            rule: c.string(&o, "rule", false, MAX_STRING),
        });
        let details = read_details(&mut c, &root);

        c.finish(|| Self {
            pmc_request_id: pmc_request_id.expect("checked above"),
            request_type: request_type.expect("checked above"),
            user: user.filter(|u| *u != User::default()),
            computer: computer.filter(|c| *c != Computer::default()),
            application: application.filter(|a| *a != Application::default()),
            reason: reason.filter(|r| *r != Reason::default()),
            requested_duration,
            policy: policy.filter(|p| *p != Policy::default()),
            details,
        })
    }
}

fn read_application(c: &mut Collector, o: &ObjectReader<'_>) -> Application {
    Application {
        name: c.string(o, "name", false, MAX_STRING),
        path: c.string(o, "path", false, MAX_STRING),
        publisher: c.string(o, "publisher", false, MAX_STRING),
        version: c.string(o, "version", false, MAX_STRING),
        sha256: c.parsed(o, "sha256", false, MAX_STRING, sha256),
        sha1: c.parsed(o, "sha1", false, MAX_STRING, sha1),
        command_line: c.string(o, "commandLine", false, MAX_STRING),
    }
}

/// `details` in the order received; entries that are absent by the rules of strings (empty, an unreplaced
/// placeholder) are dropped.
fn read_details(c: &mut Collector, root: &ObjectReader<'_>) -> Details {
    let Some(o) = c.object(root, "details", false) else {
        return Details::new();
    };
    let keys = o.keys();
    if keys.len() > MAX_DETAILS {
        c.push(
            "details",
            format!("must hold at most {MAX_DETAILS} entries"),
        );
        return Details::new();
    }
    if keys.iter().any(|key| !is_detail_key(key)) {
        c.push(
            "details",
            "keys must be 1-64 characters of letters, digits, _ . and -",
        );
        return Details::new();
    }
    keys.into_iter()
        .filter_map(|key| {
            let value = c.string(&o, key, false, MAX_STRING)?;
            Some((key.to_owned(), value))
        })
        .collect()
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
