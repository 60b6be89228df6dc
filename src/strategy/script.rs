//! The Rhai host (DESIGN §5): one sandboxed `rhai::Engine` built once, one compiled AST per
//! script, native helpers that read the shared bar history in place.
//!
//! # Script contract
//!
//! ```rhai
//! fn params() { #{ drop_threshold: 4.0, drop_window: 15 } }   // defaults (optional)
//! fn on_bar(t, p) {                                           // required
//!     // t: index of this bar; p.drop_threshold: the profile's value or the default
//!     // return (), one proposal map, or an array of them:
//!     #{ side: "BUY", entry: close(t), anchor_a: 6107.25, anchor_b: 6091.5,
//!        confidence: 0.8, pattern: "v_reversal", extra: #{ drop: 15.75 } }
//! }
//! const CALL_ON_EVERY_BAR = true;   // optional: also call outside the windows
//! ```
//!
//! Inside `on_bar`, `this` is a map that persists between calls (per profile), for scripts that
//! keep state. Helpers take absolute bar indices; range helpers clamp to the bars that exist and
//! return −1 when nothing is found. Reading a bar after `t` or one no longer in memory is an
//! error: scripts cannot look ahead.

use super::{ExtraValue, Proposal, Strategy, StrategyError, StrategyVersion};
use crate::bar::BarSeries;
use crate::price::Side;
use crate::scan::{Find, Level, Scan, Step};
use rhai::{CallFnOptions, Dynamic, Engine, EvalAltResult, Map, Position, Scope, AST};
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
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

    fn expired(&self) -> bool {
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

/// Profile parameters as scripts see them: `p.name` reads one; an unknown name is an error.
#[derive(Clone, Debug)]
pub struct Params(Rc<Map>);

fn bar_missing(i: i64, s: &BarSeries) -> Box<EvalAltResult> {
    let msg = if i >= s.len() as i64 {
        format!(
            "bar {i} does not exist yet (the newest bar is {}): scripts cannot look ahead",
            s.len() as i64 - 1
        )
    } else if i < 0 {
        format!("bar {i} does not exist (bars count from 0)")
    } else {
        format!(
            "bar {i} is no longer in memory (the oldest kept is {})",
            s.first_available()
        )
    };
    msg.into()
}

/// Builds the sandboxed engine with the bar helpers bound to `series`; calls are stopped when
/// `clock`'s deadline passes.
pub fn build_engine(
    series: Rc<RefCell<BarSeries>>,
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

    engine.register_type_with_name::<Params>("Params");
    engine.register_indexer_get(
        |p: &mut Params, name: &str| -> Result<Dynamic, Box<EvalAltResult>> {
            p.0.get(name).cloned().ok_or_else(|| {
                let known: Vec<&str> = p.0.keys().map(|k| k.as_str()).collect();
                format!(
                    "unknown parameter `{name}` (this script declares: {})",
                    known.join(", ")
                )
                .into()
            })
        },
    );

    macro_rules! field {
        ($name:literal, $get:ident) => {{
            let s = series.clone();
            engine.register_fn($name, move |i: i64| -> Result<f64, Box<EvalAltResult>> {
                let s = s.borrow();
                if s.contains(i) {
                    Ok(s.$get(i as usize))
                } else {
                    Err(bar_missing(i, &s))
                }
            });
        }};
    }
    field!("open", open);
    field!("high", high);
    field!("low", low);
    field!("close", close);
    field!("volume", volume);

    let idx = |r: Option<usize>| r.map(|i| i as i64).unwrap_or(-1);
    {
        let s = series.clone();
        engine.register_fn("first_bar", move || s.borrow().first_available() as i64);
    }
    {
        let s = series.clone();
        let clock = crate::time::MarketClock::exchange();
        engine.register_fn(
            "et_minute",
            move |i: i64| -> Result<i64, Box<EvalAltResult>> {
                let s = s.borrow();
                if s.contains(i) {
                    Ok(clock.stamp(s.close_time(i as usize)).minute_of_day as i64)
                } else {
                    Err(bar_missing(i, &s))
                }
            },
        );
    }
    {
        let s = series.clone();
        engine.register_fn("lowest_low", move |from: i64, to: i64| {
            idx(s.borrow().lowest_low(from, to))
        });
    }
    {
        let s = series.clone();
        engine.register_fn("highest_high", move |from: i64, to: i64| {
            idx(s.borrow().highest_high(from, to))
        });
    }
    {
        let s = series.clone();
        engine.register_fn("first_high_above", move |from: i64, to: i64, level: f64| {
            idx(s.borrow().first_high_above(from, to, level))
        });
    }
    {
        let s = series.clone();
        engine.register_fn("first_low_below", move |from: i64, to: i64, level: f64| {
            idx(s.borrow().first_low_below(from, to, level))
        });
    }
    {
        let s = series.clone();
        engine.register_fn(
            "first_pullback_to",
            move |from: i64, to: i64, level: f64, tol: f64| {
                idx(s.borrow().first_pullback_to(from, to, level, tol))
            },
        );
    }
    {
        let s = series.clone();
        engine.register_fn(
            "first_rally_to",
            move |from: i64, to: i64, level: f64, tol: f64| {
                idx(s.borrow().first_rally_to(from, to, level, tol))
            },
        );
    }
    {
        let s = series.clone();
        engine.register_fn(
            "highs_near",
            move |from: i64, to: i64, price: f64, tol: f64| {
                let mut out = rhai::Array::new();
                s.borrow().each_high_near(from, to, price, tol, |i| {
                    out.push(Dynamic::from_int(i as i64))
                });
                out
            },
        );
    }
    {
        let s = series;
        engine.register_fn(
            "lows_near",
            move |from: i64, to: i64, price: f64, tol: f64| {
                let mut out = rhai::Array::new();
                s.borrow().each_low_near(from, to, price, tol, |i| {
                    out.push(Dynamic::from_int(i as i64))
                });
                out
            },
        );
    }
    register_scan_builder(&mut engine);
    engine.register_fn("min", |a: i64, b: i64| a.min(b));
    engine.register_fn("max", |a: i64, b: i64| a.max(b));
    engine.register_fn("min", |a: f64, b: f64| a.min(b));
    engine.register_fn("max", |a: f64, b: f64| a.max(b));
    engine
}

const NO_SLEEP: &str =
    "`sleep` is not available to strategies: a script must never hold up the bar loop";

fn points(v: &Dynamic, what: &str) -> Result<f64, Box<EvalAltResult>> {
    v.as_float()
        .or_else(|_| v.as_int().map(|i| i as f64))
        .map_err(|_| format!("{what} must be a number, found {}", v.type_name()).into())
}

/// The scan vocabulary of [`crate::scan`], as chained methods on a `Scan` value.
fn register_scan_builder(engine: &mut Engine) {
    type R = Result<Scan, Box<EvalAltResult>>;
    let fail = |e: String| -> Box<EvalAltResult> { e.into() };
    engine.register_type_with_name::<Scan>("Scan");
    engine.register_fn("origins", move |max_back: i64, min_back: i64| -> R {
        Scan::new("scan", max_back, min_back).map_err(fail)
    });
    engine.register_fn("named", |s: &mut Scan, name: &str| -> Scan {
        s.name = name.to_string();
        s.clone()
    });
    for (fname, level) in [
        ("level_at_high", Level::High),
        ("level_at_low", Level::Low),
        ("level_at_close", Level::Close),
    ] {
        engine.register_fn(fname, move |s: &mut Scan| -> Scan {
            s.level = level;
            s.clone()
        });
    }
    let marks: [(&str, Find); 4] = [
        ("lowest_low", Find::LowestLow),
        ("highest_high", Find::HighestHigh),
        ("first_high_above_level", Find::HighAboveLevel),
        ("first_low_below_level", Find::LowBelowLevel),
    ];
    for (fname, find) in marks {
        engine.register_fn(
            fname,
            move |s: &mut Scan, name: &str, from: &str, lo: i64, hi: i64| -> R {
                s.add_mark(name, from, lo, hi, find).map_err(fail)?;
                Ok(s.clone())
            },
        );
    }
    engine.register_fn(
        "first_pullback_to_level",
        move |s: &mut Scan, name: &str, from: &str, lo: i64, hi: i64, tol: Dynamic| -> R {
            let tol = points(&tol, "tolerance")?;
            s.add_mark(name, from, lo, hi, Find::PullbackToLevel { tol })
                .map_err(fail)?;
            Ok(s.clone())
        },
    );
    engine.register_fn(
        "first_rally_to_level",
        move |s: &mut Scan, name: &str, from: &str, lo: i64, hi: i64, tol: Dynamic| -> R {
            let tol = points(&tol, "tolerance")?;
            s.add_mark(name, from, lo, hi, Find::RallyToLevel { tol })
                .map_err(fail)?;
            Ok(s.clone())
        },
    );
    engine.register_fn(
        "require_drop",
        move |s: &mut Scan, mark: &str, pts: Dynamic| -> R {
            let step = Step::DropAtLeast {
                mark: s.mark_index(mark).map_err(fail)?,
                points: points(&pts, "drop")?,
            };
            s.add_requirement(step);
            Ok(s.clone())
        },
    );
    engine.register_fn(
        "require_rise",
        move |s: &mut Scan, mark: &str, pts: Dynamic| -> R {
            let step = Step::RiseAtLeast {
                mark: s.mark_index(mark).map_err(fail)?,
                points: points(&pts, "rise")?,
            };
            s.add_requirement(step);
            Ok(s.clone())
        },
    );
    engine.register_fn(
        "require_before_this_bar",
        move |s: &mut Scan, mark: &str| -> R {
            let step = Step::BeforeThisBar {
                mark: s.mark_index(mark).map_err(fail)?,
            };
            s.add_requirement(step);
            Ok(s.clone())
        },
    );
    engine.register_fn("require_this_bar", move |s: &mut Scan, mark: &str| -> R {
        let step = Step::IsThisBar {
            mark: s.mark_index(mark).map_err(fail)?,
        };
        s.add_requirement(step);
        Ok(s.clone())
    });
}

/// Largest script file accepted. A strategy is a page or two; a 1 MB script took seconds to
/// compile.
pub const MAX_SCRIPT_BYTES: usize = 256 * 1024;

/// A script compiled and checked, ready to be bound to profiles.
#[derive(Debug)]
pub struct CompiledScript {
    pub path: PathBuf,
    pub version: StrategyVersion,
    pub ast: AST,
    /// Declared parameters and their defaults, from `fn params()`.
    pub defaults: Map,
    pub call_on_every_bar: bool,
    /// `const KEEP_STATE_ON_RELOAD = true;`: a new version takes over the running version's
    /// `this` state when its `init_state()` has the same shape (keys and value types).
    pub keep_state_on_reload: bool,
    /// The script declares `fn scan(p)`: the host runs it natively and calls
    /// `on_bar(t, p, found)` only with what it found.
    pub has_scan: bool,
    /// File stem, the default `PATTERN_TYPE`.
    pub stem: String,
}

fn place(file: &str, pos: Position, message: String) -> StrategyError {
    StrategyError {
        file: file.to_string(),
        line: pos.line(),
        column: pos.position(),
        message,
    }
}

/// Turns a Rhai runtime error into a located one (innermost position: the script line that
/// failed, not the call site in the host).
pub fn runtime_error(file: &str, err: &EvalAltResult, limits: &ScriptLimits) -> StrategyError {
    let inner = err.unwrap_inner();
    // The innermost error names what went wrong. Its position is the failing script line, but
    // some errors (the operation limit) carry none: take the innermost frame that has one.
    let mut pos = Position::NONE;
    let mut frame = err;
    loop {
        if !frame.position().is_none() {
            pos = frame.position();
        }
        match frame {
            EvalAltResult::ErrorInFunctionCall(.., next, _)
            | EvalAltResult::ErrorInModule(_, next, _) => frame = next,
            _ => break,
        }
    }
    let message = match inner {
        EvalAltResult::ErrorTooManyOperations(_) => {
            format!(
                "script stopped after {} operations (runaway loop?): this bar gets no signal",
                limits.max_operations
            )
        }
        EvalAltResult::ErrorTerminated(..) => {
            format!(
                "script stopped after {} ms, its time per call (engine.script_max_call_ms): this bar gets no signal",
                limits.max_call_time.as_millis()
            )
        }
        other => {
            // Rhai's message without its own " (line x, position y)" suffix: we print the place first.
            let s = other.to_string();
            match s.rfind(" (line ") {
                Some(i) if s.ends_with(')') => s[..i].to_string(),
                _ => s,
            }
        }
    };
    place(file, pos, message)
}

/// The engine, the shared series it reads and the limits: what compiles and binds scripts.
pub struct ScriptHost {
    engine: Rc<Engine>,
    series: Rc<RefCell<BarSeries>>,
    limits: ScriptLimits,
    clock: CallClock,
    locator: Rc<RunawayLocator>,
}

/// Finds the line of a runaway script. Rhai reports its limits without a position, so
/// the one failed call is run again on a second engine whose debugger hook records the position
/// of every step; the last one before the limit is the loop. Built on first use only: normal
/// calls never pay for it.
pub struct RunawayLocator {
    series: Rc<RefCell<BarSeries>>,
    limits: ScriptLimits,
    clock: CallClock,
    engine: RefCell<Option<(Engine, Rc<std::cell::Cell<Position>>)>>,
}

impl RunawayLocator {
    fn locate(&self, ast: &AST, args: impl rhai::FuncArgs, state: &mut Dynamic) -> Position {
        let mut slot = self.engine.borrow_mut();
        let (engine, last) = slot.get_or_insert_with(|| {
            let mut e = build_engine(self.series.clone(), &self.limits, &self.clock);
            let last = Rc::new(std::cell::Cell::new(Position::NONE));
            let seen = last.clone();
            let clock = self.clock.clone();
            #[allow(deprecated)] // "not deprecated, but volatile" per Rhai; pinned by our tests
            e.register_debugger(
                |_, dbg| dbg,
                move |_, event, _, _, pos| {
                    // Steps only: unwinding after the limit reports the function's end.
                    if matches!(event, rhai::debugger::DebuggerEvent::Step) && !pos.is_none() {
                        seen.set(pos);
                    }
                    // Each step is slow here (a native call like `contains` steps through every
                    // comparison): read the clock on every step, not every 256 operations.
                    if clock.expired() {
                        return Err("time budget spent".into());
                    }
                    Ok(rhai::debugger::DebuggerCommand::StepInto)
                },
            );
            (e, last)
        });
        last.set(Position::NONE);
        let options = CallFnOptions::new().bind_this_ptr(state);
        // The second run has the same time budget as the first: a slow script is never run
        // for longer than twice its budget in all.
        let _ = self.clock.time(|| {
            engine.call_fn_with_options::<Dynamic>(options, &mut Scope::new(), ast, "on_bar", args)
        });
        last.get()
    }
}

impl ScriptHost {
    pub fn new(series: Rc<RefCell<BarSeries>>, limits: ScriptLimits) -> Self {
        let clock = CallClock::new(limits.max_call_time);
        let locator = Rc::new(RunawayLocator {
            series: series.clone(),
            limits: limits.clone(),
            clock: clock.clone(),
            engine: RefCell::new(None),
        });
        ScriptHost {
            engine: Rc::new(build_engine(series.clone(), &limits, &clock)),
            series,
            limits,
            clock,
            locator,
        }
    }

    /// Compiles a script file and checks its contract (`on_bar(t, p)` exists, `params()`
    /// returns a map, top-level code runs).
    pub fn compile_file(&self, path: &Path) -> Result<CompiledScript, StrategyError> {
        let display = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|e| StrategyError {
            file: display.clone(),
            line: None,
            column: None,
            message: format!("cannot read: {e}"),
        })?;
        self.compile_source(path, &source)
    }

    /// Compiles script text (as if read from `path`).
    pub fn compile_source(
        &self,
        path: &Path,
        source: &str,
    ) -> Result<CompiledScript, StrategyError> {
        let engine = &self.engine;
        let limits = &self.limits;
        let display = path.display().to_string();
        let contract = |message: String| StrategyError {
            file: display.clone(),
            line: None,
            column: None,
            message,
        };
        if source.len() > MAX_SCRIPT_BYTES {
            return Err(contract(format!(
                "is {} KiB; a strategy script may be at most {} KiB (compiling a huge script would hold up the engine)",
                source.len() / 1024,
                MAX_SCRIPT_BYTES / 1024
            )));
        }
        let mut ast = engine
            .compile(source)
            .map_err(|e| place(&display, e.position(), e.err_type().to_string()))?;
        ast.set_source(display.clone());
        let has_scan = ast
            .iter_functions()
            .any(|f| f.name == "scan" && f.params.len() == 1);
        let (want, shape) = if has_scan {
            (3, "fn on_bar(t, p, found)` (the script has a scan)")
        } else {
            (2, "fn on_bar(t, p)`")
        };
        match ast.iter_functions().find(|f| f.name == "on_bar") {
            None => {
                return Err(contract(
                    "no `fn on_bar(t, p)` defined: the host calls on_bar for each eligible bar"
                        .into(),
                ))
            }
            Some(f) if f.params.len() != want => {
                return Err(contract(format!(
                    "`on_bar` takes {} parameter(s); it must be `{shape}",
                    f.params.len()
                )))
            }
            _ => {}
        }
        self.clock
            .time(|| engine.run_ast(&ast))
            .map_err(|e| runtime_error(&display, &e, limits))?;
        let defaults = if ast
            .iter_functions()
            .any(|f| f.name == "params" && f.params.is_empty())
        {
            let v: Dynamic = self
                .clock
                .time(|| engine.call_fn(&mut Scope::new(), &ast, "params", ()))
                .map_err(|e| runtime_error(&display, &e, limits))?;
            v.try_cast::<Map>().ok_or_else(|| {
                contract("`params()` must return a map of parameter names to default values".into())
            })?
        } else {
            Map::new()
        };
        let keep_state_on_reload =
            ast.iter_literal_variables(true, false)
                .any(|(name, _, value)| {
                    name == "KEEP_STATE_ON_RELOAD" && value.as_bool().unwrap_or(false)
                });
        let call_on_every_bar = ast
            .iter_literal_variables(true, false)
            .any(|(name, _, value)| {
                name == "CALL_ON_EVERY_BAR" && value.as_bool().unwrap_or(false)
            });
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| display.clone());
        let stem = path
            .file_stem()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| name.clone());
        Ok(CompiledScript {
            path: path.to_path_buf(),
            version: StrategyVersion {
                name,
                hash: super::content_hash(source.as_bytes()),
            },
            ast,
            defaults,
            call_on_every_bar,
            keep_state_on_reload,
            has_scan,
            stem,
        })
    }

    /// Binds a compiled script to one profile's merged parameters; builds its scans.
    pub fn bind(
        &self,
        script: Rc<CompiledScript>,
        params: Map,
    ) -> Result<ScriptStrategy, StrategyError> {
        let params = Params(Rc::new(params));
        let file = script.path.display().to_string();
        let mut scans = Vec::new();
        if script.has_scan {
            let v: Dynamic = self
                .clock
                .time(|| {
                    self.engine
                        .call_fn(&mut Scope::new(), &script.ast, "scan", (params.clone(),))
                })
                .map_err(|e| runtime_error(&file, &e, &self.limits))?;
            let items = if v.is_array() {
                v.cast::<rhai::Array>()
            } else {
                vec![v]
            };
            for item in items {
                let tn = item.type_name();
                let s = item.try_cast::<Scan>().ok_or_else(|| StrategyError { file: file.clone(), line: None, column: None, message: format!("`scan(p)` must return a scan (from `origins(...)`) or an array of them, found {tn}") })?;
                scans.push(s);
            }
        }
        let state = if script
            .ast
            .iter_functions()
            .any(|f| f.name == "init_state" && f.params.is_empty())
        {
            let v: Dynamic = self
                .clock
                .time(|| {
                    self.engine
                        .call_fn(&mut Scope::new(), &script.ast, "init_state", ())
                })
                .map_err(|e| runtime_error(&file, &e, &self.limits))?;
            if !v.is_map() {
                return Err(StrategyError {
                    file: file.clone(),
                    line: None,
                    column: None,
                    message: "`init_state()` must return a map (the script's `this`)".into(),
                });
            }
            v
        } else {
            Dynamic::from_map(Map::new())
        };
        Ok(ScriptStrategy {
            engine: self.engine.clone(),
            series: self.series.clone(),
            file: script.path.display().to_string(),
            script,
            params,
            scans,
            state,
            scope: Scope::new(),
            limits: self.limits.clone(),
            clock: self.clock.clone(),
            locator: self.locator.clone(),
        })
    }
}

/// Merges a profile's `params` over a script's declared defaults. A name the script does not
/// declare, or a value whose type does not fit the default, is an error naming the parameter.
pub fn merge_params(script: &CompiledScript, overrides: &toml::Table) -> Result<Map, String> {
    let mut merged = script.defaults.clone();
    for (key, value) in overrides {
        let Some(default) = script.defaults.get(key.as_str()) else {
            let known: Vec<&str> = script.defaults.keys().map(|k| k.as_str()).collect();
            return Err(format!(
                "unknown parameter `{key}` for {} (it declares: {})",
                script.version.name,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        };
        let v = toml_to_dynamic(value);
        let fits = if default.is_float() {
            v.is_float() || v.is_int()
        } else {
            default.type_name() == v.type_name()
        };
        if !fits {
            return Err(format!(
                "parameter `{key}` must be {} like its default `{}`, found `{value}`",
                default.type_name(),
                default
            ));
        }
        let v = if default.is_float() && v.is_int() {
            Dynamic::from_float(v.as_int().unwrap_or(0) as f64)
        } else {
            v
        };
        merged.insert(key.as_str().into(), v);
    }
    Ok(merged)
}

fn toml_to_dynamic(v: &toml::Value) -> Dynamic {
    match v {
        toml::Value::Integer(i) => Dynamic::from_int(*i),
        toml::Value::Float(f) => Dynamic::from_float(*f),
        toml::Value::Boolean(b) => Dynamic::from_bool(*b),
        toml::Value::String(s) => Dynamic::from(s.clone()),
        toml::Value::Array(a) => Dynamic::from_array(a.iter().map(toml_to_dynamic).collect()),
        toml::Value::Table(t) => Dynamic::from_map(
            t.iter()
                .map(|(k, v)| (k.as_str().into(), toml_to_dynamic(v)))
                .collect(),
        ),
        toml::Value::Datetime(d) => Dynamic::from(d.to_string()),
    }
}

/// A compiled script bound to one profile's parameters, with its own persistent `this` state.
pub struct ScriptStrategy {
    engine: Rc<Engine>,
    series: Rc<RefCell<BarSeries>>,
    script: Rc<CompiledScript>,
    params: Params,
    state: Dynamic,
    scope: Scope<'static>,
    file: String,
    limits: ScriptLimits,
    clock: CallClock,
    locator: Rc<RunawayLocator>,
    scans: Vec<Scan>,
}

impl ScriptStrategy {
    fn err(&self, message: String) -> StrategyError {
        StrategyError {
            file: self.file.clone(),
            line: None,
            column: None,
            message,
        }
    }

    fn proposal_from(
        &self,
        value: Dynamic,
        t: usize,
        out: &mut Vec<Proposal>,
    ) -> Result<(), StrategyError> {
        if value.is_unit() {
            return Ok(());
        }
        if value.is_array() {
            for v in value.cast::<rhai::Array>() {
                self.proposal_from(v, t, out)?;
            }
            return Ok(());
        }
        let type_name = value.type_name();
        let Some(map) = value.try_cast::<Map>() else {
            return Err(self.err(format!(
                "on_bar returned a {type_name}; return (), a proposal map or an array of them"
            )));
        };
        let mut side = None;
        let mut entry = None;
        let (mut a, mut b) = (None, None);
        let mut confidence = None;
        let mut stop = None;
        let mut pattern = None;
        let mut extra = Vec::new();
        let num = |k: &str, v: &Dynamic| -> Result<f64, StrategyError> {
            v.as_float()
                .or_else(|_| v.as_int().map(|i| i as f64))
                .map_err(|_| {
                    self.err(format!(
                        "proposal `{k}` must be a number, found {}",
                        v.type_name()
                    ))
                })
        };
        for (k, v) in map {
            match k.as_str() {
                "side" => {
                    side = Some(match v.clone().into_string().unwrap_or_default().to_ascii_uppercase().as_str() {
                        "BUY" => Side::Buy,
                        "SELL" => Side::Sell,
                        _ => return Err(self.err(format!("proposal `side` must be \"BUY\" or \"SELL\", found {v}"))),
                    })
                }
                "entry" => entry = Some(num("entry", &v)?),
                "anchor_a" => a = Some(num("anchor_a", &v)?),
                "anchor_b" => b = Some(num("anchor_b", &v)?),
                "confidence" => {
                    let c = num("confidence", &v)?;
                    if !(0.0..=1.0).contains(&c) {
                        return Err(self.err(format!("proposal `confidence` must be between 0 and 1, found {c}")));
                    }
                    confidence = Some((c * 100.0).round() as u32)
                }
                "stop" => stop = Some(num("stop", &v)?),
                "pattern" => pattern = Some(v.to_string()),
                "extra" => {
                    let m = v.try_cast::<Map>().ok_or_else(|| self.err("proposal `extra` must be a map".into()))?;
                    // Keys and values are checked by the host (`proposal_check`) for every
                    // strategy alike before anything is written.
                    for (ek, ev) in m {
                        let val = if let Ok(i) = ev.as_int() {
                            ExtraValue::Int(i)
                        } else if let Ok(f) = ev.as_float() {
                            ExtraValue::Float(f)
                        } else if let Ok(bv) = ev.as_bool() {
                            ExtraValue::Bool(bv)
                        } else {
                            ExtraValue::Text(ev.to_string())
                        };
                        extra.push((ek.to_string(), val));
                    }
                }
                other => {
                    return Err(self.err(format!(
                        "unknown proposal key `{other}` (known: side, entry, anchor_a, anchor_b, confidence, stop, pattern, extra)"
                    )))
                }
            }
        }
        let side =
            side.ok_or_else(|| self.err("proposal has no `side` (\"BUY\" or \"SELL\")".into()))?;
        let (Some(anchor_a), Some(anchor_b)) = (a, b) else {
            return Err(self.err("proposal needs `anchor_a` and `anchor_b` (the two prices that identify the pattern)".into()));
        };
        let entry = match entry {
            Some(e) => e,
            None => self.engine_close(t),
        };
        for (name, v) in [
            ("entry", entry),
            ("anchor_a", anchor_a),
            ("anchor_b", anchor_b),
        ] {
            if !v.is_finite() {
                return Err(self.err(format!("proposal `{name}` is not a finite number")));
            }
        }
        out.push(Proposal {
            side,
            entry,
            anchor_a,
            anchor_b,
            confidence,
            stop,
            pattern,
            extra,
        });
        Ok(())
    }

    fn engine_close(&self, t: usize) -> f64 {
        self.series.borrow().close(t)
    }
}

/// Keys and value types of a state map, the "shape" compared across reloads.
fn shape(state: &Dynamic) -> Vec<(String, &'static str)> {
    let mut v: Vec<(String, &'static str)> = state
        .read_lock::<Map>()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.to_string(), v.type_name()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

impl ScriptStrategy {
    /// Whether `old` (a running version's state) has the shape of this version's fresh state.
    pub fn state_shape_matches(&self, old: &Dynamic) -> bool {
        shape(&self.state) == shape(old)
    }

    /// Calls `on_bar` with `args`; errors carry the script's line (found by re-running the call
    /// on the diagnostic engine when Rhai gives none).
    fn invoke(
        &mut self,
        t: usize,
        args: impl rhai::FuncArgs + Clone,
        out: &mut Vec<Proposal>,
    ) -> Result<(), StrategyError> {
        let options = CallFnOptions::new().bind_this_ptr(&mut self.state);
        let (engine, scope, ast) = (&self.engine, &mut self.scope, &self.script.ast);
        let result = self.clock.time(|| {
            engine.call_fn_with_options::<Dynamic>(options, scope, ast, "on_bar", args.clone())
        });
        match result {
            Ok(v) => self.proposal_from(v, t, out),
            Err(e) => {
                let mut err = runtime_error(&self.file, &e, &self.limits);
                // Limit errors (operations, string/array size) come without a place: find it.
                if err.line.is_none() {
                    let pos = self.locator.locate(&self.script.ast, args, &mut self.state);
                    (err.line, err.column) = (pos.line(), pos.position());
                }
                Err(err)
            }
        }
    }
}

impl Strategy for ScriptStrategy {
    fn on_bar(&mut self, t: usize, out: &mut Vec<Proposal>) -> Result<(), StrategyError> {
        if self.scans.is_empty() {
            let args = (t as i64, self.params.clone());
            return self.invoke(t, args, out);
        }
        // The scans run natively; on_bar sees only what they found, once per scan that matched.
        let mut first_error = None;
        for n in 0..self.scans.len() {
            let Some(found) = self.scans[n].find(&self.series.borrow(), t) else {
                continue;
            };
            let scan = &self.scans[n];
            let mut m = Map::new();
            m.insert("scan".into(), Dynamic::from(scan.name.clone()));
            for (k, name) in scan.marks.iter().enumerate() {
                m.insert(
                    name.as_str().into(),
                    Dynamic::from_int(found.marks[k] as i64),
                );
            }
            let args = (t as i64, self.params.clone(), m);
            if let Err(e) = self.invoke(t, args, out) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
    fn call_on_every_bar(&self) -> bool {
        self.script.call_on_every_bar
    }
    fn state(&self) -> Option<Dynamic> {
        Some(self.state.clone())
    }
    fn set_state(&mut self, state: Dynamic) {
        self.state = state;
    }
    fn version(&self) -> &StrategyVersion {
        &self.script.version
    }
    fn pattern_name(&self) -> &str {
        &self.script.stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> (ScriptHost, Rc<RefCell<BarSeries>>) {
        let series = Rc::new(RefCell::new(BarSeries::with_capacity(64)));
        for i in 0..10 {
            series.borrow_mut().push(&crate::bar::Bar {
                close_time: 60 * i,
                open: 10.0,
                high: 11.0,
                low: 9.0,
                close: 10.5,
                volume: 5.0,
            });
        }
        (
            ScriptHost::new(series.clone(), ScriptLimits::default()),
            series,
        )
    }

    fn run(src: &str) -> Result<Vec<Proposal>, StrategyError> {
        let (h, _) = host();
        let c = Rc::new(h.compile_source(Path::new("s.rhai"), src)?);
        let params = merge_params(&c, &toml::Table::new()).unwrap();
        let mut s = h.bind(c, params)?;
        let mut out = vec![];
        s.on_bar(9, &mut out)?;
        Ok(out)
    }

    #[test]
    fn scripts_cannot_reach_files_network_processes_or_eval() {
        // (script, fragment of the error)
        let cases = [
            ("import \"std\" as s; fn on_bar(t, p) { }", "s.rhai"),
            ("fn on_bar(t, p) { eval(\"1\") }", "s.rhai:1:"),
            (
                "fn on_bar(t, p) { open_file(\"/etc/passwd\") }",
                "open_file",
            ),
            ("fn on_bar(t, p) { system(\"ls\") }", "system"),
            (
                "fn on_bar(t, p) { http_get(\"http://127.0.0.1/\") }",
                "http_get",
            ),
            (
                "fn on_bar(t, p) { let s = \"x\"; loop { s += s; } }",
                "s.rhai:1:",
            ),
        ];
        for (src, want) in cases {
            let err = run(src).unwrap_err().to_string();
            assert!(err.contains(want), "{src}: {err}");
        }
    }

    #[test]
    fn contract_errors_name_what_is_wrong() {
        assert!(run("fn other() {}")
            .unwrap_err()
            .message
            .contains("no `fn on_bar(t, p)`"));
        assert!(run("fn on_bar(t) {}")
            .unwrap_err()
            .message
            .contains("it must be `fn on_bar(t, p)`"));
        assert!(run("fn params() { 5 } fn on_bar(t, p) {}")
            .unwrap_err()
            .message
            .contains("must return a map"));
        assert!(
            run("fn on_bar(t, p) { #{ side: \"UP\", anchor_a: 1.0, anchor_b: 2.0 } }")
                .unwrap_err()
                .message
                .contains("\"BUY\" or \"SELL\"")
        );
        assert!(
            run("fn on_bar(t, p) { #{ side: \"BUY\", anchor_a: 1.0, anchr_b: 2.0 } }")
                .unwrap_err()
                .message
                .contains("unknown proposal key `anchr_b`")
        );
        assert!(run("fn params() { #{ x: 1 } } fn on_bar(t, p) { p.y }")
            .unwrap_err()
            .message
            .contains("unknown parameter `y`"));
        assert!(run("fn on_bar(t, p) { 5 }")
            .unwrap_err()
            .message
            .contains("returned a"));
    }

    #[test]
    fn proposals_default_entry_to_the_close_and_state_persists_in_this() {
        let out = run("fn on_bar(t, p) { #{ side: \"sell\", anchor_a: 1.0, anchor_b: 2.0, confidence: 0.695, extra: #{ n: 3, ok: true } } }").unwrap();
        assert_eq!(
            (out[0].side, out[0].entry, out[0].confidence),
            (Side::Sell, 10.5, Some(70))
        );
        let (h, _) = host();
        let c = Rc::new(h.compile_source(Path::new("s.rhai"), "fn on_bar(t, p) { if this.n == () { this.n = 0; } this.n += 1; if this.n == 3 { #{ side: \"BUY\", anchor_a: 1.0, anchor_b: 2.0 } } }").unwrap());
        let mut s = h
            .bind(c.clone(), merge_params(&c, &toml::Table::new()).unwrap())
            .unwrap();
        let mut out = vec![];
        for t in 7..10 {
            s.on_bar(t, &mut out).unwrap();
        }
        assert_eq!(
            out.len(),
            1,
            "the third call sees the state of the first two"
        );
    }

    #[test]
    fn params_merge_with_type_checks() {
        let (h, _) = host();
        let c = h
            .compile_source(
                Path::new("s.rhai"),
                "fn params() { #{ x: 1.0, n: 3 } } fn on_bar(t, p) {}",
            )
            .unwrap();
        let m = merge_params(&c, &toml::from_str("x = 2\nn = 4").unwrap()).unwrap();
        assert_eq!(m["x"].as_float().unwrap(), 2.0);
        assert!(merge_params(&c, &toml::from_str("n = 4.5").unwrap())
            .unwrap_err()
            .contains("parameter `n` must be"));
        assert!(merge_params(&c, &toml::from_str("z = 1").unwrap())
            .unwrap_err()
            .contains("unknown parameter `z`"));
    }
}

#[cfg(test)]
mod scan_tests {
    use super::*;

    fn bind(src: &str) -> Result<ScriptStrategy, StrategyError> {
        let series = Rc::new(RefCell::new(BarSeries::with_capacity(64)));
        let h = ScriptHost::new(series, ScriptLimits::default());
        let c = Rc::new(h.compile_source(Path::new("s.rhai"), src)?);
        let params = merge_params(&c, &toml::Table::new()).unwrap();
        h.bind(c, params)
    }

    fn bind_err(src: &str) -> StrategyError {
        match bind(src) {
            Err(e) => e,
            Ok(_) => panic!("expected an error for {src}"),
        }
    }

    #[test]
    fn scan_mistakes_are_located_in_the_script() {
        let err = bind_err("fn scan(p) {\n  origins(10, 2)\n    .lowest_low(\"L\", \"orign\", 0, 5)\n}\nfn on_bar(t, p, v) {}");
        assert_eq!(err.line, Some(3), "{err}");
        assert!(err.message.contains("no mark named `orign`"), "{err}");
        let err = bind_err("fn scan(p) { 5 }\nfn on_bar(t, p, v) {}");
        assert!(err.message.contains("must return a scan"), "{err}");
        let err = bind_err("fn scan(p) { origins(10, 2) }\nfn on_bar(t, p) {}");
        assert!(err.message.contains("fn on_bar(t, p, found)"), "{err}");
        assert!(bind("fn scan(p) { [origins(10, 2).named(\"a\"), origins(5, 1).level_at_low()] }\nfn on_bar(t, p, v) {}").is_ok());
    }
}
