//! `servicenow-sim [--listen ADDR] [--config FILE.json]`: serve a simulated ServiceNow instance until SIGINT/SIGTERM.

fn main() -> std::process::ExitCode {
    sim_kit::main::<servicenow_sim::Instance>()
}
