//! Monte Carlo of the trade sequence (`--monte-carlo N --seed S`): how much of a backtest's
//! final P&L and max drawdown is the luck of the order and mix of its trades.
//!
//! Each of the N samples draws as many trades as the backtest had, uniformly **with
//! replacement** from its closed trades' net P&L (a bootstrap: a sample may repeat a trade and
//! miss another, so the final P&L varies as well as the path), and measures the final P&L and
//! the max drawdown of that sequence (the same definition as the backtest's, peak starting at 0).
//! The report gives the 5th, 50th and 95th percentile of each.
//!
//! The generator is ChaCha8 seeded with `--seed` (rand_chacha: its output for a seed is fixed
//! across platforms and versions), so a seed always gives the same figures.

use crate::stats::max_drawdown::max_drawdown;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// 5th, 50th and 95th percentiles.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Percentiles {
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
}

/// The distribution of final P&L and max drawdown over the samples.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MonteCarlo {
    pub samples: usize,
    pub seed: u64,
    /// Trades per sample (the backtest's trade count).
    pub trades: usize,
    pub final_pnl: Percentiles,
    pub max_drawdown: Percentiles,
}

/// **Percentile** p (0 < p ≤ 1) of `sorted` (ascending) by the nearest-rank method: the value
/// at rank ⌈p × n⌉ (1-based), so every reported figure is one a sample actually produced.
/// `None` when empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(p > 0.0 && p <= 1.0) {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

fn percentiles(mut v: Vec<f64>) -> Percentiles {
    v.sort_by(f64::total_cmp);
    let p = |q: f64| percentile(&v, q).unwrap_or(0.0);
    Percentiles {
        p5: p(0.05),
        p50: p(0.50),
        p95: p(0.95),
    }
}

/// Bytes held per sample (its final P&L and max drawdown), for the size check made before a run.
pub const BYTES_PER_SAMPLE: u64 = 16;

/// The default bound on `--monte-carlo N` (`--max-resamples` raises it): 1,000,000 resamples
/// hold 16 MB and take seconds for thousands of trades.
pub const MAX_SAMPLES: u64 = 1_000_000;

/// Nanoseconds per drawn trade (one random draw, a sum and a drawdown step), measured in a
/// release build: the rough time of the size check.
pub const NANOS_PER_DRAW: f64 = 8.0;

/// Refuses `samples` over `max`, saying what it would cost: the memory it holds and the time it
/// would take for each 1,000 trades of the run (the trade count is known only after the run).
pub fn check_size(samples: u64, max: u64) -> Result<(), String> {
    if samples <= max {
        return Ok(());
    }
    let bytes = samples as f64 * BYTES_PER_SAMPLE as f64;
    let secs = samples as f64 * 1000.0 * NANOS_PER_DRAW / 1e9;
    Err(format!(
        "--monte-carlo {samples}: over the bound of {} resamples. It would hold {} in memory and take about {} for every 1,000 trades of the run. Draw fewer, or raise the bound with --max-resamples {samples}",
        crate::market::format::count(max as usize),
        crate::market::format::bytes(bytes),
        crate::market::format::duration_secs(secs),
    ))
}

/// `samples` bootstrap resamples of `pnls` (net P&L per trade). `None` without trades or
/// samples, or when a stop was asked for (Ctrl+C, [`crate::market::stop`]) on the way.
pub fn simulate(pnls: &[f64], samples: usize, seed: u64) -> Option<MonteCarlo> {
    if pnls.is_empty() || samples == 0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut finals = Vec::with_capacity(samples);
    let mut drawdowns = Vec::with_capacity(samples);
    let mut sample = vec![0.0; pnls.len()];
    for i in 0..samples {
        if i % 1024 == 1023 && crate::market::stop::raised() {
            return None;
        }
        for s in sample.iter_mut() {
            *s = pnls[rng.random_range(0..pnls.len())];
        }
        finals.push(sample.iter().sum());
        drawdowns.push(max_drawdown(&sample).unwrap_or(0.0));
    }
    Some(MonteCarlo {
        samples,
        seed,
        trades: pnls.len(),
        final_pnl: percentiles(finals),
        max_drawdown: percentiles(drawdowns),
    })
}

/// The terminal lines; `of` names whose trades were resampled (`the backtest`).
pub fn terminal(mc: &MonteCarlo, of: &str) -> String {
    use crate::market::format::money;
    format!(
        "monte carlo of {of}: {} resamples of its {} trades (with replacement, seed {})\n\
         \x20                   5th pct         median       95th pct\n\
         \x20 final P&L    {:>13}  {:>13}  {:>13}\n\
         \x20 max drawdown {:>13}  {:>13}  {:>13}\n",
        mc.samples,
        mc.trades,
        mc.seed,
        money(mc.final_pnl.p5),
        money(mc.final_pnl.p50),
        money(mc.final_pnl.p95),
        money(mc.max_drawdown.p5),
        money(mc.max_drawdown.p50),
        money(mc.max_drawdown.p95),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_cases() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        // (p, nearest rank value)
        let cases = [
            (0.05, Some(1.0)),
            (0.5, Some(5.0)),
            (0.95, Some(10.0)),
            (0.1, Some(1.0)),
            (0.11, Some(2.0)),
            (1.0, Some(10.0)),
            (0.0, None),
        ];
        for (p, want) in cases {
            assert_eq!(percentile(&v, p), want, "p = {p}");
        }
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7.0], 0.05), Some(7.0));
    }

    #[test]
    fn cases() {
        // Every trade alike: each resample is the same sequence.
        let mc = simulate(&[10.0; 20], 500, 1).unwrap();
        assert_eq!(
            mc.final_pnl,
            Percentiles {
                p5: 200.0,
                p50: 200.0,
                p95: 200.0
            }
        );
        assert_eq!(
            mc.max_drawdown,
            Percentiles {
                p5: 0.0,
                p50: 0.0,
                p95: 0.0
            }
        );
        // One losing trade: drawdown = its loss.
        let mc = simulate(&[-25.0], 10, 1).unwrap();
        assert_eq!((mc.final_pnl.p50, mc.max_drawdown.p50), (-25.0, 25.0));
        assert_eq!(simulate(&[], 10, 1), None);
        assert_eq!(simulate(&[1.0], 0, 1), None);
        // +1/−1 coin, 100 trades: the final P&L is 2 × wins − 100 with wins ~ Binomial(100, ½):
        // median 0 ± a few, 5th/95th percentiles near ∓16 (1.645 × 10).
        let coin: Vec<f64> = (0..100)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let mc = simulate(&coin, 4000, 7).unwrap();
        assert!(mc.final_pnl.p50.abs() <= 2.0, "{mc:?}");
        assert!((mc.final_pnl.p95 - 16.0).abs() <= 3.0, "{mc:?}");
        assert!((mc.final_pnl.p5 + 16.0).abs() <= 3.0, "{mc:?}");
        assert!(
            mc.max_drawdown.p5 <= mc.max_drawdown.p50 && mc.max_drawdown.p50 <= mc.max_drawdown.p95
        );
    }

    #[test]
    fn a_seed_gives_the_same_figures_and_another_seed_others() {
        let pnls: Vec<f64> = (0..50).map(|i| ((i * 37) % 23) as f64 - 11.0).collect();
        assert_eq!(simulate(&pnls, 300, 42), simulate(&pnls, 300, 42));
        assert_ne!(simulate(&pnls, 300, 42), simulate(&pnls, 300, 43));
    }
}
