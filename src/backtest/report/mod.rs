//! Backtest output: the terminal summary, and `--report DIR` (summary.json, trades.csv,
//! daily.csv, report.html). Everything printed is derived from the trades; the run identity
//! comes first and the fill assumptions last in every form.
//!
//! `format` (how numbers read), `csv` (trades.csv, daily.csv), `tables` (statistics, weekday,
//! hour, trade list), `charts` (charts by date), `price` (trades on price), `page` (report.html).

pub mod charts;
pub mod csv;
pub mod page;
pub mod price;
pub mod tables;

use super::{Backtest, Summary};
use crate::market::bar::Bar;
pub use csv::{daily_csv, trades_csv};
use std::fmt::Write as _;
use std::path::Path;

/// The terminal summary.
pub fn terminal(s: &Summary) -> String {
    let mut out = String::new();
    let days = match (s.first_day, s.last_day) {
        (Some(a), Some(b)) => format!(" ({a} .. {b})"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "backtest: {} bars, {} trading days{days}, {} signals",
        s.bars, s.trading_days, s.signals
    );
    if let Some(run) = &s.run {
        for (k, v) in run.lines() {
            let _ = writeln!(out, "  {k:<18} {v}");
        }
    }
    if s.script_errors > 0 {
        let _ = writeln!(
            out,
            "script errors: {} (journaled; those bars got no signal)",
            s.script_errors
        );
    }
    let groups = tables::groups(s);
    out.push_str(&tables::main_stats(&groups).text());
    out.push_str(&tables::more_stats(&groups).text());
    if !s.warnings.is_empty() {
        let _ = writeln!(out, "cautions:");
        for w in &s.warnings {
            let _ = writeln!(out, "  ! {w}");
        }
    }
    let _ = writeln!(out, "fill assumptions (DESIGN §10, docs/design-rules.md):");
    for a in &s.assumptions {
        let _ = writeln!(out, "  - {a}");
    }
    out
}

/// Writes summary.json, trades.csv, daily.csv and report.html into `dir`. `bars` are the bars
/// the backtest ran on (the price chart draws the ones around each trade).
use crate::market::safe_write::Batch;

pub fn write_dir(
    dir: &Path,
    bt: &Backtest,
    bars: &[Bar],
    s: &Summary,
    title: &str,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    // Each file created under a temporary name, all renamed into place together once every one
    // is written (Ctrl+C leaves no half-written report); a link at any of these names is
    // refused (`market::safe_write::Batch`).
    let mut batch = Batch::new(dir);
    let mut write = |name: &str, text: String| batch.add(name, text.as_bytes());
    write(
        "summary.json",
        serde_json::to_string_pretty(s).map_err(std::io::Error::other)? + "\n",
    )?;
    write("trades.csv", trades_csv(bt))?;
    write("daily.csv", daily_csv(bt))?;
    write("report.html", page::html(bt, bars, s, title))?;
    batch.commit().map(drop)
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::host::engine::EngineOptions;

    #[test]
    fn cautions_show_on_the_page_and_the_terminal_only_when_there_are_some() {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml"));
        let cfg = Config::from_text(&std::fs::read_to_string(path).unwrap(), path).unwrap();
        let bars = crate::market::synth::generate(&crate::market::synth::SynthOptions {
            days: 2,
            ..Default::default()
        });
        let bt = crate::backtest::run(&cfg, EngineOptions::default(), &bars, |_| {}).unwrap();
        let mut s = bt.summary();
        assert!(
            !s.warnings.is_empty(),
            "two days: the Sharpe gets a caution"
        );
        s.warnings.clear();
        assert!(!super::terminal(&s).contains("cautions:"));
        assert!(!super::page::html(&bt, &bars, &s, "t").contains("id=\"cautions\""));
        s.warnings = vec!["only 2 trading days: Sharpe & co. mean little".into()];
        let text = super::terminal(&s);
        assert!(
            text.contains("cautions:\n  ! only 2 trading days"),
            "{text}"
        );
        let html = super::page::html(&bt, &bars, &s, "t");
        assert!(html.contains(
            "<div class=\"cautions\" id=\"cautions\"><h2>Cautions</h2><ul><li>only 2 trading days: Sharpe &amp; co. mean little</li>"
        ));
    }
}
