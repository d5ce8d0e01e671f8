//! The "Validate Settings" button (CONTRACT §11): five checks in order — `config`, `connect`, `oauth`,
//! `table_access`, `pmcloud` — each failing with a detail and a hint an administrator can act on. After the first
//! failure the ServiceNow checks that follow are skipped; `pmcloud` runs whenever the `pmCloud` part keeps its
//! rules (even when the rest of `config` failed), and is ok and skipped whenever `pmCloud` is not configured.
//! `config` covers every rule of §2, resolving the URLs' hosts for the address rules. Nothing is written, and no
//! secret is echoed.

mod config;
mod hints;

use crate::domain::base_url::Hosts;
use crate::domain::ids::RequestId;
use crate::domain::redact::redact;
use crate::domain::settings::{PmCloudSettings, ServiceNowGrant, ServiceNowSettings, Settings};
use crate::domain::time::{Timestamp, now};
use crate::outbound::failure::{Failure as CallFailure, Transient};
use crate::pmcloud::{AccessError, PmCloudClient};
use crate::servicenow::ServiceNowClient;
use config::{PmCloudCheck, config_check, pm_cloud_on_its_own, settings_object};
use hints::{Failed, grant_failed, list_failed, paused, pmcloud_failed, table_failed, unreachable};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;
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

/// `{"valid", "checks"}`: `valid` exactly when every check is ok.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub valid: bool,
    pub checks: Vec<Check>,
}

impl Report {
    /// The same report with `secrets` removed from every detail and hint.
    fn redacted(mut self, secrets: &[&SecretString]) -> Self {
        for check in &mut self.checks {
            check.detail = redact(&check.detail, secrets.iter().copied());
            check.hint = check
                .hint
                .as_deref()
                .map(|hint| redact(hint, secrets.iter().copied()));
        }
        self
    }
}

/// The checks as they are run: each passes, fails, or is skipped.
#[derive(Default)]
struct Checks(Vec<Check>);

impl Checks {
    fn record(&mut self, name: &'static str, result: Result<String, Failed>) -> bool {
        let (ok, detail, hint) = match result {
            Ok(detail) => (true, detail, None),
            Err(failure) => (false, failure.detail, Some(failure.hint)),
        };
        self.0.push(Check {
            name,
            ok,
            skipped: false,
            detail,
            hint,
        });
        ok
    }

    /// `name` was not tried; `ok` only for a check that does not apply (`pmcloud` without `pmCloud`).
    fn skip(&mut self, name: &'static str, ok: bool, detail: String) {
        self.0.push(Check {
            name,
            ok,
            skipped: true,
            detail,
            hint: None,
        });
    }

    fn report(self) -> Report {
        Report {
            valid: self.0.iter().all(|c| c.ok),
            checks: self.0,
        }
    }
}

/// Which settings to check.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// The stored settings secret.
    Stored,
    /// Parts checked but never stored; a part left out (`None`) is taken from the stored settings.
    Candidate {
        servicenow: Option<Value>,
        pm_cloud: Option<Value>,
    },
}

impl Subject {
    /// `{}` checks the stored settings; `{"servicenow": …}` and/or `{"pmCloud": …}` a candidate.
    pub fn of(body: &Map<String, Value>) -> Self {
        let part = |key| body.get(key).filter(|v| !v.is_null()).cloned();
        match (part("servicenow"), part("pmCloud")) {
            (None, None) => Self::Stored,
            (servicenow, pm_cloud) => Self::Candidate {
                servicenow,
                pm_cloud,
            },
        }
    }
}

/// The `pmcloud` check's detail when the settings have no `pmCloud` (CONTRACT §11: `ok`, `skipped`).
const PM_CLOUD_NOT_CONFIGURED: &str =
    "pmCloud is not configured: decisions are not pushed to PM Cloud, which reads them with GET";

/// Until when PM Cloud asked every function not to call it (CONTRACT §12), as the validator reads it: one read of
/// the table, `None` when there is no pause or it cannot be read (the check then goes ahead).
pub type PauseReader =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = Option<Timestamp>> + Send>> + Send + Sync>;

pub struct SettingsValidator {
    servicenow: ServiceNowClient,
    pm_cloud: PmCloudClient,
    pm_cloud_pause: Option<PauseReader>,
}

impl SettingsValidator {
    /// The clients' HTTP clients should have short timeouts: an administrator is waiting for the answer.
    pub fn new(servicenow: ServiceNowClient, pm_cloud: PmCloudClient) -> Self {
        Self {
            servicenow,
            pm_cloud,
            pm_cloud_pause: None,
        }
    }

    /// The same, honouring PM Cloud's pause as `read` tells it: while PM Cloud asked every function to wait (a
    /// `429`), the `pmcloud` check does not call it, and says until when. The validator writes nothing, so a `429`
    /// it meets itself pauses no one.
    pub fn with_pm_cloud_pause(self, read: PauseReader) -> Self {
        Self {
            pm_cloud_pause: Some(read),
            ..self
        }
    }

    /// Runs the checks on `subject`, reading the stored settings from `raw` (the secret's text, read uncached);
    /// URLs must name hosts `hosts` admits. At most one connection, one grant and one Table API read to
    /// ServiceNow; one read of PM Cloud's pause, then (unless it holds) one grant and one read from PM Cloud.
    pub async fn validate(&self, subject: Subject, raw: &str, hosts: Hosts) -> Report {
        let mut checks = Checks::default();
        let (object, source) = settings_object(subject, raw);
        let (settings, pm_cloud) = match config_check(&object, source, hosts).await {
            Ok((settings, detail)) => {
                checks.record("config", Ok(detail));
                let pm_cloud = settings.pm_cloud.clone();
                (
                    Some(settings),
                    pm_cloud.map_or(PmCloudCheck::NotConfigured, PmCloudCheck::Run),
                )
            }
            Err(failure) => {
                checks.record("config", Err(failure));
                for name in ["connect", "oauth", "table_access"] {
                    checks.skip(name, false, "not tried: config failed".into());
                }
                (None, pm_cloud_on_its_own(&object, hosts).await)
            }
        };
        let token = match &settings {
            Some(settings) => {
                self.servicenow_checks(&mut checks, &settings.servicenow)
                    .await
            }
            None => None,
        };
        match &pm_cloud {
            PmCloudCheck::Run(pm_cloud) => {
                checks.record("pmcloud", self.pmcloud_check(pm_cloud).await);
            }
            PmCloudCheck::NotConfigured => {
                checks.skip("pmcloud", true, PM_CLOUD_NOT_CONFIGURED.into());
            }
            PmCloudCheck::NotTried => {
                checks.skip("pmcloud", false, "not tried: config failed".into());
            }
        }
        // A remote answer quoted in a detail may echo what was sent.
        let mut secrets: Vec<&SecretString> = settings.iter().flat_map(Settings::secrets).collect();
        secrets.extend(token.as_ref());
        if let PmCloudCheck::Run(pm_cloud) = &pm_cloud {
            secrets.push(&pm_cloud.client_secret);
        }
        checks.report().redacted(&secrets)
    }

    /// `connect`, `oauth` and `table_access`, each only after the one before passed; the token `oauth` got.
    async fn servicenow_checks(
        &self,
        checks: &mut Checks,
        settings: &ServiceNowSettings,
    ) -> Option<SecretString> {
        let skip_rest = |checks: &mut Checks, failed: &str, rest: &[&'static str]| {
            for name in rest {
                checks.skip(name, false, format!("not tried: {failed} failed"));
            }
        };
        if !checks.record("connect", self.connect_check(settings).await) {
            skip_rest(checks, "connect", &["oauth", "table_access"]);
            return None;
        }
        let token = match self.oauth_check(settings).await {
            Ok((token, detail)) => {
                checks.record("oauth", Ok(detail));
                token
            }
            Err(failure) => {
                checks.record("oauth", Err(failure));
                skip_rest(checks, "oauth", &["table_access"]);
                return None;
            }
        };
        checks.record("table_access", self.table_check(settings, &token).await);
        Some(token)
    }

    async fn connect_check(&self, settings: &ServiceNowSettings) -> Result<String, Failed> {
        let host = settings.instance_url.host();
        let started = Instant::now();
        match self.servicenow.home_page(settings).await {
            Ok(status) => Ok(format!(
                "{host} answered HTTP {status} in {} ms",
                started.elapsed().as_millis()
            )),
            Err(error) => Err(unreachable(&host, "instanceUrl", &error)),
        }
    }

    async fn oauth_check(
        &self,
        settings: &ServiceNowSettings,
    ) -> Result<(SecretString, String), Failed> {
        match self.servicenow.fresh_grant(settings).await {
            Ok(token) => Ok((token, granted(settings))),
            Err(error) => Err(grant_failed(settings, error)),
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
            .probe_correlation_id(&probe)
            .await;
        match result {
            // Validate Settings writes nothing (CONTRACT §11, §14), so creating tickets and writing work notes
            // are not proven here.
            Ok(_) => Ok(format!(
                "{} can read the {table} table (creating tickets and writing their work notes is not tested: \
                 the itil role gives both)",
                settings.acting_user()
            )),
            Err(error) => Err(table_failed(table, error)),
        }
    }

    /// A client-credentials grant, then one page of one authorization request read with that token (CONTRACT §11
    /// v3): one grant and one read.
    async fn pmcloud_check(&self, settings: &PmCloudSettings) -> Result<String, Failed> {
        if let Some(read) = &self.pm_cloud_pause
            && let Some(until) = read().await.filter(|until| now() < *until)
        {
            return Err(paused(until));
        }
        let host = settings.api_url.host();
        let started = Instant::now();
        let page = self
            .pm_cloud
            .check_access(settings)
            .await
            .map_err(|error| match error {
                AccessError::Grant(error) => pmcloud_failed(&host, error),
                AccessError::List(failure) => list_failed(&settings.client_id, failure),
            })?;
        if !page.get("data").is_some_and(Value::is_array) {
            return Err(list_failed(
                &settings.client_id,
                CallFailure::from(Transient::new(format!(
                    "PM Cloud at {host} answered the list of authorization requests without a `data` list"
                ))),
            ));
        }
        Ok(format!(
            "PM Cloud at {host} granted a token to API account {} and listed authorization requests with it in \
             {} ms: it may read JIT requests (only a pushed decision proves its right to write them)",
            settings.client_id,
            started.elapsed().as_millis()
        ))
    }
}

/// What a successful `oauth` check says.
fn granted(settings: &ServiceNowSettings) -> String {
    match &settings.grant {
        ServiceNowGrant::Password { username, .. } => {
            format!("OAuth password grant succeeded for user {username}")
        }
        ServiceNowGrant::ClientCredentials => format!(
            "OAuth client-credentials grant succeeded for client {}",
            settings.client_id
        ),
    }
}

#[cfg(test)]
mod tests;
