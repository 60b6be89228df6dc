//! Walk-forward optimisation (`--sweep ... --walk-forward train=6M,test=1M[,step=1M][,anchored]`):
//! the grid is optimised on each training span by the `--sort` metric, the chosen cell trades
//! the test span that follows, and the test spans' results, stitched in date order, are the
//! out-of-sample record.
//!
//! How the data is cut (docs/decisions.md):
//! - Spans are whole trading days (a trading day is never split). `D` counts trading days with
//!   bars, `M` calendar months of trading days (by the trading day's month), `Y` = 12 `M`.
//! - The days are cut, from the first, into **blocks** of the test length; `train` and `step`
//!   must be whole multiples of it. Fold k tests block `train/test + k × step/test` and trains on
//!   the `train/test` blocks before it (all blocks before it when `anchored`). The last block may
//!   be shorter when the data ends.
//! - Every cell runs once on every block it needs, as a plain backtest of that block (a fresh
//!   engine on the block's bars only, exactly `vrev backtest --from FIRST --to LAST`; a trade still
//!   open at the block's last bar is closed there as `end_of_data`). A training span's result is
//!   its blocks' trades and daily P&L stitched in order, the same rule that stitches the test
//!   spans into the out-of-sample record. So in-sample and out-of-sample are measured alike, no
//!   run sees a bar outside its block (a training run never sees a test bar), and the whole
//!   walk-forward costs one pass of the grid over the data whatever the training length.
//! - Ties on the metric go to the first cell in grid order (as in the sweep table). A fold whose
//!   training span gives no cell a defined metric (e.g. Sharpe without trades) chooses nothing
//!   and stays flat out of sample; a caution says so.

use super::identity::RunIdentity;
use super::sweep::{self, Axis, Overfitting, SortBy};
use super::{monte_carlo, refusals_text, run, run_until_stopped, sample_size};
use crate::config::Config;
use crate::host::book::Trade;
use crate::host::engine::{Engine, EngineOptions};
use crate::market::bar::Bar;
use crate::market::format::{csv_text, money, opt, pct};
use crate::market::time::MarketClock;
use crate::stats::{Stats, TradeFacts};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The unit of a span length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Unit {
    /// Trading days with bars.
    Days,
    /// Calendar months of trading days.
    Months,
}

/// A parsed `--walk-forward` value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Spec {
    pub unit: Unit,
    /// Test span length in `unit`: the block.
    pub test: usize,
    /// Training span, in blocks.
    pub train_blocks: usize,
    /// Distance between consecutive test spans, in blocks.
    pub step_blocks: usize,
    pub anchored: bool,
    /// The value as typed.
    pub text: String,
}

fn parse_len(what: &str, v: &str, spec: &str) -> Result<(usize, Unit), String> {
    let bad = || {
        format!("--walk-forward {spec}: {what}={v}: expected a length like 20D (trading days), 6M (months) or 1Y")
    };
    let v = v.trim();
    let (n, unit) = v.split_at(v.len().saturating_sub(1));
    let n: usize = n.parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(format!(
            "--walk-forward {spec}: {what} must be longer than 0"
        ));
    }
    match unit {
        "D" | "d" => Ok((n, Unit::Days)),
        "M" | "m" => Ok((n, Unit::Months)),
        "Y" | "y" => Ok((n * 12, Unit::Months)),
        _ => Err(bad()),
    }
}

/// Parses `train=6M,test=1M[,step=1M][,anchored]`. Each part at most once: a repeated part
/// (`anchored,anchored`, `train=6M,train=3M`) is refused, never read as the last one.
pub fn parse_spec(s: &str) -> Result<Spec, String> {
    let (mut train, mut test, mut step, mut anchored) = (None, None, None, false);
    let mut seen: Vec<&str> = Vec::new();
    for part in s.split(',').map(str::trim) {
        let name = part.split_once('=').map_or(part, |(k, _)| k);
        if seen.contains(&name) {
            return Err(format!(
                "--walk-forward {s}: {name} is given twice (each of train, test, step and anchored at most once)"
            ));
        }
        seen.push(name);
        match part.split_once('=') {
            Some(("train", v)) => train = Some(parse_len("train", v, s)?),
            Some(("test", v)) => test = Some(parse_len("test", v, s)?),
            Some(("step", v)) => step = Some(parse_len("step", v, s)?),
            None if part == "anchored" => anchored = true,
            _ => {
                return Err(format!(
                    "--walk-forward {s}: unknown part {part:?} (expected train=LEN, test=LEN, step=LEN, anchored)"
                ))
            }
        }
    }
    let (Some(train), Some(test)) = (train, test) else {
        return Err(format!(
            "--walk-forward {s}: needs train=LEN and test=LEN, e.g. train=6M,test=1M"
        ));
    };
    let step = step.unwrap_or(test);
    if train.1 != test.1 || step.1 != test.1 {
        return Err(format!(
            "--walk-forward {s}: train, test and step must all be in trading days (D) or all in months (M, Y)"
        ));
    }
    for (what, len) in [("train", train.0), ("step", step.0)] {
        if len % test.0 != 0 {
            return Err(format!(
                "--walk-forward {s}: {what} must be a whole multiple of test (each test span is one block the data is cut into)"
            ));
        }
    }
    Ok(Spec {
        unit: test.1,
        test: test.0,
        train_blocks: train.0 / test.0,
        step_blocks: step.0 / test.0,
        anchored,
        text: s.to_string(),
    })
}

/// A block of whole trading days: its bars are `bars[range]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Block {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub days: usize,
    #[serde(skip)]
    pub bars: Range<usize>,
}

/// Cuts `bars` (time-ordered) into blocks of `spec.test` trading days or calendar months
/// (counted from the first day's month; a stretch of months without bars makes no block), with
/// the trading day of `--from/--to`.
pub fn blocks(bars: &[Bar], spec: &Spec) -> Vec<Block> {
    let clock = MarketClock::exchange();
    let mut out: Vec<Block> = Vec::new();
    let mut first_key: Option<i64> = None;
    let mut day_count: i64 = -1;
    let mut last_day: Option<NaiveDate> = None;
    let mut last_block: Option<usize> = None;
    for (i, b) in bars.iter().enumerate() {
        let day = clock.stamp(b.close_time).trading_day;
        let new_day = last_day != Some(day);
        if new_day {
            day_count += 1;
        }
        let key = match spec.unit {
            Unit::Days => day_count,
            Unit::Months => day.year() as i64 * 12 + day.month0() as i64,
        };
        let first = *first_key.get_or_insert(key);
        let block = ((key - first) / spec.test as i64) as usize;
        let current = last_block == Some(block);
        last_block = Some(block);
        match out.last_mut() {
            Some(last) if current => {
                last.bars.end = i + 1;
                if new_day {
                    last.last_day = day;
                    last.days += 1;
                }
            }
            _ => out.push(Block {
                first_day: day,
                last_day: day,
                days: 1,
                bars: i..i + 1,
            }),
        }
        last_day = Some(day);
    }
    out
}

/// Fold k: its training blocks and its test block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoldPlan {
    pub train: Range<usize>,
    pub test: usize,
}

/// The folds over `blocks` blocks.
pub fn plan(blocks: usize, spec: &Spec) -> Vec<FoldPlan> {
    (0..)
        .map(|k| spec.train_blocks + k * spec.step_blocks)
        .take_while(|t| *t < blocks)
        .map(|t| FoldPlan {
            train: if spec.anchored {
                0
            } else {
                t - spec.train_blocks
            }..t,
            test: t,
        })
        .collect()
}

/// One cell's plain backtest of one block.
#[derive(Clone, Debug)]
pub struct BlockRun {
    pub trading_days: Vec<NaiveDate>,
    pub daily: Vec<f64>,
    pub trades: Vec<Trade>,
    /// The statistics' view of `trades`, bar indices counted in the whole run's bars.
    pub facts: Vec<TradeFacts>,
    /// Bars in the block.
    pub bars: usize,
    /// Script errors that blanked bars of the block.
    pub script_errors: u64,
    /// Refused proposals by reason.
    pub refusals: BTreeMap<String, u64>,
    /// The bars the engine accepted.
    pub bars_used: super::identity::BarSpan,
}

/// Runs `run_block(cell, block)` for every pair in `tasks` on `threads` threads; results keyed
/// by (cell, block) in the order of `tasks`. `None` when a stop was asked for (Ctrl+C): the
/// workers take no new task, and a task `run_block` gave up on (`None`) ends its worker.
fn run_tasks<T: Send>(
    tasks: &[(usize, usize)],
    threads: usize,
    run_block: &(dyn Fn(usize, usize) -> Option<T> + Sync),
    done: &(dyn Fn() + Sync),
) -> Option<Vec<T>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..tasks.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, tasks.len().max(1)) {
            scope.spawn(|| loop {
                if crate::market::stop::raised() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(cell, block)) = tasks.get(i) else {
                    break;
                };
                let Some(r) = run_block(cell, block) else {
                    break;
                };
                results
                    .lock()
                    .expect("no worker panics while holding the lock")[i] = Some(r);
                done();
            });
        }
    });
    results
        .into_inner()
        .expect("workers finished")
        .into_iter()
        .collect()
}

/// One fold's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fold {
    pub fold: usize,
    pub train_first: NaiveDate,
    pub train_last: NaiveDate,
    pub train_days: usize,
    pub test_first: NaiveDate,
    pub test_last: NaiveDate,
    pub test_days: usize,
    /// The chosen cell's overrides; `None` when no cell had a defined metric in sample.
    pub chosen: Option<Vec<String>>,
    /// The chosen cell's in-sample statistics.
    pub in_sample: Option<Stats>,
    /// The chosen cell's statistics on the test span (no trades when nothing was chosen).
    pub out_of_sample: Stats,
    /// The chosen cell's refused proposals by reason on the test span.
    pub refusals: BTreeMap<String, u64>,
    /// The chosen cell's script errors on this fold's training and test spans.
    pub script_errors: u64,
}

/// A trading day of the stitched out-of-sample record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Day {
    pub day: NaiveDate,
    pub fold: usize,
    pub pnl: f64,
    pub equity: f64,
}

/// The walk-forward's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WalkForward {
    /// What produced this run (set by `vrev backtest`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunIdentity>,
    pub spec: Spec,
    pub sort: &'static str,
    #[serde(skip)]
    pub sort_by: SortBy,
    pub axes: Vec<String>,
    pub cells: usize,
    pub folds: Vec<Fold>,
    /// Statistics of the stitched test spans.
    pub out_of_sample: Stats,
    /// Refused proposals by reason over the stitched test spans (the folds' sum).
    pub refusals: BTreeMap<String, u64>,
    /// PBO, DSR and luck benchmark of the grid over every day the walk-forward ran (each cell's
    /// blocks stitched, as a sweep of those days would measure them).
    pub overfitting: Overfitting,
    /// Trading days the grid ran on (what `overfitting` measures).
    pub grid_days: usize,
    /// The bars the walk-forward ran on and the engine accepted (every block it ran, the first
    /// cell's runs): the run identity's `bars used`.
    #[serde(skip)]
    pub bars_used: super::identity::BarSpan,
    /// The chosen cells' P&L per trading day on their training spans, pooled over the folds
    /// that chose (`None` when none did): what the optimisation promised, beside what the test
    /// spans delivered (`out_of_sample.average_pnl_per_day`).
    pub in_sample_pnl_per_day: Option<f64>,
    pub days: Vec<Day>,
    pub monte_carlo: Option<monte_carlo::MonteCarlo>,
    pub warnings: Vec<String>,
    pub assumptions: Vec<String>,
    /// The stitched out-of-sample trades in exit order.
    #[serde(skip)]
    pub trades: Vec<Trade>,
    /// (cell, script errors) of every cell whose script failed on some bars.
    pub script_errors: Vec<(String, u64)>,
}

/// What the runner needs besides the bars.
pub struct Setup<'a> {
    pub base: &'a Config,
    pub opts: &'a EngineOptions,
    pub axes: &'a [Axis],
    pub grid: &'a [Vec<String>],
    pub sort: SortBy,
    pub threads: usize,
    /// `(samples, seed)` for a Monte Carlo of the stitched trades.
    pub monte_carlo: Option<(usize, u64)>,
}

/// Runs the walk-forward. Errors name the cell or the spec problem.
pub fn walk_forward(
    setup: &Setup,
    spec: &Spec,
    bars: &[Bar],
    done: &(dyn Fn() + Sync),
) -> Result<WalkForward, String> {
    // Blocks are cut from the bars a run over the whole data accepts: a refused bar (one stamped
    // in the year 3000) never becomes a block, a fold or a test span of its own.
    let accepted = crate::market::plausibility::accepted_offline(bars);
    let bars = &accepted[..];
    let blocks = blocks(bars, spec);
    let folds = plan(blocks.len(), spec);
    if folds.is_empty() {
        let unit = match spec.unit {
            Unit::Days => "D",
            Unit::Months => "M",
        };
        return Err(format!(
            "--walk-forward {}: the data has {} block(s) of {}{unit}; the first fold needs {} (training) + 1 (test)",
            spec.text,
            blocks.len(),
            spec.test,
            spec.train_blocks
        ));
    }
    // Each cell's config, checked before any bar runs.
    let configs: Vec<Config> = setup
        .grid
        .iter()
        .map(|sets| {
            let mut cfg = setup.base.clone();
            cfg.apply_overrides(sets)
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    Engine::new(&cfg, setup.opts.clone())
                        .map(drop)
                        .map_err(|e| e.to_string())
                })
                .map(|()| cfg)
                .map_err(|e| format!("cell {}: {e}", sets.join(" ")))
        })
        .collect::<Result<_, _>>()?;
    let mut needed = vec![false; blocks.len()];
    for f in &folds {
        needed[f.train.clone()].iter_mut().for_each(|n| *n = true);
        needed[f.test] = true;
    }
    let tasks: Vec<(usize, usize)> = (0..configs.len())
        .flat_map(|c| {
            needed
                .iter()
                .enumerate()
                .filter(|(_, n)| **n)
                .map(move |(b, _)| (c, b))
        })
        .collect();
    let runs = run_tasks(
        &tasks,
        setup.threads,
        &|cell, block| {
            run_until_stopped(
                &configs[cell],
                setup.opts.clone(),
                &bars[blocks[block].bars.clone()],
                |_| {},
            )
            .map(|bt| {
                let bt = bt?;
                let start = blocks[block].bars.start;
                let facts = bt
                    .trade_facts(|_| true)
                    .into_iter()
                    .map(|f| TradeFacts {
                        held_bars: f.held_bars.map(|(a, b)| (a + start, b + start)),
                        ..f
                    })
                    .collect();
                Some(BlockRun {
                    script_errors: bt.script_errors,
                    daily: bt.daily_pnl(|_| true),
                    refusals: bt.refusals,
                    bars_used: bt.bars_used,
                    bars: blocks[block].bars.len(),
                    facts,
                    trading_days: bt.trading_days,
                    trades: bt.trades,
                })
            })
            .map_err(|e| format!("cell {}: {e}", setup.grid[cell].join(" ")))
            .transpose()
        },
        done,
    )
    .ok_or_else(|| INTERRUPTED.to_string())?;
    let mut by_key: Vec<Vec<Option<BlockRun>>> = vec![vec![None; blocks.len()]; configs.len()];
    for (&(c, b), r) in tasks.iter().zip(runs) {
        by_key[c][b] = Some(r?);
    }
    // Cells whose script failed on some bars, with how many: the run must end loudly.
    let script_errors: Vec<(String, u64)> = (0..configs.len())
        .filter_map(|c| {
            let n: u64 = by_key[c].iter().flatten().map(|r| r.script_errors).sum();
            (n > 0).then(|| (short(&setup.grid[c]), n))
        })
        .collect();
    let block_run = |c: usize, b: usize| by_key[c][b].as_ref().expect("planned block ran");
    let commission = setup.base.backtest.commission_per_contract_side;
    let stats_over = |c: usize, range: &mut dyn Iterator<Item = usize>| -> Stats {
        let range: Vec<usize> = range.collect();
        let facts: Vec<TradeFacts> = range
            .iter()
            .flat_map(|&b| block_run(c, b).facts.iter().copied())
            .collect();
        let daily: Vec<f64> = range
            .iter()
            .flat_map(|&b| block_run(c, b).daily.iter().copied())
            .collect();
        let bars = range.iter().map(|&b| block_run(c, b).bars).sum();
        Stats::compute(&facts, &daily, bars, commission)
    };

    let mut out_folds = Vec::new();
    let mut trades: Vec<Trade> = Vec::new();
    let mut oos_facts: Vec<TradeFacts> = Vec::new();
    let mut days: Vec<Day> = Vec::new();
    let mut in_sample_trades: Vec<Option<usize>> = Vec::new();
    let mut equity = 0.0;
    let mut oos_refusals: BTreeMap<String, u64> = BTreeMap::new();
    for (k, f) in folds.iter().enumerate() {
        let mut best: Option<(usize, f64, Stats)> = None;
        for c in 0..configs.len() {
            let s = stats_over(c, &mut f.train.clone());
            if let Some(score) = setup.sort.score(&s) {
                if best.as_ref().is_none_or(|(_, b, _)| score > *b) {
                    best = Some((c, score, s));
                }
            }
        }
        in_sample_trades.push(best.as_ref().map(|(_, _, s)| s.trades));
        let test_block = &blocks[f.test];
        let (oos, chosen) = match &best {
            Some((c, _, _)) => {
                let r = block_run(*c, f.test);
                trades.extend(r.trades.iter().cloned());
                oos_facts.extend(r.facts.iter().copied());
                for (d, p) in r.trading_days.iter().zip(&r.daily) {
                    equity += p;
                    days.push(Day {
                        day: *d,
                        fold: k + 1,
                        pnl: *p,
                        equity,
                    });
                }
                (
                    stats_over(*c, &mut std::iter::once(f.test)),
                    Some(setup.grid[*c].clone()),
                )
            }
            None => {
                // Flat: the test span's trading days with no P&L (taken from any cell's run).
                let r = block_run(0, f.test);
                for d in &r.trading_days {
                    days.push(Day {
                        day: *d,
                        fold: k + 1,
                        pnl: 0.0,
                        equity,
                    });
                }
                (
                    Stats::compute(&[], &vec![0.0; r.trading_days.len()], 0, commission),
                    None,
                )
            }
        };
        let train_first = &blocks[f.train.start];
        let train_last = &blocks[f.train.end - 1];
        let (refusals, fold_errors) = match &best {
            Some((c, _, _)) => (
                block_run(*c, f.test).refusals.clone(),
                f.train
                    .clone()
                    .chain(std::iter::once(f.test))
                    .map(|b| block_run(*c, b).script_errors)
                    .sum(),
            ),
            None => (BTreeMap::new(), 0),
        };
        for (r, n) in &refusals {
            *oos_refusals.entry(r.clone()).or_default() += n;
        }
        out_folds.push(Fold {
            fold: k + 1,
            train_first: train_first.first_day,
            train_last: train_last.last_day,
            train_days: blocks[f.train.clone()].iter().map(|b| b.days).sum(),
            test_first: test_block.first_day,
            test_last: test_block.last_day,
            test_days: test_block.days,
            chosen,
            in_sample: best.map(|(_, _, s)| s),
            out_of_sample: oos,
            refusals,
            script_errors: fold_errors,
        });
    }
    let pnls: Vec<f64> = oos_facts.iter().map(|f| f.pnl).collect();
    let daily: Vec<f64> = days.iter().map(|d| d.pnl).collect();
    let oos_bars = folds.iter().map(|f| blocks[f.test].bars.len()).sum();
    let out_of_sample = Stats::compute(&oos_facts, &daily, oos_bars, commission);
    let (is_net, is_days) = out_folds
        .iter()
        .filter_map(|f| f.in_sample.as_ref().map(|s| (s.net_pnl, f.train_days)))
        .fold((0.0, 0usize), |(n, d), (x, y)| (n + x, d + y));
    let in_sample_pnl_per_day = (is_days > 0).then(|| is_net / is_days as f64);
    let mut warnings = sample_size::for_stats("stitched out of sample", &out_of_sample, days.len());
    warnings.extend(sample_size::for_folds(&in_sample_trades));
    let monte_carlo = setup
        .monte_carlo
        .and_then(|(n, seed)| monte_carlo::simulate(&pnls, n, seed));
    if setup.monte_carlo.is_some() {
        warnings.extend(sample_size::for_monte_carlo(pnls.len()));
    }
    // The grid's overfitting odds over every block the walk-forward ran, each cell's blocks
    // stitched in order (the same days for every cell).
    let ran: Vec<usize> = (0..blocks.len()).filter(|&b| needed[b]).collect();
    let whole: Vec<(Vec<f64>, Stats, usize)> = (0..configs.len())
        .map(|c| {
            let daily: Vec<f64> = ran
                .iter()
                .flat_map(|&b| block_run(c, b).daily.iter().copied())
                .collect();
            let days = ran
                .iter()
                .map(|&b| block_run(c, b).trading_days.len())
                .sum();
            (daily, stats_over(c, &mut ran.iter().copied()), days)
        })
        .collect();
    // Best by --sort over the whole span; ties to the first cell in grid order.
    let mut best_whole: Option<(usize, f64)> = None;
    for (c, (_, s, _)) in whole.iter().enumerate() {
        if let Some(score) = setup.sort.score(s) {
            if best_whole.is_none_or(|(_, b)| score > b) {
                best_whole = Some((c, score));
            }
        }
    }
    let trials: Vec<sweep::Trial> = whole
        .iter()
        .enumerate()
        .map(|(c, (daily, stats, days))| sweep::Trial {
            index: c,
            label: short(&setup.grid[c]),
            daily,
            stats,
            trading_days: *days,
        })
        .collect();
    let overfitting = sweep::overfitting_of(&trials, best_whole.map(|(c, _)| c));
    warnings.extend(overfitting.warnings.iter().cloned());
    let assumptions = run(&configs[0], setup.opts.clone(), &[], |_| {})
        .map(|bt| bt.fill.describe())
        .unwrap_or_default();
    Ok(WalkForward {
        run: None,
        spec: spec.clone(),
        sort: setup.sort.name(),
        sort_by: setup.sort,
        axes: setup.axes.iter().map(|a| a.key.clone()).collect(),
        cells: configs.len(),
        folds: out_folds,
        out_of_sample,
        refusals: oos_refusals,
        grid_days: whole.first().map_or(0, |w| w.2),
        bars_used: {
            let spans: Vec<&super::identity::BarSpan> =
                ran.iter().map(|&b| &block_run(0, b).bars_used).collect();
            let (first, last) = (
                spans.iter().find(|s| s.first_bar.is_some()),
                spans.iter().rev().find(|s| s.last_bar.is_some()),
            );
            super::identity::BarSpan {
                bars: spans.iter().map(|s| s.bars).sum(),
                first_bar: first.and_then(|s| s.first_bar.clone()),
                first_bar_et: first.and_then(|s| s.first_bar_et.clone()),
                last_bar: last.and_then(|s| s.last_bar.clone()),
                last_bar_et: last.and_then(|s| s.last_bar_et.clone()),
            }
        },
        overfitting,
        in_sample_pnl_per_day,
        days,
        monte_carlo,
        warnings,
        assumptions,
        trades,
        script_errors,
    })
}

/// The error of a walk-forward a stop request (Ctrl+C) cut short.
pub const INTERRUPTED: &str = "interrupted (Ctrl+C)";

fn short(sets: &[String]) -> String {
    sets.iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) => format!("{}={v}", k.rsplit('.').next().unwrap_or(k)),
            None => s.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn fold_rows(wf: &WalkForward) -> Vec<Vec<String>> {
    let metric_col = !matches!(wf.sort, "net-pnl" | "trades");
    let mut head: Vec<String> = [
        "fold",
        "train",
        "test",
        "chosen",
        "IS trades",
        "IS net P&L",
        "IS P&L/day",
    ]
    .map(String::from)
    .to_vec();
    if metric_col {
        head.push(format!("IS {}", wf.sort));
    }
    head.extend(
        [
            "OOS trades",
            "OOS net P&L",
            "OOS P&L/day",
            "OOS Sharpe",
            "OOS refused",
        ]
        .map(String::from),
    );
    let sort = wf.sort_by;
    let mut rows = vec![head];
    for f in &wf.folds {
        let mut r = vec![
            f.fold.to_string(),
            format!("{} .. {}", f.train_first, f.train_last),
            format!("{} .. {}", f.test_first, f.test_last),
            match (&f.chosen, f.script_errors) {
                (Some(c), 0) => short(c),
                // The chosen cell's script failed on bars of this fold: marked.
                (Some(c), n) => format!("{} ⚠ {n} script errors", short(c)),
                (None, _) => "none (no defined metric)".into(),
            },
            opt(f.in_sample.as_ref().map(|s| s.trades as f64), |v| {
                format!("{v:.0}")
            }),
            opt(f.in_sample.as_ref().map(|s| s.net_pnl), money),
            opt(
                f.in_sample.as_ref().and_then(|s| s.average_pnl_per_day),
                money,
            ),
        ];
        if metric_col {
            r.push(opt(f.in_sample.as_ref().and_then(|s| sort.value(s)), |v| {
                sort.format(v)
            }));
        }
        r.extend([
            f.out_of_sample.trades.to_string(),
            money(f.out_of_sample.net_pnl),
            opt(f.out_of_sample.average_pnl_per_day, money),
            opt(f.out_of_sample.sharpe, |v| format!("{v:.2}")),
            f.refusals.values().sum::<u64>().to_string(),
        ]);
        rows.push(r);
    }
    rows
}

/// The fold table: the chosen-parameters column (the 4th) left, numbers right.
fn align(rows: &[Vec<String>]) -> String {
    crate::market::format::text_table(rows, &[3])
}

fn stats_lines(s: &Stats) -> Vec<(&'static str, String)> {
    vec![
        ("trades", s.trades.to_string()),
        ("win rate", opt(s.win_rate, pct)),
        ("average win", opt(s.average_win, money)),
        ("average loss", opt(s.average_loss, money)),
        ("profit factor", opt(s.profit_factor, |v| format!("{v:.2}"))),
        ("net P&L", money(s.net_pnl)),
        ("P&L / day", opt(s.average_pnl_per_day, money)),
        ("Sharpe", opt(s.sharpe, |v| format!("{v:.2}"))),
        ("max drawdown", opt(s.max_drawdown, money)),
    ]
}

fn mode(spec: &Spec) -> &'static str {
    if spec.anchored {
        "anchored: each training span starts at the first day"
    } else {
        "rolling"
    }
}

/// `refused proposals out of sample: 12 — open_positions 9, ...`, then each fold's that refused.
fn refusals_lines(wf: &WalkForward) -> String {
    let mut out = format!(
        "refused proposals out of sample: {}\n",
        refusals_text(&wf.refusals)
    );
    for f in wf.folds.iter().filter(|f| !f.refusals.is_empty()) {
        let _ = writeln!(out, "  fold {}: {}", f.fold, refusals_text(&f.refusals));
    }
    out
}

/// Script errors of the grid's cells (every cell's blocks), or that there were none.
fn script_errors_line(wf: &WalkForward) -> String {
    if wf.script_errors.is_empty() {
        return "script errors: none in any cell\n".into();
    }
    let cells: Vec<String> = wf
        .script_errors
        .iter()
        .map(|(c, n)| format!("{c} ({n})"))
        .collect();
    format!(
        "⚠ script errors in {} of {} cells: {}\n",
        wf.script_errors.len(),
        wf.cells,
        cells.join("; ")
    )
}

/// The grid's overfitting lines, said to cover every day the walk-forward ran.
fn overfitting_lines(wf: &WalkForward) -> String {
    let mut out = format!(
        "the grid over every day the walk-forward ran ({} trading days, each cell's blocks stitched):\n",
        wf.grid_days
    );
    out.push_str(&sweep::overfitting_text(&wf.overfitting));
    out
}

/// The terminal report: one row per fold, the stitched out-of-sample statistics, the Monte
/// Carlo, the fill assumptions. Cautions are printed by the caller.
pub fn terminal(wf: &WalkForward) -> String {
    let mut out = String::new();
    let (first, last) = (
        wf.days
            .first()
            .map(|d| d.day.to_string())
            .unwrap_or_default(),
        wf.days
            .last()
            .map(|d| d.day.to_string())
            .unwrap_or_default(),
    );
    let _ = writeln!(
        out,
        "walk-forward {} ({}): {} folds, {} cells each chosen by {} on its training span (IS), then traded on the test span (OOS)",
        wf.spec.text,
        mode(&wf.spec),
        wf.folds.len(),
        wf.cells,
        wf.sort
    );
    out.push_str(&align(&fold_rows(wf)));
    out.push_str(&refusals_lines(wf));
    out.push_str(&script_errors_line(wf));
    let _ = writeln!(
        out,
        "stitched out of sample: {} trading days ({first} .. {last})",
        wf.days.len()
    );
    let lines = stats_lines(&wf.out_of_sample);
    let w = lines.iter().map(|l| l.0.len()).max().unwrap_or(0);
    for (k, v) in lines {
        let _ = writeln!(out, "  {k:<w$}  {v}");
    }
    let _ = writeln!(
        out,
        "  in sample the chosen cells made {} per day on their training spans; out of sample {} per day",
        opt(wf.in_sample_pnl_per_day, money),
        opt(wf.out_of_sample.average_pnl_per_day, money)
    );
    out.push_str(&overfitting_lines(wf));
    if let Some(mc) = &wf.monte_carlo {
        out.push_str(&monte_carlo::terminal(
            mc,
            "the stitched out-of-sample record",
        ));
    }
    let _ = writeln!(out, "fill assumptions (DESIGN §10, docs/design-rules.md):");
    for a in &wf.assumptions {
        let _ = writeln!(out, "  - {a}");
    }
    out
}

/// `walk_forward.csv`: the run identity as `# key: value` lines (when known), then one row per
/// fold, one column per swept key holding the chosen value, the chosen cell's script errors on
/// the fold and its refusals on the test span (`oos_refused` and one `oos_refused_<reason>`
/// column per reason any fold counted). Text cells go through [`csv_text`].
pub fn csv(wf: &WalkForward) -> String {
    let f = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_default();
    let mut out = wf
        .run
        .as_ref()
        .map(RunIdentity::csv_comment)
        .unwrap_or_default();
    out.push_str("fold,train_first,train_last,train_days,test_first,test_last,test_days");
    for a in &wf.axes {
        let _ = write!(out, ",{}", csv_text(a));
    }
    let mut reasons: Vec<&str> = wf
        .folds
        .iter()
        .flat_map(|f| f.refusals.keys().map(String::as_str))
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    out.push_str(",is_trades,is_net_pnl,is_sharpe,oos_trades,oos_win_rate,oos_net_pnl,oos_sharpe,oos_max_drawdown,script_errors,oos_refused");
    for r in &reasons {
        let _ = write!(out, ",{}", csv_text(&format!("oos_refused_{r}")));
    }
    out.push('\n');
    for fo in &wf.folds {
        let _ = write!(
            out,
            "{},{},{},{},{},{},{}",
            fo.fold,
            fo.train_first,
            fo.train_last,
            fo.train_days,
            fo.test_first,
            fo.test_last,
            fo.test_days
        );
        for a in &wf.axes {
            let v = fo
                .chosen
                .as_ref()
                .and_then(|c| {
                    c.iter()
                        .find_map(|s| s.split_once('=').filter(|(k, _)| k == a).map(|x| x.1))
                })
                .unwrap_or("");
            let _ = write!(out, ",{}", csv_text(v));
        }
        let is = fo.in_sample.as_ref();
        let o = &fo.out_of_sample;
        let _ = write!(
            out,
            ",{},{},{},{},{},{:.2},{},{},{},{}",
            is.map(|s| s.trades.to_string()).unwrap_or_default(),
            is.map(|s| format!("{:.2}", s.net_pnl)).unwrap_or_default(),
            f(is.and_then(|s| s.sharpe)),
            o.trades,
            f(o.win_rate),
            o.net_pnl,
            f(o.sharpe),
            f(o.max_drawdown),
            fo.script_errors,
            fo.refusals.values().sum::<u64>()
        );
        for r in &reasons {
            let _ = write!(out, ",{}", fo.refusals.get(*r).copied().unwrap_or(0));
        }
        out.push('\n');
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// SVG of the stitched out-of-sample equity by trading day, test spans shaded alternately.
fn equity_svg(wf: &WalkForward) -> String {
    use plotters::prelude::*;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1000, 380)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let n = wf.days.len().max(2) as f64;
        let (mut lo, mut hi) = wf.days.iter().fold((0.0f64, 0.0f64), |(lo, hi), d| {
            (lo.min(d.equity), hi.max(d.equity))
        });
        if hi - lo < 1.0 {
            hi += 1.0;
            lo -= 1.0;
        }
        let pad = (hi - lo) * 0.05;
        let dates: Vec<String> = wf.days.iter().map(|d| d.day.to_string()).collect();
        let built = ChartBuilder::on(&root)
            .caption(
                "stitched out-of-sample equity ($, by trading day)",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..n - 1.0, (lo - pad)..(hi + pad));
        if let Ok(mut c) = built {
            // Alternate shading marks the test spans (folds).
            let mut start = 0usize;
            for (i, d) in wf.days.iter().enumerate() {
                let end_of_fold = wf.days.get(i + 1).is_none_or(|n| n.fold != d.fold);
                if end_of_fold {
                    if d.fold % 2 == 0 {
                        let _ = c.draw_series(std::iter::once(Rectangle::new(
                            [(start as f64, lo - pad), (i as f64, hi + pad)],
                            RGBColor(240, 244, 250).filled(),
                        )));
                    }
                    start = i + 1;
                }
            }
            let _ = c
                .configure_mesh()
                .x_labels(8)
                .y_labels(8)
                .x_label_formatter(&|v| {
                    dates
                        .get(v.round().max(0.0) as usize)
                        .cloned()
                        .unwrap_or_default()
                })
                .y_label_formatter(&|v| money(*v).trim_end_matches(".00").to_string())
                .label_style(("sans-serif", 14))
                .light_line_style(RGBColor(235, 235, 235))
                .draw();
            let _ = c.draw_series(LineSeries::new(
                wf.days
                    .iter()
                    .enumerate()
                    .map(|(i, d)| (i as f64, d.equity)),
                RGBColor(21, 101, 192).stroke_width(2),
            ));
        }
        let _ = root.present();
    }
    svg
}

/// `walk_forward.html`: self-contained (inline SVG, no script).
pub fn html(wf: &WalkForward, title: &str) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vrev walk-forward — {t}</title>
<style>
body {{ font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; font-size: 15px; }}
h1 {{ font-size: 1.5rem; }} h2 {{ font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }}
.meta {{ color: #555; }} table {{ border-collapse: collapse; font-variant-numeric: tabular-nums; }}
th, td {{ padding: .25rem .6rem; text-align: right; border-bottom: 1px solid #eee; }} th {{ background: #f6f6f6; }}
td.l {{ text-align: left; }} .neg {{ color: #b00020; }}
.caution {{ background: #fff8e1; border-left: 4px solid #f9a825; padding: .5rem 1rem; }}
svg {{ max-width: 100%; height: auto; }} pre {{ white-space: pre-wrap; }} td, th {{ white-space: nowrap; }}
</style></head><body>
<h1>vrev walk-forward — {t}</h1>
<p class="meta">{spec} ({mode}) · {folds} folds · {cells} cells chosen by <b>{sort}</b> on each training span (IS), then traded on the test span that follows (OOS) · each span is a plain backtest of its days; every figure from simulated fills</p>
{errors}
"#,
        t = esc(title),
        spec = esc(&wf.spec.text),
        mode = mode(&wf.spec),
        folds = wf.folds.len(),
        cells = wf.cells,
        sort = wf.sort,
        errors = if wf.script_errors.is_empty() {
            format!(
                "<p class=\"meta\">{}</p>",
                esc(script_errors_line(wf).trim_end())
            )
        } else {
            format!(
                "<div class=\"caution\"><b>{}</b><br>Those cells' figures are not what the script would have done; a fold that chose one is marked ⚠.</div>",
                esc(script_errors_line(wf).trim_end())
            )
        },
    );
    if !wf.warnings.is_empty() {
        h.push_str("<div class=\"caution\"><b>Caution</b><ul>");
        for w in &wf.warnings {
            let _ = write!(h, "<li>{}</li>", esc(w));
        }
        h.push_str("</ul></div>");
    }
    h.push_str("<h2>Stitched out of sample</h2>");
    h.push_str(&equity_svg(wf));
    h.push_str("<table><tr>");
    let lines = stats_lines(&wf.out_of_sample);
    for (k, _) in &lines {
        let _ = write!(h, "<th>{}</th>", esc(k));
    }
    h.push_str("</tr><tr>");
    for (_, v) in &lines {
        let _ = write!(h, "<td>{}</td>", esc(v));
    }
    h.push_str("</tr></table>");
    let _ = write!(
        h,
        "<p>In sample the chosen cells made <b>{}</b> per day on their training spans; out of sample <b>{}</b> per day.</p>",
        esc(&opt(wf.in_sample_pnl_per_day, money)),
        esc(&opt(wf.out_of_sample.average_pnl_per_day, money))
    );
    let _ = write!(
        h,
        "<h2>Refused proposals</h2><pre>{}</pre><h2>Overfitting</h2><pre>{}</pre>",
        esc(&refusals_lines(wf)),
        esc(&overfitting_lines(wf))
    );
    if let Some(mc) = &wf.monte_carlo {
        let _ = write!(
            h,
            "<h2>Monte Carlo</h2><pre>{}</pre>",
            esc(&monte_carlo::terminal(
                mc,
                "the stitched out-of-sample record"
            ))
        );
    }
    h.push_str("<h2>Folds</h2><table>");
    for (i, r) in fold_rows(wf).iter().enumerate() {
        h.push_str("<tr>");
        for (c, v) in r.iter().enumerate() {
            let tag = if i == 0 { "th" } else { "td" };
            let class = if c == 3 && i > 0 {
                " class=\"l\""
            } else if i > 0 && v.starts_with("-$") {
                " class=\"neg\""
            } else {
                ""
            };
            let _ = write!(h, "<{tag}{class}>{}</{tag}>", esc(v));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table><h2>Fill assumptions and costs</h2><ul>");
    for a in &wf.assumptions {
        let _ = write!(h, "<li>{}</li>", esc(a));
    }
    h.push_str("</ul>\n");
    if let Some(run) = &wf.run {
        h.push_str(&run.html());
    }
    h.push_str("</body></html>\n");
    h
}

/// Writes walk_forward.csv, walk_forward.json and walk_forward.html into `dir`, put in place
/// together, never through a link (`market::safe_write::Batch`).
pub fn write_dir(dir: &std::path::Path, wf: &WalkForward, title: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut batch = crate::market::safe_write::Batch::new(dir);
    batch.add("walk_forward.csv", csv(wf).as_bytes())?;
    batch.add(
        "walk_forward.json",
        (serde_json::to_string_pretty(wf).map_err(std::io::Error::other)? + "\n").as_bytes(),
    )?;
    batch.add("walk_forward.html", html(wf, title).as_bytes())?;
    batch.commit().map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Issue 19: `--walk-forward train=6M,test=1M,anchored,anchored` was accepted.
    #[test]
    fn walk_forward_anchored_anchored_is_refused() {
        for bad in [
            "train=6M,test=1M,anchored,anchored",
            "train=6M,test=1M,train=3M",
            "train=6M,test=1M,step=1M,step=2M",
            "test=1M,train=6M,test=1M",
        ] {
            let e = parse_spec(bad).unwrap_err();
            assert!(e.contains("given twice"), "{bad}: {e}");
            assert!(e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn spec_cases() {
        // (text, unit, test length, train blocks, step blocks, anchored)
        let ok = [
            ("train=6M,test=1M", Unit::Months, 1, 6, 1, false),
            (
                "train=6M,test=1M,step=1M,anchored",
                Unit::Months,
                1,
                6,
                1,
                true,
            ),
            ("train=1Y,test=3M,step=6M", Unit::Months, 3, 4, 2, false),
            ("test=20D, train=60D", Unit::Days, 20, 3, 1, false),
        ];
        for (text, unit, test, train, step, anchored) in ok {
            let s = parse_spec(text).unwrap();
            assert_eq!(
                (s.unit, s.test, s.train_blocks, s.step_blocks, s.anchored),
                (unit, test, train, step, anchored),
                "{text}"
            );
        }
        for bad in [
            "",
            "train=6M",
            "test=1M",
            "train=0M,test=1M",
            "train=6M,test=4M",
            "train=6M,test=1M,step=20D",
            "train=6W,test=1M",
            "train=6M,test=1M,foo",
            "train=M,test=1M",
        ] {
            assert!(parse_spec(bad).is_err(), "{bad}");
        }
    }

    fn day_bars(days: &[(i32, u32, u32)]) -> Vec<Bar> {
        // One bar at 10:00 ET on each date.
        let clock = MarketClock::exchange();
        days.iter()
            .map(|&(y, m, d)| {
                let t = NaiveDate::from_ymd_opt(y, m, d)
                    .unwrap()
                    .and_hms_opt(10, 0, 0)
                    .unwrap();
                Bar {
                    close_time: clock.local_to_utc(t, None).unwrap(),
                    open: 1.0,
                    high: 1.0,
                    low: 1.0,
                    close: 1.0,
                    volume: 1.0,
                }
            })
            .collect()
    }

    #[test]
    fn blocks_are_whole_days_and_calendar_months() {
        // Jan 29 (Fri), Feb 1, Feb 26, Apr 1 (no March bars), Apr 2.
        let bars = day_bars(&[
            (2021, 1, 29),
            (2021, 2, 1),
            (2021, 2, 26),
            (2021, 4, 1),
            (2021, 4, 2),
        ]);
        let months = blocks(&bars, &parse_spec("train=1M,test=1M").unwrap());
        let got: Vec<(String, String, usize, Range<usize>)> = months
            .iter()
            .map(|b| {
                (
                    b.first_day.to_string(),
                    b.last_day.to_string(),
                    b.days,
                    b.bars.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("2021-01-29".into(), "2021-01-29".into(), 1, 0..1),
                ("2021-02-01".into(), "2021-02-26".into(), 2, 1..3),
                ("2021-04-01".into(), "2021-04-02".into(), 2, 3..5),
            ]
        );
        let two_days = blocks(&bars, &parse_spec("train=2D,test=2D").unwrap());
        assert_eq!(
            two_days.iter().map(|b| b.bars.clone()).collect::<Vec<_>>(),
            [0..2, 2..4, 4..5]
        );
        assert!(blocks(&[], &parse_spec("train=2D,test=2D").unwrap()).is_empty());
    }

    #[test]
    fn plan_cases() {
        let spec = |s: &str| parse_spec(s).unwrap();
        let p = plan(5, &spec("train=2D,test=1D"));
        assert_eq!(
            p,
            [
                FoldPlan {
                    train: 0..2,
                    test: 2
                },
                FoldPlan {
                    train: 1..3,
                    test: 3
                },
                FoldPlan {
                    train: 2..4,
                    test: 4
                }
            ]
        );
        let p = plan(6, &spec("train=2D,test=1D,step=2D,anchored"));
        assert_eq!(
            p,
            [
                FoldPlan {
                    train: 0..2,
                    test: 2
                },
                FoldPlan {
                    train: 0..4,
                    test: 4
                }
            ]
        );
        assert!(plan(2, &spec("train=2D,test=1D")).is_empty());
    }

    proptest! {
        /// Every fold trains only on blocks before its test block, and blocks are disjoint,
        /// ordered, whole-day slices covering every bar once.
        #[test]
        fn folds_train_strictly_before_they_test(n_days in 1usize..80, test in 1usize..5, train_mult in 1usize..4, step_mult in 1usize..3, anchored: bool) {
            let start = NaiveDate::from_ymd_opt(2021, 1, 4).unwrap();
            let dates: Vec<(i32, u32, u32)> = (0..n_days as u64 * 7 / 5 + 2)
                .map(|k| start + chrono::Days::new(k))
                .filter(|d| d.weekday().num_days_from_monday() < 5)
                .take(n_days)
                .map(|d| (d.year(), d.month(), d.day()))
                .collect();
            let bars = day_bars(&dates);
            let text = format!("train={}D,test={test}D,step={}D{}", train_mult * test, step_mult * test, if anchored { ",anchored" } else { "" });
            let spec = parse_spec(&text).unwrap();
            let bl = blocks(&bars, &spec);
            let covered: usize = bl.iter().map(|b| b.bars.len()).sum();
            prop_assert_eq!(covered, bars.len());
            for w in bl.windows(2) {
                prop_assert_eq!(w[0].bars.end, w[1].bars.start);
                prop_assert!(w[0].last_day < w[1].first_day);
            }
            for f in plan(bl.len(), &spec) {
                prop_assert!(f.train.end == f.test && !f.train.is_empty());
                let last_train_bar = bl[f.train.end - 1].bars.end;
                prop_assert!(last_train_bar <= bl[f.test].bars.start);
                prop_assert!(bl[f.train.end - 1].last_day < bl[f.test].first_day);
            }
        }
    }
}
