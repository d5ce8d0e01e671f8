use api_gateway::{USAGE, parse_args, serve};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let command = parse_args(std::env::args().skip(1));
    dev_tool::main("api-gateway", USAGE, command, |config, stopped| async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|err| format!("cannot listen on {}: {err}", config.listen))?;
        let base = match &config.stage {
            Some(stage) => format!("http://{}/{stage}", config.listen),
            None => format!("http://{}", config.listen),
        };
        println!(
            "api-gateway: serving the HTTP API on {base}, invoking each function at {}/<function>/invocations",
            config.invoke_url
        );
        serve(listener, &config, stopped).await
    })
    .await
}
