//! Whether a port of 127.0.0.1 is free, who holds it, and the message that names the variable to change.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

/// True when something answers on 127.0.0.1:`port` or the port cannot be bound there. Connections of a previous
/// run in TIME_WAIT do not count as a holder (std binds with `SO_REUSEADDR`, as servers do).
pub fn in_use(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
        || TcpListener::bind(addr).is_err()
}

/// Every port of `planned` must be free now: whoever else answers there would be taken for a piece.
///
/// # Errors
/// [`taken_message`] for the first port in use.
pub fn ensure_free(planned: &[(&'static str, u16)]) -> Result<(), String> {
    match planned.iter().find(|(_, port)| in_use(*port)) {
        Some((variable, port)) => Err(taken(*port, variable)),
        None => Ok(()),
    }
}

/// The message for `port`, taken, as seen now: who holds it (when `lsof` or `ss` can tell) and the next free port
/// from `port + 55` to suggest.
pub fn taken(port: u16, variable: &str) -> String {
    let holders: Vec<String> = listener_pids(port)
        .unwrap_or_default()
        .into_iter()
        .map(describe_pid)
        .collect();
    let mut suggestion = port.saturating_add(55);
    while in_use(suggestion) && suggestion < u16::MAX {
        suggestion += 1;
    }
    taken_message(port, variable, &holders.join("; "), suggestion)
}

/// `port N is in use (held by …); set VARIABLE=SUGGESTION (or another free port)`. `holders` is empty when no
/// tool could tell. macOS's AirPlay Receiver (ControlCenter) listens on 5000, moto's default port.
pub fn taken_message(port: u16, variable: &str, holders: &str, suggestion: u16) -> String {
    let holder = match (port, holders) {
        (5000, "") => "macOS AirPlay uses it".to_string(),
        (_, "") => String::new(),
        (5000, held) if held.contains("ControlCenter") => format!("held by {held}: macOS AirPlay"),
        (_, held) => format!("held by {held}"),
    };
    let holder = if holder.is_empty() {
        holder
    } else {
        format!(" ({holder})")
    };
    format!("port {port} is in use{holder}; set {variable}={suggestion} (or another free port)")
}

/// The pids listening on TCP `port` that this user may see (`lsof`, else `ss`); `None` when neither is installed.
pub fn listener_pids(port: u16) -> Option<Vec<u32>> {
    let lsof = Command::new("lsof")
        .args(["-nP", &format!("-iTCP:{port}"), "-sTCP:LISTEN", "-t"])
        .output();
    let text = match lsof {
        Ok(output) => String::from_utf8_lossy(&output.stdout).into_owned(),
        Err(_) => {
            let output = Command::new("ss")
                .args(["-Hltnp", &format!("sport = :{port}")])
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.split("pid=")
                .skip(1)
                .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    let mut pids: Vec<u32> = text
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    Some(pids)
}

/// `pid 123: its command line` (cut to 80 characters), for messages.
pub fn describe_pid(pid: u32) -> String {
    let args = crate::processes::command_line(pid);
    let args: String = args.chars().take(80).collect();
    if args.is_empty() {
        format!("pid {pid}")
    } else {
        format!("pid {pid}: {args}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_variable_and_a_free_port() {
        assert_eq!(
            taken_message(
                9080,
                "DEV_API_PORT",
                "pid 42: python3 -m http.server 9080",
                9135
            ),
            "port 9080 is in use (held by pid 42: python3 -m http.server 9080); set DEV_API_PORT=9135 \
             (or another free port)"
        );
        assert_eq!(
            taken_message(8089, "DEV_SIM_PORT", "", 8144),
            "port 8089 is in use; set DEV_SIM_PORT=8144 (or another free port)"
        );
    }

    #[test]
    fn port_5000_is_macos_airplay_when_nothing_else_says_so() {
        assert_eq!(
            taken_message(5000, "DEV_MOTO_PORT", "", 5055),
            "port 5000 is in use (macOS AirPlay uses it); set DEV_MOTO_PORT=5055 (or another free port)"
        );
        assert_eq!(
            taken_message(5000, "DEV_MOTO_PORT", "pid 7: /System/ControlCenter", 5055),
            "port 5000 is in use (held by pid 7: /System/ControlCenter: macOS AirPlay); set \
             DEV_MOTO_PORT=5055 (or another free port)"
        );
    }

    #[test]
    fn a_port_held_here_is_seen_and_named() {
        let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = held.local_addr().unwrap().port();
        assert!(in_use(port));
        assert_eq!(
            ensure_free(&[("DEV_WATCH_PORT", port)])
                .unwrap_err()
                .split(';')
                .next_back()
                .map(str::trim)
                .map(|tail| tail.starts_with("set DEV_WATCH_PORT=")),
            Some(true)
        );
        drop(held);
        assert!(!in_use(port));
    }
}
