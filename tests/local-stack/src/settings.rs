//! The connector's settings file (`dev/settings.json`, or `DEV_SETTINGS`): read, turned into the simulators' setup
//! that accepts it, and into the settings secret that points the functions at the simulators.

use std::path::Path;

use serde_json::{Map, Value};

/// A settings file, read and known to be a JSON object (the shape is the functions' to judge).
#[derive(Clone, Debug)]
pub struct Settings(Map<String, Value>);

impl Settings {
    /// Reads the file; `named` says the path came from `DEV_SETTINGS`, for the message.
    ///
    /// # Errors
    /// `no settings file PATH (DEV_SETTINGS)`, `PATH is not valid JSON`, or `PATH is not a JSON object`.
    pub fn read(path: &Path, named: bool) -> Result<Self, String> {
        let shown = path.display();
        let text = std::fs::read_to_string(path).map_err(|_| {
            let source = if named { " (DEV_SETTINGS)" } else { "" };
            format!("no settings file {shown}{source}")
        })?;
        let value: Value =
            serde_json::from_str(&text).map_err(|_| format!("{shown} is not valid JSON"))?;
        match value {
            Value::Object(map) => Ok(Settings(map)),
            _ => Err(format!("{shown} is not a JSON object")),
        }
    }

    /// True when the file has a `pmCloud` block (then no PM Cloud simulator starts for a file of one's own).
    pub fn has_pm_cloud(&self) -> bool {
        self.0.get("pmCloud").is_some_and(|block| !block.is_null())
    }

    /// The first of `pmcApiKeys`: PM Cloud's key, which the walkthrough and the tests send.
    ///
    /// # Errors
    /// The file has no such key.
    pub fn pmc_key(&self) -> Result<String, String> {
        self.first_of("pmcApiKeys")
    }

    /// The first of `webhookSecrets`: what the ServiceNow simulator signs its webhook with.
    ///
    /// # Errors
    /// The file has no such secret.
    pub fn webhook_secret(&self) -> Result<String, String> {
        self.first_of("webhookSecrets")
    }

    fn first_of(&self, list: &str) -> Result<String, String> {
        self.0
            .get(list)
            .and_then(|values| values.get(0))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("the settings file has no {list}[0]"))
    }

    /// The ServiceNow simulator's setup that accepts these settings: their OAuth client, user and fields, the
    /// webhook to `webhook_url` signed with the first webhook secret, and the groups of
    /// `dev/servicenow-directory.json` (which `dev/settings-approvals.json` names as approvers).
    ///
    /// # Errors
    /// The settings have no `servicenow` block with a client and a user, or no webhook secret.
    /// True when `block.key` is a URL on this machine (`http://127.0.0.1…` or `http://localhost…`): a simulator's.
    pub fn points_here(&self, block: &str, key: &str) -> bool {
        let url = self
            .0
            .get(block)
            .and_then(|b| b.get(key))
            .and_then(Value::as_str);
        url.is_some_and(|url| {
            ["http://127.0.0.1:", "http://localhost:"]
                .iter()
                .any(|local| url.starts_with(local))
        })
    }

    /// True when the file configures approvals (CONTRACT §15), for the walkthrough.
    pub fn has_approvals(&self) -> bool {
        self.0
            .get("servicenow")
            .and_then(|servicenow| servicenow.get("approvals"))
            .is_some_and(|approvals| !approvals.is_null())
    }

    pub fn servicenow_sim(&self, webhook_url: &str) -> Result<servicenow_sim::SimConfig, String> {
        let servicenow = self
            .0
            .get("servicenow")
            .ok_or("the settings file has no servicenow block")?;
        let text = |name: &str| {
            servicenow[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("the settings file has no servicenow.{name}"))
        };
        let defaults = servicenow_sim::SimConfig::default();
        Ok(servicenow_sim::SimConfig {
            client_id: text("clientId")?,
            client_secret: text("clientSecret")?,
            users: vec![servicenow_sim::SimUser {
                username: text("username")?,
                password: text("password")?,
                tables: None,
            }],
            duration_field: text("durationField").unwrap_or(defaults.duration_field.clone()),
            notes_field: text("notesField").unwrap_or(defaults.notes_field.clone()),
            webhook: Some(servicenow_sim::WebhookTarget {
                url: webhook_url.to_owned(),
                secret: self.webhook_secret()?,
            }),
            directory: directory()?,
            ..defaults
        })
    }

    /// The PM Cloud simulator's setup: its API account is the one the settings use, the simulator's own when they
    /// have none.
    pub fn pmcloud_sim(&self) -> pmcloud_sim::SimConfig {
        let defaults = pmcloud_sim::SimConfig::default();
        let pm_cloud = self.0.get("pmCloud");
        let text = |name: &str| {
            pm_cloud
                .and_then(|block| block[name].as_str())
                .map(str::to_owned)
        };
        pmcloud_sim::SimConfig {
            client_id: text("clientId").unwrap_or(defaults.client_id.clone()),
            client_secret: text("clientSecret").unwrap_or(defaults.client_secret.clone()),
            ..defaults
        }
    }

    /// The settings secret's value: these settings with `servicenow.instanceUrl` set to the ServiceNow simulator
    /// (`sim_url`) and `pmCloud.apiUrl` to the PM Cloud simulator (`pmc_url`), the simulator's API account filling
    /// in what the file's `pmCloud` block (if any) does not say.
    pub fn stored(&self, sim_url: Option<&str>, pmc_url: Option<&str>) -> Value {
        let mut settings = self.0.clone();
        if let Some(url) = sim_url
            && let Some(Value::Object(servicenow)) = settings.get_mut("servicenow")
        {
            servicenow.insert("instanceUrl".into(), url.into());
        }
        if let Some(url) = pmc_url {
            let account = self.pmcloud_sim();
            let mut block = Map::new();
            block.insert("apiUrl".into(), url.into());
            block.insert("clientId".into(), account.client_id.into());
            block.insert("clientSecret".into(), account.client_secret.into());
            if let Some(Value::Object(own)) = self.0.get("pmCloud") {
                for (key, value) in own.iter().filter(|(key, _)| *key != "apiUrl") {
                    block.insert(key.clone(), value.clone());
                }
            }
            settings.insert("pmCloud".into(), Value::Object(block));
        }
        Value::Object(settings)
    }
}

/// The simulated instance's groups and members: `dev/servicenow-directory.json` of this repository.
///
/// # Errors
/// The file is not a list of groups.
fn directory() -> Result<Vec<servicenow_sim::DirectoryGroup>, String> {
    let text = include_str!("../../../dev/servicenow-directory.json");
    serde_json::from_str(text).map_err(|err| format!("dev/servicenow-directory.json: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(value: Value) -> Settings {
        let Value::Object(map) = value else {
            panic!("an object")
        };
        Settings(map)
    }

    fn dev_settings() -> Settings {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dev/settings.json");
        Settings::read(&path, false).unwrap()
    }

    #[test]
    fn the_dev_settings_are_accepted_by_the_simulators() {
        let settings = dev_settings();
        assert!(settings.has_pm_cloud());
        assert_eq!(
            settings.pmc_key().unwrap(),
            "local-dev-pmc-key-not-for-production-use"
        );
        let sim = settings
            .servicenow_sim("http://127.0.0.1:9080/v1/servicenow/events")
            .unwrap();
        assert_eq!(sim.client_id, "sim-client");
        assert_eq!(sim.users[0].username, "svc.pm.connector");
        assert_eq!(sim.users[0].password, "sim-password");
        let webhook = sim.webhook.unwrap();
        assert_eq!(webhook.url, "http://127.0.0.1:9080/v1/servicenow/events");
        assert_eq!(
            webhook.secret,
            "local-dev-webhook-secret-not-for-production"
        );
        let pmc = settings.pmcloud_sim();
        assert_eq!(
            (pmc.client_id.as_str(), pmc.client_secret.as_str()),
            ("pmc-client", "pmc-client-secret")
        );
    }

    #[test]
    fn the_stored_settings_point_at_the_simulators() {
        let stored = dev_settings().stored(Some("http://127.0.0.1:1"), Some("http://127.0.0.1:2"));
        assert_eq!(stored["servicenow"]["instanceUrl"], "http://127.0.0.1:1");
        assert_eq!(stored["servicenow"]["username"], "svc.pm.connector");
        assert_eq!(
            stored["pmCloud"],
            json!({
                "apiUrl": "http://127.0.0.1:2",
                "clientId": "pmc-client",
                "clientSecret": "pmc-client-secret",
                "adminDecisionPath": "/management-api/v2/AdminAccessRequest/decision"
            })
        );
    }

    #[test]
    fn a_file_without_pm_cloud_gets_the_simulators_account() {
        let own = settings(
            json!({"servicenow": {"instanceUrl": "https://x.service-now.com"}, "pmCloud": null}),
        );
        assert!(!own.has_pm_cloud());
        let stored = own.stored(None, Some("http://127.0.0.1:2"));
        assert_eq!(
            stored["servicenow"]["instanceUrl"],
            "https://x.service-now.com"
        );
        assert_eq!(
            stored["pmCloud"],
            json!({"apiUrl": "http://127.0.0.1:2", "clientId": "pmc-client", "clientSecret": "pmc-client-secret"})
        );
        assert_eq!(
            own.pmc_key(),
            Err("the settings file has no pmcApiKeys[0]".into())
        );
    }

    #[test]
    fn a_missing_or_broken_file_is_named() {
        let missing = Path::new("/nowhere/settings.json");
        assert_eq!(
            Settings::read(missing, true).unwrap_err(),
            "no settings file /nowhere/settings.json (DEV_SETTINGS)"
        );
        let broken = std::env::temp_dir().join(format!("local-stack-{}.json", std::process::id()));
        std::fs::write(&broken, "{").unwrap();
        let error = Settings::read(&broken, false).unwrap_err();
        std::fs::remove_file(&broken).unwrap();
        assert_eq!(error, format!("{} is not valid JSON", broken.display()));
    }
}
