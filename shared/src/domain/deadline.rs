//! The time a piece of work has: until its invocation ends, less what is kept back to answer. Which margin an
//! invocation keeps, and why, is the invocation loop's to say ([`crate::runtime::serve::Trigger`]).

use std::time::{Duration, Instant};

/// When the invocation ends (`ends`: the function is stopped then) and how much of the time before it is kept
/// back to answer (`kept`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub ends: Instant,
    pub kept: Duration,
}

impl Deadline {
    /// The time left for work from now: until `ends`, less `kept`; zero once the margin is reached.
    pub fn left(&self) -> Duration {
        self.ends
            .saturating_duration_since(Instant::now())
            .saturating_sub(self.kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_left_is_the_time_to_the_end_less_what_is_kept() {
        let deadline = Deadline {
            ends: Instant::now() + Duration::from_secs(30),
            kept: Duration::from_secs(20),
        };
        let left = deadline.left();
        assert!(
            left > Duration::from_secs(9) && left <= Duration::from_secs(10),
            "{left:?}"
        );
        let within_the_margin = Deadline {
            ends: Instant::now() + Duration::from_secs(1),
            ..deadline
        };
        assert_eq!(within_the_margin.left(), Duration::ZERO);
    }
}
