//! What a function reads from its environment at start (CONTRACT §2), and the adapters it builds from it once
//! per execution environment. A missing or malformed variable stops the function before it takes any event,
//! with a message that names it. Nothing here does network I/O: secrets and credentials are fetched on first use.

use crate::secrets::{DEFAULT_CACHE_TTL, SecretsManagerSettings};
use crate::store::DynamoStore;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {0} is malformed: {1}")]
    Malformed(&'static str, &'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionConfig {
    pub table_name: String,
    pub settings_secret_id: String,
    pub settings_cache_ttl: Duration,
}

impl FunctionConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The same rules over any lookup, so that they are testable without touching the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| -> Result<String, ConfigError> {
            let value = lookup(name).ok_or(ConfigError::Missing(name))?;
            let value = value.trim();
            if value.is_empty() {
                return Err(ConfigError::Malformed(name, "it is empty"));
            }
            if value.chars().any(char::is_whitespace) {
                return Err(ConfigError::Malformed(name, "it contains white space"));
            }
            Ok(value.to_owned())
        };
        let table_name = required("TABLE_NAME")?;
        let settings_secret_id = required("SETTINGS_SECRET_ID")?;
        let settings_cache_ttl = match lookup("SETTINGS_CACHE_SECONDS") {
            None => DEFAULT_CACHE_TTL,
            Some(text) => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|secs| *secs <= 3600)
                .map(Duration::from_secs)
                .ok_or(ConfigError::Malformed(
                    "SETTINGS_CACHE_SECONDS",
                    "it must be whole seconds from 0 to 3600",
                ))?,
        };
        Ok(Self {
            table_name,
            settings_secret_id,
            settings_cache_ttl,
        })
    }
}

/// The AWS SDK configuration from the environment (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL`).
/// Building it does no network I/O; credentials are resolved on first use.
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The AWS adapters every function uses: the requests table and the settings secret.
pub struct Adapters {
    pub store: DynamoStore,
    pub settings: SecretsManagerSettings,
}

impl Adapters {
    /// Reads [`FunctionConfig`] and builds both adapters over one SDK configuration.
    /// Errors: [`ConfigError`] naming the missing or malformed variable.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = FunctionConfig::from_env()?;
        let aws = aws_sdk_config().await;
        Ok(Self {
            store: DynamoStore::from_config(&aws, config.table_name),
            settings: SecretsManagerSettings::from_config(
                &aws,
                config.settings_secret_id,
                config.settings_cache_ttl,
            ),
        })
    }
}

/// Logs as Lambda expects them (JSON when the function's log format is JSON), at `AWS_LAMBDA_LOG_LEVEL`.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<FunctionConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        FunctionConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn reads_the_required_variables() {
        let config = config(&[
            ("TABLE_NAME", "requests"),
            ("SETTINGS_SECRET_ID", "arn:aws:secretsmanager:x"),
        ])
        .unwrap();
        assert_eq!(config.table_name, "requests");
        assert_eq!(config.settings_secret_id, "arn:aws:secretsmanager:x");
        assert_eq!(config.settings_cache_ttl, DEFAULT_CACHE_TTL);
    }

    #[test]
    fn names_the_missing_or_malformed_variable() {
        assert_eq!(
            config(&[("SETTINGS_SECRET_ID", "s")]),
            Err(ConfigError::Missing("TABLE_NAME"))
        );
        assert_eq!(
            config(&[("TABLE_NAME", "t")]),
            Err(ConfigError::Missing("SETTINGS_SECRET_ID"))
        );
        let error = config(&[("TABLE_NAME", " "), ("SETTINGS_SECRET_ID", "s")]).unwrap_err();
        assert!(error.to_string().contains("TABLE_NAME"), "{error}");
        let error = config(&[("TABLE_NAME", "t"), ("SETTINGS_SECRET_ID", "a b")]).unwrap_err();
        assert!(error.to_string().contains("SETTINGS_SECRET_ID"), "{error}");
        let error = config(&[
            ("TABLE_NAME", "t"),
            ("SETTINGS_SECRET_ID", "s"),
            ("SETTINGS_CACHE_SECONDS", "5m"),
        ])
        .unwrap_err();
        assert!(
            error.to_string().contains("SETTINGS_CACHE_SECONDS"),
            "{error}"
        );
    }
}
