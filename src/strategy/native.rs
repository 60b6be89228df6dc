//! Native reference implementation of DESIGN §9 (long V-reversal) and its mirrored short.
//!
//! Written in the literal order of the specification so a reader can check it step by step. It
//! is the oracle the shipped scripts are tested against on long synthetic series and on real data,
//! and the yardstick the script speed is measured against (`benches/replay.rs`).

use super::{Proposal, Strategy, StrategyError, StrategyVersion};
use crate::market::bar::BarSeries;
use crate::market::price::Side;
use std::cell::RefCell;
use std::rc::Rc;

/// Parameters of the V-reversal, with the defaults of DESIGN §8.
#[derive(Clone, Debug, PartialEq)]
pub struct VParams {
    /// Minimum drop from the origin high to the low, points. Default 4.0.
    pub drop_threshold: f64,
    /// Minimum rise from the origin low to the high (short side), points. Default 4.0.
    pub rise_threshold: f64,
    /// Bars i … i+N−1 searched for the low. Default 15.
    pub drop_window: i64,
    /// Bars after the low searched for the breakout. Default 30.
    pub breakout_window: i64,
    /// Bars after the breakout searched for the retest. Default 15.
    pub pullback_window: i64,
    /// Retest tolerance around the origin level, points. Default 1.0.
    pub pullback_tolerance: f64,
}

impl Default for VParams {
    fn default() -> Self {
        VParams {
            drop_threshold: 4.0,
            rise_threshold: 4.0,
            drop_window: 15,
            breakout_window: 30,
            pullback_window: 15,
            pullback_tolerance: 1.0,
        }
    }
}

impl VParams {
    /// How many bars before `t` an origin may lie (59 with the defaults).
    pub fn lookback(&self) -> i64 {
        self.drop_window - 1 + self.breakout_window + self.pullback_window
    }

    /// Reads parameters from a profile's `params` table; unknown names are errors.
    pub fn from_table(table: &toml::Table) -> Result<Self, String> {
        let mut p = VParams::default();
        for (k, v) in table {
            let num = || {
                v.as_float()
                    .or_else(|| v.as_integer().map(|i| i as f64))
                    .ok_or(format!("parameter `{k}` must be a number"))
            };
            let int = || {
                v.as_integer()
                    .ok_or(format!("parameter `{k}` must be an integer"))
            };
            match k.as_str() {
                "drop_threshold" => p.drop_threshold = num()?,
                "rise_threshold" => p.rise_threshold = num()?,
                "drop_window" => p.drop_window = int()?,
                "breakout_window" => p.breakout_window = int()?,
                "pullback_window" => p.pullback_window = int()?,
                "pullback_tolerance" => p.pullback_tolerance = num()?,
                other => return Err(format!("unknown parameter `{other}`")),
            }
        }
        Ok(p)
    }
}

/// Confidence of a long V in hundredths (DESIGN §9 step 5, constants literal per §10a).
fn confidence(
    drop: f64,
    vol_breakout: f64,
    vol_extreme: f64,
    bars_origin_to_breakout: i64,
    breakout_excess: f64,
) -> u32 {
    let mut c = 50;
    if drop >= 5.0 {
        c += 20;
    } else if drop >= 4.0 {
        c += 10;
    }
    if 5.0 * vol_breakout > 6.0 * vol_extreme {
        c += 10;
    }
    if bars_origin_to_breakout <= 15 {
        c += 10;
    }
    if breakout_excess >= 1.0 {
        c += 10;
    }
    c.min(100)
}

/// The long V-reversal at bar `t`, literally as DESIGN §9 states it.
pub fn long_v(s: &BarSeries, t: usize, p: &VParams) -> Option<Proposal> {
    let t = t as i64;
    let first = (t - p.lookback()).max(s.first_available() as i64);
    for i in first..=t - 2 {
        let h = s.high(i as usize);
        let l = s.lowest_low(i, (i + p.drop_window - 1).min(t))? as i64;
        let drop = h - s.low(l as usize);
        if drop < p.drop_threshold {
            continue;
        }
        let Some(j) = s.first_high_above(l + 1, (l + p.breakout_window).min(t), h) else {
            continue;
        };
        let j = j as i64;
        if j >= t {
            continue;
        }
        if s.first_pullback_to(
            j + 1,
            (j + p.pullback_window).min(t),
            h,
            p.pullback_tolerance,
        ) != Some(t as usize)
        {
            continue;
        }
        let (ju, lu) = (j as usize, l as usize);
        let conf = confidence(drop, s.volume(ju), s.volume(lu), j - i, s.high(ju) - h);
        return Some(Proposal {
            side: Side::Buy,
            entry: s.close(t as usize),
            anchor_a: h,
            anchor_b: s.low(lu),
            confidence: Some(conf),
            stop: None,
            plan: Default::default(),
            pattern: Some("v_reversal".into()),
            extra: vec![("drop".into(), super::ExtraValue::Float(drop))],
        });
    }
    None
}

/// The mirrored short: origin low, rise, break-down below the origin low, retest from below.
pub fn short_v(s: &BarSeries, t: usize, p: &VParams) -> Option<Proposal> {
    let t = t as i64;
    let first = (t - p.lookback()).max(s.first_available() as i64);
    for i in first..=t - 2 {
        let lo = s.low(i as usize);
        let hh = s.highest_high(i, (i + p.drop_window - 1).min(t))? as i64;
        let rise = s.high(hh as usize) - lo;
        if rise < p.rise_threshold {
            continue;
        }
        let Some(j) = s.first_low_below(hh + 1, (hh + p.breakout_window).min(t), lo) else {
            continue;
        };
        let j = j as i64;
        if j >= t {
            continue;
        }
        if s.first_rally_to(
            j + 1,
            (j + p.pullback_window).min(t),
            lo,
            p.pullback_tolerance,
        ) != Some(t as usize)
        {
            continue;
        }
        let (ju, hu) = (j as usize, hh as usize);
        let conf = confidence(rise, s.volume(ju), s.volume(hu), j - i, lo - s.low(ju));
        return Some(Proposal {
            side: Side::Sell,
            entry: s.close(t as usize),
            anchor_a: lo,
            anchor_b: s.high(hu),
            confidence: Some(conf),
            stop: None,
            plan: Default::default(),
            pattern: Some("v_reversal_short".into()),
            extra: vec![("rise".into(), super::ExtraValue::Float(rise))],
        });
    }
    None
}

/// Which sides the native reference detects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NativeKind {
    /// `builtin:vreversal`: long only, like `strategies/vreversal.rhai`.
    LongOnly,
    /// `builtin:bidirectional`: long then short, like `strategies/bidirectional.rhai`.
    Bidirectional,
}

/// The native reference as a [`Strategy`].
pub struct NativeStrategy {
    series: Rc<RefCell<BarSeries>>,
    params: VParams,
    kind: NativeKind,
    version: StrategyVersion,
}

impl NativeStrategy {
    pub fn new(series: Rc<RefCell<BarSeries>>, kind: NativeKind, params: VParams) -> Self {
        let name = match kind {
            NativeKind::LongOnly => "builtin:vreversal",
            NativeKind::Bidirectional => "builtin:bidirectional",
        };
        NativeStrategy {
            series,
            params,
            kind,
            version: StrategyVersion {
                name: name.into(),
                hash: "native".into(),
            },
        }
    }

    /// Parses `builtin:vreversal` / `builtin:bidirectional`.
    pub fn kind_from_spec(spec: &str) -> Option<NativeKind> {
        match spec {
            "builtin:vreversal" => Some(NativeKind::LongOnly),
            "builtin:bidirectional" => Some(NativeKind::Bidirectional),
            _ => None,
        }
    }
}

impl Strategy for NativeStrategy {
    fn on_bar(&mut self, t: usize, out: &mut Vec<Proposal>) -> Result<(), StrategyError> {
        let s = self.series.borrow();
        out.extend(long_v(&s, t, &self.params));
        if self.kind == NativeKind::Bidirectional {
            out.extend(short_v(&s, t, &self.params));
        }
        Ok(())
    }
    fn version(&self) -> &StrategyVersion {
        &self.version
    }
    fn pattern_name(&self) -> &str {
        "v_reversal"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::bar::Bar;

    /// Pushes (high, low, close, volume) bars one minute apart.
    fn series(rows: &[(f64, f64, f64, f64)]) -> BarSeries {
        let mut s = BarSeries::with_capacity(256);
        for (n, &(h, l, c, v)) in rows.iter().enumerate() {
            s.push(&Bar {
                close_time: 60 * n as i64,
                open: c.clamp(l, h),
                high: h,
                low: l,
                close: c,
                volume: v,
            });
        }
        s
    }

    /// A textbook long V: origin high 100, drop to 94, breakout 101.5, retest at 100.25.
    fn textbook() -> Vec<(f64, f64, f64, f64)> {
        vec![
            (100.0, 99.0, 99.5, 100.0),    // 0 origin H=100
            (99.0, 97.0, 97.5, 100.0),     // 1
            (97.5, 94.0, 95.0, 100.0),     // 2 low L=94 (drop 6)
            (98.0, 95.0, 97.75, 100.0),    // 3
            (98.5, 97.5, 98.25, 100.0),    // 4 (stays under every earlier high)
            (101.5, 99.0, 101.0, 130.0),   // 5 breakout j (high 101.5 > 100)
            (101.75, 100.5, 101.5, 100.0), // 6 low 100.5 within 1.0 of 100: retest!
        ]
    }

    #[test]
    fn textbook_long_v_fires_on_the_first_retest_with_the_spec_confidence() {
        let s = series(&textbook());
        for t in 0..6 {
            assert_eq!(long_v(&s, t, &VParams::default()), None, "bar {t}");
        }
        let p = long_v(&s, 6, &VParams::default()).unwrap();
        assert_eq!((p.anchor_a, p.anchor_b, p.entry), (100.0, 94.0, 101.5));
        // 50 + 20 (drop 6 ≥ 5) + 10 (5·130 > 6·100) + 10 (j−i = 5 ≤ 15) + 10 (101.5−100 ≥ 1) = 100
        assert_eq!(p.confidence, Some(100));
    }

    #[test]
    fn an_earlier_retest_kills_the_origin() {
        let mut rows = textbook();
        rows.push((101.5, 100.25, 101.0, 100.0)); // a second retest at 7: not the first
        let s = series(&rows);
        assert_eq!(long_v(&s, 7, &VParams::default()), None);
    }

    #[test]
    fn breakout_must_be_strictly_above_and_drop_inclusive() {
        let mut rows = textbook();
        rows[5].0 = 100.0; // breakout bar only touches H
        rows[6] = (100.0, 99.5, 99.75, 100.0);
        // (Origin 1, high 99, is broken by bar 5 and retested by bar 6: a different, valid V.)
        let p = long_v(&series(&rows), 6, &VParams::default());
        assert_ne!(
            p.map(|p| p.anchor_a),
            Some(100.0),
            "origin 0 was never broken strictly above 100"
        );
        let mut rows = textbook();
        rows[2].1 = 96.0; // drop exactly 4.0: passes (≥)
        rows[3].1 = 96.5;
        let p = long_v(&series(&rows), 6, &VParams::default()).unwrap();
        assert_eq!(p.confidence, Some(90)); // +10 only for the drop
    }

    #[test]
    fn mirrored_short_fires_on_the_mirrored_series() {
        let rows: Vec<_> = textbook()
            .iter()
            .map(|&(h, l, c, v)| (200.0 - l, 200.0 - h, 200.0 - c, v))
            .collect();
        let s = series(&rows);
        let p = short_v(&s, 6, &VParams::default()).unwrap();
        assert_eq!(
            (p.side, p.anchor_a, p.anchor_b, p.confidence),
            (Side::Sell, 100.0, 106.0, Some(100))
        );
        assert_eq!(long_v(&s, 6, &VParams::default()), None);
    }

    #[test]
    fn params_from_table_reject_unknown_names() {
        let t: toml::Table = toml::from_str("drop_threshold = 5\npullback_window = 10").unwrap();
        let p = VParams::from_table(&t).unwrap();
        assert_eq!((p.drop_threshold, p.pullback_window), (5.0, 10));
        let t: toml::Table = toml::from_str("drop_treshold = 5").unwrap();
        assert!(VParams::from_table(&t)
            .unwrap_err()
            .contains("drop_treshold"));
    }
}
