//! What the simulated instance knows before the first request: its OAuth client, its users and its fields.

use serde::{Deserialize, Serialize};

use crate::ratelimit::RateLimit;

/// The simulated instance's setup. In JSON (the binary's `--config` file) every field is optional and camelCase.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SimConfig {
    /// The Application Registry entry's client id.
    pub client_id: String,
    pub client_secret: String,
    pub users: Vec<SimUser>,
    /// `expires_in` of every access token.
    pub token_lifetime_secs: u64,
    /// The field an approver fills with the granted duration.
    pub duration_field: String,
    /// The field an approver fills with notes.
    pub notes_field: String,
    /// Where [`crate::Instance::decide`] sends the signed webhook.
    pub webhook: Option<WebhookTarget>,
    /// `grant_type=client_credentials` (ServiceNow Washington DC and later).
    pub client_credentials: ClientCredentials,
    /// A rate limit rule in force from start; [`crate::Instance::set_rate_limit`] changes it later.
    pub rate_limit: Option<RateLimit>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            client_id: "sim-client".into(),
            client_secret: "sim-client-secret".into(),
            users: vec![SimUser {
                username: "svc.pm.connector".into(),
                password: "sim-password".into(),
                tables: None,
            }],
            token_lifetime_secs: 1799,
            duration_field: "u_pm_duration".into(),
            notes_field: "u_pm_message".into(),
            webhook: None,
            client_credentials: ClientCredentials::default(),
            rate_limit: None,
        }
    }
}

/// The client credentials grant of the Application Registry entry. JSON: `{"enabled": true, "applicationUser": "u"}`,
/// both optional.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClientCredentials {
    /// Whether the entry allows the grant; when not, a correct client is refused like a wrong one. Default true.
    pub enabled: bool,
    /// The "OAuth Application User" its tokens act as: a username of [`SimConfig::users`] (its password is not
    /// used; its `tables` are the token's reach). Default: the first configured user. A name that is not configured
    /// makes every grant a refusal, as ServiceNow refuses a token for a user it cannot find.
    pub application_user: Option<String>,
}

impl Default for ClientCredentials {
    fn default() -> Self {
        ClientCredentials {
            enabled: true,
            application_user: None,
        }
    }
}

/// A ServiceNow user account the password grant accepts.
#[derive(Clone, Debug, Deserialize)]
pub struct SimUser {
    pub username: String,
    pub password: String,
    /// The tables this user's roles reach (of the four task tables and `sys_user`, `sys_user_group`,
    /// `sys_user_grmember` and `sysapproval_approver`); `None` means all of them.
    #[serde(default)]
    pub tables: Option<Vec<String>>,
}

impl SimUser {
    pub(crate) fn may_access(&self, table: &str) -> bool {
        self.tables
            .as_ref()
            .is_none_or(|tables| tables.iter().any(|t| t == table))
    }
}

/// The connector's webhook endpoint and the HMAC key the business rule signs with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WebhookTarget {
    pub url: String,
    pub secret: String,
}
