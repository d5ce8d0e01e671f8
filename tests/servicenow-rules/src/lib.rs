//! The ServiceNow side of the connector as it ships in `servicenow/`: the update set an administrator imports
//! ([`update_set`], generated from the business rules' script by `cargo run -p servicenow-rules --bin
//! write-update-set`), and [`node`], which runs that script under Node with a shim of the Glide APIs, so that tests
//! exercise the JavaScript ServiceNow runs rather than a Rust imitation of it.

pub mod node;
pub mod update_set;

use std::path::PathBuf;

/// The repository's root, which the paths of [`update_set`] are relative to.
pub fn repository_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The shipped text of `path` (relative to the repository's root).
///
/// Panics when the file cannot be read: the tests read only files that ship.
pub fn shipped(path: &str) -> String {
    let full = repository_root().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}
