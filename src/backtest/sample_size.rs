//! Sample-size honesty: a figure that rests on too few trades or days gets a caution, on the
//! terminal (`caution: ...`) and in the report files, never silently.
//!
//! Thresholds: a Sharpe ratio from fewer than [`MIN_SHARPE_DAYS`] trading days; statistics of
//! fewer than [`MIN_TRADES`] trades (a sweep's best cell, a walk-forward's stitched
//! out-of-sample run, a fold's in-sample choice, a Monte Carlo's trade pool).

use crate::stats::Stats;

/// Below this many trading days a Sharpe ratio gets a caution.
pub const MIN_SHARPE_DAYS: usize = 20;
/// Below this many trades the statistics get a caution.
pub const MIN_TRADES: usize = 30;

/// Cautions for the statistics `stats` of `what` over `days` trading days.
pub fn for_stats(what: &str, stats: &Stats, days: usize) -> Vec<String> {
    let mut out = Vec::new();
    if stats.trades < MIN_TRADES {
        out.push(format!(
            "{what}: {} trade{} (fewer than {MIN_TRADES}); win rate, profit factor and averages can swing widely with a few more",
            stats.trades,
            if stats.trades == 1 { "" } else { "s" }
        ));
    }
    if stats.sharpe.is_some() && days < MIN_SHARPE_DAYS {
        out.push(format!(
            "{what}: Sharpe {:.2} from {days} trading day{} (fewer than {MIN_SHARPE_DAYS}) says little",
            stats.sharpe.unwrap_or_default(),
            if days == 1 { "" } else { "s" }
        ));
    }
    out
}

/// Cautions for a walk-forward's folds: how many chose their cell from fewer than
/// [`MIN_TRADES`] in-sample trades, and how many had no cell with a defined metric.
pub fn for_folds(in_sample_trades: &[Option<usize>]) -> Vec<String> {
    let mut out = Vec::new();
    let thin = in_sample_trades
        .iter()
        .filter(|t| t.is_some_and(|t| t < MIN_TRADES))
        .count();
    if thin > 0 {
        out.push(format!(
            "{thin} of {} folds chose their cell from fewer than {MIN_TRADES} in-sample trades",
            in_sample_trades.len()
        ));
    }
    let none = in_sample_trades.iter().filter(|t| t.is_none()).count();
    if none > 0 {
        out.push(format!(
            "{none} of {} folds had no cell with a defined metric in sample and did not trade out of sample",
            in_sample_trades.len()
        ));
    }
    out
}

/// Caution for a Monte Carlo over `trades` trades.
pub fn for_monte_carlo(trades: usize) -> Vec<String> {
    if trades < MIN_TRADES {
        vec![format!(
            "monte carlo: resamples only {trades} trades (fewer than {MIN_TRADES}); its percentiles are rough"
        )]
    } else {
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(trades: usize, sharpe: Option<f64>) -> Stats {
        let trade = crate::stats::TradeFacts {
            pnl: 1.0,
            contracts: 1,
            hold_minutes: None,
            held_bars: None,
        };
        let mut s = Stats::compute(&vec![trade; trades], &[], 0, 0.0);
        s.sharpe = sharpe;
        s
    }

    #[test]
    fn cases() {
        // (trades, Sharpe, days, number of cautions)
        let cases = [
            (30, Some(1.0), 20, 0),
            (29, Some(1.0), 20, 1),
            (30, Some(17.96), 5, 1),
            (15, Some(17.96), 5, 2),
            (0, None, 5, 1), // no Sharpe: nothing to caution about it
            (100, None, 3, 0),
        ];
        for (trades, sharpe, days, want) in cases {
            let got = for_stats("x", &stats(trades, sharpe), days);
            assert_eq!(got.len(), want, "{trades} {sharpe:?} {days}: {got:?}");
        }
        let w = for_stats("best cell (a=1)", &stats(15, Some(17.96)), 5);
        assert_eq!(w[0], "best cell (a=1): 15 trades (fewer than 30); win rate, profit factor and averages can swing widely with a few more");
        assert_eq!(
            w[1],
            "best cell (a=1): Sharpe 17.96 from 5 trading days (fewer than 20) says little"
        );
        assert_eq!(for_folds(&[Some(40), Some(29), None]).len(), 2);
        assert!(for_folds(&[Some(40)]).is_empty());
        assert_eq!(for_monte_carlo(29).len(), 1);
        assert!(for_monte_carlo(30).is_empty());
    }
}
