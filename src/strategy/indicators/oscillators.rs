//! Relative strength ([`Rsi`]) and average true range ([`Atr`]), both smoothed with Wilder's
//! [`Rma`](super::moving::Rma), as Pine Script's `ta.rsi` and `ta.atr` define them.
//!
//! - `rsi(n)`: with `up = max(x - x[prev], 0)` and `down = max(x[prev] - x, 0)`,
//!   `rsi = 100 - 100 / (1 + rma(up, n) / rma(down, n))`; 100 when `rma(down)` is 0 (also when
//!   both are 0), 0 when only `rma(up)` is 0. NaN until `n` changes (`n + 1` values) exist.
//! - `atr(n)`: the true range of a bar is `max(high - low, |high - prev close|, |low - prev
//!   close|)` (just `high - low` for the first bar), so a gap between two bars counts in full;
//!   `atr = rma(true range, n)`. NaN until `n` bars exist.

use super::moving::{rma, Rma};

#[derive(Clone, Debug)]
pub struct Rsi {
    prev: f64,
    up: Rma,
    down: Rma,
}

impl Rsi {
    pub fn new(n: usize) -> Self {
        Rsi {
            prev: f64::NAN,
            up: rma(n),
            down: rma(n),
        }
    }

    pub fn next(&mut self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        let prev = std::mem::replace(&mut self.prev, x);
        if prev.is_nan() {
            return f64::NAN;
        }
        let up = self.up.next((x - prev).max(0.0));
        let down = self.down.next((prev - x).max(0.0));
        if up.is_nan() || down.is_nan() {
            f64::NAN
        } else if down == 0.0 {
            100.0
        } else if up == 0.0 {
            0.0
        } else {
            100.0 - 100.0 / (1.0 + up / down)
        }
    }
}

#[derive(Clone, Debug)]
pub struct Atr {
    prev_close: f64,
    tr: Rma,
}

impl Atr {
    pub fn new(n: usize) -> Self {
        Atr {
            prev_close: f64::NAN,
            tr: rma(n),
        }
    }

    pub fn next(&mut self, high: f64, low: f64, close: f64) -> f64 {
        let pc = std::mem::replace(&mut self.prev_close, close);
        let tr = if pc.is_nan() {
            high - low
        } else {
            (high - low).max((high - pc).abs()).max((low - pc).abs())
        };
        self.tr.next(tr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_by_hand() {
        // rsi(2) of 1, 2, 3, 2: changes +1, +1, -1. After two changes: up 1, down 0 -> 100.
        // Third: up = 0.5*0 + 0.5*1 = 0.5, down = 0.5*1 + 0 = 0.5 -> 50.
        let mut r = Rsi::new(2);
        let got: Vec<f64> = [1.0, 2.0, 3.0, 2.0].iter().map(|&x| r.next(x)).collect();
        assert!(got[0].is_nan() && got[1].is_nan());
        assert_eq!((got[2], got[3]), (100.0, 50.0));
        // Only falls: 0.
        let mut r = Rsi::new(1);
        let got: Vec<f64> = [3.0, 2.0].iter().map(|&x| r.next(x)).collect();
        assert_eq!(got[1], 0.0);

        // atr(2): TR1 = 2 (high-low), TR2 = max(1, |12-9|, |11-9|) = 3 (a gap up from 9):
        // seed mean(2, 3) = 2.5; TR3 = 1 -> 0.5*1 + 0.5*2.5 = 1.75.
        let mut a = Atr::new(2);
        assert!(a.next(10.0, 8.0, 9.0).is_nan());
        assert_eq!(a.next(12.0, 11.0, 11.5), 2.5);
        assert_eq!(a.next(12.0, 11.0, 11.5), 1.75);
    }
}
