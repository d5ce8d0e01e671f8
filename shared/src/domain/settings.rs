//! The settings secret (CONTRACT §2), parsed into types that can hold only valid values.

use crate::domain::duration::Duration;
use crate::domain::fields::{Collector, FieldError, MAX_STRING, ObjectReader};
use crate::domain::ids::SysId;
use crate::domain::ticket::TaskType;
use secrecy::SecretString;
use serde_json::{Map, Value};
use std::net::IpAddr;
use url::{Host, Url};

/// A remote system's base URL (`instanceUrl`, `pmCloud.apiUrl`): `https://`, or `http://` for a loopback host only
/// (local work); no user name, password, path, query or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// Errors say what is wrong, for an administrator (CONTRACT §2).
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let url = Url::parse(text.trim()).map_err(|_| "must be an absolute https:// URL")?;
        let host = url.host().ok_or("must name a host")?;
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
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// How to reach and use the ServiceNow instance.
#[derive(Debug, Clone)]
pub struct ServiceNowSettings {
    pub instance_url: BaseUrl,
    pub username: String,
    pub password: SecretString,
    pub client_id: String,
    pub client_secret: SecretString,
    pub task_type: TaskType,
    pub assignment_group: Option<SysId>,
    pub duration_field: String,
    pub notes_field: String,
    pub default_duration: Duration,
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
const DEFAULT_NOTES_FIELD: &str = "close_notes";

fn field_name(name: &str) -> Result<String, &'static str> {
    if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(name.to_owned())
    } else {
        Err("must be a ServiceNow field name (letters, digits and _)")
    }
}

impl ServiceNowSettings {
    /// Parses the `servicenow` object, naming every bad field (paths start with `servicenow.`).
    pub fn parse(value: &Value) -> Result<Self, Vec<FieldError>> {
        let mut c = Collector::default();
        let wrapper = serde_json::Map::from_iter([("servicenow".to_owned(), value.clone())]);
        let root = c.root(&wrapper);
        let settings = c
            .object(&root, "servicenow", true)
            .and_then(|o| read_servicenow(&mut c, &o));
        c.finish(|| settings.expect("every missing field was reported"))
    }
}

/// Reads the fields, collecting errors in `c`; `None` only when it reported a missing or bad required field.
fn read_servicenow(c: &mut Collector, o: &ObjectReader<'_>) -> Option<ServiceNowSettings> {
    let instance_url = c.parsed(o, "instanceUrl", true, MAX_STRING, BaseUrl::parse);
    let username = c.string(o, "username", true, MAX_STRING);
    let password = c.string(o, "password", true, MAX_STRING);
    let client_id = c.string(o, "clientId", true, MAX_STRING);
    let client_secret = c.string(o, "clientSecret", true, MAX_STRING);
    let task_type = c.parsed(o, "taskType", true, MAX_STRING, TaskType::parse);
    let assignment_group = c.parsed(o, "assignmentGroup", false, 32, |t| {
        SysId::parse(t)
            .map_err(|_| "must be the sys_id (32 hexadecimal digits) of a sys_user_group")
    });
    let duration_field = c.parsed(o, "durationField", false, 80, field_name);
    let notes_field = c.parsed(o, "notesField", false, 80, field_name);
    let default_duration = c
        .string(o, "defaultDuration", false, MAX_STRING)
        .and_then(|text| match Duration::from_servicenow_text(&text) {
            Ok(duration) => duration,
            Err(e) => {
                c.push(o.child_path("defaultDuration"), e.to_string());
                None
            }
        });
    Some(ServiceNowSettings {
        instance_url: instance_url?,
        username: username?,
        password: password?.into(),
        client_id: client_id?,
        client_secret: client_secret?.into(),
        task_type: task_type?,
        assignment_group,
        duration_field: duration_field.unwrap_or_else(|| DEFAULT_DURATION_FIELD.to_owned()),
        notes_field: notes_field.unwrap_or_else(|| DEFAULT_NOTES_FIELD.to_owned()),
        default_duration: default_duration.unwrap_or(Duration::Once),
    })
}

/// Reads the `pmCloud` fields, collecting errors in `c`; `None` when one is missing or bad.
fn read_pm_cloud(c: &mut Collector, o: &ObjectReader<'_>) -> Option<PmCloudSettings> {
    let api_url = c.parsed(o, "apiUrl", true, MAX_STRING, BaseUrl::parse);
    let client_id = c.string(o, "clientId", true, MAX_STRING);
    let client_secret = c.string(o, "clientSecret", true, MAX_STRING);
    Some(PmCloudSettings {
        api_url: api_url?,
        client_id: client_id?,
        client_secret: client_secret?.into(),
    })
}

impl Settings {
    /// Parses the secret string. Errors name fields, never values.
    pub fn parse(secret: &str) -> Result<Self, Vec<FieldError>> {
        Self::from_json(&secret_json(secret)?)
    }

    /// Parses the secret's JSON object (the settings check merges a candidate into it first).
    pub fn from_json(object: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut c = Collector::default();
        let root = c.root(object);
        let servicenow = c
            .object(&root, "servicenow", true)
            .and_then(|o| read_servicenow(&mut c, &o));
        let pm_cloud = c
            .object(&root, "pmCloud", false)
            .and_then(|o| read_pm_cloud(&mut c, &o));
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

/// The `pmcApiKeys` of a secret's text, read on their own (empty when they cannot be read), so that a caller can
/// be let in to see what is wrong with the rest of it.
pub fn pmc_api_keys_of(raw: &str) -> Vec<SecretString> {
    let value: Value = serde_json::from_str(raw).unwrap_or_default();
    value
        .get("pmcApiKeys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(Value::as_str)
                .filter(|k| !k.trim().is_empty())
                .map(|k| SecretString::from(k.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A non-empty list of non-empty strings, for keys that are rotated by holding two at once.
fn read_key_list(c: &mut Collector, root: &ObjectReader<'_>, key: &str) -> Vec<SecretString> {
    match root.get(key) {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item.as_str() {
                Some(text) if !text.trim().is_empty() => Some(SecretString::from(text.to_owned())),
                _ => {
                    c.push(format!("{key}[{i}]"), "must be a non-empty string");
                    None
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

    pub(crate) fn secret_json(instance_url: &str) -> String {
        json!({
            "servicenow": servicenow_json(instance_url),
            "pmcApiKeys": ["pmc-key-1", "pmc-key-2"],
            "webhookSecrets": ["hook-secret-1"]
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
        ServiceNowSettings::parse(&value).unwrap()
    }

    fn bad_fields(value: Value) -> Vec<String> {
        let mut fields: Vec<_> = ServiceNowSettings::parse(&value)
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
        let settings = Settings::parse(&secret_json("https://acme.service-now.com")).unwrap();
        let sn = &settings.servicenow;
        assert_eq!(sn.instance_url.as_str(), "https://acme.service-now.com");
        assert_eq!(sn.task_type, TaskType::Incident);
        assert_eq!(sn.duration_field, "u_pm_duration");
        assert_eq!(sn.notes_field, "close_notes");
        assert_eq!(sn.default_duration, Duration::Once);
        assert_eq!(sn.assignment_group, None);
        assert_eq!(sn.password.expose_secret(), "pw-SECRET");
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
        let sn = ServiceNowSettings::parse(&value).unwrap();
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
                ServiceNowSettings::parse(&value).unwrap().task_type.table(),
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
        for good in [
            "https://acme.service-now.com",
            "http://127.0.0.1:8089",
            "http://127.5.6.7",
            "http://localhost:9",
            "http://[::1]:8089",
            "https://10.0.0.5",
        ] {
            assert!(BaseUrl::parse(good).is_ok(), "{good}");
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
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
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
        let errors = Settings::parse(&json!({"servicenow": servicenow_json("https://a.example"), "pmcApiKeys": [], "webhookSecrets": ["", 5]}).to_string()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["pmcApiKeys", "webhookSecrets[0]", "webhookSecrets[1]"]
        );
        assert_eq!(
            Settings::parse("not json").unwrap_err()[0].message,
            "is not valid JSON"
        );
    }

    #[test]
    fn debug_output_reveals_no_secret() {
        let settings = Settings::parse(&secret_json("https://acme.service-now.com")).unwrap();
        let debug = format!("{settings:?}");
        for secret in ["pw-SECRET", "client-SECRET", "pmc-key-1", "hook-secret-1"] {
            assert!(!debug.contains(secret), "{secret} leaked into {debug}");
        }
        let errors = Settings::parse(&secret_json("http://acme.example")).unwrap_err();
        assert!(!format!("{errors:?}").contains("SECRET"));
    }
}
