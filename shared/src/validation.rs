//! The "Validate Settings" button (CONTRACT §11): four checks in order — `config`, `connect`, `oauth`,
//! `table_access` — each failing with a detail and a hint an administrator can act on. Nothing is written,
//! and no secret is echoed.

use crate::api::{self, ApiRequest, ApiResponse};
use crate::auth::bearer_key_is_valid;
use crate::problem::{FieldError, Problem, describe_fields};
use crate::secrets::SettingsSource;
use crate::servicenow::{GrantError, HttpClient, ServiceNowError, password_grant};
use crate::settings::{ServiceNowSettings, Settings};
use http::StatusCode;
use http::header::AUTHORIZATION;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;
use std::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub valid: bool,
    pub checks: Vec<Check>,
}

const CHECKS: [&str; 4] = ["config", "connect", "oauth", "table_access"];

/// A failed check: what went wrong and what to do about it.
struct Failed {
    detail: String,
    hint: String,
}

fn failed(detail: impl Into<String>, hint: impl Into<String>) -> Failed {
    Failed {
        detail: detail.into(),
        hint: hint.into(),
    }
}

impl Report {
    /// Builds the report from the checks run so far; the rest are marked skipped after the first failure.
    fn new(passed: Vec<String>, failure: Option<Failed>) -> Self {
        let failed_at = passed.len();
        let mut checks: Vec<Check> = passed
            .into_iter()
            .zip(CHECKS)
            .map(|(detail, name)| Check {
                name,
                ok: true,
                skipped: false,
                detail,
                hint: None,
            })
            .collect();
        if let Some(failure) = failure {
            checks.push(Check {
                name: CHECKS[failed_at],
                ok: false,
                skipped: false,
                detail: failure.detail,
                hint: Some(failure.hint),
            });
            for name in &CHECKS[failed_at + 1..] {
                checks.push(Check {
                    name,
                    ok: false,
                    skipped: true,
                    detail: format!("not tried: {} failed", CHECKS[failed_at]),
                    hint: None,
                });
            }
        }
        Self {
            valid: checks.iter().all(|c| c.ok),
            checks,
        }
    }
}

pub struct SettingsValidator<C> {
    settings: C,
    http: HttpClient,
}

/// Which settings to check.
enum Subject {
    Stored,
    Candidate(Value),
}

impl<C: SettingsSource> SettingsValidator<C> {
    /// `http` should have short timeouts: an administrator is waiting for the answer.
    pub fn new(settings: C, http: HttpClient) -> Self {
        Self { settings, http }
    }

    /// `POST /v1/settings/validate`.
    pub async fn handle(&self, request: &ApiRequest) -> ApiResponse {
        match self.try_handle(request).await {
            Ok(report) => api::json_response(StatusCode::OK, &report),
            Err(problem) => problem.into(),
        }
    }

    async fn try_handle(&self, request: &ApiRequest) -> Result<Report, Problem> {
        // Read uncached: an administrator who just saved the secret expects that version to be checked.
        let raw = self.settings.raw().await.map_err(|error| {
            tracing::error!(%error, "settings secret unavailable");
            Problem::unavailable("the connector cannot read its settings secret")
        })?;
        // Only the keys are needed to let the caller in: the rest of the stored secret may be what is broken.
        let keys = pmc_api_keys(&raw);
        if !bearer_key_is_valid(api::header(request, AUTHORIZATION), &keys) {
            return Err(Problem::unauthorized());
        }
        let subject = subject(request)?;
        Ok(self.run(subject, &raw).await)
    }

    async fn run(&self, subject: Subject, raw: &str) -> Report {
        let mut passed = Vec::new();
        let settings = match config_check(subject, raw) {
            Ok((settings, detail)) => {
                passed.push(detail);
                settings
            }
            Err(failure) => return Report::new(passed, Some(failure)),
        };
        match connect_check(&self.http, &settings).await {
            Ok(detail) => passed.push(detail),
            Err(failure) => return Report::new(passed, Some(failure)),
        }
        let token = match oauth_check(&self.http, &settings).await {
            Ok((token, detail)) => {
                passed.push(detail);
                token
            }
            Err(failure) => return Report::new(passed, Some(failure)),
        };
        match table_check(&self.http, &settings, &token).await {
            Ok(detail) => passed.push(detail),
            Err(failure) => return Report::new(passed, Some(failure)),
        }
        Report::new(passed, None)
    }
}

/// The keys of the raw secret, read on their own; none when they cannot be read.
fn pmc_api_keys(raw: &str) -> Vec<SecretString> {
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

/// An empty body (or `{}`) checks the stored settings; `{"servicenow": …}` a candidate, which is never stored.
fn subject(request: &ApiRequest) -> Result<Subject, Problem> {
    if request.body().iter().all(u8::is_ascii_whitespace) {
        return Ok(Subject::Stored);
    }
    let (object, _) = api::json_object_body(request)?;
    Ok(match object.get("servicenow") {
        None | Some(Value::Null) => Subject::Stored,
        Some(candidate) => Subject::Candidate(candidate.clone()),
    })
}

fn config_check(subject: Subject, raw: &str) -> Result<(ServiceNowSettings, String), Failed> {
    let (parsed, source) = match subject {
        Subject::Candidate(candidate) => (
            ServiceNowSettings::parse(&candidate),
            "the candidate settings",
        ),
        Subject::Stored => {
            let stored = serde_json::from_str::<Value>(raw)
                .map_err(|_| vec![FieldError::new("(secret)", "is not valid JSON")])
                .and_then(|v| {
                    ServiceNowSettings::parse(v.get("servicenow").unwrap_or(&Value::Null))
                });
            // The rest of the secret matters to the other functions, so it is reported here too.
            let rest = Settings::parse(raw).err().unwrap_or_default();
            let parsed = match stored {
                Ok(settings) if rest.is_empty() => Ok(settings),
                Ok(_) => Err(rest),
                Err(mut errors) => {
                    errors.extend(
                        rest.into_iter()
                            .filter(|e| !e.field.starts_with("servicenow")),
                    );
                    Err(errors)
                }
            };
            (parsed, "the stored settings secret")
        }
    };
    match parsed {
        Ok(settings) => {
            let detail = format!(
                "{source}: instance {}, user {}, task type {}",
                settings.instance_url.as_str(),
                settings.username,
                settings.task_type
            );
            Ok((settings, detail))
        }
        Err(errors) => Err(failed(
            format!("{source} are invalid: {}", describe_fields(&errors)),
            "Correct the named fields. instanceUrl must be https:// (http:// only for a loopback host), taskType \
             one of incident, change_request, sc_task, sc_req_item, and username, password, clientId and \
             clientSecret are required.",
        )),
    }
}

/// Lower-cased error text with its causes, where TLS and DNS reasons are said.
fn transport_reason(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.to_lowercase()
}

fn is_tls_failure(reason: &str) -> bool {
    [
        "certificate",
        "tls",
        "ssl",
        "handshake",
        "invalidcontenttype",
        "corrupt message",
        "peer is incompatible",
    ]
    .iter()
    .any(|needle| reason.contains(needle))
}

async fn connect_check(http: &HttpClient, settings: &ServiceNowSettings) -> Result<String, Failed> {
    let host = settings.instance_url.host();
    let started = Instant::now();
    match http.get(settings.instance_url.join("/")).send().await {
        Ok(response) => Ok(format!(
            "{host} answered HTTP {} in {} ms",
            response.status().as_u16(),
            started.elapsed().as_millis()
        )),
        Err(error) if error.is_timeout() => Err(failed(
            format!("{host} did not answer in time"),
            "Check the host name, and that the instance is reachable from this AWS account (proxy, firewall, \
             IP address allow list on the instance).",
        )),
        Err(error) => {
            let reason = transport_reason(&error);
            if is_tls_failure(&reason) {
                Err(failed(
                    format!("the TLS handshake with {host} failed: {reason}"),
                    "The instance must present a certificate trusted by the public CA bundle for its host name. \
                     Check that instanceUrl names the instance itself (not a proxy or a custom domain with \
                     another certificate) and that nothing intercepts TLS on the way.",
                ))
            } else if reason.contains("dns")
                || reason.contains("lookup")
                || reason.contains("resolve")
            {
                Err(failed(
                    format!("{host} could not be found: {reason}"),
                    "Check the host name in instanceUrl (for example https://acme.service-now.com).",
                ))
            } else {
                Err(failed(
                    format!("{host} could not be reached: {reason}"),
                    "Check the host name and port, and that the instance is reachable from this AWS account.",
                ))
            }
        }
    }
}

async fn oauth_check(
    http: &HttpClient,
    settings: &ServiceNowSettings,
) -> Result<(SecretString, String), Failed> {
    match password_grant(http, settings).await {
        Ok(token) => Ok((
            token,
            format!(
                "OAuth password grant succeeded for user {}",
                settings.username
            ),
        )),
        Err(GrantError::Refused { status, error, .. }) if error == "invalid_client" => Err(failed(
            format!("ServiceNow rejected the OAuth client ({status} invalid_client)"),
            "Check clientId and clientSecret against the Application Registry entry (System OAuth > \
             Application Registry), and that the entry is active.",
        )),
        Err(GrantError::Refused {
            status,
            error,
            description,
        }) => Err(failed(
            format!(
                "ServiceNow rejected the OAuth client or the user's credentials ({status} {})",
                [error, description].join(" ").trim()
            ),
            "ServiceNow answers alike for a wrong client and a wrong user, so check both: clientId and \
             clientSecret against the Application Registry entry, and that the user exists, is active, is not \
             locked out and that the password is current.",
        )),
        Err(GrantError::Failed(ServiceNowError::Permanent { detail, .. })) => Err(failed(
            detail,
            "The OAuth token endpoint is not available: check that the OAuth 2.0 plugin is active and the system \
             property com.snc.platform.security.oauth.is.active is true.",
        )),
        Err(GrantError::Failed(ServiceNowError::Transient { detail, .. })) => Err(failed(
            detail,
            "ServiceNow's token endpoint did not give a usable answer; try again, and check the instance's \
             health if it persists.",
        )),
    }
}

async fn table_check(
    http: &HttpClient,
    settings: &ServiceNowSettings,
    token: &SecretString,
) -> Result<String, Failed> {
    let table = settings.task_type.table();
    let result = http
        .get(
            settings
                .instance_url
                .join(&format!("/api/now/table/{table}")),
        )
        .query(&[("sysparm_limit", "1"), ("sysparm_fields", "sys_id")])
        .bearer_auth(token.expose_secret())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await;
    let response = result.map_err(|error| {
        failed(
            ServiceNowError::from_transport("the Table API", &error).detail().to_owned(),
            "The Table API did not answer; try again, and check the instance's health if it persists.",
        )
    })?;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    let detail = || {
        ServiceNowError::from_status("the Table API", status, &body, None)
            .detail()
            .to_owned()
    };
    match status {
        200 => Ok(format!(
            "user {} can read the {table} table",
            settings.username
        )),
        400 => Err(failed(
            detail(),
            format!(
                "The instance has no table {table}: activate the plugin that provides it (Change Management for \
                 change_request, Service Catalog for sc_task and sc_req_item) or choose another taskType."
            ),
        )),
        401 => Err(failed(
            detail(),
            "The Table API refused a fresh token: check that the user may use web services (REST API access \
             policies, 'Web service access only' users) and the OAuth entry's access scope (useraccount).",
        )),
        403 | 404 => Err(failed(
            detail(),
            format!(
                "The user lacks the role to use {table}: grant it a role that can read and create {table} records \
                 (itil for incident, change_request and sc_task; catalog roles for sc_req_item), and check ACLs."
            ),
        )),
        _ => Err(failed(
            detail(),
            "The Table API did not answer normally; try again, and check the instance's health if it persists.",
        )),
    }
}
