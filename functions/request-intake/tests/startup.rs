//! The built binary refuses to start without its configuration, naming what is missing (CONTRACT §2),
//! before it contacts anything.

use std::process::Command;

fn start(env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_request-intake"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_missing_table_name_stops_the_function_with_its_name() {
    let (ok, stderr) = start(&[("SETTINGS_SECRET_ID", "settings")]);
    assert!(!ok);
    assert!(stderr.contains("TABLE_NAME"), "{stderr}");
}

#[test]
fn a_missing_or_malformed_secret_id_stops_the_function_with_its_name() {
    for value in [None, Some(""), Some("two words")] {
        let mut env = vec![("TABLE_NAME", "requests")];
        if let Some(value) = value {
            env.push(("SETTINGS_SECRET_ID", value));
        }
        let (ok, stderr) = start(&env);
        assert!(!ok, "{value:?}");
        assert!(stderr.contains("SETTINGS_SECRET_ID"), "{value:?}: {stderr}");
    }
}
