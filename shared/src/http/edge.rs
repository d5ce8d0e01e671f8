//! A function's HTTP edge: its rules, where its settings come from, and the two ways a caller proves who it is.

use super::{ApiRequest, Problem, auth};
use crate::domain::settings::Settings;
use crate::secrets::SettingsSource;
use std::sync::Arc;

/// Who may call a route, and how it proves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// `Authorization: Bearer <key>` with one of `pmcApiKeys`.
    PmCloud,
    /// `X-Webhook-Timestamp` and `X-Webhook-Signature` by one of `webhookSecrets`, on the raw body.
    ServiceNow,
}

/// What an HTTP function's handler holds: `rules` (for example [`crate::rules::request_intake::RequestIntake`])
/// and the `settings` source. Built once per execution environment.
pub struct Edge<R, C> {
    pub rules: R,
    pub settings: C,
}

impl<R, C: SettingsSource> Edge<R, C> {
    pub fn new(rules: R, settings: C) -> Self {
        Self { rules, settings }
    }

    /// The settings, once the request proves it comes from `caller` (CONTRACT §3).
    /// Errors: `503`/`500` when the settings cannot be used, `401` for a missing, wrong, stale or malformed
    /// credential.
    pub async fn settings_for(
        &self,
        caller: Caller,
        request: &ApiRequest,
    ) -> Result<Arc<Settings>, Problem> {
        let settings = self.settings.settings().await?;
        match caller {
            Caller::PmCloud => auth::require_pmc_key(request, &settings.pmc_api_keys)?,
            Caller::ServiceNow => {
                auth::require_webhook_signature(request, &settings.webhook_secrets)?
            }
        }
        Ok(settings)
    }
}
