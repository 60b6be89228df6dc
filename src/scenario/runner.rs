//! Runs one scenario through the real engine: the config the scenario describes (its windows,
//! profile, script and `set` overrides on top of the project's config), the bars, in memory
//! (no file is touched), then `finish(true)` so open shadow trades close at the last close
//! (`end_of_data`), as in a backtest.

use super::format::{Scenario, ScenarioError};
use crate::config::Config;
use crate::host::book::Trade;
use crate::host::engine::{Engine, EngineOptions};
use crate::host::journal::Event;
use crate::host::signal::Signal;
use chrono::DateTime;

/// A rejection the engine journaled.
#[derive(Clone, Debug, PartialEq)]
pub struct RejectionSeen {
    /// Signal bar close, UTC seconds.
    pub time: i64,
    pub side: String,
    pub id: String,
    pub profile: String,
    pub reason: String,
    pub detail: String,
}

/// What the engine did with the scenario's bars.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub signals: Vec<Signal>,
    /// Shadow trades that exited (including `end_of_data`), in exit order.
    pub trades: Vec<Trade>,
    pub rejections: Vec<RejectionSeen>,
    /// `(bar close UTC, message)` of every script error.
    pub script_errors: Vec<(i64, String)>,
    /// Bars the engine refused (the runner validates bars, so this stays empty unless the
    /// engine's checks change).
    pub bars_rejected: Vec<(i64, String)>,
    /// Decimals of the instrument's prices, for printing.
    pub decimals: usize,
    /// Bar length (a trade's entry time is its entry bar's close minus this).
    pub bar_seconds: i64,
    /// Bars the script errors blanked and the first error (for the loud end of `vrev test`).
    pub script_failures: crate::strategy::script_failures::ScriptFailures,
}

/// Why a scenario could not run.
#[derive(Debug)]
pub enum RunError {
    /// A problem in the scenario file (a `set` the config refuses, an unknown profile, ...).
    Scenario(ScenarioError),
    /// The engine would not start (e.g. the script does not compile).
    Engine(String),
}

fn parse_utc(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.timestamp())
        .unwrap_or_default()
}

/// The config the scenario runs with: the project's, with the scenario's windows, strategy and
/// `set` overrides applied (each validated exactly as `config.toml` and `--set` are).
pub fn scenario_config(base: &Config, sc: &Scenario) -> Result<Config, ScenarioError> {
    let mut cfg = base.clone();
    if let Some(sessions) = &sc.sessions {
        cfg.session = sessions.value.iter().map(|s| s.value.clone()).collect();
        // Validate through the config's own loader (no second copy of the window rules).
        let text = toml::to_string(&cfg).map_err(|e| {
            sessions
                .place
                .error(&sc.file, format!("sessions: cannot apply: {e}"))
        })?;
        if let Err(e) = Config::from_text(&text, &cfg.source) {
            // The message starts with the key path, e.g. `session[1].start: ...`: point at that
            // element of `sessions`.
            let index = e
                .message
                .strip_prefix("session[")
                .and_then(|m| m.split(']').next())
                .and_then(|n| n.parse::<usize>().ok());
            let place = index
                .and_then(|i| sessions.value.get(i))
                .map(|s| s.place)
                .unwrap_or(sessions.place);
            let message = e.message.replacen("session[", "sessions[", 1);
            return Err(place.error(&sc.file, message));
        }
    }
    if let Some(p) = &sc.profile {
        if !cfg.profile.contains_key(&p.value) {
            let known: Vec<&str> = cfg.profile.keys().map(String::as_str).collect();
            return Err(p.place.error(
                &sc.file,
                format!(
                    "profile: `{}` is not a profile of {} (defined: {})",
                    p.value,
                    cfg.source.display(),
                    known.join(", ")
                ),
            ));
        }
    }
    if let Some(s) = &sc.strategy {
        let targets: Vec<String> = match &sc.profile {
            Some(p) => vec![p.value.clone()],
            None => cfg.session.iter().map(|w| w.profile.clone()).collect(),
        };
        for t in targets {
            if let Some(p) = cfg.profile.get_mut(&t) {
                p.strategy = s.value.clone();
            }
        }
    }
    for set in &sc.sets {
        cfg.apply_overrides(std::slice::from_ref(&set.value))
            .map_err(|e| set.place.error(&sc.file, format!("set: {e}")))?;
    }
    Ok(cfg)
}

/// Runs the scenario on the engine.
pub fn run(base: &Config, sc: &Scenario) -> Result<Outcome, RunError> {
    let cfg = scenario_config(base, sc).map_err(RunError::Scenario)?;
    run_config(&cfg, sc)
}

/// Runs the scenario with the script `target` (a canonical path) replaced by the file
/// `candidate` — a new version waiting at the reload gate. `Ok(None)` when no profile the
/// scenario runs uses `target`.
pub fn run_substituted(
    base: &Config,
    sc: &Scenario,
    target: &std::path::Path,
    candidate: &std::path::Path,
) -> Result<Option<Outcome>, RunError> {
    let mut cfg = scenario_config(base, sc).map_err(RunError::Scenario)?;
    let running: Vec<String> = match &sc.profile {
        Some(p) => vec![p.value.clone()],
        None => cfg.session.iter().map(|w| w.profile.clone()).collect(),
    };
    let mut uses = false;
    for name in running {
        let resolved = cfg
            .profile
            .get(&name)
            .map(|p| cfg.resolve(std::path::Path::new(&p.strategy)));
        if resolved
            .and_then(|r| std::fs::canonicalize(r).ok())
            .as_deref()
            == Some(target)
        {
            if let Some(p) = cfg.profile.get_mut(&name) {
                p.strategy = candidate.display().to_string();
                uses = true;
            }
        }
    }
    if !uses {
        return Ok(None);
    }
    run_config(&cfg, sc).map(Some)
}

fn run_config(cfg: &Config, sc: &Scenario) -> Result<Outcome, RunError> {
    let cfg = cfg.clone();
    let opts = EngineOptions {
        forced_profile: sc.profile.as_ref().map(|p| p.value.clone()),
        only_side: sc.only_side,
        keep_events: true,
        mode: "test".into(),
        emitted_before: sc.restart_with.clone(),
        ..EngineOptions::default()
    };
    let mut engine = Engine::new(&cfg, opts).map_err(|e| RunError::Engine(e.to_string()))?;
    for b in &sc.bars {
        engine.on_bar(&b.bar);
    }
    engine.finish(true);
    let mut out = Outcome {
        decimals: crate::market::price::price_decimals(cfg.instrument.tick_size),
        bar_seconds: cfg.engine.bar_seconds,
        script_failures: engine.script_failures.clone(),
        ..Outcome::default()
    };
    for ev in std::mem::take(&mut engine.events) {
        match ev {
            Event::Rejected {
                bar_time,
                signal_id,
                side,
                profile,
                reason,
                detail,
                ..
            } => out.rejections.push(RejectionSeen {
                time: parse_utc(&bar_time),
                side,
                id: signal_id,
                profile,
                reason,
                detail,
            }),
            Event::ScriptError {
                bar_time, error, ..
            } => out.script_errors.push((parse_utc(&bar_time), error)),
            Event::BarRejected {
                bar_time, reason, ..
            } => out.bars_rejected.push((parse_utc(&bar_time), reason)),
            _ => {}
        }
    }
    out.signals = std::mem::take(&mut engine.signals);
    out.trades = std::mem::take(&mut engine.trades);
    Ok(out)
}
