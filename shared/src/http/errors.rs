//! The one mapping of each error the rules and adapters return to the problem an HTTP caller gets (CONTRACT §4).
//! Faults of the connector or its dependencies are `5xx` and logged here; nothing here quotes a secret.

use super::Problem;
use crate::domain::fields::describe_fields;
use crate::rules::request_intake::IntakeError;
use crate::rules::ticket_callback::CallbackError;
use crate::secrets::SettingsError;
use crate::servicenow::ServiceNowError;
use crate::store::StoreError;

/// A fault of a dependency, logged in full: `503` when trying again may help, `500` when it cannot. `detail` is
/// what the caller reads, and never quotes the error.
fn dependency_fault(error: &dyn std::fmt::Display, retry_may_help: bool, detail: &str) -> Problem {
    tracing::error!(%error, "a dependency failed");
    if retry_may_help {
        Problem::unavailable(detail)
    } else {
        Problem::internal(detail)
    }
}

/// Unreadable settings are `503` (try again); invalid ones `503` naming the fields (CONTRACT §2, §4): an
/// operator fixes them without a redeploy.
impl From<SettingsError> for Problem {
    fn from(error: SettingsError) -> Self {
        match error {
            SettingsError::Unavailable(_) => dependency_fault(
                &error,
                true,
                "the connector cannot read its settings secret",
            ),
            SettingsError::Invalid(errors) => {
                tracing::error!(fields = %describe_fields(&errors), "the settings secret is invalid");
                Problem::settings_invalid(&errors)
            }
        }
    }
}

/// A storage failure is never the caller's fault.
impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        let retry_may_help = matches!(error, StoreError::Unavailable(_));
        let detail = match retry_may_help {
            true => "the request store is unavailable; retry shortly",
            false => "the request store answered unexpectedly",
        };
        dependency_fault(&error, retry_may_help, detail)
    }
}

impl From<IntakeError> for Problem {
    fn from(error: IntakeError) -> Self {
        match error {
            IntakeError::Conflict { .. } => Problem::conflict(error.to_string()),
            IntakeError::Store(error) => error.into(),
        }
    }
}

/// ServiceNow failing the connector is never the caller's fault: `503` when retrying may help, `502` when it
/// cannot.
impl From<ServiceNowError> for Problem {
    fn from(error: ServiceNowError) -> Self {
        tracing::error!(error = %error, "reading the ticket back failed");
        match error {
            ServiceNowError::Transient(_) => {
                Problem::unavailable(format!("ServiceNow is unavailable: {}", error.detail()))
            }
            ServiceNowError::Permanent { .. } => Problem::bad_gateway(format!(
                "ServiceNow refused the connector: {}",
                error.detail()
            )),
        }
    }
}

impl From<CallbackError> for Problem {
    fn from(error: CallbackError) -> Self {
        match error {
            CallbackError::NoSuchTicket { .. } | CallbackError::NotOurs { .. } => {
                Problem::not_found(error.to_string())
            }
            CallbackError::InvalidDuration(field) => Problem::validation(vec![field]),
            CallbackError::ServiceNow(error) => error.into(),
            CallbackError::Store(error) => error.into(),
        }
    }
}
