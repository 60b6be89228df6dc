//! **Expectancy** = mean net P&L per trade (win rate × average win + loss rate × average loss,
//! zero-P&L trades included): what one more trade is worth on average. Undefined (`None`)
//! without trades.

pub fn expectancy(pnls: &[f64]) -> Option<f64> {
    super::mean(pnls)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let cases: [(&[f64], Option<f64>); 4] = [
            (&[], None),
            (&[100.0], Some(100.0)),
            (&[300.0, -100.0, 0.0, -100.0], Some(25.0)),
            (&[-50.0, -150.0], Some(-100.0)),
        ];
        for (pnls, want) in cases {
            assert_eq!(super::expectancy(pnls), want, "{pnls:?}");
        }
    }
}
