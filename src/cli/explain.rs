//! `vrev explain BARS_FILE --at "2025-02-13 13:59"`: why a pattern did or did not fire at one
//! bar. The file is replayed in memory through the same engine as every other mode, up to and
//! including that bar; then it prints the window and profile in force, whether the script was
//! called, each candidate origin of each scan and the step it failed (by how much), the script's
//! own `trace(...)` lines, every proposal with every host rule's verdict in order, and — the
//! replay continuing to the end of the file — the shadow trade of a signal made at that bar
//! (for a refused proposal: the trade it would have been, on the same fills).

use crate::cli::args::ExplainArgs;
use crate::cli::inputs::{load_bars, load_config, only_side};
use crate::config::Config;
use crate::host::book::{Book, FillModel, Pending, Trade};
use crate::host::engine::{Engine, EngineOptions};
use crate::host::journal::Event;
use crate::host::rules::Considered;
use crate::market::bar::{Bar, BarSeries};
use crate::market::price::Side;
use crate::market::time::{format_utc, MarketClock};
use crate::strategy::call_path::{CallPath, Ending};
use crate::strategy::scan::{Candidate, Level, Outcome, Scan, Step};
use crate::strategy::script::{merge_params, ScriptHost, ScriptLimits};
use crate::strategy::trace::{start_capture, take_capture, TraceLine};
use anyhow::{anyhow, Result};
use chrono::NaiveDateTime;
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

/// The close time (UTC seconds) of `--at`: an ET wall time `YYYY-MM-DD HH:MM[:SS]`.
pub fn parse_at(text: &str, clock: &MarketClock) -> Result<i64> {
    let t = text.trim().replace('T', " ");
    let naive = NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M"))
        .map_err(|_| {
            anyhow!("--at {text:?}: expected the bar's close in ET as \"YYYY-MM-DD HH:MM\", e.g. \"2025-02-13 13:59\"")
        })?;
    clock
        .local_to_utc(naive, None)
        .map_err(|e| anyhow!("--at {text:?}: {e}"))
}

/// `YYYY-MM-DD HH:MM` ET of a UTC instant, with `:SS` when its seconds are not 0 (so that
/// `--at "… 09:45:30"` is not reported as "no bar at 09:45 … nearest 09:45").
fn et_minute(clock: &MarketClock, utc: i64) -> String {
    let s = clock.stamp(utc).format();
    let whole_minute = utc.rem_euclid(60) == 0;
    let len = if whole_minute { 16 } else { 19 };
    s.get(..len).unwrap_or(&s).to_string()
}

/// The error for an `--at` with no bar: which bars are nearest.
fn no_bar_at(bars: &[Bar], at: i64, clock: &MarketClock, at_text: &str) -> anyhow::Error {
    let after = bars.partition_point(|b| b.close_time < at);
    let mut near = Vec::new();
    if after > 0 {
        near.push(format!(
            "{} ET (before)",
            et_minute(clock, bars[after - 1].close_time)
        ));
    }
    if after < bars.len() {
        near.push(format!(
            "{} ET (after)",
            et_minute(clock, bars[after].close_time)
        ));
    }
    if near.is_empty() {
        return anyhow!("--at {at_text}: the file has no bars");
    }
    let seconds = if at.rem_euclid(60) != 0 {
        "; bars close on whole minutes: give --at as HH:MM"
    } else {
        ""
    };
    anyhow!(
        "no bar closes at {} ET in the file; the nearest bar(s) close at {} (bar times are close times, as in the journal's bar_time_et){seconds}",
        et_minute(clock, at),
        near.join(" and ")
    )
}

/// The `if`s one call of `on_bar` evaluated, with their results and compared values, and what
/// ended it (`docs/explain.md`).
fn print_path(file: &str, lines: &[&str], path: &CallPath, n: usize, of: usize) {
    let text = |line: usize| {
        let t = lines.get(line.wrapping_sub(1)).map_or("", |l| l.trim());
        let mut t: String = t.chars().take(90).collect();
        if t.len()
            < lines
                .get(line.wrapping_sub(1))
                .map_or(0, |l| l.trim().len())
        {
            t.push('…');
        }
        t
    };
    crate::outln!(
        "path of on_bar{} ({file}):",
        if of > 1 {
            format!(" call {} of {of}", n + 1)
        } else {
            String::new()
        }
    );
    for c in &path.conditions {
        let compared = if c.compared.is_empty() {
            String::new()
        } else {
            format!("  ({})", c.compared.join(", "))
        };
        crate::outln!(
            "  {file}:{}:{}  {}  → {}{compared}",
            c.line,
            c.column,
            text(c.line),
            c.value
        );
    }
    if path.conditions_dropped > 0 {
        crate::outln!(
            "  … {} more `if`s evaluated (not shown)",
            path.conditions_dropped
        );
    }
    match path.ending {
        Ending::Return { line, column } => crate::outln!(
            "  ended by the `return` at {file}:{line}:{column}: {}",
            text(line)
        ),
        Ending::End { last_line } => crate::outln!(
            "  ended at the end of on_bar{}",
            last_line
                .map(|l| format!(" (its last statement run: {file}:{l}: {})", text(l)))
                .unwrap_or_default()
        ),
    }
}

/// The scans a profile's script declares, built with the profile's params (empty for a script
/// without `fn scan(p)` or a native strategy).
fn scans_of(cfg: &Config, profile: &str) -> Result<Vec<Scan>> {
    let prof = &cfg.profile[profile];
    if prof.strategy.starts_with("builtin:") {
        return Ok(Vec::new());
    }
    let path = cfg.resolve(Path::new(&prof.strategy));
    let series = Rc::new(RefCell::new(BarSeries::with_capacity(8)));
    let host = ScriptHost::new(series, ScriptLimits::default());
    let compiled = host.compile_file(&path).map_err(|e| anyhow!("{e}"))?;
    if !compiled.has_scan {
        return Ok(Vec::new());
    }
    let params = merge_params(&compiled, &prof.params).map_err(|m| anyhow!("{m}"))?;
    let engine = crate::strategy::script_calls::helper_engine();
    let v: rhai::Dynamic = engine
        .call_fn(
            &mut rhai::Scope::new(),
            &compiled.ast,
            "scan",
            (rhai::Dynamic::from_map(params),),
        )
        .map_err(|e| anyhow!("{}: scan(p): {e}", path.display()))?;
    let items = if v.is_array() {
        v.cast::<rhai::Array>()
    } else {
        vec![v]
    };
    Ok(items
        .into_iter()
        .filter_map(|i| i.try_cast::<Scan>())
        .collect())
}

/// `13:12`, or `02-12 15:40` when the bar is on another ET day than `t`.
fn bar_time(s: &BarSeries, clock: &MarketClock, i: usize, t: usize) -> String {
    let a = clock.stamp(s.close_time(i));
    let b = clock.stamp(s.close_time(t));
    let hm = format!("{:02}:{:02}", a.minute_of_day / 60, a.minute_of_day % 60);
    if a.date == b.date {
        hm
    } else {
        format!("{} {hm}", a.date.format("%m-%d"))
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::High => "high",
        Level::Low => "low",
        Level::Close => "close",
    }
}

/// One candidate in words: `origin 13:12 high 6105.25: drop 3.50 < 4.00 needed (L 13:20, low
/// 6101.75)`.
fn describe_candidate(
    scan: &Scan,
    c: &Candidate,
    s: &BarSeries,
    clock: &MarketClock,
    t: usize,
) -> String {
    let at = |i: usize| bar_time(s, clock, i, t);
    let head = format!(
        "origin {} {} {}",
        at(c.origin),
        level_name(scan.level),
        c.level
    );
    let name = |m: usize| scan.marks.get(m).cloned().unwrap_or_default();
    let step = c
        .failed_step
        .map(|k| format!(" [step {}: {}]", k + 1, scan.describe_step(k)))
        .unwrap_or_default();
    let why = match &c.outcome {
        Outcome::Passed => {
            let found: Vec<String> = c
                .marks
                .iter()
                .enumerate()
                .skip(1)
                .map(|(m, &i)| format!("{} {}", name(m), at(i)))
                .collect();
            format!("passes every step ({})", found.join(", "))
        }
        Outcome::NoBar {
            mark,
            from,
            to,
            closest,
        } => {
            if from > to {
                format!(
                    "no bar for {}: its range starts after this bar",
                    name(*mark)
                )
            } else {
                let (f, l) = (
                    (*from).max(s.first_available() as i64) as usize,
                    (*to).max(0) as usize,
                );
                let above = matches!(
                    c.failed_step.map(|k| &scan.steps[k]),
                    Some(Step::Mark {
                        find: crate::strategy::scan::Find::HighAboveLevel,
                        ..
                    })
                );
                let miss = match closest {
                    Some(h) if above => {
                        format!(" (highest high there {h}, {:.2} short of it)", c.level - h)
                    }
                    Some(lo) => {
                        format!(" (lowest low there {lo}, {:.2} short of it)", lo - c.level)
                    }
                    None => String::new(),
                };
                format!(
                    "no bar found for {} in {} .. {}{miss}",
                    name(*mark),
                    at(f),
                    at(l)
                )
            }
        }
        Outcome::TooSmall { mark, got, need } => {
            let i = c.marks[*mark];
            let rise = matches!(
                c.failed_step.map(|k| &scan.steps[k]),
                Some(Step::RiseAtLeast { .. })
            );
            if rise {
                format!(
                    "rise {got:.2} < {need:.2} needed ({} {}, high {})",
                    name(*mark),
                    at(i),
                    s.high(i)
                )
            } else {
                format!(
                    "drop {got:.2} < {need:.2} needed ({} {}, low {})",
                    name(*mark),
                    at(i),
                    s.low(i)
                )
            }
        }
        Outcome::NotBeforeThisBar { mark } => {
            format!("{} is this bar; it must come before it", name(*mark))
        }
        Outcome::NotThisBar { mark } => format!(
            "{} is {}, not this bar (this origin's moment was then)",
            name(*mark),
            at(c.marks[*mark])
        ),
    };
    format!("{head}: {why}{step}")
}

/// `stop 4996 target 5012, 3 contract(s), stop moved to 5000.25 (breakeven) at 10:02 ET`: the
/// plan the trade was opened with and every move of its stop.
fn describe_plan(t: &Trade, clock: &MarketClock) -> String {
    let mut s = format!(
        "stop {} target {}, {} contract(s)",
        t.initial_stop, t.target, t.contracts
    );
    if let Some(p) = t.plan.breakeven_points {
        s.push_str(&format!(", breakeven at +{p} points"));
    }
    if let Some(p) = t.plan.trail_points {
        s.push_str(&format!(", trailing {p} points"));
    }
    for m in &t.stop_moves {
        s.push_str(&format!(
            ", stop moved to {} ({}) at {} ET",
            m.stop,
            m.rule.as_str(),
            et_minute(clock, m.time)
        ));
    }
    s
}

fn describe_trade(t: &Trade, clock: &MarketClock) -> String {
    let time = |x: Option<i64>| {
        x.map(|u| format!("{} ET", et_minute(clock, u)))
            .unwrap_or_else(|| "-".into())
    };
    match (t.entry_price, t.exit_price) {
        (Some(entry), Some(exit)) => format!(
            "entry {} at {entry}, exit {} at {exit} ({}), P&L {}",
            time(t.entry_time),
            time(t.exit_time),
            t.exit_reason.map(|r| r.as_str()).unwrap_or("-"),
            crate::market::format::money(t.pnl.unwrap_or(0.0))
        ),
        _ => "never filled: the signal bar is the last bar of the file (no next bar to enter on)"
            .into(),
    }
}

/// The trade `c` would have been, run on `rest` (the bars after its signal bar) alone.
fn would_be_trade(
    c: &Considered,
    cfg: &Config,
    rest: &[Bar],
    clock: &MarketClock,
) -> Option<Trade> {
    let b = c.plan?;
    let prof = cfg.profile.get(&c.profile)?;
    let mut book = Book::new(FillModel::from_config(cfg));
    book.add(Trade::pending(
        Pending {
            signal_id: c.signal_id.clone(),
            profile: c.profile.clone(),
            window: c.window.clone(),
            side: c.proposal.side,
            signal_time: c.bar_time,
            max_hold_minutes: prof.max_hold_minutes,
        },
        (b.stop, b.target, b.contracts),
        crate::host::signal::ExitPlan {
            breakeven_points: b.breakeven_points,
            trail_points: b.trail_points,
            flat_by: None,
        },
    ));
    let mut closed = Vec::new();
    for bar in rest {
        book.on_bar(bar, clock.stamp(bar.close_time).trading_day, &mut closed);
        if let Some(t) = closed.pop() {
            return Some(t);
        }
    }
    let last = rest.last()?;
    book.finish(last, clock.stamp(last.close_time).trading_day, &mut closed);
    closed.pop()
}

/// `vrev explain`.
pub fn run(a: &ExplainArgs) -> Result<()> {
    let cfg = load_config(&a.engine)?;
    let clock = MarketClock::exchange();
    let at = parse_at(&a.at, &clock)?;
    let opts = engine_options(a.engine.profile.clone(), only_side(&a.engine), Vec::new());
    // Config and scripts first: a typo is reported before a large bar file is read.
    let engine = Engine::new(&cfg, opts).map_err(|e| anyhow!("{e}"))?;
    let file = load_bars(&a.files, &a.bars, cfg.engine.bar_seconds)?;
    let bars = &file.bars;
    let Some(k) = bars.iter().position(|b| b.close_time == at) else {
        return Err(no_bar_at(bars, at, &clock, &a.at));
    };
    explain_bar(&cfg, engine, bars, k, a.engine.profile.clone())
}

fn engine_options(
    forced_profile: Option<String>,
    only_side: Option<Side>,
    emitted_before: Vec<String>,
) -> EngineOptions {
    EngineOptions {
        forced_profile,
        only_side,
        keep_events: true,
        keep_rule_verdicts: true,
        mode: "explain".into(),
        emitted_before,
        ..EngineOptions::default()
    }
}

/// `vrev test FILE --explain "HH:MM"`: one bar of one scenario, explained as `vrev explain`
/// explains a bar of a file, on the scenario's bars and config.
pub fn run_scenario(file: &Path, config: &Path, at_text: &str) -> Result<()> {
    let base = crate::config::Config::load(config)?;
    let (cfg, sc) = crate::scenario::load_one(file, &base).map_err(|e| anyhow!("{e}"))?;
    let spec = crate::scenario::format::TimeSpec::parse(at_text).ok_or_else(|| {
        anyhow!("--explain {at_text:?}: expected a bar's close in ET as \"HH:MM\" (or \"YYYY-MM-DD HH:MM\")")
    })?;
    let clock = MarketClock::exchange();
    let bars: Vec<Bar> = sc.bars.iter().map(|b| b.bar).collect();
    let matching: Vec<usize> = (0..bars.len())
        .filter(|&i| spec.matches(&clock.stamp(bars[i].close_time).format()))
        .collect();
    let k = match matching[..] {
        [k] => k,
        [] => {
            return Err(anyhow!(
                "--explain {at_text}: no bar of the scenario `{}` closes then ({} bars, {} .. {} ET)",
                sc.name,
                bars.len(),
                bars.first().map(|b| et_minute(&clock, b.close_time)).unwrap_or_default(),
                bars.last().map(|b| et_minute(&clock, b.close_time)).unwrap_or_default()
            ))
        }
        _ => {
            return Err(anyhow!(
                "--explain {at_text}: {} bars of the scenario close at that time on different days: give the date too (\"YYYY-MM-DD HH:MM\")",
                matching.len()
            ))
        }
    };
    crate::outln!("scenario: {} ({})", sc.name, file.display());
    let forced = sc.profile.as_ref().map(|p| p.value.clone());
    let opts = engine_options(forced.clone(), sc.only_side, sc.restart_with.clone());
    let engine = Engine::new(&cfg, opts).map_err(|e| anyhow!("{e}"))?;
    explain_bar(&cfg, engine, &bars, k, forced)
}

/// Replays `bars[..k]` quietly, then explains bar `k` (see the module's description).
/// `forced_profile`: the one profile the engine runs in every window (`--profile`).
fn explain_bar(
    cfg: &Config,
    mut engine: Engine,
    bars: &[Bar],
    k: usize,
    forced_profile: Option<String>,
) -> Result<()> {
    let clock = MarketClock::exchange();
    let at = bars[k].close_time;
    // The replay's own warnings (script errors on earlier bars) are not what was asked.
    let quiet = tracing::subscriber::NoSubscriber::default();
    tracing::subscriber::with_default(quiet, || {
        for b in &bars[..k] {
            engine.on_bar(b);
        }
    });
    let (events_before, calls_before) = (engine.events.len(), engine.stats.strategy_calls);
    let considered_before = engine.considered.as_ref().map_or(0, Vec::len);
    start_capture();
    crate::strategy::call_path::start_capture();
    tracing::subscriber::with_default(quiet, || engine.on_bar(&bars[k]));
    let traces = take_capture();
    let paths = crate::strategy::call_path::take_capture();
    let bar = bars[k];
    let stamp = clock.stamp(at);

    crate::outln!(
        "bar {} ET ({}): open {} high {} low {} close {} volume {}",
        et_minute(&clock, at),
        format_utc(at),
        bar.open,
        bar.high,
        bar.low,
        bar.close,
        bar.volume
    );
    let new_events: Vec<Event> = engine.events[events_before..].to_vec();
    if engine.last_bar_time() != Some(at) {
        let why = new_events
            .iter()
            .find_map(|e| match e {
                Event::BarRejected { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "held by the plausibility check (far from its neighbours)".into());
        crate::outln!("the engine refused this bar: {why}; no strategy saw it");
        return Ok(());
    }

    // Window and profile in force.
    let window = cfg
        .windows()
        .into_iter()
        .find(|(_, w, _)| w.contains(&stamp));
    let calls = engine.stats.strategy_calls - calls_before;
    let profile = match &window {
        Some((name, w, profile)) => {
            let p = forced_profile.clone().unwrap_or_else(|| profile.clone());
            crate::outln!(
                "window: {name} ({:02}:{:02}–{:02}:{:02} ET), profile `{p}`{}, strategy {}",
                w.start_minute / 60,
                w.start_minute % 60,
                w.end_minute / 60,
                w.end_minute % 60,
                if forced_profile.is_some() {
                    " (--profile)"
                } else {
                    ""
                },
                cfg.profile[&p].strategy
            );
            Some(p)
        }
        None => {
            crate::outln!(
                "window: outside every window ({} ET{}): the script is not called{}",
                stamp.format().get(11..16).unwrap_or(""),
                if stamp.is_weekday() {
                    ""
                } else {
                    ", a weekend"
                },
                if calls > 0 {
                    " for signals (a script with CALL_ON_EVERY_BAR still ran; rule 1 refuses what it proposes)"
                } else {
                    ""
                }
            );
            None
        }
    };
    crate::outln!(
        "script called: {}",
        if calls > 0 {
            format!("yes ({calls} strategy call(s) on this bar)")
        } else {
            "no".into()
        }
    );

    // Scans: each candidate origin and the step it failed.
    if let (Some(p), true) = (&profile, calls > 0) {
        let scans = scans_of(&cfg, p).unwrap_or_else(|e| {
            // The bar was still run by the engine; only the candidate list is missing.
            crate::outln!("scan: the candidates cannot be listed ({e})");
            Vec::new()
        });
        let series = engine.series();
        let t = series.len() - 1;
        for scan in &scans {
            let candidates = scan.explain(&series, t);
            let matched = candidates.iter().find(|c| c.outcome == Outcome::Passed);
            crate::outln!(
                "scan `{}`: {} candidate origin(s) ({} to {} bars back, level = the origin's {}): {}",
                scan.name,
                candidates.len(),
                scan.max_back,
                scan.min_back,
                level_name(scan.level),
                match matched {
                    Some(c) => format!(
                        "the oldest passing origin, {}, is the match: on_bar was called with it",
                        bar_time(&series, &clock, c.origin, t)
                    ),
                    None => "none passes every step: on_bar was not called for it".into(),
                }
            );
            for c in &candidates {
                crate::outln!("  {}", describe_candidate(scan, c, &series, &clock, t));
            }
        }
    }

    if !traces.is_empty() {
        let file = profile
            .as_ref()
            .map(|p| cfg.profile[p].strategy.clone())
            .unwrap_or_default();
        crate::outln!("trace:");
        for TraceLine { line, column, text } in &traces {
            match (line, column) {
                (Some(l), Some(c)) => crate::outln!("  {file}:{l}:{c}: {text}"),
                _ => crate::outln!("  {file}: {text}"),
            }
        }
    }
    if let Some(p) = &profile {
        let strategy = &cfg.profile[p].strategy;
        let source = crate::market::input_file::read_to_string(&cfg.resolve(Path::new(strategy)))
            .unwrap_or_default();
        let lines: Vec<&str> = source.lines().collect();
        for (n, path) in paths.iter().enumerate() {
            print_path(strategy, &lines, path, n, paths.len());
        }
    }
    for e in &new_events {
        if let Event::ScriptError { profile, error, .. } = e {
            crate::outln!("script error (profile `{profile}`): {error}");
        }
    }

    // Proposals and every rule's verdict.
    let considered: Vec<Considered> = engine
        .considered
        .as_ref()
        .map(|c| c[considered_before..].to_vec())
        .unwrap_or_default();
    if considered.is_empty() {
        crate::outln!("proposals: none");
    }
    let mut admitted = Vec::new();
    for c in &considered {
        let p = &c.proposal;
        crate::outln!(
            "proposal: {} entry {} anchors {} / {}{} → ID {}",
            p.side.as_str(),
            p.entry,
            p.anchor_a,
            p.anchor_b,
            p.confidence
                .map(|c| format!(" confidence {}.{:02}", c / 100, c % 100))
                .unwrap_or_default(),
            c.signal_id
        );
        for (n, v) in c.verdicts.iter().enumerate() {
            crate::outln!(
                "  {} {:<15} {:<6} {}",
                n + 1,
                v.rule.as_str(),
                if v.passed { "pass" } else { "REFUSE" },
                v.detail
            );
        }
        let signal = new_events
            .iter()
            .any(|e| matches!(e, Event::Signal { signal_id, .. } if *signal_id == c.signal_id));
        let refusal = new_events.iter().find_map(|e| match e {
            Event::Rejected {
                signal_id,
                reason,
                detail,
                ..
            } if *signal_id == c.signal_id => Some(format!("{reason}: {detail}")),
            _ => None,
        });
        match (signal, refusal) {
            (true, _) => {
                crate::outln!("  → ADMITTED: signal {}", c.signal_id);
                admitted.push(c.clone());
            }
            (false, Some(r)) => crate::outln!("  → REFUSED ({r})"),
            (false, None) => crate::outln!("  → not admitted"),
        }
    }

    if considered.is_empty() {
        return Ok(());
    }
    // The replay goes on to the end of the file: the shadow trades of this bar's signals.
    tracing::subscriber::with_default(quiet, || {
        for b in &bars[k + 1..] {
            engine.on_bar(b);
        }
        engine.finish(true);
    });
    for c in &considered {
        let side = if c.proposal.side == Side::Buy {
            "BUY"
        } else {
            "SELL"
        };
        if admitted.iter().any(|a| a.signal_id == c.signal_id) {
            match engine.trades.iter().find(|t| t.signal_id == c.signal_id) {
                Some(t) => crate::outln!(
                    "shadow trade {side} {}: {}; {}",
                    c.signal_id,
                    describe_plan(t, &clock),
                    describe_trade(t, &clock)
                ),
                None => crate::outln!("shadow trade {side} {}: still open", c.signal_id),
            }
        } else {
            match would_be_trade(c, &cfg, &bars[k + 1..], &clock) {
                Some(t) => crate::outln!(
                    "had {side} {} been admitted: {}; {}",
                    c.signal_id,
                    describe_plan(&t, &clock),
                    describe_trade(&t, &clock)
                ),
                None => crate::outln!(
                    "had {side} {} been admitted: no trade (no valid stop and target, or no bar after it)",
                    c.signal_id
                ),
            }
        }
    }
    Ok(())
}
