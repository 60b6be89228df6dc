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
//!        confidence: 0.8, pattern: "v_reversal", extra: #{ drop: 15.75 },
//!        // optional trade plan, bounded by the profile (DESIGN §6 rule 8):
//!        stop: 6090.0, target_r: 2.0, risk: 400.0, breakeven_at_r: 1.0, trail_points: 3.0 }
//!     // or, for an open trade (`position()`): #{ exit: "all", reason: "lost vwap" }
//! }
//! const CALL_ON_EVERY_BAR = true;   // optional: also call outside the windows
//! ```
//!
//! Inside `on_bar`, `this` is a map that persists between calls (per profile), for scripts that
//! keep state. Helpers take absolute bar indices; range helpers clamp to the bars that exist and
//! return −1 when nothing is found. Reading a bar after `t` or one no longer in memory is an
//! error: scripts cannot look ahead.

use super::errors::{place, runtime_error, RunawayLocator};
use super::params::Params;
pub use super::sandbox::build_engine;
pub use super::sandbox::{CallClock, ScriptLimits, CLOCK_EVERY_OPS};
use super::{
    ExitRequest, ExitTarget, ExtraValue, PlanRequest, Proposal, Strategy, StrategyError,
    StrategyVersion,
};
use crate::market::bar::BarSeries;
use crate::market::price::Side;
use crate::strategy::indicators::Indicators;
use crate::strategy::scan::Scan;
use rhai::{CallFnOptions, Dynamic, Engine, Map, Scope, AST};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Largest script file accepted. A strategy is a page or two; a 1 MB script took seconds to
/// compile.
pub const MAX_SCRIPT_BYTES: usize = 256 * 1024;

/// Every key a proposal map may hold.
pub const PROPOSAL_KEYS: [&str; 15] = [
    "side",
    "entry",
    "anchor_a",
    "anchor_b",
    "confidence",
    "stop",
    "target",
    "target_r",
    "risk",
    "contracts",
    "breakeven_at_r",
    "trail_points",
    "pattern",
    "extra",
    "exit",
];

/// Most contracts a script may ask for in one proposal (the profile's `max_contracts` bounds it
/// further); a larger number is a script error, not a refusal.
pub const MAX_SCRIPT_CONTRACTS: i64 = 10_000;

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
    /// The script names `this` somewhere. One that does not cannot change its state, so a
    /// call needs no copy of it to roll back and no measure of its size.
    pub uses_this: bool,
}

/// The engine, the shared series it reads and the limits: what compiles and binds scripts.
pub struct ScriptHost {
    engine: Rc<Engine>,
    series: Rc<RefCell<BarSeries>>,
    limits: ScriptLimits,
    clock: CallClock,
    locator: Rc<RunawayLocator>,
    recorder: Rc<super::call_path::PathRecorder>,
    indicators: Rc<RefCell<Indicators>>,
}

impl ScriptHost {
    /// Series alive in this host's registry (`docs/indicators.md`: at most 1,024).
    pub fn series_alive(&self) -> usize {
        self.indicators.borrow().alive()
    }

    /// Records what the scripts read from now on (a backtest report's indicator overlays:
    /// [`crate::strategy::indicators::record`]).
    pub fn record_series(&self) {
        self.indicators.borrow_mut().record();
    }

    /// The series reads that follow are `profile`'s (while recording).
    pub fn set_series_reader(&self, profile: &str) {
        self.indicators.borrow_mut().set_reader(profile);
    }

    /// While recording: the series' values on the bars from `before` bars before the newest to
    /// `after` bars after it are recorded.
    pub fn record_series_around(&self, before: usize, after: usize) {
        self.indicators
            .borrow_mut()
            .record_around(&self.series.borrow(), before, after);
    }

    /// What the scripts read, at the end of a run (`None` when not recording).
    pub fn finish_series_record(
        &self,
    ) -> Option<crate::strategy::indicators::record::SeriesRecord> {
        self.indicators
            .borrow_mut()
            .finish_record(&self.series.borrow())
    }

    /// A host whose trading days start at 18:00 ET (the CME roll).
    pub fn new(series: Rc<RefCell<BarSeries>>, limits: ScriptLimits) -> Self {
        Self::with_day_start(series, limits, 18 * 60)
    }

    /// A host whose session series (VWAP, session high, ranges) roll at `day_start_minute` ET
    /// (`engine.trading_day_start`).
    pub fn with_day_start(
        series: Rc<RefCell<BarSeries>>,
        limits: ScriptLimits,
        day_start_minute: u32,
    ) -> Self {
        let clock = CallClock::new(&limits);
        let capacity = series.borrow().capacity();
        let indicators = Rc::new(RefCell::new(Indicators::new(capacity, day_start_minute)));
        let parts = super::sandbox::EngineParts {
            series: series.clone(),
            indicators: indicators.clone(),
            limits: limits.clone(),
            clock: clock.clone(),
        };
        let locator = Rc::new(RunawayLocator::new(parts.clone()));
        let recorder = Rc::new(super::call_path::PathRecorder::new(parts.clone()));
        ScriptHost {
            engine: Rc::new(parts.build()),
            series,
            limits,
            clock,
            locator,
            recorder,
            indicators,
        }
    }

    /// Compiles a script file and checks its contract (`on_bar(t, p)` exists, `params()`
    /// returns a map, top-level code runs).
    pub fn compile_file(&self, path: &Path) -> Result<CompiledScript, StrategyError> {
        let display = path.display().to_string();
        let source =
            crate::market::input_file::read_to_string(path).map_err(|e| StrategyError {
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
            uses_this: super::script_calls::names_this(&ast),
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
            self.check_mark_reads(&script, &scans)?;
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
            recorder: self.recorder.clone(),
            exits: RefCell::new(Vec::new()),
        })
    }

    /// Refuses a script whose `on_bar` reads a mark none of its scans has (`v.Low`), at its place.
    fn check_mark_reads(
        &self,
        script: &CompiledScript,
        scans: &[Scan],
    ) -> Result<(), StrategyError> {
        let mut names: Vec<&str> = scans
            .iter()
            .flat_map(|s| s.marks.iter().map(String::as_str))
            .collect();
        names.push("scan");
        let Some((line, column, name)) =
            super::script_calls::unknown_mark_reads(&script.ast, &names)
                .into_iter()
                .next()
        else {
            return Ok(());
        };
        let has: Vec<String> = scans
            .iter()
            .map(|s| format!("scan `{}` has: {}, scan", s.name, s.marks.join(", ")))
            .collect();
        Err(StrategyError {
            file: script.path.display().to_string(),
            line: Some(line),
            column: Some(column),
            message: format!("unknown mark `{name}` ({})", has.join("; ")),
        })
    }
}

/// Merges a profile's `params` over a script's declared defaults. A name the script does not
/// declare, or a value whose type does not fit the default, is an error naming the parameter.
pub fn merge_params(script: &CompiledScript, overrides: &toml::Table) -> Result<Map, String> {
    super::params::merge(&script.defaults, &script.version.name, overrides)
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
    /// Records the path of each call while `explain` captures one bar.
    recorder: Rc<super::call_path::PathRecorder>,
    scans: Vec<Scan>,
    /// Exits the last call asked for, until the engine takes them.
    exits: RefCell<Vec<ExitRequest>>,
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
        if map.contains_key("exit") {
            return self.exit_from(map);
        }
        let mut side = None;
        let mut entry = None;
        let (mut a, mut b) = (None, None);
        let mut confidence = None;
        let mut stop = None;
        let mut plan = PlanRequest::default();
        let mut pattern = None;
        let mut extra = Vec::new();
        let num = |k: &str, v: &Dynamic| -> Result<f64, StrategyError> {
            let x = v
                .as_float()
                .or_else(|_| v.as_int().map(|i| i as f64))
                .map_err(|_| {
                    self.err(format!(
                        "proposal `{k}` must be a number, found {}",
                        v.type_name()
                    ))
                })?;
            if x.is_finite() {
                Ok(x)
            } else {
                Err(self.err(format!("proposal `{k}` is not a finite number")))
            }
        };
        // A plan value that is a distance or an amount: above zero.
        let positive = |k: &str, v: &Dynamic| -> Result<f64, StrategyError> {
            let x = num(k, v)?;
            if x > 0.0 {
                Ok(x)
            } else {
                Err(self.err(format!("proposal `{k}` must be above 0, found {x}")))
            }
        };
        for (k, v) in map {
            match k.as_str() {
                "side" => {
                    side = Some(
                        match v
                            .clone()
                            .into_string()
                            .unwrap_or_default()
                            .to_ascii_uppercase()
                            .as_str()
                        {
                            "BUY" => Side::Buy,
                            "SELL" => Side::Sell,
                            _ => {
                                return Err(self.err(format!(
                                    "proposal `side` must be \"BUY\" or \"SELL\", found {v}"
                                )))
                            }
                        },
                    )
                }
                "entry" => entry = Some(num("entry", &v)?),
                "anchor_a" => a = Some(num("anchor_a", &v)?),
                "anchor_b" => b = Some(num("anchor_b", &v)?),
                "confidence" => {
                    let c = num("confidence", &v)?;
                    if !(0.0..=1.0).contains(&c) {
                        return Err(self.err(format!(
                            "proposal `confidence` must be between 0 and 1, found {c}"
                        )));
                    }
                    confidence = Some((c * 100.0).round() as u32)
                }
                "stop" => stop = Some(num("stop", &v)?),
                "target" => plan.target = Some(num("target", &v)?),
                "target_r" => plan.target_r = Some(positive("target_r", &v)?),
                "risk" => plan.risk = Some(positive("risk", &v)?),
                "contracts" => {
                    let n = v.as_int().map_err(|_| {
                        self.err(format!(
                            "proposal `contracts` must be a whole number, found {}",
                            v.type_name()
                        ))
                    })?;
                    if !(1..=MAX_SCRIPT_CONTRACTS).contains(&n) {
                        return Err(self.err(format!(
                            "proposal `contracts` must be 1 to {MAX_SCRIPT_CONTRACTS}, found {n}"
                        )));
                    }
                    plan.contracts = Some(n as u32)
                }
                "breakeven_at_r" => plan.breakeven_at_r = Some(positive("breakeven_at_r", &v)?),
                "trail_points" => plan.trail_points = Some(positive("trail_points", &v)?),
                "pattern" => pattern = Some(v.to_string()),
                "extra" => {
                    let m = v
                        .try_cast::<Map>()
                        .ok_or_else(|| self.err("proposal `extra` must be a map".into()))?;
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
                        "unknown proposal key `{other}` (known: {})",
                        PROPOSAL_KEYS.join(", ")
                    )))
                }
            }
        }
        if plan.contracts.is_some() && plan.risk.is_some() {
            return Err(self.err(
                "proposal gives both `contracts` and `risk`: give one (the size, or the dollars at risk that size it)".into(),
            ));
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
        if !entry.is_finite() {
            return Err(self.err("proposal `entry` is not a finite number".into()));
        }
        out.push(Proposal {
            side,
            entry,
            anchor_a,
            anchor_b,
            confidence,
            stop,
            plan,
            pattern,
            extra,
        });
        Ok(())
    }

    /// `#{ exit: "all" | ID, reason: "..." }`: closes this profile's open trade(s) at the next
    /// bar's open.
    fn exit_from(&self, map: Map) -> Result<(), StrategyError> {
        let mut target = None;
        let mut reason = None;
        for (k, v) in map {
            match k.as_str() {
                "exit" => {
                    let s = v.clone().into_string().map_err(|_| {
                        self.err(format!(
                            "`exit` must be \"all\" or a signal ID (text), found {}",
                            v.type_name()
                        ))
                    })?;
                    target = Some(if s == "all" {
                        ExitTarget::All
                    } else {
                        ExitTarget::Id(s)
                    });
                }
                "reason" => reason = Some(v.to_string()),
                other => {
                    return Err(self.err(format!(
                        "unknown exit key `{other}` (an exit is `#{{ exit: \"all\", reason: \"...\" }}`)"
                    )))
                }
            }
        }
        if let Some(target) = target {
            self.exits.borrow_mut().push(ExitRequest {
                target,
                reason: reason.unwrap_or_else(|| "script exit".into()),
            });
        }
        Ok(())
    }

    fn engine_close(&self, t: usize) -> f64 {
        self.series.borrow().close(t)
    }
}

/// `bytes` as MiB with one decimal, e.g. "8.0 MiB".
fn mebibytes(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
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
    /// `args` are the call's arguments; `again` makes them anew for the rare second run (an
    /// error's place, explain's recording), so that a call does not copy them.
    fn invoke<A: rhai::FuncArgs>(
        &mut self,
        t: usize,
        args: A,
        again: impl Fn(&Self) -> A,
        out: &mut Vec<Proposal>,
    ) -> Result<(), StrategyError> {
        // A call is all or nothing for `this`: a call that fails, or that would leave `this` over
        // its size bound, leaves it as it was. (Rhai checks a value's size after writing it in
        // place, so without this an oversized value stayed and grew on every later call.) A
        // script that never names `this` cannot change it: no copy, no measure.
        let before = self.script.uses_this.then(|| self.state.clone());
        let options = CallFnOptions::new().bind_this_ptr(&mut self.state);
        let (engine, scope, ast) = (&self.engine, &mut self.scope, &self.script.ast);
        let result = self
            .clock
            .time(|| engine.call_fn_with_options::<Dynamic>(options, scope, ast, "on_bar", args));
        // Checked here, not inside: the arguments (the params map) are made again only for a
        // recording.
        if super::call_path::capturing() {
            let state = before.as_ref().unwrap_or(&self.state);
            self.recorder.record(&self.script.ast, again(self), state);
        }
        match result {
            Ok(v) => {
                if let Some(before) = before {
                    let bytes = super::sandbox::state_bytes(&self.state);
                    if bytes > self.limits.max_state_bytes {
                        self.state = before;
                        return Err(self.err(format!(
                            "`this` would hold about {} after this call, over its bound of {} (docs/script-limits.md): the call's writes to `this` are rolled back; this bar gets no signal",
                            mebibytes(bytes),
                            mebibytes(self.limits.max_state_bytes)
                        )));
                    }
                }
                self.proposal_from(v, t, out)
            }
            Err(e) => {
                if let Some(before) = before {
                    self.state = before;
                }
                let mut err = runtime_error(&self.file, &e, &self.limits);
                // Limit errors (operations, string/array size) come without a place: find it by
                // running the call again from the same state (the diagnostic run's writes are
                // thrown away too).
                if err.line.is_none() {
                    let stopped_by_time = matches!(e.unwrap_inner(), rhai::EvalAltResult::ErrorTerminated(token, _) if token.is_string());
                    let pos = self.locator.locate(
                        &self.script.ast,
                        again(self),
                        &mut self.state.clone(),
                        stopped_by_time,
                    );
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
            return self.invoke(t, args, |s| (t as i64, s.params.clone()), out);
        }
        // The scans run natively; on_bar sees only what they found, once per scan that matched.
        // Together they may read the bars of one call's budget (docs/script-limits.md).
        let mut first_error = None;
        let budget = self
            .limits
            .max_operations
            .saturating_mul(super::sandbox::BAR_READS_PER_OP);
        let mut reads = budget;
        for n in 0..self.scans.len() {
            let found = self.scans[n].find_within(&self.series.borrow(), t, &mut reads);
            let found = match found {
                Ok(Some(found)) => found,
                Ok(None) => continue,
                Err(_) => {
                    let e = self.err(format!(
                        "scan `{}` stopped: this bar's scans read more than {budget} bars, the budget of one call (engine.script_max_operations × {}; docs/script-limits.md); narrow `origins(max_back, min_back)` or the marks' offsets: this bar gets no signal",
                        self.scans[n].name,
                        super::sandbox::BAR_READS_PER_OP
                    ));
                    first_error.get_or_insert(e);
                    break;
                }
            };
            let marks = |s: &Self| super::scan_fns::marks_map(&s.scans[n], &found);
            let args = (t as i64, self.params.clone(), marks(self));
            let again = |s: &Self| (t as i64, s.params.clone(), marks(s));
            if let Err(e) = self.invoke(t, args, again, out) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
    fn take_exits(&mut self, out: &mut Vec<ExitRequest>) {
        out.append(self.exits.get_mut());
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
            series.borrow_mut().push(&crate::market::bar::Bar {
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
    fn a_script_is_known_to_use_this_wherever_it_names_it() {
        // A script found not to use `this` is called without a copy of it to roll back: the
        // finding must never miss a `this`.
        let cases = [
            ("fn on_bar(t, p) { }", false),
            (
                "fn on_bar(t, p) { let m = #{ this_n: 1 }; m.this_n }",
                false,
            ),
            ("fn on_bar(t, p) { this.n = 1; }", true),
            ("fn on_bar(t, p) { if t > 0 { let x = [this]; } }", true),
            ("fn bump() { this.n += 1 } fn on_bar(t, p) { }", true),
            ("fn on_bar(t, p) { `${this}` }", true),
        ];
        let (h, _) = host();
        for (src, uses) in cases {
            let c = h.compile_source(Path::new("s.rhai"), src).unwrap();
            assert_eq!(c.uses_this, uses, "{src}");
        }
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

    /// Binds `src` to the test host's bars and calls it `calls` times on bar 9; returns the
    /// errors' texts and the final `this`.
    fn call_repeatedly(
        src: &str,
        limits: Option<ScriptLimits>,
        calls: usize,
    ) -> (Vec<String>, rhai::Map) {
        let (_, series) = host();
        let h = ScriptHost::new(series, limits.unwrap_or_default());
        let c = Rc::new(h.compile_source(Path::new("s.rhai"), src).unwrap());
        let mut s = h
            .bind(c.clone(), merge_params(&c, &toml::Table::new()).unwrap())
            .unwrap();
        let mut errors = vec![];
        for _ in 0..calls {
            if let Err(e) = s.on_bar(9, &mut vec![]) {
                errors.push(e.to_string());
            }
        }
        (errors, s.state().unwrap().cast::<rhai::Map>())
    }

    #[test]
    fn an_oversized_write_to_this_is_rolled_back() {
        // Issue 19: the size error came after the write, so `this` kept the oversized string and
        // doubled it on every later call until the process aborted (3 GB in 17 s).
        let (errors, state) = call_repeatedly(
            "fn on_bar(t, p) { if this.s == () { this.s = \"x\"; this.n = 0; } this.n += 1; this.s += this.s; }",
            None,
            40,
        );
        // 2^13 = 8,192 characters fit in the 10,000-character bound; 2^14 does not.
        assert_eq!(errors.len(), 40 - 13, "{errors:?}");
        assert!(errors[0].contains("s.rhai:1:"), "{}", errors[0]);
        assert_eq!(state["s"].clone().into_string().unwrap().len(), 8192);
        assert_eq!(
            state["n"].as_int().unwrap(),
            13,
            "a failed call's other writes roll back too"
        );
    }

    #[test]
    fn this_state_has_a_size_bound_across_many_values() {
        // Rhai's own size checks (10,000 array elements in all) stop this script at its 4th key;
        // with them raised, the host's bound on `this` is what stops it, whatever path writes.
        let limits = ScriptLimits {
            max_array_size: 1_000_000,
            max_state_bytes: 1 << 20,
            ..ScriptLimits::default()
        };
        let (errors, state) = call_repeatedly(
            "fn on_bar(t, p) { let a = []; a.pad(5000, 0); this[\"k\" + this.len()] = a; }",
            Some(limits),
            200,
        );
        // 80,000 bytes per call: 13 calls fit in 1 MiB, the 14th does not.
        assert_eq!(state.len(), 13, "{errors:?}");
        assert_eq!(errors.len(), 200 - 13);
        assert!(
            errors[0].contains(
                "`this` would hold about 1.1 MiB after this call, over its bound of 1.0 MiB"
            ),
            "{}",
            errors[0]
        );
        assert!(crate::strategy::sandbox::state_bytes(&rhai::Dynamic::from_map(state)) <= 1 << 20);
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

    #[test]
    fn a_mark_the_scan_does_not_have_is_refused_at_bind_naming_the_marks_it_has() {
        let scan = "fn scan(p) { origins(2, 2).lowest_low(\"L\", \"origin\", 0, 1) }\n";
        // (on_bar, the place and mark refused; None = accepted)
        type Refused = Option<(usize, usize, &'static str)>;
        let cases: [(&str, Refused); 7] = [
            (
                "fn on_bar(t, p, v) {\n  let x = v.origin + v.L;\n  low(v.Low)\n}",
                Some((3, 8, "Low")),
            ),
            (
                "fn on_bar(t, p, found) {\n  found[\"j\"]\n}",
                Some((2, 8, "j")),
            ),
            ("fn on_bar(t, p, v) {\n  v.scan.len() + v.origin\n}", None),
            ("fn on_bar(t, p, v) {\n  v.keys()\n}", None),
            // Another function's `v` is not the marks.
            (
                "fn helper(v) { v.Low }\nfn on_bar(t, p, v) { helper(#{ Low: 1 }) }",
                None,
            ),
            // An on_bar that declares its own `v` is not checked.
            (
                "fn on_bar(t, p, v) {\n  let v = #{ Low: 1 };\n  v.Low\n}",
                None,
            ),
            (
                "fn on_bar(t, p, v) {\n  for v in [#{ Low: 1 }] { v.Low; }\n}",
                None,
            ),
        ];
        for (on_bar, want) in cases {
            let src = format!("{scan}{on_bar}");
            match (bind(&src), want) {
                (Ok(_), None) => {}
                (Err(err), Some((line, column, mark))) => {
                    assert_eq!(
                        (err.line, err.column),
                        (Some(line + 1), Some(column)),
                        "{src}: {err}"
                    );
                    let text = format!("unknown mark `{mark}` (scan `scan` has: origin, L, scan)");
                    assert!(err.message.contains(&text), "{src}: {err}");
                }
                (Ok(_), Some(_)) => panic!("{src}: must be refused"),
                (Err(err), None) => panic!("{src}: refused: {err}"),
            }
        }
    }

    #[test]
    fn on_bar_reads_the_marks_the_scan_found() {
        let series = Rc::new(RefCell::new(BarSeries::with_capacity(64)));
        for (i, (h, l)) in [(10.0, 9.0), (10.0, 5.0), (12.0, 9.0)].iter().enumerate() {
            series.borrow_mut().push(&crate::market::bar::Bar {
                close_time: 60 * i as i64,
                open: *l,
                high: *h,
                low: *l,
                close: *l,
                volume: 1.0,
            });
        }
        let h = ScriptHost::new(series, ScriptLimits::default());
        let src = "fn scan(p) { origins(2, 2).named(\"dip\").lowest_low(\"L\", \"origin\", 0, 1) }\nfn on_bar(t, p, v) {\n  #{ side: \"BUY\", anchor_a: v.origin * 1.0, anchor_b: low(v[\"L\"]), pattern: v.scan }\n}";
        let c = Rc::new(h.compile_source(Path::new("s.rhai"), src).unwrap());
        let mut s = h
            .bind(c.clone(), merge_params(&c, &toml::Table::new()).unwrap())
            .unwrap();
        let mut out = vec![];
        s.on_bar(2, &mut out).unwrap();
        assert_eq!(
            (out[0].anchor_a, out[0].anchor_b, out[0].pattern.as_deref()),
            (0.0, 5.0, Some("dip"))
        );
    }
}
