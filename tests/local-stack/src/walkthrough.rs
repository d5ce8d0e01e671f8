//! The walkthrough `make dev` prints once the stack is ready: `dev/walkthrough.txt`, rendered for the running
//! stack.
//!
//! The file is text with `${name}` placeholders (see [`Walkthrough::value`]), split into sections by lines
//! `[CONDITION]`; a section is shown when its condition holds ([`Walkthrough::holds`]). Lines starting with `#`
//! are comments.

/// What the walkthrough says about the running stack.
#[derive(Clone, Debug)]
pub struct Walkthrough {
    /// The repository's root, absolute: the walkthrough works from any directory.
    pub root: String,
    pub venv: String,
    pub settings_file: String,
    pub api_url: String,
    pub functions_url: String,
    pub endpoint: String,
    pub table: String,
    pub pmc_key: String,
    pub watch_port: u16,
    pub schedule_seconds: u64,
    /// The ServiceNow simulator's base URL, when it runs (else: a real instance).
    pub sim_url: Option<String>,
    /// The PM Cloud simulator's base URL, when it runs (else: the tenant of the settings file).
    pub pmc_url: Option<String>,
    /// The stream-triggered functions, each fed by a relay.
    pub stream_functions: Vec<String>,
    /// True when decision-notifier is among them.
    pub notifier: bool,
    /// True when a function runs on the schedule (the reconciler).
    pub scheduled: bool,
    /// True when the settings configure approvals (CONTRACT §15: `DEV_SETTINGS=dev/settings-approvals.json`).
    pub approvals: bool,
}

impl Walkthrough {
    /// `template` (the text of `dev/walkthrough.txt`) for this stack.
    ///
    /// # Errors
    /// A section condition or a placeholder the renderer does not know, named with its line number.
    pub fn render(&self, template: &str) -> Result<String, String> {
        let mut shown = String::new();
        let mut showing = true;
        for (number, line) in template.lines().enumerate() {
            let at = |what: String| format!("dev/walkthrough.txt line {}: {what}", number + 1);
            if line.starts_with('#') {
                continue;
            }
            if let Some(condition) = line
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
            {
                showing = self
                    .holds(condition)
                    .ok_or_else(|| at(format!("no section condition [{condition}]")))?;
                continue;
            }
            if showing {
                shown.push_str(&self.fill(line).map_err(at)?);
                shown.push('\n');
            }
        }
        Ok(shown)
    }

    /// Whether a section shows; `None` for a condition that does not exist.
    fn holds(&self, condition: &str) -> Option<bool> {
        let sim = self.sim_url.is_some();
        let pmc = self.pmc_url.is_some();
        Some(match condition {
            "always" => true,
            "servicenow-simulator" => sim,
            "servicenow-instance" => !sim,
            "notifier-to-simulator" => self.notifier && pmc,
            "notifier-to-tenant" => self.notifier && !pmc,
            "reconciler-with-simulator" => sim && self.scheduled,
            "admin-session" => sim && self.notifier && pmc,
            "pmcloud-sweep" => sim && pmc && self.scheduled,
            "approvals" => sim && self.scheduled && self.approvals,
            "no-approvals" => sim && !self.approvals,
            _ => return None,
        })
    }

    /// The value of placeholder `${name}`; `None` for a name that does not exist.
    fn value(&self, name: &str) -> Option<String> {
        let settings = &self.settings_file;
        Some(match name {
            "root" => self.root.clone(),
            "venv" => self.venv.clone(),
            "settings_file" => settings.clone(),
            "api_url" => self.api_url.clone(),
            "intake" => format!("{}/v1/requests", self.api_url),
            // ServiceNow's business rule calls the HTTP API, as it does in AWS.
            "callback_url" => format!("{}/v1/servicenow/events", self.api_url),
            "functions_url" => self.functions_url.clone(),
            "endpoint" => self.endpoint.clone(),
            "logs" => format!("{}/.dev/logs", self.root),
            "table" => self.table.clone(),
            "pmc_key" => self.pmc_key.clone(),
            "watch_port" => self.watch_port.to_string(),
            "schedule_seconds" => self.schedule_seconds.to_string(),
            "sim_url" => self.sim_url.clone().unwrap_or_default(),
            "pmc_url" => self.pmc_url.clone().unwrap_or_default(),
            "stream_functions" => {
                let names = self.stream_functions.join(", ");
                let names = if names.is_empty() {
                    "(no stream function)".to_string()
                } else {
                    names
                };
                format!("{names:<20}")
            }
            "relayed" => match self.stream_functions.len() {
                0 | 1 => "fed by the stream relay".into(),
                _ => "fed by their stream relays".into(),
            },
            "servicenow" => match &self.sim_url {
                Some(url) => format!("{url} (simulator; tickets at {url}/sim/tickets)"),
                None => format!("the instance in {settings}"),
            },
            "pm_cloud" => match &self.pmc_url {
                Some(url) => format!("{url} (simulator; notifications at {url}/sim/notifications)"),
                None => format!("the tenant in {settings}"),
            },
            _ => return None,
        })
    }

    fn fill(&self, line: &str) -> Result<String, String> {
        let mut filled = String::new();
        let mut rest = line;
        while let Some(start) = rest.find("${") {
            filled.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("an unclosed ${{ in {line:?}"))?;
            let name = &after[..end];
            let value = self
                .value(name)
                .ok_or_else(|| format!("no placeholder ${{{name}}}"))?;
            filled.push_str(&value);
            rest = &after[end + 1..];
        }
        filled.push_str(rest);
        Ok(filled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = include_str!("../../../dev/walkthrough.txt");

    fn simulators() -> Walkthrough {
        Walkthrough {
            root: "/repo".into(),
            venv: "/repo/.venv".into(),
            settings_file: "/repo/dev/settings.json".into(),
            api_url: "http://127.0.0.1:9080/test".into(),
            functions_url: "http://127.0.0.1:9000/lambda-url".into(),
            endpoint: "http://127.0.0.1:5000".into(),
            table: "pmc-connector-requests".into(),
            pmc_key: "KEY".into(),
            watch_port: 9000,
            schedule_seconds: 30,
            sim_url: Some("http://127.0.0.1:8089".into()),
            pmc_url: Some("http://127.0.0.1:8090".into()),
            stream_functions: vec!["decision-notifier".into(), "ticket-creator".into()],
            notifier: true,
            scheduled: true,
            approvals: false,
        }
    }

    fn steps(text: &str) -> Vec<&str> {
        text.lines()
            .filter_map(|line| {
                line.strip_prefix("  ")?
                    .split_once(". ")
                    .map(|(step, _)| step)
            })
            .filter(|step| step.parse::<u8>().is_ok())
            .collect()
    }

    #[test]
    fn with_the_simulators_every_step_is_shown_with_the_stacks_values() {
        let text = simulators().render(TEMPLATE).unwrap();
        assert_eq!(
            steps(&text),
            ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]
        );
        assert!(
            text.contains("DEV_SETTINGS=dev/settings-approvals.json make dev"),
            "{text}"
        );
        let with_approvals = Walkthrough {
            approvals: true,
            ..simulators()
        }
        .render(TEMPLATE)
        .unwrap();
        assert_eq!(
            steps(&with_approvals),
            [
                "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"
            ]
        );
        assert!(
            text.starts_with("\nThe connector is running locally.\n"),
            "{text}"
        );
        assert!(
            text.ends_with("This text is kept in .dev/walkthrough.txt.\n"),
            "{text}"
        );
        for line in [
            "  ticket-callback      http://127.0.0.1:9080/test/v1/servicenow/events\n",
            "  decision-notifier, ticket-creator fed by their stream relays from table pmc-connector-requests\n",
            "  ServiceNow           http://127.0.0.1:8089 (simulator; tickets at http://127.0.0.1:8089/sim/tickets)\n",
            "  logs                 /repo/.dev/logs/\n",
            "PATH=\"/repo/.venv/bin:$PATH\" cargo lambda invoke",
            "curl -s -X POST http://127.0.0.1:9080/test/v1/requests -H 'authorization: Bearer KEY' ",
            "within 30 s or so",
            r#""requestInfo": {"user": "ACME\\asmith", "#,
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
        assert!(!text.contains("${"), "{text}");
    }

    #[test]
    fn with_a_real_instance_and_tenant_the_steps_say_so() {
        let stack = Walkthrough {
            sim_url: None,
            pmc_url: None,
            stream_functions: vec!["ticket-creator".into()],
            ..simulators()
        };
        let text = stack.render(TEMPLATE).unwrap();
        assert_eq!(steps(&text), ["1", "2", "3", "4", "5", "6"]);
        assert!(
            text.contains("  ticket-creator       fed by the stream relay from table"),
            "{text}"
        );
        assert!(
            text.contains("ServiceNow           the instance in /repo/dev/settings.json\n"),
            "{text}"
        );
        assert!(
            text.contains("  6. PM Cloud, the tenant in /repo/dev/settings.json, receives"),
            "{text}"
        );
        assert!(!text.contains("/sim/"), "{text}");
    }

    #[test]
    fn an_unknown_condition_or_placeholder_is_named() {
        let stack = simulators();
        assert_eq!(
            stack.render("[always]\nok\n[sometimes]\n").unwrap_err(),
            "dev/walkthrough.txt line 3: no section condition [sometimes]"
        );
        assert_eq!(
            stack.render("# ${nothing}\n\nat ${nowhere}\n").unwrap_err(),
            "dev/walkthrough.txt line 3: no placeholder ${nowhere}"
        );
    }
}
