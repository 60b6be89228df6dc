//! Parameter sweeps: a grid over config values (`--sweep KEY=V1,V2,...`, each axis a `--set`
//! key), every cell a full backtest on the same bars (read once, shared), run in parallel on
//! all cores. Each cell builds its own engine from the config with its values applied, so a cell
//! is exactly a single run with `--set KEY=V`.

use super::{run, Summary};
use crate::bar::Bar;
use crate::config::Config;
use crate::engine::EngineOptions;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// One axis of the grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

/// Parses `KEY=V1,V2,...`.
pub fn parse_axis(s: &str) -> Result<Axis, String> {
    let (key, values) = s
        .split_once('=')
        .ok_or_else(|| format!("--sweep {s}: expected KEY=V1,V2,..."))?;
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if key.trim().is_empty() || values.iter().any(String::is_empty) {
        return Err(format!(
            "--sweep {s}: expected KEY=V1,V2,... with no empty value"
        ));
    }
    Ok(Axis {
        key: key.trim().to_string(),
        values,
    })
}

/// Every combination, first axis slowest: each cell is a list of `KEY=VALUE` overrides.
pub fn cells(axes: &[Axis]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![vec![]];
    for a in axes {
        out = out
            .iter()
            .flat_map(|prefix| {
                a.values
                    .iter()
                    .map(move |v| [prefix.clone(), vec![format!("{}={v}", a.key)]].concat())
            })
            .collect();
    }
    out
}

/// One cell's result: the overrides and the summary (or why the cell could not run).
#[derive(Clone, Debug)]
pub struct Cell {
    pub sets: Vec<String>,
    pub result: Result<Summary, String>,
}

/// Runs every cell on `threads` worker threads; results in grid order. `done` is called after
/// each cell.
pub fn run_grid(
    base: &Config,
    opts: &EngineOptions,
    bars: &[Bar],
    grid: &[Vec<String>],
    threads: usize,
    done: &(dyn Fn() + Sync),
) -> Vec<Cell> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Cell>>> = Mutex::new(vec![None; grid.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, grid.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(sets) = grid.get(i) else { break };
                let result = run_cell(base, opts, bars, sets);
                results
                    .lock()
                    .expect("no worker panics while holding the lock")[i] = Some(Cell {
                    sets: sets.clone(),
                    result,
                });
                done();
            });
        }
    });
    results
        .into_inner()
        .expect("workers finished")
        .into_iter()
        .map(|c| c.expect("every cell ran"))
        .collect()
}

fn run_cell(
    base: &Config,
    opts: &EngineOptions,
    bars: &[Bar],
    sets: &[String],
) -> Result<Summary, String> {
    let mut cfg = base.clone();
    cfg.apply_overrides(sets).map_err(|e| e.to_string())?;
    run(&cfg, opts.clone(), bars, |_| {})
        .map(|bt| bt.summary())
        .map_err(|e| e.to_string())
}

/// The metric a sweep table is sorted by (best first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SortBy {
    NetPnl,
    PnlPerDay,
    Sharpe,
    ProfitFactor,
    WinRate,
    MaxDrawdown,
    Trades,
}

impl SortBy {
    /// Higher is better for every metric but drawdown; undefined values sort last.
    fn key(self, s: &Summary) -> Option<f64> {
        let o = &s.overall;
        match self {
            SortBy::NetPnl => Some(o.net_pnl),
            SortBy::PnlPerDay => o.average_pnl_per_day,
            SortBy::Sharpe => o.sharpe,
            SortBy::ProfitFactor => o.profit_factor,
            SortBy::WinRate => o.win_rate,
            SortBy::MaxDrawdown => o.max_drawdown.map(|d| -d),
            SortBy::Trades => Some(o.trades as f64),
        }
    }
}

/// Cells sorted best first by `by` (stable: grid order breaks ties; failed cells last).
pub fn sorted(cells: &[Cell], by: SortBy) -> Vec<&Cell> {
    let mut v: Vec<&Cell> = cells.iter().collect();
    v.sort_by(|a, b| {
        let ka = a.result.as_ref().ok().and_then(|s| by.key(s));
        let kb = b.result.as_ref().ok().and_then(|s| by.key(s));
        match (ka, kb) {
            (Some(x), Some(y)) => y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    });
    v
}

const COLUMNS: &str = "trades,win_rate,average_win,average_loss,profit_factor,net_pnl,pnl_per_day,sharpe,max_drawdown";

fn fields(s: &Summary) -> String {
    let o = &s.overall;
    let f = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_default();
    format!(
        "{},{},{},{},{},{:.2},{},{},{}",
        o.trades,
        f(o.win_rate),
        f(o.average_win),
        f(o.average_loss),
        f(o.profit_factor),
        o.net_pnl,
        f(o.average_pnl_per_day),
        f(o.sharpe),
        f(o.max_drawdown)
    )
}

/// The full grid, in grid order, as CSV: one column per axis, then the overall statistics.
pub fn csv(axes: &[Axis], cells: &[Cell]) -> String {
    let mut out = axes
        .iter()
        .map(|a| a.key.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let _ = writeln!(out, ",{COLUMNS},error");
    for c in cells {
        let values: Vec<&str> = c
            .sets
            .iter()
            .map(|s| s.split_once('=').map(|x| x.1).unwrap_or(""))
            .collect();
        match &c.result {
            Ok(s) => {
                let _ = writeln!(out, "{},{},", values.join(","), fields(s));
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "{}{},\"{}\"",
                    values.join(","),
                    ",".repeat(COLUMNS.matches(',').count() + 1),
                    e.replace('"', "'")
                );
            }
        }
    }
    out
}

/// The terminal table, sorted best first.
pub fn table(axes: &[Axis], cells: &[Cell], by: SortBy) -> String {
    let mut rows: Vec<Vec<String>> = vec![axes
        .iter()
        .map(|a| a.key.clone())
        .chain(
            [
                "trades",
                "win rate",
                "profit factor",
                "net P&L",
                "P&L / day",
                "Sharpe",
                "max drawdown",
            ]
            .map(String::from),
        )
        .collect()];
    for c in sorted(cells, by) {
        let mut r: Vec<String> = c
            .sets
            .iter()
            .map(|s| {
                s.split_once('=')
                    .map(|x| x.1.to_string())
                    .unwrap_or_default()
            })
            .collect();
        match &c.result {
            Ok(s) => {
                let o = &s.overall;
                let f = |v: Option<f64>, d: usize| {
                    v.map(|x| format!("{x:.d$}")).unwrap_or_else(|| "—".into())
                };
                r.extend([
                    o.trades.to_string(),
                    o.win_rate
                        .map(|w| format!("{:.1}%", w * 100.0))
                        .unwrap_or_else(|| "—".into()),
                    f(o.profit_factor, 2),
                    format!("{:.2}", o.net_pnl),
                    f(o.average_pnl_per_day, 2),
                    f(o.sharpe, 2),
                    f(o.max_drawdown, 2),
                ]);
            }
            Err(e) => r.push(format!("error: {e}")),
        }
        rows.push(r);
    }
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|v| v.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, v)| format!("{v:>w$}", w = widths[c]))
            .collect();
        let _ = writeln!(out, "  {}", line.join("  "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_parse_and_cells_cover_the_grid_in_order() {
        let a = parse_axis("profile.production.params.drop_threshold=3,4,5").unwrap();
        assert_eq!(a.values, ["3", "4", "5"]);
        assert!(parse_axis("nokey").is_err());
        assert!(parse_axis("k=1,,2").is_err());
        let b = parse_axis("profile.production.stop_pct=0.1,0.2").unwrap();
        let c = cells(&[a, b]);
        assert_eq!(c.len(), 6);
        assert_eq!(
            c[0],
            [
                "profile.production.params.drop_threshold=3",
                "profile.production.stop_pct=0.1"
            ]
        );
        assert_eq!(
            c[5],
            [
                "profile.production.params.drop_threshold=5",
                "profile.production.stop_pct=0.2"
            ]
        );
        assert_eq!(cells(&[]), vec![Vec::<String>::new()]);
    }
}
