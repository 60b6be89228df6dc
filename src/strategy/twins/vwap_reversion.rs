//! Twin of `strategies/vwap_reversion.rhai`, line for line.

use super::{known, number, param, proposal, whole, Ctx, Out};
use crate::market::price::Side;
use crate::strategy::indicators::day::DayValue;
use crate::strategy::indicators::{Field, Spec};
use crate::strategy::{Proposal, Strategy, StrategyVersion};

pub struct VwapReversion {
    cx: Ctx,
    stretch_atr: f64,
    atr_len: u32,
    rsi_len: u32,
    rsi_low: f64,
    rsi_high: f64,
}

impl VwapReversion {
    pub(super) fn new(cx: Ctx, p: &toml::Table) -> Result<Self, String> {
        known(
            p,
            &["stretch_atr", "atr_len", "rsi_len", "rsi_low", "rsi_high"],
        )?;
        Ok(VwapReversion {
            stretch_atr: param(p, "stretch_atr", 2.0, number)?,
            atr_len: param(p, "atr_len", 14, whole)? as u32,
            rsi_len: param(p, "rsi_len", 14, whole)? as u32,
            rsi_low: param(p, "rsi_low", 30.0, number)?,
            rsi_high: param(p, "rsi_high", 70.0, number)?,
            cx,
        })
    }
}

impl Strategy for VwapReversion {
    fn on_bar(&mut self, t: usize, out: &mut Vec<Proposal>) -> Out {
        let series = self.cx.series.clone();
        let b = series.borrow();
        if t == b.first_available() {
            return Ok(());
        }
        let s = t - 1;
        let vw_s = self.cx.get(Spec::Day(DayValue::Vwap));
        let vw = self.cx.at(vw_s, s);
        let atr_s = self.cx.get(Spec::Atr(self.atr_len));
        let band = self.stretch_atr * self.cx.at(atr_s, s);
        let closes = self.cx.get(Spec::Field(Field::Close));
        let rsi_s = self.cx.get(Spec::Rsi(closes, self.rsi_len));
        let r = self.cx.at(rsi_s, s);

        if b.close(s) < vw - band && r <= self.rsi_low && b.close(t) > b.high(s) {
            let mut c = 70;
            if r <= self.rsi_low - 10.0 {
                c += 10;
            }
            if vw - b.close(s) >= 1.5 * band {
                c += 10;
            }
            let anchors = (b.low(s), b.high(s));
            out.push(proposal(
                Side::Buy,
                b.close(t),
                anchors,
                c,
                "vwap_reversion",
                vec![],
            ));
        } else if b.close(s) > vw + band && r >= self.rsi_high && b.close(t) < b.low(s) {
            let mut c = 70;
            if r >= self.rsi_high + 10.0 {
                c += 10;
            }
            if b.close(s) - vw >= 1.5 * band {
                c += 10;
            }
            let anchors = (b.high(s), b.low(s));
            out.push(proposal(
                Side::Sell,
                b.close(t),
                anchors,
                c,
                "vwap_reversion",
                vec![],
            ));
        }
        Ok(())
    }

    fn version(&self) -> &StrategyVersion {
        &self.cx.version
    }

    fn pattern_name(&self) -> &str {
        "vwap_reversion"
    }
}
