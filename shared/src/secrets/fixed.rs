//! Fixed settings: the same text every time, for tests.

use super::{SettingsError, SettingsSource};
use crate::domain::settings::Settings;
use std::sync::Arc;

/// The settings a test gives, parsed on every read as the real source parses a fetched secret.
pub struct StaticSettings {
    raw: String,
}

impl StaticSettings {
    pub fn new(raw: impl Into<String>) -> Self {
        Self { raw: raw.into() }
    }
}

impl SettingsSource for StaticSettings {
    async fn settings(&self) -> Result<Arc<Settings>, SettingsError> {
        Settings::parse(&self.raw)
            .map(Arc::new)
            .map_err(SettingsError::Invalid)
    }

    async fn raw(&self) -> Result<String, SettingsError> {
        Ok(self.raw.clone())
    }
}
