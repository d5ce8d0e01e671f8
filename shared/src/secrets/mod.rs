//! Where the settings come from (CONTRACT §2): a narrow port ([`SettingsSource`]) with a Secrets Manager adapter
//! that caches for a bounded time, so that a rotated key takes effect without a redeploy, and a fixed one for
//! tests.

#[cfg(any(test, feature = "in-memory"))]
mod fixed;
mod secrets_manager;

#[cfg(any(test, feature = "in-memory"))]
pub use fixed::{StaticSettings, UnreadableSettings};
pub use secrets_manager::SecretsManagerSettings;

use crate::domain::base_url::Hosts;
use crate::domain::fields::{FieldError, describe_fields};
use crate::domain::settings::Settings;
use secrecy::SecretString;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long fetched settings are trusted before they are read again.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);
/// How long invalid settings are kept before they are read again: an operator fixing them should not wait the
/// whole TTL, and a flood of requests still costs one read per this interval.
pub const INVALID_CACHE_TTL: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the settings secret could not be read: {0}")]
    Unavailable(String),
    /// Names the bad fields, never their values.
    #[error("the settings secret is invalid: {}", describe_fields(.0))]
    Invalid(Vec<FieldError>),
}

/// Where the settings come from.
pub trait SettingsSource: Send + Sync {
    /// The settings, cached. Errors: the secret cannot be read, or it breaks a rule of CONTRACT §2.
    fn settings(&self) -> impl Future<Output = Result<Arc<Settings>, SettingsError>> + Send;

    /// The `pmcApiKeys` entries that keep the key rules, cached, even when the rest of the secret is invalid: they
    /// let an administrator into Validate Settings to learn what is wrong. Errors: the secret cannot be read.
    fn caller_keys(
        &self,
    ) -> impl Future<Output = Result<Arc<[SecretString]>, SettingsError>> + Send;

    /// The secret's raw JSON, read now (uncached), for the settings check that reports on it field by field.
    fn raw(&self) -> impl Future<Output = Result<String, SettingsError>> + Send;

    /// Which hosts the settings' URLs may name (`ALLOW_LOCAL_URLS`, CONTRACT §2).
    fn hosts(&self) -> Hosts;
}

/// One source shared by several rules (the reconciler drives three functions' rules over one cache).
impl<C: SettingsSource> SettingsSource for Arc<C> {
    fn settings(&self) -> impl Future<Output = Result<Arc<Settings>, SettingsError>> + Send {
        C::settings(self)
    }

    fn caller_keys(
        &self,
    ) -> impl Future<Output = Result<Arc<[SecretString]>, SettingsError>> + Send {
        C::caller_keys(self)
    }

    fn raw(&self) -> impl Future<Output = Result<String, SettingsError>> + Send {
        C::raw(self)
    }

    fn hosts(&self) -> Hosts {
        C::hosts(self)
    }
}

/// What one read of the secret gives: the settings or what is wrong with them, and the keys that let a caller in.
#[derive(Clone)]
struct Snapshot {
    settings: Result<Arc<Settings>, Vec<FieldError>>,
    caller_keys: Arc<[SecretString]>,
}

impl Snapshot {
    fn of(raw: &str, hosts: Hosts) -> Self {
        Self {
            settings: Settings::parse(raw, hosts).map(Arc::new),
            caller_keys: crate::domain::settings::keys::pmc_api_keys_of(raw).into(),
        }
    }

    fn settings(&self) -> Result<Arc<Settings>, SettingsError> {
        self.settings.clone().map_err(SettingsError::Invalid)
    }
}
