//! **Max drawdown** = the largest fall of the closed-trade equity curve from its running peak,
//! as a positive number of dollars. The curve starts at 0 and the peak starts at 0, so a first
//! losing trade is a drawdown. Undefined (`None`) without trades.

pub fn max_drawdown(pnls: &[f64]) -> Option<f64> {
    if pnls.is_empty() {
        return None;
    }
    let (mut equity, mut peak, mut worst) = (0.0f64, 0.0f64, 0.0f64);
    for p in pnls {
        equity += p;
        peak = peak.max(equity);
        worst = worst.max(peak - equity);
    }
    Some(worst)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let cases: [(&[f64], Option<f64>); 6] = [
            (&[], None),
            (&[10.0, 20.0], Some(0.0)),
            (&[-10.0], Some(10.0)),
            (&[100.0, -30.0, -20.0, 40.0, -60.0], Some(70.0)),
            (&[50.0, -80.0, 100.0, -10.0], Some(80.0)),
            (&[0.0], Some(0.0)),
        ];
        for (pnls, want) in cases {
            assert_eq!(super::max_drawdown(pnls), want, "{pnls:?}");
        }
    }
}
