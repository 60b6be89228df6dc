//! **Sharpe ratio** (annualised, daily) = mean of the daily P&L ÷ its sample standard deviation
//! (n − 1) × √252. Daily P&L covers every trading day with bars, zero-trade days included, so a
//! strategy that trades rarely is not flattered. Undefined (`None`) with fewer than 2 days or a
//! zero standard deviation.

pub fn sharpe(daily: &[f64]) -> Option<f64> {
    sharpe_per_day(daily).map(|s| s * 252f64.sqrt())
}

/// The same ratio per day, not annualised (what the deflated Sharpe ratio works with).
pub fn sharpe_per_day(daily: &[f64]) -> Option<f64> {
    let sd = super::sample_variance(daily)?.sqrt();
    let mean = super::mean(daily)?;
    (sd > 0.0).then(|| mean / sd)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        // mean 1, sample sd of [0, 2] = √2 → 1/√2 × √252 = √126
        let cases: [(&[f64], Option<f64>); 5] = [
            (&[], None),
            (&[100.0], None),
            (&[50.0, 50.0, 50.0], None),
            (&[0.0, 2.0], Some(126f64.sqrt())),
            (&[-1.0, -3.0], Some(-2.0 / 2f64.sqrt() * 252f64.sqrt())),
        ];
        for (daily, want) in cases {
            let got = super::sharpe(daily);
            match (got, want) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-12, "{daily:?}: {g} vs {w}"),
                _ => assert_eq!(got, want, "{daily:?}"),
            }
        }
    }
}
