//! What each command does. `main.rs` parses arguments ([`crate::cli::args`]) and calls [`run`].

use crate::cli::args::{
    BacktestArgs, BarFileArgs, CheckArgs, Cli, Command, ReplayArgs, SynthArgs, TestArgs,
};
use crate::cli::inputs::{keep_trading_days, load_bars, load_config, only_side, reload_gate};
use crate::config::Config;
use crate::host::engine::{Engine, EngineOptions, Outputs};
use crate::market::barfile::BarFile;
use crate::market::safe_write::write_file;
use anyhow::{anyhow, bail, Context as _, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Runs a parsed command line; the error's text is what the user sees.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Replay(a) => replay(a),
        Command::Run(a) => crate::cli::live::run_command(a),
        Command::Serve(a) => crate::cli::live::serve_command(a),
        Command::Record(a) => crate::cli::live::record_command(a),
        Command::Demo(a) => crate::cli::demo::run(a),
        Command::Backtest(a) => backtest(a),
        Command::Check(a) => check(a),
        Command::Explain(a) => crate::cli::explain::run(&a),
        Command::Synth(a) => synth(a),
        Command::Init(a) => crate::cli::init::run(&a),
        Command::Nt8(a) => match a.command {
            crate::cli::args::Nt8Command::Install(a) => crate::cli::nt8_install::run(&a),
        },
        Command::Doctor(a) => crate::cli::doctor::run(&a),
        Command::Halt(a) => crate::cli::desk::switch::halt(a),
        Command::Resume(a) => crate::cli::desk::switch::resume(a),
        Command::Reconcile(a) => crate::cli::desk::reconcile::run(a),
        Command::Test(TestArgs {
            paths,
            config,
            explain: Some(at),
            ..
        }) => match &paths[..] {
            [file] if file.is_file() => crate::cli::explain::run_scenario(file, &config, &at),
            _ => anyhow::bail!(
                "--explain {at:?}: give one scenario FILE (vrev test tests/scenarios/x.toml --explain \"{at}\")"
            ),
        },
        Command::Test(a) => crate::scenario::run_command(crate::scenario::RunOptions {
            paths: a.paths,
            filter: a.filter,
            config: a.config,
            allow_script_errors: a.allow_script_errors,
        }),
    }
}

fn replay(a: ReplayArgs) -> Result<()> {
    let cfg = load_config(&a.engine)?;
    let opts = EngineOptions {
        forced_profile: a.engine.profile.clone(),
        only_side: only_side(&a.engine),
        outputs: Outputs::Files,
        signals_dir: a.signals.clone(),
        journal: crate::cli::inputs::journal_override(&a.journal, &a.state.state),
        state_dir: a.state.state.clone(),
        fresh_ledger: a.state.fresh,
        mode: "replay".into(),
        ..EngineOptions::default()
    };
    // Config and scripts first: a typo is reported before a large bar file is read.
    let mut engine = Engine::new(&cfg, opts).map_err(|e| anyhow!("{e}"))?;
    let file = load_bars(&a.files, &a.bars, cfg.engine.bar_seconds)?;
    crate::cli::run_summary::print_recovery(&engine, a.state.fresh);
    let mut interrupted = None;
    match a.pace {
        None => {
            for bar in &file.bars {
                engine.on_bar(bar);
            }
        }
        Some(pace) => {
            if !(pace > 0.0 && pace.is_finite()) {
                bail!("--pace {pace}: must be a positive number (times real time)");
            }
            let mut reloader = crate::host::reload::Reloader::watch(
                &a.engine.config,
                &cfg,
                a.engine.sets.clone(),
                reload_gate(&a.engine.config, &cfg),
            )?;
            crate::errln!("practice: {} bars at {pace}x real time; saved edits to the scripts and {} take effect at the next bar; Ctrl+C stops with the summary", file.bars.len(), a.engine.config.display());
            let ctrl_c = crate::cli::interrupt::CtrlC::install();
            let mut report = crate::cli::pace_report::PaceReport::new(file.bars.len());
            let interval = std::time::Duration::from_secs_f64(cfg.engine.bar_seconds as f64 / pace);
            let start = std::time::Instant::now();
            for (n, bar) in file.bars.iter().enumerate() {
                // Between two bars: take any saved edit, then wait for this bar's moment.
                reloader.apply(&mut engine);
                if let Some(wait) = (start + interval.mul_f64(n as f64))
                    .checked_duration_since(std::time::Instant::now())
                {
                    match &ctrl_c {
                        Some(c) => c.sleep(wait),
                        None => std::thread::sleep(wait),
                    }
                }
                if ctrl_c.as_ref().is_some_and(|c| c.raised()) {
                    interrupted = Some(crate::cli::interrupt::Interrupted {
                        done: n,
                        total: file.bars.len(),
                        unit: "bars",
                        note: String::new(),
                    });
                    break;
                }
                reloader.apply(&mut engine);
                let before = engine.signals.len();
                engine.on_bar(bar);
                let lines = report.after_bar(&engine, before, n + 1);
                if !lines.is_empty() {
                    crate::errln!("{}", lines.trim_end());
                }
            }
        }
    }
    engine.finish(false);
    print_summary(&engine, &file, &cfg, &a);
    let scripts = engine.script_failures.end_of_run(a.allow_script_errors);
    match interrupted {
        None => {
            crate::cli::run_summary::faults(&engine)?;
            scripts
        }
        Some(stop) => {
            if let Err(e) = crate::cli::run_summary::faults(&engine) {
                crate::errln!("error: {e:#}");
            }
            Err(stop.into())
        }
    }
}

/// Each bar file with its hash and its own bars (`all`: the bars of every file, merged).
fn run_data_files(
    files: &[PathBuf],
    all: &[crate::market::bar::Bar],
    args: &BarFileArgs,
    bar_seconds: i64,
) -> Result<Vec<crate::backtest::identity::DataFile>> {
    use crate::backtest::identity::DataFile;
    files
        .iter()
        .map(|f| {
            // One file: its bars are `all`; several: read each alone for its own counts.
            let own;
            let bars = if files.len() == 1 {
                all
            } else {
                own = load_bars(std::slice::from_ref(f), args, bar_seconds)?.bars;
                &own[..]
            };
            DataFile::read(f, bars).with_context(|| format!("{}: cannot read", f.display()))
        })
        .collect()
}

/// Prints each caution as `caution: ...` (on stderr when stdout carries JSON).
fn print_cautions(warnings: &[String], json: bool) {
    for w in warnings {
        if json {
            crate::errln!("caution: {w}");
        } else {
            crate::outln!("caution: {w}");
        }
    }
}

/// `--sweep` keys and values checked before any bar is read (issue 22): each value on its own
/// must be a valid `--set`, and each axis' key must give an engine (a script parameter the
/// script does not declare, a typo in a key, is refused here, not after the data is read).
fn check_axes(
    cfg: &Config,
    opts: &EngineOptions,
    axes: &[crate::backtest::sweep::Axis],
    texts: &[String],
) -> Result<()> {
    for (axis, text) in axes.iter().zip(texts) {
        for (n, v) in axis.values.iter().enumerate() {
            let mut c = cfg.clone();
            c.apply_overrides(&[format!("{}={v}", axis.key)])
                .map_err(|e| anyhow!("--sweep {text}: {e}"))?;
            if n == 0 {
                Engine::new(&c, opts.clone()).map_err(|e| anyhow!("--sweep {text}: {e}"))?;
            }
        }
    }
    Ok(())
}

/// The run identity of this `vrev backtest` command line (issue 19/22: a plain backtest, a
/// sweep and a walk-forward all carry it).
fn run_identity(
    a: &BacktestArgs,
    cfg: &Config,
    lineup: &[crate::backtest::WindowLineup],
    data: &[crate::backtest::identity::DataFile],
    bars_used: crate::backtest::identity::BarSpan,
) -> Result<crate::backtest::identity::RunIdentity> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let share =
        |p: &std::path::Path| crate::backtest::identity::shareable_path(p, &cfg.base_dir, &cwd);
    Ok(crate::backtest::identity::RunIdentity {
        vrev_version: env!("CARGO_PKG_VERSION").into(),
        command: crate::backtest::identity::shareable_command(
            &std::env::args().skip(1).collect::<Vec<_>>(),
            &cfg.base_dir,
            &cwd,
        ),
        config: {
            let mut c = crate::backtest::identity::HashedFile::read(&a.engine.config)
                .with_context(|| format!("{}: cannot read", a.engine.config.display()))?
                .0;
            c.path = share(&a.engine.config);
            c
        },
        sets: a.engine.sets.clone(),
        profile: a.engine.profile.clone(),
        only_side: only_side(&a.engine).map(|s| s.as_str().to_string()),
        from: a.bars.from,
        to: a.bars.to,
        windows: crate::backtest::identity::windows(cfg, lineup)
            .into_iter()
            .map(|mut w| {
                // A script path written absolute in the config is shown as the others are.
                if let Some(serde_json::Value::String(s)) = w.settings.get_mut("strategy") {
                    if Path::new(s.as_str()).is_absolute() {
                        *s = share(Path::new(s.as_str()));
                    }
                }
                w
            })
            .collect(),
        data: data
            .iter()
            .cloned()
            .map(|mut d| {
                d.path = share(Path::new(&d.path));
                d
            })
            .collect(),
        bars_used,
    })
}

/// The error of a run Ctrl+C stopped: `done` of `total` `unit`, no report written.
fn interrupted(done: usize, total: usize, unit: &'static str) -> anyhow::Error {
    crate::cli::interrupt::Interrupted {
        done,
        total,
        unit,
        note: "; no report written".into(),
    }
    .into()
}

/// A report write that failed because Ctrl+C came during it is the interruption, not an I/O
/// fault (no file of the folder was put in place: `safe_write::Batch`).
fn write_failed(e: anyhow::Error, done: usize, total: usize, unit: &'static str) -> anyhow::Error {
    if crate::market::stop::raised() {
        interrupted(done, total, unit)
    } else {
        e
    }
}

fn backtest(a: BacktestArgs) -> Result<()> {
    use crate::backtest::{report, run_until_stopped, sweep};
    use std::io::IsTerminal;
    let cfg = load_config(&a.engine)?;
    let opts = EngineOptions {
        forced_profile: a.engine.profile.clone(),
        only_side: only_side(&a.engine),
        mode: "backtest".into(),
        ..EngineOptions::default()
    };
    // Config and scripts first: a typo is reported before a large bar file is read.
    let lineup: Vec<crate::backtest::WindowLineup> = Engine::new(&cfg, opts.clone())
        .map_err(|e| anyhow!("{e}"))?
        .window_profiles()
        .into_iter()
        .map(
            |(window, profile, strategy)| crate::backtest::WindowLineup {
                window,
                profile,
                strategy,
            },
        )
        .collect();
    let axes = a
        .sweeps
        .iter()
        .map(|s| sweep::parse_axis(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!(e))?;
    check_axes(&cfg, &opts, &axes, &a.sweeps)?;
    let wf_spec = a
        .walk_forward
        .as_deref()
        .map(crate::backtest::walk_forward::parse_spec)
        .transpose()
        .map_err(|e| anyhow!(e))?;
    // Sizes before work: a Monte Carlo over its bound is refused before any bar is read.
    if let Some(n) = a.monte_carlo {
        crate::backtest::monte_carlo::check_size(u64::from(n), a.max_resamples)
            .map_err(|e| anyhow!(e))?;
    }
    // Every bar of the files first (the run identity describes them), then the requested days.
    let every_day = BarFileArgs {
        from: None,
        to: None,
        ..a.bars.clone()
    };
    let mut file = load_bars(&a.files, &every_day, cfg.engine.bar_seconds)?;
    if let Some(note) = file.rows_note() {
        // stderr: stdout is the summary (or one JSON object).
        crate::errln!("{note}");
    }
    let data = run_data_files(&a.files, &file.bars, &every_day, cfg.engine.bar_seconds)?;
    keep_trading_days(&mut file.bars, a.bars.from, a.bars.to);
    let bars = &file.bars;
    let threads = a.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    if !axes.is_empty() {
        // The grid's size before it is built (its cells would take the memory).
        let clock = crate::market::time::MarketClock::exchange();
        let mut days: Vec<chrono::NaiveDate> = bars
            .iter()
            .map(|b| clock.stamp(b.close_time).trading_day)
            .collect();
        days.dedup();
        sweep::check_size(&axes, bars.len(), days.len(), threads, a.max_cells)
            .map_err(|e| anyhow!(e))?;
    }
    // From here Ctrl+C stops the run at its next step, prints what was done and writes no report.
    let _ctrl_c = crate::cli::interrupt::CtrlC::install();
    let progress = |len: u64| {
        let pb = if std::io::stderr().is_terminal() {
            indicatif::ProgressBar::new(len)
        } else {
            indicatif::ProgressBar::hidden()
        };
        pb.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb
    };
    // Reports are shared: paths relative to the config's folder, or file names (issue 24).
    let cwd = std::env::current_dir().unwrap_or_default();
    let share =
        |p: &std::path::Path| crate::backtest::identity::shareable_path(p, &cfg.base_dir, &cwd);
    let title = a
        .files
        .iter()
        .map(|f| share(f))
        .collect::<Vec<_>>()
        .join(" + ");

    let monte_carlo = a.monte_carlo.map(|n| (n as usize, a.seed));
    if !axes.is_empty() {
        let grid = sweep::cells(&axes);
        if let Some(spec) = &wf_spec {
            use crate::backtest::walk_forward;
            let setup = walk_forward::Setup {
                base: &cfg,
                opts: &opts,
                axes: &axes,
                grid: &grid,
                sort: a.sort,
                threads,
                monte_carlo,
            };
            let total = grid.len()
                * walk_forward::blocks(&crate::market::plausibility::accepted_offline(bars), spec)
                    .len();
            let unit = "walk-forward runs (cell x block)";
            let pb = progress(total as u64);
            pb.set_message("walk-forward runs (cell x block)");
            let done = std::sync::atomic::AtomicUsize::new(0);
            let wf = walk_forward::walk_forward(&setup, spec, bars, &|| {
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                pb.inc(1)
            });
            pb.finish_and_clear();
            let done = done.into_inner();
            if crate::market::stop::raised() {
                return Err(interrupted(done, total, unit));
            }
            let mut wf = wf.map_err(|e| anyhow!(e))?;
            wf.run = Some(run_identity(
                &a,
                &cfg,
                &lineup,
                &data,
                wf.bars_used.clone(),
            )?);
            if a.json {
                crate::outln!("{}", serde_json::to_string(&wf)?);
            } else {
                crate::out!("{}", walk_forward::terminal(&wf));
            }
            print_cautions(&wf.warnings, a.json);
            if let Some(dir) = &a.report {
                walk_forward::write_dir(dir, &wf, &title)
                    .with_context(|| {
                        format!("{}: cannot write the walk-forward report", dir.display())
                    })
                    .map_err(|e| write_failed(e, done, total, unit))?;
                if !a.json {
                    crate::outln!("report: {}", dir.join("walk_forward.html").display());
                }
            }
            return crate::strategy::script_failures::end_of_sweep(
                &wf.script_errors,
                a.allow_script_errors,
            );
        }
        let pb = progress(grid.len() as u64);
        pb.set_message("sweep cells");
        let cells = sweep::run_grid(&cfg, &opts, bars, &grid, threads, &|| pb.inc(1));
        pb.finish_and_clear();
        let unit = "sweep cells";
        if crate::market::stop::raised() {
            // What completed, as far as it goes: no overfitting figures for a partial grid.
            if !cells.is_empty() && !a.json {
                crate::outln!(
                    "sweep interrupted: {} of {} cells completed (sorted by {}, best first; a partial grid has no overfitting figures):",
                    cells.len(),
                    grid.len(),
                    a.sort.name()
                );
                crate::out!("{}", sweep::table(&axes, &cells, a.sort));
            }
            return Err(interrupted(cells.len(), grid.len(), unit));
        }
        // The bars the engine accepted (the same for every cell; a refused bar is not in it).
        let bars_used = cells
            .iter()
            .find_map(|c| c.bars_used.clone())
            .unwrap_or_else(|| crate::backtest::identity::BarSpan::of(bars));
        let identity = run_identity(&a, &cfg, &lineup, &data, bars_used)?;
        let overfitting = sweep::overfitting(&cells, a.sort);
        let best = overfitting.best.map(|b| &cells[b]);
        let mc = monte_carlo.zip(best).and_then(|((n, seed), b)| {
            crate::backtest::monte_carlo::simulate(&b.trade_pnls, n, seed)
        });
        if crate::market::stop::raised() {
            return Err(interrupted(cells.len(), grid.len(), unit));
        }
        let mut warnings = overfitting.warnings.clone();
        if let (Some(_), Some(b)) = (monte_carlo, best) {
            warnings.extend(crate::backtest::sample_size::for_monte_carlo(
                b.trade_pnls.len(),
            ));
        }
        if let Some(dir) = &a.report {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("{}: cannot create", dir.display()))?;
            let mut batch = crate::market::safe_write::Batch::new(dir);
            batch
                .add(
                    "sweep.csv",
                    sweep::csv(&axes, &cells, Some(&identity)).as_bytes(),
                )
                .and_then(|()| {
                    batch.add(
                        "sweep.html",
                        sweep::html(&axes, &cells, a.sort, &overfitting, &title, Some(&identity))
                            .as_bytes(),
                    )
                })
                .and_then(|()| batch.commit())
                .with_context(|| {
                    format!("{}: cannot write sweep.csv and sweep.html", dir.display())
                })
                .map_err(|e| write_failed(e, cells.len(), grid.len(), unit))?;
        }
        if a.json {
            let rows: Vec<serde_json::Value> = cells
                .iter()
                .map(|c| match &c.result {
                    Ok(s) => {
                        serde_json::json!({ "set": c.sets, "summary": s, "refusals": c.refusals })
                    }
                    Err(e) => serde_json::json!({ "set": c.sets, "error": e }),
                })
                .collect();
            crate::outln!(
                "{}",
                serde_json::json!({ "run": identity, "bars": bars.len(), "cells": rows, "overfitting": overfitting, "monte_carlo": mc })
            );
        } else {
            crate::outln!(
                "sweep: {} cells over {} bars, sorted by {} (best first)",
                cells.len(),
                bars.len(),
                a.sort.name()
            );
            crate::out!("{}", sweep::table(&axes, &cells, a.sort));
            crate::out!("{}", sweep::overfitting_text(&overfitting));
            if let (Some(mc), Some(b)) = (&mc, best) {
                let of = format!("the best cell ({})", b.label());
                crate::out!("{}", crate::backtest::monte_carlo::terminal(mc, &of));
            }
            if let Some(Ok(s)) = cells.first().map(|c| &c.result) {
                crate::outln!("fill assumptions (DESIGN §10, docs/design-rules.md):");
                for line in &s.assumptions {
                    crate::outln!("  - {line}");
                }
            }
        }
        print_cautions(&warnings, a.json);
        if let (Some(dir), false) = (&a.report, a.json) {
            crate::outln!("report: {}", dir.join("sweep.html").display());
        }
        let failed = cells.iter().filter(|c| c.result.is_err()).count();
        if failed > 0 {
            bail!("{failed} sweep cell(s) could not run (see the table)");
        }
        let with_errors: Vec<(String, u64)> = cells
            .iter()
            .filter_map(|c| match &c.result {
                Ok(s) if s.script_errors > 0 => Some((c.label(), s.script_errors)),
                _ => None,
            })
            .collect();
        return crate::strategy::script_failures::end_of_sweep(&with_errors, a.allow_script_errors);
    }

    let pb = progress(bars.len() as u64);
    pb.set_message("bars");
    let done = std::cell::Cell::new(0usize);
    let bt = run_until_stopped(&cfg, opts, bars, |n| {
        done.set(n);
        pb.set_position(n as u64)
    })
    .map_err(|e| anyhow!("{e}"))?;
    pb.finish_and_clear();
    let Some(bt) = bt else {
        return Err(interrupted(done.get(), bars.len(), "bars"));
    };
    let mut summary = bt.summary();
    summary.run = Some(run_identity(
        &a,
        &cfg,
        &bt.lineup,
        &data,
        bt.bars_used.clone(),
    )?);
    let pnls: Vec<f64> = bt.trades.iter().map(|t| t.pnl.unwrap_or(0.0)).collect();
    let mc =
        monte_carlo.and_then(|(n, seed)| crate::backtest::monte_carlo::simulate(&pnls, n, seed));
    if crate::market::stop::raised() {
        return Err(crate::cli::interrupt::Interrupted {
            done: bars.len(),
            total: bars.len(),
            unit: "bars",
            note: ", during the Monte Carlo; no report written".into(),
        }
        .into());
    }
    if monte_carlo.is_some() {
        summary
            .warnings
            .extend(crate::backtest::sample_size::for_monte_carlo(pnls.len()));
    }
    if a.json {
        let mut v = serde_json::to_value(&summary)?;
        if let (Some(mc), Some(o)) = (&mc, v.as_object_mut()) {
            o.insert("monte_carlo".into(), serde_json::to_value(mc)?);
        }
        crate::outln!("{v}");
        // stdout stays one JSON object; the cautions are in it and on stderr.
        print_cautions(&summary.warnings, true);
    } else {
        // The terminal summary ends with its cautions.
        crate::out!("{}", report::terminal(&summary));
        crate::outln!("{}", bt.refusals_line());
        if let Some(mc) = &mc {
            crate::out!(
                "{}",
                crate::backtest::monte_carlo::terminal(mc, "the backtest")
            );
        }
    }
    if let Some(dir) = &a.report {
        report::write_dir(dir, &bt, bars, &summary, &title)
            .with_context(|| format!("{}: cannot write the report", dir.display()))
            .map_err(|e| write_failed(e, bars.len(), bars.len(), "bars"))?;
        if let Some(mc) = &mc {
            write_file(
                dir,
                "monte_carlo.json",
                (serde_json::to_string_pretty(mc)? + "\n").as_bytes(),
                false,
            )
            .with_context(|| format!("{}: cannot write monte_carlo.json", dir.display()))?;
        }
        if !a.json {
            crate::outln!("report: {}", dir.join("report.html").display());
        }
    }
    bt.script_failures.end_of_run(a.allow_script_errors)
}

fn print_summary(engine: &Engine, file: &BarFile, cfg: &Config, a: &ReplayArgs) {
    let s = &engine.stats;
    // The accepted bars' span: a refused bar (e.g. one in the future) is not part of it.
    match (s.first_bar, engine.last_trading_day()) {
        (Some((_, f)), Some(l)) => crate::outln!(
            "bars: {} over {} trading days ({f} .. {l})",
            s.bars,
            s.trading_days
        ),
        _ => crate::outln!("bars: 0"),
    }
    if let Some(note) = file.rows_note() {
        crate::outln!("{note}");
    }
    if s.bars_skipped > 0 {
        crate::outln!("{}", crate::cli::run_summary::refused_bars(engine));
    }
    let mut by_window: BTreeMap<&str, usize> = BTreeMap::new();
    for sig in &engine.signals {
        *by_window.entry(sig.window.as_str()).or_default() += 1;
    }
    let windows: Vec<String> = engine
        .window_profiles()
        .iter()
        .map(|(w, p, _)| {
            format!(
                "{w} {} ({p})",
                by_window.get(w.as_str()).copied().unwrap_or(0)
            )
        })
        .collect();
    let dir = a
        .signals
        .clone()
        .unwrap_or_else(|| cfg.resolve(&cfg.engine.signals_dir));
    crate::outln!(
        "signals: {} written to {} — by window: {}",
        s.signals,
        dir.display(),
        windows.join(", ")
    );
    crate::outln!("{}", crate::cli::run_summary::refusals(engine));
    crate::outln!("{}", crate::cli::run_summary::ledger(engine));
    if s.script_errors > 0 {
        crate::outln!(
            "script errors: {} (each in the journal; the bars got no signal)",
            s.script_errors
        );
    }
    let journal = crate::cli::inputs::journal_override(&a.journal, &a.state.state)
        .unwrap_or_else(|| cfg.resolve(&cfg.engine.journal));
    crate::outln!("journal: {}", journal.display());
}

fn check(a: CheckArgs) -> Result<()> {
    crate::cli::check::run(&a)
}

fn synth(a: SynthArgs) -> Result<()> {
    let bars = crate::market::synth::generate(&crate::market::synth::SynthOptions {
        seed: a.seed,
        start: a.start,
        days: a.days,
        ..Default::default()
    });
    if let Some(parent) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("{}: cannot create folder", parent.display()))?;
    }
    let mut text = Vec::new();
    crate::market::synth::write_ninjatrader(&bars, &mut text)
        .and_then(|_| crate::market::safe_write::write_path(&a.out, &text).map(|_| ()))
        .with_context(|| format!("{}: cannot write", a.out.display()))?;
    crate::outln!(
        "wrote {} bars ({} trading days from {}) to {}",
        bars.len(),
        a.days,
        a.start,
        a.out.display()
    );
    Ok(())
}
