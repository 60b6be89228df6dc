//! **Probability of backtest overfitting** (PBO; Bailey, Borwein, López de Prado & Zhu, "The
//! Probability of Backtest Overfitting", J. Computational Finance 2017), estimated by
//! combinatorially symmetric cross-validation (CSCV):
//!
//! 1. M is the T × N matrix of daily P&L: one column per grid cell (trial), one row per trading
//!    day, every cell over the same days.
//! 2. The rows are cut, in time order, into S contiguous groups (S even). Groups differ in size
//!    by at most one row (the first `T mod S` groups get one more) so no day is dropped.
//! 3. For each of the C(S, S/2) ways to pick S/2 groups as the in-sample set J (the other half,
//!    J̄, is out of sample): the performance of every cell on J and on J̄ is its Sharpe ratio
//!    there (mean ÷ sample standard deviation of its daily P&L; a cell with zero deviation has
//!    performance 0: it did nothing measurable). n* is the best cell in sample (ties: the first
//!    in grid order). Its out-of-sample rank r among the N cells is counted from the worst
//!    (1 = worst, N = best; equal performances share the mean of their ranks), ω = r ÷ (N + 1)
//!    and the logit λ = ln(ω ÷ (1 − ω)).
//! 4. PBO = the fraction of the splits with λ ≤ 0: the in-sample winner did no better than the
//!    median cell out of sample. (λ = 0, exactly the median, counts as overfit: the choice
//!    carried no information.)
//!
//! Near 0: the grid's in-sample ranking carries over out of sample. Near 0.5: picking the best
//! cell is no better than picking any. Above 0.5: the best in sample tends to be among the worst
//! out of sample.
//!
//! Undefined (`None`) with fewer than 2 cells, columns of unequal length, S odd, below 2 or above
//! 30, or fewer than 2 rows per group (each half needs a standard deviation).

use serde::Serialize;

/// The PBO and how it was estimated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pbo {
    pub probability: f64,
    /// S: groups the days were cut into.
    pub groups: usize,
    /// C(S, S/2): in-sample/out-of-sample splits evaluated.
    pub splits: usize,
    /// Median logit λ over the splits (below 0: the in-sample winner is usually below median).
    pub median_logit: f64,
}

/// The number of groups S for `days` rows: 16 (the paper's choice, 12,870 splits) when there
/// are at least 2 days per group, fewer (even) otherwise; `None` under 4 days.
pub fn default_groups(days: usize) -> Option<usize> {
    let s = (days / 2).min(16) & !1;
    (s >= 2).then_some(s)
}

#[derive(Clone, Copy, Default)]
struct Moments {
    n: f64,
    sum: f64,
    sum_sq: f64,
}

impl Moments {
    fn add(self, o: Moments) -> Moments {
        Moments {
            n: self.n + o.n,
            sum: self.sum + o.sum,
            sum_sq: self.sum_sq + o.sum_sq,
        }
    }
    /// Mean ÷ sample standard deviation; 0 when the deviation is 0.
    fn sharpe(self) -> f64 {
        let mean = self.sum / self.n;
        let var = ((self.sum_sq - self.sum * mean) / (self.n - 1.0)).max(0.0);
        // Cancellation leaves a tiny positive variance for a constant series: treat as flat.
        if var.sqrt() <= 1e-12 * mean.abs().max(1.0) {
            0.0
        } else {
            mean / var.sqrt()
        }
    }
}

/// PBO of the trials `columns` (each a daily P&L series over the same days) with `groups` = S.
pub fn pbo(columns: &[Vec<f64>], groups: usize) -> Option<Pbo> {
    let n = columns.len();
    let t = columns.first()?.len();
    if n < 2 || columns.iter().any(|c| c.len() != t) || groups < 2 || groups % 2 == 1 {
        return None;
    }
    if t < 2 * groups || groups > 30 {
        return None;
    }
    // Group g covers rows [start(g), start(g + 1)).
    let (base, extra) = (t / groups, t % groups);
    let start = |g: usize| g * base + g.min(extra);
    // moments[g][cell]
    let moments: Vec<Vec<Moments>> = (0..groups)
        .map(|g| {
            columns
                .iter()
                .map(|c| {
                    c[start(g)..start(g + 1)]
                        .iter()
                        .fold(Moments::default(), |m, x| Moments {
                            n: m.n + 1.0,
                            sum: m.sum + x,
                            sum_sq: m.sum_sq + x * x,
                        })
                })
                .collect()
        })
        .collect();
    let mut logits = Vec::new();
    for mask in 0u32..(1u32 << groups) {
        if mask.count_ones() as usize != groups / 2 {
            continue;
        }
        let perf = |in_sample: bool| -> Vec<f64> {
            (0..n)
                .map(|cell| {
                    (0..groups)
                        .filter(|g| (mask >> g & 1 == 1) == in_sample)
                        .fold(Moments::default(), |m, g| m.add(moments[g][cell]))
                        .sharpe()
                })
                .collect()
        };
        let is = perf(true);
        let oos = perf(false);
        let best = (0..n).fold(0, |b, i| if is[i] > is[b] { i } else { b });
        let v = oos[best];
        let below = oos.iter().filter(|x| **x < v).count() as f64;
        let equal = oos.iter().filter(|x| **x == v).count() as f64;
        let rank = below + (equal + 1.0) / 2.0;
        let omega = rank / (n as f64 + 1.0);
        logits.push((omega / (1.0 - omega)).ln());
    }
    let splits = logits.len();
    let overfit = logits.iter().filter(|l| **l <= 0.0).count();
    logits.sort_by(f64::total_cmp);
    let median_logit = if splits % 2 == 1 {
        logits[splits / 2]
    } else {
        (logits[splits / 2 - 1] + logits[splits / 2]) / 2.0
    };
    Some(Pbo {
        probability: overfit as f64 / splits as f64,
        groups,
        splits,
        median_logit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_groups_cases() {
        let cases = [
            (0, None),
            (3, None),
            (4, Some(2)),
            (7, Some(2)),
            (8, Some(4)),
            (31, Some(14)),
            (32, Some(16)),
            (500, Some(16)),
        ];
        for (days, want) in cases {
            assert_eq!(default_groups(days), want, "{days} days");
        }
    }

    #[test]
    fn cases() {
        // Hand-computed, S = 2 (two splits: first half in sample, then second half).
        // A wins the first half and loses the second; B the opposite: each split's in-sample
        // winner is the worst out of sample, rank 1 of 2, ω = 1/3, λ = ln(1/2) < 0 → PBO 1.
        let a = vec![1.0, 3.0, -1.0, -3.0];
        let b = vec![-1.0, -3.0, 1.0, 3.0];
        // C is better than D in both halves: the winner is the best out of sample, rank 2 of 2,
        // ω = 2/3, λ = ln 2 > 0 → PBO 0.
        let c = vec![2.0, 4.0, 2.0, 4.0];
        let d = vec![1.0, 3.0, -1.0, -3.0];
        // Three cells, S = 2: first half in sample, E wins (Sharpe 2/√2 = 1.41 vs F 0 and
        // G 0.71) and ranks 2nd of 3 out of sample (E −0.71, F 1.41, G −2.12): ω = 2/4,
        // λ = 0 → overfit. Second half in sample, F wins (1.41) and is worst out of sample
        // (F 0, E 1.41, G 0.71): ω = 1/4, λ = ln(1/3) → overfit. PBO = 1.
        let e = vec![1.0, 3.0, -1.0, 0.0];
        let f = vec![1.0, -1.0, 1.0, 3.0];
        let g = vec![0.0, 2.0, -2.0, -1.0];
        // A constant-zero cell has performance 0 everywhere.
        let z = vec![0.0; 4];
        let cases: Vec<(Vec<Vec<f64>>, usize, Option<f64>)> = vec![
            (vec![a.clone(), b.clone()], 2, Some(1.0)),
            (vec![c.clone(), d.clone()], 2, Some(0.0)),
            (vec![e, f, g], 2, Some(1.0)),
            // z beats a in the second half (0 > −1.41) and a beats z in the first: both splits
            // pick the cell that is worst out of sample.
            (vec![a.clone(), z.clone()], 2, Some(1.0)),
            (vec![a.clone()], 2, None),               // one cell
            (vec![a.clone(), vec![1.0; 3]], 2, None), // unequal lengths
            (vec![a.clone(), b.clone()], 3, None),    // odd S
            (vec![a.clone(), b.clone()], 4, None),    // 1 row per group
            (vec![], 2, None),
        ];
        for (cols, s, want) in cases {
            assert_eq!(pbo(&cols, s).map(|p| p.probability), want, "{cols:?} S={s}");
        }
        let p = pbo(&[c, d], 2).unwrap();
        assert_eq!((p.groups, p.splits), (2, 2));
        assert!((p.median_logit - 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn sixteen_groups_give_12870_splits_and_noise_sits_near_one_half() {
        // Pure noise: 20 cells of independent pseudo-random days. The in-sample winner is a coin
        // flip out of sample, so the PBO lies near 0.5 (the paper's null).
        let mut x: u64 = 7;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 2001) as f64 - 1000.0
        };
        let cols: Vec<Vec<f64>> = (0..20)
            .map(|_| (0..320).map(|_| next()).collect())
            .collect();
        let p = pbo(&cols, 16).unwrap();
        assert_eq!(p.splits, 12_870);
        assert!((0.3..0.7).contains(&p.probability), "{p:?}");
        // A cell with a real edge in every group is always chosen and always best out of sample.
        let mut with_edge = cols.clone();
        with_edge[3] = (0..320).map(|i| 2000.0 + (i % 7) as f64).collect();
        assert_eq!(pbo(&with_edge, 16).unwrap().probability, 0.0);
    }
}
