//! Work notes ServiceNow could not take at first, written by the reconciler's later runs, or dropped after 24
//! hours (CONTRACT §14), against the in-memory store and the ServiceNow simulator.

use crate::domain::record::RequestRecord;
use crate::domain::work_note::{Fact, NoteState};
use crate::rules::reconciler::tests::{current, minutes_ago, run, ticketed, world};
use crate::store::RequestStore;

/// `record` with `fact` noted `minutes` ago and refused by ServiceNow at its first call (so waiting), stored.
async fn noted_long_ago(
    w: &crate::rules::reconciler::tests::World,
    record: &RequestRecord,
    fact: &Fact,
    minutes: i64,
) {
    let stored = current(&w.store, &record.id).await;
    let at = minutes_ago(minutes);
    let noted = stored
        .with_note(fact, at)
        .and_then(|noted| noted.note_refused(fact, at, at))
        .unwrap();
    w.store.replace(&noted).await.unwrap();
}

#[tokio::test]
async fn a_note_left_unwritten_is_written_by_a_later_run_once() {
    let w = world().await;
    let (record, sys_id) = ticketed(&w, "note-later").await;
    let fact = Fact::ApprovalNotApplied {
        problem: "u_pm_duration: 45 minutes is not for applications".into(),
    };
    noted_long_ago(&w, &record, &fact, 11).await;

    let swept = run(&w).await;
    assert_eq!(swept.follow_ups, 1, "{swept:?}");
    let stored = current(&w.store, &record.id).await;
    assert_eq!(stored.work_notes[0].state, NoteState::Written);
    assert_eq!(
        stored.work_notes[0].attempts, 2,
        "the first call, then the reconciler's"
    );
    let notes = w.sn.work_notes("incident", &sys_id).unwrap();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0]
            .value
            .contains("45 minutes is not for applications")
    );

    let again = run(&w).await;
    assert_eq!(again.follow_ups, 0);
    assert_eq!(w.sn.work_notes("incident", &sys_id).unwrap().len(), 1);
}

#[tokio::test]
async fn a_note_younger_than_the_stranded_threshold_is_left_to_its_writer() {
    let w = world().await;
    let (record, sys_id) = ticketed(&w, "note-young").await;
    noted_long_ago(
        &w,
        &record,
        &Fact::Refused {
            detail: "400".into(),
        },
        1,
    )
    .await;
    let swept = run(&w).await;
    assert_eq!(swept.follow_ups, 0);
    assert!(w.sn.work_notes("incident", &sys_id).unwrap().is_empty());
}

#[tokio::test]
async fn a_note_unwritten_for_24_hours_is_dropped_without_a_call() {
    let w = world().await;
    let (record, sys_id) = ticketed(&w, "note-dropped").await;
    noted_long_ago(
        &w,
        &record,
        &Fact::Refused {
            detail: "400".into(),
        },
        24 * 60 + 1,
    )
    .await;
    let before = w.sn.stats().table_requests;
    run(&w).await;
    let stored = current(&w.store, &record.id).await;
    assert_eq!(stored.work_notes[0].state, NoteState::Dropped);
    assert_eq!(stored.work_notes[0].attempts, 1, "only the first call");
    assert_eq!(stored.backlog(), None, "nothing waits any more");
    assert!(w.sn.work_notes("incident", &sys_id).unwrap().is_empty());
    let reads = w.sn.stats().table_requests - before;
    assert!(
        reads <= 1,
        "only the ticket sweep's read, no PATCH: {reads}"
    );
}
