//! The closing lines every engine run prints (`replay`, `run`, `demo`): refusals by reason with
//! the remedy where there is one, refused bars, and the faults that make the exit code non-zero
//! (DESIGN §14). One place, so every mode says the same thing.

use crate::host::engine::Engine;

/// What a trader can do about a refusal reason, if anything.
fn remedy(reason: &str, engine: &Engine) -> Option<String> {
    Some(match reason {
        "duplicate" if engine.recovery.from_files > 0 => format!(
            "already emitted: {} signal file(s) still in {} count as emitted; --signals with an empty folder and --fresh write them again",
            engine.recovery.from_files,
            engine.signals_place()
        ),
        "duplicate" => format!(
            "already in {}; --fresh starts a new ledger (the old one kept aside), --state DIR uses another state folder",
            engine.ledger_place()
        ),
        "expired" => "their EXPIRES was already past on the wall clock: history bars, never traded (NinjaTrader Playback? run with --playback)".into(),
        "halted" => "state could not be recorded: see the error above".into(),
        "history_burst" => "live bars of a burst faster than real time: chart history the older publisher sent as live frames, it warms the strategies up, never traded (docs/live.md)".into(),
        "kill_switch" => "the kill switch (state/HALT) was on: `vrev resume` turns it off".into(),
        "daily_limit" => "max_daily_signals reached for the trading day".into(),
        "open_positions" => "max_open_positions: a shadow trade was still open".into(),
        "confidence" => "below the profile's min_confidence".into(),
        "direction" => "the profile (or --buy-only/--sell-only) does not trade that side".into(),
        "window" => "outside the windows of the profile (a script called on every bar)".into(),
        "stop_too_wide" => "the stop is wider than max_stop_points (without it: than the stop_pct stop)".into(),
        "risk_too_large" => "more contracts than max_contracts or more dollars than max_risk".into(),
        "reward_risk" => "target distance / stop distance below min_reward_risk".into(),
        "size_zero" => "the risk buys no contract at that stop".into(),
        "stop_wrong_side" | "target_wrong_side" => "the script's plan puts a price on the wrong side of the entry".into(),
        "flat_by" => "at or after the profile's flat_by: no new trade".into(),
        _ => return None,
    })
}

/// `rejected proposals: 12 — expired 9 (…), duplicate 3 (…)`.
pub fn refusals(engine: &Engine) -> String {
    let s = &engine.stats;
    if s.rejections == 0 {
        return "rejected proposals: 0".into();
    }
    let mut by: Vec<(&String, &u64)> = s.rejected_by.iter().collect();
    by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = by
        .iter()
        .map(|(reason, n)| match remedy(reason, engine) {
            Some(r) => format!("{reason} {n} ({r})"),
            None => format!("{reason} {n}"),
        })
        .collect();
    format!(
        "rejected proposals: {} — {} (each in the journal)",
        s.rejections,
        parts.join("; ")
    )
}

/// `ledger: state/ledger.txt (12 IDs)`, and where `--fresh` moved the previous one.
pub fn ledger(engine: &Engine) -> String {
    match &engine.ledger_set_aside {
        Some(old) => format!(
            "ledger: {} (new, {} IDs; --fresh kept the previous one as {})",
            engine.ledger_place(),
            engine.ledger_len(),
            old.display()
        ),
        None => format!(
            "ledger: {} ({} IDs)",
            engine.ledger_place(),
            engine.ledger_len()
        ),
    }
}

/// Before the bars: what opening the ledger found (stderr).
pub fn print_recovery(engine: &Engine, fresh: bool) {
    let r = &engine.recovery;
    for s in &r.skipped {
        crate::errln!("warning: signals folder: {s}");
    }
    if fresh && r.from_files > 0 {
        crate::errln!(
            "--fresh: {} signal file(s) still in {} count as emitted (a file in place may not have been taken yet); use an empty --signals folder to write them again",
            r.from_files,
            engine.signals_place()
        );
        if r.temp_files_removed > 0 {
            crate::errln!(
                "{} unfinished temporary file(s) removed",
                r.temp_files_removed
            );
        }
    } else if r.from_files > 0 || r.temp_files_removed > 0 {
        crate::errln!(
            "recovered after an interrupted run: {} signal ID(s) found only as files, {} unfinished temporary file(s) removed",
            r.from_files, r.temp_files_removed
        );
    }
}

/// `bars refused by the engine: N (M implausible ...)`.
pub fn refused_bars(engine: &Engine) -> String {
    let s = &engine.stats;
    if s.bars_skipped == 0 {
        return "bars refused by the engine: 0".into();
    }
    format!(
        "bars refused by the engine: {} ({} implausible: far from their neighbours or in the future; the rest duplicate, out of order or invalid; each in the journal)",
        s.bars_skipped, s.bars_implausible
    )
}

/// Prints the closing error lines when something failed, and returns the run's error.
pub fn faults(engine: &Engine) -> anyhow::Result<()> {
    match engine.faults.exit_error() {
        None => Ok(()),
        Some(e) => Err(anyhow::anyhow!(e)),
    }
}
