//! One stack at a time: `.dev/dev.pid` holds `PID MODE` of the local-stack process that runs it, and another
//! start refuses while it runs; `scripts/dev.sh stop` ends that process (and only processes it can tell are the
//! stack's).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::children::{LEADERS, stop_group};
use crate::config::Mode;
use crate::processes;

/// The lock, held while this process runs the stack; released on drop.
pub struct Lock {
    path: PathBuf,
}

/// The process named in the lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub mode: String,
}

impl Lock {
    /// Takes the lock of `state` (`.dev/`) for this process in `mode`, forgetting one whose process is gone.
    ///
    /// # Errors
    /// Another stack runs (the message says how to stop it), or the lock cannot be written.
    pub fn take(state: &Path, mode: Mode) -> Result<Self, String> {
        let path = state.join("dev.pid");
        loop {
            let created = OpenOptions::new().write(true).create_new(true).open(&path);
            match created {
                Ok(mut file) => {
                    writeln!(file, "{} {}", std::process::id(), mode.word())
                        .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
                    return Ok(Lock { path });
                }
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                    refuse_if_running(state)?;
                    // What the lock names is gone (a crash, a reboot): forget it.
                    let _ = std::fs::remove_file(&path);
                    let _ = std::fs::remove_file(state.join("pids"));
                }
                Err(err) => return Err(format!("cannot create {}: {err}", path.display())),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if read_owner(&self.path).is_some_and(|owner| owner.pid == std::process::id()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Refuses while a stack runs in `state`: the process the lock names, or a group `.dev/pids` names.
///
/// # Errors
/// What runs, and how to stop it.
pub fn refuse_if_running(state: &Path) -> Result<(), String> {
    let owner = running_owner(state);
    if owner.is_none() && leftover_group(state).is_none() {
        return Ok(());
    }
    let how = match &owner {
        Some(owner) if owner.mode == Mode::Run.word() => format!(
            "make dev (pid {}) runs in another terminal: stop it there with Ctrl-C, or with scripts/dev.sh stop",
            owner.pid
        ),
        Some(owner) => format!(
            "it was started with scripts/dev.sh start (pid {}): stop it with scripts/dev.sh stop",
            owner.pid
        ),
        None => "its processes are in .dev/pids: stop them with scripts/dev.sh stop".into(),
    };
    Err(format!(
        "a dev stack is already running in {} (see {} and {}).\nerror: {how}; then run this again.",
        state.display(),
        state.join("dev.pid").display(),
        state.join("pids").display()
    ))
}

/// Stops the stack running in `state`, however it was started: SIGTERM to the process the lock names (it stops
/// its children and exits), SIGKILL if it has not within 30 seconds; then the group `.dev/pids` names, if it was
/// left behind. Only processes whose command line shows they are the stack's are signalled.
pub fn stop(state: &Path) {
    if let Some(owner) = running_owner(state)
        && owner.pid != std::process::id()
    {
        processes::signal(owner.pid, processes::TERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        while processes::alive(owner.pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        if is_stack(owner.pid) {
            processes::signal(owner.pid, processes::KILL);
        }
    }
    if let Some(group) = leftover_group(state) {
        stop_group(group, &[group], || !processes::alive(group));
    }
    let _ = std::fs::remove_file(state.join("pids"));
    if running_owner(state).is_none() {
        let _ = std::fs::remove_file(state.join("dev.pid"));
    }
}

/// The lock's process, while it runs and is a local-stack.
fn running_owner(state: &Path) -> Option<Owner> {
    read_owner(&state.join("dev.pid")).filter(|owner| is_stack(owner.pid))
}

/// True while `pid` runs this program (the stack's processes are all `local-stack`).
fn is_stack(pid: u32) -> bool {
    let program = std::env::current_exe()
        .ok()
        .and_then(|path| Some(path.file_name()?.to_string_lossy().into_owned()));
    processes::alive(pid)
        && program.is_some_and(|program| processes::command_line(pid).contains(&program))
}

/// The group `.dev/pids` names, while its leader runs and is moto or cargo lambda watch.
fn leftover_group(state: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(state.join("pids")).ok()?;
    let group: u32 = text.lines().next()?.trim().parse().ok()?;
    let leader = processes::command_line(group);
    LEADERS
        .iter()
        .any(|name| leader.contains(name))
        .then_some(group)
}

/// `PID MODE` as the lock holds it.
fn read_owner(path: &Path) -> Option<Owner> {
    parse_owner(&std::fs::read_to_string(path).ok()?)
}

fn parse_owner(text: &str) -> Option<Owner> {
    let mut words = text.split_whitespace();
    Some(Owner {
        pid: words.next()?.parse().ok()?,
        mode: words.next().unwrap_or_default().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "local-stack-lock-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_lock_names_this_process_and_refuses_a_second_stack() {
        let state = state();
        let lock = Lock::take(&state, Mode::Run).unwrap();
        assert_eq!(
            read_owner(&state.join("dev.pid")),
            Some(Owner {
                pid: std::process::id(),
                mode: "run".into()
            })
        );
        let refused = Lock::take(&state, Mode::Start).err().unwrap();
        assert!(
            refused.contains(&format!(
                "make dev (pid {}) runs in another terminal",
                std::process::id()
            )),
            "{refused}"
        );
        drop(lock);
        assert!(!state.join("dev.pid").exists());
        std::fs::remove_dir_all(&state).unwrap();
    }

    #[test]
    fn a_lock_whose_process_is_gone_is_forgotten() {
        let state = state();
        // The highest pid Linux hands out is below this one.
        std::fs::write(state.join("dev.pid"), "4194399 start\n").unwrap();
        assert_eq!(refuse_if_running(&state), Ok(()));
        let lock = Lock::take(&state, Mode::Start).unwrap();
        drop(lock);
        std::fs::remove_dir_all(&state).unwrap();
    }

    #[test]
    fn the_lock_is_read_as_pid_and_mode() {
        assert_eq!(
            parse_owner("42 start\n"),
            Some(Owner {
                pid: 42,
                mode: "start".into()
            })
        );
        assert_eq!(parse_owner("nonsense"), None);
    }
}
