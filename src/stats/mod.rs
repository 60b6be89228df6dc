//! Backtest statistics (DESIGN §10). One module per metric, each with its definition and a table
//! of cases; a metric that is undefined for its input (no trades, no losses, one day) is `None`.
//!
//! Inputs are the closed shadow trades (net P&L per trade, in exit order) and the daily P&L of
//! every trading day with at least one bar (zero-trade days included; a trade counts on the
//! trading day of its exit).

pub mod average_win_loss;
pub mod deflated_sharpe;
pub mod max_drawdown;
pub mod pbo;
pub mod profit_factor;
pub mod sharpe;
pub mod win_rate;

use serde::Serialize;

/// The statistics of one group of trades (all, one side, one window).
#[derive(Clone, Debug, PartialEq, Serialize)]
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
}

impl Stats {
    /// `pnls`: net P&L per trade in exit order; `daily`: P&L of every trading day with bars.
    pub fn compute(pnls: &[f64], daily: &[f64]) -> Stats {
        let net: f64 = pnls.iter().sum();
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
            max_drawdown: max_drawdown::max_drawdown(pnls),
        }
    }
}
