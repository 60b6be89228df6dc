//! The engine (DESIGN §3): one `on_bar` for live, replay, backtest and scenarios.
//!
//! For each bar, in this order: (1) the book advances open shadow trades, (2) the clock gives ET
//! time, trading day, window and profile, (3) the profile's strategy is called if the bar is
//! eligible, (4) the rules admit or reject each proposal, (5) the sinks write the signal file
//! (atomically), the ledger, the journal and a new shadow trade.

use crate::config::Config;
use crate::host::book::{Book, FillModel, Trade};
use crate::host::faults::Faults;
use crate::host::journal::{Event, Journal};
use crate::host::ledger::{Ledger, Recovery};
use crate::host::rules::{admit, Context, Seen};
use crate::host::sessions::Sessions;
use crate::host::signal::{signal_id, write_atomic, ExitSignal, Signal};
use crate::host::state_lock::StateLock;
use crate::market::bar::{Bar, BarSeries};
use crate::market::plausibility::Plausibility;
use crate::market::price::{price_decimals, Side};
use crate::market::time::{format_utc, EtStamp, MarketClock};
use crate::strategy::script_failures::ScriptFailures;
use crate::strategy::{Proposal, StrategyError};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

/// Where the engine's decisions go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outputs {
    /// Signal files, ledger and journal on disk, at the config's paths (replay, live).
    Files,
    /// Everything in memory (backtests, scenarios, tests): no file is touched.
    Memory,
}

/// How to run the engine.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Run this profile in every window (`--profile`). Default: each window's own profile.
    pub forced_profile: Option<String>,
    /// Narrow every profile to one side (`--buy-only` / `--sell-only`). Default: none.
    pub only_side: Option<Side>,
    /// Default [`Outputs::Memory`].
    pub outputs: Outputs,
    /// Overrides of the config's paths (`--signals`, `--journal`). Default: none.
    pub signals_dir: Option<PathBuf>,
    pub journal: Option<PathBuf>,
    /// Override of `engine.state_dir` (`--state`): the ledger and the lock. Default: none.
    pub state_dir: Option<PathBuf>,
    /// Start with an empty ledger (`--fresh`): the old one is kept aside
    /// ([`crate::host::fresh_ledger`]). Default false.
    pub fresh_ledger: bool,
    /// Keep every journal event in memory too ([`Engine::events`]). Default false.
    pub keep_events: bool,
    /// Name of the mode in the journal (`replay`, `run`, ...). Default "replay".
    pub mode: String,
    /// With [`Outputs::Memory`]: signal IDs an earlier run already emitted (as a restart would
    /// find them in the ledger). Default: none.
    pub emitted_before: Vec<String>,
    /// Live feeds (DESIGN §11, §14): the wall clock judges the bars. A bar closing in the
    /// future is refused; a signal whose EXPIRES is already past on the wall clock is refused as
    /// `expired` instead of written — a bar far behind the wall clock is history, whatever frame
    /// brought it (the older publisher sends a chart's whole history as live `bar` frames while
    /// NinjaTrader loads it). Default false (replay, backtest: data time only).
    pub wall_clock: bool,
    /// NinjaTrader Playback (`vrev run --playback`): bar times have nothing to do with the wall
    /// clock. Signals of live frames are not expired by it (the auto-trader checks EXPIRES
    /// against data time) and bars are judged by their neighbours only, as in a replay; history
    /// batches still expire. Only with `wall_clock`. Default false.
    pub playback: bool,
    /// Call every profile's strategy on every bar, inside its windows or not (`vrev check`
    /// runs each script's code on a whole synthetic series; `vrev explain` shows a bar outside
    /// the windows). Proposals outside the windows are still refused by rule 1. Default false.
    pub call_every_bar: bool,
    /// Keep every proposal put to the rules with each rule's verdict ([`Engine::considered`];
    /// `vrev explain`). Default false.
    pub keep_rule_verdicts: bool,
    /// Record what the scripts read for a backtest report's indicator overlays
    /// ([`Engine::take_series_record`]): each series' reads by profile, its values at each
    /// trading day's last bar and on the bars `record_series.0` before a signal to
    /// `record_series.1` after an exit. Default `None` (not recorded: no cost).
    pub record_series: Option<(usize, usize)>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            forced_profile: None,
            only_side: None,
            outputs: Outputs::Memory,
            signals_dir: None,
            journal: None,
            state_dir: None,
            fresh_ledger: false,
            keep_events: false,
            mode: "replay".into(),
            emitted_before: Vec::new(),
            wall_clock: false,
            playback: false,
            call_every_bar: false,
            keep_rule_verdicts: false,
            record_series: None,
        }
    }
}

pub use crate::host::engine_error::EngineError;

/// The refusal reason of a proposal made on a bar of a history burst ([`Engine::on_burst_bar`]).
pub const HISTORY_BURST: &str = "history_burst";

/// Counters for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    pub bars: u64,
    /// Bars rejected as invalid or not after the previous bar.
    pub bars_skipped: u64,
    pub strategy_calls: u64,
    pub signals: u64,
    pub rejections: u64,
    pub script_errors: u64,
    /// Bars refused as implausible (far from their neighbours, or closing in the future).
    pub bars_implausible: u64,
    /// Refused proposals by reason (`duplicate`, `expired`, ...).
    pub rejected_by: std::collections::BTreeMap<String, u64>,
    /// Trades a script asked to close (`#{ exit: ... }`).
    pub script_exits: u64,
    /// Close time and trading day of the first bar accepted: a summary's date range runs from
    /// it to the newest accepted bar, never to a refused one (issue 19: "… 3000-01-01").
    pub first_bar: Option<(i64, chrono::NaiveDate)>,
    /// Trading days with at least one accepted bar.
    pub trading_days: u64,
}

/// The engine. Not `Send`: it lives on one thread (scripts share the bar history in place).
pub struct Engine {
    clock: MarketClock,
    /// Minutes after ET midnight at which the trading day rolls.
    day_start_minute: u32,
    series: Rc<RefCell<BarSeries>>,
    sessions: Sessions,
    book: Book,
    ledger: Ledger,
    emitted_this_run: HashSet<String>,
    /// Admitted signals per profile on its latest trading day.
    daily_counts: HashMap<String, (chrono::NaiveDate, u32)>,
    journal: Option<Journal>,
    signals_dir: Option<PathBuf>,
    fsync: bool,
    instrument: String,
    tick_size: f64,
    point_value: f64,
    decimals: usize,
    ttl: i64,
    proposals: Vec<Proposal>,
    /// Exits the strategy asked for on this bar (a buffer kept between bars).
    exits: Vec<crate::strategy::ExitRequest>,
    closed: Vec<Trade>,
    last_bar: Option<(Bar, EtStamp)>,
    error_places_shown: HashSet<String>,
    /// Admitted signals, in order.
    pub signals: Vec<Signal>,
    /// Shadow trades that have exited, in order.
    pub trades: Vec<Trade>,
    /// Journal events, when `keep_events`.
    pub events: Vec<Event>,
    keep_events: bool,
    wall_clock: bool,
    playback: bool,
    plausibility: Plausibility,
    /// Bars [`Plausibility::judge`] released for processing (a buffer kept between bars).
    ready_bars: Vec<Bar>,
    /// The bar being processed came in a history batch.
    history_bar: bool,
    /// The bar being processed came in a burst of live frames that is chart history
    /// ([`Engine::on_burst_bar`]): it warms the strategies up, never a signal.
    burst_bar: bool,
    pub stats: EngineStats,
    pub recovery: Recovery,
    /// Where `--fresh` moved the previous ledger, if there was one.
    pub ledger_set_aside: Option<PathBuf>,
    /// Write failures of this run (DESIGN §14); the exit code reports them.
    pub faults: Faults,
    /// Bars a script error left without a signal, and the first error with its place.
    pub script_failures: ScriptFailures,
    /// Proposals put to the rules with every rule's verdict, when `keep_rule_verdicts`.
    pub considered: Option<Vec<crate::host::rules::Considered>>,
    /// The state folder's and the signals folder's locks, held while the engine lives
    /// ([`Outputs::Files`]).
    _lock: Option<(StateLock, StateLock)>,
    /// `state/HALT` ([`Outputs::Files`]): the kill switch, and whether it was on when last looked at.
    kill_switch: Option<PathBuf>,
    kill_switch_on: bool,
    /// [`EngineOptions::record_series`].
    record_series: Option<(usize, usize)>,
}

impl Engine {
    pub fn new(cfg: &Config, opts: EngineOptions) -> Result<Engine, EngineError> {
        let series = Rc::new(RefCell::new(BarSeries::with_capacity(
            cfg.engine.history_bars,
        )));
        let mut sessions = Sessions::build(
            cfg,
            opts.forced_profile.clone(),
            opts.only_side,
            series.clone(),
            opts.wall_clock,
        )?;
        if opts.call_every_bar {
            sessions.call_every_slot_on_every_bar();
        }
        if opts.record_series.is_some() {
            sessions.record_series();
        }
        let mut ledger_set_aside = None;
        let (ledger, recovery, journal, signals_dir, lock, kill_switch) = match opts.outputs {
            Outputs::Memory => (
                Ledger::with_ids(opts.emitted_before.iter().cloned()),
                Recovery::default(),
                None,
                None,
                None,
                None,
            ),
            Outputs::Files => {
                let signals_dir = opts
                    .signals_dir
                    .clone()
                    .unwrap_or_else(|| cfg.resolve(&cfg.engine.signals_dir));
                let state_dir = opts
                    .state_dir
                    .clone()
                    .unwrap_or_else(|| cfg.resolve(&cfg.engine.state_dir));
                let journal_path = opts
                    .journal
                    .clone()
                    .unwrap_or_else(|| cfg.resolve(&cfg.engine.journal));
                let io = |what: &str, p: &Path, e: std::io::Error| {
                    EngineError::Io(format!("{}: cannot open {what}: {e}", p.display()))
                };
                // Issue 19: `--signals FILE` was reported as "state: cannot open the ledger".
                for (what, dir) in [
                    ("the signals folder", &signals_dir),
                    ("the state folder", &state_dir),
                ] {
                    if dir.exists() && !dir.is_dir() {
                        return Err(EngineError::Io(format!(
                            "{}: cannot use as {what}: it is a file, not a folder",
                            dir.display()
                        )));
                    }
                    std::fs::create_dir_all(dir).map_err(|e| io(what, dir, e))?;
                }
                // Before the ledger is even read: a second engine must not see a ledger that
                // the first one is still writing.
                let lock = StateLock::acquire(&state_dir, &opts.mode).map_err(EngineError::Io)?;
                // One engine per signals folder too, whatever the prefixes: two engines with
                // their own state folders would both write into it, and the auto-trader would
                // take the signals of both. Before the folder is scanned.
                let signals_lock = StateLock::acquire_signals(&signals_dir, &state_dir, &opts.mode)
                    .map_err(EngineError::Io)?;
                if opts.fresh_ledger {
                    // Under the lock: no other engine is reading the ledger being moved.
                    ledger_set_aside =
                        crate::host::fresh_ledger::set_aside(&state_dir, chrono::Utc::now())
                            .map_err(|e| io("the ledger (--fresh)", &state_dir, e))?;
                }
                let prefixes: Vec<String> = cfg
                    .profile
                    .values()
                    .map(|p| p.signal_prefix.clone())
                    .collect();
                let (ledger, rec) =
                    Ledger::open(&state_dir, &signals_dir, &prefixes, cfg.engine.fsync)
                        .map_err(|e| io("the ledger", &state_dir, e))?;
                let journal = Journal::open(&journal_path)
                    .map_err(|e| io("the journal", &journal_path, e))?;
                let halt = crate::host::kill_switch::path(&state_dir);
                (
                    ledger,
                    rec,
                    Some(journal),
                    Some(signals_dir),
                    Some((lock, signals_lock)),
                    Some(halt),
                )
            }
        };
        let mut engine = Engine {
            clock: MarketClock::exchange_rolling_at(cfg.engine.trading_day_start_minute()),
            day_start_minute: cfg.engine.trading_day_start_minute(),
            series,
            sessions,
            book: Book::new(FillModel::from_config(cfg)),
            ledger,
            emitted_this_run: HashSet::new(),
            daily_counts: HashMap::new(),
            journal,
            signals_dir,
            fsync: cfg.engine.fsync,
            instrument: cfg.instrument.symbol.clone(),
            tick_size: cfg.instrument.tick_size,
            point_value: cfg.instrument.point_value,
            decimals: price_decimals(cfg.instrument.tick_size),
            ttl: cfg.engine.signal_ttl_seconds,
            proposals: Vec::new(),
            exits: Vec::new(),
            closed: Vec::new(),
            last_bar: None,
            error_places_shown: HashSet::new(),
            signals: Vec::new(),
            trades: Vec::new(),
            events: Vec::new(),
            keep_events: opts.keep_events,
            wall_clock: opts.wall_clock,
            playback: opts.playback,
            plausibility: Plausibility::default(),
            ready_bars: Vec::with_capacity(2),
            history_bar: false,
            burst_bar: false,
            stats: EngineStats::default(),
            recovery,
            ledger_set_aside,
            faults: Faults::default(),
            script_failures: ScriptFailures::default(),
            considered: opts.keep_rule_verdicts.then(Vec::new),
            _lock: lock,
            kill_switch,
            kill_switch_on: false,
            record_series: opts.record_series,
        };
        let start = Event::RunStart {
            mode: opts.mode.clone(),
            config: cfg.source.display().to_string(),
            profiles: engine
                .sessions
                .slots
                .iter()
                .map(|s| s.profile_name.clone())
                .collect(),
            strategies: engine
                .sessions
                .slots
                .iter()
                .map(|s| s.strategy.version().to_string())
                .collect(),
            ledger_ids: engine.ledger.len(),
            recovered_from_files: engine.recovery.from_files,
        };
        engine.emit(start);
        // A switch already on at start is journaled before the first bar.
        engine.poll_kill_switch();
        Ok(engine)
    }

    /// Where the ledger of emitted IDs lives, for messages.
    pub fn ledger_place(&self) -> String {
        self.ledger.describe()
    }

    /// How many IDs the ledger holds (earlier runs and this one).
    pub fn ledger_len(&self) -> usize {
        self.ledger.len()
    }

    /// The signal folder, for messages (`(in memory)` without files).
    pub fn signals_place(&self) -> String {
        match &self.signals_dir {
            Some(d) => d.display().to_string(),
            None => "(in memory)".into(),
        }
    }

    /// The shadow-trade book (open positions, realized P&L, fill model).
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// Which profile runs each window, in config order: (window, profile, strategy version).
    pub fn window_profiles(&self) -> Vec<(String, String, String)> {
        self.sessions.window_profiles()
    }

    /// The config currently in force (windows and profiles as last reloaded).
    pub fn config(&self) -> &Config {
        &self.sessions.cfg
    }

    /// Takes a new version of the script at `path` between two bars: compiled, bound to every
    /// profile that uses it and tried on the latest bars; only if all of that works does it
    /// replace the running version. Journals `reload` or `reload_failed`; returns whether the
    /// new version is live.
    pub fn reload_script(&mut self, path: &Path, source: &str) -> bool {
        let hash = crate::strategy::content_hash(source.as_bytes());
        let newest = self.series.borrow().last();
        let at = self
            .last_bar
            .map(|(b, _)| format_utc(b.close_time))
            .unwrap_or_default();
        match self.sessions.reload_script(path, source, newest) {
            Ok(r) => {
                tracing::warn!(
                    "reloaded {} ({} -> {}) for {}{}",
                    r.file,
                    r.old_hash.as_deref().unwrap_or("new"),
                    r.new_hash,
                    if r.profiles.is_empty() {
                        "no profile yet".into()
                    } else {
                        format!("profile(s) {}", r.profiles.join(", "))
                    },
                    if r.state.is_empty() {
                        String::new()
                    } else {
                        format!("; state: {}", r.state)
                    }
                );
                let ev = Event::Reload {
                    after_bar: at,
                    file: r.file,
                    old_hash: r.old_hash,
                    new_hash: r.new_hash,
                    profiles: r.profiles,
                    state: r.state,
                    notes: vec![],
                };
                self.emit(ev);
                true
            }
            Err(e) => {
                tracing::error!("reload refused, the running version stays: {e}");
                let ev = Event::ReloadFailed {
                    after_bar: at,
                    file: e.file.clone(),
                    hash,
                    error: e.to_string(),
                };
                self.emit(ev);
                false
            }
        }
    }

    /// Takes a new config between two bars (windows remapped, profiles changed): checked and
    /// built completely before it replaces the running one. Journals `reload`/`reload_failed`.
    pub fn reload_config(&mut self, cfg: Config, text: &str) -> bool {
        let hash = crate::strategy::content_hash(text.as_bytes());
        let file = cfg.source.display().to_string();
        let newest = self.series.borrow().last();
        let at = self
            .last_bar
            .map(|(b, _)| format_utc(b.close_time))
            .unwrap_or_default();
        let before: Vec<String> = self
            .window_profiles()
            .into_iter()
            .map(|(w, p, _)| format!("{w}={p}"))
            .collect();
        match self.sessions.reload_config(cfg, newest) {
            Ok(notes) => {
                let after: Vec<String> = self
                    .window_profiles()
                    .into_iter()
                    .map(|(w, p, _)| format!("{w}={p}"))
                    .collect();
                tracing::warn!(
                    "reloaded {file}: windows {}{}",
                    after.join(", "),
                    notes.iter().map(|n| format!("; {n}")).collect::<String>()
                );
                let state = if before == after {
                    "windows unchanged".to_string()
                } else {
                    format!("windows {} -> {}", before.join(", "), after.join(", "))
                };
                let ev = Event::Reload {
                    after_bar: at,
                    file,
                    old_hash: None,
                    new_hash: hash,
                    profiles: self
                        .sessions
                        .slots
                        .iter()
                        .map(|s| s.profile_name.clone())
                        .collect(),
                    state,
                    notes,
                };
                self.emit(ev);
                true
            }
            Err(e) => {
                tracing::error!("config reload refused, the running config stays: {e}");
                let ev = Event::ReloadFailed {
                    after_bar: at,
                    file,
                    hash,
                    error: e.to_string(),
                };
                self.emit(ev);
                false
            }
        }
    }

    /// Journals a reload that could not even be attempted (unreadable file, config syntax).
    pub fn reload_refused(&mut self, file: &Path, text: &str, error: String) {
        tracing::error!("reload refused, the running version stays: {error}");
        let at = self
            .last_bar
            .map(|(b, _)| format_utc(b.close_time))
            .unwrap_or_default();
        let ev = Event::ReloadFailed {
            after_bar: at,
            file: file.display().to_string(),
            hash: crate::strategy::content_hash(text.as_bytes()),
            error,
        };
        self.emit(ev);
    }

    /// Looks at the kill switch file (`state/HALT`) and journals a change (`kill_switch`
    /// event) since the last look. Called before every signal would be written and, live,
    /// between bars. Returns whether the switch is on. Always off without files.
    pub fn poll_kill_switch(&mut self) -> bool {
        let Some(file) = &self.kill_switch else {
            return false;
        };
        let on = crate::host::kill_switch::is_on(file);
        if on != self.kill_switch_on {
            self.kill_switch_on = on;
            let detail = if on {
                crate::host::kill_switch::note(file)
            } else {
                format!("{} removed: new entries admitted again", file.display())
            };
            if on {
                tracing::warn!("kill switch ON ({detail}): every new entry is refused");
            } else {
                tracing::warn!("kill switch off: {detail}");
            }
            let ev = Event::KillSwitch {
                on,
                detail,
                time: format_utc(chrono::Utc::now().timestamp()),
            };
            self.emit(ev);
        }
        on
    }

    /// The kill switch as last looked at ([`Engine::poll_kill_switch`]).
    pub fn kill_switch_on(&self) -> bool {
        self.kill_switch_on
    }

    /// The kill switch file, when the engine writes files.
    pub fn kill_switch_file(&self) -> Option<&Path> {
        self.kill_switch.as_deref()
    }

    /// Turns the kill switch on or off from inside the run (the desk's `h` / `r` keys): writes
    /// or removes the file, then journals the change as any other. `by` names who did it.
    pub fn set_kill_switch(&mut self, on: bool, by: &str) -> Result<(), String> {
        let Some(file) = self.kill_switch.clone() else {
            return Err("no state folder: the kill switch needs files".into());
        };
        let dir = file.parent().unwrap_or(Path::new("."));
        let done = if on {
            crate::host::kill_switch::trip(dir, by)
        } else {
            crate::host::kill_switch::release(dir)
        };
        done.map_err(|e| format!("{}: {e}", file.display()))?;
        self.poll_kill_switch();
        Ok(())
    }

    /// Journals something a person did at the live desk (a key) and what it did.
    pub fn journal_desk(&mut self, action: &str, detail: &str) {
        let ev = Event::Desk {
            action: action.to_string(),
            detail: detail.to_string(),
            time: format_utc(chrono::Utc::now().timestamp()),
        };
        self.emit(ev);
    }

    /// The profiles the config defines, in name order (what a window can be switched to).
    pub fn profile_names(&self) -> Vec<String> {
        self.sessions.cfg.profile.keys().cloned().collect()
    }

    /// The runtime overrides window → profile in force ([`Engine::switch_profile`]).
    pub fn profile_overrides(&self) -> &std::collections::BTreeMap<String, String> {
        self.sessions.overrides()
    }

    /// Runs `profile` in `window` from the next bar on, until the engine stops (the live
    /// desk's `p` key): a runtime override, journaled as a `desk` event, the config file
    /// untouched. Built like a reload (an unchanged profile keeps its state, a new one is tried
    /// on the latest bars first); on error nothing changes and the error is journaled too.
    pub fn switch_profile(
        &mut self,
        window: &str,
        profile: &str,
        by: &str,
    ) -> Result<String, String> {
        let newest = self.series.borrow().last();
        match self.sessions.override_profile(window, profile, newest) {
            Ok(before) => {
                let detail = format!(
                    "window {window}: profile {before} -> {profile} by {by} (runtime override until restart; the config file is not edited)"
                );
                self.journal_desk("switch_profile", &detail);
                Ok(detail)
            }
            Err(e) => {
                let detail = format!("window {window}: profile {profile} refused: {e}");
                self.journal_desk("switch_profile_refused", &detail);
                Err(detail)
            }
        }
    }

    /// Close time of the newest bar accepted, if any.
    pub fn last_bar_time(&self) -> Option<i64> {
        self.last_bar.map(|(b, _)| b.close_time)
    }

    /// The CME trading day of the newest bar accepted, if any.
    pub fn last_trading_day(&self) -> Option<chrono::NaiveDate> {
        self.last_bar.map(|(_, stamp)| stamp.trading_day)
    }

    /// `yyyy-MM-dd HH:mm:ss` ET of a UTC instant, for the journal and warnings.
    fn et(&self, utc: i64) -> String {
        self.clock.stamp(utc).format()
    }

    /// The instant of `HH:MM` ET on `trading_day` (which runs from `trading_day_start` on the
    /// day before): the profile's `flat_by` for a signal of that trading day.
    fn flat_by_instant(&self, hhmm: &str, trading_day: chrono::NaiveDate) -> Option<i64> {
        let minute = crate::market::time::parse_hhmm(hhmm)?;
        let date = if minute >= self.day_start_minute {
            trading_day.pred_opt()?
        } else {
            trading_day
        };
        let naive = date.and_hms_opt(minute / 60, minute % 60, 0)?;
        self.clock.local_to_utc(naive, None).ok()
    }

    /// The wall clock's `now` when a file expiring at `expires` would come too late (DESIGN §11,
    /// §14): history bars, and live bars far behind the wall clock outside Playback. `None`
    /// offline and whenever the file is still in time. Signals and exit files share this rule.
    fn past_expiry(&self, expires: i64) -> Option<i64> {
        if !(self.wall_clock && (self.history_bar || !self.playback)) {
            return None;
        }
        let now = chrono::Utc::now().timestamp();
        (now > expires).then_some(now)
    }

    pub fn clock(&self) -> &MarketClock {
        &self.clock
    }

    /// The bar history the strategies read (newest bar last).
    pub fn series(&self) -> std::cell::Ref<'_, BarSeries> {
        self.series.borrow()
    }

    fn emit(&mut self, event: Event) {
        let failed = match &mut self.journal {
            Some(j) if self.faults.halted.is_none() => j
                .write(&event)
                .err()
                .map(|e| format!("journal {}: {e}", j.path().display())),
            _ => None,
        };
        if let Some(why) = failed {
            self.halt(why);
        }
        if self.keep_events {
            self.events.push(event);
        }
    }

    /// State can no longer be recorded: admit nothing more in this run (DESIGN §14), loudly.
    fn halt(&mut self, why: String) {
        if self.faults.halted.is_some() {
            return;
        }
        crate::market::out::err(&format!(
            "ERROR: vrev cannot record its state ({why}).\nERROR: no further signal is admitted in this run; signals already in place stay counted. Free the disk or fix the folder, then restart."
        ));
        self.faults.halted = Some(why.clone());
        // Try to leave the reason in the journal too (it may be the journal that failed).
        if let Some(j) = &mut self.journal {
            let _ = j.write(&Event::Halted { reason: why });
        }
    }

    /// Feeds one bar of a live feed's history batch: it warms the strategies up exactly like a
    /// live bar, but a signal it produces is written only if its EXPIRES is still ahead on the
    /// wall clock (with `expire_history_by_wall_clock`).
    pub fn on_history_bar(&mut self, bar: &Bar) {
        self.history_bar = true;
        self.on_bar(bar);
        self.history_bar = false;
    }

    /// Feeds one bar that came as a live frame but in a burst the feed judged to be chart
    /// history (the older publisher sends a chart's history as live `bar` frames while
    /// NinjaTrader loads it; `docs/live.md`): it warms the strategies up like a history bar,
    /// and every proposal it brings is refused as `history_burst`, whatever the clocks say.
    pub fn on_burst_bar(&mut self, bar: &Bar) {
        self.history_bar = true;
        self.burst_bar = true;
        self.on_bar(bar);
        self.burst_bar = false;
        self.history_bar = false;
    }

    /// Journals a feed event (connect, disconnect, silence) through the engine's journal.
    pub fn journal_feed(&mut self, state: &str, detail: &str) {
        let ev = Event::Feed {
            state: state.to_string(),
            detail: detail.to_string(),
            time: format_utc(chrono::Utc::now().timestamp()),
        };
        self.emit(ev);
    }

    /// Feeds one bar through the engine. Invalid bars and bars not after the previous one are
    /// rejected (journaled, counted) and leave the state untouched; an implausible bar is held
    /// until the next bar shows whether it is real ([`crate::market::plausibility`]).
    pub fn on_bar(&mut self, bar: &Bar) {
        let arrived = Instant::now();
        if let Some(reason) = bar.invalid_reason() {
            self.skip_bar(bar, reason.to_string());
            return;
        }
        let judge_by_wall_clock = self.wall_clock && !self.playback;
        if judge_by_wall_clock {
            let ahead = bar.close_time - chrono::Utc::now().timestamp();
            if ahead > crate::market::plausibility::MAX_FUTURE_SECONDS {
                self.stats.bars_implausible += 1;
                let why = format!("implausible: closes {ahead} s after the wall clock");
                self.skip_bar(bar, why);
                return;
            }
        }
        if let Some((last, _)) = &self.last_bar {
            if bar.close_time <= last.close_time {
                let why = if bar.close_time == last.close_time {
                    "duplicate: same close time as the previous bar"
                } else {
                    "out of order: before the previous bar"
                };
                self.skip_bar(bar, why.to_string());
                return;
            }
        }
        // Reused buffers: no allocation per bar on the hot path.
        let mut ready = std::mem::take(&mut self.ready_bars);
        let mut refused = Vec::new();
        let last = self.last_bar.map(|(b, _)| b);
        self.plausibility.judge(
            last.as_ref(),
            bar,
            !judge_by_wall_clock,
            &mut ready,
            &mut refused,
        );
        self.refuse_implausible(refused);
        for b in ready.drain(..) {
            self.accept_bar(&b, arrived);
        }
        self.ready_bars = ready;
    }

    fn refuse_implausible(&mut self, refused: Vec<(Bar, String)>) {
        for (b, why) in refused {
            self.stats.bars_implausible += 1;
            self.skip_bar(&b, why);
        }
    }

    /// A bar that passed every check: book, clock, strategy, rules, sinks.
    fn accept_bar(&mut self, bar: &Bar, arrived: Instant) {
        self.stats.bars += 1;
        let (signals_before, closed_before) = (self.signals.len(), self.trades.len());
        let t = self.series.borrow_mut().push(bar);
        let stamp = self.clock.stamp(bar.close_time);
        if self.last_trading_day() != Some(stamp.trading_day) {
            self.stats.trading_days += 1;
        }
        self.stats
            .first_bar
            .get_or_insert((bar.close_time, stamp.trading_day));
        self.last_bar = Some((*bar, stamp));

        // 1. Book: fills and exits for this bar, before the strategy sees it.
        self.book.on_bar(bar, stamp.trading_day, &mut self.closed);
        for trade in std::mem::take(&mut self.closed) {
            self.record_closed(trade);
        }

        // 2. Clock: the active window and its profile.
        let active = self.sessions.active(&stamp);

        // 3–5. Strategy, rules, sinks.
        if let Some(w) = active {
            let slot = self.sessions.windows[w].slot;
            self.run_slot(slot, Some(w), t, bar, &stamp, arrived);
        }
        for n in 0..self.sessions.every_bar.len() {
            let slot = self.sessions.every_bar[n];
            if active.map(|w| self.sessions.windows[w].slot) != Some(slot) {
                self.run_slot(slot, None, t, bar, &stamp, arrived);
            }
        }
        // A bar with a signal, an exit or a trade open: the series' values around it are
        // recorded for the report.
        if let Some((before, after)) = self.record_series {
            if self.signals.len() > signals_before
                || self.trades.len() > closed_before
                || self.book.open_count() > 0
            {
                self.sessions.record_series_around(before, after);
            }
        }
    }

    fn skip_bar(&mut self, bar: &Bar, reason: String) {
        self.stats.bars_skipped += 1;
        self.emit(Event::BarRejected {
            bar_time: format_utc(bar.close_time),
            bar_time_et: self.et(bar.close_time),
            reason,
        });
    }

    fn record_closed(&mut self, trade: Trade) {
        let f = |t: Option<i64>| t.map(format_utc).unwrap_or_default();
        self.emit(Event::TradeClosed {
            signal_id: trade.signal_id.clone(),
            side: trade.side.as_str().into(),
            entry_time: f(trade.entry_time),
            entry_time_et: trade.entry_time.map(|t| self.et(t)).unwrap_or_default(),
            entry: trade.entry_price.unwrap_or(f64::NAN),
            exit_time: f(trade.exit_time),
            exit_time_et: trade.exit_time.map(|t| self.et(t)).unwrap_or_default(),
            exit: trade.exit_price.unwrap_or(f64::NAN),
            reason: trade.exit_reason.map(|r| r.as_str()).unwrap_or("").into(),
            pnl: trade.pnl.unwrap_or(0.0),
        });
        self.trades.push(trade);
    }

    fn run_slot(
        &mut self,
        slot: usize,
        window: Option<usize>,
        t: usize,
        bar: &Bar,
        stamp: &EtStamp,
        arrived: Instant,
    ) {
        let mut proposals = std::mem::take(&mut self.proposals);
        proposals.clear();
        self.stats.strategy_calls += 1;
        let position = self
            .book
            .position_of(&self.sessions.slots[slot].profile_name)
            .map(|tr| crate::strategy::position::OpenPosition {
                id: tr.signal_id.clone(),
                side: tr.side.as_str(),
                entry: tr.entry_price.unwrap_or(f64::NAN),
                stop: tr.stop,
                target: tr.target,
                contracts: tr.contracts,
                bars_held: tr.bars_held,
                open_points: tr.open_points(bar.close),
            });
        crate::strategy::position::set(position);
        if self.record_series.is_some() {
            self.sessions.set_series_reader(slot);
        }
        let result = self.sessions.slots[slot].strategy.on_bar(t, &mut proposals);
        crate::strategy::position::set(None);
        if let Err(e) = result {
            self.script_error(slot, bar, e);
        }
        let mut exits = std::mem::take(&mut self.exits);
        self.sessions.slots[slot].strategy.take_exits(&mut exits);
        for x in exits.drain(..) {
            self.script_exit(slot, bar, x);
        }
        self.exits = exits;
        // BUY goes through the rules before SELL on the same bar (DESIGN §10a).
        proposals.sort_by_key(|p| p.side != Side::Buy);
        for p in proposals.drain(..) {
            if let Err(message) = crate::host::proposal_check::check(&p, bar.close) {
                let file = self.sessions.slots[slot].strategy.version().name.clone();
                let e = StrategyError {
                    file,
                    line: None,
                    column: None,
                    message: format!("refused proposal: {message}"),
                };
                self.script_error(slot, bar, e);
                continue;
            }
            self.consider(slot, window, &p, bar, stamp, arrived);
        }
        self.proposals = proposals;
    }

    /// A script's exit: marks the open trade(s) for an exit at the next bar's open and writes
    /// each one's exit file (once: the ledger keeps `exit:<ID>`, across restarts too).
    fn script_exit(&mut self, slot: usize, bar: &Bar, x: crate::strategy::ExitRequest) {
        if let Some(why) = crate::config::value_problem(&x.reason, 200) {
            let file = self.sessions.slots[slot].strategy.version().name.clone();
            let e = StrategyError {
                file,
                line: None,
                column: None,
                message: format!("refused exit: `reason` {:?} {why}", x.reason),
            };
            self.script_error(slot, bar, e);
            return;
        }
        let profile = self.sessions.slots[slot].profile_name.clone();
        let prefix = self.sessions.slots[slot].profile.signal_prefix.clone();
        let ids = self
            .book
            .request_exit(&profile, &x.target, &x.reason, bar.close_time);
        let bar_time_et = self.et(bar.close_time);
        let event = |signal_id: String, file: String, detail: String| Event::ScriptExit {
            bar_time: format_utc(bar.close_time),
            bar_time_et: bar_time_et.clone(),
            profile: profile.clone(),
            signal_id,
            reason: x.reason.clone(),
            file,
            detail,
        };
        if ids.is_empty() {
            let detail = match &x.target {
                crate::strategy::ExitTarget::All => "no open trade of this profile".to_string(),
                crate::strategy::ExitTarget::Id(id) => {
                    format!("no open trade of this profile has the ID {id}")
                }
            };
            let ev = event(String::new(), String::new(), detail);
            self.emit(ev);
            return;
        }
        for id in ids {
            let exit = ExitSignal {
                signal_id: id.clone(),
                prefix: prefix.clone(),
                reason: x.reason.clone(),
                time: bar.close_time,
                expires: bar.close_time + self.ttl,
            };
            self.stats.script_exits += 1;
            if self.ledger.contains(&exit.ledger_id()) {
                let ev = event(
                    id,
                    String::new(),
                    "written before this run (ledger): not written again".into(),
                );
                self.emit(ev);
                continue;
            }
            let Some(dir) = self.signals_dir.clone() else {
                let ev = event(id, String::new(), "in memory".into());
                self.emit(ev);
                continue;
            };
            if let Some(why) = &self.faults.halted {
                let detail =
                    format!("state could not be recorded earlier in this run ({why}): not written");
                let ev = event(id, String::new(), detail);
                self.emit(ev);
                continue;
            }
            if let Some(now) = self.past_expiry(exit.expires) {
                let detail = format!(
                    "EXPIRES {} is past (now {}): history, not written",
                    format_utc(exit.expires),
                    format_utc(now)
                );
                let ev = event(id, String::new(), detail);
                self.emit(ev);
                continue;
            }
            let written = std::fs::create_dir_all(&dir).and_then(|_| {
                write_atomic(
                    &dir,
                    &exit.file_name(),
                    exit.render().as_bytes(),
                    self.fsync,
                )
            });
            match written {
                Ok(path) => {
                    let ledger_failed = self
                        .ledger
                        .record(&exit.ledger_id())
                        .err()
                        .map(|e| format!("ledger {}: {e}", self.ledger.describe()));
                    let ev = event(id, path.display().to_string(), String::new());
                    self.emit(ev);
                    if let Some(why) = ledger_failed {
                        self.halt(why);
                    }
                }
                Err(e) => {
                    crate::market::out::err(&format!(
                        "ERROR: exit of {id} NOT written to {}: {e}",
                        dir.display()
                    ));
                    self.faults
                        .unwritten_signals
                        .push((exit.ledger_id(), e.to_string()));
                    let ev = event(id, String::new(), format!("NOT written: {e}"));
                    self.emit(ev);
                }
            }
        }
    }

    fn script_error(&mut self, slot: usize, bar: &Bar, e: StrategyError) {
        self.stats.script_errors += 1;
        self.script_failures.record(
            bar.close_time,
            || self.clock.stamp(bar.close_time).format(),
            &e,
        );
        let s = &self.sessions.slots[slot];
        let text = e.to_string();
        if self.error_places_shown.insert(text.clone()) {
            tracing::warn!(
                "{text} (bar {} ET, {}; further identical errors are only journaled)",
                self.et(bar.close_time),
                format_utc(bar.close_time)
            );
        }
        let ev = Event::ScriptError {
            bar_time: format_utc(bar.close_time),
            bar_time_et: self.et(bar.close_time),
            profile: s.profile_name.clone(),
            strategy: s.strategy.version().to_string(),
            error: text,
        };
        self.emit(ev);
    }

    fn consider(
        &mut self,
        slot: usize,
        window: Option<usize>,
        p: &Proposal,
        bar: &Bar,
        stamp: &EtStamp,
        arrived: Instant,
    ) {
        let id = signal_id(
            &stamp.id_stamp(),
            p.side,
            p.anchor_a,
            p.anchor_b,
            self.decimals,
        );
        if let Some(why) = &self.faults.halted {
            let detail = format!(
                "state could not be recorded earlier in this run ({why}): nothing more is admitted"
            );
            self.reject(slot, bar, id, p, "halted", detail);
            return;
        }
        let seen = if self.emitted_this_run.contains(&id) {
            Seen::ThisRun
        } else if self.ledger.contains(&id) {
            Seen::EarlierRun
        } else {
            Seen::Never
        };
        let day = stamp.trading_day;
        let admitted_today = match self
            .daily_counts
            .get(&self.sessions.slots[slot].profile_name)
        {
            Some((d, n)) if *d == day => *n,
            _ => 0,
        };
        let s = &self.sessions.slots[slot];
        let window_name = window
            .map(|w| self.sessions.windows[w].name.clone())
            .unwrap_or_default();
        let flat_by = s
            .profile
            .flat_by
            .as_deref()
            .and_then(|hhmm| self.flat_by_instant(hhmm, day));
        let cx = Context {
            profile_name: &s.profile_name,
            profile: &s.profile,
            direction: s.direction,
            in_window: window.is_some(),
            window_note: "called on every bar",
            seen,
            admitted_today,
            realized_today: self.book.realized_on(day),
            open_positions: self.book.open_count(),
            tick_size: self.tick_size,
            point_value: self.point_value,
            signal_time: bar.close_time,
            flat_by,
        };
        if let Some(log) = &mut self.considered {
            log.push(crate::host::rules::Considered {
                bar_time: bar.close_time,
                signal_id: id.clone(),
                profile: s.profile_name.clone(),
                window: window_name.clone(),
                proposal: p.clone(),
                verdicts: crate::host::rules::every_rule(p, &cx),
                plan: crate::host::rules::stop_and_target(p, &cx).ok(),
            });
        }
        let plan = match admit(p, &cx) {
            Ok(b) => b,
            Err(r) => {
                self.reject(slot, bar, id, p, r.reason.as_str(), r.detail);
                return;
            }
        };
        let prof = &s.profile;
        let signal = Signal {
            id: id.clone(),
            side: p.side,
            entry: p.entry,
            stop: plan.stop,
            target: plan.target,
            quantity: plan.contracts,
            max_hold_minutes: prof.max_hold_minutes,
            signal_time: bar.close_time,
            signal_time_et: stamp.format(),
            expires: bar.close_time + self.ttl,
            instrument: self.instrument.clone(),
            profile: s.profile_name.clone(),
            strategy: s.strategy.version().to_string(),
            pattern: p
                .pattern
                .clone()
                .unwrap_or_else(|| s.strategy.pattern_name().to_string()),
            confidence: p.confidence,
            extra: p.extra.clone(),
            prefix: prof.signal_prefix.clone(),
            decimals: self.decimals,
            window: window_name.clone(),
            plan: crate::host::signal::ExitPlan {
                breakeven_points: plan.breakeven_points,
                trail_points: plan.trail_points,
                flat_by,
            },
            flat_by_et: flat_by.map(|at| self.et(at)),
        };
        let trade = Trade::from_signal(&signal);

        if seen == Seen::EarlierRun {
            // Emitted before a restart: not written again, but it counts exactly as it did.
            self.commit(slot, day, &id, trade);
            let detail = "emitted before this run (ledger): not written again; counted toward today's limit and as an open position";
            self.reject(slot, bar, id, p, "duplicate", detail.into());
            return;
        }

        if self.poll_kill_switch() {
            // A new entry while the kill switch is on: refused, like any refusal; open trades,
            // the shadow book and everything else go on.
            let detail = format!(
                "kill switch on ({}): no new entry; `vrev resume` or the desk's `r` turns it off",
                self.kill_switch
                    .as_deref()
                    .map(crate::host::kill_switch::note)
                    .unwrap_or_default()
            );
            self.reject(slot, bar, id, p, crate::host::kill_switch::REASON, detail);
            return;
        }

        if self.burst_bar {
            // Chart history that came as live frames: never a signal, in Playback too.
            let detail = "a bar of a burst of live frames faster than real time: chart history the publisher sent as live bars, it warms the strategy up, not written (docs/live.md)".to_string();
            self.reject(slot, bar, id, p, HISTORY_BURST, detail);
            return;
        }

        if let Some(now) = self.past_expiry(signal.expires) {
            // History warming the strategy up: the moment for this signal has passed.
            let detail = format!(
                "EXPIRES {} is past (now {}): {}, not written",
                format_utc(signal.expires),
                format_utc(now),
                if self.history_bar {
                    "a history bar"
                } else {
                    "a bar far behind the wall clock is history (NinjaTrader Playback? run with --playback)"
                }
            );
            self.reject(slot, bar, id, p, "expired", detail);
            return;
        }

        let mut file = String::new();
        let mut ledger_failed = None;
        if let Some(dir) = &self.signals_dir {
            let written = std::fs::create_dir_all(dir).and_then(|_| {
                write_atomic(
                    dir,
                    &signal.file_name(),
                    signal.render().as_bytes(),
                    self.fsync,
                )
            });
            match written {
                Ok(path) => file = path.display().to_string(),
                Err(e) => {
                    // Not in place: NinjaTrader never sees it, so it counts toward nothing.
                    crate::market::out::err(&format!(
                        "ERROR: signal {id} NOT written to {}: {e}",
                        dir.display()
                    ));
                    self.faults
                        .unwritten_signals
                        .push((id.clone(), e.to_string()));
                    let ev = Event::SignalWriteFailed {
                        bar_time: format_utc(bar.close_time),
                        bar_time_et: self.et(bar.close_time),
                        signal_id: id,
                        error: e.to_string(),
                    };
                    self.emit(ev);
                    return;
                }
            }
            // The file is in place: whatever happens to the ledger, it is counted below.
            if let Err(e) = self.ledger.record(&id) {
                ledger_failed = Some(format!("ledger {}: {e}", self.ledger.describe()));
            }
        }
        let latency_us = arrived.elapsed().as_micros() as u64;
        self.stats.signals += 1;
        let ev = Event::Signal {
            bar_time: format_utc(bar.close_time),
            bar_time_et: self.et(bar.close_time),
            signal_id: id.clone(),
            side: p.side.as_str().into(),
            profile: signal.profile.clone(),
            window: window_name,
            strategy: signal.strategy.clone(),
            entry: signal.entry,
            stop: signal.stop,
            target: signal.target,
            quantity: signal.quantity,
            confidence: signal.confidence.map(|c| c as f64 / 100.0),
            file,
            latency_us,
        };
        self.commit(slot, day, &id, trade);
        self.signals.push(signal);
        self.emit(ev);
        if let Some(why) = ledger_failed {
            self.halt(why);
        }
    }

    /// Journals a refused proposal (never silent) and counts it.
    fn reject(
        &mut self,
        slot: usize,
        bar: &Bar,
        signal_id: String,
        p: &Proposal,
        reason: &str,
        detail: String,
    ) {
        self.stats.rejections += 1;
        *self
            .stats
            .rejected_by
            .entry(reason.to_string())
            .or_default() += 1;
        let s = &self.sessions.slots[slot];
        let ev = Event::Rejected {
            bar_time: format_utc(bar.close_time),
            bar_time_et: self.et(bar.close_time),
            signal_id,
            side: p.side.as_str().into(),
            profile: s.profile_name.clone(),
            strategy: s.strategy.version().to_string(),
            reason: reason.into(),
            detail,
        };
        self.emit(ev);
    }

    fn commit(&mut self, slot: usize, day: chrono::NaiveDate, id: &str, trade: Trade) {
        self.emitted_this_run.insert(id.to_string());
        let profile = self.sessions.slots[slot].profile_name.clone();
        let e = self.daily_counts.entry(profile).or_insert((day, 0));
        if e.0 != day {
            *e = (day, 0);
        }
        e.1 += 1;
        self.book.add(trade);
    }

    /// End of data: closes entered shadow trades at the last close (backtests) and journals the
    /// run's totals.
    /// What the scripts read ([`EngineOptions::record_series`]), once the run is over; `None`
    /// when not recorded.
    pub fn take_series_record(
        &mut self,
    ) -> Option<crate::strategy::indicators::record::SeriesRecord> {
        self.record_series?;
        self.sessions.finish_series_record()
    }

    pub fn finish(&mut self, close_open_trades: bool) {
        let mut refused = Vec::new();
        self.plausibility.finish(&mut refused);
        self.refuse_implausible(refused);
        if close_open_trades {
            if let Some((bar, stamp)) = self.last_bar {
                self.book.finish(&bar, stamp.trading_day, &mut self.closed);
                for trade in std::mem::take(&mut self.closed) {
                    self.record_closed(trade);
                }
            }
        }
        let s = &self.stats;
        let ev = Event::RunEnd {
            bars: s.bars,
            signals: s.signals,
            rejections: s.rejections,
            script_errors: s.script_errors,
            bars_skipped: s.bars_skipped,
            bars_implausible: s.bars_implausible,
            signal_write_failures: self.faults.unwritten_signals.len(),
            halted: self.faults.halted.clone(),
        };
        self.emit(ev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
        Config::load(&path).unwrap()
    }

    #[test]
    fn live_history_signals_past_their_expiry_are_refused_not_written() {
        let bars = crate::market::synth::generate(&crate::market::synth::SynthOptions {
            days: 1,
            ..Default::default()
        });
        let run = |expire: bool| {
            let mut e = Engine::new(
                &config(),
                EngineOptions {
                    keep_events: true,
                    wall_clock: expire,
                    ..Default::default()
                },
            )
            .unwrap();
            for b in &bars {
                e.on_history_bar(b);
            }
            e
        };
        let replay = run(false);
        assert!(!replay.signals.is_empty());
        let live = run(true);
        assert!(
            live.signals.is_empty(),
            "2025 history bars are past their expiry today"
        );
        let expired = live
            .events
            .iter()
            .filter(|e| matches!(e, Event::Rejected { reason, .. } if reason == "expired"))
            .count();
        // Expired signals open no shadow trade, so proposals that the replay refused for an open
        // position reach the expiry check too.
        assert!(
            expired >= replay.signals.len(),
            "{expired} < {}",
            replay.signals.len()
        );
        assert_eq!(
            live.book().open_count(),
            0,
            "an expired signal opens no shadow trade"
        );
    }

    #[test]
    fn the_kill_switch_refuses_new_entries_while_open_trades_still_exit() {
        let dir = tempfile::tempdir().unwrap();
        let bars = crate::market::synth::generate(&crate::market::synth::SynthOptions {
            days: 1,
            ..Default::default()
        });
        let mut e = Engine::new(
            &config(),
            EngineOptions {
                outputs: Outputs::Files,
                signals_dir: Some(dir.path().join("signals")),
                journal: Some(dir.path().join("journal.jsonl")),
                state_dir: Some(dir.path().join("state")),
                keep_events: true,
                ..Default::default()
            },
        )
        .unwrap();
        let mut k = 0;
        while e.signals.is_empty() {
            e.on_bar(&bars[k]);
            k += 1;
        }
        let first = e.signals[0].id.clone();
        e.set_kill_switch(true, "test").unwrap();
        assert!(e.kill_switch_on());
        assert!(dir.path().join("state/HALT").exists());
        // Up to the afternoon: the first trade exits, later entries are refused.
        let cut = bars.len() * 3 / 4;
        for b in &bars[k..cut] {
            e.on_bar(b);
        }
        assert_eq!(e.signals.len(), 1, "no new entry while the switch is on");
        let closed = e
            .events
            .iter()
            .any(|ev| matches!(ev, Event::TradeClosed { signal_id, .. } if *signal_id == first));
        assert!(closed, "the open trade still exits");
        let refused = e.stats.rejected_by.get("kill_switch").copied().unwrap_or(0);
        assert!(refused >= 1, "{:?}", e.stats.rejected_by);
        assert!(e.faults.halted.is_none(), "not the fault state");
        // Removed by another program: noticed, journaled, entries admitted again.
        std::fs::remove_file(dir.path().join("state/HALT")).unwrap();
        for b in &bars[cut..] {
            e.on_bar(b);
        }
        assert!(!e.kill_switch_on());
        assert!(
            e.signals.len() > 1,
            "admitted again after the switch is off"
        );
        let switches: Vec<bool> = e
            .events
            .iter()
            .filter_map(|ev| match ev {
                Event::KillSwitch { on, .. } => Some(*on),
                _ => None,
            })
            .collect();
        assert_eq!(switches, vec![true, false]);
    }
}
