//! What the simulated tenant knows before the first request: its API account and that account's permission.

use serde::{Deserialize, Serialize};

use crate::decision_webhook::DecisionWebhook;

/// The simulated tenant's setup. In JSON (the binary's `--config` file) every field is optional and camelCase.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SimConfig {
    /// The API account's client id (PM Cloud: Configuration → Settings → API Settings).
    pub client_id: String,
    /// The API account's secret at start; [`crate::Tenant::rotate_secret`] replaces it.
    pub client_secret: String,
    /// `expires_in` of every access token; a token is refused once it has run out.
    pub token_lifetime_secs: u64,
    /// The API account's permission on JIT Application Access at start.
    pub jit_access: JitAccess,
    /// The authorization requests the tenant knows. `None` accepts a notification for any `itsmRequestId`; a list
    /// makes every other id a 404.
    pub known_request_ids: Option<Vec<String>>,
    /// Where a decision in the portal is announced (PM Cloud's *Decision Updated* webhook); `None`: nowhere.
    /// [`crate::Tenant::set_decision_webhook`] changes it later.
    pub decision_webhook: Option<DecisionWebhook>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            client_id: "pmc-client".into(),
            client_secret: "pmc-client-secret".into(),
            token_lifetime_secs: 3600,
            jit_access: JitAccess::Full,
            known_request_ids: None,
            decision_webhook: None,
        }
    }
}

/// The API account's permission level on JIT Application Access. Only Full Access may send ticket notifications.
/// JSON: `"full"`, `"readOnly"` or `"none"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JitAccess {
    #[default]
    Full,
    ReadOnly,
    None,
}
