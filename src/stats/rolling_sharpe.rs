//! **Rolling Sharpe** = the [`super::sharpe`] ratio of each trailing window of `window` trading
//! days (every day with bars, zero-trade days included), one value per day from the
//! `window`-th day on: how the edge held up through time rather than on average. A window
//! whose Sharpe is undefined (flat P&L) gives `None` for that day.

pub fn rolling_sharpe(daily: &[f64], window: usize) -> Vec<Option<f64>> {
    if window < 2 || daily.len() < window {
        return Vec::new();
    }
    daily.windows(window).map(super::sharpe::sharpe).collect()
}

#[cfg(test)]
mod tests {
    /// (daily P&L, window, rolling Sharpe per day)
    type Case = (&'static [f64], usize, Vec<Option<f64>>);

    #[test]
    fn cases() {
        let s = |d: &[f64]| super::super::sharpe::sharpe(d);
        let cases: [Case; 5] = [
            (&[], 3, vec![]),
            (&[1.0, 2.0], 3, vec![]),
            (&[1.0, 2.0], 1, vec![]),
            (&[0.0, 0.0, 0.0], 2, vec![None, None]),
            (
                &[0.0, 2.0, -1.0, 4.0],
                3,
                vec![s(&[0.0, 2.0, -1.0]), s(&[2.0, -1.0, 4.0])],
            ),
        ];
        for (daily, w, want) in cases {
            assert_eq!(super::rolling_sharpe(daily, w), want, "{daily:?} {w}");
        }
    }
}
