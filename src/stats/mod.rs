//! Backtest statistics (DESIGN §10). One module per metric, each with its definition and a table
//! of cases; a metric that is undefined for its input (no trades, no losses, one day) is `None`.
//!
//! Inputs are the closed shadow trades (net P&L per trade, in exit order) and the daily P&L of
//! every trading day with at least one bar (zero-trade days included; a trade counts on the
//! trading day of its exit).

pub mod average_hold;
pub mod average_win_loss;
pub mod calmar;
pub mod deflated_sharpe;
pub mod expectancy;
pub mod exposure;
pub mod largest_win_loss;
pub mod max_consecutive_losses;
pub mod max_drawdown;
pub mod max_drawdown_duration;
pub mod pbo;
pub mod profit_factor;
pub mod rolling_sharpe;
pub mod sharpe;
pub mod sortino;
pub mod total_commissions;
pub mod win_rate;

use serde::{Deserialize, Serialize};

/// Arithmetic mean; `None` when there is nothing to average.
pub fn mean(x: &[f64]) -> Option<f64> {
    (!x.is_empty()).then(|| x.iter().sum::<f64>() / x.len() as f64)
}

/// Sample variance (sum of squared deviations ÷ (n − 1)); `None` under 2 values.
pub fn sample_variance(x: &[f64]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    let m = mean(x)?;
    Some(x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0))
}

/// What the statistics need to know of one closed trade.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TradeFacts {
    /// Net of commissions, dollars.
    pub pnl: f64,
    pub contracts: u32,
    /// Entry time to exit bar close; `None` for a trade that never entered.
    pub hold_minutes: Option<f64>,
    /// Indices of the entry and exit bars in the run's bars; `None` for a trade that never entered.
    pub held_bars: Option<(usize, usize)>,
}

/// The statistics of one group of trades (all, one side, one window).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub trades: usize,
    pub wins: usize,
    pub losses: usize,
    pub win_rate: Option<f64>,
    pub average_win: Option<f64>,
    pub average_loss: Option<f64>,
    pub profit_factor: Option<f64>,
    pub net_pnl: f64,
    /// Net P&L / trading days with bars; `None` with no trading days.
    pub average_pnl_per_day: Option<f64>,
    pub sharpe: Option<f64>,
    pub max_drawdown: Option<f64>,
    pub expectancy: Option<f64>,
    pub largest_win: Option<f64>,
    pub largest_loss: Option<f64>,
    pub max_consecutive_losses: usize,
    pub average_hold_minutes: Option<f64>,
    pub total_commissions: f64,
    pub sortino: Option<f64>,
    pub calmar: Option<f64>,
    /// Longest stretch under the equity peak, in trading days.
    pub max_drawdown_duration_days: Option<usize>,
    /// Share of the run's bars with a position open (0–1).
    pub exposure: Option<f64>,
}

impl Stats {
    /// `trades`: closed trades in exit order; `daily`: P&L of every trading day with bars;
    /// `bars`: bars in the run (for exposure).
    pub fn compute(
        trades: &[TradeFacts],
        daily: &[f64],
        bars: usize,
        commission_per_contract_side: f64,
    ) -> Stats {
        let pnls: Vec<f64> = trades.iter().map(|t| t.pnl).collect();
        let pnls = &pnls[..];
        // Fold from +0.0: an empty f64 `sum()` is -0.0 and would print as "-$0.00".
        let net = pnls.iter().fold(0.0, |s, p| s + p);
        let holds: Vec<f64> = trades.iter().filter_map(|t| t.hold_minutes).collect();
        let held: Vec<(usize, usize)> = trades.iter().filter_map(|t| t.held_bars).collect();
        let contracts: Vec<u32> = trades.iter().map(|t| t.contracts).collect();
        let max_drawdown = max_drawdown::max_drawdown(pnls);
        Stats {
            trades: pnls.len(),
            wins: pnls.iter().filter(|p| **p > 0.0).count(),
            losses: pnls.iter().filter(|p| **p < 0.0).count(),
            win_rate: win_rate::win_rate(pnls),
            average_win: average_win_loss::average_win(pnls),
            average_loss: average_win_loss::average_loss(pnls),
            profit_factor: profit_factor::profit_factor(pnls),
            net_pnl: net,
            average_pnl_per_day: (!daily.is_empty()).then(|| net / daily.len() as f64),
            sharpe: sharpe::sharpe(daily),
            max_drawdown,
            expectancy: expectancy::expectancy(pnls),
            largest_win: largest_win_loss::largest_win(pnls),
            largest_loss: largest_win_loss::largest_loss(pnls),
            max_consecutive_losses: max_consecutive_losses::max_consecutive_losses(pnls),
            average_hold_minutes: average_hold::average_hold_minutes(&holds),
            total_commissions: total_commissions::total_commissions(
                commission_per_contract_side,
                &contracts,
            ),
            sortino: sortino::sortino(daily),
            calmar: calmar::calmar(daily, max_drawdown),
            max_drawdown_duration_days: max_drawdown_duration::max_drawdown_duration(daily),
            exposure: exposure::exposure(&held, bars),
        }
    }
}
