//! The engine (DESIGN §3): one `on_bar` for live, replay, backtest and scenarios.
//!
//! For each bar, in this order: (1) the book advances open shadow trades, (2) the clock gives ET
//! time, trading day, window and profile, (3) the profile's strategy is called if the bar is
//! eligible, (4) the rules admit or reject each proposal, (5) the sinks write the signal file
//! (atomically), the ledger, the journal and a new shadow trade.

use crate::bar::{Bar, BarSeries};
use crate::book::{Book, FillModel, Trade};
use crate::config::{Config, ConfigError, Direction, Profile};
use crate::journal::{Event, Journal};
use crate::ledger::{Ledger, Recovery};
use crate::price::{price_decimals, Side};
use crate::rules::{admit, Context, Seen};
use crate::signal::{signal_id, write_atomic, Signal};
use crate::strategy::native::{NativeStrategy, VParams};
use crate::strategy::script::{merge_params, CompiledScript, ScriptHost, ScriptLimits};
use crate::strategy::{Proposal, Strategy, StrategyError};
use crate::time::{format_utc, parse_hhmm, EtStamp, MarketClock, SessionWindow, EXCHANGE_TZ};
use chrono::NaiveTime;
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
    /// Keep every journal event in memory too ([`Engine::events`]). Default false.
    pub keep_events: bool,
    /// Name of the mode in the journal (`replay`, `run`, ...). Default "replay".
    pub mode: String,
    /// With [`Outputs::Memory`]: signal IDs an earlier run already emitted (as a restart would
    /// find them in the ledger). Default: none.
    pub emitted_before: Vec<String>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            forced_profile: None,
            only_side: None,
            outputs: Outputs::Memory,
            signals_dir: None,
            journal: None,
            keep_events: false,
            mode: "replay".into(),
            emitted_before: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Script(StrategyError),
    #[error("{0}")]
    Io(String),
}

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
}

struct Slot {
    profile_name: String,
    profile: Profile,
    direction: Direction,
    strategy: Box<dyn Strategy>,
}

struct WindowSlot {
    name: String,
    window: SessionWindow,
    slot: usize,
}

/// The engine. Not `Send`: it lives on one thread (scripts share the bar history in place).
pub struct Engine {
    clock: MarketClock,
    series: Rc<RefCell<BarSeries>>,
    windows: Vec<WindowSlot>,
    slots: Vec<Slot>,
    every_bar_slots: Vec<usize>,
    book: Book,
    ledger: Ledger,
    emitted_this_run: HashSet<String>,
    daily_counts: HashMap<usize, (chrono::NaiveDate, u32)>,
    journal: Option<Journal>,
    signals_dir: Option<PathBuf>,
    fsync: bool,
    instrument: String,
    tick_size: f64,
    decimals: usize,
    ttl: i64,
    proposals: Vec<Proposal>,
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
    pub stats: EngineStats,
    pub recovery: Recovery,
}

/// Strategies compiled for a config: one compiled script per file, bound per profile.
pub fn build_strategy(
    cfg: &Config,
    profile_name: &str,
    host: &ScriptHost,
    series: &Rc<RefCell<BarSeries>>,
    cache: &mut HashMap<PathBuf, Rc<CompiledScript>>,
) -> Result<Box<dyn Strategy>, EngineError> {
    let prof = &cfg.profile[profile_name];
    if let Some(kind) = NativeStrategy::kind_from_spec(&prof.strategy) {
        let params =
            VParams::from_table(&prof.params).map_err(|m| located(cfg, profile_name, m))?;
        return Ok(Box::new(NativeStrategy::new(series.clone(), kind, params)));
    }
    let path = cfg.resolve(Path::new(&prof.strategy));
    let script = match cache.get(&path) {
        Some(s) => s.clone(),
        None => {
            let s = Rc::new(host.compile_file(&path).map_err(EngineError::Script)?);
            cache.insert(path.clone(), s.clone());
            s
        }
    };
    let params = merge_params(&script, &prof.params).map_err(|m| located(cfg, profile_name, m))?;
    Ok(Box::new(
        host.bind(script, params).map_err(EngineError::Script)?,
    ))
}

fn located(cfg: &Config, profile: &str, message: String) -> EngineError {
    // Point at the offending parameter when the message names one, else at `params`.
    let param = message.split('`').nth(1).unwrap_or("");
    let mut place = cfg.place_of(&["profile", profile, "params", param]);
    if place.line.is_none() {
        place = cfg.place_of(&["profile", profile, "params"]);
    }
    if place.line.is_none() {
        place = cfg.place_of(&["profile", profile]);
    }
    place.message = format!("profile.{profile}.params: {message}");
    EngineError::Config(place)
}

impl Engine {
    pub fn new(cfg: &Config, opts: EngineOptions) -> Result<Engine, EngineError> {
        if let Some(p) = &opts.forced_profile {
            if !cfg.profile.contains_key(p) {
                let known: Vec<&str> = cfg.profile.keys().map(String::as_str).collect();
                return Err(EngineError::Config(ConfigError {
                    file: cfg.source.display().to_string(),
                    line: None,
                    column: None,
                    message: format!(
                        "--profile {p}: unknown profile (defined: {})",
                        known.join(", ")
                    ),
                }));
            }
        }
        let series = Rc::new(RefCell::new(BarSeries::with_capacity(
            cfg.engine.history_bars,
        )));
        let limits = ScriptLimits {
            max_operations: cfg.engine.script_max_operations,
            ..ScriptLimits::default()
        };
        let host = ScriptHost::new(series.clone(), limits);
        let mut cache = HashMap::new();
        let mut slots: Vec<Slot> = Vec::new();
        let mut windows = Vec::new();
        for (name, window, profile) in cfg.windows() {
            let profile = opts.forced_profile.clone().unwrap_or(profile);
            let slot = match slots.iter().position(|s| s.profile_name == profile) {
                Some(i) => i,
                None => {
                    let prof = cfg.profile[&profile].clone();
                    let direction = narrow(prof.direction, opts.only_side);
                    let strategy = build_strategy(cfg, &profile, &host, &series, &mut cache)?;
                    slots.push(Slot {
                        profile_name: profile.clone(),
                        profile: prof,
                        direction,
                        strategy,
                    });
                    slots.len() - 1
                }
            };
            windows.push(WindowSlot { name, window, slot });
        }
        let every_bar_slots = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.strategy.call_on_every_bar())
            .map(|(i, _)| i)
            .collect();
        let (ledger, recovery, journal, signals_dir) = match opts.outputs {
            Outputs::Memory => (
                Ledger::with_ids(opts.emitted_before.iter().cloned()),
                Recovery::default(),
                None,
                None,
            ),
            Outputs::Files => {
                let signals_dir = opts
                    .signals_dir
                    .clone()
                    .unwrap_or_else(|| cfg.resolve(&cfg.engine.signals_dir));
                let state_dir = cfg.resolve(&cfg.engine.state_dir);
                let journal_path = opts
                    .journal
                    .clone()
                    .unwrap_or_else(|| cfg.resolve(&cfg.engine.journal));
                let io = |what: &str, p: &Path, e: std::io::Error| {
                    EngineError::Io(format!("{}: cannot open {what}: {e}", p.display()))
                };
                let (ledger, rec) = Ledger::open(&state_dir, &signals_dir, cfg.engine.fsync)
                    .map_err(|e| io("the ledger", &state_dir, e))?;
                let journal = Journal::open(&journal_path)
                    .map_err(|e| io("the journal", &journal_path, e))?;
                (ledger, rec, Some(journal), Some(signals_dir))
            }
        };
        let day_start = parse_hhmm(&cfg.engine.trading_day_start).unwrap_or(18 * 60);
        let mut engine = Engine {
            clock: MarketClock::new(
                EXCHANGE_TZ,
                NaiveTime::from_hms_opt(day_start / 60, day_start % 60, 0).expect("validated"),
            ),
            series,
            windows,
            slots,
            every_bar_slots,
            book: Book::new(FillModel::from_config(cfg)),
            ledger,
            emitted_this_run: HashSet::new(),
            daily_counts: HashMap::new(),
            journal,
            signals_dir,
            fsync: cfg.engine.fsync,
            instrument: cfg.instrument.symbol.clone(),
            tick_size: cfg.instrument.tick_size,
            decimals: price_decimals(cfg.instrument.tick_size),
            ttl: cfg.engine.signal_ttl_seconds,
            proposals: Vec::new(),
            closed: Vec::new(),
            last_bar: None,
            error_places_shown: HashSet::new(),
            signals: Vec::new(),
            trades: Vec::new(),
            events: Vec::new(),
            keep_events: opts.keep_events,
            stats: EngineStats::default(),
            recovery,
        };
        let start = Event::RunStart {
            mode: opts.mode.clone(),
            config: cfg.source.display().to_string(),
            profiles: engine
                .slots
                .iter()
                .map(|s| s.profile_name.clone())
                .collect(),
            strategies: engine
                .slots
                .iter()
                .map(|s| s.strategy.version().to_string())
                .collect(),
            ledger_ids: engine.ledger.len(),
            recovered_from_files: engine.recovery.from_files,
        };
        engine.emit(start);
        Ok(engine)
    }

    /// The shadow-trade book (open positions, realized P&L, fill model).
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// Which profile runs each window, in config order: (window, profile, strategy version).
    pub fn window_profiles(&self) -> Vec<(String, String, String)> {
        self.windows
            .iter()
            .map(|w| {
                (
                    w.name.clone(),
                    self.slots[w.slot].profile_name.clone(),
                    self.slots[w.slot].strategy.version().to_string(),
                )
            })
            .collect()
    }

    pub fn clock(&self) -> &MarketClock {
        &self.clock
    }

    fn emit(&mut self, event: Event) {
        if let Some(j) = &mut self.journal {
            if let Err(e) = j.write(&event) {
                tracing::error!("journal write failed: {e}");
            }
        }
        if self.keep_events {
            self.events.push(event);
        }
    }

    /// Feeds one bar through the engine. Invalid bars and bars not after the previous one are
    /// rejected (journaled, counted) and leave the state untouched.
    pub fn on_bar(&mut self, bar: &Bar) {
        let arrived = Instant::now();
        if let Some(reason) = bar.invalid_reason() {
            self.skip_bar(bar, reason.to_string());
            return;
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
        self.stats.bars += 1;
        let t = self.series.borrow_mut().push(bar);
        let stamp = self.clock.stamp(bar.close_time);
        self.last_bar = Some((*bar, stamp));

        // 1. Book: fills and exits for this bar, before the strategy sees it.
        self.book.on_bar(bar, stamp.trading_day, &mut self.closed);
        for trade in std::mem::take(&mut self.closed) {
            self.record_closed(trade);
        }

        // 2. Clock: the active window and its profile.
        let active = self.windows.iter().position(|w| w.window.contains(&stamp));

        // 3–5. Strategy, rules, sinks.
        if let Some(w) = active {
            let slot = self.windows[w].slot;
            self.run_slot(slot, Some(w), t, bar, &stamp, arrived);
        }
        for n in 0..self.every_bar_slots.len() {
            let slot = self.every_bar_slots[n];
            if active.map(|w| self.windows[w].slot) != Some(slot) {
                self.run_slot(slot, None, t, bar, &stamp, arrived);
            }
        }
    }

    fn skip_bar(&mut self, bar: &Bar, reason: String) {
        self.stats.bars_skipped += 1;
        self.emit(Event::BarRejected {
            bar_time: format_utc(bar.close_time),
            reason,
        });
    }

    fn record_closed(&mut self, trade: Trade) {
        let f = |t: Option<i64>| t.map(format_utc).unwrap_or_default();
        self.emit(Event::TradeClosed {
            signal_id: trade.signal_id.clone(),
            side: trade.side.as_str().into(),
            entry_time: f(trade.entry_time),
            entry: trade.entry_price.unwrap_or(f64::NAN),
            exit_time: f(trade.exit_time),
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
        let result = self.slots[slot].strategy.on_bar(t, &mut proposals);
        if let Err(e) = result {
            self.script_error(slot, bar, e);
        }
        // BUY goes through the rules before SELL on the same bar (DESIGN §10a).
        proposals.sort_by_key(|p| p.side != Side::Buy);
        for p in proposals.drain(..) {
            self.consider(slot, window, &p, bar, stamp, arrived);
        }
        self.proposals = proposals;
    }

    fn script_error(&mut self, slot: usize, bar: &Bar, e: StrategyError) {
        self.stats.script_errors += 1;
        let s = &self.slots[slot];
        let text = e.to_string();
        if self.error_places_shown.insert(text.clone()) {
            tracing::warn!(
                "{text} (bar {}; further identical errors are only journaled)",
                format_utc(bar.close_time)
            );
        }
        let ev = Event::ScriptError {
            bar_time: format_utc(bar.close_time),
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
        let id = signal_id(&stamp.id_stamp(), p.anchor_a, p.anchor_b, self.decimals);
        let seen = if self.emitted_this_run.contains(&id) {
            Seen::ThisRun
        } else if self.ledger.contains(&id) {
            Seen::EarlierRun
        } else {
            Seen::Never
        };
        let day = stamp.trading_day;
        let admitted_today = match self.daily_counts.get(&slot) {
            Some((d, n)) if *d == day => *n,
            _ => 0,
        };
        let s = &self.slots[slot];
        let window_name = window
            .map(|w| self.windows[w].name.clone())
            .unwrap_or_default();
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
        };
        let bracket = match admit(p, &cx) {
            Ok(b) => b,
            Err(r) => {
                self.stats.rejections += 1;
                let ev = Event::Rejected {
                    bar_time: format_utc(bar.close_time),
                    signal_id: id,
                    side: p.side.as_str().into(),
                    profile: s.profile_name.clone(),
                    strategy: s.strategy.version().to_string(),
                    reason: r.reason.as_str().into(),
                    detail: r.detail,
                };
                self.emit(ev);
                return;
            }
        };
        let prof = &s.profile;
        let signal = Signal {
            id: id.clone(),
            side: p.side,
            entry: p.entry,
            stop: bracket.stop,
            target: bracket.target,
            quantity: prof.contracts,
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
        };
        let trade = Trade::from_signal(&signal);

        if seen == Seen::EarlierRun {
            // Emitted before a restart: not written again, but it counts exactly as it did.
            self.stats.rejections += 1;
            let ev = Event::Rejected {
                bar_time: format_utc(bar.close_time),
                signal_id: id.clone(),
                side: p.side.as_str().into(),
                profile: s.profile_name.clone(),
                strategy: s.strategy.version().to_string(),
                reason: "duplicate".into(),
                detail: "emitted before this run (ledger): not written again; counted toward today's limit and as an open position".into(),
            };
            self.commit(slot, day, &id, trade);
            self.emit(ev);
            return;
        }

        let mut file = String::new();
        if let Some(dir) = &self.signals_dir {
            let written = std::fs::create_dir_all(dir).and_then(|_| {
                write_atomic(
                    dir,
                    &signal.file_name(),
                    signal.render().as_bytes(),
                    self.fsync,
                )
            });
            let recorded = written.and_then(|path| self.ledger.record(&id).map(|_| path));
            match recorded {
                Ok(path) => file = path.display().to_string(),
                Err(e) => {
                    tracing::error!("signal {id} NOT written: {e}");
                    let ev = Event::SignalWriteFailed {
                        bar_time: format_utc(bar.close_time),
                        signal_id: id,
                        error: e.to_string(),
                    };
                    self.emit(ev);
                    return;
                }
            }
        }
        let latency_us = arrived.elapsed().as_micros() as u64;
        self.stats.signals += 1;
        let ev = Event::Signal {
            bar_time: format_utc(bar.close_time),
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
    }

    fn commit(&mut self, slot: usize, day: chrono::NaiveDate, id: &str, trade: Trade) {
        self.emitted_this_run.insert(id.to_string());
        let e = self.daily_counts.entry(slot).or_insert((day, 0));
        if e.0 != day {
            *e = (day, 0);
        }
        e.1 += 1;
        self.book.add(trade);
    }

    /// End of data: closes entered shadow trades at the last close (backtests) and journals the
    /// run's totals.
    pub fn finish(&mut self, close_open_trades: bool) {
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
        };
        self.emit(ev);
    }
}

fn narrow(d: Direction, only: Option<Side>) -> Direction {
    match (d, only) {
        (d, None) => d,
        (Direction::Neither, _) => Direction::Neither,
        (Direction::Both | Direction::Long, Some(Side::Buy)) => Direction::Long,
        (Direction::Both | Direction::Short, Some(Side::Sell)) => Direction::Short,
        // The profile does not trade the requested side at all: nothing passes rule 2.
        (Direction::Long, Some(Side::Sell)) | (Direction::Short, Some(Side::Buy)) => {
            Direction::Neither
        }
    }
}
