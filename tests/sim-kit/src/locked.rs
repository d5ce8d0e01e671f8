//! A simulator's memory behind one mutex.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// A mutex whose lock survives a holder that panicked: a panicking handler must not take the whole simulator down
/// with it. Keep every critical section short, and never across an `.await`.
#[derive(Default)]
pub(crate) struct Locked<T>(Mutex<T>);

impl<T> Locked<T> {
    pub fn new(value: T) -> Self {
        Locked(Mutex::new(value))
    }

    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
