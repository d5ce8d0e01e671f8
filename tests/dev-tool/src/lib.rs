//! What the local stand-ins for AWS pieces (`api-gateway`, `stream-relay`) share as command-line tools: the
//! run-or-help command, a `main` that turns a parsed command line into a run that stops on Ctrl-C or SIGTERM with
//! the usual exit codes, and the error chains their messages quote.

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use tokio::signal::unix::{SignalKind, signal};

/// What a tool's command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<C> {
    Run(C),
    Help,
}

/// Completes when the tool is asked to stop (Ctrl-C or SIGTERM).
pub type Stopped = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A tool's whole `main`: prints `usage` for `--help` (exit 0), names a bad argument (exit 2), otherwise runs
/// `tool(config, stopped)` and exits 0 when it returns, 1 after printing its error. Messages start with `name:`.
pub async fn main<C, F, Fut>(
    name: &str,
    usage: &str,
    command: Result<Command<C>, String>,
    tool: F,
) -> ExitCode
where
    F: FnOnce(C, Stopped) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let config = match command {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            println!("{usage}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{name}: {message}\n\n{usage}");
            return ExitCode::from(2);
        }
    };
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(terminate) => terminate,
        Err(err) => {
            eprintln!("{name}: cannot listen for SIGTERM: {err}");
            return ExitCode::FAILURE;
        }
    };
    let stopped: Stopped = Box::pin(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    });
    match tool(config, stopped).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{name}: {message}");
            ExitCode::FAILURE
        }
    }
}

/// An error with its causes, which SDK and HTTP errors keep out of their own message: `outer: cause: root`.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn an_error_chain_names_every_cause() {
        let error = Layer(
            "a",
            Some(Box::new(Layer("b", Some(Box::new(Layer("c", None)))))),
        );
        assert_eq!(error_chain(&error), "a: b: c");
    }

    #[tokio::test]
    async fn help_bad_arguments_a_run_and_a_failure_have_their_exit_codes() {
        let ok = |_: (), _: Stopped| async { Ok(()) };
        let help = main("t", "usage", Ok(Command::Help), ok).await;
        assert_eq!(help, ExitCode::SUCCESS);
        let bad = main("t", "usage", Err("--x is unknown".into()), ok).await;
        assert_eq!(bad, ExitCode::from(2));
        assert_eq!(
            main("t", "usage", Ok(Command::Run(())), ok).await,
            ExitCode::SUCCESS
        );
        let failing = |_: (), _: Stopped| async { Err("broken".to_owned()) };
        assert_eq!(
            main("t", "usage", Ok(Command::Run(())), failing).await,
            ExitCode::FAILURE
        );
    }
}
