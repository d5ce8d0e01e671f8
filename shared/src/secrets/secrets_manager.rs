//! The settings secret in AWS Secrets Manager, read on first use and again once the cache is older than its TTL.

use super::{INVALID_CACHE_TTL, SettingsError, SettingsSource, Snapshot};
use crate::domain::base_url::Hosts;
use crate::domain::settings::Settings;
use crate::outbound::client::{BuiltOnFirstUse, built};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Settings read from Secrets Manager on first use and re-read once the cache is older than its TTL (invalid
/// settings: [`INVALID_CACHE_TTL`] at most). One `GetSecretValue` per TTL per execution environment.
pub struct SecretsManagerSettings {
    client: BuiltOnFirstUse<Client>,
    secret_id: String,
    ttl: Duration,
    hosts: Hosts,
    cache: Mutex<Option<(Instant, Snapshot)>>,
}

impl SecretsManagerSettings {
    pub fn new(client: Client, secret_id: impl Into<String>, ttl: Duration, hosts: Hosts) -> Self {
        Self::built_on_first_use(built(client), secret_id, ttl, hosts)
    }

    /// The same over a client that is built when the secret is first read.
    pub fn built_on_first_use(
        client: BuiltOnFirstUse<Client>,
        secret_id: impl Into<String>,
        ttl: Duration,
        hosts: Hosts,
    ) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
            ttl,
            hosts,
            cache: Mutex::new(None),
        }
    }

    /// The cached snapshot, or a fresh one once it is older than its TTL. Errors: the secret cannot be read (not
    /// cached: the next call tries again).
    async fn snapshot(&self) -> Result<Snapshot, SettingsError> {
        // Holding the lock while fetching makes concurrent callers share one fetch.
        let mut cache = self.cache.lock().await;
        if let Some((fetched_at, snapshot)) = cache.as_ref() {
            let ttl = match snapshot.settings {
                Ok(_) => self.ttl,
                Err(_) => self.ttl.min(INVALID_CACHE_TTL),
            };
            if fetched_at.elapsed() < ttl {
                return Ok(snapshot.clone());
            }
        }
        let snapshot = Snapshot::of(&self.raw().await?, self.hosts);
        *cache = Some((Instant::now(), snapshot.clone()));
        Ok(snapshot)
    }
}

impl SettingsSource for SecretsManagerSettings {
    async fn settings(&self) -> Result<Arc<Settings>, SettingsError> {
        self.snapshot().await?.settings()
    }

    async fn caller_keys(&self) -> Result<Arc<[SecretString]>, SettingsError> {
        Ok(self.snapshot().await?.caller_keys)
    }

    fn hosts(&self) -> Hosts {
        self.hosts
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
    use crate::domain::settings::tests::{PMC_KEY_1, secret_json};

    const ROTATED_KEY: &str = "pmc-key-rotated-000000000000000000000";
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
        let source = SecretsManagerSettings::new(
            client.clone(),
            &name,
            Duration::from_secs(60),
            Hosts::Public,
        );
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
        let source = SecretsManagerSettings::new(
            client.clone(),
            &name,
            Duration::from_millis(50),
            Hosts::Public,
        );
        source.settings().await.unwrap();
        let rotated = secret_json("https://acme.service-now.com").replace(PMC_KEY_1, ROTATED_KEY);
        client
            .put_secret_value()
            .secret_id(&name)
            .secret_string(rotated)
            .send()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(80)).await;
        let settings = source.settings().await.unwrap();
        assert_eq!(settings.pmc_api_keys[0].expose_secret(), ROTATED_KEY);
    }

    /// The template creates the settings secret without a value (tests/template-policy): until the operator puts the
    /// settings in, no key lets anyone in, and every route answers `503`.
    #[tokio::test]
    async fn a_secret_created_without_a_value_is_unavailable_and_lets_no_key_in() {
        let client = Client::new(&emulator_config().await);
        let name = format!("settings-{}", uuid::Uuid::new_v4().simple());
        client.create_secret().name(&name).send().await.unwrap();
        let source = SecretsManagerSettings::new(client, &name, DEFAULT_CACHE_TTL, Hosts::Public);
        assert!(matches!(
            source.settings().await,
            Err(SettingsError::Unavailable(_))
        ));
        assert!(matches!(
            source.caller_keys().await,
            Err(SettingsError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn a_missing_or_invalid_secret_is_an_error_that_reveals_nothing() {
        let client = Client::new(&emulator_config().await);
        let missing =
            SecretsManagerSettings::new(client, "no-such-secret", DEFAULT_CACHE_TTL, Hosts::Public);
        assert!(matches!(
            missing.settings().await,
            Err(SettingsError::Unavailable(_))
        ));

        let (client, name) = secret(&secret_json("http://public.example")).await;
        let invalid = SecretsManagerSettings::new(client, &name, DEFAULT_CACHE_TTL, Hosts::Public);
        let error = invalid.settings().await.unwrap_err().to_string();
        assert!(error.contains("servicenow.instanceUrl"), "{error}");
        assert!(
            !error.contains("SECRET") && !error.contains("pmc-key"),
            "{error}"
        );
    }
}
