//! Shadow trades and the fill model (DESIGN §10, §10a). Every admitted signal becomes a shadow
//! trade here; its exits drive the `daily_loss` and `open_positions` rules live, and the backtest
//! report is built from the same trades. The fill assumptions live in [`FillModel`] and nowhere
//! else; [`FillModel::describe`] prints them with every report.

use crate::host::signal::ExitPlan;
use crate::market::bar::Bar;
use crate::market::price::Side;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// The conservative fill assumptions.
#[derive(Clone, Debug, PartialEq)]
pub struct FillModel {
    pub tick_size: f64,
    pub point_value: f64,
    /// Ticks against us on market fills (entry, stop, max-hold and end-of-data exits). Default 1.
    pub slippage_ticks: f64,
    /// Dollars per contract per side. Default 2.25.
    pub commission_per_contract_side: f64,
    /// Bar length: the entry time is the entry bar's close minus one bar. Default 60 s.
    pub bar_seconds: i64,
}

impl FillModel {
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        FillModel {
            tick_size: cfg.instrument.tick_size,
            point_value: cfg.instrument.point_value,
            slippage_ticks: cfg.backtest.slippage_ticks,
            commission_per_contract_side: cfg.backtest.commission_per_contract_side,
            bar_seconds: cfg.engine.bar_seconds,
        }
    }

    fn slip(&self) -> f64 {
        self.slippage_ticks * self.tick_size
    }

    /// The assumptions in words, printed with every backtest report.
    pub fn describe(&self) -> Vec<String> {
        vec![
            format!("entry: market at the open of the bar after the signal bar, {} tick(s) slippage against us", self.slippage_ticks),
            "stop: if a bar opens at or through the stop, exit at that open; else if the bar reaches the stop, exit at the stop; slippage against us either way".into(),
            "target: only when a bar trades through it by at least one tick; filled exactly at the target (no slippage, no gap improvement)".into(),
            "stop and target reachable in the same bar: the stop wins".into(),
            "max hold: still open at the close of the first bar whose close is at or after entry time + max_hold_minutes (entry time = entry bar close − one bar) → exit at that close with slippage".into(),
            "exit plan (when a signal has one): breakeven and trailing move the stop only in the trade's favour, judged on each bar's close from the entry bar on, in force from the next bar; flat_by exits at the close of the first bar at or after it, with slippage; a script's exit fills at the next bar's open with slippage".into(),
            "end of data: open trades exit at the last close with slippage; a signal on the last bar never fills".into(),
            format!("costs: ${:.2} commission per contract per side; ${} per point per contract", self.commission_per_contract_side, self.point_value),
        ]
    }
}

/// Why a trade ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The bar opened at or through the stop (whichever rule placed it).
    StopGap,
    /// The stop it was opened with.
    Stop,
    Target,
    /// The stop that breakeven moved to the entry fill.
    Breakeven,
    /// The stop that trailing moved.
    Trail,
    /// The script asked to exit: filled at the next bar's open.
    ScriptExit,
    /// The profile's `flat_by` time.
    FlatBy,
    MaxHold,
    EndOfData,
}

/// Which rule placed the stop in force.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopRule {
    /// The stop the trade was opened with.
    #[default]
    Initial,
    Breakeven,
    Trail,
}

impl StopRule {
    pub fn as_str(self) -> &'static str {
        match self {
            StopRule::Initial => "stop",
            StopRule::Breakeven => "breakeven",
            StopRule::Trail => "trail",
        }
    }
    fn exit_reason(self) -> ExitReason {
        match self {
            StopRule::Initial => ExitReason::Stop,
            StopRule::Breakeven => ExitReason::Breakeven,
            StopRule::Trail => ExitReason::Trail,
        }
    }
}

/// A move of a trade's stop, judged on a bar's close and in force from the next bar.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct StopMove {
    /// Close of the bar that moved it, UTC seconds.
    pub time: i64,
    pub stop: f64,
    pub rule: StopRule,
}

impl ExitReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::StopGap => "stop_gap",
            ExitReason::Stop => "stop",
            ExitReason::Target => "target",
            ExitReason::Breakeven => "breakeven",
            ExitReason::Trail => "trail",
            ExitReason::ScriptExit => "script_exit",
            ExitReason::FlatBy => "flat_by",
            ExitReason::MaxHold => "max_hold",
            ExitReason::EndOfData => "end_of_data",
        }
    }
}

/// A shadow trade from signal to exit.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Trade {
    pub signal_id: String,
    pub profile: String,
    /// Session window of the signal bar.
    pub window: String,
    pub side: Side,
    pub signal_time: i64,
    pub stop: f64,
    pub target: f64,
    pub contracts: u32,
    pub max_hold_minutes: u32,
    pub entry_time: Option<i64>,
    pub entry_price: Option<f64>,
    pub exit_time: Option<i64>,
    pub exit_price: Option<f64>,
    pub exit_reason: Option<ExitReason>,
    pub exit_trading_day: Option<NaiveDate>,
    /// Net of commissions, dollars.
    pub pnl: Option<f64>,
    /// Breakeven, trailing and flat-by of this trade.
    pub plan: ExitPlan,
    /// The stop the trade was opened with (`stop` is the one in force).
    pub initial_stop: f64,
    /// The rule that placed the stop in force.
    pub stop_rule: StopRule,
    /// Every move of the stop, in order.
    pub stop_moves: Vec<StopMove>,
    /// Best close since entry (highest for a BUY, lowest for a SELL), entry bar included.
    pub best_close: Option<f64>,
    /// Bars since entry, the entry bar included.
    pub bars_held: u32,
    /// The script asked to exit (close of that bar, UTC, and its reason): fills at the next
    /// bar's open.
    pub exit_request: Option<(i64, String)>,
}

impl Trade {
    /// The shadow trade of an admitted signal, pending its entry on the next bar.
    pub fn from_signal(s: &crate::host::signal::Signal) -> Self {
        Trade::pending(
            Pending {
                signal_id: s.id.clone(),
                profile: s.profile.clone(),
                window: s.window.clone(),
                side: s.side,
                signal_time: s.signal_time,
                max_hold_minutes: s.max_hold_minutes,
            },
            (s.stop, s.target, s.quantity),
            s.plan,
        )
    }

    /// A trade pending its entry on the next bar, with its stop, target and contracts.
    pub fn pending(p: Pending, (stop, target, contracts): (f64, f64, u32), plan: ExitPlan) -> Self {
        Trade {
            signal_id: p.signal_id,
            profile: p.profile,
            window: p.window,
            side: p.side,
            signal_time: p.signal_time,
            stop,
            target,
            contracts,
            max_hold_minutes: p.max_hold_minutes,
            entry_time: None,
            entry_price: None,
            exit_time: None,
            exit_price: None,
            exit_reason: None,
            exit_trading_day: None,
            pnl: None,
            plan,
            initial_stop: stop,
            stop_rule: StopRule::Initial,
            stop_moves: Vec::new(),
            best_close: None,
            bars_held: 0,
            exit_request: None,
        }
    }

    /// Breakeven, then trailing, judged on this bar's close (DESIGN §10, `docs/protocol.md` §1a):
    /// each moves the stop only when strictly in the trade's favour; the new stop is in force
    /// from the next bar.
    fn move_stop(&mut self, entry: f64, bar: &Bar, tick: f64) {
        let sign = self.side.sign();
        let better = |a: f64, b: f64| (a - b) * sign > 0.0;
        let best = match self.best_close {
            Some(b) if !better(bar.close, b) => b,
            _ => bar.close,
        };
        self.best_close = Some(best);
        let mut moved = None;
        if let Some(points) = self.plan.breakeven_points {
            if (bar.close - entry) * sign >= points && better(entry, self.stop) {
                self.stop = entry;
                moved = Some(StopRule::Breakeven);
            }
        }
        if let Some(points) = self.plan.trail_points {
            // `points` is whole ticks (rule 8), so the trailing stop stays on the tick grid;
            // rounding through ticks keeps float noise out of the comparison.
            let raw = best - sign * points;
            let trail = (raw / tick).round() * tick;
            if better(trail, self.stop) {
                self.stop = trail;
                moved = Some(StopRule::Trail);
            }
        }
        if let Some(rule) = moved {
            self.stop_rule = rule;
            self.stop_moves.push(StopMove {
                time: bar.close_time,
                stop: self.stop,
                rule,
            });
        }
    }

    /// Points in the trade's favour at `price` (negative when losing); 0 before the entry.
    pub fn open_points(&self, price: f64) -> f64 {
        self.entry_price
            .map_or(0.0, |e| (price - e) * self.side.sign())
    }
}

/// What identifies a trade before its plan: the signal, its profile and window, its side.
#[derive(Clone, Debug)]
pub struct Pending {
    pub signal_id: String,
    pub profile: String,
    pub window: String,
    pub side: Side,
    pub signal_time: i64,
    pub max_hold_minutes: u32,
}

/// Open shadow trades (pending entries included) and realized P&L by trading day.
#[derive(Debug)]
pub struct Book {
    pub fill: FillModel,
    open: Vec<Trade>,
    realized: BTreeMap<NaiveDate, f64>,
}

impl Book {
    pub fn new(fill: FillModel) -> Self {
        Book {
            fill,
            open: Vec::new(),
            realized: BTreeMap::new(),
        }
    }

    /// Trades not yet exited, pending entries included (they count as open positions).
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    pub fn open_trades(&self) -> &[Trade] {
        &self.open
    }

    /// Net realized P&L of trades that exited on `day`.
    pub fn realized_on(&self, day: NaiveDate) -> f64 {
        self.realized.get(&day).copied().unwrap_or(0.0)
    }

    pub fn add(&mut self, trade: Trade) {
        self.open.push(trade);
    }

    /// The oldest entered open trade of `profile`, what a script's `position()` shows.
    pub fn position_of(&self, profile: &str) -> Option<&Trade> {
        self.open
            .iter()
            .find(|t| t.profile == profile && t.entry_price.is_some())
    }

    /// Marks the entered open trades of `profile` that `target` names for an exit at the next
    /// bar's open, asked at the close `time`; returns their IDs. Trades already marked, and
    /// entries still pending, are left alone.
    pub fn request_exit(
        &mut self,
        profile: &str,
        target: &crate::strategy::ExitTarget,
        reason: &str,
        time: i64,
    ) -> Vec<String> {
        let mut ids = Vec::new();
        for t in &mut self.open {
            let named = match target {
                crate::strategy::ExitTarget::All => true,
                crate::strategy::ExitTarget::Id(id) => &t.signal_id == id,
            };
            if named && t.profile == profile && t.entry_price.is_some() && t.exit_request.is_none()
            {
                t.exit_request = Some((time, reason.to_string()));
                ids.push(t.signal_id.clone());
            }
        }
        ids
    }

    /// Advances every open trade with this bar (entries first, then exits, stop before target);
    /// trades that exit are appended to `closed`. Called before the strategy sees the bar.
    pub fn on_bar(&mut self, bar: &Bar, trading_day: NaiveDate, closed: &mut Vec<Trade>) {
        if self.open.is_empty() {
            return;
        }
        let fill = self.fill.clone();
        let slip = fill.slip();
        let mut i = 0;
        while i < self.open.len() {
            let t = &mut self.open[i];
            if t.signal_time >= bar.close_time {
                i += 1;
                continue; // admitted on this very bar: enters on the next one
            }
            let sign = t.side.sign();
            let entry = match t.entry_price {
                Some(p) => p,
                None => {
                    let p = bar.open + sign * slip;
                    t.entry_price = Some(p);
                    t.entry_time = Some(bar.close_time - fill.bar_seconds);
                    p
                }
            };
            // A script's exit is a market order sent after the bar it was asked on: this open.
            let requested = t
                .exit_request
                .as_ref()
                .is_some_and(|(asked, _)| *asked < bar.close_time);
            let stop_reason = t.stop_rule.exit_reason();
            let exit = if requested {
                Some((bar.open - sign * slip, ExitReason::ScriptExit))
            } else {
                match t.side {
                    Side::Buy => {
                        if bar.open <= t.stop {
                            Some((bar.open - slip, ExitReason::StopGap))
                        } else if bar.low <= t.stop {
                            Some((t.stop - slip, stop_reason))
                        } else if bar.high >= t.target + fill.tick_size {
                            Some((t.target, ExitReason::Target))
                        } else {
                            None
                        }
                    }
                    Side::Sell => {
                        if bar.open >= t.stop {
                            Some((bar.open + slip, ExitReason::StopGap))
                        } else if bar.high >= t.stop {
                            Some((t.stop + slip, stop_reason))
                        } else if bar.low <= t.target - fill.tick_size {
                            Some((t.target, ExitReason::Target))
                        } else {
                            None
                        }
                    }
                }
            };
            t.bars_held += 1;
            let deadline = t.entry_time.unwrap_or(bar.close_time) + 60 * t.max_hold_minutes as i64;
            let exit = exit
                .or_else(|| {
                    (bar.close_time >= deadline)
                        .then_some((bar.close - sign * slip, ExitReason::MaxHold))
                })
                .or_else(|| {
                    t.plan
                        .flat_by
                        .filter(|at| bar.close_time >= *at)
                        .map(|_| (bar.close - sign * slip, ExitReason::FlatBy))
                });
            if exit.is_none() {
                t.move_stop(entry, bar, fill.tick_size);
            }
            match exit {
                Some((price, reason)) => {
                    let trade = self.open.remove(i);
                    // A fill at the open is stamped with the open's time, as entries are.
                    let time = if reason == ExitReason::ScriptExit {
                        bar.close_time - fill.bar_seconds
                    } else {
                        bar.close_time
                    };
                    closed.push(self.close(trade, entry, time, price, reason, trading_day));
                }
                None => i += 1,
            }
        }
    }

    fn close(
        &mut self,
        mut t: Trade,
        entry: f64,
        time: i64,
        price: f64,
        reason: ExitReason,
        day: NaiveDate,
    ) -> Trade {
        let gross = (price - entry) * t.side.sign() * self.fill.point_value * t.contracts as f64;
        let pnl = gross - 2.0 * self.fill.commission_per_contract_side * t.contracts as f64;
        t.exit_time = Some(time);
        t.exit_price = Some(price);
        t.exit_reason = Some(reason);
        t.exit_trading_day = Some(day);
        t.pnl = Some(pnl);
        *self.realized.entry(day).or_insert(0.0) += pnl;
        t
    }

    /// End of data: every entered trade exits at the last close with slippage; pending entries
    /// (signal on the last bar) never fill and are dropped.
    pub fn finish(&mut self, last: &Bar, trading_day: NaiveDate, closed: &mut Vec<Trade>) {
        let slip = self.fill.slip();
        for t in std::mem::take(&mut self.open) {
            if let Some(entry) = t.entry_price {
                let price = last.close - t.side.sign() * slip;
                closed.push(self.close(
                    t,
                    entry,
                    last.close_time,
                    price,
                    ExitReason::EndOfData,
                    trading_day,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill() -> FillModel {
        FillModel {
            tick_size: 0.25,
            point_value: 50.0,
            slippage_ticks: 1.0,
            commission_per_contract_side: 2.25,
            bar_seconds: 60,
        }
    }
    fn bar(n: i64, o: f64, h: f64, l: f64, c: f64) -> Bar {
        Bar {
            close_time: 60 * n,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: 1.0,
        }
    }
    fn trade(id: &str, side: Side, signal_time: i64, stop: f64, target: f64) -> Trade {
        let mut t = Trade::from_signal(&crate::host::signal::tests::fixture_signal());
        (
            t.signal_id,
            t.side,
            t.signal_time,
            t.stop,
            t.target,
            t.contracts,
            t.max_hold_minutes,
        ) = (id.into(), side, signal_time, stop, target, 1, 25);
        t
    }
    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 2, 13).unwrap()
    }
    /// A BUY signalled at bar 0 (stop 95, target 105, 1 contract, 25 min), run over `bars`.
    fn run(side: Side, stop: f64, target: f64, bars: &[Bar]) -> (Vec<Trade>, Book) {
        let mut b = Book::new(fill());
        b.add(trade("id", side, 0, stop, target));
        let mut closed = vec![];
        for x in bars {
            b.on_bar(x, day(), &mut closed);
        }
        (closed, b)
    }

    /// One test per fill rule: a trade signalled at bar 0 (BUY: stop 95, target 105; SELL: stop
    /// 105, target 95; 1 contract, 25 min) meets the hand-made bars; expected (entry, exit, reason)
    /// of the first exit, or `None` while it stays open.
    macro_rules! fill_rule {
        ($name:ident, $side:expr, [$($bar:expr),* $(,)?], $expected:expr) => {
            #[test]
            fn $name() {
                let side: Side = $side;
                let (stop, target) = if side == Side::Buy { (95.0, 105.0) } else { (105.0, 95.0) };
                let (closed, book) = run(side, stop, target, &[$($bar),*]);
                let got = closed.first().map(|t| (t.entry_price.unwrap(), t.exit_price.unwrap(), t.exit_reason.unwrap()));
                let expected: Option<(f64, f64, ExitReason)> = $expected;
                assert_eq!(got, expected);
                if expected.is_none() {
                    let entry = if side == Side::Buy { 100.25 } else { 99.75 };
                    assert_eq!(book.open_trades()[0].entry_price, Some(entry), "entered at the next open with one tick of slippage");
                }
            }
        };
    }

    fill_rule!(
        entry_is_the_next_open_with_slippage,
        Side::Buy,
        [bar(1, 100.0, 101.0, 99.0, 100.5)],
        None
    );
    fill_rule!(
        gap_through_the_stop_exits_at_the_open_with_slippage,
        Side::Buy,
        [bar(1, 94.0, 96.0, 93.0, 95.0)],
        Some((94.25, 93.75, ExitReason::StopGap))
    );
    fill_rule!(
        stop_hit_exits_at_the_stop_with_slippage,
        Side::Buy,
        [
            bar(1, 100.0, 101.0, 99.0, 100.0),
            bar(2, 100.0, 100.0, 95.0, 96.0)
        ],
        Some((100.25, 94.75, ExitReason::Stop))
    );
    fill_rule!(
        target_touched_is_not_filled,
        Side::Buy,
        [bar(1, 100.0, 105.0, 99.0, 104.0)],
        None
    );
    fill_rule!(
        target_traded_through_by_a_tick_fills_at_the_target,
        Side::Buy,
        [bar(1, 100.0, 105.25, 99.0, 104.0)],
        Some((100.25, 105.0, ExitReason::Target))
    );
    fill_rule!(
        stop_and_target_in_one_bar_the_stop_wins,
        Side::Buy,
        [bar(1, 100.0, 106.0, 94.0, 100.0)],
        Some((100.25, 94.75, ExitReason::Stop))
    );
    fill_rule!(
        sell_stop_hit_exits_above_the_stop,
        Side::Sell,
        [bar(1, 100.0, 105.0, 99.0, 104.0)],
        Some((99.75, 105.25, ExitReason::Stop))
    );
    fill_rule!(
        sell_gap_through_the_stop_exits_at_the_open,
        Side::Sell,
        [bar(1, 106.0, 107.0, 105.5, 106.0)],
        Some((105.75, 106.25, ExitReason::StopGap))
    );
    fill_rule!(
        sell_target_traded_through_by_a_tick,
        Side::Sell,
        [bar(1, 100.0, 101.0, 94.75, 96.0)],
        Some((99.75, 95.0, ExitReason::Target))
    );

    #[test]
    fn max_hold_counts_from_the_entry_bar_open_also_across_a_gap() {
        // Entry bar closes at 60 s → entry time 0; deadline 25 min = 1500 s.
        let mut bars = vec![bar(1, 100.0, 101.0, 99.0, 100.0)];
        bars.extend((2..25).map(|n| bar(n, 100.0, 101.0, 99.0, 100.0)));
        let (closed, _) = run(Side::Buy, 95.0, 105.0, &bars);
        assert!(closed.is_empty(), "24 minutes after entry: still open");
        // A data gap: the next bar closes at 40 min, past the deadline → exits at its close.
        bars.push(bar(40, 100.0, 101.0, 99.0, 100.5));
        let (closed, _) = run(Side::Buy, 95.0, 105.0, &bars);
        let t = &closed[0];
        assert_eq!(
            (t.exit_reason, t.exit_price, t.exit_time),
            (Some(ExitReason::MaxHold), Some(100.25), Some(2400))
        );
    }

    #[test]
    fn commissions_and_point_value_make_the_pnl() {
        let (closed, book) = run(
            Side::Buy,
            95.0,
            105.0,
            &[bar(1, 100.0, 105.25, 99.0, 104.0)],
        );
        // (105 − 100.25) × 50 − 2 × 2.25 = 233.0
        assert_eq!(closed[0].pnl, Some(233.0));
        assert_eq!(book.realized_on(day()), 233.0);
    }

    #[test]
    fn end_of_data_exits_entered_trades_and_drops_pending_ones() {
        let mut b = Book::new(fill());
        b.add(trade("a", Side::Buy, 0, 95.0, 105.0));
        let mut closed = vec![];
        let last = bar(1, 100.0, 101.0, 99.0, 100.0);
        b.on_bar(&last, day(), &mut closed);
        b.add(trade("b", Side::Buy, 60, 95.0, 105.0));
        b.finish(&last, day(), &mut closed);
        assert_eq!(closed.len(), 1);
        assert_eq!(
            (
                closed[0].signal_id.as_str(),
                closed[0].exit_reason,
                closed[0].exit_price
            ),
            ("a", Some(ExitReason::EndOfData), Some(99.75))
        );
    }
}
