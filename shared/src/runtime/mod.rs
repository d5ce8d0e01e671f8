//! What a function reads from its environment at start (CONTRACT §2), and the adapters it builds from it once
//! per execution environment. A missing or malformed variable stops the function before it takes any event,
//! with a message that names it. Nothing here does network I/O: secrets and credentials are fetched on first use.
//! Each function then runs the one invocation loop of [`serve`].

pub mod serve;

use crate::domain::base_url::Hosts;
use crate::outbound::client::BuiltOnFirstUse;
use crate::secrets::{DEFAULT_CACHE_TTL, SecretsManagerSettings};
use crate::store::DynamoStore;
use std::sync::{Arc, LazyLock};
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
    /// From `ALLOW_LOCAL_URLS` (`true`: local hosts allowed); the template never sets it.
    pub hosts: Hosts,
    /// `AWS_REGION`, which Lambda always sets.
    pub region: String,
    /// `AWS_ENDPOINT_URL`: a local AWS emulator, for local work and tests.
    pub aws_endpoint_url: Option<String>,
    /// `LEGACY_ID_WINDOW_HOURS` (0–720, default 24): how long after the table got its request id key a create
    /// first looks for a request an older version stored under a random id (0 for a table no such version used).
    pub legacy_id_window_hours: u32,
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
        let settings_cache_ttl = whole_number_in(
            &lookup,
            "SETTINGS_CACHE_SECONDS",
            0..=3600,
            "it must be whole seconds from 0 to 3600",
        )?
        .map_or(DEFAULT_CACHE_TTL, |secs| Duration::from_secs(secs.into()));
        let legacy_id_window_hours = whole_number_in(
            &lookup,
            "LEGACY_ID_WINDOW_HOURS",
            0..=720,
            "it must be whole hours from 0 to 720",
        )?
        .unwrap_or(crate::store::DEFAULT_LEGACY_WINDOW_HOURS);
        Ok(Self {
            table_name,
            settings_secret_id,
            settings_cache_ttl,
            legacy_id_window_hours,
            hosts: Hosts::from_allow_local_urls(lookup("ALLOW_LOCAL_URLS").as_deref()),
            region: required("AWS_REGION")?,
            aws_endpoint_url: lookup("AWS_ENDPOINT_URL").filter(|url| !url.trim().is_empty()),
        })
    }
}

/// The reconciler's thresholds: the defaults of CONTRACT §13, except that `RECONCILE_AFTER_SECONDS` (1–3600) may
/// shorten "stranded after 10 minutes" for local work and tests; the template never sets it.
pub fn reconcile_thresholds() -> Result<crate::rules::reconciler::Thresholds, ConfigError> {
    reconcile_thresholds_from(|name| std::env::var(name).ok())
}

fn reconcile_thresholds_from(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<crate::rules::reconciler::Thresholds, ConfigError> {
    let mut thresholds = crate::rules::reconciler::Thresholds::default();
    if let Some(seconds) = whole_number_in(
        &lookup,
        "RECONCILE_AFTER_SECONDS",
        1..=3600,
        "it must be whole seconds from 1 to 3600",
    )? {
        thresholds.stranded_after = chrono::Duration::seconds(seconds.into());
    }
    Ok(thresholds)
}

/// The whole number in the variable `name`, if it is set, within `range`. Errors: [`ConfigError::Malformed`]
/// saying `rule`.
fn whole_number_in(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    range: std::ops::RangeInclusive<u32>,
    rule: &'static str,
) -> Result<Option<u32>, ConfigError> {
    lookup(name)
        .map(|text| {
            text.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or(ConfigError::Malformed(name, rule))
        })
        .transpose()
}

/// The AWS SDK configuration for `config`: its region and endpoint, the execution role's credentials from the
/// variables Lambda sets (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, read on each
/// resolution), and an HTTPS client trusting the compiled-in roots ([`crate::outbound::client::tls_roots`]). Built
/// without any I/O: no profile file is looked for and no instance metadata asked, and TLS is set up on the first
/// call.
pub fn aws_sdk_config(config: &FunctionConfig) -> aws_config::SdkConfig {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Region, SharedCredentialsProvider};
    let credentials = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
    let builder = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(config.region.clone()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .timeout_config(sdk_timeouts())
        .http_client(aws_https_client());
    match &config.aws_endpoint_url {
        Some(url) => builder.endpoint_url(url),
        None => builder,
    }
    .build()
}

/// How long one AWS call may take (CONTRACT §13 v3 "bounded"): [`SDK_CONNECT_TIMEOUT`] to connect,
/// [`SDK_ATTEMPT_TIMEOUT`] an attempt and [`SDK_OPERATION_TIMEOUT`] an operation with the SDK's retries, well
/// inside the shortest function's time (15 s), so that a stalled DynamoDB or Secrets Manager ends as an error the
/// function answers, not as a killed invocation.
pub fn sdk_timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(SDK_CONNECT_TIMEOUT)
        .operation_attempt_timeout(SDK_ATTEMPT_TIMEOUT)
        .operation_timeout(SDK_OPERATION_TIMEOUT)
        .build()
}

/// Connecting to an AWS endpoint (seconds).
pub const SDK_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// One attempt of an AWS call.
pub const SDK_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// One AWS call, its retries included.
pub const SDK_OPERATION_TIMEOUT: Duration = Duration::from_secs(6);

/// The AWS SDK's HTTPS client (rustls with ring, as reqwest's) with the compiled-in roots. It creates its TLS
/// configuration when the first client first calls.
fn aws_https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{
        Provider, TlsContext, TrustStore, rustls_provider::CryptoMode,
    };
    let roots = crate::outbound::client::tls_roots().fold(TrustStore::empty(), |roots, der| {
        roots.with_pem_certificate(pem_certificate(der))
    });
    let tls = TlsContext::builder()
        .with_trust_store(roots)
        .build()
        .expect("a trust store of certificates builds");
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https()
}

/// A DER certificate as PEM, which the SDK's trust store takes.
fn pem_certificate(der: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in text.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem.into_bytes()
}

/// The AWS adapters every function uses: the requests table and the settings secret, and which hosts outbound
/// connections may reach.
pub struct Adapters {
    pub store: DynamoStore,
    pub settings: SecretsManagerSettings,
    pub hosts: Hosts,
}

impl Adapters {
    /// Reads [`FunctionConfig`] and sets up both adapters over one SDK configuration. The configuration and each
    /// client are built on first use (about 2.5 ms in all, which stays out of the time before the first event).
    /// Errors: [`ConfigError`] naming the missing or malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        let config = FunctionConfig::from_env()?;
        let for_sdk = config.clone();
        let aws: Arc<BuiltOnFirstUse<aws_config::SdkConfig>> =
            Arc::new(LazyLock::new(Box::new(move || aws_sdk_config(&for_sdk))));
        let for_store = Arc::clone(&aws);
        Ok(Self {
            store: DynamoStore::built_on_first_use(
                LazyLock::new(Box::new(move || aws_sdk_dynamodb::Client::new(&for_store))),
                config.table_name,
            )
            .with_legacy_window(config.legacy_id_window_hours),
            settings: SecretsManagerSettings::built_on_first_use(
                LazyLock::new(Box::new(move || aws_sdk_secretsmanager::Client::new(&aws))),
                config.settings_secret_id,
                config.settings_cache_ttl,
                config.hosts,
            ),
            hosts: config.hosts,
        })
    }
}

/// The CloudWatch namespace of the connector's metrics (CONTRACT §13).
pub const METRICS_NAMESPACE: &str = "PmcServiceNowConnector";

static METRICS: std::sync::OnceLock<&'static metrics_cloudwatch_embedded::Collector> =
    std::sync::OnceLock::new();

/// Targets whose DEBUG and TRACE events carry what must never be logged: the Lambda runtime logs every event it
/// receives (Authorization headers and candidate passwords included), the AWS SDK and the HTTP stack log requests
/// and answers. They stay at INFO whatever the level asked for.
const CAPPED_TARGETS: [&str; 14] = [
    "lambda_runtime",
    "lambda_runtime_api_client",
    "aws_config",
    "aws_sdk_dynamodb",
    "aws_sdk_secretsmanager",
    "aws_sigv4",
    "aws_smithy_http_client",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "h2",
    "hyper",
    "hyper_util",
    "reqwest",
    "rustls",
];

/// The log filter: one level for everything (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG` read as a single level, else
/// INFO), with [`CAPPED_TARGETS`] at INFO at most. `RUST_LOG` directives are not honoured, so that none can lift the
/// caps.
fn log_filter(level: Option<&str>) -> lambda_runtime::tracing::subscriber::EnvFilter {
    use lambda_runtime::tracing::subscriber::filter::{EnvFilter, LevelFilter};
    let level = level
        .and_then(|text| text.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let cap = level.min(LevelFilter::INFO);
    CAPPED_TARGETS.iter().fold(
        EnvFilter::default().add_directive(level.into()),
        |filter, target| {
            filter.add_directive(
                format!("{target}={cap}")
                    .parse()
                    .expect("a target and a level make a directive"),
            )
        },
    )
}

/// Logs as Lambda expects them (JSON when `AWS_LAMBDA_LOG_FORMAT` is JSON, at the level of [`log_filter`], never a
/// secret), and metrics in [`METRICS_NAMESPACE`] with the dimension `Function` = `function` (for example
/// `ticket-creator`).
pub fn init_telemetry(function: &'static str) {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let logs = lambda_runtime::tracing::subscriber::fmt()
        .with_env_filter(log_filter(level.as_deref()))
        .with_target(false)
        .without_time();
    if json {
        logs.json().init();
    } else {
        logs.init();
    }
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(METRICS_NAMESPACE)
        .with_dimension("Function", function)
        .init();
    match collector {
        Ok(collector) => {
            METRICS.set(collector).ok();
        }
        Err(error) => tracing::error!(%error, "metrics are off"),
    }
}

/// Writes what the invocation counted to standard output in CloudWatch's Embedded Metric Format, where Lambda's
/// log stream hands it to CloudWatch Metrics. Called by [`serve::serve`] after each invocation; does nothing
/// before [`init_telemetry`].
fn flush_metrics() {
    if let Some(collector) = METRICS.get()
        && let Err(error) = collector.flush(std::io::stdout().lock())
    {
        tracing::error!(%error, "metrics could not be written");
    }
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

    /// An AWS endpoint that takes the connection and never answers: the store's call ends with an error after the
    /// operation timeout, well inside the function's time, instead of hanging until Lambda kills the invocation.
    #[tokio::test]
    async fn an_aws_call_that_never_answers_ends_within_the_operation_timeout() {
        use crate::store::RequestStore;
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", silent.local_addr().unwrap());
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                open.push(socket);
            }
        });
        let config = config(&[
            ("TABLE_NAME", "requests"),
            ("SETTINGS_SECRET_ID", "settings"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", &endpoint),
        ])
        .unwrap();
        let store = crate::store::DynamoStore::from_config(&aws_sdk_config(&config), "requests");
        let started = std::time::Instant::now();
        let id = crate::domain::ids::RequestId::random();
        let answer = store.get(&id).await;
        let took = started.elapsed();
        held.abort();
        assert!(
            matches!(answer, Err(crate::store::StoreError::Unavailable(_))),
            "{answer:?}"
        );
        assert!(
            took >= SDK_ATTEMPT_TIMEOUT,
            "it waited for an answer: {took:?}"
        );
        assert!(
            took < SDK_OPERATION_TIMEOUT + Duration::from_secs(2),
            "{took:?}"
        );
    }

    #[test]
    fn reads_the_required_variables() {
        let config = config(&[
            ("TABLE_NAME", "requests"),
            ("SETTINGS_SECRET_ID", "arn:aws:secretsmanager:x"),
            ("AWS_REGION", "eu-west-1"),
        ])
        .unwrap();
        assert_eq!(config.region, "eu-west-1");
        assert_eq!(config.aws_endpoint_url, None);
        assert_eq!(config.table_name, "requests");
        assert_eq!(config.settings_secret_id, "arn:aws:secretsmanager:x");
        assert_eq!(config.settings_cache_ttl, DEFAULT_CACHE_TTL);
        assert_eq!(
            config.hosts,
            Hosts::Public,
            "local hosts only when asked for"
        );
    }

    #[test]
    fn the_log_filter_caps_the_targets_that_log_events_and_requests() {
        let filter = log_filter(Some("TRACE")).to_string();
        assert!(filter.contains("lambda_runtime=info"), "{filter}");
        assert!(filter.contains("aws_smithy_runtime=info"), "{filter}");
        assert!(filter.contains("trace"), "{filter}");
        let quiet = log_filter(Some("warn")).to_string();
        assert!(quiet.contains("lambda_runtime=warn"), "{quiet}");
        assert!(
            log_filter(Some("lambda_runtime=trace"))
                .to_string()
                .contains("lambda_runtime=info")
        );
    }

    #[test]
    fn reconcile_thresholds_default_to_the_contract_and_may_be_shortened() {
        let lookup = |value: Option<&'static str>| move |_: &str| value.map(str::to_owned);
        assert_eq!(
            reconcile_thresholds_from(lookup(None))
                .unwrap()
                .stranded_after,
            chrono::Duration::minutes(10)
        );
        assert_eq!(
            reconcile_thresholds_from(lookup(Some("15")))
                .unwrap()
                .stranded_after,
            chrono::Duration::seconds(15)
        );
        for bad in ["0", "3601", "10m"] {
            assert_eq!(
                reconcile_thresholds_from(lookup(Some(bad))).unwrap_err(),
                ConfigError::Malformed(
                    "RECONCILE_AFTER_SECONDS",
                    "it must be whole seconds from 1 to 3600"
                )
            );
        }
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
        assert_eq!(
            config(&[("TABLE_NAME", "t"), ("SETTINGS_SECRET_ID", "s")]),
            Err(ConfigError::Missing("AWS_REGION"))
        );
        let error = config(&[
            ("TABLE_NAME", "t"),
            ("SETTINGS_SECRET_ID", "s"),
            ("AWS_REGION", "eu-west-1"),
            ("LEGACY_ID_WINDOW_HOURS", "721"),
        ])
        .unwrap_err();
        assert!(
            error.to_string().contains("LEGACY_ID_WINDOW_HOURS"),
            "{error}"
        );
    }
}
