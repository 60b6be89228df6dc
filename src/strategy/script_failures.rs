//! Script errors that blanked bars, and the rule for how a run ends with them: `replay`,
//! `backtest` and `test` print one loud summary (how many bars got no signal, where and when the
//! first error was) and exit non-zero, unless `--allow-script-errors` keeps the exit code 0.
//!
//! Why loud: a typo in a helper name makes every call fail; the run used to print "0 signals"
//! and a warning, and exit 0, which reads like a pattern that found nothing.

use crate::strategy::StrategyError;

/// The script errors of one run, as the engine saw them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptFailures {
    /// Bars on which at least one script call (or its proposal) failed.
    pub bars: u64,
    /// The first failure: bar close (UTC seconds), that bar in ET (`yyyy-MM-dd HH:mm:ss`), the
    /// error with its place.
    pub first: Option<(i64, String, StrategyError)>,
    /// Close time of the last bar counted in `bars` (a bar with two failing calls counts once).
    last_bar: Option<i64>,
}

impl ScriptFailures {
    /// Records one failure on the bar closing at `close_time`; `et` formats that time in ET and
    /// is only called for the first failure.
    pub fn record(&mut self, close_time: i64, et: impl FnOnce() -> String, e: &StrategyError) {
        if self.last_bar != Some(close_time) {
            self.bars += 1;
            self.last_bar = Some(close_time);
        }
        if self.first.is_none() {
            self.first = Some((close_time, et(), e.clone()));
        }
    }

    /// Adds a later run's failures (the scenarios of `vrev test`, one engine each): bars add
    /// up, the first failure stays the first one met.
    pub fn merge(&mut self, later: &ScriptFailures) {
        self.bars += later.bars;
        if self.first.is_none() {
            self.first = later.first.clone();
        }
    }

    /// `N bars got no signal because the script failed: first at FILE:LINE:COL on 2025-02-13
    /// 09:31 ET: MESSAGE`, or `None` when no script failed.
    pub fn summary(&self) -> Option<String> {
        let (_, et, e) = self.first.as_ref()?;
        let place = match (e.line, e.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", e.file),
            (Some(l), None) => format!("{}:{l}", e.file),
            _ => e.file.clone(),
        };
        // Minutes are how a trader reads a one-minute bar's time.
        let when = et.get(..16).unwrap_or(et);
        Some(format!(
            "{} bar{} got no signal because the script failed: first at {place} on {when} ET: {}",
            self.bars,
            if self.bars == 1 { "" } else { "s" },
            e.message
        ))
    }

    /// How the run ends: prints the summary (if any script failed) on stderr, then `Err` unless
    /// `allow` (`--allow-script-errors`), in which case a note says the exit code stays 0.
    pub fn end_of_run(&self, allow: bool) -> anyhow::Result<()> {
        let Some(line) = self.summary() else {
            return Ok(());
        };
        crate::errln!("SCRIPT ERRORS: {line}");
        if allow {
            crate::errln!(
                "(--allow-script-errors: the exit code stays 0; every error is in the journal)"
            );
            Ok(())
        } else {
            Err(anyhow::anyhow!(
                "script errors blanked {} bar(s) (fix the script, or pass --allow-script-errors to exit 0 anyway)",
                self.bars
            ))
        }
    }
}

/// How a sweep ends when script errors blanked bars in some of its cells (each cell is its own
/// run; the table has no place for the error, so the line says how to find it): `cells` =
/// (cell label, script errors) of every cell that had any.
pub fn end_of_sweep(cells: &[(String, u64)], allow: bool) -> anyhow::Result<()> {
    let Some((first, _)) = cells.first() else {
        return Ok(());
    };
    let errors: u64 = cells.iter().map(|(_, n)| n).sum();
    crate::errln!(
        "SCRIPT ERRORS: {errors} script error(s) blanked bars in {} sweep cell(s), first {first}: run that cell as a plain backtest (--set) to see where",
        cells.len()
    );
    if allow {
        crate::errln!("(--allow-script-errors: the exit code stays 0)");
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "script errors in {} sweep cell(s) (fix the script, or pass --allow-script-errors to exit 0 anyway)",
            cells.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(line: Option<usize>, column: Option<usize>) -> StrategyError {
        StrategyError {
            file: "strategies/x.rhai".into(),
            line,
            column,
            message: "Function not found: hihg (i64)".into(),
        }
    }

    #[test]
    fn bars_count_once_and_the_first_error_is_kept() {
        let mut f = ScriptFailures::default();
        assert_eq!(f.summary(), None);
        assert!(f.end_of_run(false).is_ok());
        f.record(
            60,
            || "2025-02-13 09:31:00".into(),
            &error(Some(3), Some(12)),
        );
        f.record(
            60,
            || unreachable!("only the first is formatted"),
            &error(Some(9), None),
        );
        f.record(120, || unreachable!(), &error(None, None));
        assert_eq!(f.bars, 2);
        assert_eq!(
            f.summary().unwrap(),
            "2 bars got no signal because the script failed: first at strategies/x.rhai:3:12 on 2025-02-13 09:31 ET: Function not found: hihg (i64)"
        );
        assert!(f.end_of_run(false).is_err());
        assert!(f.end_of_run(true).is_ok());
    }

    #[test]
    fn a_sweep_fails_only_with_cells_that_had_errors() {
        assert!(end_of_sweep(&[], false).is_ok());
        let cells = [("drop_threshold=3".to_string(), 4)];
        assert!(end_of_sweep(&cells, false).is_err());
        assert!(end_of_sweep(&cells, true).is_ok());
    }

    #[test]
    fn places_without_line_or_column_and_merging() {
        // (line, column, place shown)
        let cases = [
            (Some(4), None, "strategies/x.rhai:4 on"),
            (None, None, "strategies/x.rhai on"),
        ];
        for (line, column, want) in cases {
            let mut f = ScriptFailures::default();
            f.record(60, || "2025-02-13 09:31:00".into(), &error(line, column));
            let s = f.summary().unwrap();
            assert!(s.starts_with("1 bar got no signal"), "{s}");
            assert!(s.contains(want), "{s}");
        }
        let mut all = ScriptFailures::default();
        all.merge(&ScriptFailures::default());
        assert_eq!(all, ScriptFailures::default());
        let mut a = ScriptFailures::default();
        a.record(600, || "first run".into(), &error(Some(1), Some(1)));
        let mut b = ScriptFailures::default();
        b.record(60, || "second run".into(), &error(Some(2), Some(2)));
        all.merge(&a);
        all.merge(&b);
        assert_eq!(
            (all.bars, all.first.as_ref().unwrap().1.as_str()),
            (2, "first run")
        );
    }
}
