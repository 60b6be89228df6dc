//! **Win rate** = trades with net P&L > 0 ÷ all trades. A zero-P&L trade is neither a win nor a
//! loss but still counts as a trade. Undefined (`None`) without trades.

pub fn win_rate(pnls: &[f64]) -> Option<f64> {
    (!pnls.is_empty()).then(|| pnls.iter().filter(|p| **p > 0.0).count() as f64 / pnls.len() as f64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let cases: [(&[f64], Option<f64>); 5] = [
            (&[], None),
            (&[10.0], Some(1.0)),
            (&[-10.0], Some(0.0)),
            (&[10.0, -5.0, 0.0, 20.0], Some(0.5)),
            (&[0.0, 0.0], Some(0.0)),
        ];
        for (pnls, want) in cases {
            assert_eq!(super::win_rate(pnls), want, "{pnls:?}");
        }
    }
}
