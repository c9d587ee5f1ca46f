//! Test support: ends this thread's next commit at a chosen step with a panic, leaving on disk exactly what a
//! process killed at that step leaves. Crash tests use it to check recovery deterministically; the kill -9 tests
//! cover the same states at random.

use std::cell::Cell;

/// A step of the commit protocol after which the run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// The store's pending overlay is durable; tantivy has not committed.
    AfterPrepare,
    /// tantivy committed the new generation; the store has not published it.
    AfterLexicalCommit,
}

thread_local! {
    static ARMED: Cell<Option<CrashPoint>> = const { Cell::new(None) };
}

/// Makes the next commit on this thread stop after `point`.
pub fn arm(point: CrashPoint) {
    ARMED.with(|armed| armed.set(Some(point)));
}

/// Panics when the commit was armed to stop at `point` (disarming it).
pub(crate) fn reached(point: CrashPoint) {
    if ARMED.with(|armed| armed.get()) == Some(point) {
        ARMED.with(|armed| armed.set(None));
        panic!("simulated crash after {point:?}");
    }
}
