//! Highest and lowest value over the last `n` values (Pine Script's `ta.highest`/`ta.lowest`),
//! kept with a monotonic queue: O(1) per bar on average whatever `n`.
//!
//! `highest(n)` at a bar = the largest of the last `n` values up to and including it (by
//! default the bars' highs; `lowest(n)`: the smallest, by default of the lows). NaN until `n`
//! values exist; NaN inputs are skipped.

use std::collections::VecDeque;

#[derive(Clone, Debug)]
pub struct Extreme {
    n: u64,
    highest: bool,
    seen: u64,
    /// (sequence number, value), values monotonic from the front.
    queue: VecDeque<(u64, f64)>,
}

impl Extreme {
    pub fn highest(n: usize) -> Self {
        Self::new(n, true)
    }

    pub fn lowest(n: usize) -> Self {
        Self::new(n, false)
    }

    fn new(n: usize, highest: bool) -> Self {
        Extreme {
            n: n.max(1) as u64,
            highest,
            seen: 0,
            queue: VecDeque::new(),
        }
    }

    pub fn next(&mut self, x: f64) -> f64 {
        if !x.is_nan() {
            let beaten = |q: f64| if self.highest { q <= x } else { q >= x };
            while self.queue.back().is_some_and(|&(_, q)| beaten(q)) {
                self.queue.pop_back();
            }
            self.queue.push_back((self.seen, x));
            self.seen += 1;
            // The window holds sequence numbers seen - n .. seen - 1.
            while self
                .queue
                .front()
                .is_some_and(|&(k, _)| k + self.n < self.seen)
            {
                self.queue.pop_front();
            }
        }
        match self.queue.front() {
            Some(&(_, v)) if self.seen >= self.n => v,
            _ => f64::NAN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_by_hand() {
        let xs = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let mut h = Extreme::highest(3);
        let mut l = Extreme::lowest(3);
        let hs: Vec<f64> = xs.iter().map(|&x| h.next(x)).collect();
        let ls: Vec<f64> = xs.iter().map(|&x| l.next(x)).collect();
        assert!(hs[0].is_nan() && hs[1].is_nan());
        assert_eq!(&hs[2..], &[4.0, 4.0, 5.0, 9.0, 9.0, 9.0]);
        assert_eq!(&ls[2..], &[1.0, 1.0, 1.0, 1.0, 2.0, 2.0]);
    }
}
