//! `local-stack start`: the stack in the background. It runs as `local-stack serve` in a process group of its own
//! (Ctrl-C in this terminal does not reach it), its output in `.dev/logs/stack.log`; this command shows that
//! output until the stack is ready (then exits 0) or has failed (then exits with its status).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use crate::{lock, processes, stack};

/// Starts the background stack of the repository at `root` and waits until it is ready.
///
/// # Errors
/// A stack already runs, or the background process cannot be started; its own failures are shown from its log.
pub async fn start(root: &Path) -> Result<ExitCode, String> {
    let state = root.join(".dev");
    let logs = state.join("logs");
    std::fs::create_dir_all(&logs)
        .map_err(|err| format!("cannot create {}: {err}", logs.display()))?;
    lock::refuse_if_running(&state)?;
    let log_path = logs.join("stack.log");
    let log = File::create(&log_path)
        .map_err(|err| format!("cannot create {}: {err}", log_path.display()))?;
    let copy = log.try_clone().map_err(|err| err.to_string())?;
    let program = std::env::current_exe().map_err(|err| err.to_string())?;
    let mut stack = Command::new(program)
        .arg("serve")
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(copy)
        .process_group(0)
        .spawn()
        .map_err(|err| format!("cannot start the stack: {err}"))?;
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|err| format!("cannot listen for Ctrl-C: {err}"))?;
    let mut reader = File::open(&log_path).map_err(|err| err.to_string())?;
    let mut shown = 0u64;
    loop {
        let ended = stack.try_wait().map_err(|err| err.to_string())?;
        let mut new = read_from(&mut reader, shown);
        // Whole lines only, until the stack has ended: the rest of a line comes with the next read.
        if ended.is_none() {
            new.truncate(new.iter().rposition(|b| *b == b'\n').map_or(0, |at| at + 1));
        }
        shown += new.len() as u64;
        for line in String::from_utf8_lossy(&new).lines() {
            if line.starts_with("error:") {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
            if line == stack::READY {
                return Ok(ExitCode::SUCCESS);
            }
        }
        if let Some(status) = ended {
            let code = status.code().and_then(|code| u8::try_from(code).ok());
            return Ok(ExitCode::from(code.filter(|code| *code != 0).unwrap_or(1)));
        }
        tokio::select! {
            _ = interrupt.recv() => {
                // A start broken off stops what it started.
                processes::signal(stack.id(), processes::TERM);
                let _ = stack.wait();
                return Ok(ExitCode::from(130));
            }
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
}

/// What the log holds past `offset`.
fn read_from(reader: &mut File, offset: u64) -> Vec<u8> {
    let mut new = Vec::new();
    if reader.seek(SeekFrom::Start(offset)).is_ok() {
        let _ = reader.read_to_end(&mut new);
    }
    new
}
