//! What `replay --pace` shows while it plays: one line per admitted signal (time ET, side, entry,
//! ID) as it happens, and a status line at most every [`STATUS_EVERY`] (bars done, signals, the
//! open shadow position and today's shadow P&L), never a line per bar.

use crate::host::engine::Engine;
use std::time::{Duration, Instant};

/// Least time between two status lines.
pub const STATUS_EVERY: Duration = Duration::from_secs(1);

pub struct PaceReport {
    total: usize,
    next_status: Instant,
}

impl PaceReport {
    pub fn new(total: usize) -> Self {
        PaceReport {
            total,
            next_status: Instant::now() + STATUS_EVERY,
        }
    }

    /// After a bar: the lines for the signals admitted since `signals_before`, then a status line
    /// if one is due. `done`: bars processed so far.
    pub fn after_bar(&mut self, engine: &Engine, signals_before: usize, done: usize) -> String {
        let mut out = String::new();
        for s in &engine.signals[signals_before..] {
            out.push_str(&format!(
                "signal {} ET {} entry {:.2} id {} ({} / {})\n",
                s.signal_time_et,
                s.side.as_str(),
                s.entry,
                s.id,
                s.window,
                s.profile
            ));
        }
        let now = Instant::now();
        if now >= self.next_status || done == self.total {
            self.next_status = now + STATUS_EVERY;
            out.push_str(&self.status(engine, done));
            out.push('\n');
        }
        out
    }

    /// `pace: bar 120/1380 (2025-02-10 13:59:00 ET) | signals 2 | open: none | today's ...`.
    pub fn status(&self, engine: &Engine, done: usize) -> String {
        let last = engine
            .last_bar_time()
            .map(|t| format!(" ({} ET)", engine.clock().stamp(t).format()))
            .unwrap_or_default();
        format!(
            "pace: bar {done}/{}{last} | signals {} | {}",
            self.total,
            engine.stats.signals,
            crate::host::shadow_status::describe(engine)
        )
    }
}
