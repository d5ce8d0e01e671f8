//! ServiceNow's wire shapes: the Table API's `{"result": …}` envelope and its error body as serde types, and its
//! date-time form (ServiceNow's REST API reference, "Table API"). The OAuth answers are RFC 6749's
//! ([`crate::outbound::token`]).

use crate::domain::time::Timestamp;
use chrono::NaiveDateTime;
use serde::Deserialize;

/// ServiceNow's date-time form (`sys_updated_on`, and literals in encoded queries): `YYYY-MM-DD HH:MM:SS`, UTC.
const DATETIME: &str = "%Y-%m-%d %H:%M:%S";

/// Reads ServiceNow's `YYYY-MM-DD HH:MM:SS` (UTC); `None` for any other text.
pub fn parse_datetime(text: &str) -> Option<Timestamp> {
    NaiveDateTime::parse_from_str(text.trim(), DATETIME)
        .ok()
        .map(|naive| naive.and_utc())
}

/// Writes `at` as ServiceNow's `YYYY-MM-DD HH:MM:SS` (UTC), as an encoded query compares it.
pub fn format_datetime(at: &Timestamp) -> String {
    at.format(DATETIME).to_string()
}

/// `{"result": …}`: every Table API answer wraps its record (or list of records) in this.
#[derive(Deserialize)]
pub(crate) struct Envelope<T> {
    pub result: T,
}

/// `{"error": {"message", "detail"}, "status": "failure"}`.
#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Deserialize)]
pub(crate) struct ErrorDetail {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
}

/// The encoded query of one keyset page (CONTRACT §13 v3): the records matching `ours` updated at or after `since`,
/// or, after the record `after` ended the page before, those past it in the order `sys_updated_on`, then `sys_id`.
/// `^NQ` ("new query") joins the two halves of the keyset condition: ServiceNow's OR of whole queries. Plain
/// date-time literals compare in UTC (a `gs.dateGenerate` one would be the user's time zone).
pub(super) fn keyset_query(
    ours: &str,
    since: Timestamp,
    after: Option<(Timestamp, &crate::domain::ids::SysId)>,
) -> String {
    let order = "ORDERBYsys_updated_on^ORDERBYsys_id";
    match after {
        None => format!("{ours}^sys_updated_on>={}^{order}", format_datetime(&since)),
        Some((at, sys_id)) => {
            let at = format_datetime(&at);
            format!(
                "{ours}^sys_updated_on>{at}^NQ{ours}^sys_updated_on={at}^sys_id>{sys_id}^{order}"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn reads_servicenow_datetimes_as_utc() {
        let at = parse_datetime("2026-11-28 12:04:05").unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 11, 28, 12, 4, 5).unwrap());
        assert_eq!(format_datetime(&at), "2026-11-28 12:04:05");
        assert_eq!(parse_datetime("28/11/2026 12:04"), None);
        assert_eq!(parse_datetime(""), None);
    }
}
