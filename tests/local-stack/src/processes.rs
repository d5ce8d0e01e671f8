//! Other processes, seen and signalled: the few calls the supervision needs, through `ps` (Linux and macOS alike)
//! and kill(2).

use std::process::Command;

/// SIGTERM: please stop.
pub const TERM: i32 = libc::SIGTERM;
/// SIGKILL: stop now.
pub const KILL: i32 = libc::SIGKILL;

/// Sends `signal` to process `pid`; true when it was delivered (the process exists and is ours to signal).
pub fn signal(pid: u32, signal: i32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // A pid of 0 or below would signal a whole group, or every process: never meant here.
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    pid > 0 && unsafe { libc::kill(pid, signal) } == 0
}

/// Sends `signal` to every process of the process group `group`; true when it reached one.
pub fn signal_group(group: u32, signal: i32) -> bool {
    let Ok(group) = libc::pid_t::try_from(group) else {
        return false;
    };
    // 0 and 1 are never a group this stack made (its groups are led by a child it spawned).
    // SAFETY: as in `signal`.
    group > 1 && unsafe { libc::kill(-group, signal) } == 0
}

/// True while process `pid` exists.
pub fn alive(pid: u32) -> bool {
    signal(pid, 0)
}

/// True while any process of group `group` exists.
pub fn group_alive(group: u32) -> bool {
    signal_group(group, 0)
}

/// The command line of `pid` as `ps` shows it, or empty when it is gone.
pub fn command_line(pid: u32) -> String {
    Command::new("ps")
        .args(["-o", "args=", "-p", &pid.to_string()])
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The process group of `pid`, while it exists.
pub fn group_of(pid: u32) -> Option<u32> {
    let output = Command::new("ps")
        .args(["-o", "pgid=", "-p", &pid.to_string()])
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

/// Every process below `roots` (children, their children, …), as `ps` lists them now.
pub fn descendants(roots: &[u32]) -> Vec<u32> {
    let Ok(output) = Command::new("ps").args(["-eo", "pid=,ppid="]).output() else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().map(str::parse::<u32>);
            Some((fields.next()?.ok()?, fields.next()?.ok()?))
        })
        .collect();
    below(roots, &parents)
}

/// The processes below `roots` in the `(pid, parent pid)` table.
fn below(roots: &[u32], parents: &[(u32, u32)]) -> Vec<u32> {
    let mut found: Vec<u32> = Vec::new();
    let mut frontier: Vec<u32> = roots.to_vec();
    while let Some(parent) = frontier.pop() {
        for (pid, _) in parents
            .iter()
            .filter(|(pid, ppid)| *ppid == parent && *pid != parent)
        {
            if !found.contains(pid) && !roots.contains(pid) {
                found.push(*pid);
                frontier.push(*pid);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendants_are_children_and_theirs() {
        let table = [
            (1, 0),
            (10, 1),
            (11, 10),
            (12, 11),
            (20, 1),
            (21, 20),
            (13, 10),
        ];
        let mut found = below(&[10], &table);
        found.sort_unstable();
        assert_eq!(found, vec![11, 12, 13]);
        assert!(below(&[99], &table).is_empty());
    }

    #[test]
    fn this_process_is_seen_and_no_group_of_init_is_signalled() {
        assert!(alive(std::process::id()));
        assert!(command_line(std::process::id()).contains("local_stack"));
        assert!(!signal_group(1, 0));
        assert!(!signal(0, 0));
    }
}
