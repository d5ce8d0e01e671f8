//! A simulator's binary: `NAME [--listen ADDR] [--config FILE.json]`, serving until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;

use tokio::signal::unix::{SignalKind, signal};

use crate::{Api, Sim};

/// The binary's whole `main`: parse the arguments, serve, print `NAME listening on http://ADDR` once listening,
/// and stop on SIGINT or SIGTERM. A bad argument, an unreadable or invalid config file, or a port that cannot be
/// bound is a message on stderr (`NAME: …`, with the usage line for a bad argument) and exit code 1.
pub fn main<A: Api>() -> ExitCode {
    let served = tokio::runtime::Runtime::new()
        .map_err(|e| e.to_string())
        .and_then(|runtime| runtime.block_on(run::<A>()));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{}: {message}", A::NAME);
            ExitCode::FAILURE
        }
    }
}

async fn run<A: Api>() -> Result<(), String> {
    let (listen, config) = parse_args::<A>(std::env::args().skip(1))?;
    let sim = Sim::<A>::start_on(listen, config)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    println!("{} listening on {}", A::NAME, sim.base_url());
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    sim.shutdown().await;
    Ok(())
}

fn parse_args<A: Api>(
    mut args: impl Iterator<Item = String>,
) -> Result<(SocketAddr, A::Config), String> {
    let usage = format!(
        "usage: {} [--listen ADDR (default 127.0.0.1:{})] [--config FILE.json]",
        A::NAME,
        A::DEFAULT_PORT
    );
    let mut listen = SocketAddr::from(([127, 0, 0, 1], A::DEFAULT_PORT));
    let mut config = A::Config::default();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value\n{usage}"));
        match flag.as_str() {
            "--listen" => {
                let addr = value()?;
                listen = addr.parse().map_err(|e| format!("--listen {addr}: {e}"))?;
            }
            "--config" => {
                let path = value()?;
                let text =
                    std::fs::read_to_string(&path).map_err(|e| format!("--config {path}: {e}"))?;
                config =
                    serde_json::from_str(&text).map_err(|e| format!("--config {path}: {e}"))?;
            }
            _ => return Err(format!("unknown argument {flag}\n{usage}")),
        }
    }
    Ok((listen, config))
}
