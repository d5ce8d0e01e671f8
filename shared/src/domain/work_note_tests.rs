use super::*;
use crate::domain::backlog::Backlog;
use crate::domain::duration::Duration;
use crate::domain::record::tests::{sample_record, ticket};
use crate::domain::record::{DecidedIn, NotificationState};
use chrono::{TimeZone, Utc};

fn at(minute: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 28, 13, minute, 0).unwrap()
}

fn decided_in_pm_cloud() -> Decision {
    Decision {
        outcome: Outcome::Approved,
        duration: Some(Duration::Hours(4)),
        expires_at: None,
        decided_by: Some("carol.admin".into()),
        decided_at: at(5),
        notes: None,
        decided_in: DecidedIn::PmCloud,
    }
}

#[test]
fn a_fact_is_noted_once_whatever_its_state() {
    let record = sample_record("p-notes");
    let fact = Fact::Delivered { at: at(1) };
    let noted = record.with_note(&fact, at(1)).expect("a new fact is noted");
    assert_eq!(noted.work_notes.len(), 1);
    assert_eq!(
        (noted.work_notes[0].state, noted.work_notes[0].attempts),
        (NoteState::Written, 1),
        "noted as being written by its first call"
    );
    assert!(
        noted.work_notes[0].text.is_empty(),
        "a note being written keeps no text"
    );
    assert_eq!(
        noted.oldest_unwritten_note(),
        None,
        "nothing waits for the reconciler"
    );
    assert!(
        noted.with_note(&fact, at(2)).is_none(),
        "the same fact again"
    );
    let refused = noted
        .note_refused(&fact, at(1), at(2))
        .expect("the first call was refused");
    assert_eq!(refused.work_notes[0].state, NoteState::Pending);
    assert_eq!(refused.work_notes[0].text, fact.text());
    assert!(
        refused.note_refused(&fact, at(1), at(3)).is_none(),
        "a note is handed to the reconciler once"
    );
    assert!(
        refused.with_note(&fact, at(3)).is_none(),
        "a waiting fact is not noted again"
    );
    let written = refused
        .note_ended("delivered", NoteState::Written, 1, at(3))
        .unwrap();
    assert_eq!(written.work_notes[0].attempts, 2);
    assert!(
        written.work_notes[0].text.is_empty(),
        "a written note keeps no text"
    );
    assert!(
        written
            .note_ended("delivered", NoteState::Written, 1, at(5))
            .is_none(),
        "a note ends once"
    );
    assert!(
        noted.note_refused(&fact, at(0), at(2)).is_none(),
        "only the note noted at that time"
    );
}

#[test]
fn distinct_invalid_approvals_are_distinct_facts() {
    let record = sample_record("p-notes");
    let first = Fact::ApprovalNotApplied {
        problem: "\"4 days\" is not an admin session".into(),
    };
    let second = Fact::ApprovalNotApplied {
        problem: "\"forever\" is not allowed".into(),
    };
    let once = record.with_note(&first, at(1)).unwrap();
    let twice = once
        .with_note(&second, at(2))
        .expect("another problem is another fact");
    assert_eq!(twice.work_notes.len(), 2);
    assert!(twice.with_note(&first, at(3)).is_none());
}

#[test]
fn unwritten_notes_put_a_settled_request_in_the_work_notes_backlog() {
    let decided = sample_record("p-notes")
        .ticketed(ticket(), at(0))
        .unwrap()
        .decided(decided_in_pm_cloud(), ticket(), true, at(6))
        .unwrap();
    assert_eq!(
        decided.pm_cloud_notification, None,
        "a PM Cloud decision is never pushed back"
    );
    assert_eq!(decided.backlog(), None);
    let fact = Fact::DecidedInPmCloud(decided_in_pm_cloud());
    let noted = decided.with_note(&fact, at(7)).unwrap();
    assert_eq!(noted.backlog(), None, "its first call is under way");
    let noted = noted.note_refused(&fact, at(7), at(7)).unwrap();
    assert_eq!(
        noted.backlog(),
        Some((Backlog::FollowUps, at(7) + NOTE_GRACE))
    );
    assert_eq!(noted.work_notes[0].approval, Some(Outcome::Approved));
    let dropped = noted
        .note_ended("decided-in-pm-cloud", NoteState::Dropped, 3, at(8))
        .unwrap();
    assert_eq!(dropped.backlog(), None);
    assert_eq!(dropped.work_notes[0].attempts, 4);
}

fn refused() -> Fact {
    Fact::Refused {
        detail: "400".into(),
    }
}

#[test]
fn a_pending_push_comes_before_the_notes() {
    let mut decision = decided_in_pm_cloud();
    decision.decided_in = DecidedIn::ServiceNow;
    let decided = sample_record("p-notes")
        .ticketed(ticket(), at(0))
        .unwrap()
        .decided(decision, ticket(), true, at(6))
        .unwrap()
        .with_note(&refused(), at(7))
        .and_then(|noted| noted.note_refused(&refused(), at(7), at(7)))
        .unwrap();
    assert_eq!(decided.backlog(), Some((Backlog::Pushes, at(6))));
    let delivered = decided.push_ended(NotificationState::Delivered, None, 1, at(8));
    assert_eq!(
        delivered.backlog(),
        Some((Backlog::FollowUps, at(7) + NOTE_GRACE))
    );
}

#[test]
fn the_texts_say_what_happened() {
    let text = Fact::DecidedInPmCloud(decided_in_pm_cloud()).text();
    assert!(
        text.contains("approved (4 hours) in PM Cloud by carol.admin at 2026-11-28 13:05:00 UTC"),
        "{text}"
    );
    let text = Fact::Delivered { at: at(9) }.text();
    assert!(
        text.contains("accepted the decision at 2026-11-28 13:09:00 UTC"),
        "{text}"
    );
    let text = Fact::ApprovalNotApplied {
        problem: "\"4 days\" is not an admin session: write 2 hours".into(),
    }
    .text();
    assert!(
        text.contains("not applied") && text.contains("write 2 hours"),
        "{text}"
    );
    assert!(
        Fact::Refused {
            detail: "422 from PM Cloud".into()
        }
        .text()
        .contains("422 from PM Cloud")
    );
    let unnamed = Fact::Escalated {
        group: None,
        asked: Vec::new(),
    }
    .text();
    assert!(
        unnamed.contains(
            "escalated to the escalation group; it has no member who was not asked already."
        ),
        "{unnamed}"
    );
}
