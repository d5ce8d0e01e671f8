//! What PM Cloud's own record of a request says (CONTRACT §5 "Read back from PM Cloud"): the answer of
//! `GET …/AuthorizationRequest/{id}`, mapped onto the request the webhook announced.
//!
//! BeyondTrust confirms `requestInfo.user` and `requestInfo.created`; the other `requestInfo` names are inferred
//! from its webhook template (`hostName`, `productDescription`, `reason`, `workstyle`, `sha1Hash`, …). So every
//! name is read if present and ignored if not, matched without regard to case, and a value that is not a string,
//! number or boolean is left out. This file is the one place that knows these names: an administrator whose tenant
//! answers otherwise finds them here (and in the README's "confirm in your tenant" list).

use crate::domain::fields::MAX_STRING;
use crate::domain::request::{
    Application, Computer, MAX_DETAILS, MAX_REASON_TEXT, NewRequest, Policy, Reason, User,
    is_detail_key,
};
use serde_json::{Map, Value};

/// The values PM Cloud's record holds for a request, each `None` when the record does not have it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadBack {
    /// `requestInfo.user` (confirmed by BeyondTrust's API reference).
    pub user: Option<String>,
    pub host_name: Option<String>,
    pub product_description: Option<String>,
    pub reason: Option<String>,
    pub workstyle: Option<String>,
    /// 40 hexadecimal digits, lower-case; any other text is left out.
    pub sha1: Option<String>,
    /// The other `requestInfo` values, in the record's order, under keys a request's `details` may hold.
    pub others: Vec<(String, String)>,
}

/// `requestInfo` names that fill a field of their own, lower-cased; `created` is PM Cloud's time, not a detail.
const NAMED: [&str; 7] = [
    "user",
    "hostname",
    "productdescription",
    "reason",
    "workstyle",
    "sha1hash",
    "created",
];

impl ReadBack {
    /// Reads PM Cloud's record (`{"requestInfo": {...}, ...}`); anything unexpected simply gives fewer values.
    pub fn of(record: &Value) -> Self {
        let none = Map::new();
        let info = record
            .get("requestInfo")
            .and_then(Value::as_object)
            .unwrap_or(&none);
        let get = |name: &str| text_of(info, name, MAX_STRING);
        let others = info
            .iter()
            .filter(|(key, _)| !NAMED.contains(&key.to_ascii_lowercase().as_str()))
            .filter(|(key, _)| is_detail_key(key))
            .filter_map(|(key, value)| Some((key.clone(), text(value, MAX_STRING)?)))
            .take(MAX_DETAILS)
            .collect();
        Self {
            user: get("user"),
            host_name: get("hostname"),
            product_description: get("productdescription"),
            reason: text_of(info, "reason", MAX_REASON_TEXT),
            workstyle: get("workstyle"),
            sha1: get("sha1hash")
                .filter(|t| t.len() == 40 && t.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(|t| t.to_ascii_lowercase()),
            others,
        }
    }

    /// What PM Cloud's record confirmed, in the ticket's words: `user`, `computer`, `application`, `SHA-1`,
    /// `reason`, `workstyle`, `details`, as far as it had them.
    pub fn confirmed(&self) -> Vec<&'static str> {
        [
            ("user", self.user.is_some()),
            ("computer", self.host_name.is_some()),
            ("application", self.product_description.is_some()),
            ("SHA-1", self.sha1.is_some()),
            ("reason", self.reason.is_some()),
            ("workstyle", self.workstyle.is_some()),
            ("details", !self.others.is_empty()),
        ]
        .into_iter()
        .filter_map(|(name, had)| had.then_some(name))
        .collect()
    }

    /// `request` with PM Cloud's values in place of the webhook's where PM Cloud has them; PM Cloud's other values
    /// join `details` (replacing an entry of the same name, else after the webhook's, at most
    /// [`MAX_DETAILS`] in all). What the ticket shows; the stored request keeps what was submitted.
    pub fn confirm(&self, request: &NewRequest) -> NewRequest {
        let mut shown = request.clone();
        let user = shown.user.get_or_insert_with(User::default);
        replace(&mut user.name, &self.user);
        let computer = shown.computer.get_or_insert_with(Computer::default);
        replace(&mut computer.host_name, &self.host_name);
        let application = shown.application.get_or_insert_with(Application::default);
        replace(&mut application.name, &self.product_description);
        replace(&mut application.sha1, &self.sha1);
        let reason = shown.reason.get_or_insert_with(Reason::default);
        replace(&mut reason.text, &self.reason);
        let policy = shown.policy.get_or_insert_with(Policy::default);
        replace(&mut policy.workstyle, &self.workstyle);
        for (key, value) in &self.others {
            let room = shown.details.len() < MAX_DETAILS;
            match shown
                .details
                .iter_mut()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
            {
                Some((_, kept)) => kept.clone_from(value),
                None if room => shown.details.push((key.clone(), value.clone())),
                None => {}
            }
        }
        // A part PM Cloud filled nothing into stays absent, as the webhook left it.
        shown.user = shown.user.filter(|u| *u != User::default());
        shown.computer = shown.computer.filter(|c| *c != Computer::default());
        shown.application = shown.application.filter(|a| *a != Application::default());
        shown.reason = shown.reason.filter(|r| *r != Reason::default());
        shown.policy = shown.policy.filter(|p| *p != Policy::default());
        shown
    }
}

fn replace(field: &mut Option<String>, confirmed: &Option<String>) {
    if confirmed.is_some() {
        field.clone_from(confirmed);
    }
}

/// The value under `name` (lower-case), matched without regard to case, as text of at most `max` characters.
pub(super) fn text_of(object: &Map<String, Value>, name: &str, max: usize) -> Option<String> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .and_then(|(_, value)| text(value, max))
}

/// A string (not blank, at most `max` characters, as the request's field allows), a number or a boolean, as text.
pub(super) fn text(value: &Value, max: usize) -> Option<String> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        _ => return None,
    };
    (!text.trim().is_empty() && text.chars().count() <= max).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn webhook() -> NewRequest {
        let body = json!({"pmcRequestId": "r-1", "user": {"name": "ACME\\jdoe", "email": "jdoe@acme.example"},
            "application": {"name": "Wireshark"}, "details": {"EventType": "Created", "DriveType": "Fixed"}});
        NewRequest::parse(body.as_object().unwrap(), false).unwrap()
    }

    #[test]
    fn pm_clouds_values_replace_the_webhooks_where_it_has_them() {
        let record = json!({"id": "r-1", "requestInfo": {
            "user": "ACME\\jdoe2", "HostName": "LT-0042", "productDescription": "Wireshark Network Analyzer",
            "reason": "capture", "workstyle": "Developers", "sha1Hash": "A94A8FE5CCB19BA61C4C0873D391E987982FBBD3",
            "created": "2026-12-07T12:04:05Z", "driveType": "Network", "uacTriggered": true, "nested": {"x": 1},
            "bad key": "x", "empty": " "
        }, "accessDecision": {"status": 1000}});
        let read = ReadBack::of(&record);
        assert_eq!(
            read.confirmed(),
            [
                "user",
                "computer",
                "application",
                "SHA-1",
                "reason",
                "workstyle",
                "details"
            ]
        );
        assert_eq!(read.user.as_deref(), Some("ACME\\jdoe2"));
        assert_eq!(
            read.sha1.as_deref(),
            Some("a94a8fe5ccb19ba61c4c0873d391e987982fbbd3")
        );
        assert_eq!(
            read.others,
            [("driveType", "Network"), ("uacTriggered", "true")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        let shown = read.confirm(&webhook());
        let user = shown.user.as_ref().unwrap();
        assert_eq!(user.name.as_deref(), Some("ACME\\jdoe2"));
        assert_eq!(
            user.email.as_deref(),
            Some("jdoe@acme.example"),
            "kept where PM Cloud is silent"
        );
        assert_eq!(
            shown.computer.unwrap().host_name.as_deref(),
            Some("LT-0042")
        );
        assert_eq!(
            shown.application.unwrap().name.as_deref(),
            Some("Wireshark Network Analyzer")
        );
        assert_eq!(shown.reason.unwrap().text.as_deref(), Some("capture"));
        assert_eq!(
            shown.details,
            [
                ("EventType", "Created"),
                ("DriveType", "Network"),
                ("uacTriggered", "true")
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn a_reason_up_to_4000_characters_is_pm_clouds_and_confirmed_only_as_far_as_it_goes() {
        let long = "r".repeat(4000);
        let read = ReadBack::of(&json!({"requestInfo": {"reason": long, "user": "ACME\\jdoe"}}));
        assert_eq!(read.reason.as_deref(), Some(long.as_str()));
        assert_eq!(read.confirmed(), ["user", "reason"]);
        let too_long = ReadBack::of(&json!({"requestInfo": {"reason": "r".repeat(4001)}}));
        assert_eq!(too_long.confirmed(), Vec::<&str>::new());
        assert_eq!(too_long.reason, None);
    }

    #[test]
    fn a_record_without_request_info_changes_nothing() {
        for record in [
            json!({}),
            json!({"requestInfo": "x"}),
            json!([1]),
            json!({"requestInfo": {"sha1Hash": "short"}}),
        ] {
            let read = ReadBack::of(&record);
            assert_eq!(read.confirm(&webhook()), webhook(), "{record}");
        }
    }
}
