//! Command-line options.

use std::net::SocketAddr;
use std::time::Duration;

pub const USAGE: &str = "\
usage: api-gateway [--listen 127.0.0.1:9080]
                   [--invoke-url http://127.0.0.1:9000/2015-03-31/functions]
                   [--stage NAME] [--timeout-seconds 30]

Serves the stack's HTTP API on one base URL, as API Gateway does: each request to a route of
template.yaml becomes the Lambda event API Gateway makes of it (payload format 2.0, with the
route's key) and goes to the function that owns the route through the Lambda Invoke API at
<invoke-url>/<function>/invocations, which `cargo lambda watch` emulates; the function's answer
becomes the HTTP response. Any other path gets API Gateway's own 404 {\"message\":\"Not Found\"}.
With --stage NAME the API is served under /NAME, as a named stage is in AWS (by default it has
none, as the $default stage). A function that does not answer within --timeout-seconds gets
API Gateway's 503, a function that fails or answers what is not a response its 502.";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    /// The Lambda Invoke API's functions, `cargo lambda watch`'s emulation of it: a function is invoked at
    /// `<invoke_url>/<function>/invocations` (no trailing slash).
    pub invoke_url: String,
    /// The named stage the API is served under (`/<stage>/...`), or `None` for the `$default` stage.
    pub stage: Option<String>,
    /// API Gateway waits 30 seconds at most for an integration; `make dev` allows more, since cargo lambda watch
    /// rebuilds a changed function on its next call.
    pub timeout: Duration,
}

/// What the command line asked for.
pub type Command = dev_tool::Command<Config>;

/// `args` excludes the program name.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut listen = SocketAddr::from(([127, 0, 0, 1], 9080));
    let mut invoke_url = "http://127.0.0.1:9000/2015-03-31/functions".to_string();
    let mut stage = None;
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
            "--invoke-url" => invoke_url = value()?,
            "--stage" => {
                let name = value()?;
                // API Gateway's stage names: letters, digits, `-` and `_`; `$default` is the stage without a name.
                let valid = !name.is_empty()
                    && name.len() <= 128
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if name == "$default" {
                    stage = None;
                } else if valid {
                    stage = Some(name);
                } else {
                    return Err(format!(
                        "--stage needs a stage name (letters, digits, - and _) or $default, got {name:?}"
                    ));
                }
            }
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
    let parsed = reqwest::Url::parse(&invoke_url)
        .map_err(|err| format!("--invoke-url {invoke_url:?}: {err}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
        return Err(format!(
            "--invoke-url must be an http:// or https:// URL without a query, got {invoke_url:?}"
        ));
    }
    Ok(Command::Run(Config {
        listen,
        invoke_url: invoke_url.trim_end_matches('/').to_string(),
        stage,
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
                invoke_url: "http://127.0.0.1:9000/2015-03-31/functions".into(),
                stage: None,
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
                "--invoke-url",
                "http://127.0.0.1:5678/2015-03-31/functions/",
                "--stage",
                "dev_2",
                "--timeout-seconds",
                "600",
            ]),
            Ok(Command::Run(Config {
                listen: "127.0.0.1:1234".parse().unwrap(),
                invoke_url: "http://127.0.0.1:5678/2015-03-31/functions".into(),
                stage: Some("dev_2".into()),
                timeout: Duration::from_secs(600),
            }))
        );
        let Ok(Command::Run(config)) = parse(&["--stage", "$default"]) else {
            panic!("$default is a stage")
        };
        assert_eq!(config.stage, None);
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
    }

    #[test]
    fn bad_arguments_are_refused_with_a_reason() {
        for (args, expected) in [
            (&["--listen"][..], "--listen needs a value"),
            (&["--listen", "9080"][..], "needs an address"),
            (&["--invoke-url", "127.0.0.1:9000"][..], "--invoke-url"),
            (&["--invoke-url", "ftp://x/"][..], "http:// or https://"),
            (&["--invoke-url", "http://x/?a=b"][..], "without a query"),
            (&["--stage"][..], "--stage needs a value"),
            (&["--stage", ""][..], "needs a stage name"),
            (&["--stage", "a/b"][..], "needs a stage name"),
            (&["--stage", "$latest"][..], "needs a stage name"),
            (&["--timeout-seconds", "0"][..], "above 0"),
            (&["--timeout-seconds", "soon"][..], "whole number"),
            (&["--verbose"][..], "unknown argument --verbose"),
        ] {
            let err = parse(args).expect_err(expected);
            assert!(err.contains(expected), "{args:?}: {err}");
        }
    }
}
