//! `vrev run` on a terminal: the full-screen live desk (issue 21).
//!
//! Two sides, joined by channels, so that drawing never holds up a bar:
//! - the engine side, [`DeskSink`], wraps the feed's [`EngineSink`] on the runtime thread. After
//!   each bar (and about every 250 ms) it turns what the engine journaled since the last look
//!   into a [`DeskState`] and publishes it on a `tokio::sync::watch` channel (replacing the
//!   previous one: never a queue, never a wait). It applies the keys' commands between bars.
//! - the drawing side, [`term::run`], a thread of its own: it redraws at least once a second and
//!   whenever a new state arrives, reads the keys, and sends commands back over an `mpsc`.
//!
//! The frame itself is [`draw::draw`], a function of a [`DeskState`] only.

pub mod draw;
pub mod state;
pub mod term;

use crate::cli::desk::reconcile::{Model, ModelSignal, ShadowTrade};
use crate::config::Config;
use crate::feed::client::{FeedCounters, FeedView, Flow, Sink};
use crate::feed::run::EngineSink;
use crate::host::journal::Event;
use crate::market::bar::Bar;
use crate::market::price::Side;
use crate::market::time::MarketClock;
use state::{
    DeskState, EventLine, FeedPane, NextWindow, OpenRow, PositionPane, TodayPane, WindowRow,
    EVENTS_SHOWN,
};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a key asks the engine side to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `h`: the kill switch on.
    Halt,
    /// `r`: the kill switch off.
    Resume,
    /// `p`: run `profile` in `window` until restart.
    SwitchProfile { window: String, profile: String },
}

/// What the engine side publishes: the screen's state, and what the NinjaTrader pane matches
/// the trade log against (this run's signals and exited shadow trades).
#[derive(Clone, Debug, Default)]
pub struct Published {
    pub state: DeskState,
    pub model: Arc<Model>,
}

/// The engine behind the feed, with the desk's bookkeeping and channels.
pub struct DeskSink {
    pub inner: EngineSink,
    tx: tokio::sync::watch::Sender<Published>,
    commands: std::sync::mpsc::Receiver<Command>,
    url: String,
    connected: Option<(Instant, String)>,
    counters: FeedCounters,
    day: Option<chrono::NaiveDate>,
    bars_today: u64,
    bars_run: u64,
    signals_today: u64,
    refusals_today: BTreeMap<String, u64>,
    events: VecDeque<EventLine>,
    model: Arc<Model>,
    message: Option<String>,
    last_publish: Instant,
    clock: MarketClock,
}

/// At most this often after bars (a history batch), always after a key or on the idle tick.
const PUBLISH_EVERY: Duration = Duration::from_millis(50);

/// `HH:MM:SS` of an ET `yyyy-MM-dd HH:mm:ss`.
fn clock_part(et: &str) -> String {
    et.get(11..19).unwrap_or(et).to_string()
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The refusal counts of [`FeedCounters::describe`] (`duplicate 0, …, oversized 0`), so that a
/// counter added there shows here too.
pub fn refused_detail(c: &FeedCounters) -> String {
    let d = c.describe();
    match d.split_once("refused: ") {
        Some((_, rest)) => rest.split(" | ").next().unwrap_or(rest).to_string(),
        None => d,
    }
}

/// The window that opens next after `now` (UTC seconds): name, profile, start. A window open
/// now counts from its next opening.
pub fn next_window(
    windows: &[(String, crate::market::time::SessionWindow, String)],
    now: i64,
    clock: &MarketClock,
) -> Option<NextWindow> {
    let today = clock.stamp(now).date;
    let mut best: Option<NextWindow> = None;
    for (name, w, profile) in windows {
        for d in 0..9 {
            let Some(date) = today.checked_add_days(chrono::Days::new(d)) else {
                continue;
            };
            let Some(naive) = date.and_hms_opt(w.start_minute / 60, w.start_minute % 60, 0) else {
                continue;
            };
            let Ok(start) = clock.local_to_utc(naive, None) else {
                continue;
            };
            if start <= now || !w.contains(&clock.stamp(start)) {
                continue;
            }
            if best.as_ref().is_none_or(|b| start < b.starts) {
                best = Some(NextWindow {
                    name: name.clone(),
                    profile: profile.clone(),
                    starts: start,
                });
            }
            break;
        }
    }
    best
}

/// `09:30-11:30`.
fn hours(w: &crate::market::time::SessionWindow) -> String {
    let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
    format!("{}-{}", hm(w.start_minute), hm(w.end_minute))
}

impl DeskSink {
    pub fn new(
        inner: EngineSink,
        url: &str,
        tx: tokio::sync::watch::Sender<Published>,
        commands: std::sync::mpsc::Receiver<Command>,
    ) -> DeskSink {
        let mut s = DeskSink {
            inner,
            tx,
            commands,
            url: crate::feed::admission::redact_url(url),
            connected: None,
            counters: FeedCounters::default(),
            day: None,
            bars_today: 0,
            bars_run: 0,
            signals_today: 0,
            refusals_today: BTreeMap::new(),
            events: VecDeque::new(),
            model: Arc::new(Model::default()),
            message: None,
            last_publish: Instant::now(),
            clock: MarketClock::exchange(),
        };
        s.take_events();
        s.publish();
        s
    }

    /// A new trading day (of the newest bar) starts the day's counts afresh.
    fn roll_day(&mut self) {
        let day = self.inner.engine.last_trading_day();
        if day.is_some() && day != self.day {
            self.day = day;
            self.bars_today = 0;
            self.signals_today = 0;
            self.refusals_today.clear();
        }
    }

    fn push_event(&mut self, time: String, kind: &'static str, text: String) {
        if self.events.len() == EVENTS_SHOWN {
            self.events.pop_front();
        }
        self.events.push_back(EventLine { time, kind, text });
    }

    /// The engine's journal events since the last look: counts, the event list, the model.
    fn take_events(&mut self) -> bool {
        if self.inner.engine.events.is_empty() {
            return false;
        }
        let events = std::mem::take(&mut self.inner.engine.events);
        self.roll_day();
        let wall = || {
            clock_part(
                &MarketClock::exchange()
                    .stamp(chrono::Utc::now().timestamp())
                    .format(),
            )
        };
        for ev in events {
            match ev {
                Event::Signal {
                    bar_time,
                    bar_time_et,
                    signal_id,
                    side,
                    profile,
                    window,
                    entry,
                    stop,
                    target,
                    quantity,
                    ..
                } => {
                    self.signals_today += 1;
                    self.push_event(
                        clock_part(&bar_time_et),
                        "signal",
                        format!("{side} {signal_id} ({window}/{profile}) entry {entry} stop {stop} target {target} qty {quantity}"),
                    );
                    let side = if side == "SELL" {
                        Side::Sell
                    } else {
                        Side::Buy
                    };
                    let m = Arc::make_mut(&mut self.model);
                    m.signals.retain(|s| s.signal_id != signal_id);
                    m.signals.push(ModelSignal {
                        signal_id,
                        side,
                        bar_time,
                        entry,
                        stop,
                        target,
                        quantity,
                        profile,
                    });
                }
                Event::Rejected {
                    bar_time_et,
                    side,
                    profile,
                    reason,
                    detail,
                    ..
                } => {
                    *self.refusals_today.entry(reason.clone()).or_default() += 1;
                    self.push_event(
                        clock_part(&bar_time_et),
                        "refusal",
                        format!("{reason}: {side} {profile} — {}", short(&detail, 80)),
                    );
                }
                Event::TradeClosed {
                    signal_id,
                    entry,
                    exit,
                    reason,
                    pnl,
                    exit_time_et,
                    ..
                } => {
                    self.push_event(
                        clock_part(&exit_time_et),
                        "closed",
                        format!("{signal_id} {reason} {}", crate::market::format::money(pnl)),
                    );
                    if entry.is_finite() && exit.is_finite() {
                        Arc::make_mut(&mut self.model).shadows.insert(
                            signal_id,
                            ShadowTrade {
                                entry,
                                exit,
                                reason,
                            },
                        );
                    }
                }
                Event::ScriptExit {
                    bar_time_et,
                    signal_id,
                    reason,
                    ..
                } => self.push_event(
                    clock_part(&bar_time_et),
                    "exit",
                    format!("script exit {signal_id}: {reason}"),
                ),
                Event::Reload { file, state, .. } => {
                    self.push_event(wall(), "reload", format!("{file}: {}", short(&state, 80)))
                }
                Event::ReloadFailed { file, error, .. } => self.push_event(
                    wall(),
                    "error",
                    format!("reload refused: {file}: {}", short(&error, 80)),
                ),
                Event::ScriptError {
                    bar_time_et,
                    profile,
                    error,
                    ..
                } => self.push_event(
                    clock_part(&bar_time_et),
                    "error",
                    format!("{profile}: {}", short(&error, 80)),
                ),
                Event::SignalWriteFailed {
                    bar_time_et,
                    signal_id,
                    error,
                    ..
                } => self.push_event(
                    clock_part(&bar_time_et),
                    "error",
                    format!("signal {signal_id} not written: {}", short(&error, 80)),
                ),
                Event::Halted { reason } => {
                    self.push_event(wall(), "error", format!("HALTED: {reason}"))
                }
                Event::KillSwitch { on, detail, .. } => self.push_event(
                    wall(),
                    "halt",
                    if on {
                        format!("kill switch ON: {detail}")
                    } else {
                        "kill switch off: new entries admitted".to_string()
                    },
                ),
                Event::Desk { detail, .. } => self.push_event(wall(), "desk", detail),
                Event::Feed { state, detail, .. } => {
                    self.push_event(wall(), "feed", format!("{state}: {}", short(&detail, 80)))
                }
                Event::RunStart { .. } | Event::RunEnd { .. } | Event::BarRejected { .. } => {}
            }
        }
        true
    }

    /// The keys' commands, between two bars.
    fn apply_commands(&mut self) -> bool {
        let mut any = false;
        while let Ok(c) = self.commands.try_recv() {
            any = true;
            let e = &mut self.inner.engine;
            self.message = Some(match c {
                Command::Halt => {
                    e.journal_desk("halt", "key h: kill switch on");
                    match e.set_kill_switch(true, "the dashboard's h key") {
                        Ok(()) => "h: kill switch ON — every new entry is refused as kill_switch; `r` resumes".into(),
                        Err(err) => format!("h: the kill switch could not be set: {err}"),
                    }
                }
                Command::Resume => {
                    e.journal_desk("resume", "key r: kill switch off");
                    match e.set_kill_switch(false, "the dashboard's r key") {
                        Ok(()) => "r: kill switch off — new entries admitted".into(),
                        Err(err) => format!("r: the kill switch could not be removed: {err}"),
                    }
                }
                Command::SwitchProfile { window, profile } => {
                    match e.switch_profile(&window, &profile, "the dashboard's p key") {
                        Ok(detail) => format!("p: {detail}"),
                        Err(err) => format!("p: {err}"),
                    }
                }
            });
        }
        any
    }

    /// The state as the screen shows it.
    pub fn snapshot(&self) -> DeskState {
        let e = &self.inner.engine;
        let now = chrono::Utc::now().timestamp();
        let cfg: &Config = e.config();
        let cfg_windows = cfg.windows();
        let running: BTreeMap<String, String> = e
            .window_profiles()
            .into_iter()
            .map(|(w, p, _)| (w, p))
            .collect();
        let wall = self.clock.stamp(now);
        let windows: Vec<WindowRow> = cfg_windows
            .iter()
            .map(|(name, w, configured)| {
                let profile = running
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| configured.clone());
                WindowRow {
                    name: name.clone(),
                    hours: hours(w),
                    configured: (profile != *configured).then(|| configured.clone()),
                    profile,
                    open: w.contains(&wall),
                }
            })
            .collect();
        let lineup: Vec<_> = cfg_windows
            .iter()
            .map(|(n, w, p)| {
                (
                    n.clone(),
                    *w,
                    running.get(n).cloned().unwrap_or_else(|| p.clone()),
                )
            })
            .collect();
        let book = e.book();
        let last = {
            let series = e.series();
            series.last().map(|i| series.close(i))
        };
        let point_value = cfg.instrument.point_value;
        let open = book
            .open_trades()
            .iter()
            .map(|t| OpenRow {
                signal_id: t.signal_id.clone(),
                profile: t.profile.clone(),
                side: t.side.as_str(),
                contracts: t.contracts,
                entry: t.entry_price,
                stop: t.stop,
                initial_stop: t.initial_stop,
                stop_rule: t.stop_rule().as_str(),
                target: t.target,
                open_pnl: match (t.entry_price, last) {
                    (Some(_), Some(px)) => {
                        Some(t.open_points(px) * t.contracts as f64 * point_value)
                    }
                    _ => None,
                },
                last_price: last,
            })
            .collect();
        let day = e.last_trading_day();
        let mut refusals: Vec<(String, u64)> = self
            .refusals_today
            .iter()
            .map(|(r, n)| (r.clone(), *n))
            .collect();
        refusals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let kill_switch = if e.kill_switch_on() {
            Some(
                e.kill_switch_file()
                    .map(crate::host::kill_switch::note)
                    .unwrap_or_else(|| "HALT".into()),
            )
        } else {
            None
        };
        DeskState {
            now,
            url: self.url.clone(),
            feed: FeedPane {
                connected: self.connected.as_ref().map(|(_, p)| p.clone()),
                connected_for: self
                    .connected
                    .as_ref()
                    .map_or(0, |(t, _)| t.elapsed().as_secs()),
                bars_today: self.bars_today,
                bars_run: self.bars_run,
                last_bar: e.last_bar_time(),
                latency: self.inner.latency.percentiles(),
                latency_count: self.inner.latency.count,
                reconnects: self.counters.connects.saturating_sub(1),
                refused: self.counters.bad_frames(),
                refused_detail: refused_detail(&self.counters),
            },
            windows,
            next_window: next_window(&lineup, now, &self.clock),
            kill_switch,
            today: TodayPane {
                day,
                signals: self.signals_today,
                refusals,
                events: self.events.clone(),
            },
            position: PositionPane {
                open,
                today_pnl: day.map_or(0.0, |d| book.realized_on(d)),
                closed_today: day.map_or(0, |d| {
                    e.trades
                        .iter()
                        .filter(|t| t.exit_trading_day == Some(d))
                        .count()
                }),
            },
            nt8: Default::default(),
            message: self.message.clone(),
            choosing: None,
            profiles: e.profile_names(),
        }
    }

    fn publish(&mut self) {
        self.last_publish = Instant::now();
        let state = self.snapshot();
        // Replaces the value: the drawing side takes the newest, nothing queues.
        self.tx.send_replace(Published {
            state,
            model: self.model.clone(),
        });
    }
}

impl Sink for DeskSink {
    fn bar(&mut self, bar: &Bar, history: bool, arrived: Instant) -> Flow {
        self.apply_commands();
        let flow = self.inner.bar(bar, history, arrived);
        self.roll_day();
        self.bars_run += 1;
        if self.inner.engine.last_bar_time() == Some(bar.close_time) {
            self.bars_today += 1;
        }
        let news = self.take_events();
        if news || self.last_publish.elapsed() >= PUBLISH_EVERY {
            self.publish();
        }
        flow
    }

    fn idle(&mut self) {
        self.inner.idle();
        self.apply_commands();
        self.take_events();
        self.publish();
    }

    fn rejected_bar(&mut self, bar: &Bar, reason: &str) {
        self.inner.rejected_bar(bar, reason);
    }

    fn last_taken(&self) -> Option<i64> {
        self.inner.last_taken()
    }

    fn feed_event(&mut self, state: &str, detail: &str) {
        self.inner.feed_event(state, detail);
        if self.take_events() {
            self.publish();
        }
    }

    fn status(&self) -> String {
        self.inner.status()
    }

    fn feed_state(&mut self, feed: &FeedView<'_>) {
        match (feed.connected, &mut self.connected) {
            (None, c) => *c = None,
            (Some((t, p)), Some((ct, cp))) if *cp == p => *ct = t,
            (Some((t, p)), c) => *c = Some((t, p.to_string())),
        }
        self.counters.clone_from(feed.counters);
    }
}
