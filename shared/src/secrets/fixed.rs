//! Fixed settings for tests: the same text every time, or a secret that cannot be read.

use super::{SettingsError, SettingsSource, Snapshot};
use crate::domain::base_url::Hosts;
use crate::domain::settings::Settings;
use secrecy::SecretString;
use std::sync::Arc;

/// The settings a test gives, parsed on every read as the real source parses a fetched secret.
pub struct StaticSettings {
    raw: String,
    hosts: Hosts,
}

impl StaticSettings {
    /// Settings whose URLs may name local hosts (the simulators), as under `ALLOW_LOCAL_URLS=true`.
    pub fn new(raw: impl Into<String>) -> Self {
        Self::with_hosts(raw, Hosts::Local)
    }

    /// Settings whose URLs must name hosts `hosts` admits.
    pub fn with_hosts(raw: impl Into<String>, hosts: Hosts) -> Self {
        Self {
            raw: raw.into(),
            hosts,
        }
    }
}

impl SettingsSource for StaticSettings {
    async fn settings(&self) -> Result<Arc<Settings>, SettingsError> {
        Snapshot::of(&self.raw, self.hosts).settings()
    }

    async fn caller_keys(&self) -> Result<Arc<[SecretString]>, SettingsError> {
        Ok(Snapshot::of(&self.raw, self.hosts).caller_keys)
    }

    async fn raw(&self) -> Result<String, SettingsError> {
        Ok(self.raw.clone())
    }

    fn hosts(&self) -> Hosts {
        self.hosts
    }
}

/// A settings secret that cannot be read (Secrets Manager is down).
pub struct UnreadableSettings;

impl UnreadableSettings {
    fn error() -> SettingsError {
        SettingsError::Unavailable("connection refused".into())
    }
}

impl SettingsSource for UnreadableSettings {
    async fn settings(&self) -> Result<Arc<Settings>, SettingsError> {
        Err(Self::error())
    }

    async fn caller_keys(&self) -> Result<Arc<[SecretString]>, SettingsError> {
        Err(Self::error())
    }

    async fn raw(&self) -> Result<String, SettingsError> {
        Err(Self::error())
    }

    fn hosts(&self) -> Hosts {
        Hosts::Public
    }
}
