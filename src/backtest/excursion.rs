//! What a trade went through between its entry and its exit, measured on the bars of the run
//! (the book only knows entry and exit): how long it was held, which bars it spanned, and its
//! maximum adverse and favourable excursions (MAE, MFE).
//!
//! MAE/MFE are in points from the entry fill, both ≥ 0. Every bar from the entry bar (entered at
//! its open) up to the bar before the exit bar counts with its full range; the exit bar counts
//! only up to the exit price for stop and target exits (the order of prices inside that bar is
//! unknown, and the fill model already decided how it ended), and with its full range for
//! max-hold and end-of-data exits (those exit at the bar's close).

use crate::host::book::{ExitReason, FillModel, Trade};
use crate::market::bar::Bar;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TradePath {
    /// Entry time (open of the entry bar) to the exit bar's close, in minutes.
    pub hold_minutes: Option<f64>,
    /// Indices of the entry and exit bars in the run's bars.
    pub held_bars: Option<(usize, usize)>,
    /// Maximum adverse excursion, points against the position from the entry fill.
    pub mae_points: Option<f64>,
    /// Maximum favourable excursion, points in favour of the position from the entry fill.
    pub mfe_points: Option<f64>,
}

impl TradePath {
    /// `bars` are the bars the run went through, in time order (close-time stamped).
    pub fn of(t: &Trade, bars: &[Bar], fill: &FillModel) -> TradePath {
        let none = TradePath {
            hold_minutes: None,
            held_bars: None,
            mae_points: None,
            mfe_points: None,
        };
        let (Some(entry_time), Some(entry), Some(exit_time), Some(exit)) =
            (t.entry_time, t.entry_price, t.exit_time, t.exit_price)
        else {
            return none;
        };
        let hold_minutes = Some((exit_time - entry_time) as f64 / 60.0);
        // The entry bar closes one bar after the entry time; the exit bar closes at the exit time.
        let first = bars.partition_point(|b| b.close_time < entry_time + fill.bar_seconds);
        let last = bars.partition_point(|b| b.close_time <= exit_time);
        if last == 0 || first >= last {
            return TradePath {
                hold_minutes,
                ..none
            };
        }
        let last = last - 1;
        let full_exit_bar = matches!(
            t.exit_reason,
            Some(ExitReason::MaxHold)
                | Some(ExitReason::FlatBy)
                // Filled at the open of the bar after `exit_time`'s bar, which counts whole.
                | Some(ExitReason::ScriptExit)
                | Some(ExitReason::EndOfData)
                | None
        );
        let (mut high, mut low) = (exit, exit);
        let through = if full_exit_bar { last + 1 } else { last };
        for b in &bars[first..through] {
            high = high.max(b.high);
            low = low.min(b.low);
        }
        let (adverse, favourable) = match t.side {
            crate::market::price::Side::Buy => (entry - low, high - entry),
            crate::market::price::Side::Sell => (high - entry, entry - low),
        };
        TradePath {
            hold_minutes,
            held_bars: Some((first, last)),
            mae_points: Some(adverse.max(0.0)),
            mfe_points: Some(favourable.max(0.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::price::Side;

    fn bar(close_time: i64, o: f64, h: f64, l: f64, c: f64) -> Bar {
        Bar {
            close_time,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: 1.0,
        }
    }

    fn trade(side: Side, entry: f64, exit: f64, exit_time: i64, reason: ExitReason) -> Trade {
        Trade {
            signal_id: "x".into(),
            profile: "p".into(),
            window: "w".into(),
            side,
            signal_time: 60,
            stop: 0.0,
            target: 0.0,
            contracts: 1,
            max_hold_minutes: 25,
            entry_time: Some(60),
            entry_price: Some(entry),
            exit_time: Some(exit_time),
            exit_price: Some(exit),
            exit_reason: Some(reason),
            exit_trading_day: None,
            pnl: Some(0.0),
            plan: Default::default(),
            initial_stop: 0.0,
            stop_rule: Default::default(),
            stop_moves: Vec::new(),
            best_close: None,
            bars_held: 0,
            exit_request: None,
        }
    }

    #[test]
    fn excursions_count_the_exit_bar_only_up_to_a_stop_or_target_exit() {
        let fill = FillModel {
            tick_size: 0.25,
            point_value: 50.0,
            slippage_ticks: 1.0,
            commission_per_contract_side: 2.25,
            bar_seconds: 60,
        };
        // signal bar at 60; entry bar closes at 120 (entered at its open, 100.25).
        let bars = [
            bar(60, 99.0, 100.0, 99.0, 100.0),
            bar(120, 100.0, 102.0, 99.5, 101.0),
            bar(180, 101.0, 103.0, 98.0, 99.0), // exit bar
            bar(240, 99.0, 110.0, 90.0, 95.0),  // after the exit: never counts
        ];
        // (side, entry, exit, reason, held bars, MAE, MFE)
        let cases = [
            // stop at 98.75: the exit bar's 103 high and 98 low do not count beyond the exit
            (
                Side::Buy,
                100.25,
                98.75,
                ExitReason::Stop,
                (1, 2),
                1.5,
                1.75,
            ),
            // max hold: the exit bar's whole range counts
            (
                Side::Buy,
                100.25,
                99.0,
                ExitReason::MaxHold,
                (1, 2),
                2.25,
                2.75,
            ),
            // SELL target at 99.0: adverse = 102 − 99.75, favourable = 99.75 − 99.0
            (
                Side::Sell,
                99.75,
                99.0,
                ExitReason::Target,
                (1, 2),
                2.25,
                0.75,
            ),
        ];
        for (side, entry, exit, reason, held, mae, mfe) in cases {
            let p = TradePath::of(&trade(side, entry, exit, 180, reason), &bars, &fill);
            assert_eq!(p.held_bars, Some(held), "{side:?} {reason:?}");
            assert_eq!(p.mae_points, Some(mae), "{side:?} {reason:?} MAE");
            assert_eq!(p.mfe_points, Some(mfe), "{side:?} {reason:?} MFE");
            assert_eq!(p.hold_minutes, Some(2.0));
        }
        // Exited on its entry bar at the stop: only the exit price counts.
        let p = TradePath::of(
            &trade(Side::Buy, 100.25, 99.25, 120, ExitReason::Stop),
            &bars,
            &fill,
        );
        assert_eq!(
            (p.held_bars, p.mae_points, p.mfe_points),
            (Some((1, 1)), Some(1.0), Some(0.0))
        );
        // A trade that never entered has no path.
        let mut pending = trade(Side::Buy, 100.0, 100.0, 180, ExitReason::EndOfData);
        pending.entry_price = None;
        assert_eq!(TradePath::of(&pending, &bars, &fill).held_bars, None);
    }
}
