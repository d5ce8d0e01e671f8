//! The functions under cargo lambda watch: each warmed up as the template triggers it (the first call builds it in
//! the foreground stack, and starts it), and the scheduled ones invoked on the schedule.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::template::{Function, Trigger};

/// A warm-up call may build the function first: as long as a cold build on a busy machine takes.
const WARM_UP_TIMEOUT: Duration = Duration::from_secs(1200);
/// A scheduled invocation may take up to the reconciler's own timeout.
const SCHEDULED_TIMEOUT: Duration = Duration::from_secs(300);

/// Where cargo lambda watch serves the functions.
#[derive(Clone, Debug)]
pub struct Watch {
    /// `http://127.0.0.1:PORT/lambda-url`: each function's URL, as `$default` events.
    pub functions_url: String,
    /// `http://127.0.0.1:PORT/2015-03-31/functions`: the Invoke API.
    pub invoke_url: String,
    /// Where the functions' binaries are built (`$CARGO_TARGET_DIR/debug`).
    pub binaries: PathBuf,
    pub client: reqwest::Client,
}

/// Whether a function's binary matches its sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Build {
    Missing,
    Outdated,
    Current,
}

impl Watch {
    /// `function`'s invoke URL.
    pub fn invocations(&self, function: &str) -> String {
        format!("{}/{function}/invocations", self.invoke_url)
    }

    /// Calls `function` once as the template triggers it, saying first whether that builds it (`first` is true
    /// for the first function, whose build compiles what they share).
    ///
    /// # Errors
    /// `NAME did not start`: the call failed, or no binary was built.
    pub async fn warm(
        &self,
        root: &Path,
        function: &Function,
        pmc_key: &str,
        first: bool,
    ) -> Result<(), String> {
        let name = &function.name;
        match self.build_state(root, name) {
            Build::Missing if first => {
                println!("==> building and starting {name} (the first build takes a few minutes)")
            }
            Build::Missing | Build::Outdated => println!("==> building and starting {name}"),
            Build::Current => println!("==> starting {name}"),
        }
        let request = match &function.trigger {
            Trigger::Http { path } => self
                .client
                .get(format!("{}/{name}{path}", self.functions_url))
                .bearer_auth(pmc_key),
            Trigger::Stream { .. } => self.invoke(name, r#"{"Records":[]}"#.into()),
            Trigger::Schedule => self.invoke(name, "{}".into()),
            Trigger::Unknown => {
                println!(
                    "note: functions/{name} is not in template.yaml: it is served, but nothing triggers it"
                );
                self.client.get(format!("{}/{name}/", self.functions_url))
            }
        };
        let answered = request.timeout(WARM_UP_TIMEOUT).send().await;
        match answered {
            Ok(_) if self.binaries.join(name).exists() => Ok(()),
            Ok(_) => Err(format!(
                "{name} did not start: no binary at {}",
                self.binaries.join(name).display()
            )),
            Err(err) => Err(format!(
                "{name} did not start: {}",
                dev_tool::error_chain(&err)
            )),
        }
    }

    /// Invokes `function` with `event` (JSON text) through the Invoke API.
    fn invoke(&self, function: &str, event: String) -> reqwest::RequestBuilder {
        self.client
            .post(self.invocations(function))
            .header("content-type", "application/json")
            .body(event)
    }

    /// Invokes `function` every `every` with its sample scheduled event (`events/<function>/schedule.json`), as
    /// EventBridge Scheduler does in AWS; a failed invocation waits for the next.
    pub async fn schedule(self, root: PathBuf, function: String, every: Duration) {
        let event_file = root.join("events").join(&function).join("schedule.json");
        loop {
            tokio::time::sleep(every).await;
            let Ok(event) = std::fs::read_to_string(&event_file) else {
                eprintln!("schedule: cannot read {}", event_file.display());
                continue;
            };
            if let Err(err) = self
                .invoke(&function, event)
                .timeout(SCHEDULED_TIMEOUT)
                .send()
                .await
            {
                eprintln!(
                    "schedule: invoking {function}: {}",
                    dev_tool::error_chain(&err)
                );
            }
        }
    }

    /// Missing, outdated (a source of the function, of `shared`, or `Cargo.lock` is newer) or current.
    fn build_state(&self, root: &Path, name: &str) -> Build {
        let Some(built) = modified(&self.binaries.join(name)) else {
            return Build::Missing;
        };
        let sources = [
            root.join("functions").join(name),
            root.join("shared/src"),
            root.join("shared/Cargo.toml"),
            root.join("Cargo.lock"),
        ];
        if sources.iter().any(|source| newer_than(source, built)) {
            Build::Outdated
        } else {
            Build::Current
        }
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}

/// True when `path`, or a file anywhere below it, changed after `time`.
fn newer_than(path: &Path, time: SystemTime) -> bool {
    if path.is_dir() {
        std::fs::read_dir(path)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .any(|entry| newer_than(&entry.path(), time))
            })
            .unwrap_or(false)
    } else {
        modified(path).is_some_and(|changed| changed > time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_is_missing_outdated_or_current() {
        let dir = std::env::temp_dir().join(format!("local-stack-build-{}", std::process::id()));
        let source = dir.join("functions/f/src");
        std::fs::create_dir_all(&source).unwrap();
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        let watch = Watch {
            functions_url: String::new(),
            invoke_url: "http://x/2015-03-31/functions".into(),
            binaries: dir.join("bin"),
            client: reqwest::Client::new(),
        };
        assert_eq!(watch.build_state(&dir, "f"), Build::Missing);
        std::fs::write(source.join("main.rs"), "").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(dir.join("bin/f"), "").unwrap();
        assert_eq!(watch.build_state(&dir, "f"), Build::Current);
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(source.join("main.rs"), "fn main() {}").unwrap();
        assert_eq!(watch.build_state(&dir, "f"), Build::Outdated);
        assert_eq!(
            watch.invocations("f"),
            "http://x/2015-03-31/functions/f/invocations"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
