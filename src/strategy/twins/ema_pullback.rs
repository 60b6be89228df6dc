//! Twin of `strategies/ema_pullback.rhai`, line for line.

use super::{known, number, param, proposal, whole, Ctx, Out};
use crate::market::price::Side;
use crate::strategy::indicators::{Field, Level, Spec};
use crate::strategy::series_fns::BARS_SINCE_LIMIT;
use crate::strategy::{Proposal, Strategy, StrategyVersion};

pub struct EmaPullback {
    cx: Ctx,
    fast: u32,
    slow: u32,
    min_trend_bars: i64,
    tolerance: f64,
    atr_len: u32,
    trail_points: f64,
}

impl EmaPullback {
    pub(super) fn new(cx: Ctx, p: &toml::Table) -> Result<Self, String> {
        known(
            p,
            &[
                "fast",
                "slow",
                "min_trend_bars",
                "tolerance",
                "atr_len",
                "trail_points",
            ],
        )?;
        Ok(EmaPullback {
            fast: param(p, "fast", 9, whole)? as u32,
            slow: param(p, "slow", 21, whole)? as u32,
            min_trend_bars: param(p, "min_trend_bars", 10, whole)?,
            tolerance: param(p, "tolerance", 0.25, number)?,
            atr_len: param(p, "atr_len", 14, whole)? as u32,
            trail_points: param(p, "trail_points", 3.0, number)?,
            cx,
        })
    }

    fn since(
        &mut self,
        fast: crate::strategy::indicators::SeriesId,
        slow: crate::strategy::indicators::SeriesId,
        above: bool,
        t: usize,
    ) -> i64 {
        let series = self.cx.series.clone();
        let b = series.borrow();
        self.cx
            .ind
            .bars_since_cross(
                fast,
                Level::Series(slow),
                above,
                t as i64,
                BARS_SINCE_LIMIT,
                &b,
            )
            .ok()
            .flatten()
            .unwrap_or(-1)
    }
}

impl Strategy for EmaPullback {
    fn on_bar(&mut self, t: usize, out: &mut Vec<Proposal>) -> Out {
        let series = self.cx.series.clone();
        let b = series.borrow();
        if t == b.first_available() {
            return Ok(());
        }
        let closes = self.cx.get(Spec::Field(Field::Close));
        let fast = self.cx.get(Spec::Ema(closes, self.fast));
        let slow = self.cx.get(Spec::Ema(closes, self.slow));
        let f = self.cx.at(fast, t);
        let s = self.cx.at(slow, t);
        let f1 = self.cx.at(fast, t - 1);
        let tol = self.tolerance;

        if f > s && b.low(t) <= f + tol && b.close(t) > f && b.low(t - 1) > f1 + tol {
            let since = self.since(fast, slow, true, t);
            if since >= self.min_trend_bars || since == -1 {
                let mut c = 70;
                let atr = self.cx.get(Spec::Atr(self.atr_len));
                if f - s >= 0.5 * self.cx.at(atr, t) {
                    c += 10;
                }
                if b.close(t) > b.open(t) {
                    c += 10;
                }
                let highs = self.cx.get(Spec::Field(Field::High));
                let top = self
                    .cx
                    .get(Spec::Highest(highs, self.min_trend_bars as u32));
                let anchors = (self.cx.at(top, t), b.low(t));
                let mut p = proposal(Side::Buy, b.close(t), anchors, c, "ema_pullback", vec![]);
                p.plan.trail_points = Some(self.trail_points);
                out.push(p);
                return Ok(());
            }
        }
        if f < s && b.high(t) >= f - tol && b.close(t) < f && b.high(t - 1) < f1 - tol {
            let since = self.since(fast, slow, false, t);
            if since >= self.min_trend_bars || since == -1 {
                let mut c = 70;
                let atr = self.cx.get(Spec::Atr(self.atr_len));
                if s - f >= 0.5 * self.cx.at(atr, t) {
                    c += 10;
                }
                if b.close(t) < b.open(t) {
                    c += 10;
                }
                let lows = self.cx.get(Spec::Field(Field::Low));
                let bottom = self.cx.get(Spec::Lowest(lows, self.min_trend_bars as u32));
                let anchors = (self.cx.at(bottom, t), b.high(t));
                let mut p = proposal(Side::Sell, b.close(t), anchors, c, "ema_pullback", vec![]);
                p.plan.trail_points = Some(self.trail_points);
                out.push(p);
            }
        }
        Ok(())
    }

    fn version(&self) -> &StrategyVersion {
        &self.cx.version
    }

    fn pattern_name(&self) -> &str {
        "ema_pullback"
    }
}
