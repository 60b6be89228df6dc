//! The sandbox every script runs in: one `rhai::Engine` with no file, network or process
//! access, no `eval`/`import`/`sleep`, bounded operations, sizes, nesting and wall time per call.
//! The vocabulary scripts see is registered by the modules that own it: [`super::helpers`] (bar
//! fields and range helpers), [`super::indicators`] (series functions), [`super::scans`] (the
//! scan builder) and [`super::params`] (profile parameters).

use crate::market::bar::BarSeries;
use crate::strategy::indicators::Indicators;
use rhai::{Dynamic, Engine, EvalAltResult};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The wall-clock deadline of the script call in progress, shared by an engine's progress hook
/// and whoever starts a call. Rhai calls the hook on every operation; the clock is read every
/// [`CLOCK_EVERY_OPS`] operations only.
#[derive(Clone, Debug)]
pub struct CallClock {
    deadline: Rc<Cell<Option<Instant>>>,
    budget: Duration,
}

/// Operations between two reads of the clock (about 25–150 µs of script work).
pub const CLOCK_EVERY_OPS: u64 = 256;

impl CallClock {
    pub fn new(budget: Duration) -> Self {
        CallClock {
            deadline: Rc::new(Cell::new(None)),
            budget,
        }
    }

    /// Runs `f` as one budgeted call.
    pub fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let outer = self.deadline.replace(Some(Instant::now() + self.budget));
        let r = f();
        self.deadline.set(outer);
        r
    }

    pub(super) fn expired(&self) -> bool {
        self.deadline.get().is_some_and(|d| Instant::now() > d)
    }
}

/// Limits applied to every script call. Set explicitly because Rhai's debug and release
/// defaults differ.
#[derive(Clone, Debug)]
pub struct ScriptLimits {
    /// Operations per `on_bar` call before the script is stopped as runaway. Default 200,000
    /// (the shipped V-reversal uses well under 2,000 per bar).
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
    /// Wall-clock time per call (`engine.script_max_call_ms`). Default 50 ms. Operations alone
    /// do not bound time: one native call (`contains` on a big array, a sort) is one operation.
    pub max_call_time: Duration,
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
            max_call_time: Duration::from_millis(50),
        }
    }
}

/// Builds the sandboxed engine with the bar helpers bound to `series`; calls are stopped when
/// `clock`'s deadline passes.
pub fn build_engine(
    series: Rc<RefCell<BarSeries>>,
    indicators: &Rc<RefCell<Indicators>>,
    limits: &ScriptLimits,
    clock: &CallClock,
) -> Engine {
    let mut engine = Engine::new();
    {
        let clock = clock.clone();
        engine.on_progress(move |ops| {
            (ops.is_multiple_of(CLOCK_EVERY_OPS) && clock.expired()).then_some(Dynamic::UNIT)
        });
    }
    // Nothing may block the bar loop: Rhai's `sleep` is replaced by an error with the line.
    engine.register_fn("sleep", |_: f64| -> Result<(), Box<EvalAltResult>> {
        Err(NO_SLEEP.into())
    });
    engine.register_fn("sleep", |_: i64| -> Result<(), Box<EvalAltResult>> {
        Err(NO_SLEEP.into())
    });
    engine
        .set_strict_variables(true)
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(limits.max_expr_depths.0, limits.max_expr_depths.1)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_map_size)
        .set_max_modules(0)
        .set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    // No file, network or process access exists in Rhai's packages; `import` is disabled by the
    // dummy resolver above and `eval` (code from strings) is switched off.
    engine.disable_symbol("eval");
    engine.on_print(|s| tracing::info!(target: "script", "{s}"));
    engine.on_debug(
        |s, src, pos| tracing::debug!(target: "script", "{}:{}: {s}", src.unwrap_or("script"), pos),
    );

    super::params::register(&mut engine);
    super::helpers::register(&mut engine, &series);
    super::scan_fns::register(&mut engine);
    super::series_fns::register(&mut engine, &series, indicators);
    super::trace::register(&mut engine);
    super::position::register(&mut engine);
    engine
}

const NO_SLEEP: &str =
    "`sleep` is not available to strategies: a script must never hold up the bar loop";
