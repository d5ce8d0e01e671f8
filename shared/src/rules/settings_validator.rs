//! The "Validate Settings" button (CONTRACT §11): five checks in order — `config`, `connect`, `oauth`,
//! `table_access`, `pmcloud` — each failing with a detail and a hint an administrator can act on. After the first
//! failure the ServiceNow checks that follow are skipped; `pmcloud` runs whenever the `pmCloud` part keeps its
//! rules (even when the rest of `config` failed), and is ok and skipped whenever `pmCloud` is not configured.
//! `config` covers every rule of §2, resolving the URLs' hosts for the address rules. Nothing is written, and no
//! secret is echoed.

use crate::domain::fields::{FieldError, describe_fields};
use crate::domain::ids::RequestId;
use crate::domain::redact::redact;
use crate::domain::settings::{
    BaseUrl, Hosts, LOCAL_HOST_REFUSED, PmCloudSettings, ServiceNowGrant, ServiceNowSettings,
    Settings, secret_json,
};
use crate::outbound::answer::HTML_PAGE;
use crate::outbound::failure::{Failure, Transient};
use crate::outbound::public_hosts::{any_local, resolve};
use crate::outbound::transport::{TransportError, TransportFailure};
use crate::pmcloud::{PmCloudClient, TokenError};
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

/// How long `config` waits for the system resolver before it leaves a host to `connect` and `pmcloud`.
const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

pub struct SettingsValidator {
    servicenow: ServiceNowClient,
    pm_cloud: PmCloudClient,
}

impl SettingsValidator {
    /// The clients' HTTP clients should have short timeouts: an administrator is waiting for the answer.
    pub fn new(servicenow: ServiceNowClient, pm_cloud: PmCloudClient) -> Self {
        Self {
            servicenow,
            pm_cloud,
        }
    }

    /// Runs the checks on `subject`, reading the stored settings from `raw` (the secret's text, read uncached);
    /// URLs must name hosts `hosts` admits. At most one connection, one grant and one Table API read to
    /// ServiceNow, and one grant from PM Cloud.
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
                ..
            }) => Err(refused(
                settings,
                status,
                [error, description].join(" ").trim(),
            )),
            Err(GrantError::Failed(ServiceNowError::Permanent { detail, .. })) => Err(failed(
                detail,
                "The OAuth token endpoint is not available: check that the OAuth 2.0 plugin is active and the system \
                 property com.snc.platform.security.oauth.is.active is true.",
            )),
            Err(GrantError::Failed(ServiceNowError::Transient(Transient { detail, .. }))) => {
                let hint = html_hint(&detail).unwrap_or(
                    "ServiceNow's token endpoint did not give a usable answer; try again, and check the \
                     instance's health if it persists.",
                );
                Err(failed(detail, hint))
            }
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
        let (status, detail) = match result {
            Ok(_) => {
                return Ok(format!(
                    "{} can read the {table} table",
                    settings.acting_user()
                ));
            }
            Err(ServiceNowError::Permanent { status, detail, .. }) => (status, detail),
            Err(ServiceNowError::Transient(Transient { detail, .. })) => {
                let hint = html_hint(&detail).unwrap_or(
                    "The Table API did not answer normally; try again, and check the instance's health if it \
                     persists.",
                );
                return Err(failed(detail, hint));
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

    async fn pmcloud_check(&self, settings: &PmCloudSettings) -> Result<String, Failed> {
        let host = settings.api_url.host();
        let started = Instant::now();
        let error = match self.pm_cloud.fresh_grant(settings).await {
            Ok(()) => {
                return Ok(format!(
                    "PM Cloud at {host} granted a token to API account {} in {} ms (only a pushed decision proves \
                     its JIT permission)",
                    settings.client_id,
                    started.elapsed().as_millis()
                ));
            }
            Err(error) => error,
        };
        Err(match error {
            TokenError::Refused { status, error } if error == "invalid_client" || status == 401 => {
                failed(
                    format!(
                        "PM Cloud rejected the API account's client ID or secret ({status} {error})"
                    ),
                    "Check pmCloud.clientId and pmCloud.clientSecret against the API account in PM Cloud \
                 (Configuration > Settings > API Settings). Regenerating the secret there invalidates the old one: \
                 put the new one in the settings.",
                )
            }
            TokenError::Refused { status, error } => failed(
                format!("PM Cloud refused the grant ({status} {error})"),
                "The API account must be active and allowed the Management API, with Full Access to JIT \
                 (Configuration > Settings > API Settings in PM Cloud).",
            ),
            TokenError::Failed(Failure::Transient(Transient { detail, .. }))
                if detail.contains(HTML_PAGE) =>
            {
                failed(
                    detail,
                    "PM Cloud answered a web page instead of a token: check that pmCloud.apiUrl is the API address \
                 (https://<tenant>-services.pm.beyondtrustcloud.com), not the console or a login page.",
                )
            }
            TokenError::Unreachable(error) => unreachable(&host, "pmCloud.apiUrl", &error),
            TokenError::Failed(error) => failed(
                error.detail().to_owned(),
                "PM Cloud's token endpoint did not give a usable answer; try again, and check PM Cloud's status \
                 if it persists.",
            ),
        })
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

/// A refused grant (other than `invalid_client`): what ServiceNow said, and what to check for the configured grant.
fn refused(settings: &ServiceNowSettings, status: u16, said: &str) -> Failed {
    match settings.grant {
        ServiceNowGrant::Password { .. } => failed(
            format!(
                "ServiceNow rejected the OAuth client or the user's credentials ({status} {said})"
            ),
            "ServiceNow answers alike for a wrong client and a wrong user, so check both: clientId and \
             clientSecret against the Application Registry entry, and that the user exists, is active, is not \
             locked out and that the password is current.",
        ),
        ServiceNowGrant::ClientCredentials => failed(
            format!("ServiceNow refused the client-credentials grant ({status} {said})"),
            "The client-credentials grant needs ServiceNow Washington DC or later, the system property \
             glide.oauth.inbound.client.credential.grant_type.enabled created and set to true, and an OAuth API \
             endpoint for external clients with its OAuth Application User field set (add the field with Configure \
             > Form Design; that user acts, so give it the roles ticket creation needs). Check clientId and \
             clientSecret against that entry too.",
        ),
    }
}

/// How `host` (named in the settings field `field`) could not be reached, with what to check.
fn unreachable(host: &str, field: &str, error: &TransportError) -> Failed {
    let reason = error.reason.to_lowercase();
    match error.failure {
        TransportFailure::TimedOut => failed(
            format!("{host} did not answer in time"),
            "Check the host name, and that it is reachable from this AWS account (proxy, firewall, IP address \
             allow list on the instance).",
        ),
        TransportFailure::Tls => failed(
            format!("the TLS handshake with {host} failed: {reason}"),
            format!(
                "The host must present a certificate trusted by the public CA bundle for its name. Check that \
                 {field} names the host itself (not a proxy or a custom domain with another certificate) and that \
                 nothing intercepts TLS on the way."
            ),
        ),
        TransportFailure::NameNotFound => failed(
            format!("{host} could not be found: {reason}"),
            format!("Check the host name in {field} (for example https://acme.service-now.com)."),
        ),
        TransportFailure::Refused | TransportFailure::Dropped => failed(
            format!("{host} could not be reached: {reason}"),
            "Check the host name and port, and that it is reachable from this AWS account.",
        ),
    }
}

/// A hint for a ServiceNow answer that is a web page, not JSON: the instance may be hibernating.
fn html_hint(detail: &str) -> Option<&'static str> {
    detail.contains(HTML_PAGE).then_some(
        "ServiceNow answered a web page, not JSON: the instance may be hibernating (wake it from the developer \
         portal) or instanceUrl may point at a login page or a proxy.",
    )
}

/// What the `pmcloud` check does.
enum PmCloudCheck {
    Run(PmCloudSettings),
    /// Ok and skipped: the settings have no `pmCloud`.
    NotConfigured,
    /// Skipped: `config` failed for the `pmCloud` part itself (or the settings are not JSON).
    NotTried,
}

/// The `pmcloud` check after a failed `config`: run when the `pmCloud` part keeps every rule on its own (what
/// failed was the rest, and `pmcloud` runs whatever ServiceNow's checks do, CONTRACT §11).
async fn pm_cloud_on_its_own(
    object: &Result<Map<String, Value>, Vec<FieldError>>,
    hosts: Hosts,
) -> PmCloudCheck {
    let Ok(object) = object else {
        return PmCloudCheck::NotTried;
    };
    let Some(part) = object.get("pmCloud").filter(|v| !v.is_null()) else {
        return PmCloudCheck::NotConfigured;
    };
    match PmCloudSettings::parse(part, hosts) {
        Ok(pm_cloud)
            if hosts_resolving_locally(&[("pmCloud.apiUrl", &pm_cloud.api_url)], hosts)
                .await
                .is_empty() =>
        {
            PmCloudCheck::Run(pm_cloud)
        }
        _ => PmCloudCheck::NotTried,
    }
}

/// The settings object to check: the stored secret's, or the candidate's parts over it; and how to name it.
fn settings_object(
    subject: Subject,
    raw: &str,
) -> (Result<Map<String, Value>, Vec<FieldError>>, &'static str) {
    match subject {
        Subject::Stored => (secret_json(raw), "the stored settings secret"),
        Subject::Candidate {
            servicenow,
            pm_cloud,
        } => {
            let mut merged = secret_json(raw).unwrap_or_default();
            for (key, part) in [("servicenow", servicenow), ("pmCloud", pm_cloud)] {
                if let Some(part) = part {
                    merged.insert(key.to_owned(), part);
                }
            }
            (
                Ok(merged),
                "the candidate settings (with the stored ones for what they leave out)",
            )
        }
    }
}

/// Every rule of CONTRACT §2, the address rules included: with [`Hosts::Public`], a URL's host that resolves to a
/// local address fails here (a name that does not resolve is left to `connect` and `pmcloud` to report).
async fn config_check(
    object: &Result<Map<String, Value>, Vec<FieldError>>,
    source: &str,
    hosts: Hosts,
) -> Result<(Settings, String), Failed> {
    let settings = object
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|object| Settings::from_json(object, hosts))
        .map_err(|errors| invalid(source, &errors))?;
    let mut urls = vec![("servicenow.instanceUrl", &settings.servicenow.instance_url)];
    urls.extend(
        settings
            .pm_cloud
            .as_ref()
            .map(|p| ("pmCloud.apiUrl", &p.api_url)),
    );
    let local = hosts_resolving_locally(&urls, hosts).await;
    if !local.is_empty() {
        return Err(invalid(source, &local));
    }
    let sn = &settings.servicenow;
    let pm_cloud = settings.pm_cloud.as_ref().map_or_else(
        || "PM Cloud not configured".to_owned(),
        |p| format!("PM Cloud {}", p.api_url.as_str()),
    );
    let detail = format!(
        "{source}: instance {}, acting as {}, task type {}, {pm_cloud}",
        sn.instance_url.as_str(),
        sn.acting_user(),
        sn.task_type
    );
    Ok((settings, detail))
}

/// The URL fields (name, URL) whose host resolves to a local address; none when `hosts` admits local addresses.
async fn hosts_resolving_locally(urls: &[(&str, &BaseUrl)], hosts: Hosts) -> Vec<FieldError> {
    if hosts == Hosts::Local {
        return Vec::new();
    }
    let mut errors = Vec::new();
    for &(field, url) in urls {
        if let Ok(Ok(addrs)) = tokio::time::timeout(LOOKUP_TIMEOUT, resolve(&url.host())).await
            && any_local(&addrs)
        {
            errors.push(FieldError::new(
                field,
                format!("resolves to a local address: {LOCAL_HOST_REFUSED}"),
            ));
        }
    }
    errors
}

fn invalid(source: &str, errors: &[FieldError]) -> Failed {
    failed(
        format!("In {source}: {}", describe_fields(errors)),
        "Correct the named fields. instanceUrl and pmCloud.apiUrl must be https:// (http:// only for a \
         loopback host) and name a public host; taskType is one of incident, change_request, sc_task, \
         sc_req_item; clientId and clientSecret are required, and username and password unless grantType is \
         client_credentials; no URL or credential may still hold the template's REPLACE-ME; every pmcApiKeys \
         and webhookSecrets entry has at least 32 characters, no white space at either end and no REPLACE-ME \
         (generate one with: openssl rand -base64 32).",
    )
}
