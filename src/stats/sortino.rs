//! **Sortino ratio** (annualised, daily) = mean of the daily P&L ÷ its downside deviation ×
//! √252. Downside deviation = √(Σ min(d, 0)² ÷ n) over every trading day with bars (target 0,
//! zero-trade days included, so only losing days count as risk). Undefined (`None`) with fewer
//! than 2 days or no losing day.

pub fn sortino(daily: &[f64]) -> Option<f64> {
    if daily.len() < 2 {
        return None;
    }
    let n = daily.len() as f64;
    let mean = super::mean(daily)?;
    let downside = (daily.iter().map(|d| d.min(0.0).powi(2)).sum::<f64>() / n).sqrt();
    (downside > 0.0).then(|| mean / downside * 252f64.sqrt())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        // [3, -1]: mean 1, downside √(1/2) → √2 × √252 = √504
        let cases: [(&[f64], Option<f64>); 5] = [
            (&[], None),
            (&[-100.0], None),
            (&[50.0, 0.0, 20.0], None),
            (&[3.0, -1.0], Some(504f64.sqrt())),
            (&[-2.0, -2.0], Some(-252f64.sqrt())),
        ];
        for (daily, want) in cases {
            let got = super::sortino(daily);
            match (got, want) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-12, "{daily:?}: {g} vs {w}"),
                _ => assert_eq!(got, want, "{daily:?}"),
            }
        }
    }
}
