//! Parameter sweeps: a grid over config values (`--sweep KEY=V1,V2,...`, each axis a `--set`
//! key), every cell a full backtest on the same bars (read once, shared), run in parallel on
//! all cores. Each cell builds its own engine from the config with its values applied, so a cell
//! is exactly a single run with `--set KEY=V`.
//!
//! Every sweep also says how far its best cell can be trusted: the probability of backtest
//! overfitting over the grid's daily P&L ([`crate::stats::pbo`]), the deflated Sharpe ratio of
//! the best cell ([`crate::stats::deflated_sharpe`]) beside its luck benchmark, and sample-size
//! cautions; `--report` adds `sweep.html`, a heatmap of the sort metric over two swept keys.
//! Every cell shows its refused proposals by reason and its script errors; the files carry the
//! run identity.

use super::identity::RunIdentity;
use super::{refusals_text, run_until_stopped, sample_size, Summary};
use crate::config::Config;
use crate::host::engine::EngineOptions;
use crate::market::bar::Bar;
use crate::market::format::{csv_text, esc, money, opt, pct};
use crate::stats::{deflated_sharpe, pbo, Stats};
use serde::Serialize;
use std::collections::BTreeMap;
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
    /// P&L of every trading day with bars (empty when the cell could not run).
    pub daily: Vec<f64>,
    /// Net P&L per closed trade in exit order (empty when the cell could not run).
    pub trade_pnls: Vec<f64>,
    /// Refused proposals by reason (rule names), as a plain backtest counts them.
    pub refusals: BTreeMap<String, u64>,
    /// The bars the cell's engine accepted (`None` when the cell could not run).
    pub bars_used: Option<super::identity::BarSpan>,
}

impl Cell {
    /// `key=value, key=value` with each key shortened to its last part.
    pub fn label(&self) -> String {
        self.sets
            .iter()
            .map(|s| match s.split_once('=') {
                Some((k, v)) => format!("{}={v}", k.rsplit('.').next().unwrap_or(k)),
                None => s.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Script errors that blanked bars of this cell (0 when it could not run).
    pub fn script_errors(&self) -> u64 {
        self.result.as_ref().map_or(0, |s| s.script_errors)
    }
}

/// The default bound on a grid's cells (`--max-cells` raises it).
pub const MAX_CELLS: usize = 100_000;

/// Bars one worker thread runs per second through a script engine, roughly: the time of the
/// size check's estimate. The shipped scripts run 540,000–850,000 bars/s end to end in a release
/// build (README, Benchmarks); 400,000 keeps the estimate on the long side.
pub const BARS_PER_SECOND_PER_THREAD: f64 = 400_000.0;

/// Memory a finished cell holds besides its daily P&L (summary, statistics, overrides): about
/// what a 3,000,000-cell sweep measured (3.55 GB).
pub const BYTES_PER_CELL: f64 = 1_200.0;

/// Refuses a grid over `max` cells before it is built, with its estimate: cells × bars, the
/// rough time on `threads` threads and the memory its results hold (`trading_days` of daily
/// P&L per cell). Returns the number of cells.
pub fn check_size(
    axes: &[Axis],
    bars: usize,
    trading_days: usize,
    threads: usize,
    max: usize,
) -> Result<usize, String> {
    use crate::market::format::{bytes, count, duration_secs};
    let shape = axes
        .iter()
        .map(|a| a.values.len().to_string())
        .collect::<Vec<_>>()
        .join(" × ");
    let Some(cells) = cell_count(axes) else {
        return Err(format!(
            "--sweep: a grid of {shape} values has more cells than can be counted; narrow the grid"
        ));
    };
    if cells <= max {
        return Ok(cells);
    }
    let cell_bars = cells as f64 * bars as f64;
    let secs = cell_bars / (BARS_PER_SECOND_PER_THREAD * threads.max(1) as f64);
    let memory = cells as f64 * (BYTES_PER_CELL + 8.0 * trading_days as f64);
    Err(format!(
        "--sweep: a grid of {} cells ({shape} values) over {} bars is {cell_bars:.2e} cell-bars, over the bound of {} cells. Rough estimate: {} on {} thread(s) and {} of memory for the results. Narrow the grid, or raise the bound with --max-cells {cells}",
        count(cells),
        count(bars),
        count(max),
        duration_secs(secs),
        threads.max(1),
        bytes(memory),
    ))
}

/// The number of cells of a grid over `axes`, `None` when it overflows: known before the grid
/// is built, so an oversized grid is refused before it takes memory.
pub fn cell_count(axes: &[Axis]) -> Option<usize> {
    axes.iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
}

/// Runs every cell on `threads` worker threads; results in grid order. `done` is called after
/// each cell. When a stop is asked for (Ctrl+C, [`crate::market::stop`]) the workers take no new
/// cell and leave the one they run: only the cells that completed are returned.
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
                if crate::market::stop::raised() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(sets) = grid.get(i) else { break };
                let Some(cell) = run_cell(base, opts, bars, sets) else {
                    break;
                };
                results
                    .lock()
                    .expect("no worker panics while holding the lock")[i] = Some(cell);
                done();
            });
        }
    });
    results
        .into_inner()
        .expect("workers finished")
        .into_iter()
        .flatten()
        .collect()
}

/// One cell's backtest; `None` when a stop cut it short.
fn run_cell(base: &Config, opts: &EngineOptions, bars: &[Bar], sets: &[String]) -> Option<Cell> {
    let mut cfg = base.clone();
    let ran = cfg
        .apply_overrides(sets)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            run_until_stopped(&cfg, opts.clone(), bars, |_| {}).map_err(|e| e.to_string())
        });
    Some(match ran {
        Ok(bt) => {
            let bt = bt?;
            Cell {
                sets: sets.to_vec(),
                result: Ok(bt.summary()),
                daily: bt.daily_pnl(|_| true),
                trade_pnls: bt.trades.iter().map(|t| t.pnl.unwrap_or(0.0)).collect(),
                refusals: bt.refusals,
                bars_used: Some(bt.bars_used),
            }
        }
        Err(e) => Cell {
            sets: sets.to_vec(),
            result: Err(e),
            daily: Vec::new(),
            trade_pnls: Vec::new(),
            refusals: BTreeMap::new(),
            bars_used: None,
        },
    })
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
    /// The name as typed on the command line (`net-pnl`).
    pub fn name(self) -> &'static str {
        match self {
            SortBy::NetPnl => "net-pnl",
            SortBy::PnlPerDay => "pnl-per-day",
            SortBy::Sharpe => "sharpe",
            SortBy::ProfitFactor => "profit-factor",
            SortBy::WinRate => "win-rate",
            SortBy::MaxDrawdown => "max-drawdown",
            SortBy::Trades => "trades",
        }
    }

    /// The metric's value as the tables show it (money, percent, ratio, count).
    pub fn format(self, v: f64) -> String {
        match self {
            SortBy::NetPnl | SortBy::PnlPerDay | SortBy::MaxDrawdown => money(v),
            SortBy::WinRate => pct(v),
            SortBy::Sharpe | SortBy::ProfitFactor => format!("{v:.2}"),
            SortBy::Trades => format!("{v:.0}"),
        }
    }

    /// The metric of `s` itself (drawdown positive), `None` when undefined.
    pub fn value(self, s: &crate::stats::Stats) -> Option<f64> {
        match self {
            SortBy::MaxDrawdown => s.max_drawdown,
            _ => self.score(s),
        }
    }

    /// Higher is better for every metric (drawdown negated); `None` when undefined.
    pub fn score(self, o: &crate::stats::Stats) -> Option<f64> {
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
        let ka = a.result.as_ref().ok().and_then(|s| by.score(&s.overall));
        let kb = b.result.as_ref().ok().and_then(|s| by.score(&s.overall));
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

/// Every refusal reason any cell of the grid counted, in name order (the `refused_*` columns).
fn refusal_reasons(cells: &[Cell]) -> Vec<&str> {
    let mut reasons: Vec<&str> = cells
        .iter()
        .flat_map(|c| c.refusals.keys().map(String::as_str))
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    reasons
}

/// The full grid, in grid order, as CSV: the run identity as `# key: value` lines (when known),
/// then one column per axis, the overall statistics, `script_errors`, `refused` and one
/// `refused_<reason>` column per reason any cell counted, and `error` (why a cell could not run).
/// Every text cell goes through [`csv_text`] (quoting, formula neutralising).
pub fn csv(axes: &[Axis], cells: &[Cell], run: Option<&RunIdentity>) -> String {
    let mut out = run.map(RunIdentity::csv_comment).unwrap_or_default();
    let reasons = refusal_reasons(cells);
    let head: Vec<String> = axes
        .iter()
        .map(|a| csv_text(&a.key))
        .chain(std::iter::once(COLUMNS.to_string()))
        .chain(["script_errors".to_string(), "refused".to_string()])
        .chain(reasons.iter().map(|r| csv_text(&format!("refused_{r}"))))
        .chain(std::iter::once("error".to_string()))
        .collect();
    let _ = writeln!(out, "{}", head.join(","));
    for c in cells {
        let mut row: Vec<String> = c
            .sets
            .iter()
            .map(|s| csv_text(s.split_once('=').map(|x| x.1).unwrap_or("")))
            .collect();
        let refused = |r: &str| c.refusals.get(r).copied().unwrap_or(0).to_string();
        match &c.result {
            Ok(s) => {
                row.push(fields(s));
                row.push(s.script_errors.to_string());
                row.push(c.refusals.values().sum::<u64>().to_string());
                row.extend(reasons.iter().map(|r| refused(r)));
                row.push(String::new());
            }
            Err(e) => {
                row.push(",".repeat(COLUMNS.matches(',').count()));
                row.extend(std::iter::repeat_n(String::new(), 2 + reasons.len()));
                row.push(csv_text(e));
            }
        }
        let _ = writeln!(out, "{}", row.join(","));
    }
    out
}

/// Each axis' key by its last part (`drop_threshold`), or whole when two axes would read alike.
pub fn short_keys(axes: &[Axis]) -> Vec<String> {
    let last = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
    axes.iter()
        .map(|a| {
            let short = last(&a.key);
            if axes.iter().filter(|b| last(&b.key) == short).count() > 1 {
                a.key.clone()
            } else {
                short
            }
        })
        .collect()
}

/// The rows of the sweep table (header first), sorted best first.
fn table_rows(axes: &[Axis], cells: &[Cell], by: SortBy) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = vec![short_keys(axes)
        .into_iter()
        .chain(
            [
                "trades",
                "win rate",
                "profit factor",
                "net P&L",
                "P&L / day",
                "Sharpe",
                "max drawdown",
                "script errors",
                "refused proposals",
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
                    opt(o.win_rate, pct),
                    f(o.profit_factor, 2),
                    money(o.net_pnl),
                    opt(o.average_pnl_per_day, money),
                    f(o.sharpe, 2),
                    opt(o.max_drawdown, money),
                    script_errors_mark(s.script_errors),
                    refusals_text(&c.refusals),
                ]);
            }
            Err(e) => r.push(format!("error: {e}")),
        }
        rows.push(r);
    }
    rows
}

/// A cell's script errors as shown beside it: `0`, or `⚠ 16` so a cell with errors stands out.
pub fn script_errors_mark(n: u64) -> String {
    if n == 0 {
        "0".into()
    } else {
        format!("⚠ {n}")
    }
}

/// The terminal table, sorted best first.
pub fn table(axes: &[Axis], cells: &[Cell], by: SortBy) -> String {
    crate::market::format::text_table(&table_rows(axes, cells, by), &[])
}

/// How far the best cell of a sweep can be trusted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overfitting {
    /// Cells that ran: the trials.
    pub trials: usize,
    /// Index (grid order) of the best cell by the sort metric, if any has a defined metric.
    pub best: Option<usize>,
    /// The best cell's values (`drop_threshold=5, stop_pct=0.2`).
    pub best_label: Option<String>,
    /// The best cell's annualised Sharpe ratio.
    pub best_sharpe: Option<f64>,
    /// Probability of backtest overfitting over the trials' daily P&L (`None`: undefined).
    pub pbo: Option<pbo::Pbo>,
    /// Deflated Sharpe ratio of the best cell (`None`: undefined).
    pub deflated_sharpe: Option<f64>,
    /// The luck benchmark the DSR measures the best cell against: the expected maximum Sharpe of
    /// `trials` unskilled trials with the grid's spread of Sharpe ratios (SR₀ of Bailey & López
    /// de Prado), annualised like every Sharpe vrev prints (`None`: undefined).
    pub luck_benchmark: Option<f64>,
    /// Sample-size cautions (best cell, PBO groups).
    pub warnings: Vec<String>,
}

/// One trial of a grid as the overfitting statistics see it.
pub struct Trial<'a> {
    /// Index of the cell in grid order.
    pub index: usize,
    pub label: String,
    /// P&L of every trading day, the same days for every trial.
    pub daily: &'a [f64],
    pub stats: &'a Stats,
    pub trading_days: usize,
}

/// PBO over the grid, DSR of the best cell by `by`, and cautions.
pub fn overfitting(cells: &[Cell], by: SortBy) -> Overfitting {
    let best = sorted(cells, by)
        .first()
        .filter(|c| {
            c.result
                .as_ref()
                .is_ok_and(|s| by.score(&s.overall).is_some())
        })
        .and_then(|b| cells.iter().position(|c| std::ptr::eq(c, *b)));
    let trials: Vec<Trial> = cells
        .iter()
        .enumerate()
        .filter_map(|(index, c)| {
            c.result.as_ref().ok().map(|s| Trial {
                index,
                label: c.label(),
                daily: &c.daily,
                stats: &s.overall,
                trading_days: s.trading_days,
            })
        })
        .collect();
    overfitting_of(&trials, best)
}

/// PBO over `trials`' daily P&L, DSR and luck benchmark of the trial with grid index `best`, and
/// cautions: the one computation of a sweep and of a walk-forward's grid.
pub fn overfitting_of(trials: &[Trial], best: Option<usize>) -> Overfitting {
    let columns: Vec<Vec<f64>> = trials.iter().map(|t| t.daily.to_vec()).collect();
    let days = columns.first().map_or(0, Vec::len);
    let pbo = pbo::default_groups(days).and_then(|g| pbo::pbo(&columns, g));
    let sharpes: Vec<f64> = columns
        .iter()
        .map(|d| deflated_sharpe::sharpe_per_day(d).unwrap_or(0.0))
        .collect();
    let best_trial = best.and_then(|b| trials.iter().find(|t| t.index == b));
    let dsr = best_trial.and_then(|b| deflated_sharpe::deflated_sharpe_of_days(b.daily, &sharpes));
    let luck_benchmark =
        deflated_sharpe::luck_benchmark_of_days(&sharpes).map(|s| s * 252f64.sqrt());
    let mut warnings = Vec::new();
    if let Some(b) = best_trial {
        warnings.extend(sample_size::for_stats(
            &format!("best cell ({})", b.label),
            b.stats,
            b.trading_days,
        ));
    }
    if let Some(p) = &pbo {
        if p.groups < 16 {
            warnings.push(format!(
                "PBO from {} groups of days ({} splits; 16 groups need 32 trading days)",
                p.groups, p.splits
            ));
        }
    }
    Overfitting {
        trials: trials.len(),
        best: best_trial.map(|b| b.index),
        best_label: best_trial.map(|b| b.label.clone()),
        best_sharpe: best_trial.and_then(|b| b.stats.sharpe),
        pbo,
        deflated_sharpe: dsr,
        luck_benchmark,
        warnings,
    }
}

/// The terminal lines of [`Overfitting`], each figure with what it means.
pub fn overfitting_text(o: &Overfitting) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "overfitting ({} cells tried):", o.trials);
    match &o.pbo {
        Some(p) => {
            let _ = writeln!(
                out,
                "  probability of backtest overfitting (PBO, CSCV {} groups, {} splits): {:.2}  (ranks the cells by the Sharpe of their daily P&L, whatever --sort is; low: the grid's ranking holds out of sample, which says nothing of profit; 0.5: choosing the best cell is a coin flip)",
                p.groups, p.splits, p.probability
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  probability of backtest overfitting: undefined (needs 2+ cells and 4+ trading days)"
            );
        }
    }
    let best = o.best_label.clone().unwrap_or_default();
    let luck = match (o.luck_benchmark, o.best_sharpe) {
        (Some(l), Some(b)) => format!(
            "; luck benchmark: Sharpe {l:.2}, what the best of {} cells shows with no skill, against the best cell's {b:.2} (annualised)",
            o.trials
        ),
        (Some(l), None) => format!(
            "; luck benchmark: Sharpe {l:.2}, what the best of {} cells shows with no skill (annualised)",
            o.trials
        ),
        (None, _) => "; luck benchmark: undefined".into(),
    };
    match o.deflated_sharpe {
        Some(d) => {
            let _ = writeln!(
                out,
                "  deflated Sharpe ratio of the best cell ({best}): {d:.2}  (chance its true Sharpe beats the luck of the best of {} tries; want ≥ 0.95{luck})",
                o.trials
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  deflated Sharpe ratio of the best cell: undefined (needs 2+ cells and a best cell whose daily P&L varies{luck})"
            );
        }
    }
    out
}

/// Colour of a score at `t` in [0, 1] (0 worst: red, 0.5 pale yellow, 1 best: green).
fn colour(t: f64) -> String {
    let t = t.clamp(0.0, 1.0);
    let (a, b, u) = if t < 0.5 {
        ((198.0, 40.0, 40.0), (255.0, 245.0, 200.0), t * 2.0)
    } else {
        ((255.0, 245.0, 200.0), (46.0, 125.0, 50.0), (t - 0.5) * 2.0)
    };
    let m = |x: f64, y: f64| (x + (y - x) * u).round() as u8;
    format!("#{:02x}{:02x}{:02x}", m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

/// The heatmap (SVG) of `by` over the first two axes: rows are the first axis' values, columns
/// the second's (one column with one axis). With more than two axes each square shows the best
/// cell among the other axes' values for that pair.
pub fn heatmap(axes: &[Axis], cells: &[Cell], by: SortBy) -> String {
    let rows: Vec<String> = axes.first().map(|a| a.values.clone()).unwrap_or_default();
    let cols: Vec<String> = axes
        .get(1)
        .map(|a| a.values.clone())
        .unwrap_or_else(|| vec![String::new()]);
    let value_of = |c: &Cell, axis: usize| -> Option<String> {
        c.sets
            .get(axis)
            .and_then(|s| s.split_once('='))
            .map(|x| x.1.to_string())
    };
    // best cell per (row, col)
    let mut grid: Vec<Vec<Option<&Cell>>> = vec![vec![None; cols.len()]; rows.len()];
    for c in sorted(cells, by) {
        let r = value_of(c, 0).and_then(|v| rows.iter().position(|x| *x == v));
        let k = if axes.len() > 1 {
            value_of(c, 1).and_then(|v| cols.iter().position(|x| *x == v))
        } else {
            Some(0)
        };
        if let (Some(r), Some(k)) = (r, k) {
            grid[r][k].get_or_insert(c);
        }
    }
    let score = |c: &Cell| c.result.as_ref().ok().and_then(|s| by.score(&s.overall));
    let scores: Vec<f64> = cells.iter().filter_map(score).collect();
    let lo = scores.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (cw, ch, left, top) = (120.0, 48.0, 150.0, 60.0);
    let width = left + cw * cols.len() as f64 + 20.0;
    let height = top + ch * rows.len() as f64 + 20.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" font-size="14">"#
    );
    let keys = short_keys(axes);
    if let Some(k) = keys.get(1) {
        let _ = write!(
            svg,
            r#"<text x="{}" y="18" text-anchor="middle" font-weight="600">{}</text>"#,
            left + cw * cols.len() as f64 / 2.0,
            esc(k)
        );
    }
    if let Some(k) = keys.first() {
        let _ = write!(
            svg,
            r#"<text x="8" y="{}" font-weight="600">{}</text>"#,
            top - 10.0,
            esc(k)
        );
    }
    for (k, v) in cols.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            left + cw * (k as f64 + 0.5),
            top - 10.0,
            esc(v)
        );
    }
    for (r, v) in rows.iter().enumerate() {
        let y = top + ch * r as f64;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            left - 10.0,
            y + ch / 2.0 + 5.0,
            esc(v)
        );
        for (k, cell) in grid[r].iter().enumerate() {
            let x = left + cw * k as f64;
            let (fill, text, sub) = match cell {
                Some(c) => match (&c.result, score(c)) {
                    (Ok(s), Some(sc)) => {
                        let t = if hi > lo { (sc - lo) / (hi - lo) } else { 0.5 };
                        (
                            colour(t),
                            by.value(&s.overall)
                                .map(|v| by.format(v))
                                .unwrap_or_default(),
                            format!("{} trades", s.overall.trades),
                        )
                    }
                    (Ok(s), None) => (
                        "#e0e0e0".into(),
                        "—".into(),
                        format!("{} trades", s.overall.trades),
                    ),
                    (Err(_), _) => ("#bdbdbd".into(), "error".into(), String::new()),
                },
                None => ("#f5f5f5".into(), String::new(), String::new()),
            };
            // A cell whose script failed on some bars is marked: its figures are not what the
            // script would have done.
            let errors = cell.map_or(0, |c| c.script_errors());
            let (sub, stroke) = if errors > 0 {
                (format!("{sub} · ⚠ {errors} errors"), "#e65100")
            } else {
                (sub, "#fff")
            };
            let mut title = cell.map(|c| c.label()).unwrap_or_default();
            if errors > 0 {
                let _ = write!(title, " — ⚠ {errors} script errors blanked bars");
            }
            let _ = write!(
                svg,
                r##"<g><title>{}</title><rect x="{x}" y="{y}" width="{cw}" height="{ch}" fill="{fill}" stroke="{stroke}" stroke-width="2"/><text x="{}" y="{}" text-anchor="middle" font-weight="600">{}</text><text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#333">{}</text></g>"##,
                esc(&title),
                x + cw / 2.0,
                y + ch / 2.0 - 1.0,
                esc(&text),
                x + cw / 2.0,
                y + ch / 2.0 + 15.0,
                esc(&sub)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// `sweep.html`: the heatmap, the overfitting statistics, the cautions, the sorted table (each
/// cell with its script errors and refusals by reason) and the run identity.
pub fn html(
    axes: &[Axis],
    cells: &[Cell],
    by: SortBy,
    o: &Overfitting,
    title: &str,
    run: Option<&RunIdentity>,
) -> String {
    let mut h = String::new();
    let more = if axes.len() > 2 {
        format!(
            " Each square shows the best cell over the other {} swept key(s).",
            axes.len() - 2
        )
    } else {
        String::new()
    };
    let _ = write!(
        h,
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vrev sweep — {t}</title>
<style>
body {{ font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; font-size: 15px; }}
h1 {{ font-size: 1.5rem; }} h2 {{ font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }}
.meta {{ color: #555; }} table {{ border-collapse: collapse; font-variant-numeric: tabular-nums; }}
th, td {{ padding: .25rem .6rem; text-align: right; border-bottom: 1px solid #eee; }} th {{ background: #f6f6f6; }}
.caution {{ background: #fff8e1; border-left: 4px solid #f9a825; padding: .5rem 1rem; }}
pre {{ white-space: pre-wrap; }} td, th {{ white-space: nowrap; }}
td.l {{ text-align: left; white-space: normal; }} tr.err td {{ background: #fff3e0; }}
.cmd {{ font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }}
</style></head><body>
<h1>vrev sweep — {t}</h1>
<p class="meta">{n} cells · sorted by <b>{sort}</b> (best first) · every figure from simulated fills, as in the backtest report</p>
{errors}
<h2>{sort} over the grid</h2><p class="meta">Green is the best cell of this grid, red the worst (relative: a green cell can still lose money); hover a square for its values.{more}</p>
{svg}
<h2>Overfitting</h2><pre>{ov}</pre>
"#,
        t = esc(title),
        n = cells.len(),
        sort = by.name(),
        svg = heatmap(axes, cells, by),
        ov = esc(&overfitting_text(o)),
        errors = script_errors_header(cells),
    );
    if !o.warnings.is_empty() {
        h.push_str("<div class=\"caution\"><b>Caution</b><ul>");
        for w in &o.warnings {
            let _ = write!(h, "<li>{}</li>", esc(w));
        }
        h.push_str("</ul></div>");
    }
    h.push_str("<h2>All cells</h2><table>");
    let order = sorted(cells, by);
    for (i, row) in table_rows(axes, cells, by).iter().enumerate() {
        let tag = if i == 0 { "th" } else { "td" };
        let errors = i
            .checked_sub(1)
            .and_then(|k| order.get(k))
            .map_or(0, |c| c.script_errors());
        h.push_str(if errors > 0 {
            "<tr class=\"err\">"
        } else {
            "<tr>"
        });
        for v in row {
            let _ = write!(h, "<{tag}>{}</{tag}>", esc(v));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>\n");
    if let Some(run) = run {
        h.push_str(&run.html());
    }
    h.push_str("</body></html>\n");
    h
}

/// The page header's line on script errors: how many cells had them, with the count of each
/// (or that none had).
fn script_errors_header(cells: &[Cell]) -> String {
    let with: Vec<String> = cells
        .iter()
        .filter(|c| c.script_errors() > 0)
        .map(|c| format!("{} ({})", c.label(), c.script_errors()))
        .collect();
    if with.is_empty() {
        return "<p class=\"meta\">script errors: none in any cell</p>".into();
    }
    format!(
        "<div class=\"caution\"><b>⚠ Script errors in {} of {} cells</b>: they blanked bars, so those cells' figures are not what the script would have done (marked ⚠ below): {}</div>",
        with.len(),
        cells.len(),
        esc(&with.join("; "))
    )
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
