//! **Largest win** = the highest net P&L of a winning trade (P&L > 0); **largest loss** = the
//! lowest net P&L of a losing trade (P&L < 0, reported negative). Each is undefined (`None`)
//! without a trade of its kind; zero-P&L trades are neither.

pub fn largest_win(pnls: &[f64]) -> Option<f64> {
    pnls.iter().copied().filter(|p| *p > 0.0).reduce(f64::max)
}

pub fn largest_loss(pnls: &[f64]) -> Option<f64> {
    pnls.iter().copied().filter(|p| *p < 0.0).reduce(f64::min)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        // (pnls, largest win, largest loss)
        let cases: [(&[f64], Option<f64>, Option<f64>); 5] = [
            (&[], None, None),
            (&[0.0], None, None),
            (&[10.0, 30.0, 20.0], Some(30.0), None),
            (&[-10.0, -30.0], None, Some(-30.0)),
            (&[5.0, -7.5, 0.0, 12.0, -2.5], Some(12.0), Some(-7.5)),
        ];
        for (pnls, win, loss) in cases {
            assert_eq!(super::largest_win(pnls), win, "{pnls:?}");
            assert_eq!(super::largest_loss(pnls), loss, "{pnls:?}");
        }
    }
}
