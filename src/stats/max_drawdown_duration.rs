//! **Max drawdown duration** = the longest run of consecutive trading days that end with the
//! closed-trade equity below its running peak (the peak starts at 0), in trading days: how long
//! a trader waited for a new high. A run still open at the end of data counts as it stands.
//! Undefined (`None`) without trading days.

pub fn max_drawdown_duration(daily: &[f64]) -> Option<usize> {
    if daily.is_empty() {
        return None;
    }
    let (mut equity, mut peak) = (0.0f64, 0.0f64);
    let (mut run, mut best) = (0usize, 0usize);
    for d in daily {
        equity += d;
        if equity >= peak {
            peak = equity;
            run = 0;
        } else {
            run += 1;
            best = best.max(run);
        }
    }
    Some(best)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let cases: [(&[f64], Option<usize>); 6] = [
            (&[], None),
            (&[10.0, 0.0, 5.0], Some(0)),
            (&[-1.0], Some(1)),
            (&[10.0, -5.0, 0.0, 2.0, 3.0, -1.0], Some(3)), // under water days 2–4, back at 5
            (&[10.0, -5.0, 5.0, -1.0, -1.0], Some(2)),     // recovered exactly, then 2 days
            (&[0.0, -1.0, 0.5, 0.5, 0.0], Some(2)),
        ];
        for (daily, want) in cases {
            assert_eq!(super::max_drawdown_duration(daily), want, "{daily:?}");
        }
    }
}
