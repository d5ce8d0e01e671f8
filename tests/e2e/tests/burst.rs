//! A rate-limited burst through the dev stack (the small version of `make bench-burst`): 40 requests against 10
//! creates per 20 s end with every request ticketed once, and about one 429 per pause, not one per request.

use e2e::Stack;
use e2e::burst::{Burst, run};
use std::time::Duration;

#[tokio::test]
async fn a_rate_limited_burst_ends_with_every_request_ticketed_once() {
    let burst = Burst {
        requests: 40,
        limit: 10,
        window: Duration::from_secs(20),
        within: Duration::from_secs(300),
    };
    let report = run(&Stack::new(), burst).await;
    println!("{}", report.table());
    assert_eq!(report.lost, 0, "{report:?}");
    assert_eq!(report.duplicates, 0, "{report:?}");
    assert_eq!(report.tickets, 40, "{report:?}");
    // One 429 per pause (a stream batch and a sweep may meet the same window once each), far from one a request.
    assert!(
        report.rate_limited >= 1 && report.rate_limited <= 2 * report.ideal_windows(),
        "{report:?}"
    );
}
