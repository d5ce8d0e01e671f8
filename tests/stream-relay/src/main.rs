use std::process::ExitCode;
use stream_relay::{USAGE, parse_args, run};

#[tokio::main]
async fn main() -> ExitCode {
    let command = parse_args(std::env::args().skip(1));
    dev_tool::main(
        "stream-relay",
        USAGE,
        command,
        |config, stopped| async move {
            let aws = aws_config::load_from_env().await;
            run(&config, &aws, stopped)
                .await
                .map_err(|err| err.to_string())
        },
    )
    .await
}
