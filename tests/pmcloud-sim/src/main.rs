//! `pmcloud-sim [--listen ADDR] [--config FILE.json]`: serve a simulated PM Cloud Management API until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;

use pmcloud_sim::{PmCloudSim, SimConfig};
use tokio::signal::unix::{SignalKind, signal};

const USAGE: &str =
    "usage: pmcloud-sim [--listen ADDR (default 127.0.0.1:8090)] [--config FILE.json]";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("pmcloud-sim: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let (listen, config) = parse_args(std::env::args().skip(1))?;
    let sim = PmCloudSim::start_on(listen, config)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    println!("pmcloud-sim listening on {}", sim.base_url());
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    sim.shutdown().await;
    Ok(())
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(SocketAddr, SimConfig), String> {
    let mut listen = SocketAddr::from(([127, 0, 0, 1], 8090));
    let mut config = SimConfig::default();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
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
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    Ok((listen, config))
}
