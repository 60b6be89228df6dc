//! trades.csv (one line per trade, UTC and ET times, stop, target, window, profile, hold,
//! MAE/MFE) and daily.csv (one line per trading day with bars).

use crate::backtest::Backtest;
// Every text cell (names from the config, reasons): quoted and formula-neutralised (issue 19).
use crate::market::format::csv_text as csv_field;
use crate::market::price::{format_price, price_decimals};
use crate::market::time::{format_utc, MarketClock};
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub const TRADES_HEADER: &str = "signal_id,side,window,profile,signal_time,signal_time_et,entry_time,entry_time_et,entry_price,stop,target,exit_time,exit_time_et,exit_price,exit_reason,contracts,hold_minutes,mae_points,mfe_points,pnl";

/// [`TRADES_HEADER`]; times in UTC (RFC 3339) and ET wall clock (`yyyy-MM-dd HH:mm:ss`).
pub fn trades_csv(bt: &Backtest) -> String {
    let d = price_decimals(bt.fill.tick_size);
    let clock = MarketClock::exchange();
    let utc = |x: Option<i64>| x.map(format_utc).unwrap_or_default();
    let et = |x: Option<i64>| x.map(|t| clock.stamp(t).format()).unwrap_or_default();
    let price = |p: Option<f64>| p.map(|p| format_price(p, d)).unwrap_or_default();
    let num = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_default();
    let mut out = String::with_capacity(200 * (bt.trades.len() + 1));
    out.push_str(TRADES_HEADER);
    out.push('\n');
    for (t, p) in bt.trades.iter().zip(&bt.paths) {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.2}",
            csv_field(&t.signal_id),
            t.side.as_str(),
            csv_field(&t.window),
            csv_field(&t.profile),
            format_utc(t.signal_time),
            clock.stamp(t.signal_time).format(),
            utc(t.entry_time),
            et(t.entry_time),
            price(t.entry_price),
            format_price(t.initial_stop, d),
            format_price(t.target, d),
            utc(t.exit_time),
            et(t.exit_time),
            price(t.exit_price),
            csv_field(t.exit_reason.map(|r| r.as_str()).unwrap_or("")),
            t.contracts,
            num(p.hold_minutes),
            price(p.mae_points),
            price(p.mfe_points),
            t.pnl.unwrap_or(0.0) + 0.0 // +0.0 turns -0.0 into 0.0
        );
    }
    out
}

/// `trading_day,trades,pnl,equity,drawdown` for every trading day with bars.
pub fn daily_csv(bt: &Backtest) -> String {
    let mut count: BTreeMap<chrono::NaiveDate, usize> = BTreeMap::new();
    for t in &bt.trades {
        if let Some(d) = t.exit_trading_day {
            *count.entry(d).or_default() += 1;
        }
    }
    let mut out = String::from("trading_day,trades,pnl,equity,drawdown\n");
    let (mut equity, mut peak) = (0.0f64, 0.0f64);
    for (day, pnl) in bt.trading_days.iter().zip(bt.daily_pnl(|_| true)) {
        equity += pnl;
        peak = peak.max(equity);
        let _ = writeln!(
            out,
            "{day},{},{:.2},{:.2},{:.2}",
            count.get(day).copied().unwrap_or(0),
            pnl + 0.0,
            equity + 0.0,
            peak - equity + 0.0
        );
    }
    out
}
