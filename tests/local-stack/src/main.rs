//! `local-stack`: the whole connector on this machine, wired the way AWS wires it, which `make dev` and
//! `scripts/dev.sh start|stop` run (see the top of `scripts/dev.sh` for the settings, all `DEV_*` variables).
//!
//! In this one process: the ServiceNow simulator (`tests/servicenow-sim`), the PM Cloud simulator
//! (`tests/pmcloud-sim`), the API gateway stand-in (`tests/api-gateway`), one stream relay per stream-triggered
//! function (`tests/stream-relay`) and the reconciler's schedule. As child processes, in one process group that
//! is stopped with the stack: moto (DynamoDB with streams, Secrets Manager) and `cargo lambda watch` (every
//! package under `functions/`).
//!
//! ```text
//! local-stack run     in the foreground until Ctrl-C (which exits 0), SIGTERM or the end of its parent
//! local-stack start   in the background; returns once ready, the stack described in .dev/stack.env
//! local-stack stop    stops the running stack, however it was started
//! ```
//!
//! Run from the repository's root, with `.venv` bootstrapped and the functions' target folder beside this program.

mod aws;
mod background;
mod children;
mod config;
mod env_file;
mod functions;
mod lock;
mod ports;
mod processes;
mod settings;
mod stack;
mod template;
mod walkthrough;

use std::process::ExitCode;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use children::Children;
use config::{Config, Mode};
use lock::Lock;

const USAGE: &str = "usage: local-stack run|start|stop";

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => return fail(&format!("cannot start the runtime: {err}")),
    };
    let root = match stack::root() {
        Ok(root) => root,
        Err(message) => return fail(&message),
    };
    match command.as_str() {
        "run" => runtime.block_on(serve(Mode::Run)),
        // The background stack that `start` runs.
        "serve" => runtime.block_on(serve(Mode::Start)),
        "start" => runtime
            .block_on(background::start(&root))
            .unwrap_or_else(|message| fail(&message)),
        "stop" => {
            lock::stop(&root.join(".dev"));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Runs the stack in `mode` until it is asked to stop (exit 0) or a piece fails (exit 1); stops what it started
/// either way.
async fn serve(mode: Mode) -> ExitCode {
    let config = match stack::root()
        .and_then(|root| Config::from_vars(&root, |name| std::env::var(name).ok()))
    {
        Ok(config) => config,
        Err(message) => return fail(&message),
    };
    let state = config.state_dir();
    if let Err(err) = std::fs::create_dir_all(&state) {
        return fail(&format!("cannot create {}: {err}", state.display()));
    }
    let _lock = match Lock::take(&state, mode) {
        Ok(lock) => lock,
        Err(message) => return fail(&message),
    };
    let mut children = Children::new(&state);
    let outcome = tokio::select! {
        served = stack::serve(&config, mode, &mut children) => served,
        () = stop_requested(mode) => Ok(()),
    };
    let announce = mode == Mode::Run && children.any();
    if announce {
        println!("\nstopping…");
    }
    children.stop();
    if announce {
        println!("stopped.");
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

/// Completes when the stack is asked to stop: Ctrl-C, SIGTERM (`scripts/dev.sh stop`), a closed terminal, and in
/// the foreground the end of the make (or shell) that started it. Ctrl-Z is ignored in the foreground: a
/// suspended stack would leave make behind.
async fn stop_requested(mode: Mode) {
    let (Ok(mut interrupt), Ok(mut terminate), Ok(mut hangup), Ok(_suspend)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
        signal(SignalKind::from_raw(libc::SIGTSTP)),
    ) else {
        eprintln!("error: cannot listen for signals");
        return;
    };
    let parent = std::os::unix::process::parent_id();
    let orphaned = async {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if mode == Mode::Run && std::os::unix::process::parent_id() != parent {
                return;
            }
        }
    };
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
        _ = hangup.recv() => {}
        () = orphaned => {}
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
