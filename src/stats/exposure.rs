//! **Exposure** = the share of bars during which at least one position was open: the union of
//! every trade's bars from its entry bar through its exit bar (inclusive, overlapping trades
//! counted once) ÷ all bars of the run. Undefined (`None`) without bars.

/// `held`: for each trade that entered, the indices of its entry and exit bars (inclusive).
pub fn exposure(held: &[(usize, usize)], bars: usize) -> Option<f64> {
    if bars == 0 {
        return None;
    }
    let mut spans: Vec<(usize, usize)> = held.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect();
    spans.sort_unstable();
    let (mut covered, mut end) = (0usize, 0usize); // `end`: first bar index not yet counted
    for (a, b) in spans {
        let from = a.max(end);
        if b + 1 > from {
            covered += b + 1 - from;
            end = b + 1;
        }
    }
    Some(covered.min(bars) as f64 / bars as f64)
}

#[cfg(test)]
mod tests {
    /// (held bar spans, bars in the run, exposure)
    type Case = (&'static [(usize, usize)], usize, Option<f64>);

    #[test]
    fn cases() {
        let cases: [Case; 6] = [
            (&[], 0, None),
            (&[], 10, Some(0.0)),
            (&[(0, 9)], 10, Some(1.0)),
            (&[(2, 3), (5, 5)], 10, Some(0.3)),
            (&[(2, 5), (4, 7)], 10, Some(0.6)), // overlap counted once
            (&[(4, 7), (1, 2), (5, 6)], 10, Some(0.6)),
        ];
        for (held, bars, want) in cases {
            assert_eq!(super::exposure(held, bars), want, "{held:?} {bars}");
        }
    }
}
