//! **Profit factor** = sum of winning trades' P&L ÷ |sum of losing trades' P&L|. Undefined
//! (`None`) without losing trades (including no trades at all); 0 when there are losses but no
//! wins.

pub fn profit_factor(pnls: &[f64]) -> Option<f64> {
    // Fold from +0.0: an empty f64 `sum()` is -0.0, which printed "profit factor -0.00".
    let gross_win = pnls.iter().filter(|p| **p > 0.0).fold(0.0, |s, p| s + p);
    let gross_loss = pnls.iter().filter(|p| **p < 0.0).fold(0.0, |s, p| s + p);
    (gross_loss < 0.0).then(|| gross_win / -gross_loss)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let cases: [(&[f64], Option<f64>); 5] = [
            (&[], None),
            (&[10.0, 5.0], None),
            (&[-10.0], Some(0.0)),
            (&[30.0, -10.0, -5.0, 0.0], Some(2.0)),
            (&[0.0], None),
        ];
        for (pnls, want) in cases {
            assert_eq!(super::profit_factor(pnls), want, "{pnls:?}");
        }
        // Losses and no wins: exactly +0, never -0 (which prints as "-0.00").
        assert!(super::profit_factor(&[-10.0]).unwrap().is_sign_positive());
    }
}
