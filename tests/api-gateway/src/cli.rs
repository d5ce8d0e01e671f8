//! Command-line options.

use std::net::SocketAddr;
use std::time::Duration;

pub const USAGE: &str = "\
usage: api-gateway [--listen 127.0.0.1:9080] [--functions-url http://127.0.0.1:9000/lambda-url]
                   [--timeout-seconds 30]

Serves the stack's HTTP API on one base URL, as API Gateway does: each request to a route of
template.yaml goes to the function that owns it, at <functions-url>/<function><path>, the URLs
`cargo lambda watch` serves; any other path gets API Gateway's own 404 {\"message\":\"Not Found\"}.
A function that does not answer within --timeout-seconds gets API Gateway's 503.";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    /// `cargo lambda watch`'s function URLs, without the function's name (no trailing slash).
    pub functions_url: String,
    /// API Gateway waits 30 seconds at most for an integration; `make dev` allows more, since cargo lambda watch
    /// rebuilds a changed function on its next call.
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Run(Config),
    Help,
}

/// `args` excludes the program name.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut listen = SocketAddr::from(([127, 0, 0, 1], 9080));
    let mut functions_url = "http://127.0.0.1:9000/lambda-url".to_string();
    let mut timeout_seconds: u64 = 30;

    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(Command::Help);
        }
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => {
                let text = value()?;
                listen = text.parse().map_err(|_| {
                    format!("--listen needs an address such as 127.0.0.1:9080, got {text:?}")
                })?;
            }
            "--functions-url" => functions_url = value()?,
            "--timeout-seconds" => {
                let text = value()?;
                timeout_seconds =
                    text.parse()
                        .ok()
                        .filter(|seconds| *seconds > 0)
                        .ok_or(format!(
                            "--timeout-seconds needs a whole number above 0, got {text:?}"
                        ))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let parsed = reqwest::Url::parse(&functions_url)
        .map_err(|err| format!("--functions-url {functions_url:?}: {err}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
        return Err(format!(
            "--functions-url must be an http:// or https:// URL without a query, got {functions_url:?}"
        ));
    }
    Ok(Command::Run(Config {
        listen,
        functions_url: functions_url.trim_end_matches('/').to_string(),
        timeout: Duration::from_secs(timeout_seconds),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|arg| arg.to_string()))
    }

    #[test]
    fn defaults_are_make_devs() {
        assert_eq!(
            parse(&[]),
            Ok(Command::Run(Config {
                listen: "127.0.0.1:9080".parse().unwrap(),
                functions_url: "http://127.0.0.1:9000/lambda-url".into(),
                timeout: Duration::from_secs(30),
            }))
        );
    }

    #[test]
    fn every_option_is_read() {
        assert_eq!(
            parse(&[
                "--listen",
                "127.0.0.1:1234",
                "--functions-url",
                "http://127.0.0.1:5678/lambda-url/",
                "--timeout-seconds",
                "600",
            ]),
            Ok(Command::Run(Config {
                listen: "127.0.0.1:1234".parse().unwrap(),
                functions_url: "http://127.0.0.1:5678/lambda-url".into(),
                timeout: Duration::from_secs(600),
            }))
        );
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
    }

    #[test]
    fn bad_arguments_are_refused_with_a_reason() {
        for (args, expected) in [
            (&["--listen"][..], "--listen needs a value"),
            (&["--listen", "9080"][..], "needs an address"),
            (
                &["--functions-url", "127.0.0.1:9000"][..],
                "--functions-url",
            ),
            (&["--functions-url", "ftp://x/"][..], "http:// or https://"),
            (&["--functions-url", "http://x/?a=b"][..], "without a query"),
            (&["--timeout-seconds", "0"][..], "above 0"),
            (&["--timeout-seconds", "soon"][..], "whole number"),
            (&["--verbose"][..], "unknown argument --verbose"),
        ] {
            let err = parse(args).expect_err(expected);
            assert!(err.contains(expected), "{args:?}: {err}");
        }
    }
}
