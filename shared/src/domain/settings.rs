//! The settings secret (CONTRACT §2), parsed into types that can hold only valid values: URLs that name a host the
//! connector may reach, keys long enough to guess at no better than chance, the grant ServiceNow is asked for.

use crate::domain::duration::Duration;
use crate::domain::fields::{
    Collector, FieldError, MAX_STRING, ObjectReader, is_hidden_or_control,
};
use crate::domain::ids::SysId;
use crate::domain::request::RequestType;
use crate::domain::ticket::TaskType;
use secrecy::SecretString;
use serde_json::{Map, Value};
use std::net::IpAddr;
use url::{Host, Url};

/// Which hosts `instanceUrl` and `pmCloud.apiUrl` may name, written as an IP address or resolving to one
/// (CONTRACT §2). The outbound HTTP client applies the same rule to every address a name resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hosts {
    /// Public addresses only: never loopback, private (RFC 1918, RFC 4193), link-local (169.254.0.0/16 with the
    /// instance metadata address, fe80::/10) or unspecified (0.0.0.0, `::`).
    #[default]
    Public,
    /// Any address, for local work and tests (`ALLOW_LOCAL_URLS=true`; never set by the template).
    Local,
}

impl Hosts {
    /// `Local` when `ALLOW_LOCAL_URLS` is `true` (case-insensitive); `Public` otherwise.
    pub fn from_allow_local_urls(value: Option<&str>) -> Self {
        match value {
            Some(value) if value.trim().eq_ignore_ascii_case("true") => Self::Local,
            _ => Self::Public,
        }
    }

    /// Whether a connection to `ip` is allowed.
    pub fn admits(self, ip: IpAddr) -> bool {
        self == Self::Local || !is_local_address(ip)
    }
}

/// Loopback, private, link-local (the instance metadata address included), unspecified, and those written as
/// IPv4-mapped IPv6 addresses.
pub fn is_local_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.octets()[0] == 0
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_local_address(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

/// Why a local host is refused, for messages (CONTRACT §2).
pub const LOCAL_HOST_REFUSED: &str = "must not name a loopback, private, link-local or unspecified address (set \
ALLOW_LOCAL_URLS=true only for local work)";

/// A remote system's base URL (`instanceUrl`, `pmCloud.apiUrl`): `https://`, or `http://` for a loopback host only
/// (local work); no user name, password, path, query or fragment; a host [`Hosts`] admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// Errors say what is wrong, for an administrator (CONTRACT §2).
    pub fn parse(text: &str, hosts: Hosts) -> Result<Self, &'static str> {
        let url = Url::parse(text.trim()).map_err(|_| "must be an absolute https:// URL")?;
        let host = url.host().ok_or("must name a host")?;
        let local = match &host {
            Host::Domain(name) => is_localhost(name),
            Host::Ipv4(ip) => is_local_address(IpAddr::V4(*ip)),
            Host::Ipv6(ip) => is_local_address(IpAddr::V6(*ip)),
        };
        if local && hosts == Hosts::Public {
            return Err(LOCAL_HOST_REFUSED);
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err(
                    "must use https:// (plain http:// is accepted only for a loopback host)",
                );
            }
            _ => return Err("must use https://"),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user name or password");
        }
        if url.query().is_some() || url.fragment().is_some() || url.path() != "/" {
            return Err("must be a base URL, without a path, query or fragment");
        }
        Ok(Self(url))
    }

    /// An absolute URL on the host, from a path beginning with `/`.
    pub fn join(&self, path: &str) -> Url {
        self.0
            .join(path)
            .expect("a base URL joins any absolute path")
    }

    pub fn host(&self) -> String {
        self.0.host_str().unwrap_or_default().to_owned()
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => is_localhost(name),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// `localhost` and its subdomains, which resolve to loopback (RFC 6761).
fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// How the connector authenticates to ServiceNow (CONTRACT §2 `grantType`, §9).
#[derive(Debug, Clone)]
pub enum ServiceNowGrant {
    /// The OAuth password grant, as `username`.
    Password {
        username: String,
        password: SecretString,
    },
    /// The OAuth client-credentials grant (ServiceNow Washington DC and later): the OAuth application's user acts.
    ClientCredentials,
}

/// How to reach and use the ServiceNow instance.
#[derive(Debug, Clone)]
pub struct ServiceNowSettings {
    pub instance_url: BaseUrl,
    pub grant: ServiceNowGrant,
    pub client_id: String,
    pub client_secret: SecretString,
    pub task_type: TaskType,
    pub assignment_group: Option<SysId>,
    pub duration_field: String,
    pub notes_field: String,
    pub default_duration: Duration,
    /// `allowForever` (default `false`): whether an application request may be approved forever (CONTRACT §8:
    /// BeyondTrust's current approval screen offers no "Forever", and PM Cloud's acceptance of it is unverified).
    pub allow_forever: bool,
}

/// PM Cloud's Management API: the API account (client credentials, with the JIT permission) decisions are pushed
/// with (CONTRACT §2 `pmCloud`, §12).
#[derive(Debug, Clone)]
pub struct PmCloudSettings {
    /// For example `https://acme-services.pm.beyondtrustcloud.com`.
    pub api_url: BaseUrl,
    pub client_id: String,
    pub client_secret: SecretString,
}

/// The whole settings secret.
#[derive(Debug, Clone)]
pub struct Settings {
    pub servicenow: ServiceNowSettings,
    /// `None`: decisions are not pushed, and PM Cloud reads them with `GET`.
    pub pm_cloud: Option<PmCloudSettings>,
    pub pmc_api_keys: Vec<SecretString>,
    pub webhook_secrets: Vec<SecretString>,
}

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
fn parse_part<T>(
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

impl ServiceNowSettings {
    /// Parses the `servicenow` object, naming every bad field (paths start with `servicenow.`).
    pub fn parse(value: &Value, hosts: Hosts) -> Result<Self, Vec<FieldError>> {
        parse_part("servicenow", value, |c, o| read_servicenow(c, o, hosts))
    }

    /// Who acts in ServiceNow, for messages: the user name, or the OAuth application's user.
    pub fn acting_user(&self) -> &str {
        match &self.grant {
            ServiceNowGrant::Password { username, .. } => username,
            ServiceNowGrant::ClientCredentials => "the OAuth application user",
        }
    }
}

/// Reads the fields, collecting errors in `c`; `None` only when it reported a missing or bad required field.
fn read_servicenow(
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

/// A required name (`clientId`, `username`): filled in, with no white space at either end and no control
/// character, which in a name are slips of pasting that the remote side would refuse less helpfully.
fn required_name(c: &mut Collector, o: &ObjectReader<'_>, key: &str) -> Option<String> {
    c.parsed(o, key, true, MAX_STRING, |t| {
        let t = filled_in(t)?;
        if t.trim() != t {
            Err("must not begin or end with white space")
        } else if t.chars().any(is_hidden_or_control) {
            Err("must not contain a control or invisible character such as a line break")
        } else {
            Ok(t.to_owned())
        }
    })
}

impl PmCloudSettings {
    /// Parses the `pmCloud` object on its own, naming every bad field (paths start with `pmCloud.`).
    pub fn parse(value: &Value, hosts: Hosts) -> Result<Self, Vec<FieldError>> {
        parse_part("pmCloud", value, |c, o| read_pm_cloud(c, o, hosts))
    }
}

/// Reads the `pmCloud` fields, collecting errors in `c`; `None` when one is missing or bad.
fn read_pm_cloud(c: &mut Collector, o: &ObjectReader<'_>, hosts: Hosts) -> Option<PmCloudSettings> {
    let api_url = c.parsed(o, "apiUrl", true, MAX_STRING, |t| {
        filled_in(t).and_then(|t| BaseUrl::parse(t, hosts))
    });
    let client_id = required_name(c, o, "clientId");
    let client_secret = required_setting(c, o, "clientSecret");
    Some(PmCloudSettings {
        api_url: api_url?,
        client_id: client_id?,
        client_secret: client_secret?.into(),
    })
}

impl Settings {
    /// Every secret the settings hold: ServiceNow's password and client secret, PM Cloud's client secret, the API
    /// keys and the webhook secrets; what [`crate::domain::redact::redact`] removes from details.
    pub fn secrets(&self) -> impl Iterator<Item = &SecretString> {
        let sn = &self.servicenow;
        let password = match &sn.grant {
            ServiceNowGrant::Password { password, .. } => Some(password),
            ServiceNowGrant::ClientCredentials => None,
        };
        password
            .into_iter()
            .chain([&sn.client_secret])
            .chain(self.pm_cloud.as_ref().map(|p| &p.client_secret))
            .chain(&self.pmc_api_keys)
            .chain(&self.webhook_secrets)
    }

    /// Parses the secret string, with URLs naming hosts `hosts` admits. Errors name fields, never values.
    pub fn parse(secret: &str, hosts: Hosts) -> Result<Self, Vec<FieldError>> {
        Self::from_json(&secret_json(secret)?, hosts)
    }

    /// Parses the secret's JSON object (the settings check merges a candidate into it first).
    pub fn from_json(object: &Map<String, Value>, hosts: Hosts) -> Result<Self, Vec<FieldError>> {
        let mut c = Collector::default();
        let root = c.root(object);
        let servicenow = c
            .object(&root, "servicenow", true)
            .and_then(|o| read_servicenow(&mut c, &o, hosts));
        let pm_cloud = c
            .object(&root, "pmCloud", false)
            .and_then(|o| read_pm_cloud(&mut c, &o, hosts));
        let pmc_api_keys = read_key_list(&mut c, &root, "pmcApiKeys");
        let webhook_secrets = read_key_list(&mut c, &root, "webhookSecrets");
        c.finish(|| Self {
            servicenow: servicenow.expect("every missing field was reported"),
            pm_cloud,
            pmc_api_keys,
            webhook_secrets,
        })
    }
}

/// The secret's text as a JSON object. Errors: `(secret)` is not valid JSON, or not an object.
pub fn secret_json(secret: &str) -> Result<Map<String, Value>, Vec<FieldError>> {
    match serde_json::from_str(secret) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(vec![FieldError::new("(secret)", "must be a JSON object")]),
        Err(_) => Err(vec![FieldError::new("(secret)", "is not valid JSON")]),
    }
}

/// The `pmcApiKeys` entries of a secret's text that keep the key rules, read on their own (empty when there are
/// none), so that a caller can be let in to see what is wrong with the rest of it. A placeholder or short key
/// never lets anyone in.
pub fn pmc_api_keys_of(raw: &str) -> Vec<SecretString> {
    let value: Value = serde_json::from_str(raw).unwrap_or_default();
    value
        .get("pmcApiKeys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(Value::as_str)
                .filter(|k| key_problem(k).is_none())
                .map(|k| SecretString::from(k.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Keys shorter than this are refused: a key is a shared secret, and a short one can be guessed.
pub const MIN_KEY_CHARS: usize = 32;
/// What the template's placeholders contain; a key that still does is refused.
const PLACEHOLDER: &str = "REPLACE-ME";

/// What is wrong with a key, if anything; the message never quotes it.
fn key_problem(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        Some("must be a non-empty string")
    } else if text.contains(PLACEHOLDER) {
        Some("is still the template's placeholder (REPLACE-ME): put a long random key of your own")
    } else if text.trim() != text {
        // Callers' bearer tokens arrive trimmed, so such a key could never match.
        Some("must not begin or end with white space")
    } else if text.chars().count() < MIN_KEY_CHARS {
        Some("must be at least 32 characters (for example: openssl rand -base64 32)")
    } else {
        None
    }
}

/// A non-empty list of keys, for keys that are rotated by holding two at once; each at least [`MIN_KEY_CHARS`]
/// long and not a placeholder (CONTRACT §2).
fn read_key_list(c: &mut Collector, root: &ObjectReader<'_>, key: &str) -> Vec<SecretString> {
    match root.get(key) {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let problem = match item.as_str() {
                    Some(text) => key_problem(text),
                    None => Some("must be a non-empty string"),
                };
                match problem {
                    None => Some(SecretString::from(item.as_str()?.to_owned())),
                    Some(message) => {
                        c.push(format!("{key}[{i}]"), message);
                        None
                    }
                }
            })
            .collect(),
        None => {
            c.push(key, "is required");
            Vec::new()
        }
        Some(_) => {
            c.push(key, "must be a non-empty list of strings");
            Vec::new()
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use serde_json::json;

    pub(crate) fn servicenow_json(instance_url: &str) -> Value {
        json!({
            "instanceUrl": instance_url, "username": "svc.pm.connector", "password": "pw-SECRET",
            "clientId": "client-id", "clientSecret": "client-SECRET", "taskType": "incident"
        })
    }

    /// Keys as long as the rules ask, recognisable in the tests that look for them.
    pub(crate) const PMC_KEY_1: &str = "pmc-key-1-000000000000000000000000000";
    pub(crate) const PMC_KEY_2: &str = "pmc-key-2-000000000000000000000000000";
    pub(crate) const HOOK_SECRET: &str = "hook-secret-1-00000000000000000000000";

    pub(crate) fn secret_json(instance_url: &str) -> String {
        json!({
            "servicenow": servicenow_json(instance_url),
            "pmcApiKeys": [PMC_KEY_1, PMC_KEY_2],
            "webhookSecrets": [HOOK_SECRET]
        })
        .to_string()
    }

    /// Valid settings for acme.service-now.com with the fields of `extra` added or replaced.
    pub(crate) fn servicenow_settings_with(extra: Value) -> ServiceNowSettings {
        let mut value = servicenow_json("https://acme.service-now.com");
        value
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        ServiceNowSettings::parse(&value, Hosts::Public).unwrap()
    }

    fn bad_fields(value: Value) -> Vec<String> {
        let mut fields: Vec<_> = ServiceNowSettings::parse(&value, Hosts::Public)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        fields.sort();
        fields
    }

    fn with(mut value: Value, key: &str, field: Value) -> Value {
        value[key] = field;
        value
    }

    #[test]
    fn parses_the_secret_with_defaults() {
        let settings =
            Settings::parse(&secret_json("https://acme.service-now.com"), Hosts::Public).unwrap();
        let sn = &settings.servicenow;
        assert_eq!(sn.instance_url.as_str(), "https://acme.service-now.com");
        assert_eq!(sn.task_type, TaskType::Incident);
        assert_eq!(sn.duration_field, "u_pm_duration");
        assert_eq!(sn.notes_field, "u_pm_message");
        assert_eq!(sn.default_duration, Duration::Once);
        assert_eq!(sn.assignment_group, None);
        let ServiceNowGrant::Password { username, password } = &sn.grant else {
            panic!("the password grant is the default");
        };
        assert_eq!(username, "svc.pm.connector");
        assert_eq!(password.expose_secret(), "pw-SECRET");
        assert_eq!(settings.pmc_api_keys.len(), 2);
        assert_eq!(settings.webhook_secrets.len(), 1);
    }

    #[test]
    fn reads_the_optional_fields() {
        let value = json!({
            "instanceUrl": "https://acme.service-now.com/", "username": "u", "password": "p",
            "clientId": "c", "clientSecret": "s", "taskType": "sc_req_item",
            "assignmentGroup": "0123456789abcdef0123456789ABCDEF", "durationField": "u_len",
            "notesField": "work_notes", "defaultDuration": "2 days"
        });
        let sn = ServiceNowSettings::parse(&value, Hosts::Public).unwrap();
        assert_eq!(sn.task_type, TaskType::RequestedItem);
        assert_eq!(sn.instance_url.as_str(), "https://acme.service-now.com");
        assert_eq!(sn.duration_field, "u_len");
        assert_eq!(sn.notes_field, "work_notes");
        assert_eq!(sn.default_duration, Duration::Days(2));
    }

    #[test]
    fn task_types_are_the_four_tables() {
        for table in ["incident", "change_request", "sc_task", "sc_req_item"] {
            let value = with(
                servicenow_json("https://a.service-now.com"),
                "taskType",
                json!(table),
            );
            assert_eq!(
                ServiceNowSettings::parse(&value, Hosts::Public)
                    .unwrap()
                    .task_type
                    .table(),
                table
            );
        }
        for bad in ["problem", "Incident", "sys_user"] {
            assert_eq!(
                bad_fields(with(
                    servicenow_json("https://a.example"),
                    "taskType",
                    json!(bad)
                )),
                ["servicenow.taskType"]
            );
        }
    }

    #[test]
    fn instance_url_scheme_rule() {
        // With local hosts allowed (local work), the scheme rule alone decides.
        for good in [
            "https://acme.service-now.com",
            "http://127.0.0.1:8089",
            "http://127.5.6.7",
            "http://localhost:9",
            "http://[::1]:8089",
            "https://10.0.0.5",
        ] {
            assert!(BaseUrl::parse(good, Hosts::Local).is_ok(), "{good}");
        }
        for bad in [
            "http://acme.service-now.com",
            "http://10.0.0.5",
            "ftp://acme.example",
            "acme.service-now.com",
            "https://acme.service-now.com/now/nav",
            "https://u:p@acme.service-now.com",
            "https://acme.service-now.com?x=1",
            "http://localhost.evil.example",
        ] {
            assert!(BaseUrl::parse(bad, Hosts::Local).is_err(), "{bad}");
        }
    }

    #[test]
    fn without_allow_local_urls_local_addresses_are_refused() {
        for local in [
            "https://127.0.0.1",
            "http://127.0.0.1:8089",
            "https://localhost",
            "https://api.localhost",
            "https://10.0.0.5",
            "https://172.16.4.1",
            "https://192.168.1.10",
            "https://169.254.169.254",
            "https://0.0.0.0",
            "https://[::1]",
            "https://[::]",
            "https://[fd12:3456::1]",
            "https://[fe80::1]",
            "https://[::ffff:10.0.0.1]",
            "https://2130706433",
            "https://0x7f.1",
        ] {
            assert_eq!(
                BaseUrl::parse(local, Hosts::Public),
                Err(LOCAL_HOST_REFUSED),
                "{local}"
            );
            assert!(BaseUrl::parse(local, Hosts::Local).is_ok(), "{local}");
        }
        for public in [
            "https://acme.service-now.com",
            "https://8.8.8.8",
            "https://[2606:4700::1111]",
        ] {
            assert!(BaseUrl::parse(public, Hosts::Public).is_ok(), "{public}");
        }
        assert_eq!(Hosts::from_allow_local_urls(Some("TRUE")), Hosts::Local);
        for other in [None, Some("false"), Some("1"), Some("")] {
            assert_eq!(
                Hosts::from_allow_local_urls(other),
                Hosts::Public,
                "{other:?}"
            );
        }
    }

    #[test]
    fn keys_are_long_and_not_the_templates_placeholders() {
        let secret = |keys: Value, secrets: Value| {
            json!({"servicenow": servicenow_json("https://a.example"), "pmcApiKeys": keys, "webhookSecrets": secrets})
                .to_string()
        };
        let errors = Settings::parse(
            &secret(
                json!(["REPLACE-ME-WITH-A-LONG-RANDOM-KEY", "short"]),
                json!(["x".repeat(31), "y".repeat(32)]),
            ),
            Hosts::Public,
        )
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["pmcApiKeys[0]", "pmcApiKeys[1]", "webhookSecrets[0]"]
        );
        assert!(errors[0].message.contains("REPLACE-ME"));
        assert!(errors[1].message.contains("32 characters"));
        assert!(
            errors
                .iter()
                .all(|e| !e.message.contains("short") && !e.message.contains("xxx"))
        );

        // A bearer token is compared trimmed, so a key with white space at either end could never let anyone in.
        let padded = format!(" {} ", "k".repeat(40));
        let errors = Settings::parse(
            &secret(json!([padded]), json!(["y".repeat(32)])),
            Hosts::Public,
        )
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "pmcApiKeys[0]");
        assert!(errors[0].message.contains("white space"));
        assert!(pmc_api_keys_of(&secret(json!([padded]), json!([]))).is_empty());
    }

    #[test]
    fn names_are_free_of_pasting_slips() {
        for (field, value) in [
            ("clientId", " abc"),
            ("clientId", "abc\t"),
            ("username", "svc\nconnector"),
            ("username", "svc\u{7}"),
            ("username", "svc\u{2028}connector"),
            ("clientId", "abc\u{200B}"),
        ] {
            let errors = ServiceNowSettings::parse(
                &with(servicenow_json("https://a.example"), field, json!(value)),
                Hosts::Public,
            )
            .unwrap_err();
            assert_eq!(errors.len(), 1, "{field}={value:?}");
            assert_eq!(errors[0].field, format!("servicenow.{field}"));
        }
        // A secret is the operator's to choose: only its placeholder is refused.
        assert!(
            ServiceNowSettings::parse(
                &with(
                    servicenow_json("https://a.example"),
                    "password",
                    json!(" spaced out ")
                ),
                Hosts::Public,
            )
            .is_ok()
        );
    }

    #[test]
    fn the_templates_placeholders_are_not_settings() {
        let servicenow = json!({"instanceUrl": "https://REPLACE-ME.service-now.com", "username": "REPLACE-ME",
            "password": "REPLACE-ME", "clientId": "REPLACE-ME", "clientSecret": "REPLACE-ME", "taskType": "incident"});
        assert_eq!(
            bad_fields(servicenow.clone()),
            [
                "servicenow.clientId",
                "servicenow.clientSecret",
                "servicenow.instanceUrl",
                "servicenow.password",
                "servicenow.username"
            ]
        );
        // With the client-credentials grant the user and password are not read, so their placeholders do no harm.
        assert_eq!(
            bad_fields(with(servicenow, "grantType", json!("client_credentials"))),
            [
                "servicenow.clientId",
                "servicenow.clientSecret",
                "servicenow.instanceUrl"
            ]
        );
        let pm_cloud = Settings::parse(
            &json!({"servicenow": servicenow_json("https://a.example"),
                "pmCloud": {"apiUrl": "https://REPLACE-ME.pm.beyondtrustcloud.com", "clientId": "REPLACE-ME",
                    "clientSecret": "REPLACE-ME"},
                "pmcApiKeys": ["k".repeat(32)], "webhookSecrets": ["w".repeat(32)]})
            .to_string(),
            Hosts::Public,
        )
        .unwrap_err();
        let mut fields: Vec<_> = pm_cloud.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            ["pmCloud.apiUrl", "pmCloud.clientId", "pmCloud.clientSecret"]
        );
        assert!(pm_cloud.iter().all(|e| e.message.contains("REPLACE-ME")));
    }

    #[test]
    fn the_client_credentials_grant_needs_no_user() {
        let mut value = servicenow_json("https://acme.service-now.com");
        let object = value.as_object_mut().unwrap();
        object.remove("username");
        object.remove("password");
        object.insert("grantType".into(), json!("client_credentials"));
        let sn = ServiceNowSettings::parse(&value, Hosts::Public).unwrap();
        assert!(matches!(sn.grant, ServiceNowGrant::ClientCredentials));
        assert_eq!(sn.acting_user(), "the OAuth application user");
        value["grantType"] = json!("jwt");
        assert_eq!(bad_fields(value), ["servicenow.grantType"]);
        let mut password = servicenow_json("https://acme.service-now.com");
        password["grantType"] = json!("password");
        password.as_object_mut().unwrap().remove("password");
        assert_eq!(bad_fields(password), ["servicenow.password"]);
    }

    #[test]
    fn names_every_bad_field() {
        assert_eq!(
            bad_fields(
                json!({"instanceUrl": "http://acme.example", "taskType": "x", "durationField": "u pm", "defaultDuration": "25 hours"})
            ),
            [
                "servicenow.clientId",
                "servicenow.clientSecret",
                "servicenow.defaultDuration",
                "servicenow.durationField",
                "servicenow.instanceUrl",
                "servicenow.password",
                "servicenow.taskType",
                "servicenow.username"
            ]
        );
        assert_eq!(bad_fields(json!("nope")), ["servicenow"]);
        // Problems name fields, never values.
        let unreadable = ServiceNowSettings::parse(
            &with(
                servicenow_json("https://a.example"),
                "defaultDuration",
                json!("sometime-soon"),
            ),
            Hosts::Public,
        )
        .unwrap_err();
        assert_eq!(unreadable[0].field, "servicenow.defaultDuration");
        assert!(unreadable[0].message.starts_with("is not a duration"));
        assert!(!unreadable[0].message.contains("sometime"));
        assert_eq!(
            bad_fields(with(
                servicenow_json("https://a.example"),
                "assignmentGroup",
                json!("Service Desk")
            )),
            ["servicenow.assignmentGroup"]
        );
    }

    #[test]
    fn the_secret_needs_keys_and_webhook_secrets() {
        let errors = Settings::parse(&json!({"servicenow": servicenow_json("https://a.example"), "pmcApiKeys": [], "webhookSecrets": ["", 5]}).to_string(), Hosts::Public).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["pmcApiKeys", "webhookSecrets[0]", "webhookSecrets[1]"]
        );
        assert_eq!(
            Settings::parse("not json", Hosts::Public).unwrap_err()[0].message,
            "is not valid JSON"
        );
    }

    #[test]
    fn debug_output_reveals_no_secret() {
        let settings =
            Settings::parse(&secret_json("https://acme.service-now.com"), Hosts::Public).unwrap();
        let debug = format!("{settings:?}");
        for secret in ["pw-SECRET", "client-SECRET", PMC_KEY_1, HOOK_SECRET] {
            assert!(!debug.contains(secret), "{secret} leaked into {debug}");
        }
        let errors =
            Settings::parse(&secret_json("http://acme.example"), Hosts::Public).unwrap_err();
        assert!(!format!("{errors:?}").contains("SECRET"));
    }
}
