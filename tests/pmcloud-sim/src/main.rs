//! `pmcloud-sim [--listen ADDR] [--config FILE.json]`: serve a simulated PM Cloud Management API until SIGINT/SIGTERM.

fn main() -> std::process::ExitCode {
    sim_kit::main::<pmcloud_sim::Tenant>()
}
