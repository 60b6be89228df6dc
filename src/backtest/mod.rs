//! Honest backtests (DESIGN §10): the bars go through the very `Engine::on_bar` that trades
//! live, in memory; the shadow trades of its book are the trades; the statistics, report and
//! sweeps are built from them. The fill assumptions are printed with every report.

pub mod excursion;
pub mod identity;
pub mod monte_carlo;
pub mod report;
pub mod sample_size;
pub mod sweep;
pub mod walk_forward;

use crate::config::Config;
use crate::host::book::{FillModel, Trade};
use crate::host::engine::{Engine, EngineError, EngineOptions};
use crate::market::bar::Bar;
use crate::market::price::Side;
use crate::stats::{Stats, TradeFacts};
use chrono::NaiveDate;
use excursion::TradePath;
use identity::RunIdentity;
use serde::Serialize;
use std::collections::BTreeMap;

/// Which profile and strategy version ran in one session window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowLineup {
    pub window: String,
    pub profile: String,
    /// `file@hash` of the script (or `builtin:NAME@hash`).
    pub strategy: String,
}

/// What one backtest produced.
#[derive(Clone, Debug)]
pub struct Backtest {
    /// Bars the engine accepted (a refused bar is counted in the journal, not here).
    pub bars: usize,
    /// Every trading day with at least one bar, in order.
    pub trading_days: Vec<NaiveDate>,
    pub signals: usize,
    /// Closed shadow trades in exit order (open ones are closed at the end of data).
    pub trades: Vec<Trade>,
    /// What each trade went through on the bars (same order as `trades`).
    pub paths: Vec<TradePath>,
    pub fill: FillModel,
    /// Window names in config order.
    pub windows: Vec<String>,
    /// Profile and strategy version of each window, in config order.
    pub lineup: Vec<WindowLineup>,
    /// Sides some window could trade (after `--buy-only`/`--sell-only`); a side no profile
    /// trades gets no statistics row.
    pub sides: Vec<Side>,
    pub script_errors: u64,
    /// Bars the script errors blanked and the first error, for the loud end of the run.
    pub script_failures: crate::strategy::script_failures::ScriptFailures,
    /// Refused proposals by reason (rule names such as `open_positions`, `stop_too_wide`).
    pub refusals: BTreeMap<String, u64>,
    /// The bars the engine accepted: their count and first and last close (a refused bar, e.g.
    /// one in the future, is not part of the run's span).
    pub bars_used: identity::BarSpan,
}

impl Backtest {
    /// `refused proposals: 12 — open_positions 9, stop_too_wide 3` (`0` when none): every
    /// refusal is a decision of the host, never silent.
    pub fn refusals_line(&self) -> String {
        format!("refused proposals: {}", refusals_text(&self.refusals))
    }
}

/// Refusals by reason as `12 — open_positions 9, stop_too_wide 3` (most first), `0` when none:
/// the one wording of the backtest, every sweep cell and walk-forward.
pub fn refusals_text(refusals: &BTreeMap<String, u64>) -> String {
    let total: u64 = refusals.values().sum();
    if total == 0 {
        return "0".into();
    }
    let mut by: Vec<(&String, &u64)> = refusals.iter().filter(|(_, n)| **n > 0).collect();
    by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = by.iter().map(|(r, n)| format!("{r} {n}")).collect();
    format!("{total} — {}", parts.join(", "))
}

/// Runs the engine over `bars` in memory. `progress` is told how many bars are done.
pub fn run(
    cfg: &Config,
    opts: EngineOptions,
    bars: &[Bar],
    progress: impl FnMut(usize),
) -> Result<Backtest, EngineError> {
    run_inner(cfg, opts, bars, progress, false).map(|b| b.expect("not stoppable: always ends"))
}

/// [`run`] that ends early, between two bars, once a stop was asked for
/// ([`crate::market::stop`], Ctrl+C): `Ok(None)` then, after telling `progress` the bars done.
pub fn run_until_stopped(
    cfg: &Config,
    opts: EngineOptions,
    bars: &[Bar],
    progress: impl FnMut(usize),
) -> Result<Option<Backtest>, EngineError> {
    run_inner(cfg, opts, bars, progress, true)
}

fn run_inner(
    cfg: &Config,
    opts: EngineOptions,
    bars: &[Bar],
    mut progress: impl FnMut(usize),
    stoppable: bool,
) -> Result<Option<Backtest>, EngineError> {
    let only_side = opts.only_side;
    let mut engine = Engine::new(cfg, opts)?;
    let mut days: Vec<NaiveDate> = Vec::new();
    for (n, bar) in bars.iter().enumerate() {
        // Checked every 1,024 bars: well under a second even for a slow script.
        if stoppable && n % 1024 == 1023 && crate::market::stop::raised() {
            progress(n);
            return Ok(None);
        }
        engine.on_bar(bar);
        // The engine has just stamped the bar; a rejected bar leaves the previous day.
        if let Some(day) = engine.last_trading_day().filter(|d| days.last() != Some(d)) {
            days.push(day);
        }
        if n % 8192 == 8191 {
            progress(n + 1);
        }
    }
    engine.finish(true);
    progress(bars.len());
    days.dedup();
    let lineup: Vec<WindowLineup> = engine
        .window_profiles()
        .into_iter()
        .map(|(window, profile, strategy)| WindowLineup {
            window,
            profile,
            strategy,
        })
        .collect();
    let sides = [Side::Buy, Side::Sell]
        .into_iter()
        .filter(|&side| {
            only_side.is_none_or(|o| o == side)
                && lineup.iter().any(|w| {
                    engine
                        .config()
                        .profile
                        .get(&w.profile)
                        .is_some_and(|p| p.direction.allows(side))
                })
        })
        .collect();
    let trades = std::mem::take(&mut engine.trades);
    let fill = engine.book().fill.clone();
    let paths = trades
        .iter()
        .map(|t| TradePath::of(t, bars, &fill))
        .collect();
    Ok(Some(Backtest {
        bars: engine.stats.bars as usize,
        trading_days: days,
        signals: engine.signals.len(),
        trades,
        paths,
        fill,
        windows: lineup.iter().map(|w| w.window.clone()).collect(),
        lineup,
        sides,
        script_errors: engine.stats.script_errors,
        script_failures: engine.script_failures.clone(),
        refusals: engine.stats.rejected_by.clone(),
        bars_used: identity::BarSpan::from_times(
            engine.stats.bars as usize,
            engine.stats.first_bar.map(|(t, _)| t),
            engine.last_bar_time(),
        ),
    }))
}

/// Statistics of one named group of trades.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    pub name: String,
    #[serde(flatten)]
    pub stats: Stats,
}

/// Costs used, printed with the assumptions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Costs {
    pub commission_per_contract_side: f64,
    pub slippage_ticks: f64,
    pub tick_size: f64,
    pub point_value: f64,
}

/// The summary of a backtest: what the terminal, `--json` and `summary.json` show.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// What produced this run (config, profiles, parameters, scripts, data, command); set by
    /// `vrev backtest`, absent for sweep cells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunIdentity>,
    pub bars: usize,
    pub trading_days: usize,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub signals: usize,
    pub script_errors: u64,
    pub overall: Stats,
    pub by_side: Vec<Group>,
    pub by_window: Vec<Group>,
    pub assumptions: Vec<String>,
    pub costs: Costs,
    /// Cautions where a figure rests on too few trades or days (see `sample_size`).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl Backtest {
    /// P&L per trading day (every day with bars, zero days included) of the trades `keep` selects.
    pub fn daily_pnl(&self, keep: impl Fn(&Trade) -> bool) -> Vec<f64> {
        let mut by_day: BTreeMap<NaiveDate, f64> = BTreeMap::new();
        for t in self.trades.iter().filter(|t| keep(t)) {
            if let Some(d) = t.exit_trading_day {
                *by_day.entry(d).or_default() += t.pnl.unwrap_or(0.0);
            }
        }
        self.trading_days
            .iter()
            .map(|d| by_day.get(d).copied().unwrap_or(0.0))
            .collect()
    }

    /// What the statistics need of each trade that `keep` selects, in exit order.
    pub fn trade_facts(&self, keep: impl Fn(&Trade) -> bool) -> Vec<TradeFacts> {
        self.trades
            .iter()
            .zip(&self.paths)
            .filter(|(t, _)| keep(t))
            .map(|(t, p)| TradeFacts {
                pnl: t.pnl.unwrap_or(0.0),
                contracts: t.contracts,
                hold_minutes: p.hold_minutes,
                held_bars: p.held_bars,
            })
            .collect()
    }

    fn stats(&self, keep: impl Fn(&Trade) -> bool + Copy) -> Stats {
        let facts = self.trade_facts(keep);
        Stats::compute(
            &facts,
            &self.daily_pnl(keep),
            self.bars,
            self.fill.commission_per_contract_side,
        )
    }

    pub fn summary(&self) -> Summary {
        // A side no window trades (the SELL side of a long-only run) gets no row, unless it
        // somehow has trades: then they are shown, never dropped.
        let by_side = [Side::Buy, Side::Sell]
            .iter()
            .filter(|s| self.sides.contains(s) || self.trades.iter().any(|t| t.side == **s))
            .map(|&s| Group {
                name: s.as_str().to_string(),
                stats: self.stats(|t| t.side == s),
            })
            .collect();
        let by_window = self
            .windows
            .iter()
            .map(|w| Group {
                name: w.clone(),
                stats: self.stats(|t| &t.window == w),
            })
            .collect();
        let mut summary = Summary {
            run: None,
            bars: self.bars,
            trading_days: self.trading_days.len(),
            first_day: self.trading_days.first().copied(),
            last_day: self.trading_days.last().copied(),
            signals: self.signals,
            script_errors: self.script_errors,
            overall: self.stats(|_| true),
            by_side,
            by_window,
            warnings: Vec::new(),
            assumptions: self.fill.describe(),
            costs: Costs {
                commission_per_contract_side: self.fill.commission_per_contract_side,
                slippage_ticks: self.fill.slippage_ticks,
                tick_size: self.fill.tick_size,
                point_value: self.fill.point_value,
            },
        };
        summary.warnings =
            sample_size::for_stats("backtest", &summary.overall, summary.trading_days);
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_groups_by_side_and_window_and_counts_zero_days() {
        let cfg = Config::from_text(
            &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml")).unwrap(),
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml")),
        )
        .unwrap();
        let mut cfg = cfg;
        cfg.apply_overrides(&[
            "profile.production.strategy=builtin:bidirectional".into(),
            "profile.production.direction=both".into(),
        ])
        .unwrap();
        let bars = crate::market::synth::generate(&crate::market::synth::SynthOptions {
            days: 4,
            volatility_ticks: 3,
            ..Default::default()
        });
        let bt = run(&cfg, EngineOptions::default(), &bars, |_| {}).unwrap();
        let s = bt.summary();
        assert_eq!(s.trading_days, 4);
        assert_eq!(s.overall.trades, bt.trades.len());
        assert!(s.overall.trades > 0);
        assert_eq!(
            s.by_side.iter().map(|g| g.stats.trades).sum::<usize>(),
            s.overall.trades
        );
        assert_eq!(
            s.by_window.iter().map(|g| g.stats.trades).sum::<usize>(),
            s.overall.trades
        );
        assert!(
            (s.by_side.iter().map(|g| g.stats.net_pnl).sum::<f64>() - s.overall.net_pnl).abs()
                < 1e-6
        );
        assert_eq!(bt.daily_pnl(|_| true).len(), 4);
    }
}
