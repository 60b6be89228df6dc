//! Inputs every command loads the same way: the config with `--set` applied, the side narrowed
//! by `--buy-only`/`--sell-only`, bar files read with the CLI's options and cut to
//! `--from/--to`, and the reload gate a config asks for. Below both the commands and the live
//! feed, which use it.

use crate::cli::args::{BarFileArgs, EngineArgs};
use crate::config::Config;
use crate::market::barfile::{read_files, BarFile, ReadOptions, TimeBasis};
use crate::market::price::Side;
use crate::market::time::MarketClock;
use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};

/// Loads the config and applies `--set`.
pub fn load_config(args: &EngineArgs) -> Result<Config> {
    let mut cfg = Config::load(&args.config).map_err(|e| anyhow!("{e}"))?;
    cfg.apply_overrides(&args.sets)
        .map_err(|e| anyhow!("{e}"))?;
    for w in cfg.implausible() {
        // A value that came from `--set` is blamed on the flag, not on the file's line.
        let key = w.message.split(':').next().unwrap_or_default();
        match args.sets.iter().find(|s| s.split('=').next() == Some(key)) {
            Some(set) => crate::errln!("warning: --set {set}: {}", w.message),
            None => crate::errln!("warning: {w}"),
        }
    }
    Ok(cfg)
}

/// `--buy-only` / `--sell-only` as the side every profile is narrowed to.
/// The journal a run writes: `--journal`, else `journal.jsonl` in the `--state` folder, else
/// `None` (engine.journal of the config). Issue 22: `--state DIR` moved the ledger only.
pub fn journal_override(journal: &Option<PathBuf>, state: &Option<PathBuf>) -> Option<PathBuf> {
    journal
        .clone()
        .or_else(|| state.as_ref().map(|d| d.join("journal.jsonl")))
}

pub fn only_side(args: &EngineArgs) -> Option<Side> {
    match (args.buy_only, args.sell_only) {
        (true, _) => Some(Side::Buy),
        (_, true) => Some(Side::Sell),
        _ => None,
    }
}

/// Reads bar files per the options and keeps the requested trading days.
pub fn load_bars(files: &[PathBuf], args: &BarFileArgs, bar_seconds: i64) -> Result<BarFile> {
    let tz: chrono_tz::Tz = args.tz.parse().map_err(|_| {
        anyhow!(
            "--tz {}: unknown time zone (e.g. America/New_York)",
            args.tz
        )
    })?;
    let opts = ReadOptions {
        tz,
        bar_time: args.bar_time,
        bar_seconds,
        basis: match (args.ignore_offset, args.exact_offset) {
            (true, _) => TimeBasis::IgnoreOffset,
            (_, true) => TimeBasis::Exact,
            _ => TimeBasis::Detect,
        },
        skip_bad_lines: args.skip_bad_lines,
    };
    let mut file = read_files(files, &opts).map_err(|e| anyhow!("{e}"))?;
    for bad in &file.bad_lines {
        crate::errln!("skipped {bad}");
    }
    keep_trading_days(&mut file.bars, args.from, args.to);
    Ok(file)
}

/// Keeps the bars whose trading day lies in `from ..= to` (either end open).
pub fn keep_trading_days(
    bars: &mut Vec<crate::market::bar::Bar>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) {
    if from.is_some() || to.is_some() {
        let clock = MarketClock::exchange();
        bars.retain(|b| {
            let day = clock.stamp(b.close_time).trading_day;
            from.is_none_or(|f| day >= f) && to.is_none_or(|t| day <= t)
        });
    }
}

/// The `[reload] gate` of the config, for the file watcher: with `scenarios`, a changed script
/// goes live only if the scenarios that use it pass with the new text.
pub fn reload_gate(config_path: &Path, cfg: &Config) -> Option<crate::host::reload::Gate> {
    match cfg.reload.gate {
        crate::config::Gate::None => None,
        crate::config::Gate::Scenarios => {
            let config_path = config_path.to_path_buf();
            let dir = cfg.resolve(&cfg.reload.scenarios);
            Some(Box::new(move |script: &Path, text: &str| {
                crate::scenario::gate(&config_path, &dir, script, text).map(|_| ())
            }))
        }
    }
}
