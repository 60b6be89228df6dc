//! The budget of a script call and the limits of the sandbox, shared by the engine's progress hook
//! (the sandbox) and the host functions that charge their work to the call in progress (bar
//! helpers, series functions).
//!
//! # The budget of a call (`docs/script-limits.md`)
//!
//! A call may spend `engine.script_max_operations` operations: Rhai's own (one per expression
//! step) plus what the host's functions are charged for their work ([`CallClock::charge`]; the
//! cost table is in `docs/script-limits.md`). This count is the same on every machine, so
//! offline runs (`backtest`, `test`, `check`, `explain`, `replay`) stop a call at the same step
//! whatever the machine's load: their output is reproducible byte for byte. Live runs
//! (`run`, [`ScriptLimits::wall_clock`]) are bounded by `engine.script_max_call_ms` of wall time
//! as well; the clock is read every [`CLOCK_EVERY_OPS`] operations, charged ones included.

use rhai::Dynamic;
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The budget of the script call in progress, shared by an engine's progress hook, the host
/// functions that charge their work to it, and whoever starts a call.
#[derive(Clone, Debug)]
pub struct CallClock {
    deadline: Rc<Cell<Option<Instant>>>,
    budget: Duration,
    wall: bool,
    max_ops: u64,
    /// Operations charged by host functions in this call.
    charged: Rc<Cell<u64>>,
    /// Count (Rhai's plus charged) at which the clock is read next (live only).
    next_read: Rc<Cell<u64>>,
}

/// Operations between two reads of the clock in live runs, charged ones included (a few µs of
/// script work: Instant::now costs about 25 ns, well under 5 % of 16 operations).
pub const CLOCK_EVERY_OPS: u64 = 16;

/// Bars a range helper (or a scan's mark) reads per operation charged: `lowest_low(t - 640, t)`
/// costs 11 operations (`docs/script-limits.md`).
pub const BAR_READS_PER_OP: u64 = 64;

/// Series values computed (one series at one bar, warm-up or catch-up) per operation charged:
/// a new `ema(n)` over 25,000 bars of history costs 782 operations.
pub const SERIES_STEPS_PER_OP: u64 = 32;

/// Why a call was stopped, as the token of Rhai's `ErrorTerminated`.
pub(super) const STOP_TIME: &str = "time";

impl CallClock {
    pub fn new(limits: &ScriptLimits) -> Self {
        CallClock {
            deadline: Rc::new(Cell::new(None)),
            budget: limits.max_call_time,
            wall: limits.wall_clock,
            max_ops: limits.max_operations,
            charged: Rc::new(Cell::new(0)),
            next_read: Rc::new(Cell::new(CLOCK_EVERY_OPS)),
        }
    }

    /// Runs `f` as one budgeted call.
    pub fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        self.time_for(self.budget, f)
    }

    /// Runs `f` as one call with `budget` of wall time (live only) and the whole operation
    /// budget.
    pub fn time_for<T>(&self, budget: Duration, f: impl FnOnce() -> T) -> T {
        let deadline = self.wall.then(|| Instant::now() + budget);
        let outer = (
            self.deadline.replace(deadline),
            self.charged.replace(0),
            self.next_read.replace(CLOCK_EVERY_OPS),
        );
        let r = f();
        self.deadline.set(outer.0);
        self.charged.set(outer.1);
        self.next_read.set(outer.2);
        r
    }

    /// Charges `ops` operations of host work to the call in progress.
    pub fn charge(&self, ops: u64) {
        self.charged.set(self.charged.get().saturating_add(ops));
    }

    /// Charges `units` of work done at `per_op` units per operation (rounded up: any work costs
    /// at least one operation).
    pub fn charge_work(&self, units: u64, per_op: u64) {
        if units > 0 {
            self.charge(units.div_ceil(per_op));
        }
    }

    /// Operations charged by host functions so far in this call.
    pub fn charged(&self) -> u64 {
        self.charged.get()
    }

    /// The progress hook: `Some(token)` stops the call. The token is the operations charged to
    /// host functions (an integer) when the operation budget is spent, [`STOP_TIME`] when the
    /// wall-clock budget is (live only).
    pub(super) fn check(&self, ops: u64) -> Option<Dynamic> {
        let charged = self.charged.get();
        let total = ops.saturating_add(charged);
        if total > self.max_ops {
            return Some(Dynamic::from_int(charged.min(i64::MAX as u64) as i64));
        }
        if self.wall && total >= self.next_read.get() {
            self.next_read.set(total + CLOCK_EVERY_OPS);
            if self.expired() {
                return Some(Dynamic::from(STOP_TIME));
            }
        }
        None
    }

    /// The wall-clock budget of a call (live runs).
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The wall-clock budget of the call in progress is spent (never offline).
    pub(super) fn expired(&self) -> bool {
        self.deadline.get().is_some_and(|d| Instant::now() > d)
    }
}

/// Limits applied to every script call. Set explicitly because Rhai's debug and release
/// defaults differ.
#[derive(Clone, Debug)]
pub struct ScriptLimits {
    /// Operations per call before the script is stopped as runaway, Rhai's plus those charged
    /// to host functions (`docs/script-limits.md`). Default 200,000 (the shipped V-reversal uses
    /// well under 2,000 per bar).
    pub max_operations: u64,
    /// Function call nesting. Default 32.
    pub max_call_levels: usize,
    /// Expression nesting at global and function level. Default (64, 32).
    pub max_expr_depths: (usize, usize),
    /// Longest string a script may build. Default 10,000 characters.
    pub max_string_size: usize,
    /// Largest array a script may build. Default 10,000 elements.
    pub max_array_size: usize,
    /// Largest map a script may build. Default 1,000 entries.
    pub max_map_size: usize,
    /// Largest `this` state, estimated by [`state_bytes`]. A call that would leave `this` bigger
    /// is an error and all its writes to `this` are rolled back. Default 8 MiB.
    pub max_state_bytes: usize,
    /// Wall-clock time per call (`engine.script_max_call_ms`), applied only with
    /// [`ScriptLimits::wall_clock`]. Default 50 ms.
    pub max_call_time: Duration,
    /// Live runs: stop a call after [`ScriptLimits::max_call_time`] of wall time too. Offline
    /// runs leave it false so that the machine's load plays no part in their output. Default
    /// false.
    pub wall_clock: bool,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        ScriptLimits {
            max_operations: 200_000,
            max_call_levels: 32,
            max_expr_depths: (64, 32),
            max_string_size: 10_000,
            max_array_size: 10_000,
            max_map_size: 1_000,
            max_state_bytes: 8 << 20,
            max_call_time: Duration::from_millis(50),
            wall_clock: false,
        }
    }
}
