//! **Max consecutive losses** = the longest run of losing trades (net P&L < 0) in exit order.
//! A winning or a zero-P&L trade ends a run (a scratch trade is not a loss). 0 without losses.

pub fn max_consecutive_losses(pnls: &[f64]) -> usize {
    let (mut run, mut best) = (0usize, 0usize);
    for p in pnls {
        run = if *p < 0.0 { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let cases: [(&[f64], usize); 6] = [
            (&[], 0),
            (&[10.0, 5.0], 0),
            (&[-1.0], 1),
            (&[-1.0, -2.0, 3.0, -1.0, -1.0, -1.0, 4.0], 3),
            (&[-1.0, 0.0, -1.0], 1),
            (&[5.0, -1.0, -1.0], 2),
        ];
        for (pnls, want) in cases {
            assert_eq!(super::max_consecutive_losses(pnls), want, "{pnls:?}");
        }
    }
}
