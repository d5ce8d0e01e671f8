//! `servicenow.approvals` (CONTRACT §2, §15 v3): approval records for a group of approvers, and deadlines that
//! remind, escalate and expire, each a number of hours after the ticket was created.

use crate::domain::fields::{Collector, ObjectReader};
use crate::domain::ids::SysId;
use serde_json::Value;

/// The longest deadline accepted: a year, in hours (a longer one is surely a slip).
const MAX_HOURS: f64 = 24.0 * 366.0;

/// `approvals`: every part optional; the deadlines, where given, in the order remind < escalate < expire.
#[derive(Debug, Clone, PartialEq)]
pub struct Approvals {
    /// `approverGroup`: each active member gets an approval record on every ticket.
    pub approver_group: Option<SysId>,
    /// `remindAfterHours`: a work note names who has not answered.
    pub remind_after: Option<chrono::Duration>,
    /// `escalateAfterHours`: the members of [`Self::escalation_group`] get approval records too.
    pub escalate_after: Option<chrono::Duration>,
    pub escalation_group: Option<SysId>,
    /// `expireAfterHours`: a request still undecided becomes `expired`, told to PM Cloud as a denial.
    pub expire_after: Option<chrono::Duration>,
}

/// Reads `approvals` under `o`, collecting errors in `c`; `None` when it is absent or broken.
pub(super) fn read_approvals(c: &mut Collector, o: &ObjectReader<'_>) -> Option<Approvals> {
    let a = c.object(o, "approvals", false)?;
    let errors_before = c.error_count();
    let group = |c: &mut Collector, key: &str| {
        c.parsed(&a, key, false, 32, |t| {
            SysId::parse(t)
                .map_err(|_| "must be the sys_id (32 hexadecimal digits) of a sys_user_group")
        })
    };
    let approver_group = group(c, "approverGroup");
    let escalation_group = group(c, "escalationGroup");
    let remind_after = hours(c, &a, "remindAfterHours");
    let escalate_after = hours(c, &a, "escalateAfterHours");
    let expire_after = hours(c, &a, "expireAfterHours");
    let ordered = [
        ("remindAfterHours", remind_after),
        ("escalateAfterHours", escalate_after),
        ("expireAfterHours", expire_after),
    ];
    let given: Vec<(&str, chrono::Duration)> = ordered
        .iter()
        .filter_map(|(key, hours)| Some((*key, (*hours)?)))
        .collect();
    for pair in given.windows(2) {
        let ((earlier, a_hours), (later, b_hours)) = (pair[0], pair[1]);
        if a_hours >= b_hours {
            c.push(
                a.child_path(later),
                format!("must be more hours than {earlier}: remind, then escalate, then expire"),
            );
        }
    }
    if escalate_after.is_some() != escalation_group.is_some() {
        let (key, message) = if escalate_after.is_some() {
            (
                "escalationGroup",
                "is required with escalateAfterHours: whom to escalate to",
            )
        } else {
            (
                "escalateAfterHours",
                "is required with escalationGroup: when to escalate",
            )
        };
        c.push(a.child_path(key), message);
    }
    (c.error_count() == errors_before).then_some(Approvals {
        approver_group,
        remind_after,
        escalate_after,
        escalation_group,
        expire_after,
    })
}

/// A number of hours > 0 (fractions allowed: `0.05` is 3 minutes) at `key`, as a duration to the millisecond.
fn hours(c: &mut Collector, o: &ObjectReader<'_>, key: &str) -> Option<chrono::Duration> {
    let value = o.get(key)?;
    match value.as_f64() {
        Some(hours) if value.is_number() && hours > 0.0 && hours <= MAX_HOURS => Some(
            chrono::Duration::milliseconds((hours * 3_600_000.0).round() as i64),
        ),
        _ if matches!(value, Value::Null) => None,
        _ => {
            c.push(
                o.child_path(key),
                format!("must be a number of hours above 0 and at most {MAX_HOURS}"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::base_url::Hosts;
    use crate::domain::settings::ServiceNowSettings;
    use crate::domain::settings::tests::servicenow_json;
    use serde_json::{Value, json};

    fn with_approvals(approvals: Value) -> Result<ServiceNowSettings, Vec<String>> {
        let mut settings: Value = servicenow_json("https://acme.service-now.com");
        settings["approvals"] = approvals;
        ServiceNowSettings::parse(&settings, Hosts::Public).map_err(|errors| {
            errors
                .into_iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect()
        })
    }

    const GROUP: &str = "0a52d3dcd7011200f2d224837e6103f2";

    #[test]
    fn fractions_of_hours_and_every_part_optional() {
        let settings =
            with_approvals(json!({"remindAfterHours": 0.05, "expireAfterHours": 0.1})).unwrap();
        let approvals = settings.approvals.unwrap();
        assert_eq!(approvals.remind_after, Some(chrono::Duration::minutes(3)));
        assert_eq!(approvals.expire_after, Some(chrono::Duration::minutes(6)));
        assert_eq!(approvals.approver_group, None);
        let none = with_approvals(json!({})).unwrap().approvals.unwrap();
        assert_eq!(none.expire_after, None);
        assert!(with_approvals(Value::Null).unwrap().approvals.is_none());
    }

    #[test]
    fn the_deadlines_keep_their_order_and_an_escalation_names_its_group() {
        let full = json!({"approverGroup": GROUP, "remindAfterHours": 4, "escalateAfterHours": 8,
            "escalationGroup": GROUP, "expireAfterHours": 24});
        assert!(with_approvals(full).is_ok());
        for (approvals, field) in [
            (
                json!({"remindAfterHours": 8, "expireAfterHours": 4}),
                "servicenow.approvals.expireAfterHours",
            ),
            (
                json!({"remindAfterHours": 4, "escalateAfterHours": 4, "escalationGroup": GROUP}),
                "servicenow.approvals.escalateAfterHours",
            ),
            (
                json!({"escalateAfterHours": 4}),
                "servicenow.approvals.escalationGroup",
            ),
            (
                json!({"escalationGroup": GROUP}),
                "servicenow.approvals.escalateAfterHours",
            ),
            (
                json!({"remindAfterHours": 0}),
                "servicenow.approvals.remindAfterHours",
            ),
            (
                json!({"remindAfterHours": -1}),
                "servicenow.approvals.remindAfterHours",
            ),
            (
                json!({"remindAfterHours": "4"}),
                "servicenow.approvals.remindAfterHours",
            ),
            (
                json!({"approverGroup": "admins"}),
                "servicenow.approvals.approverGroup",
            ),
        ] {
            let errors = with_approvals(approvals.clone()).unwrap_err();
            assert!(
                errors.iter().any(|e| e.starts_with(field)),
                "{approvals}: {errors:?}"
            );
        }
    }
}
