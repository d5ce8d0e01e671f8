use super::*;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::json;

fn text(s: &str) -> Result<Option<Duration>, DurationError> {
    Duration::from_servicenow_text(s)
}

#[test]
fn reads_every_text_form_case_insensitively() {
    let cases = [
        ("once", Duration::Once),
        ("ONCE", Duration::Once),
        ("Forever", Duration::Forever),
        ("4 hours", Duration::Hours(4)),
        ("1 hour", Duration::Hours(1)),
        ("2 days", Duration::Days(2)),
        ("1 Day", Duration::Days(1)),
        ("3 months", Duration::Months(3)),
        ("1 month", Duration::Months(1)),
        ("PT4H", Duration::Hours(4)),
        ("pt24h", Duration::Hours(24)),
        ("P2D", Duration::Days(2)),
        ("P3M", Duration::Months(3)),
        ("  12 MONTHS ", Duration::Months(12)),
        ("90 minutes", Duration::Minutes(90)),
        ("1440 Minutes", Duration::Minutes(1440)),
        ("5 minute", Duration::Minutes(5)),
        ("90 min", Duration::Minutes(90)),
        ("90 MINS", Duration::Minutes(90)),
        ("PT90M", Duration::Minutes(90)),
        ("pt5m", Duration::Minutes(5)),
    ];
    for (input, expected) in cases {
        assert_eq!(text(input), Ok(Some(expected)), "{input}");
    }
}

#[test]
fn empty_text_means_the_default() {
    assert_eq!(text(""), Ok(None));
    assert_eq!(text("   "), Ok(None));
}

#[test]
fn refuses_text_out_of_range_or_unreadable() {
    for input in [
        "0 hours",
        "25 hours",
        "32 days",
        "13 months",
        "PT0H",
        "PT4M",
        "4 minutes",
        "1441 min",
        "PT1441M",
        "PT25H",
        "P13M",
        "P0D",
    ] {
        assert!(
            matches!(text(input), Err(DurationError::OutOfRange { .. })),
            "{input}"
        );
    }
    for input in [
        "soon",
        "4",
        "hours",
        "4.5 hours",
        "-1 hours",
        "+4 hours",
        "4 weeks",
        "P1W",
        "P",
        "PT",
        "4 hours please",
        "P1Y",
        "P4H",
    ] {
        assert!(
            matches!(text(input), Err(DurationError::Unreadable(_))),
            "{input}"
        );
    }
}

#[test]
fn reads_the_json_form() {
    assert_eq!(
        Duration::from_json(&json!({"type": "once"}), "d"),
        Ok(Duration::Once)
    );
    assert_eq!(
        Duration::from_json(&json!({"type": "forever"}), "d"),
        Ok(Duration::Forever)
    );
    assert_eq!(
        Duration::from_json(&json!({"type": "hours", "value": 4}), "d"),
        Ok(Duration::Hours(4))
    );
    assert_eq!(
        Duration::from_json(&json!({"type": "days", "value": 31}), "d"),
        Ok(Duration::Days(31))
    );
    assert_eq!(
        Duration::from_json(&json!({"type": "months", "value": 12}), "d"),
        Ok(Duration::Months(12))
    );
    assert_eq!(
        Duration::from_json(&json!({"type": "minutes", "value": 90}), "d"),
        Ok(Duration::Minutes(90))
    );
}

#[test]
fn refuses_bad_json_forms_naming_the_field() {
    let field = |v: Value| {
        Duration::from_json(&v, "requestedDuration").unwrap_err()[0]
            .field
            .clone()
    };
    assert_eq!(
        field(json!({"type": "hours", "value": 0})),
        "requestedDuration.value"
    );
    assert_eq!(
        field(json!({"type": "hours", "value": 25})),
        "requestedDuration.value"
    );
    assert_eq!(
        field(json!({"type": "days", "value": 32})),
        "requestedDuration.value"
    );
    assert_eq!(
        field(json!({"type": "months", "value": 13})),
        "requestedDuration.value"
    );
    assert_eq!(
        field(json!({"type": "hours", "value": 1.5})),
        "requestedDuration.value"
    );
    assert_eq!(
        field(json!({"type": "hours", "value": -1})),
        "requestedDuration.value"
    );
    assert_eq!(
        field(json!({"type": "hours", "value": "4"})),
        "requestedDuration.value"
    );
    assert_eq!(field(json!({"type": "hours"})), "requestedDuration.value");
    assert_eq!(
        field(json!({"type": "weeks", "value": 1})),
        "requestedDuration.type"
    );
    assert_eq!(
        field(json!({"type": "hour", "value": 1})),
        "requestedDuration.type"
    );
    assert_eq!(
        field(json!({"type": "minutes", "value": 4})),
        "requestedDuration.value"
    );
    assert_eq!(
        field(json!({"type": "minutes", "value": 1441})),
        "requestedDuration.value"
    );
    assert_eq!(
        field(json!({"type": "min", "value": 90})),
        "requestedDuration.type"
    );
    assert_eq!(field(json!({"value": 1})), "requestedDuration.type");
    assert_eq!(field(json!({"type": 4})), "requestedDuration.type");
    assert_eq!(field(json!("4 hours")), "requestedDuration");
}

#[test]
fn serialises_to_the_contract_form() {
    assert_eq!(
        serde_json::to_value(Duration::Hours(4)).unwrap(),
        json!({"type": "hours", "value": 4})
    );
    assert_eq!(
        serde_json::to_value(Duration::Once).unwrap(),
        json!({"type": "once"})
    );
    assert!(serde_json::from_value::<Duration>(json!({"type": "hours", "value": 30})).is_err());
}

#[test]
fn expiry_adds_hours_days_and_calendar_months() {
    let at = |y, m, d, h| Utc.with_ymd_and_hms(y, m, d, h, 4, 5).unwrap();
    let decided = at(2026, 11, 28, 12);
    assert_eq!(
        Duration::Hours(4).expires_at(decided),
        Ok(Some(at(2026, 11, 28, 16)))
    );
    assert_eq!(
        Duration::Days(3).expires_at(decided),
        Ok(Some(at(2026, 12, 1, 12)))
    );
    assert_eq!(
        Duration::Months(3).expires_at(decided),
        Ok(Some(at(2027, 2, 28, 12)))
    );
    assert_eq!(
        Duration::Months(1).expires_at(at(2027, 1, 31, 9)),
        Ok(Some(at(2027, 2, 28, 9)))
    );
    assert_eq!(
        Duration::Months(1).expires_at(at(2028, 1, 31, 9)),
        Ok(Some(at(2028, 2, 29, 9)))
    );
    assert_eq!(
        Duration::Months(12).expires_at(at(2028, 2, 29, 9)),
        Ok(Some(at(2029, 2, 28, 9)))
    );
    assert_eq!(Duration::Once.expires_at(decided), Ok(None));
    assert_eq!(Duration::Forever.expires_at(decided), Ok(None));
}

#[test]
fn expiry_never_panics_and_an_end_past_the_calendar_is_invalid() {
    let last = chrono::DateTime::<Utc>::MAX_UTC;
    for d in [
        Duration::Minutes(5),
        Duration::Hours(1),
        Duration::Days(1),
        Duration::Months(1),
    ] {
        assert_eq!(
            d.expires_at(last),
            Err(DurationError::EndsOutOfRange),
            "{d}"
        );
    }
    let decided = Utc.with_ymd_and_hms(2026, 11, 28, 12, 4, 5).unwrap();
    assert_eq!(
        Duration::Minutes(90).expires_at(decided),
        Ok(Some(Utc.with_ymd_and_hms(2026, 11, 28, 13, 34, 5).unwrap()))
    );
}

fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::Once),
        Just(Duration::Forever),
        (5u16..=1440).prop_map(Duration::Minutes),
        (1u16..=24).prop_map(Duration::Hours),
        (1u16..=31).prop_map(Duration::Days),
        (1u16..=12).prop_map(Duration::Months),
    ]
}

proptest! {
    #[test]
    fn text_form_round_trips(d in any_duration()) {
        prop_assert_eq!(text(&d.to_string()), Ok(Some(d)));
        prop_assert_eq!(text(&d.to_string().to_uppercase()), Ok(Some(d)));
    }

    #[test]
    fn json_form_round_trips(d in any_duration()) {
        let json = serde_json::to_value(d).unwrap();
        prop_assert_eq!(Duration::from_json(&json, "d"), Ok(d));
    }

    #[test]
    fn ranges_hold_at_every_value(n in 0u64..2000) {
        prop_assert_eq!(Duration::minutes(n).is_ok(), (5..=1440).contains(&n));
        prop_assert_eq!(text(&format!("PT{n}M")).is_ok(), (5..=1440).contains(&n));
        prop_assert_eq!(text(&format!("{n} min")).is_ok(), (5..=1440).contains(&n));
        prop_assert_eq!(Duration::hours(n).is_ok(), (1..=24).contains(&n));
        prop_assert_eq!(Duration::days(n).is_ok(), (1..=31).contains(&n));
        prop_assert_eq!(Duration::months(n).is_ok(), (1..=12).contains(&n));
        prop_assert_eq!(text(&format!("PT{n}H")).is_ok(), (1..=24).contains(&n));
        prop_assert_eq!(text(&format!("{n} days")).is_ok(), (1..=31).contains(&n));
        prop_assert_eq!(text(&format!("P{n}M")).is_ok(), (1..=12).contains(&n));
    }

    #[test]
    fn months_never_overflow_into_the_next_month(day in 1u32..=31, months in 1u16..=12) {
        let start = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::days(i64::from(day - 1));
        let end = Duration::Months(months).expires_at(start).unwrap().unwrap();
        let expected_month = (u32::from(months)) % 12 + 1;
        prop_assert_eq!(chrono::Datelike::month(&end), expected_month);
    }
}

#[test]
fn seconds_granted_in_pm_cloud_take_the_first_exact_form() {
    use Duration::*;
    for (seconds, admin, expected) in [
        (300, true, Minutes(5)),
        (5400, true, Minutes(90)),
        (3600, true, Minutes(60)),
        (86_400, true, Minutes(1440)),
        (3600, false, Hours(1)),
        (14_400, false, Hours(4)),
        (86_400, false, Hours(24)),
        (172_800, true, Days(2)),
        (2_678_400, false, Days(31)),
        (5400, false, Days(1)),
        (90 * 86_400, false, Days(90)),
        (1, false, Days(1)),
        (0, false, Days(1)),
        (u64::MAX, false, Days(u16::MAX)),
    ] {
        assert_eq!(
            Duration::granted_seconds(seconds, admin),
            expected,
            "{seconds} s, admin {admin}"
        );
    }
}
