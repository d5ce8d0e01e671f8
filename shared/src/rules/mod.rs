//! Each function's rules, named after the function they serve. A rules module takes parsed, typed input and
//! returns a typed outcome or a typed error; it talks to the outside only through the store, settings and
//! ServiceNow ports, and knows nothing of HTTP or Lambda (the functions' handlers and the HTTP edge map both
//! ways).

pub mod approvals;
pub mod decision_notifier;
pub mod pace;
pub mod pmcloud_mirror;
pub mod reconciler;
pub mod request_intake;
pub mod settings_validator;
pub mod stream;
pub mod ticket_callback;
pub mod ticket_creator;
pub mod work_notes;

#[cfg(test)]
mod redaction_tests;
