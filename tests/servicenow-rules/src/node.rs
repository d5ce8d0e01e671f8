//! Runs a shipped business rule under Node (`tests/glide-shim/run.js`): its condition, then its script, with
//! `current` as a [`Record`] describes it and the Glide APIs of the shim, which sends the rule's requests for real.

use crate::repository_root;
use crate::update_set::{BusinessRule, SCRIPT_FILE};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// A record as a business rule sees it in `current` (or behind one of its reference fields).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Record {
    pub table: String,
    /// Every field's value, as ServiceNow holds it: a string.
    pub fields: BTreeMap<String, String>,
    /// The fields whose `changes()` is true.
    pub changed: Vec<String>,
    /// The records that reference fields point to, which the script reaches by dot-walking.
    pub references: BTreeMap<String, Record>,
}

impl Record {
    /// A record of `table` with only its `sys_id`.
    pub fn new(table: &str, sys_id: &str) -> Self {
        Self {
            table: table.to_owned(),
            ..Self::default()
        }
        .with("sys_id", sys_id)
    }

    /// Sets `field` to `value`.
    pub fn with(mut self, field: &str, value: &str) -> Self {
        self.fields.insert(field.to_owned(), value.to_owned());
        self
    }

    /// Sets `field` to `value` and marks it changed by the update that fired the rule.
    pub fn changed(mut self, field: &str, value: &str) -> Self {
        self.changed.push(field.to_owned());
        self.with(field, value)
    }

    /// Points the reference `field` at `record`.
    pub fn referencing(mut self, field: &str, record: Record) -> Self {
        let sys_id = record.fields.get("sys_id").cloned().unwrap_or_default();
        self.references.insert(field.to_owned(), record);
        self.with(field, &sys_id)
    }

    /// A task-table ticket as the connector creates it (CONTRACT §9): `correlation_display` "PM Cloud", with every
    /// field the ticket rule's condition reads and nothing changed yet.
    pub fn pm_cloud_ticket(table: &str, sys_id: &str, number: &str) -> Self {
        Self::new(table, sys_id)
            .with("number", number)
            .with("correlation_display", "PM Cloud")
            .with("approval", "requested")
            .with("active", "true")
            .with("u_pm_duration", "4 hours")
    }
}

/// One run of `rule` with `current`, under the system properties given.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    script: PathBuf,
    condition: &'static str,
    properties: BTreeMap<String, String>,
    current: Record,
    #[serde(rename = "sleepScale")]
    sleep_scale: f64,
}

impl Run {
    /// `rule` on `current`, with no system properties set and `gs.sleep` pausing for 1/100 of the time asked.
    pub fn new(rule: &BusinessRule, current: Record) -> Self {
        Self {
            script: repository_root().join(SCRIPT_FILE),
            condition: rule.condition,
            properties: BTreeMap::new(),
            current,
            sleep_scale: 0.01,
        }
    }

    /// The script alone, as a rule whose condition an administrator left empty runs it: on every update.
    pub fn without_condition(mut self) -> Self {
        self.condition = "true";
        self
    }

    /// Sets the system property `name`.
    pub fn property(mut self, name: &str, value: &str) -> Self {
        self.properties.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The three properties as the README has the administrator set them: enabled, sending to `url` signed with
    /// `secret`.
    pub fn connected(self, url: &str, secret: &str) -> Self {
        self.property("pmc_connector.enabled", "true")
            .property("pmc_connector.webhook_url", url)
            .property("pmc_connector.webhook_secret", secret)
    }

    /// Runs it (blocking until the script ends, its requests and pauses included).
    ///
    /// Errors: [`RunError`] when Node cannot be started, the script throws, or the report is not JSON.
    pub fn run(&self) -> Result<Report, RunError> {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let config = std::env::temp_dir().join(format!(
            "glide-run-{}-{}.json",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&config, serde_json::to_vec(self).expect("a run is JSON"))
            .map_err(RunError::Config)?;
        let node = std::env::var("NODE").unwrap_or_else(|_| "node".to_owned());
        let output = Command::new(&node)
            .arg(repository_root().join("tests/glide-shim/run.js"))
            .arg(&config)
            .output();
        let _ = std::fs::remove_file(&config);
        let output = output.map_err(|e| RunError::NoNode(node, e))?;
        if !output.status.success() {
            return Err(RunError::Failed(
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
        serde_json::from_slice(&output.stdout).map_err(RunError::Report)
    }
}

/// What a run did.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Whether the rule's condition held (the script runs only then).
    pub condition_met: bool,
    /// What the script logged through `gs.info`, `gs.warn` and `gs.error`, in order.
    pub logs: Vec<Log>,
    /// Each `RESTMessageV2.execute()`, in order.
    pub requests: Vec<SentRequest>,
    /// Each `gs.sleep`, in milliseconds as asked.
    pub sleeps: Vec<u64>,
}

impl Report {
    /// The messages logged at `level` (`info`, `warn`, `error`).
    pub fn logged(&self, level: &str) -> Vec<&str> {
        self.logs
            .iter()
            .filter(|log| log.level == level)
            .map(|log| log.message.as_str())
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Log {
    pub level: String,
    pub message: String,
}

/// A request the script sent, and what came back.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentRequest {
    /// Lower case, as `setHttpMethod` took it.
    pub method: String,
    pub url: String,
    /// As the script named them in `setRequestHeader`.
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub timeout_ms: u64,
    /// The answer's status; `None` when none came (then `error` says why).
    pub status: Option<u16>,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl SentRequest {
    /// The header `name`, whatever case the script wrote it in.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Debug)]
pub enum RunError {
    Config(std::io::Error),
    NoNode(String, std::io::Error),
    Failed(String),
    Report(serde_json::Error),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config(e) => write!(f, "cannot write the run's configuration: {e}"),
            Self::NoNode(node, e) => write!(
                f,
                "cannot start {node} ({e}): the business-rule tests need Node.js 18 or later \
                 (scripts/bootstrap.sh installs it; NODE names another binary)"
            ),
            Self::Failed(stderr) => write!(f, "the rule failed under Node:\n{stderr}"),
            Self::Report(e) => write!(f, "the shim's report is not JSON: {e}"),
        }
    }
}

impl std::error::Error for RunError {}
