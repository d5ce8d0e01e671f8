//! What the stack is asked for: the `DEV_*` variables `scripts/dev.sh` documents, with the same defaults, read
//! once and checked before anything starts.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the stack runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `make dev`: in the foreground until Ctrl-C; cargo lambda watch rebuilds a function whose code changed.
    Run,
    /// `scripts/dev.sh start`: in the background for tests, with the functions as they were built.
    Start,
}

impl Mode {
    /// The word written in `.dev/dev.pid` and given on the command line.
    pub fn word(self) -> &'static str {
        match self {
            Mode::Run => "run",
            Mode::Start => "start",
        }
    }
}

/// A port setting as given: the variable that sets it and its text, checked only when its piece runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSetting {
    pub variable: &'static str,
    pub value: String,
}

/// The stack's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The repository's root (where `template.yaml`, `functions/` and `.dev/` are).
    pub root: PathBuf,
    /// `DEV_SETTINGS` as an absolute path, or `dev/settings.json`.
    pub settings_file: PathBuf,
    /// True when `DEV_SETTINGS` names the file: a real ServiceNow instance, so no ServiceNow simulator.
    pub own_settings: bool,
    /// `AWS_ENDPOINT_URL` when already set: that emulator is used, and moto is not started.
    pub endpoint: Option<String>,
    /// `DEV_MOTO_PORT` (5000).
    pub moto_port: PortSetting,
    /// `DEV_SIM_PORT` (8089), the ServiceNow simulator's.
    pub sim_port: PortSetting,
    /// `DEV_PMC_PORT` (8090), the PM Cloud simulator's.
    pub pmc_port: PortSetting,
    /// `DEV_WATCH_PORT` (9000), cargo lambda watch's.
    pub watch_port: PortSetting,
    /// `DEV_API_PORT` (9080), the API gateway's.
    pub api_port: PortSetting,
    /// `DEV_API_STAGE`: the HTTP API under `/NAME/v1/…`; `None` serves it as the `$default` stage.
    pub api_stage: Option<String>,
    /// `DEV_SCHEDULE_SECONDS` (30): how often the reconciler runs.
    pub schedule: Duration,
    /// `DEV_RECONCILE_AFTER` (20): after how many seconds the reconciler drives what is stranded.
    pub reconcile_after_seconds: u64,
    /// `DEV_SETTINGS_CACHE` (5): how many seconds the functions keep the settings they read.
    pub settings_cache_seconds: u64,
}

impl Config {
    /// The settings from `vars` (the environment; an empty value counts as unset, as `${VAR:-default}` does),
    /// for the repository at `root`.
    ///
    /// # Errors
    /// A message naming the variable: `DEV_API_STAGE` that is not a stage name, `DEV_SCHEDULE_SECONDS`,
    /// `DEV_RECONCILE_AFTER` or `DEV_SETTINGS_CACHE` that is not a whole number (the schedule above 0).
    pub fn from_vars(root: &Path, vars: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let var = |name: &str| vars(name).filter(|value| !value.is_empty());
        let port = |variable: &'static str, default: u16| PortSetting {
            variable,
            value: var(variable).unwrap_or_else(|| default.to_string()),
        };
        let api_stage = var("DEV_API_STAGE");
        if let Some(stage) = &api_stage
            && !is_stage_name(stage)
        {
            return Err(format!(
                "DEV_API_STAGE={stage} is not a stage name (letters, digits, - and _)"
            ));
        }
        let schedule_seconds = whole_number(&var, "DEV_SCHEDULE_SECONDS", 30)?;
        if schedule_seconds == 0 {
            return Err("DEV_SCHEDULE_SECONDS=0: the schedule needs at least 1 second".into());
        }
        let own = var("DEV_SETTINGS").map(PathBuf::from);
        Ok(Config {
            root: root.to_path_buf(),
            settings_file: match &own {
                Some(path) => root.join(path),
                None => root.join("dev/settings.json"),
            },
            own_settings: own.is_some(),
            endpoint: var("AWS_ENDPOINT_URL"),
            moto_port: port("DEV_MOTO_PORT", 5000),
            sim_port: port("DEV_SIM_PORT", 8089),
            pmc_port: port("DEV_PMC_PORT", 8090),
            watch_port: port("DEV_WATCH_PORT", 9000),
            api_port: port("DEV_API_PORT", 9080),
            api_stage,
            schedule: Duration::from_secs(schedule_seconds),
            reconcile_after_seconds: whole_number(&var, "DEV_RECONCILE_AFTER", 20)?,
            settings_cache_seconds: whole_number(&var, "DEV_SETTINGS_CACHE", 5)?,
        })
    }

    /// `.dev/`, where the stack keeps its state, logs and descriptions.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".dev")
    }
}

/// The ports the pieces that run will listen on, in start order, each with its variable.
///
/// # Errors
/// `VAR=text is not a port number`, or `VAR=port: another piece of the stack already uses port N`.
pub fn planned_ports(settings: &[&PortSetting]) -> Result<Vec<(&'static str, u16)>, String> {
    let mut planned: Vec<(&'static str, u16)> = Vec::new();
    for setting in settings {
        let port = setting
            .value
            .parse::<u16>()
            .ok()
            .filter(|port| *port >= 1)
            .ok_or_else(|| {
                format!(
                    "{}={} is not a port number",
                    setting.variable, setting.value
                )
            })?;
        if planned.iter().any(|(_, other)| *other == port) {
            return Err(format!(
                "{}={port}: another piece of the stack already uses port {port}",
                setting.variable
            ));
        }
        planned.push((setting.variable, port));
    }
    Ok(planned)
}

/// API Gateway's stage names: 1 to 128 letters, digits, `-` and `_`.
fn is_stage_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn whole_number(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
) -> Result<u64, String> {
    match var(name) {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| format!("{name}={text} is not a whole number of seconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, String> {
        Config::from_vars(Path::new("/repo"), |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    fn value(setting: &PortSetting) -> (&'static str, &str) {
        (setting.variable, setting.value.as_str())
    }

    #[test]
    fn the_defaults_are_dev_shs() {
        let config = config(&[]).unwrap();
        assert_eq!(config.settings_file, Path::new("/repo/dev/settings.json"));
        assert!(!config.own_settings);
        assert_eq!(config.endpoint, None);
        assert_eq!(value(&config.moto_port), ("DEV_MOTO_PORT", "5000"));
        assert_eq!(value(&config.sim_port), ("DEV_SIM_PORT", "8089"));
        assert_eq!(value(&config.pmc_port), ("DEV_PMC_PORT", "8090"));
        assert_eq!(value(&config.watch_port), ("DEV_WATCH_PORT", "9000"));
        assert_eq!(value(&config.api_port), ("DEV_API_PORT", "9080"));
        assert_eq!(config.api_stage, None);
        assert_eq!(config.schedule, Duration::from_secs(30));
        assert_eq!(config.reconcile_after_seconds, 20);
        assert_eq!(config.settings_cache_seconds, 5);
        assert_eq!(config.state_dir(), Path::new("/repo/.dev"));
    }

    #[test]
    fn every_variable_is_read_and_an_empty_one_is_unset() {
        let config = config(&[
            ("DEV_SETTINGS", "/elsewhere/mine.json"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ("DEV_MOTO_PORT", "5055"),
            ("DEV_SIM_PORT", "1"),
            ("DEV_PMC_PORT", "2"),
            ("DEV_WATCH_PORT", "3"),
            ("DEV_API_PORT", ""),
            ("DEV_API_STAGE", "test_2-b"),
            ("DEV_SCHEDULE_SECONDS", "5"),
            ("DEV_RECONCILE_AFTER", "0"),
        ])
        .unwrap();
        assert_eq!(config.settings_file, Path::new("/elsewhere/mine.json"));
        assert!(config.own_settings);
        assert_eq!(config.endpoint.as_deref(), Some("http://127.0.0.1:4566"));
        assert_eq!(value(&config.moto_port), ("DEV_MOTO_PORT", "5055"));
        assert_eq!(value(&config.watch_port), ("DEV_WATCH_PORT", "3"));
        assert_eq!(value(&config.api_port), ("DEV_API_PORT", "9080"));
        assert_eq!(config.api_stage.as_deref(), Some("test_2-b"));
        assert_eq!(config.schedule, Duration::from_secs(5));
        assert_eq!(config.reconcile_after_seconds, 0);
    }

    #[test]
    fn a_bad_setting_is_named() {
        for (vars, expected) in [
            (
                &[("DEV_API_STAGE", "a/b")][..],
                "DEV_API_STAGE=a/b is not a stage name (letters, digits, - and _)",
            ),
            (
                &[("DEV_SCHEDULE_SECONDS", "soon")][..],
                "DEV_SCHEDULE_SECONDS=soon is not a whole number of seconds",
            ),
            (
                &[("DEV_SCHEDULE_SECONDS", "0")][..],
                "DEV_SCHEDULE_SECONDS=0",
            ),
            (
                &[("DEV_RECONCILE_AFTER", "-1")][..],
                "DEV_RECONCILE_AFTER=-1 is not a whole number",
            ),
        ] {
            let error = config(vars).expect_err(expected);
            assert!(error.starts_with(expected), "{vars:?}: {error}");
        }
    }

    #[test]
    fn a_port_that_is_no_number_or_is_taken_twice_is_named() {
        let setting = |variable, value: &str| PortSetting {
            variable,
            value: value.into(),
        };
        let (moto, watch) = (
            setting("DEV_MOTO_PORT", "5000"),
            setting("DEV_WATCH_PORT", "9000"),
        );
        assert_eq!(
            planned_ports(&[&moto, &watch]),
            Ok(vec![("DEV_MOTO_PORT", 5000), ("DEV_WATCH_PORT", 9000)])
        );
        for value in ["0", "65536", "nine", "-1"] {
            let api = setting("DEV_API_PORT", value);
            assert_eq!(
                planned_ports(&[&moto, &api]),
                Err(format!("DEV_API_PORT={value} is not a port number"))
            );
        }
        let api = setting("DEV_API_PORT", "5000");
        assert_eq!(
            planned_ports(&[&moto, &api]),
            Err("DEV_API_PORT=5000: another piece of the stack already uses port 5000".into())
        );
    }
}
