//! The two pieces that run as processes, moto and cargo lambda watch: started in one process group of their own,
//! their output in `.dev/logs/NAME.log`, and that group (with whatever it started) stopped when the stack stops,
//! even on an error or a panic (on drop).
//!
//! `.dev/pids` names the group while it runs, so that `scripts/dev.sh stop` can end it should this process have
//! been killed outright.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use crate::{ports, processes};

/// How long the group has to stop on SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(10);

/// The command lines a group this stack made is led by: moto, or cargo lambda watch when an emulator was given.
pub const LEADERS: [&str; 2] = ["moto_server", "cargo-lambda"];

/// The children and their process group.
pub struct Children {
    logs: PathBuf,
    record: PathBuf,
    group: Option<u32>,
    running: Vec<(String, Child)>,
}

impl Children {
    /// No child yet; `state` is `.dev/`, with its `logs/` folder.
    pub fn new(state: &Path) -> Self {
        Children {
            logs: state.join("logs"),
            record: state.join("pids"),
            group: None,
            running: Vec::new(),
        }
    }

    /// `.dev/logs/NAME.log`.
    pub fn log(&self, name: &str) -> PathBuf {
        self.logs.join(format!("{name}.log"))
    }

    /// Starts `command` as `name` in the group, its output in its log. With `echo`, the output also goes to this
    /// process's stdout while `echo` is set (the foreground stack shows cargo lambda watch's once it is ready).
    ///
    /// # Errors
    /// The log cannot be created or the program cannot be started.
    pub fn spawn(
        &mut self,
        name: &str,
        mut command: Command,
        echo: Option<Arc<AtomicBool>>,
    ) -> Result<u32, String> {
        let log_path = self.log(name);
        let log = File::create(&log_path)
            .map_err(|err| format!("cannot create {}: {err}", log_path.display()))?;
        let copy = log
            .try_clone()
            .map_err(|err| format!("cannot open {}: {err}", log_path.display()))?;
        let group = self
            .group
            .and_then(|pid| i32::try_from(pid).ok())
            .unwrap_or(0);
        command.stdin(Stdio::null()).process_group(group);
        let log = match echo {
            Some(_) => {
                command.stdout(Stdio::piped()).stderr(Stdio::piped());
                Some(log)
            }
            None => {
                command.stdout(log).stderr(copy);
                None
            }
        };
        let mut child = command
            .spawn()
            .map_err(|err| format!("cannot start {name} ({:?}): {err}", command.get_program()))?;
        let pid = child.id();
        if let (Some(echo), Some(log)) = (echo, log) {
            let log = Arc::new(std::sync::Mutex::new(log));
            if let Some(out) = child.stdout.take() {
                relay(BufReader::new(out), log.clone(), echo.clone());
            }
            if let Some(err) = child.stderr.take() {
                relay(BufReader::new(err), log, echo);
            }
        }
        if self.group.is_none() {
            self.group = Some(pid);
            std::fs::write(&self.record, format!("{pid}\n"))
                .map_err(|err| format!("cannot write {}: {err}", self.record.display()))?;
        }
        self.running.push((name.to_owned(), child));
        Ok(pid)
    }

    /// Waits until child `name` (`label` in messages), just started, answers HTTP at `url`, then makes sure that it is that child answering
    /// rather than whatever else got hold of `port` (when `lsof` or `ss` can tell).
    ///
    /// # Errors
    /// It stopped first (with its log's end, and the port's message when its log says the address is in use), it
    /// did not answer within `within`, or another process answers on `port` (the message names `variable`).
    pub async fn await_answer(
        &mut self,
        name: &str,
        label: &str,
        url: &str,
        within: Duration,
        port: u16,
        variable: &str,
    ) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|err| err.to_string())?;
        let deadline = Instant::now() + within;
        while client.get(url).send().await.is_err() {
            if let Err(stopped) = self.check() {
                let log = std::fs::read_to_string(self.log(name)).unwrap_or_default();
                return Err(if log.to_lowercase().contains("address already in use") {
                    format!("{stopped}\nerror: {}", ports::taken(port, variable))
                } else {
                    stopped
                });
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{label} did not answer on {url} within {}s; see {}",
                    within.as_secs(),
                    self.log(name).display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let listeners = ports::listener_pids(port).unwrap_or_default();
        let group = self.group.unwrap_or_default();
        if !listeners.is_empty()
            && !listeners
                .iter()
                .any(|pid| processes::group_of(*pid) == Some(group))
        {
            return Err(format!(
                "port {port} answers, but not from the {label} just started\nerror: {}",
                ports::taken(port, variable)
            ));
        }
        self.check()
    }

    /// Every child still runs.
    ///
    /// # Errors
    /// `NAME stopped on its own`, with the end of its log.
    pub fn check(&mut self) -> Result<(), String> {
        for (name, child) in &mut self.running {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "{name} stopped on its own ({status}); its log ({}) ends:\n{}",
                    self.logs.join(format!("{name}.log")).display(),
                    log_tail(&self.logs.join(format!("{name}.log")))
                ));
            }
        }
        Ok(())
    }

    /// True when anything was started.
    pub fn any(&self) -> bool {
        !self.running.is_empty()
    }

    /// Stops the group: SIGTERM, then after [`GRACE`] SIGKILL to it and to everything its members started.
    pub fn stop(&mut self) {
        let Some(group) = self.group.take() else {
            return;
        };
        let pids: Vec<u32> = self.running.iter().map(|(_, child)| child.id()).collect();
        stop_group(group, &pids, || {
            self.running
                .iter_mut()
                .all(|(_, child)| matches!(child.try_wait(), Ok(Some(_))))
        });
        for (_, child) in &mut self.running {
            let _ = child.wait();
        }
        self.running.clear();
        let _ = std::fs::remove_file(&self.record);
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SIGTERM to `group`; once `members` (the processes of the group it knows) and the group are gone, or after
/// [`GRACE`], SIGKILL to the group and to every process below `members`, which may have left the group.
pub fn stop_group(group: u32, members: &[u32], mut members_gone: impl FnMut() -> bool) {
    processes::signal_group(group, processes::TERM);
    let deadline = Instant::now() + GRACE;
    // The members first: reaping them is what lets the group go.
    while Instant::now() < deadline && (!members_gone() || processes::group_alive(group)) {
        std::thread::sleep(Duration::from_millis(200));
    }
    if processes::group_alive(group) || !members_gone() {
        let below = processes::descendants(members);
        processes::signal_group(group, processes::KILL);
        for pid in below {
            processes::signal(pid, processes::KILL);
        }
    }
}

/// Copies `from` line by line into `log`, and to stdout while `echo` is set.
fn relay(
    from: impl BufRead + Send + 'static,
    log: Arc<std::sync::Mutex<File>>,
    echo: Arc<AtomicBool>,
) {
    std::thread::spawn(move || {
        for line in from.lines().map_while(Result::ok) {
            if let Ok(mut log) = log.lock() {
                let _ = writeln!(log, "{line}");
            }
            if echo.load(Ordering::Relaxed) {
                println!("{line}");
            }
        }
    });
}

/// The last 20 lines of `log`, indented.
pub fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..]
        .iter()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
