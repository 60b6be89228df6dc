//! The process-wide "stop now" request (Ctrl+C, issue 22). `cli::interrupt` raises it when the
//! user presses Ctrl+C; long loops in every layer above (a backtest's bars, a sweep's cells, a
//! Monte Carlo's samples) read it between two steps and end early, and a report folder's files
//! are then not put in place (`safe_write::Batch`). Here because every layer above reads it.
//!
//! Nothing but the `vrev` binary's Ctrl+C handler raises it; library callers and tests never
//! see it raised.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// Asks every long loop of this process to stop at its next step.
pub fn raise() {
    STOP.store(true, Ordering::SeqCst);
}

/// Whether a stop was asked for.
pub fn raised() -> bool {
    STOP.load(Ordering::Relaxed)
}
