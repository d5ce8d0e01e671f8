//! Command-line options. Defaults mirror the template's event source mapping.

use crate::filter::Pattern;
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
usage: stream-relay --table <table name> --invoke-url <url> [--filter-pattern <json>]...
                    [--batch-size 10] [--poll-millis 250] [--max-retries 20]
                    [--failures-file .dev/failed-stream-records.jsonl]

Relays the table's DynamoDB stream to a function's invoke URL the way Lambda's event source
mapping does. AWS settings come from the environment (AWS_ENDPOINT_URL, AWS_REGION, ...).";

/// GetRecords returns at most 1000 records.
const MAX_BATCH_SIZE: i32 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table: String,
    pub invoke_url: String,
    /// A record is delivered when any pattern matches it; with none, every record is.
    pub filters: Vec<Pattern>,
    pub batch_size: i32,
    pub poll_interval: Duration,
    pub max_retries: u32,
    pub failures_file: PathBuf,
}

/// What the command line asked for.
pub type Command = dev_tool::Command<Config>;

/// `args` excludes the program name.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut table = None;
    let mut invoke_url = None;
    let mut filters = Vec::new();
    let mut batch_size = 10;
    let mut poll_millis = 250;
    let mut max_retries = 20;
    let mut failures_file = PathBuf::from(".dev/failed-stream-records.jsonl");

    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(Command::Help);
        }
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--table" => table = Some(value()?),
            "--invoke-url" => invoke_url = Some(value()?),
            "--filter-pattern" => {
                filters.push(Pattern::parse(&value()?).map_err(|err| err.to_string())?)
            }
            "--batch-size" => batch_size = number(&flag, &value()?)?,
            "--poll-millis" => poll_millis = number(&flag, &value()?)?,
            "--max-retries" => max_retries = number(&flag, &value()?)?,
            "--failures-file" => failures_file = PathBuf::from(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !(1..=MAX_BATCH_SIZE).contains(&batch_size) {
        return Err(format!("--batch-size must be from 1 to {MAX_BATCH_SIZE}"));
    }
    Ok(Command::Run(Config {
        table: table.ok_or("--table is required")?,
        invoke_url: invoke_url.ok_or("--invoke-url is required")?,
        filters,
        batch_size,
        poll_interval: Duration::from_millis(poll_millis),
        max_retries,
        failures_file,
    }))
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{flag} needs a whole number, got {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|arg| arg.to_string()))
    }

    #[test]
    fn defaults_follow_the_template() {
        let Ok(Command::Run(config)) = parse(&["--table", "t", "--invoke-url", "http://x/"]) else {
            panic!("should parse");
        };
        assert_eq!(config.table, "t");
        assert_eq!(config.invoke_url, "http://x/");
        assert!(config.filters.is_empty());
        assert_eq!(config.batch_size, 10);
        assert_eq!(config.poll_interval, Duration::from_millis(250));
        assert_eq!(config.max_retries, 20);
        assert_eq!(
            config.failures_file,
            PathBuf::from(".dev/failed-stream-records.jsonl")
        );
    }

    #[test]
    fn every_option_is_read() {
        let Ok(Command::Run(config)) = parse(&[
            "--invoke-url",
            "u",
            "--table",
            "t",
            "--filter-pattern",
            r#"{"eventName": ["INSERT"]}"#,
            "--filter-pattern",
            r#"{"eventName": ["MODIFY"]}"#,
            "--batch-size",
            "3",
            "--poll-millis",
            "50",
            "--max-retries",
            "0",
            "--failures-file",
            "/tmp/f.jsonl",
        ]) else {
            panic!("should parse");
        };
        assert_eq!(config.filters.len(), 2);
        assert_eq!(config.batch_size, 3);
        assert_eq!(config.poll_interval, Duration::from_millis(50));
        assert_eq!(config.max_retries, 0);
        assert_eq!(config.failures_file, PathBuf::from("/tmp/f.jsonl"));
    }

    #[test]
    fn bad_arguments_are_refused_with_a_reason() {
        for (args, expected) in [
            (&["--invoke-url", "u"][..], "--table is required"),
            (&["--table", "t"][..], "--invoke-url is required"),
            (&["--table"][..], "--table needs a value"),
            (
                &["--table", "t", "--invoke-url", "u", "--batch-size", "0"][..],
                "--batch-size must be",
            ),
            (
                &["--table", "t", "--invoke-url", "u", "--max-retries", "-1"][..],
                "whole number",
            ),
            (
                &["--table", "t", "--verbose"][..],
                "unknown argument --verbose",
            ),
            (
                &[
                    "--table",
                    "t",
                    "--invoke-url",
                    "u",
                    "--filter-pattern",
                    r#"{"a": [{"prefix": "x"}]}"#,
                ][..],
                r#"unsupported construct {"prefix":"x"}"#,
            ),
        ] {
            let err = parse(args).expect_err(expected);
            assert!(err.contains(expected), "{args:?}: {err}");
        }
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
    }
}
