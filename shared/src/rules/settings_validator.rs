//! The "Validate Settings" button (CONTRACT §11): four checks in order — `config`, `connect`, `oauth`,
//! `table_access` — each failing with a detail and a hint an administrator can act on. Nothing is written,
//! and no secret is echoed.

use crate::domain::fields::{FieldError, describe_fields};
use crate::domain::ids::RequestId;
use crate::domain::settings::{ServiceNowSettings, Settings};
use crate::outbound::TransportFailure;
use crate::servicenow::{GrantError, ServiceNowClient, ServiceNowError};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{Map, Value};
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

/// Which settings to check.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// The stored settings secret.
    Stored,
    /// `servicenow` settings that are checked but never stored.
    Candidate(Value),
}

impl Subject {
    /// `{}` (or no `servicenow`) checks the stored settings; `{"servicenow": …}` a candidate.
    pub fn of(body: &Map<String, Value>) -> Self {
        match body.get("servicenow") {
            None | Some(Value::Null) => Self::Stored,
            Some(candidate) => Self::Candidate(candidate.clone()),
        }
    }
}

pub struct SettingsValidator {
    servicenow: ServiceNowClient,
}

impl SettingsValidator {
    /// `servicenow`'s HTTP client should have short timeouts: an administrator is waiting for the answer.
    pub fn new(servicenow: ServiceNowClient) -> Self {
        Self { servicenow }
    }

    /// Runs the checks in order on `subject`, reading the stored settings from `raw` (the secret's text, read
    /// uncached). Stops at the first failure: at most one connection, one grant and one Table API read.
    pub async fn validate(&self, subject: Subject, raw: &str) -> Report {
        let mut passed = Vec::new();
        let settings = match config_check(subject, raw) {
            Ok((settings, detail)) => {
                passed.push(detail);
                settings
            }
            Err(failure) => return Report::new(passed, Some(failure)),
        };
        match self.connect_check(&settings).await {
            Ok(detail) => passed.push(detail),
            Err(failure) => return Report::new(passed, Some(failure)),
        }
        let token = match self.oauth_check(&settings).await {
            Ok((token, detail)) => {
                passed.push(detail);
                token
            }
            Err(failure) => return Report::new(passed, Some(failure)),
        };
        match self.table_check(&settings, &token).await {
            Ok(detail) => passed.push(detail),
            Err(failure) => return Report::new(passed, Some(failure)),
        }
        Report::new(passed, None)
    }

    async fn connect_check(&self, settings: &ServiceNowSettings) -> Result<String, Failed> {
        let host = settings.instance_url.host();
        let started = Instant::now();
        let error = match self.servicenow.home_page(settings).await {
            Ok(status) => {
                return Ok(format!(
                    "{host} answered HTTP {status} in {} ms",
                    started.elapsed().as_millis()
                ));
            }
            Err(error) => error,
        };
        let reason = error.reason.to_lowercase();
        Err(match error.failure {
            TransportFailure::TimedOut => failed(
                format!("{host} did not answer in time"),
                "Check the host name, and that the instance is reachable from this AWS account (proxy, firewall, \
                 IP address allow list on the instance).",
            ),
            TransportFailure::Tls => failed(
                format!("the TLS handshake with {host} failed: {reason}"),
                "The instance must present a certificate trusted by the public CA bundle for its host name. \
                 Check that instanceUrl names the instance itself (not a proxy or a custom domain with \
                 another certificate) and that nothing intercepts TLS on the way.",
            ),
            TransportFailure::NameNotFound => failed(
                format!("{host} could not be found: {reason}"),
                "Check the host name in instanceUrl (for example https://acme.service-now.com).",
            ),
            TransportFailure::Refused | TransportFailure::Dropped => failed(
                format!("{host} could not be reached: {reason}"),
                "Check the host name and port, and that the instance is reachable from this AWS account.",
            ),
        })
    }

    async fn oauth_check(
        &self,
        settings: &ServiceNowSettings,
    ) -> Result<(SecretString, String), Failed> {
        match self.servicenow.fresh_grant(settings).await {
            Ok(token) => Ok((
                token,
                format!(
                    "OAuth password grant succeeded for user {}",
                    settings.username
                ),
            )),
            Err(GrantError::Refused { status, error, .. }) if error == "invalid_client" => {
                Err(failed(
                    format!("ServiceNow rejected the OAuth client ({status} invalid_client)"),
                    "Check clientId and clientSecret against the Application Registry entry (System OAuth > \
                 Application Registry), and that the entry is active.",
                ))
            }
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

    /// The read and query rights ticket creation needs: a query on `correlation_id` for a random probe id.
    async fn table_check(
        &self,
        settings: &ServiceNowSettings,
        token: &SecretString,
    ) -> Result<String, Failed> {
        let table = settings.task_type.table();
        let probe = RequestId::random();
        let result = self
            .servicenow
            .table(settings, settings.task_type)
            .with_token(token)
            .query_correlation_id(&probe, 1)
            .await;
        let (status, detail) = match result {
            Ok(_) => {
                return Ok(format!(
                    "user {} can read the {table} table",
                    settings.username
                ));
            }
            Err(ServiceNowError::Permanent { status, detail, .. }) => (status, detail),
            Err(ServiceNowError::Transient { detail, .. }) => {
                return Err(failed(
                    detail,
                    "The Table API did not answer normally; try again, and check the instance's health if it \
                     persists.",
                ));
            }
        };
        Err(match status {
            400 => failed(
                detail,
                format!(
                    "The instance has no table {table}: activate the plugin that provides it (Change Management for \
                     change_request, Service Catalog for sc_task and sc_req_item) or choose another taskType."
                ),
            ),
            401 => failed(
                detail,
                "The Table API refused a fresh token: check that the user may use web services (REST API access \
                 policies, 'Web service access only' users) and the OAuth entry's access scope (useraccount).",
            ),
            403 | 404 => failed(
                detail,
                format!(
                    "The user lacks the role to use {table}: grant it a role that can read and create {table} records \
                     (itil for incident, change_request and sc_task; catalog roles for sc_req_item), and check ACLs."
                ),
            ),
            _ => failed(
                detail,
                "The Table API did not answer normally; try again, and check the instance's health if it persists.",
            ),
        })
    }
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
