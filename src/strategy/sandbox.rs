//! The sandbox every script runs in: one `rhai::Engine` with no file, network or process
//! access, no `eval`/`import`/`sleep`, bounded operations, sizes and nesting per call, and wall
//! time per call in live runs only.
//! The vocabulary scripts see is registered by the modules that own it: [`super::helpers`] (bar
//! fields and range helpers), [`super::indicators`] (series functions), [`super::scans`] (the
//! scan builder) and [`super::params`] (profile parameters).
//!
//! The budget of a call ([`CallClock`], [`ScriptLimits`]) lives in [`super::call_budget`].

pub use super::call_budget::{CallClock, ScriptLimits, BAR_READS_PER_OP, CLOCK_EVERY_OPS};
use crate::market::bar::BarSeries;
use crate::strategy::indicators::Indicators;
use rhai::{Dynamic, Engine, EvalAltResult};
use std::cell::RefCell;
use std::rc::Rc;

/// Memory a script value holds, estimated: 16 bytes per array element and per map entry (a
/// `Dynamic`) plus the bytes of every string and map key, counted through nested arrays and maps.
/// A scalar stored in its parent costs nothing more than its slot.
pub fn state_bytes(value: &Dynamic) -> usize {
    const SLOT: usize = std::mem::size_of::<Dynamic>();
    if let Some(array) = value.read_lock::<rhai::Array>() {
        return array.iter().map(|v| SLOT + state_bytes(v)).sum();
    }
    if let Some(map) = value.read_lock::<rhai::Map>() {
        return map
            .iter()
            .map(|(k, v)| SLOT + k.len() + state_bytes(v))
            .sum();
    }
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        return s.len();
    }
    if let Some(blob) = value.read_lock::<rhai::Blob>() {
        return blob.len();
    }
    0
}

/// What a sandboxed engine is built from. The script's own engine and the diagnostic engines
/// (the runaway locator, the path recorder of `explain`) are built from the same parts, so they
/// see the same bars, series and budget.
#[derive(Clone)]
pub struct EngineParts {
    pub series: Rc<RefCell<BarSeries>>,
    pub indicators: Rc<RefCell<Indicators>>,
    pub limits: ScriptLimits,
    pub clock: CallClock,
}

impl EngineParts {
    pub fn build(&self) -> Engine {
        build_engine(
            self.series.clone(),
            &self.indicators,
            &self.limits,
            &self.clock,
        )
    }
}

/// Builds the sandboxed engine with the bar helpers bound to `series`; calls are stopped when
/// `clock`'s budget is spent.
pub fn build_engine(
    series: Rc<RefCell<BarSeries>>,
    indicators: &Rc<RefCell<Indicators>>,
    limits: &ScriptLimits,
    clock: &CallClock,
) -> Engine {
    let mut engine = Engine::new();
    {
        let clock = clock.clone();
        engine.on_progress(move |ops| clock.check(ops));
    }
    // `contains` (and `x in array`) compares every element natively within one Rhai operation:
    // charged one operation per element compared, so that it costs what a loop would.
    {
        let clock = clock.clone();
        engine.register_fn(
            "contains",
            move |ctx: rhai::NativeCallContext,
                  array: &mut rhai::Array,
                  value: Dynamic|
                  -> Result<bool, Box<EvalAltResult>> {
                let mut compared = 0u64;
                let mut found = false;
                for item in array.iter() {
                    compared += 1;
                    if let Some(eq) = quick_eq(item, &value) {
                        if eq {
                            found = true;
                            break;
                        }
                        continue;
                    }
                    let same_type = item.type_id() == value.type_id();
                    match ctx.call_native_fn::<bool>("==", (item.clone(), value.clone())) {
                        Ok(true) => {
                            found = true;
                            break;
                        }
                        Ok(false) => {}
                        Err(e)
                            if !same_type
                                && matches!(*e, EvalAltResult::ErrorFunctionNotFound(..)) => {}
                        Err(e) => return Err(e),
                    }
                }
                clock.charge(compared);
                Ok(found)
            },
        );
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
        // The operation budget is the progress hook's (it adds what host functions charge).
        .set_max_operations(0)
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
    super::helpers::register(&mut engine, &series, clock);
    super::scan_fns::register(&mut engine);
    super::series_fns::register(&mut engine, &series, indicators, clock);
    super::trace::register(&mut engine);
    super::position::register(&mut engine);
    engine
}

/// `a == b` for numbers, booleans, characters, strings and `()` without a function lookup
/// (Rhai's rules: an integer equals the float of the same value); `None` for other types.
fn quick_eq(a: &Dynamic, b: &Dynamic) -> Option<bool> {
    if a.is_unit() && b.is_unit() {
        return Some(true);
    }
    let num = |d: &Dynamic| d.as_int().map(|i| i as f64).or_else(|_| d.as_float());
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        return Some(x == y);
    }
    if let (Ok(x), Ok(y)) = (num(a), num(b)) {
        return Some(x == y);
    }
    if let (Ok(x), Ok(y)) = (a.as_bool(), b.as_bool()) {
        return Some(x == y);
    }
    if let (Ok(x), Ok(y)) = (a.as_char(), b.as_char()) {
        return Some(x == y);
    }
    if let (Ok(x), Ok(y)) = (a.as_immutable_string_ref(), b.as_immutable_string_ref()) {
        return Some(*x == *y);
    }
    None
}

const NO_SLEEP: &str =
    "`sleep` is not available to strategies: a script must never hold up the bar loop";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::bar::Bar;
    use crate::strategy::script::{merge_params, ScriptHost};
    use crate::strategy::{Strategy, StrategyError};
    use std::path::Path;
    use std::time::{Duration, Instant};

    /// `n` one-minute bars, a gentle wave.
    fn bars(n: usize) -> Rc<RefCell<BarSeries>> {
        let series = Rc::new(RefCell::new(BarSeries::with_capacity(n)));
        for i in 0..n {
            let c = 5000.0 + (i as f64 / 50.0).sin() * 20.0;
            series.borrow_mut().push(&Bar {
                close_time: 1_739_455_200 + 60 * (i as i64 + 1),
                open: c,
                high: c + 1.0,
                low: c - 1.0,
                close: c,
                volume: 10.0,
            });
        }
        series
    }

    /// Calls `src`'s on_bar on the newest of `n` bars; the result and the time it took.
    fn call(src: &str, n: usize, limits: ScriptLimits) -> (Result<(), StrategyError>, Duration) {
        let h = ScriptHost::new(bars(n), limits);
        let c = Rc::new(h.compile_source(Path::new("s.rhai"), src).unwrap());
        let params = merge_params(&c, &toml::Table::new()).unwrap();
        let mut s = h.bind(c, params).unwrap();
        let start = Instant::now();
        let r = s.on_bar(n - 1, &mut vec![]);
        (r, start.elapsed())
    }

    #[test]
    fn a_script_reading_64_series_over_25000_bars_passes_its_first_call() {
        let src = "fn on_bar(t, p) { let s = 0.0; for n in 2..34 { s += ema(n)[t] + sma(n)[t]; } }";
        let (r, _) = call(src, 25_000, ScriptLimits::default());
        r.unwrap();
    }

    #[test]
    fn host_work_is_charged_to_the_call_that_asks_for_it() {
        // (what, script): each is cheap in Rhai operations and dear in host work.
        let cases = [
            (
                "600 series warmed over 25,000 bars",
                "fn on_bar(t, p) { for n in 2..602 { ema(n)[t]; } }",
            ),
            (
                "`contains` on a 9,000-element array",
                "fn on_bar(t, p) { let a = []; a.pad(9000, 1); for n in 0..100 { if 2 in a {} } }",
            ),
            (
                "`contains` on an array of strings",
                "fn on_bar(t, p) { let a = []; a.pad(9000, \"x\"); for n in 0..100 { if a.contains(\"y\") {} } }",
            ),
            (
                "range helpers over the whole history",
                "fn on_bar(t, p) { for n in 0..1000 { lowest_low(0, t); } }",
            ),
        ];
        for (what, src) in cases {
            let (r, _) = call(src, 25_000, ScriptLimits::default());
            let e = r.expect_err(what).to_string();
            assert!(
                e.contains("s.rhai:1:")
                    && e.contains("stopped after 200000 operations")
                    && e.contains("charged to host functions"),
                "{what}: {e}"
            );
        }
    }

    #[test]
    fn an_offline_call_ignores_the_clock() {
        // Far more than 1 ms of work, well under the operation budget.
        let src = "fn on_bar(t, p) { let k = 0; while k < 20000 { k += 1; } }";
        let limits = ScriptLimits {
            max_call_time: Duration::from_millis(1),
            ..ScriptLimits::default()
        };
        let (r, took) = call(src, 100, limits);
        r.unwrap();
        assert!(took > Duration::from_millis(1), "the call took {took:?}");
    }

    #[test]
    fn a_live_call_stops_within_twice_its_time_budget() {
        let budget = Duration::from_millis(40);
        let limits = ScriptLimits {
            max_operations: 1_000_000_000_000,
            max_call_time: budget,
            wall_clock: true,
            ..ScriptLimits::default()
        };
        // (what, script): expensive host functions that Rhai counts as one operation each.
        let cases = [
            (
                "a new series on every step",
                "fn on_bar(t, p) { let n = 2; loop { ema(n)[t]; n += 1; } }",
            ),
            (
                "`contains` on a big array",
                "fn on_bar(t, p) { let a = []; a.pad(9000, 1); loop { if 2 in a {} } }",
            ),
            (
                "range helpers",
                "fn on_bar(t, p) { loop { lowest_low(0, t); highest_high(0, t); } }",
            ),
        ];
        for (what, src) in cases {
            // Best of three: a busy machine can only make a single run slower.
            let mut best = Duration::MAX;
            for _ in 0..3 {
                let (r, took) = call(src, 25_000, limits.clone());
                let e = r.expect_err(what).to_string();
                assert!(e.contains("stopped after 40 ms"), "{what}: {e}");
                best = best.min(took);
            }
            assert!(best < 2 * budget, "{what}: stopped after {best:?}");
        }
    }
}

#[cfg(test)]
mod contains_tests {
    use super::quick_eq;
    use rhai::Dynamic;

    #[test]
    fn contains_compares_as_rhai_does() {
        let engine = rhai::Engine::new();
        let cases = [
            "[1, 2, 3].contains(2)",
            "[1, 2, 3].contains(2.0)",
            "[1.5, 2].contains(1.5)",
            "[\"a\", \"b\"].contains(\"b\")",
            "['x', 'y'].contains('y')",
            "[true].contains(false)",
            "[(), 1].contains(())",
            "[1, \"1\"].contains(\"2\")",
        ];
        for src in cases {
            let want: bool = engine.eval(src).unwrap();
            let (array, value) = src.split_once(".contains(").unwrap();
            let a: rhai::Array = engine.eval(array).unwrap();
            let v: Dynamic = engine.eval(value.strip_suffix(")").unwrap()).unwrap();
            let got = a.iter().any(|x| quick_eq(x, &v).unwrap_or(false));
            assert_eq!(got, want, "{src}");
        }
    }
}
