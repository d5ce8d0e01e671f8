//! The connector's vocabulary and its pure rules: what a request is, where it stands and how it may move, how
//! long an approval lasts, what a ticket says, what the settings hold. Nothing here does I/O or knows of HTTP,
//! Lambda, DynamoDB or ServiceNow's wire format; every type holds only valid values, parsed once where it enters.

pub mod approval;
pub mod backlog;
pub mod base_url;
pub mod deadline;
pub mod duration;
pub mod fields;
pub mod ids;
pub mod record;
pub mod redact;
pub mod request;
pub mod settings;
pub mod status;
pub mod ticket;
pub mod ticket_content;
pub mod ticket_state;
pub mod time;
pub mod work_note;
