//! **Deflated Sharpe ratio** (DSR; Bailey & López de Prado, "The Deflated Sharpe Ratio:
//! Correcting for Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio
//! Management 40(5), 2014): the probability that the true Sharpe ratio of the chosen trial is
//! above what the best of N skill-less trials would show by luck.
//!
//! With every Sharpe ratio per observation (daily here, not annualised):
//!
//! - expected maximum Sharpe of N trials under the null (no skill), with V the variance of the
//!   N trials' Sharpe ratios, γ ≈ 0.5772 the Euler–Mascheroni constant, Φ⁻¹ the standard normal
//!   quantile:
//!   SR₀ = √V × ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e)))
//! - DSR = Φ( (SR − SR₀) √(T − 1) ÷ √(1 − γ₃ SR + (γ₄ − 1)/4 × SR²) ), where SR is the chosen
//!   trial's Sharpe, T its number of observations, γ₃ the skewness and γ₄ the kurtosis (3 for a
//!   normal distribution, not the excess) of its returns.
//!
//! The N grid cells are counted as N independent trials; they are correlated (neighbouring
//! parameter values trade alike), so the true number of independent trials is smaller and this
//! DSR errs low, on the side of caution.
//!
//! Undefined (`None`) with N < 2, T < 2, a non-finite input, or a non-positive variance term
//! under the root. [`deflated_sharpe_of_days`] also is `None` when the chosen cell's daily P&L
//! has zero deviation.

use statrs::distribution::{ContinuousCDF, Normal};

const EULER_MASCHERONI: f64 = 0.577_215_664_901_532_9;

fn standard_normal() -> Normal {
    Normal::standard()
}

/// SR₀: the expected maximum of `trials` Sharpe ratios with variance `variance` and no skill.
pub fn expected_max_sharpe(trials: usize, variance: f64) -> Option<f64> {
    if trials < 2 || !variance.is_finite() || variance < 0.0 {
        return None;
    }
    let n = trials as f64;
    let z = standard_normal();
    let g = EULER_MASCHERONI;
    Some(
        variance.sqrt()
            * ((1.0 - g) * z.inverse_cdf(1.0 - 1.0 / n)
                + g * z.inverse_cdf(1.0 - 1.0 / (n * std::f64::consts::E))),
    )
}

/// DSR of a trial with per-observation Sharpe `sharpe` over `observations` returns of the given
/// `skewness` and `kurtosis`, chosen among `trials` whose Sharpe ratios have variance
/// `trial_variance`.
pub fn deflated_sharpe(
    sharpe: f64,
    observations: usize,
    skewness: f64,
    kurtosis: f64,
    trials: usize,
    trial_variance: f64,
) -> Option<f64> {
    if observations < 2 || ![sharpe, skewness, kurtosis].iter().all(|x| x.is_finite()) {
        return None;
    }
    let sr0 = expected_max_sharpe(trials, trial_variance)?;
    let denominator = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe;
    if denominator <= 0.0 {
        return None;
    }
    let z = (sharpe - sr0) * ((observations - 1) as f64).sqrt() / denominator.sqrt();
    Some(standard_normal().cdf(z))
}

/// Mean ÷ sample standard deviation (n − 1), per observation; `None` under 2 values or with
/// zero deviation.
pub use super::sharpe::sharpe_per_day;

/// Skewness m₃ ÷ m₂^1.5 and kurtosis m₄ ÷ m₂² from the central moments mᵢ (divided by n, as in
/// the paper); `None` under 2 values or with zero deviation.
pub fn skewness_kurtosis(x: &[f64]) -> Option<(f64, f64)> {
    if x.len() < 2 {
        return None;
    }
    let n = x.len() as f64;
    let mean = super::mean(x)?;
    let m = |k: i32| x.iter().map(|v| (v - mean).powi(k)).sum::<f64>() / n;
    let m2 = m(2);
    (m2 > 0.0).then(|| (m(3) / m2.powf(1.5), m(4) / (m2 * m2)))
}

/// The DSR of the trial `chosen` (its daily P&L) among trials whose daily Sharpe ratios are
/// `trial_sharpes` (cells with an undefined Sharpe, e.g. no trades, count as Sharpe 0).
pub fn deflated_sharpe_of_days(chosen: &[f64], trial_sharpes: &[f64]) -> Option<f64> {
    let sr = sharpe_per_day(chosen)?;
    let (skew, kurt) = skewness_kurtosis(chosen)?;
    let variance = super::sample_variance(trial_sharpes)?;
    deflated_sharpe(sr, chosen.len(), skew, kurt, trial_sharpes.len(), variance)
}

/// The luck benchmark of a grid: SR₀ ([`expected_max_sharpe`]) for trials whose daily Sharpe
/// ratios are `trial_sharpes`, per day: the Sharpe the best of them shows without any skill.
/// The same term [`deflated_sharpe_of_days`] measures the chosen trial against.
pub fn luck_benchmark_of_days(trial_sharpes: &[f64]) -> Option<f64> {
    expected_max_sharpe(trial_sharpes.len(), super::sample_variance(trial_sharpes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: Option<f64>, tol: f64) -> bool {
        match (a, b) {
            (Some(x), Some(y)) => (x - y).abs() <= tol,
            (x, y) => x == y,
        }
    }

    #[test]
    fn the_papers_numerical_example() {
        // Bailey & López de Prado (2014), numerical example: 100 trials whose annualised Sharpe
        // ratios have variance 1/2, best annualised Sharpe 2.5 over 5 years of daily returns
        // (T = 1250, 250 days a year), skewness −3, kurtosis 10. The paper finds
        // SR₀ ≈ 0.1132 per day (1.79 annualised) and DSR ≈ 0.9004.
        let sr0 = expected_max_sharpe(100, 0.5 / 250.0).unwrap();
        assert!((sr0 - 0.1132).abs() < 5e-5, "{sr0}");
        let dsr = deflated_sharpe(2.5 / 250f64.sqrt(), 1250, -3.0, 10.0, 100, 0.5 / 250.0);
        assert!(close(dsr, Some(0.9004), 5e-4), "{dsr:?}");
    }

    #[test]
    fn cases() {
        // (SR, T, skew, kurt, N, V, DSR)
        // Hand-computed: with V = 0 the benchmark is SR₀ = 0 and the DSR is the PSR against 0:
        // SR 0.1 over T = 101 normal returns: z = 0.1 × 10 ÷ √(1 + 2/4 × 0.01) = 0.99751,
        // Φ(0.99751) = 0.84074.
        type Case = (f64, usize, f64, f64, usize, f64, Option<f64>);
        let cases: [Case; 7] = [
            (0.1, 101, 0.0, 3.0, 2, 0.0, Some(0.840_74)),
            (0.0, 50, 0.0, 3.0, 1, 0.01, None), // one trial
            (0.1, 1, 0.0, 3.0, 10, 0.01, None), // one observation
            (f64::NAN, 100, 0.0, 3.0, 10, 0.01, None),
            (1.0, 100, 3.0, 3.0, 10, 0.01, None), // 1 − 3 + 0.5 < 0 under the root
            (0.1, 100, 0.0, 3.0, 10, -1.0, None), // negative variance
            // z = −0.05 × √252 ÷ √(1 + 0.5 × 0.0025) = −0.79323 → Φ = 0.21382.
            (-0.05, 253, 0.0, 3.0, 2, 0.0, Some(0.213_82)),
        ];
        for (sr, t, s, k, n, v, want) in cases {
            let got = deflated_sharpe(sr, t, s, k, n, v);
            assert!(
                close(got, want, 5e-5),
                "{sr} {t} {s} {k} {n} {v}: {got:?} vs {want:?}"
            );
        }
        // SR equal to SR₀ gives exactly one half whatever T. With N = 2, Φ⁻¹(1 − 1/2) = 0, so
        // SR₀ = √V × γ × Φ⁻¹(1 − 1/(2e)).
        let sr0 = expected_max_sharpe(2, 0.04).unwrap();
        let z = Normal::standard();
        assert!(
            (sr0 - 0.2 * EULER_MASCHERONI * z.inverse_cdf(1.0 - 1.0 / (2.0 * std::f64::consts::E)))
                .abs()
                < 1e-12
        );
        assert!(close(
            deflated_sharpe(sr0, 50, 0.0, 3.0, 2, 0.04),
            Some(0.5),
            1e-12
        ));
    }

    #[test]
    fn moments_and_daily_helpers() {
        // [1, 2, 3, 10]: mean 4, deviations −3, −2, −1, 6 → m2 = (9+4+1+36)/4 = 12.5,
        // m3 = (−27−8−1+216)/4 = 45, m4 = (81+16+1+1296)/4 = 348.5.
        let (s, k) = skewness_kurtosis(&[1.0, 2.0, 3.0, 10.0]).unwrap();
        assert!((s - 45.0 / 12.5f64.powf(1.5)).abs() < 1e-12);
        assert!((k - 348.5 / 156.25).abs() < 1e-12);
        assert_eq!(skewness_kurtosis(&[5.0, 5.0]), None);
        assert_eq!(skewness_kurtosis(&[5.0]), None);
        assert_eq!(sharpe_per_day(&[0.0, 2.0]), Some(1.0 / 2f64.sqrt()));
        assert_eq!(sharpe_per_day(&[1.0, 1.0]), None);
        assert_eq!(deflated_sharpe_of_days(&[1.0, 1.0, 1.0], &[0.1, 0.2]), None);
        assert_eq!(deflated_sharpe_of_days(&[1.0, 2.0, 3.0], &[0.1]), None);
        assert!(deflated_sharpe_of_days(&[1.0, 2.0, 3.0, -1.0], &[0.1, 0.2, 0.3]).is_some());
        // The benchmark is the SR₀ the DSR uses: a trial whose Sharpe equals it gets DSR ½
        // (normal returns aside, checked above); V of [0.1, 0.2, 0.3] is 0.01.
        assert!(close(
            luck_benchmark_of_days(&[0.1, 0.2, 0.3]),
            expected_max_sharpe(3, 0.01),
            1e-12
        ));
        assert_eq!(luck_benchmark_of_days(&[0.1]), None);
    }
}
