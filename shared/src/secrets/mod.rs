//! Where the settings come from (CONTRACT §2): a narrow port ([`SettingsSource`]) with a Secrets Manager adapter
//! that caches for a bounded time, so that a rotated key takes effect without a redeploy, and a fixed one for
//! tests.

#[cfg(any(test, feature = "in-memory"))]
mod fixed;
mod secrets_manager;

#[cfg(any(test, feature = "in-memory"))]
pub use fixed::StaticSettings;
pub use secrets_manager::SecretsManagerSettings;

use crate::domain::fields::{FieldError, describe_fields};
use crate::domain::settings::Settings;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long fetched settings are trusted before they are read again.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the settings secret could not be read: {0}")]
    Unavailable(String),
    /// Names the bad fields, never their values.
    #[error("the settings secret is invalid: {}", describe_fields(.0))]
    Invalid(Vec<FieldError>),
}

pub trait SettingsSource: Send + Sync {
    fn settings(&self) -> impl Future<Output = Result<Arc<Settings>, SettingsError>> + Send;

    /// The secret's raw JSON, for the settings check that reports on it field by field.
    fn raw(&self) -> impl Future<Output = Result<String, SettingsError>> + Send;
}

/// One source shared by several rules (the reconciler drives three functions' rules over one cache).
impl<C: SettingsSource> SettingsSource for Arc<C> {
    fn settings(&self) -> impl Future<Output = Result<Arc<Settings>, SettingsError>> + Send {
        C::settings(self)
    }

    fn raw(&self) -> impl Future<Output = Result<String, SettingsError>> + Send {
        C::raw(self)
    }
}
