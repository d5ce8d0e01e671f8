//! `burst [--requests N] [--limit R] [--window SECONDS] [--within SECONDS]`: the burst benchmark against the running
//! dev stack (`make bench-burst` starts one and runs this). Prints the table the README records.

use e2e::Stack;
use e2e::burst::{Burst, run};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: burst [--requests N (200)] [--limit R (20)] [--window SECONDS (30)] [--within SECONDS (1800)]";

fn parse(mut args: impl Iterator<Item = String>) -> Result<Burst, String> {
    let mut burst = Burst {
        requests: 200,
        limit: 20,
        window: Duration::from_secs(30),
        within: Duration::from_secs(1800),
    };
    while let Some(flag) = args.next() {
        let value: u64 = args
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{flag} needs a whole number\n{USAGE}"))?;
        match flag.as_str() {
            "--requests" => burst.requests = usize::try_from(value).map_err(|e| e.to_string())?,
            "--limit" => burst.limit = u32::try_from(value).map_err(|e| e.to_string())?,
            "--window" => burst.window = Duration::from_secs(value),
            "--within" => burst.within = Duration::from_secs(value),
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    Ok(burst)
}

#[tokio::main]
async fn main() -> ExitCode {
    let burst = e2e::arguments_or_exit(parse);
    eprintln!(
        "burst: {} requests against {} creates per {} s …",
        burst.requests,
        burst.limit,
        burst.window.as_secs()
    );
    let report = run(&Stack::new(), burst).await;
    println!("{}", report.table());
    if report.lost == 0 && report.duplicates == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
