//! Writes `servicenow/pm-cloud-connector.xml` from `servicenow/business-rule.js` and the records of
//! `servicenow_rules::update_set`. Run it after changing either: `cargo run -p servicenow-rules --bin
//! write-update-set`; a test fails while the file and its sources disagree.

use servicenow_rules::update_set::{SCRIPT_FILE, UPDATE_SET_FILE, update_set_xml};
use servicenow_rules::{repository_root, shipped};

fn main() -> std::io::Result<()> {
    let path = repository_root().join(UPDATE_SET_FILE);
    std::fs::write(&path, update_set_xml(&shipped(SCRIPT_FILE)))?;
    println!("wrote {}", path.display());
    Ok(())
}
