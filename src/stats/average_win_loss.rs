//! **Average win** = mean net P&L of the trades with P&L > 0; **average loss** = mean net P&L of
//! the trades with P&L < 0 (a negative number). Each is undefined (`None`) without such trades.

fn mean_of(pnls: &[f64], keep: impl Fn(f64) -> bool) -> Option<f64> {
    let (sum, n) = pnls
        .iter()
        .filter(|p| keep(**p))
        .fold((0.0, 0usize), |(s, n), p| (s + p, n + 1));
    (n > 0).then(|| sum / n as f64)
}

pub fn average_win(pnls: &[f64]) -> Option<f64> {
    mean_of(pnls, |p| p > 0.0)
}

pub fn average_loss(pnls: &[f64]) -> Option<f64> {
    mean_of(pnls, |p| p < 0.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        // (P&Ls, average win, average loss)
        let cases: [(&[f64], Option<f64>, Option<f64>); 5] = [
            (&[], None, None),
            (&[0.0], None, None),
            (&[10.0, 20.0], Some(15.0), None),
            (&[-10.0, -30.0], None, Some(-20.0)),
            (&[100.0, -50.0, 0.0, 50.0, -10.0], Some(75.0), Some(-30.0)),
        ];
        for (pnls, win, loss) in cases {
            assert_eq!(
                (super::average_win(pnls), super::average_loss(pnls)),
                (win, loss),
                "{pnls:?}"
            );
        }
    }
}
