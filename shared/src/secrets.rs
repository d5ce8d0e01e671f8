//! Where the settings come from: Secrets Manager in AWS, cached for a bounded time so that a rotated key
//! takes effect without a redeploy; a fixed value in tests.

use crate::problem::{FieldError, describe_fields};
use crate::settings::Settings;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

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

/// Settings read from Secrets Manager on first use and re-read once the cache is older than its TTL.
pub struct SecretsManagerSettings {
    client: Client,
    secret_id: String,
    ttl: Duration,
    cache: Mutex<Option<(Instant, Arc<Settings>)>>,
}

impl SecretsManagerSettings {
    pub fn new(client: Client, secret_id: impl Into<String>, ttl: Duration) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
            ttl,
            cache: Mutex::new(None),
        }
    }
}

impl SecretsManagerSettings {
    pub fn from_config(
        config: &aws_config::SdkConfig,
        secret_id: impl Into<String>,
        ttl: Duration,
    ) -> Self {
        Self::new(Client::new(config), secret_id, ttl)
    }
}

impl SettingsSource for SecretsManagerSettings {
    async fn settings(&self) -> Result<Arc<Settings>, SettingsError> {
        // Holding the lock while fetching makes concurrent callers share one fetch.
        let mut cache = self.cache.lock().await;
        if let Some((fetched_at, settings)) = cache.as_ref()
            && fetched_at.elapsed() < self.ttl
        {
            return Ok(Arc::clone(settings));
        }
        let settings =
            Arc::new(Settings::parse(&self.raw().await?).map_err(SettingsError::Invalid)?);
        *cache = Some((Instant::now(), Arc::clone(&settings)));
        Ok(settings)
    }

    async fn raw(&self) -> Result<String, SettingsError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| SettingsError::Unavailable(DisplayErrorContext(e).to_string()))?;
        output
            .secret_string
            .ok_or_else(|| SettingsError::Unavailable("the secret has no string value".into()))
    }
}

/// Fixed settings, for tests.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::secret_json;
    use crate::testing::emulator_config;
    use secrecy::ExposeSecret;

    async fn secret(value: &str) -> (Client, String) {
        let client = Client::new(&emulator_config().await);
        let name = format!("settings-{}", uuid::Uuid::new_v4().simple());
        client
            .create_secret()
            .name(&name)
            .secret_string(value)
            .send()
            .await
            .unwrap();
        (client, name)
    }

    #[tokio::test]
    async fn reads_the_secret_and_caches_it_within_the_ttl() {
        let (client, name) = secret(&secret_json("https://acme.service-now.com")).await;
        let source = SecretsManagerSettings::new(client.clone(), &name, Duration::from_secs(60));
        let first = source.settings().await.unwrap();
        assert_eq!(
            first.servicenow.instance_url.as_str(),
            "https://acme.service-now.com"
        );

        client
            .put_secret_value()
            .secret_id(&name)
            .secret_string(secret_json("https://other.service-now.com"))
            .send()
            .await
            .unwrap();
        let cached = source.settings().await.unwrap();
        assert!(
            Arc::ptr_eq(&first, &cached),
            "within the TTL the cached settings are used"
        );
    }

    #[tokio::test]
    async fn a_rotated_secret_takes_effect_once_the_ttl_ran_out() {
        let (client, name) = secret(&secret_json("https://acme.service-now.com")).await;
        let source = SecretsManagerSettings::new(client.clone(), &name, Duration::from_millis(50));
        source.settings().await.unwrap();
        let rotated =
            secret_json("https://acme.service-now.com").replace("pmc-key-1", "pmc-key-rotated");
        client
            .put_secret_value()
            .secret_id(&name)
            .secret_string(rotated)
            .send()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(80)).await;
        let settings = source.settings().await.unwrap();
        assert_eq!(settings.pmc_api_keys[0].expose_secret(), "pmc-key-rotated");
    }

    #[tokio::test]
    async fn a_missing_or_invalid_secret_is_an_error_that_reveals_nothing() {
        let client = Client::new(&emulator_config().await);
        let missing = SecretsManagerSettings::new(client, "no-such-secret", DEFAULT_CACHE_TTL);
        assert!(matches!(
            missing.settings().await,
            Err(SettingsError::Unavailable(_))
        ));

        let (client, name) = secret(&secret_json("http://public.example")).await;
        let invalid = SecretsManagerSettings::new(client, &name, DEFAULT_CACHE_TTL);
        let error = invalid.settings().await.unwrap_err().to_string();
        assert!(error.contains("servicenow.instanceUrl"), "{error}");
        assert!(
            !error.contains("SECRET") && !error.contains("pmc-key"),
            "{error}"
        );
    }
}
