//! The settings secret in AWS Secrets Manager, read on first use and again once the cache is older than its TTL.

use super::{SettingsError, SettingsSource};
use crate::domain::settings::Settings;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::tests::secret_json;
    use crate::secrets::DEFAULT_CACHE_TTL;
    use secrecy::ExposeSecret;
    use test_support::emulator_config;

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
