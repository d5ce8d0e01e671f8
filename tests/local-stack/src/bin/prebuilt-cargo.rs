//! `prebuilt-cargo`: what cargo lambda watch runs as `cargo` in a background stack (the `CARGO` variable names
//! it), so that the functions it serves are the ones already built beside this program.
//!
//! `prebuilt-cargo run … --bin NAME … [-- ARGS…]` runs `NAME` from this program's folder with `ARGS`, in place of
//! building it again; any other command (cargo lambda watch reads the workspace's metadata) goes to the real
//! `cargo` on `PATH`.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let error = if args.first().is_some_and(|command| command == "run") {
        match prebuilt(&args) {
            Ok(mut binary) => binary.exec(),
            Err(message) => {
                eprintln!("prebuilt-cargo: {message}");
                return ExitCode::from(101);
            }
        }
    } else {
        Command::new("cargo").args(&args).env_remove("CARGO").exec()
    };
    eprintln!("prebuilt-cargo: {error}");
    ExitCode::from(101)
}

/// The built binary `run`'s arguments name, with the arguments meant for it.
fn prebuilt(args: &[OsString]) -> Result<Command, String> {
    let (cargo_args, program_args) = match args.iter().position(|arg| arg == "--") {
        Some(at) => (&args[..at], &args[at + 1..]),
        None => (args, &[][..]),
    };
    let mut name = None;
    for (index, arg) in cargo_args.iter().enumerate() {
        let text = arg.to_string_lossy();
        if let Some(value) = text.strip_prefix("--bin=") {
            name = Some(value.to_owned());
        } else if text == "--bin" {
            name = cargo_args
                .get(index + 1)
                .map(|value| value.to_string_lossy().into_owned());
        }
    }
    let name = name.ok_or("cargo run without --bin: nothing to run")?;
    let folder = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.to_path_buf()))
        .ok_or("cannot tell where this program is")?;
    let binary = folder.join(&name);
    if !binary.is_file() {
        return Err(format!(
            "{} is not built: build the workspace first (scripts/dev.sh start does)",
            binary.display()
        ));
    }
    let mut command = Command::new(binary);
    command.args(program_args);
    Ok(command)
}
