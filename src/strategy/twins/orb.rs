//! Twin of `strategies/orb.rhai`, line for line.

use super::{known, number, param, proposal, whole, Ctx, Out};
use crate::market::price::Side;
use crate::strategy::indicators::day::position;
use crate::strategy::indicators::{Field, Spec};
use crate::strategy::{ExtraValue, Proposal, Strategy, StrategyVersion};

pub struct Orb {
    cx: Ctx,
    start: u32,
    end: u32,
    min_range: f64,
    max_range: f64,
    volume_len: u32,
    risk: f64,
    target_r: f64,
    breakeven_at_r: f64,
}

impl Orb {
    pub(super) fn new(cx: Ctx, p: &toml::Table) -> Result<Self, String> {
        known(
            p,
            &[
                "range_start",
                "range_end",
                "min_range",
                "max_range",
                "volume_len",
                "risk",
                "target_r",
                "breakeven_at_r",
            ],
        )?;
        let text = |v: &toml::Value| v.as_str().map(String::from);
        let hhmm = |s: String| {
            crate::market::time::parse_hhmm(&s).ok_or_else(|| format!("`{s}` is not a time HH:MM"))
        };
        let ds = cx.ind.day_start_minute();
        Ok(Orb {
            start: position(hhmm(param(p, "range_start", "09:30".into(), text)?)?, ds),
            end: position(hhmm(param(p, "range_end", "09:45".into(), text)?)?, ds),
            min_range: param(p, "min_range", 2.0, number)?,
            max_range: param(p, "max_range", 20.0, number)?,
            volume_len: param(p, "volume_len", 20, whole)? as u32,
            risk: param(p, "risk", 600.0, number)?,
            target_r: param(p, "target_r", 2.0, number)?,
            breakeven_at_r: param(p, "breakeven_at_r", 1.0, number)?,
            cx,
        })
    }
}

impl Strategy for Orb {
    fn on_bar(&mut self, t: usize, out: &mut Vec<Proposal>) -> Out {
        let hi_s = self.cx.get(Spec::RangeHigh(self.start, self.end));
        let hi = self.cx.at(hi_s, t);
        if hi.is_nan() {
            return Ok(());
        }
        let lo_s = self.cx.get(Spec::RangeLow(self.start, self.end));
        let lo = self.cx.at(lo_s, t);
        let close = self.cx.series.borrow().close(t);
        let (up, down) = (close > hi, close < lo);
        if !up && !down {
            return Ok(());
        }
        let size = hi - lo;
        if size < self.min_range || size > self.max_range {
            return Ok(());
        }
        let at_s = self.cx.get(Spec::BarAt(self.end));
        let at = self.cx.at(at_s, t);
        let after = if at.is_nan() { -1 } else { at as i64 } + 1;
        let s = self.cx.series.clone();
        let s = s.borrow();
        let ti = t as i64;
        let first_up = up && s.first_close_above(after, ti, hi) == Some(t);
        let first_down = down && s.first_close_below(after, ti, lo) == Some(t);
        if !first_up && !first_down {
            return Ok(());
        }
        let mut c = 70;
        let vols = self.cx.get(Spec::Field(Field::Volume));
        let avg = self.cx.get(Spec::Sma(vols, self.volume_len));
        if s.volume(t) > self.cx.at(avg, t) {
            c += 10;
        }
        if size <= self.max_range / 2.0 {
            c += 10;
        }
        let extra = vec![("range".to_string(), ExtraValue::Float(size))];
        let mut p = if first_up {
            proposal(Side::Buy, close, (hi, lo), c, "orb", extra)
        } else {
            proposal(Side::Sell, close, (lo, hi), c, "orb", extra)
        };
        // The plan: stop at the other side of the range, target at target_r R, risk-sized,
        // breakeven at breakeven_at_r R.
        p.stop = Some(if first_up { lo } else { hi });
        p.plan.target_r = Some(self.target_r);
        p.plan.risk = Some(self.risk);
        p.plan.breakeven_at_r = Some(self.breakeven_at_r);
        out.push(p);
        Ok(())
    }

    fn version(&self) -> &StrategyVersion {
        &self.cx.version
    }

    fn pattern_name(&self) -> &str {
        "orb"
    }
}
