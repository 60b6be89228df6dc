//! Implausible bars (DESIGN §14): one bad bar can neither trade nor block the bars after it.
//!
//! A bar is *suspect* when it is far from the last accepted bar: more than [`MAX_GAP_SECONDS`]
//! later (a bar stamped 2999 would otherwise make every later bar "out of order"), or with a
//! price more than [`MAX_MOVE`] away from that bar's close. A real data gap or level shift looks
//! the same from one bar, so a suspect bar is **held** and the next bar decides:
//! - the next bar fits the last accepted bar → the suspect was the outlier: refused (counted,
//!   journaled) and the next bar goes on normally;
//! - otherwise the next bar fits the suspect → the gap or shift is real: both go on, in order;
//! - neither → the suspect is refused and the next bar becomes the suspect.
//!
//! A suspect still held when the data ends is refused. Live, the wall clock decides time instead
//! (a bar that is not in the future is real however long the feed was away), so only a price jump
//! can hold a live bar, for one bar.

use crate::market::bar::Bar;

/// Live, a bar may close at most this far after the wall clock (clock skew between two PCs); a
/// bar further in the future cannot have closed yet and is refused.
pub const MAX_FUTURE_SECONDS: i64 = 300;

/// A bar more than this after the last accepted one is suspect: 5 days, longer than any weekend
/// or holiday break of the CME futures sessions.
pub const MAX_GAP_SECONDS: i64 = 5 * 86_400;

/// A bar with a price more than this fraction away from the last accepted close is suspect (ES
/// has never moved 10 % within a minute; its daily price limits are 7 %, 13 % and 20 %).
pub const MAX_MOVE: f64 = 0.10;

/// Why `next` does not plausibly follow `prev`; `check_time` is false where the wall clock
/// vouches for time.
pub fn misfit(prev: &Bar, next: &Bar, check_time: bool) -> Option<String> {
    let gap = next.close_time - prev.close_time;
    if check_time && gap > MAX_GAP_SECONDS {
        return Some(format!(
            "{:.1} days after the bar before it",
            gap as f64 / 86_400.0
        ));
    }
    let limit = MAX_MOVE * prev.close.abs();
    let worst = [next.open, next.high, next.low, next.close]
        .into_iter()
        .map(|p| (p - prev.close).abs())
        .fold(0.0, f64::max);
    if worst > limit {
        return Some(format!(
            "a price {:.1} % away from the previous close {}",
            100.0 * worst / prev.close.abs(),
            prev.close
        ));
    }
    None
}

/// The held suspect, if any.
#[derive(Debug, Default)]
pub struct Plausibility {
    held: Option<(Bar, String)>,
}

impl Plausibility {
    /// Judges `bar` (valid, and after `last`, the last accepted bar): pushes the bars to process
    /// now, in order, to `ready`, and refused bars with their reason to `refused`. `check_time`
    /// is false when the wall clock has already vouched for the bar's time (live).
    pub fn judge(
        &mut self,
        last: Option<&Bar>,
        bar: &Bar,
        check_time: bool,
        ready: &mut Vec<Bar>,
        refused: &mut Vec<(Bar, String)>,
    ) {
        let Some(last) = last else {
            ready.push(*bar);
            return;
        };
        let misfit_last = misfit(last, bar, check_time);
        match self.held.take() {
            None => match misfit_last {
                None => ready.push(*bar),
                Some(why) => self.held = Some((*bar, why)),
            },
            Some((held, held_why)) => {
                if misfit_last.is_none() {
                    refused.push((
                        held,
                        suspect_reason(&held_why, "the next bar follows the bar before it"),
                    ));
                    ready.push(*bar);
                } else if bar.close_time > held.close_time
                    && misfit(&held, bar, check_time).is_none()
                {
                    ready.push(held);
                    ready.push(*bar);
                } else {
                    refused.push((
                        held,
                        suspect_reason(&held_why, "the next bar does not follow it either"),
                    ));
                    self.held = misfit_last.map(|why| (*bar, why));
                }
            }
        }
    }

    /// End of data: a suspect still held was followed by nothing that confirms it.
    pub fn finish(&mut self, refused: &mut Vec<(Bar, String)>) {
        if let Some((held, why)) = self.held.take() {
            refused.push((held, suspect_reason(&why, "no bar followed it")));
        }
    }
}

/// The bars an offline engine (replay, backtest) accepts from `bars`, in order: valid, each after
/// the last accepted one, and plausible by [`Plausibility`] with time checked. The engine's own
/// decision, for code that must cut the data before any engine runs (a walk-forward's blocks:
/// a refused bar stamped 3000-01-01 must not become a block of its own).
pub fn accepted_offline(bars: &[Bar]) -> Vec<Bar> {
    let mut out: Vec<Bar> = Vec::with_capacity(bars.len());
    let mut judge = Plausibility::default();
    let (mut ready, mut refused) = (Vec::new(), Vec::new());
    for bar in bars {
        if bar.invalid_reason().is_some()
            || out.last().is_some_and(|l| bar.close_time <= l.close_time)
        {
            continue;
        }
        judge.judge(out.last(), bar, true, &mut ready, &mut refused);
        out.append(&mut ready);
        refused.clear();
    }
    out
}

fn suspect_reason(why: &str, verdict: &str) -> String {
    format!("implausible: {why}, and {verdict}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(minute: i64, price: f64) -> Bar {
        Bar {
            close_time: 1_739_000_000 + 60 * minute,
            open: price,
            high: price + 1.0,
            low: price - 1.0,
            close: price,
            volume: 10.0,
        }
    }

    /// Feeds `bars` the way the engine does (order checked against the last accepted bar) and
    /// returns (accepted minutes, refused minutes).
    fn run(bars: &[Bar], check_time: bool) -> (Vec<i64>, Vec<i64>) {
        let mut p = Plausibility::default();
        let (mut accepted, mut refused): (Vec<Bar>, Vec<(Bar, String)>) = (vec![], vec![]);
        for b in bars {
            if accepted
                .last()
                .is_some_and(|l| b.close_time <= l.close_time)
            {
                continue;
            }
            let mut ready = vec![];
            p.judge(accepted.last(), b, check_time, &mut ready, &mut refused);
            accepted.extend(ready);
        }
        p.finish(&mut refused);
        let m = |b: &Bar| (b.close_time - 1_739_000_000) / 60;
        (
            accepted.iter().map(m).collect(),
            refused.iter().map(|(b, _)| m(b)).collect(),
        )
    }

    #[test]
    fn one_bad_bar_is_refused_and_never_blocks_the_bars_after_it() {
        let year_2999 = (32_503_680_000 - 1_739_000_000) / 60;
        let day = 1440;
        // (bars as (minute, price), check_time, accepted, refused)
        type Case = (Vec<(i64, f64)>, bool, Vec<i64>, Vec<i64>);
        let cases: Vec<Case> = vec![
            // a bar stamped 2999 in the middle of a file
            (
                vec![
                    (0, 5000.0),
                    (1, 5001.0),
                    (year_2999, 5001.0),
                    (2, 5002.0),
                    (3, 5003.0),
                ],
                true,
                vec![0, 1, 2, 3],
                vec![year_2999],
            ),
            // ... or at its end
            (
                vec![(0, 5000.0), (1, 5001.0), (year_2999, 5001.0)],
                true,
                vec![0, 1],
                vec![year_2999],
            ),
            // a real gap of three weeks: the bars after it confirm it
            (
                vec![(0, 5000.0), (21 * day, 5100.0), (21 * day + 1, 5101.0)],
                true,
                vec![0, 21 * day, 21 * day + 1],
                vec![],
            ),
            // a weekend is no gap
            (
                vec![(0, 5000.0), (2 * day + 60, 5010.0)],
                true,
                vec![0, 2 * day + 60],
                vec![],
            ),
            // a bad print 100x the price, then back to normal
            (
                vec![(0, 5000.0), (1, 500_000.0), (2, 5001.0)],
                true,
                vec![0, 2],
                vec![1],
            ),
            // a real level shift (a roll of an unadjusted series): confirmed by the next bar
            (
                vec![(0, 5000.0), (1, 5600.0), (2, 5601.0), (3, 5602.0)],
                true,
                vec![0, 1, 2, 3],
                vec![],
            ),
            // two bad prints in a row, different from each other: both refused
            (
                vec![(0, 5000.0), (1, 9000.0), (2, 100.0), (3, 5001.0)],
                true,
                vec![0, 3],
                vec![1, 2],
            ),
            // live: the wall clock vouches for time, so a long gap holds nothing
            (
                vec![(0, 5000.0), (21 * day, 5100.0)],
                false,
                vec![0, 21 * day],
                vec![],
            ),
            // the real file's bad tick (a low 55 points under its neighbours) is no suspect
            (
                vec![(0, 4700.0), (1, 4645.0), (2, 4701.0)],
                true,
                vec![0, 1, 2],
                vec![],
            ),
        ];
        for (n, (spec, check_time, want_ok, want_refused)) in cases.into_iter().enumerate() {
            let bars: Vec<Bar> = spec.iter().map(|&(m, p)| bar(m, p)).collect();
            let (ok, refused) = run(&bars, check_time);
            assert_eq!((ok, refused), (want_ok, want_refused), "case {n}");
        }
    }

    #[test]
    fn accepted_offline_drops_what_an_offline_engine_refuses() {
        // 0, 1, a bar 1,000 years later, 2, a duplicate of 2, 3: the far bar and the duplicate go.
        let far = bar(1_000 * 365 * 24 * 60, 100.0);
        let bars = [
            bar(0, 100.0),
            bar(1, 100.0),
            far,
            bar(2, 100.0),
            bar(2, 100.0),
            bar(3, 100.0),
        ];
        let kept: Vec<i64> = accepted_offline(&bars)
            .iter()
            .map(|b| b.close_time)
            .collect();
        assert_eq!(
            kept,
            [0, 1, 2, 3].map(|m| bar(m, 100.0).close_time).to_vec()
        );
        // A far bar at the end is refused too (no bar confirms it).
        assert_eq!(accepted_offline(&[bar(0, 100.0), far]).len(), 1);
    }
}
