//! **Calmar ratio** = annualised P&L (mean daily P&L × 252) ÷ max drawdown of the closed-trade
//! equity curve, both in dollars (a backtest has no account size, so this is the dollar form:
//! how many of its worst drawdowns a year of trading earns). Undefined (`None`) without days or
//! without a drawdown.

pub fn calmar(daily: &[f64], max_drawdown: Option<f64>) -> Option<f64> {
    let dd = max_drawdown.filter(|d| *d > 0.0)?;
    let annual = super::mean(daily)? * 252.0;
    Some(annual / dd)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let cases: [(&[f64], Option<f64>, Option<f64>); 5] = [
            (&[], Some(10.0), None),
            (&[1.0, 2.0], None, None),
            (&[1.0, 2.0], Some(0.0), None),
            (&[1.0, 3.0], Some(252.0), Some(2.0)), // mean 2 → 504 a year
            (&[-1.0, -1.0], Some(126.0), Some(-2.0)),
        ];
        for (daily, dd, want) in cases {
            assert_eq!(super::calmar(daily, dd), want, "{daily:?} {dd:?}");
        }
    }
}
