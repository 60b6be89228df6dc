//! `vrev check`: everything that can be found before a run. Each script is compiled and its
//! calls are checked against the functions that exist ([`crate::strategy::script_calls`], every path of
//! the code, reached or not); each config is validated; then every profile that uses a script
//! runs, with its own params, through the real engine in memory over a built-in synthetic
//! series ([`crate::market::synth`]: a V in each default window), with the script called on every bar,
//! so that its code actually runs. A script error (a wrong type, an invalid `side`, a runaway
//! loop, a NaN or absurd price, a missing field) fails the check with its `file:line:column`; a
//! script that never proposes anything on the series is a warning.

use crate::cli::args::CheckArgs;
use crate::config::Config;
use crate::host::engine::{Engine, EngineError, EngineOptions};
use crate::market::bar::{Bar, BarSeries};
use crate::strategy::script::{merge_params, CompiledScript, ScriptHost, ScriptLimits};
use crate::strategy::script_calls::{
    helper_engine, map_key_places, unknown_calls, unoptimized, wrong_type_hint, KnownFunctions,
};
use crate::strategy::script_failures::ScriptFailures;
use crate::strategy::StrategyError;
use anyhow::{bail, Result};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Trading days of the synthetic series every profile runs on.
pub const SYNTHETIC_DAYS: u32 = 3;

/// The synthetic series: [`SYNTHETIC_DAYS`] full Globex days with a long V in each default
/// window (overnight, morning, afternoon).
pub fn synthetic_series() -> Vec<Bar> {
    crate::market::synth::generate(&crate::market::synth::SynthOptions {
        days: SYNTHETIC_DAYS,
        ..Default::default()
    })
}

/// What running one profile over the synthetic series showed.
#[derive(Clone, Debug)]
pub struct Trial {
    /// Bars fed before the run ended (it stops at the first script error).
    pub bars: usize,
    /// Strategy calls (with a scan: bars the scan ran on).
    pub calls: u64,
    /// Proposals that reached the host rules (admitted or refused).
    pub proposals: u64,
    pub failures: ScriptFailures,
}

/// Runs `profile` of `cfg` over `bars` with the strategy called on every bar, stopping at the
/// first script error.
pub fn try_profile(cfg: &Config, profile: &str, bars: &[Bar]) -> Result<Trial, EngineError> {
    let mut engine = Engine::new(
        cfg,
        EngineOptions {
            forced_profile: Some(profile.to_string()),
            call_every_bar: true,
            mode: "check".into(),
            ..EngineOptions::default()
        },
    )?;
    let mut fed = 0;
    for b in bars {
        engine.on_bar(b);
        fed += 1;
        if engine.script_failures.first.is_some() {
            break;
        }
    }
    Ok(Trial {
        bars: fed,
        calls: engine.stats.strategy_calls,
        proposals: engine.stats.signals + engine.stats.rejections,
        failures: engine.script_failures.clone(),
    })
}

/// An error without a line whose message names a proposal key (`proposal `side` must be …`)
/// gets the place where the script writes that key.
pub fn locate_proposal_error(mut e: StrategyError, ast: &rhai::AST) -> StrategyError {
    if e.line.is_some() {
        return e;
    }
    let Some(key) = e.message.split('`').nth(1) else {
        return e;
    };
    let places = map_key_places(ast, key, &["anchor_a", "anchor_b"]);
    if let Some(&(l, c)) = places.first() {
        (e.line, e.column) = (Some(l), Some(c));
        if places.len() > 1 {
            let others: Vec<String> = places[1..]
                .iter()
                .map(|(l, c)| format!("{l}:{c}"))
                .collect();
            e.message = format!(
                "{} (`{key}` is also written at {})",
                e.message,
                others.join(", ")
            );
        }
    }
    e
}

/// Minimal config for a script no profile uses: the three default windows, every side.
const LONE_SCRIPT_CONFIG: &str = r#"
[[session]]
name = "overnight"
start = "03:00"
end = "04:00"
profile = "check"
[[session]]
name = "morning"
start = "09:00"
end = "11:00"
profile = "check"
[[session]]
name = "afternoon"
start = "13:30"
end = "15:00"
profile = "check"
[profile.check]
strategy = "builtin:vreversal"
direction = "both"
contracts = 1
stop_pct = 0.1
target_points = 3.0
max_hold_minutes = 25
max_daily_signals = 1000
"#;

/// Absolute form of a path, to recognise a script however it is named.
fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Compiles scripts once each and checks their calls; remembers the verdict.
struct Scripts {
    host: ScriptHost,
    /// The same helpers, compiling without the optimizer (every place kept) for the checks.
    plain: rhai::Engine,
    known: KnownFunctions,
    /// canonical path → compiled script and its unoptimized AST, or `None` when it has
    /// problems (already printed).
    seen: HashMap<PathBuf, Option<Examined>>,
    problems: usize,
}

/// A script that compiles and calls only what exists.
#[derive(Clone)]
struct Examined {
    compiled: Rc<CompiledScript>,
    /// Unoptimized: where each proposal key is written.
    ast: Rc<rhai::AST>,
}

impl Scripts {
    fn new() -> Self {
        let series = Rc::new(RefCell::new(BarSeries::with_capacity(64)));
        let limits = ScriptLimits::default();
        let engine = helper_engine();
        Scripts {
            host: ScriptHost::new(series, limits),
            known: KnownFunctions::of_engine(&engine),
            plain: unoptimized(engine),
            seen: HashMap::new(),
            problems: 0,
        }
    }

    /// The compiled script at `path` if it compiles and calls only what exists; prints `ok` or
    /// each problem the first time a script is seen.
    fn examine(&mut self, path: &Path) -> Option<Examined> {
        let key = canonical(path);
        if let Some(v) = self.seen.get(&key) {
            return v.clone();
        }
        let compiled = self.host.compile_file(path).and_then(|c| {
            // It compiled once, so it compiles again (the same text, the same helpers).
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let ast = self.plain.compile(text).map_err(|e| StrategyError {
                file: path.display().to_string(),
                line: e.position().line(),
                column: e.position().position(),
                message: e.err_type().to_string(),
            })?;
            Ok((c, ast))
        });
        let verdict = match compiled {
            Ok((c, ast)) => {
                let unknown = unknown_calls(&ast, &self.known);
                if unknown.is_empty() {
                    crate::outln!("ok      {} ({})", path.display(), c.version);
                    Some(Examined {
                        compiled: Rc::new(c),
                        ast: Rc::new(ast),
                    })
                } else {
                    for u in &unknown {
                        let e = StrategyError {
                            file: path.display().to_string(),
                            line: u.line,
                            column: u.column,
                            message: u.message.clone(),
                        };
                        crate::outln!("error   {e}");
                    }
                    self.problems += unknown.len();
                    None
                }
            }
            Err(e) => {
                crate::outln!("error   {e}");
                self.problems += 1;
                None
            }
        };
        self.seen.insert(key, verdict.clone());
        verdict
    }
}

/// Runs `profile` of `cfg` (whose script is `script`) on the synthetic series and prints the
/// verdict. Returns the number of problems (0 or 1).
fn trial(
    known: &KnownFunctions,
    cfg: &Config,
    profile: &str,
    script: &Examined,
    shown: &Path,
    bars: &[Bar],
) -> usize {
    let who = if profile == "check" && cfg.source == Path::new(LONE_SCRIPT_NAME) {
        "with its default params".to_string()
    } else {
        format!("profile `{profile}`")
    };
    // The error is printed below with its profile and bar: no second copy from the engine's log.
    let t = tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
        try_profile(cfg, profile, bars)
    });
    let t = match t {
        Ok(t) => t,
        Err(e) => {
            crate::outln!("error   {e}");
            return 1;
        }
    };
    if let Some((_, et, e)) = &t.failures.first {
        let mut e = locate_proposal_error(e.clone(), &script.ast);
        // Refused proposals name the script by its file name only: show the path checked.
        e.file = shown.display().to_string();
        if let Some(hint) = wrong_type_hint(&e.message, known) {
            e.message = format!("{}: {hint}", e.message);
        }
        crate::outln!(
            "error   {e} ({who}, on synthetic bar {} ET; vrev check runs every profile on {} synthetic bars, calling the script on every bar)",
            et.get(..16).unwrap_or(et),
            bars.len()
        );
        return 1;
    }
    if t.proposals == 0 {
        crate::outln!(
            "warning {}: {who} proposed nothing in {} calls on {} synthetic bars ({SYNTHETIC_DAYS} trading days with a long V in each default window): are its conditions ever met?",
            shown.display(),
            t.calls,
            t.bars
        );
    } else {
        crate::outln!(
            "ok      {}: {who} ran on {} synthetic bars: {} calls, {} proposal(s), no script error",
            shown.display(),
            t.bars,
            t.calls,
            t.proposals
        );
    }
    0
}

/// Name of the config a lone script runs under (for messages).
const LONE_SCRIPT_NAME: &str = "(vrev check: a profile for the script alone)";

/// `vrev check [SCRIPT_OR_CONFIG]...`: prints `ok`, `warning` and `error` lines; fails when any
/// problem was found.
pub fn run(a: &CheckArgs) -> Result<()> {
    for p in &a.paths {
        if !p.extension().is_some_and(|e| e == "toml" || e == "rhai") {
            bail!("{}: not a script (.rhai) or config (.toml)", p.display());
        }
    }
    let mut configs: Vec<PathBuf> = a
        .paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .cloned()
        .collect();
    let mut script_paths: Vec<PathBuf> = a
        .paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .cloned()
        .collect();
    if a.paths.is_empty() {
        configs.push(a.config.clone());
        let dir = match a.config.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) => parent.join("strategies"),
            None => PathBuf::from("strategies"),
        };
        if let Ok(dir) = std::fs::read_dir(dir) {
            let mut found: Vec<PathBuf> = dir
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
                .collect();
            found.sort();
            script_paths.extend(found);
        }
    }
    let bars = synthetic_series();
    let mut scripts = Scripts::new();
    let mut problems = 0usize;
    for s in &script_paths {
        scripts.examine(s);
    }
    // Scripts some profile ran with its params; the others run alone with their defaults.
    let mut used: BTreeSet<PathBuf> = BTreeSet::new();
    for c in &configs {
        let cfg = match Config::load(c) {
            Ok(cfg) => cfg,
            Err(e) => {
                problems += 1;
                crate::outln!("error   {e}");
                continue;
            }
        };
        let mut profile_problems = 0;
        for (name, prof) in &cfg.profile {
            if prof.strategy.starts_with("builtin:") {
                continue;
            }
            if let Some(place) = crate::host::sessions::missing_script(&cfg, name) {
                profile_problems += 1;
                crate::outln!("error   {place}");
                continue;
            }
            let path = cfg.resolve(Path::new(&prof.strategy));
            used.insert(canonical(&path));
            let Some(script) = scripts.examine(&path) else {
                profile_problems += 1;
                let place = cfg.place_of(&["profile", name, "strategy"]);
                crate::outln!(
                    "error   {place}: profile `{name}` uses {}, which has the problem(s) above",
                    path.display()
                );
                continue;
            };
            if let Err(m) = merge_params(&script.compiled, &prof.params) {
                profile_problems += 1;
                let mut place =
                    cfg.place_of(&["profile", name, "params", m.split('`').nth(1).unwrap_or("")]);
                if place.line.is_none() {
                    place = cfg.place_of(&["profile", name, "params"]);
                }
                place.message = format!("profile.{name}.params: {m}");
                crate::outln!("error   {place}");
                continue;
            }
            profile_problems += trial(&scripts.known, &cfg, name, &script, &path, &bars);
        }
        problems += profile_problems;
        if profile_problems == 0 {
            crate::outln!(
                "ok      {} ({} windows, {} profiles)",
                c.display(),
                cfg.session.len(),
                cfg.profile.len()
            );
        }
        for w in cfg.implausible() {
            crate::outln!("warning {w}");
        }
        for w in cfg.beyond_auto_trader_defaults() {
            crate::outln!("warning {w}");
        }
    }
    for s in &script_paths {
        if used.contains(&canonical(s)) {
            continue;
        }
        let Some(script) = scripts.examine(s) else {
            continue;
        };
        let mut cfg = Config::from_text(LONE_SCRIPT_CONFIG, Path::new(LONE_SCRIPT_NAME))
            .expect("the built-in check config is valid");
        cfg.base_dir = PathBuf::from(".");
        if let Some(p) = cfg.profile.get_mut("check") {
            p.strategy = s.display().to_string();
        }
        problems += trial(&scripts.known, &cfg, "check", &script, s, &bars);
    }
    problems += scripts.problems;
    if problems > 0 {
        bail!("{problems} problem(s) found");
    }
    Ok(())
}
