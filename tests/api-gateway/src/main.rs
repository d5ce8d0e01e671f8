use api_gateway::{Command, USAGE, parse_args, serve};
use std::process::ExitCode;
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("api-gateway: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(terminate) => terminate,
        Err(err) => {
            eprintln!("api-gateway: cannot listen for SIGTERM: {err}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("api-gateway: cannot listen on {}: {err}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    let base = match &config.stage {
        Some(stage) => format!("http://{}/{stage}", config.listen),
        None => format!("http://{}", config.listen),
    };
    println!(
        "api-gateway: serving the HTTP API on {base}, invoking each function at {}/<function>/invocations",
        config.invoke_url
    );
    match serve(listener, &config, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("api-gateway: {message}");
            ExitCode::FAILURE
        }
    }
}
