//! What the dashboard shows, as plain data: the engine side builds a [`DeskState`] after each
//! bar, event and key, the drawing side renders it (`draw.rs`). Nothing here touches
//! the engine or the terminal, so a state can be made by hand in a test.

use crate::cli::desk::reconcile::{self, Model};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything on the screen.
#[derive(Clone, Debug, Default)]
pub struct DeskState {
    /// Wall clock (UTC seconds) when the state was made; ages and countdowns count from the
    /// drawing time ([`DeskState::now`] is replaced by the drawing side before each frame).
    pub now: i64,
    pub url: String,
    pub feed: FeedPane,
    pub windows: Vec<WindowRow>,
    pub next_window: Option<NextWindow>,
    /// `Some(note)` while the kill switch (`state/HALT`) is on.
    pub kill_switch: Option<String>,
    pub today: TodayPane,
    pub position: PositionPane,
    pub nt8: Nt8Pane,
    /// What the last key did (also journaled).
    pub message: Option<String>,
    /// The `p` key's choice in progress: (window index, profile index) among the configured.
    pub choosing: Option<ProfileChoice>,
    /// The configured profiles, in name order.
    pub profiles: Vec<String>,
}

/// The `p` key: which window is being switched to which profile (Tab / arrows change them,
/// Enter applies, Esc cancels).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileChoice {
    pub window: usize,
    pub profile: usize,
}

#[derive(Clone, Debug, Default)]
pub struct FeedPane {
    /// The publisher (`vrev 1, ESZ6` / `legacy`) while connected.
    pub connected: Option<String>,
    /// Seconds connected.
    pub connected_for: u64,
    pub bars_today: u64,
    pub bars_run: u64,
    /// Close time of the newest bar (UTC seconds).
    pub last_bar: Option<i64>,
    /// Frame arrival → signal file renamed: p50, p99 (µs) and how many signals.
    pub latency: Option<(u64, u64)>,
    pub latency_count: u64,
    pub reconnects: u64,
    /// Frames refused, and by what (`duplicate 0, ..., wrong instrument 2` as the feed
    /// summary counts them).
    pub refused: u64,
    pub refused_detail: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowRow {
    pub name: String,
    /// `09:30-11:30` ET.
    pub hours: String,
    /// The profile running now.
    pub profile: String,
    /// The config's profile, when a runtime override (`p`) differs from it.
    pub configured: Option<String>,
    /// The wall clock is inside the window.
    pub open: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NextWindow {
    pub name: String,
    pub profile: String,
    /// UTC seconds of its start.
    pub starts: i64,
}

#[derive(Clone, Debug, Default)]
pub struct TodayPane {
    /// The CME trading day counted (of the newest bar).
    pub day: Option<chrono::NaiveDate>,
    pub signals: u64,
    /// Refusals by reason, most first.
    pub refusals: Vec<(String, u64)>,
    /// The last events, newest last.
    pub events: VecDeque<EventLine>,
}

/// Events kept for the Today pane.
pub const EVENTS_SHOWN: usize = 10;

#[derive(Clone, Debug, PartialEq)]
pub struct EventLine {
    /// `HH:MM:SS` ET (the bar's time for bar events, the wall clock's otherwise).
    pub time: String,
    /// `signal`, `refusal`, `reload`, `error`, `halt`, `desk`, `feed`.
    pub kind: &'static str,
    pub text: String,
}

#[derive(Clone, Debug, Default)]
pub struct PositionPane {
    pub open: Vec<OpenRow>,
    /// Realized shadow P&L of the trading day (net of commissions).
    pub today_pnl: f64,
    /// Shadow trades closed today.
    pub closed_today: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OpenRow {
    pub signal_id: String,
    pub profile: String,
    pub side: &'static str,
    pub contracts: u32,
    /// `None` until the entry bar.
    pub entry: Option<f64>,
    /// The stop in force, and the one the trade opened with.
    pub stop: f64,
    pub initial_stop: f64,
    /// `initial`, `breakeven`, `trail`.
    pub stop_rule: &'static str,
    pub target: f64,
    /// Gross dollars at the newest close.
    pub open_pnl: Option<f64>,
    pub last_price: Option<f64>,
}

/// The NinjaTrader pane: today's real trades from the auto-trader's trade log.
#[derive(Clone, Debug, Default)]
pub enum Nt8Pane {
    /// No `[nt8]` section: the pane says how to set it.
    #[default]
    NotConfigured,
    /// Configured; the trade log is not there yet (no trade so far).
    NoFile(PathBuf),
    /// The trade log could not be read (the error names the place).
    Error(String),
    Trades(Nt8Trades),
}

#[derive(Clone, Debug, Default)]
pub struct Nt8Trades {
    pub path: PathBuf,
    /// Trades of the trading day, matched to vrev's signals by SIGNAL_ID.
    pub rows: Vec<Nt8Row>,
    /// Gross P&L of the rows, live and shadow (matched rows with an exited shadow only).
    pub live_total: f64,
    pub shadow_total: f64,
    /// Trades in the whole file (any day).
    pub in_file: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Nt8Row {
    pub signal_id: String,
    pub side: &'static str,
    pub quantity: u32,
    pub exit_reason: String,
    pub live_pnl: f64,
    /// `None`: no vrev signal with this ID, or its shadow trade has not exited.
    pub shadow_pnl: Option<f64>,
    /// Entry and exit fill against the shadow's fills, ticks, positive = live worse.
    pub entry_ticks: Option<f64>,
    pub exit_ticks: Option<f64>,
    /// No vrev signal has this ID.
    pub unknown: bool,
}

impl Nt8Pane {
    /// Reads the trade log at `path` and matches the trades of trading day `day` (by their
    /// entry time, CME day rolling at `day_start_minute`) against `model`.
    pub fn load(
        path: &std::path::Path,
        model: &Model,
        costs: reconcile::Costs,
        day: Option<chrono::NaiveDate>,
        clock: &crate::market::time::MarketClock,
    ) -> Nt8Pane {
        if !path.exists() {
            return Nt8Pane::NoFile(path.to_path_buf());
        }
        let trades = match reconcile::read_trades(path) {
            Ok(t) => t,
            Err(e) => return Nt8Pane::Error(format!("{e:#}")),
        };
        let in_file = trades.len();
        let today: Vec<_> = trades
            .into_iter()
            .filter(|t| {
                let Some(day) = day else { return true };
                chrono::DateTime::parse_from_rfc3339(&t.entry_time)
                    .map(|d| clock.stamp(d.timestamp()).trading_day == day)
                    .unwrap_or(true)
            })
            .collect();
        let r = reconcile::reconcile(model, &today, &Default::default(), costs);
        let mut rows: Vec<Nt8Row> = r
            .matched
            .iter()
            .map(|m| Nt8Row {
                signal_id: m.live.signal_id.clone(),
                side: m.live.side.as_str(),
                quantity: m.live.quantity,
                exit_reason: m.live.exit_reason.clone(),
                live_pnl: m.live.pnl,
                shadow_pnl: m.shadow_pnl,
                entry_ticks: m.entry_vs_shadow,
                exit_ticks: m.exit_vs_shadow,
                unknown: false,
            })
            .collect();
        rows.extend(r.unmatched.iter().map(|t| Nt8Row {
            signal_id: t.signal_id.clone(),
            side: t.side.as_str(),
            quantity: t.quantity,
            exit_reason: t.exit_reason.clone(),
            live_pnl: t.pnl,
            shadow_pnl: None,
            entry_ticks: None,
            exit_ticks: None,
            unknown: true,
        }));
        let (live_total, shadow_total) = r.pnl_totals();
        Nt8Pane::Trades(Nt8Trades {
            path: path.to_path_buf(),
            rows,
            live_total,
            shadow_total,
            in_file,
        })
    }
}

/// What the NinjaTrader pane needs from the engine side: this run's signals and exited shadow
/// trades (shared, rebuilt only when they change), the trading day, the costs.
#[derive(Clone, Debug)]
pub struct Nt8Source {
    pub model: Arc<Model>,
    pub day: Option<chrono::NaiveDate>,
}
