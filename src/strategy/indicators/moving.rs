//! Moving averages over a series of values: simple ([`Sma`]), exponential ([`Ema`]) and Wilder's
//! running moving average ([`Rma`], what RSI and ATR smooth with).
//!
//! Definitions (the same as Pine Script's `ta.sma`, `ta.ema` and `ta.rma`):
//! - `sma(n)` at a bar = the mean of the last `n` values up to and including it.
//! - `ema(n)` = `alpha * x + (1 - alpha) * ema[prev]`, `alpha = 2 / (n + 1)`, seeded with the
//!   SMA of the first `n` values.
//! - `rma(n)` = the same with `alpha = 1 / n`.
//!
//! Warm-up: each is NaN until `n` values have been seen. A NaN input (its source still warming
//! up) is skipped: it is not a value and does not move the average.

/// Simple moving average of the last `n` values.
#[derive(Clone, Debug)]
pub struct Sma {
    window: Vec<f64>,
    next: usize,
    seen: u64,
    sum: f64,
}

impl Sma {
    pub fn new(n: usize) -> Self {
        Sma {
            window: vec![0.0; n.max(1)],
            next: 0,
            seen: 0,
            sum: 0.0,
        }
    }

    pub fn next(&mut self, x: f64) -> f64 {
        let n = self.window.len();
        if !x.is_nan() {
            self.sum += x - self.window[self.next];
            self.window[self.next] = x;
            self.next = (self.next + 1) % n;
            self.seen += 1;
            // A running sum drifts by rounding over millions of bars: re-add the window each
            // time it has turned over once (O(1) per value on average).
            if self.next == 0 {
                self.sum = self.window.iter().sum();
            }
        }
        if self.seen >= n as u64 {
            self.sum / n as f64
        } else {
            f64::NAN
        }
    }
}

/// Exponential smoothing with a given `alpha`, seeded with the mean of the first `n` values.
#[derive(Clone, Debug)]
pub struct Smoothing {
    n: u64,
    alpha: f64,
    seen: u64,
    seed_sum: f64,
    value: f64,
}

impl Smoothing {
    fn new(n: usize, alpha: f64) -> Self {
        Smoothing {
            n: n.max(1) as u64,
            alpha,
            seen: 0,
            seed_sum: 0.0,
            value: f64::NAN,
        }
    }

    pub fn next(&mut self, x: f64) -> f64 {
        if x.is_nan() {
            return self.value;
        }
        self.seen += 1;
        if self.seen < self.n {
            self.seed_sum += x;
        } else if self.seen == self.n {
            self.value = (self.seed_sum + x) / self.n as f64;
        } else {
            self.value = self.alpha * x + (1.0 - self.alpha) * self.value;
        }
        self.value
    }
}

/// Exponential moving average, `alpha = 2 / (n + 1)`.
pub type Ema = Smoothing;
/// Wilder's running moving average, `alpha = 1 / n`.
pub type Rma = Smoothing;

pub fn ema(n: usize) -> Ema {
    Smoothing::new(n, 2.0 / (n.max(1) as f64 + 1.0))
}

pub fn rma(n: usize) -> Rma {
    Smoothing::new(n, 1.0 / n.max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(mut f: impl FnMut(f64) -> f64, xs: &[f64]) -> Vec<f64> {
        xs.iter().map(|&x| f(x)).collect()
    }

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-9)
    }

    #[test]
    fn definitions_by_hand() {
        let nan = f64::NAN;
        // (what, inputs, expected)
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        let mut s = Sma::new(3);
        assert!(same(&run(|x| s.next(x), &xs), &[nan, nan, 2.0, 3.0, 4.0]));
        // ema(3): alpha 0.5, seed = mean(1,2,3) = 2, then 0.5*4+0.5*2 = 3, 0.5*5+0.5*3 = 4.
        let mut e = ema(3);
        assert!(same(&run(|x| e.next(x), &xs), &[nan, nan, 2.0, 3.0, 4.0]));
        // rma(2): alpha 0.5, seed = mean(1,2) = 1.5, 0.5*3+0.75 = 2.25, 0.5*4+1.125 = 3.125.
        let mut r = rma(2);
        assert!(same(
            &run(|x| r.next(x), &[1.0, 2.0, 3.0, 4.0]),
            &[nan, 1.5, 2.25, 3.125]
        ));
        // A NaN input (a source warming up) is not a value.
        let mut s = Sma::new(2);
        assert!(same(
            &run(|x| s.next(x), &[nan, nan, 1.0, 3.0]),
            &[nan, nan, nan, 2.0]
        ));
        // sma(1) is the value itself.
        let mut s = Sma::new(1);
        assert!(same(&run(|x| s.next(x), &xs), &xs));
    }
}
