//! The settings secret (CONTRACT §2), parsed into types that can hold only valid values: URLs that name a host the
//! connector may reach, keys long enough to guess at no better than chance, the grant ServiceNow is asked for.

mod approvals;
pub mod keys;
mod parse;

use crate::domain::base_url::{BaseUrl, Hosts};
use crate::domain::duration::Duration;
use crate::domain::fields::{Collector, FieldError};
use crate::domain::ids::SysId;
use crate::domain::ticket::TaskType;
pub use approvals::Approvals;
use keys::read_key_list;
use parse::{parse_part, read_pm_cloud, read_servicenow};
use secrecy::SecretString;
use serde_json::{Map, Value};

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
    /// With the client-credentials grant, `username` when it names the OAuth Application User (CONTRACT §10 v3:
    /// then only tickets it created are taken as the connector's); `None` otherwise.
    pub application_user: Option<String>,
    /// `approvals` (CONTRACT §15 v3): approval records and deadlines; `None`: tickets are decided as in §10 only.
    pub approvals: Option<Approvals>,
}

/// PM Cloud's Management API: the API account (client credentials, with the JIT permission) decisions are pushed
/// with (CONTRACT §2 `pmCloud`, §12).
#[derive(Debug, Clone)]
pub struct PmCloudSettings {
    /// For example `https://acme-services.pm.beyondtrustcloud.com`.
    pub api_url: BaseUrl,
    pub client_id: String,
    pub client_secret: SecretString,
    /// `adminDecisionPath`: where admin-access decisions go, a path such as `/management-api/v2/…` (CONTRACT §12
    /// v3: BeyondTrust does not publish the AdminAccessRequest decision call's path); `None`: where application
    /// decisions go.
    pub admin_decision_path: Option<String>,
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

impl ServiceNowSettings {
    /// Parses the `servicenow` object, naming every bad field (paths start with `servicenow.`).
    pub fn parse(value: &Value, hosts: Hosts) -> Result<Self, Vec<FieldError>> {
        parse_part("servicenow", value, |c, o| read_servicenow(c, o, hosts))
    }

    /// Who acts in ServiceNow, for messages: the user name, or the OAuth application's user.
    /// The `user_name` that ServiceNow writes into `sys_created_by` of the tickets the connector creates, when
    /// the settings say it: `username` with the password grant, the OAuth Application User's when given with the
    /// client-credentials grant (CONTRACT §10 v3).
    pub fn connector_user(&self) -> Option<&str> {
        match &self.grant {
            ServiceNowGrant::Password { username, .. } => Some(username),
            ServiceNowGrant::ClientCredentials => self.application_user.as_deref(),
        }
    }

    pub fn acting_user(&self) -> &str {
        match &self.grant {
            ServiceNowGrant::Password { username, .. } => username,
            ServiceNowGrant::ClientCredentials => "the OAuth application user",
        }
    }
}

impl PmCloudSettings {
    /// Parses the `pmCloud` object on its own, naming every bad field (paths start with `pmCloud.`).
    pub fn parse(value: &Value, hosts: Hosts) -> Result<Self, Vec<FieldError>> {
        parse_part("pmCloud", value, |c, o| read_pm_cloud(c, o, hosts))
    }
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

/// What the template's placeholders contain; a setting that still does is refused.
const PLACEHOLDER: &str = "REPLACE-ME";

#[cfg(test)]
pub(crate) mod tests;
