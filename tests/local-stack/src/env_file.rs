//! The two environment files the stack writes: `.dev/stack.env`, which describes the running stack to the
//! end-to-end tests and `scripts/fuzz.sh` (they `source` it), and `.dev/functions.env`, the functions' environment
//! under cargo lambda watch.

use std::path::Path;

/// What the end-to-end tests (`tests/e2e`) and the fuzzer read of a running stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackDescription {
    /// The HTTP API's base URL, with its stage: `http://127.0.0.1:9080[/STAGE]`.
    pub api_url: String,
    /// cargo lambda watch's function URLs: `http://127.0.0.1:9000/lambda-url`.
    pub functions_url: String,
    /// The Lambda Invoke API's functions: `http://127.0.0.1:9000/2015-03-31/functions`.
    pub invoke_url: String,
    /// The ServiceNow simulator's base URL, when it runs.
    pub sim_url: Option<String>,
    /// The PM Cloud simulator's base URL, when it runs.
    pub pmc_url: Option<String>,
    pub pmc_key: String,
    pub webhook_secret: String,
    pub table: String,
    pub settings_file: String,
}

impl StackDescription {
    /// `.dev/stack.env`: one `export E2E_…=value` a line, an absent URL as an empty value.
    pub fn env_file(&self) -> String {
        let lines = [
            ("E2E_API_URL", self.api_url.as_str()),
            ("E2E_FUNCTIONS_URL", &self.functions_url),
            ("E2E_INVOKE_URL", &self.invoke_url),
            ("E2E_SIM_URL", self.sim_url.as_deref().unwrap_or_default()),
            ("E2E_PMC_URL", self.pmc_url.as_deref().unwrap_or_default()),
            ("E2E_PMC_KEY", &self.pmc_key),
            ("E2E_WEBHOOK_SECRET", &self.webhook_secret),
            ("E2E_TABLE_NAME", &self.table),
            ("E2E_SETTINGS_FILE", &self.settings_file),
        ];
        lines
            .iter()
            .map(|(name, value)| format!("export {name}={}\n", shell_word(value)))
            .collect()
    }
}

/// The functions' environment under cargo lambda watch: the table and secret, the emulator, and the local-only
/// switches (`ALLOW_LOCAL_URLS`, the settings cache in seconds, `RECONCILE_AFTER_SECONDS`).
pub fn functions_env(
    table: &str,
    secret: &str,
    endpoint: &str,
    config: &crate::config::Config,
) -> String {
    let credential = crate::aws::CREDENTIAL;
    let (cache, reconcile_after_seconds) = (
        config.settings_cache_seconds,
        config.reconcile_after_seconds,
    );
    format!(
        "TABLE_NAME={table}\nSETTINGS_SECRET_ID={secret}\nSETTINGS_CACHE_SECONDS={cache}\nALLOW_LOCAL_URLS=true\n\
         AWS_ENDPOINT_URL={endpoint}\nAWS_REGION={region}\nAWS_ACCESS_KEY_ID={credential}\n\
         AWS_SECRET_ACCESS_KEY={credential}\nAWS_LAMBDA_LOG_LEVEL=info\nRECONCILE_AFTER_SECONDS={reconcile_after_seconds}\n",
        region = crate::aws::REGION,
    )
}

/// Writes `text` to `path` whole: readers (a `source` of stack.env) never see half of it.
///
/// # Errors
/// The file cannot be written.
pub fn write(path: &Path, text: &str) -> Result<(), String> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|err| format!("cannot write {}: {err}", path.display()))
}

/// `value` as one shell word: as it is when it holds nothing the shell would read otherwise, else single-quoted.
fn shell_word(value: &str) -> String {
    let plain = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn description() -> StackDescription {
        StackDescription {
            api_url: "http://127.0.0.1:9080/test".into(),
            functions_url: "http://127.0.0.1:9000/lambda-url".into(),
            invoke_url: "http://127.0.0.1:9000/2015-03-31/functions".into(),
            sim_url: Some("http://127.0.0.1:8089".into()),
            pmc_url: None,
            pmc_key: "local-dev-pmc-key-not-for-production-use".into(),
            webhook_secret: "local-dev-webhook-secret-not-for-production".into(),
            table: "pmc-connector-requests".into(),
            settings_file: "/repo/dev/settings.json".into(),
        }
    }

    #[test]
    fn stack_env_exports_what_the_tests_read() {
        assert_eq!(
            description().env_file(),
            "export E2E_API_URL=http://127.0.0.1:9080/test\n\
             export E2E_FUNCTIONS_URL=http://127.0.0.1:9000/lambda-url\n\
             export E2E_INVOKE_URL=http://127.0.0.1:9000/2015-03-31/functions\n\
             export E2E_SIM_URL=http://127.0.0.1:8089\n\
             export E2E_PMC_URL=\n\
             export E2E_PMC_KEY=local-dev-pmc-key-not-for-production-use\n\
             export E2E_WEBHOOK_SECRET=local-dev-webhook-secret-not-for-production\n\
             export E2E_TABLE_NAME=pmc-connector-requests\n\
             export E2E_SETTINGS_FILE=/repo/dev/settings.json\n"
        );
    }

    #[test]
    fn a_value_the_shell_would_split_is_quoted() {
        let mut description = description();
        description.settings_file = "/my files/it's.json".into();
        assert!(
            description
                .env_file()
                .ends_with("export E2E_SETTINGS_FILE='/my files/it'\\''s.json'\n")
        );
    }

    #[test]
    fn the_functions_get_the_table_the_secret_and_the_emulator() {
        let vars = |name: &str| match name {
            "DEV_RECONCILE_AFTER" => Some("15".to_owned()),
            "DEV_SETTINGS_CACHE" => Some("300".to_owned()),
            _ => None,
        };
        let config = crate::config::Config::from_vars(std::path::Path::new("/repo"), vars).unwrap();
        assert_eq!(
            functions_env("t", "s", "http://127.0.0.1:5000", &config),
            "TABLE_NAME=t\nSETTINGS_SECRET_ID=s\nSETTINGS_CACHE_SECONDS=300\nALLOW_LOCAL_URLS=true\n\
             AWS_ENDPOINT_URL=http://127.0.0.1:5000\nAWS_REGION=us-east-1\nAWS_ACCESS_KEY_ID=testing\n\
             AWS_SECRET_ACCESS_KEY=testing\nAWS_LAMBDA_LOG_LEVEL=info\nRECONCILE_AFTER_SECONDS=15\n"
        );
    }
}
