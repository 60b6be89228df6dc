//! `vrev backtest`: determinism, sweeps equal single runs, no look-ahead, report contents.

mod common;
use common::*;
use proptest::prelude::*;
use std::path::Path;
use vrev::backtest::{run, sweep};
use vrev::config::Config;
use vrev::host::engine::EngineOptions;
use vrev::market::synth::{generate, SynthOptions};

fn repo_config(sets: &[&str]) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    let mut cfg = Config::load(&path).unwrap();
    cfg.apply_overrides(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .unwrap();
    cfg
}

fn synthetic_project(days: u32) -> Project {
    let p = Project::new();
    let bars = generate(&SynthOptions {
        days,
        volatility_ticks: 3,
        ..Default::default()
    });
    write_nt(&p.path("bars.txt"), &bars);
    p
}

fn read(p: &Project, rel: &str) -> Vec<u8> {
    std::fs::read(p.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn sha12(bytes: &[u8]) -> String {
    vrev::strategy::content_hash(bytes)
}

#[test]
fn the_printed_command_reproduces_the_report_byte_for_byte_and_says_what_produced_it() {
    let p = synthetic_project(8);
    let args = [
        "backtest",
        "bars.txt",
        "--profile",
        "bidirectional",
        "--set",
        "profile.bidirectional.target_points=4",
        "--report",
        "r1",
    ];
    let out = p.vrev(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = ["trades.csv", "summary.json", "daily.csv", "report.html"];
    let first: Vec<Vec<u8>> = files.iter().map(|f| read(&p, &format!("r1/{f}"))).collect();
    let summary: serde_json::Value = serde_json::from_slice(&first[1]).unwrap();
    let run = &summary["run"];

    // The command as typed, re-run as printed, gives the same bytes.
    let command = run["command"].as_str().unwrap();
    assert_eq!(command, format!("vrev {}", args.join(" ")));
    let words: Vec<&str> = command.split(' ').skip(1).collect();
    let again = p.vrev(&words);
    assert!(again.status.success(), "{}", stderr(&again));
    for (f, bytes) in files.iter().zip(&first) {
        assert!(
            &read(&p, &format!("r1/{f}")) == bytes,
            "{f} differs when the printed command is re-run"
        );
    }

    // What produced it: version, config and data with hashes, windows with profile, script
    // version and the parameters after --set.
    assert_eq!(run["vrev_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run["config"]["path"], "config.toml");
    assert_eq!(run["config"]["hash"], sha12(&read(&p, "config.toml")));
    assert_eq!(run["sets"][0], "profile.bidirectional.target_points=4");
    assert_eq!(run["profile"], "bidirectional");
    let bars_txt = read(&p, "bars.txt");
    let data = &run["data"][0];
    assert_eq!(data["path"], "bars.txt");
    assert_eq!(data["hash"], sha12(&bars_txt));
    assert_eq!(data["bytes"].as_u64().unwrap(), bars_txt.len() as u64);
    assert_eq!(data["bars"], summary["bars"]);
    let lines = String::from_utf8_lossy(&bars_txt).to_string();
    let first_line = lines.lines().next().unwrap();
    let first_et = format!(
        "{}-{}-{} {}:{}:{}",
        &first_line[0..4],
        &first_line[4..6],
        &first_line[6..8],
        &first_line[9..11],
        &first_line[11..13],
        &first_line[13..15]
    );
    assert_eq!(data["first_bar_et"], first_et.as_str());
    let script_hash = sha12(&read(&p, "strategies/bidirectional.rhai"));
    let windows = run["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 3);
    for w in windows {
        assert_eq!(w["profile"], "bidirectional");
        assert_eq!(
            w["strategy"],
            format!("bidirectional.rhai@{script_hash}").as_str()
        );
        assert_eq!(w["settings"]["target_points"], 4.0);
    }
    assert_eq!(windows[1]["window"], "morning");
    assert_eq!(windows[1]["start"], "09:00");

    // The terminal and the page say the same.
    let text = stdout(&out);
    for part in [
        command,
        &format!("config.toml @{}", sha12(&read(&p, "config.toml"))),
        &format!("bars.txt @{}", sha12(&bars_txt)),
        &format!("bidirectional.rhai@{script_hash}"),
    ] {
        assert!(text.contains(part), "terminal lacks {part}:\n{text}");
    }
    let html = String::from_utf8_lossy(&first[3]).to_string();
    for part in [
        command,
        &sha12(&read(&p, "config.toml")),
        &sha12(&bars_txt),
        &format!("bidirectional.rhai@{script_hash}"),
        "target_points&quot;:4.0",
    ] {
        assert!(html.contains(part), "report.html lacks {part}");
    }

    // Two runs that differ in one parameter can be told apart.
    let other = p.vrev(&[
        "backtest",
        "bars.txt",
        "--profile",
        "bidirectional",
        "--set",
        "profile.bidirectional.target_points=5",
        "--report",
        "r2",
    ]);
    assert!(other.status.success(), "{}", stderr(&other));
    let s2: serde_json::Value = serde_json::from_slice(&read(&p, "r2/summary.json")).unwrap();
    assert_eq!(s2["run"]["windows"][0]["settings"]["target_points"], 5.0);
    assert_ne!(s2["run"]["command"], run["command"]);
}

#[test]
fn the_report_shows_every_trade_with_trader_times_and_the_statistics_traders_expect() {
    let p = synthetic_project(8);
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--profile",
        "bidirectional",
        "--report",
        "r1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("fill assumptions"),
        "{}",
        stdout(&out)
    );

    // trades.csv: ET beside UTC, stop, target, window, profile, hold, MAE, MFE.
    let trades = String::from_utf8(read(&p, "r1/trades.csv")).unwrap();
    assert_eq!(
        trades.lines().next().unwrap(),
        "signal_id,side,window,profile,signal_time,signal_time_et,entry_time,entry_time_et,entry_price,stop,target,exit_time,exit_time_et,exit_price,exit_reason,contracts,hold_minutes,mae_points,mfe_points,pnl"
    );
    assert!(trades.lines().count() > 10 && trades.contains(",BUY,") && trades.contains(",SELL,"));
    let clock = vrev::market::time::MarketClock::exchange();
    let utc = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp();
    for line in trades.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 20, "{line}");
        assert!(
            ["overnight", "morning", "afternoon"].contains(&f[2]),
            "{line}"
        );
        assert_eq!(f[3], "bidirectional");
        for (u, e) in [(4, 5), (6, 7), (11, 12)] {
            assert_eq!(
                clock.stamp(utc(f[u])).format(),
                f[e],
                "ET of {}: {line}",
                f[u]
            );
        }
        let (entry, stop, target): (f64, f64, f64) = (
            f[8].parse().unwrap(),
            f[9].parse().unwrap(),
            f[10].parse().unwrap(),
        );
        if f[1] == "BUY" {
            assert!(stop < entry && entry < target + 1.0, "{line}");
        } else {
            assert!(target - 1.0 < entry && entry < stop, "{line}");
        }
        let hold: f64 = f[16].parse().unwrap();
        assert_eq!(hold, (utc(f[11]) - utc(f[6])) as f64 / 60.0, "{line}");
        let (mae, mfe): (f64, f64) = (f[17].parse().unwrap(), f[18].parse().unwrap());
        assert!(mae >= 0.0 && mfe >= 0.0, "{line}");
        // A stop exit went at least to the stop; a target exit at least to the target.
        let exit: f64 = f[13].parse().unwrap();
        let against = if f[1] == "BUY" {
            entry - exit
        } else {
            exit - entry
        };
        match f[14] {
            "stop" | "stop_gap" => assert!(mae >= against - 1e-9, "{line}"),
            "target" => assert!(mfe >= -against - 1e-9, "{line}"),
            _ => {}
        }
    }

    let html = String::from_utf8(read(&p, "r1/report.html")).unwrap();
    // One self-contained page: Plotly.js inline, nothing fetched.
    assert!(html.contains("plotly.js v3"), "Plotly.js embedded");
    assert!(
        !html.contains("<script src") && !html.contains("<link"),
        "no external resources"
    );
    for part in [
        "Trades on price",
        "id=\"fig-overview\"",
        "id=\"fig-detail\"",
        "\"type\":\"candlestick\"",
        "Equity and drawdown",
        "\"type\":\"date\"",
        "$,.0f",
        "Monthly P&amp;L",
        "\"type\":\"heatmap\"",
        "P&amp;L per trade",
        "\"type\":\"histogram\"",
        "Rolling Sharpe",
        "weekday (ET)",
        "entry hour (ET)",
        "expectancy",
        "largest loss",
        "max losses in a row",
        "avg hold",
        "commissions",
        "Sortino",
        "Calmar",
        "max DD duration",
        "exposure",
        "Fill assumptions",
        "the stop wins",
        "window overnight",
        "window morning",
        "window afternoon",
    ] {
        assert!(html.contains(part), "report.html lacks {part}");
    }
    // Every trade has a row that jumps to it.
    assert_eq!(
        html.matches("<tr data-i=").count(),
        trades.lines().count() - 1
    );
    // Cautions show exactly when summary.json has some (a short synthetic run has).
    let summary: serde_json::Value = serde_json::from_slice(&read(&p, "r1/summary.json")).unwrap();
    let warnings = summary["warnings"].as_array().unwrap();
    assert_eq!(
        html.contains("id=\"cautions\""),
        !warnings.is_empty(),
        "cautions box iff warnings: {warnings:?}"
    );
    for w in warnings {
        assert!(
            html.contains(&w.as_str().unwrap().replace('&', "&amp;")),
            "{w}"
        );
    }

    // --json prints the very summary.json the report writes.
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--profile",
        "bidirectional",
        "--json",
        "--report",
        "r3",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file: serde_json::Value = serde_json::from_slice(&read(&p, "r3/summary.json")).unwrap();
    assert_eq!(json, file);
    assert_eq!(
        json["overall"]["trades"].as_u64().unwrap() as usize,
        trades.lines().count() - 1
    );
    let overall = &json["overall"];
    for key in [
        "expectancy",
        "largest_win",
        "largest_loss",
        "max_consecutive_losses",
        "average_hold_minutes",
        "total_commissions",
        "sortino",
        "calmar",
        "max_drawdown_duration_days",
        "exposure",
    ] {
        assert!(!overall[key].is_null(), "{key} missing: {overall}");
    }
    let n = overall["trades"].as_f64().unwrap();
    assert!(
        (overall["expectancy"].as_f64().unwrap() * n - overall["net_pnl"].as_f64().unwrap()).abs()
            < 1e-6
    );
    assert_eq!(
        overall["total_commissions"].as_f64().unwrap(),
        n * 2.0 * 2.25 * 3.0
    );
    // 8 trading days: the Sharpe gets its sample-size caution, here as in summary.json.
    let r3: serde_json::Value = serde_json::from_slice(&read(&p, "r3/summary.json")).unwrap();
    assert_eq!(json["warnings"], r3["warnings"]);
    assert!(
        json["warnings"][0]
            .as_str()
            .unwrap()
            .contains("from 8 trading days (fewer than 20)"),
        "{}",
        json["warnings"]
    );
}

#[test]
fn a_long_only_run_has_no_sell_row_and_never_prints_negative_zero() {
    let p = synthetic_project(4);
    let out = p.vrev(&["backtest", "bars.txt", "--report", "r"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("\n  BUY "), "{text}");
    assert!(
        !text.contains("\n  SELL "),
        "long-only run shows a SELL row:\n{text}"
    );
    assert!(
        !text.contains("-0.00") && !text.contains("-$0.00"),
        "{text}"
    );
    let s: serde_json::Value = serde_json::from_slice(&read(&p, "r/summary.json")).unwrap();
    let sides: Vec<&str> = s["by_side"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(sides, ["BUY"]);
    let html = String::from_utf8(read(&p, "r/report.html")).unwrap();
    assert!(!html.contains("<td class=\"name\">SELL</td>"));
    // --sell-only on the same long profile: nothing can trade, and nothing reads -0.00.
    let out = p.vrev(&["backtest", "bars.txt", "--sell-only"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text.contains("-0.00") && !text.contains("-$0.00"),
        "{text}"
    );
}

#[test]
fn a_sweep_cell_equals_a_single_run_with_the_same_values() {
    let bars = generate(&SynthOptions {
        days: 6,
        volatility_ticks: 3,
        ..Default::default()
    });
    let base = repo_config(&[]);
    let axes = vec![
        sweep::parse_axis("profile.production.params.drop_threshold=3,5").unwrap(),
        sweep::parse_axis("profile.production.stop_pct=0.1,0.2").unwrap(),
    ];
    let grid = sweep::cells(&axes);
    let cells = sweep::run_grid(&base, &EngineOptions::default(), &bars, &grid, 2, &|| {});
    assert_eq!(cells.len(), 4);
    for cell in &cells {
        let sets: Vec<&str> = cell.sets.iter().map(String::as_str).collect();
        let single = run(&repo_config(&sets), EngineOptions::default(), &bars, |_| {})
            .unwrap()
            .summary();
        assert_eq!(cell.result.as_ref().unwrap(), &single, "{sets:?}");
    }
    let distinct: std::collections::HashSet<String> = cells
        .iter()
        .map(|c| format!("{:?}", c.result.as_ref().unwrap().overall))
        .collect();
    assert!(
        distinct.len() > 1,
        "the swept values must change the result"
    );
    // A bad value fails its cell with the reason, not the sweep.
    let bad = sweep::run_grid(
        &base,
        &EngineOptions::default(),
        &bars,
        &[vec!["profile.production.contracts=0".to_string()]],
        1,
        &|| {},
    );
    assert!(bad[0].result.as_ref().unwrap_err().contains("contracts"));
}

#[test]
fn a_sweep_on_the_command_line_prints_a_sorted_table_and_writes_the_grid() {
    let p = Project::new();
    let bars = generate(&SynthOptions {
        days: 4,
        ..Default::default()
    });
    write_nt(&p.path("bars.txt"), &bars);
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--sweep",
        "profile.production.params.drop_threshold=3,4,5",
        "--sweep",
        "profile.production.target_points=2,3",
        "--report",
        "sw",
        "--sort",
        "trades",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("sweep: 6 cells"), "{}", stdout(&out));
    let csv = std::fs::read_to_string(p.path("sw/sweep.csv")).unwrap();
    // The run identity heads the file as `# ` lines, then the header and one row per cell.
    let csv: String = csv
        .lines()
        .filter(|l| !l.starts_with("# "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(csv.lines().count(), 7);
    assert!(csv.starts_with(
        "profile.production.params.drop_threshold,profile.production.target_points,trades,"
    ));
    // Sorted by trades, best (most) first.
    let trades: Vec<u64> = stdout(&out)
        .lines()
        .skip(2)
        .take(6)
        .map(|l| l.split_whitespace().nth(2).unwrap().parse().unwrap())
        .collect();
    assert!(trades.windows(2).all(|w| w[0] >= w[1]), "{trades:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    /// No look-ahead: every trade that exited before the cut is identical whether the input
    /// stops at the cut or goes on.
    #[test]
    fn trades_closed_before_a_cut_do_not_depend_on_later_bars(seed in 0u64..1_000, vol in 1i64..5, cut_frac in 0.05f64..0.95) {
        let bars = generate(&SynthOptions { seed, days: 3, volatility_ticks: vol, ..Default::default() });
        let cut = ((bars.len() as f64) * cut_frac) as usize;
        let cfg = repo_config(&["profile.production.strategy=strategies/bidirectional.rhai", "profile.production.direction=both", "profile.production.params={}"]);
        let full = run(&cfg, EngineOptions::default(), &bars, |_| {}).unwrap();
        let part = run(&cfg, EngineOptions::default(), &bars[..cut], |_| {}).unwrap();
        let cut_time = bars[cut - 1].close_time;
        let before = |bt: &vrev::backtest::Backtest| -> Vec<vrev::host::book::Trade> {
            bt.trades.iter().filter(|t| t.exit_time.unwrap() < cut_time).cloned().collect()
        };
        prop_assert!(!before(&full).is_empty() || cut < 2000);
        prop_assert_eq!(before(&full), before(&part));
    }
}

#[test]
fn the_identity_describes_each_data_file_and_the_days_used() {
    let p = synthetic_project(6);
    let second = generate(&SynthOptions {
        days: 3,
        start: date("2025-02-24"),
        ..Default::default()
    });
    write_nt(&p.path("more.txt"), &second);
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "more.txt",
        "--from",
        "2025-02-12",
        "--to",
        "2025-02-24",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &s["run"];
    assert_eq!(run["from"], "2025-02-12");
    assert_eq!(run["to"], "2025-02-24");
    // Each file with its own bars (before --from/--to) and hash.
    let data = run["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["bars"], 6 * 1380);
    assert_eq!(data[1]["bars"], second.len());
    assert_eq!(data[1]["hash"], sha12(&read(&p, "more.txt")));
    assert_eq!(data[1]["first_bar_et"], "2025-02-23 18:01:00");
    // The bars used: trading days 2025-02-12 ..= 2025-02-24 of both files.
    assert_eq!(run["bars_used"]["bars"], s["bars"]);
    assert_eq!(run["bars_used"]["first_bar_et"], "2025-02-11 18:01:00");
    assert_eq!(run["bars_used"]["last_bar_et"], "2025-02-24 17:00:00");
    assert_eq!(s["first_day"], "2025-02-12");
    assert_eq!(s["last_day"], "2025-02-24");
}

/// `backtest --report DIR` once wrote through a `report.html` that was a symlink.
#[cfg(unix)]
#[test]
fn the_report_never_writes_through_a_planted_symlink() {
    let p = synthetic_project(2);
    std::fs::create_dir_all(p.path("r")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    std::os::unix::fs::symlink(&victim, p.path("r/report.html")).unwrap();
    let out = p.vrev(&["backtest", "bars.txt", "--report", "r"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("report.html: is a symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    // A regular file there is replaced: re-running into the same folder works.
    std::fs::remove_file(p.path("r/report.html")).unwrap();
    std::fs::write(p.path("r/report.html"), "old").unwrap();
    let out = p.vrev(&["backtest", "bars.txt", "--report", "r"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(read(&p, "r/report.html").len() > 1000);
}

/// report.html and summary.json once carried the typed command with absolute paths (home
/// folder, account name).
#[test]
fn shared_reports_hold_no_absolute_path() {
    let p = synthetic_project(2);
    let root = p.dir.path().to_str().unwrap().to_string();
    let elsewhere = tempfile::tempdir().unwrap();
    let abs = |rel: &str| format!("{root}/{rel}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vrev"))
        .args([
            "backtest",
            &abs("bars.txt"),
            "--config",
            &abs("config.toml"),
            "--report",
            &abs("r"),
        ])
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = String::from_utf8(read(&p, "r/summary.json")).unwrap();
    let html = String::from_utf8(read(&p, "r/report.html")).unwrap();
    for (name, text) in [("summary.json", &summary), ("report.html", &html)] {
        assert!(!text.contains(&root), "{name} holds {root}");
        if let Some(home) = std::env::var_os("HOME").filter(|h| h.len() > 1) {
            assert!(!text.contains(home.to_str().unwrap()), "{name} holds $HOME");
        }
    }
    let s: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(
        s["run"]["command"],
        "vrev backtest bars.txt --config config.toml --report r"
    );
    assert_eq!(s["run"]["data"][0]["path"], "bars.txt");
    assert_eq!(s["run"]["config"]["path"], "config.toml");
}

/// Issue 19: text cells of trades.csv and sweep.csv could begin with `=`, `+`, `-` or `@` from
/// user-controlled names and values, which a spreadsheet runs as a formula (CSV injection).
#[test]
fn csv_formula_injection_in_trades_csv_and_sweep_csv_is_neutralised() {
    let p = synthetic_project(4);
    // A window named like a formula, a profile named like arithmetic (both allowed by the
    // config: they hold no `=` or `,` of the signal file's lines).
    let config = std::fs::read_to_string(p.path("config.toml"))
        .unwrap()
        .replace("name = \"morning\"", "name = \"@SUM(1+2)\"")
        .replace("[profile.production]", "[profile.\"-2+3\"]")
        .replace("profile = \"production\"", "profile = \"-2+3\"");
    p.write("config.toml", &config);
    let out = p.vrev(&["backtest", "bars.txt", "--report", "r"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let trades = String::from_utf8(read(&p, "r/trades.csv")).unwrap();
    let rows: Vec<Vec<&str>> = trades
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert!(rows.len() > 2, "{trades}");
    for r in &rows {
        // window, profile: neutralised text; P&L: a number, untouched.
        assert!(
            ["overnight", "'@SUM(1+2)", "afternoon"].contains(&r[2]),
            "{r:?}"
        );
        assert_eq!(r[3], "'-2+3", "{r:?}");
        assert!(r[19].parse::<f64>().is_ok(), "{r:?}");
        for cell in r {
            assert!(!cell.starts_with(['=', '+', '@']), "{r:?}");
            assert!(
                !cell.starts_with('-') || cell.parse::<f64>().is_ok(),
                "{r:?}"
            );
        }
    }
    assert!(
        rows.iter().any(|r| r[19].starts_with('-')),
        "a losing trade keeps its minus sign: {trades}"
    );
    assert!(rows.iter().any(|r| r[2] == "'@SUM(1+2)"), "{trades}");
    // A swept text value (a signal prefix may start with `-`).
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--sweep",
        "profile.-2+3.signal_prefix=-x_,y_",
        "--report",
        "s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sweep = String::from_utf8(read(&p, "s/sweep.csv")).unwrap();
    let data: Vec<&str> = sweep.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(
        data[0].starts_with("profile.-2+3.signal_prefix,trades,"),
        "{sweep}"
    );
    assert!(data[1].starts_with("'-x_,"), "{sweep}");
    assert!(data[2].starts_with("y_,"), "{sweep}");
}

/// Issue 19: a 3-million-cell sweep was accepted without an estimate and took 3.55 GB.
#[test]
fn a_sweep_grid_over_the_bound_is_refused_with_its_estimate_before_it_runs() {
    let p = synthetic_project(2);
    let values = |n: usize| (1..=n).map(|v| v.to_string()).collect::<Vec<_>>().join(",");
    let a = format!("profile.production.params.drop_threshold={}", values(400));
    let b = format!("profile.production.target_points={}", values(300));
    let start = std::time::Instant::now();
    let out = p.vrev(&["backtest", "bars.txt", "--sweep", &a, "--sweep", &b]);
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(
        e.contains("a grid of 120,000 cells (400 × 300 values) over 2,760 bars"),
        "{e}"
    );
    assert!(
        e.contains("cell-bars, over the bound of 100,000 cells"),
        "{e}"
    );
    assert!(
        e.contains("Rough estimate: ") && e.contains(" of memory"),
        "{e}"
    );
    assert!(e.contains("--max-cells 120000"), "{e}");
    assert!(stdout(&out).is_empty(), "nothing ran: {}", stdout(&out));
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    // The bound is the user's: a 4-cell grid over --max-cells 3 is refused, at 4 it runs.
    let small = ["--sweep", "profile.production.stop_pct=0.1,0.2"];
    let small2 = ["--sweep", "profile.production.target_points=2,3"];
    let run = |max: &str| {
        p.vrev(
            &[
                &["backtest", "bars.txt", "--max-cells", max][..],
                &small,
                &small2,
            ]
            .concat(),
        )
    };
    let out = run("3");
    assert!(
        stderr(&out).contains("a grid of 4 cells (2 × 2 values)"),
        "{}",
        stderr(&out)
    );
    let out = run("4");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("sweep: 4 cells"), "{}", stdout(&out));
}

/// Issue 19: `--monte-carlo 4294967295` tried to allocate 34 GB and aborted.
#[test]
fn monte_carlo_4294967295_is_refused_before_any_bar_is_read() {
    let p = synthetic_project(2);
    // The bar file does not exist: the refusal comes first.
    let out = p.vrev(&["backtest", "missing.txt", "--monte-carlo", "4294967295"]);
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(
        e.contains("--monte-carlo 4294967295: over the bound of 1,000,000 resamples"),
        "{e}"
    );
    assert!(e.contains("68.7 GB in memory"), "{e}");
    assert!(e.contains("--max-resamples 4294967295"), "{e}");
    assert!(!e.contains("missing.txt"), "{e}");
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--monte-carlo",
        "200",
        "--max-resamples",
        "100",
    ]);
    assert!(
        stderr(&out).contains("--monte-carlo 200: over the bound of 100 resamples"),
        "{}",
        stderr(&out)
    );
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--monte-carlo",
        "200",
        "--max-resamples",
        "200",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Issue 22: a typo in a `--sweep` key was caught only after the data was read.
#[test]
fn a_typo_in_a_sweep_key_is_refused_before_any_bar_is_read() {
    let p = synthetic_project(2);
    for (axis, says) in [
        (
            "profile.production.params.drop_treshold=3,4",
            "unknown parameter `drop_treshold`",
        ),
        (
            "profile.production.stop_pctt=0.1,0.2",
            "unknown field `stop_pctt`",
        ),
        ("profile.production.stop_pct=0.1,abc", "stop_pct=abc"),
    ] {
        // The bar file does not exist: the key is checked before it would be read.
        let out = p.vrev(&["backtest", "missing.txt", "--sweep", axis]);
        let e = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{e}");
        assert!(e.contains(&format!("--sweep {axis}")), "{e}");
        assert!(e.contains(says), "{e}");
        assert!(!e.contains("missing.txt"), "{e}");
    }
}

/// Issues 18 and 22: every sweep cell shows its refusals by reason and its script errors, and
/// sweep.csv / sweep.html carry the run identity.
#[test]
fn sweep_cells_show_their_refusals_by_reason_and_the_files_carry_the_run_identity() {
    let p = synthetic_project(5);
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--sweep",
        "profile.production.params.drop_threshold=3,4",
        "--sweep",
        "profile.production.max_open_positions=1,2",
        "--report",
        "sw",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(
        s.contains("script errors") && s.contains("refused proposals"),
        "{s}"
    );
    assert!(s.contains("— open_positions "), "{s}");
    let csv = String::from_utf8(read(&p, "sw/sweep.csv")).unwrap();
    let comments: Vec<&str> = csv.lines().take_while(|l| l.starts_with("# ")).collect();
    assert!(
        comments.contains(&"# command: vrev backtest bars.txt --sweep profile.production.params.drop_threshold=3,4 --sweep profile.production.max_open_positions=1,2 --report sw"),
        "{csv}"
    );
    let bars_hash = sha12(&read(&p, "bars.txt"));
    assert!(
        comments
            .iter()
            .any(|l| l.starts_with("# data: bars.txt @") && l.contains(&bars_hash)),
        "{csv}"
    );
    assert!(
        comments
            .iter()
            .any(|l| l.starts_with("# config: config.toml @")),
        "{csv}"
    );
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(comments.len())
        .map(|l| l.split(',').collect())
        .collect();
    let head = &rows[0];
    let col = |name: &str| {
        head.iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name}: {head:?}"))
    };
    let (errors, refused, open) = (
        col("script_errors"),
        col("refused"),
        col("refused_open_positions"),
    );
    assert_eq!(rows.len(), 5, "{csv}");
    for r in &rows[1..] {
        assert_eq!(r[errors], "0", "{r:?}");
        // The total is the sum of its reasons.
        let by_reason: u64 = head
            .iter()
            .enumerate()
            .filter(|(_, h)| h.starts_with("refused_"))
            .map(|(i, _)| r[i].parse::<u64>().unwrap())
            .sum();
        assert_eq!(r[refused].parse::<u64>().unwrap(), by_reason, "{r:?}");
    }
    // One open position at a time refuses more proposals for open_positions than two.
    let open_of = |mop: &str| -> u64 {
        rows[1..]
            .iter()
            .filter(|r| r[0] == "3" && r[1] == mop)
            .map(|r| r[open].parse::<u64>().unwrap())
            .sum()
    };
    assert!(open_of("1") > open_of("2"), "{csv}");
    let html = String::from_utf8(read(&p, "sw/sweep.html")).unwrap();
    assert!(html.contains("What produced this page"), "{html}");
    assert!(html.contains(&bars_hash), "{html}");
    assert!(html.contains("<th>refused proposals</th>"), "{html}");
    assert!(html.contains("script errors: none in any cell"), "{html}");
    assert!(html.contains("— open_positions "), "{html}");
}

/// Issue 22: Ctrl+C in a sweep printed nothing, left the progress line and could leave a
/// half-written report folder. It must stop within about a second, say what completed and leave
/// no temporary or half-written file.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_sweep_within_a_second_and_leaves_no_half_written_report() {
    let p = Project::new();
    let bars = generate(&SynthOptions {
        days: 100,
        volatility_ticks: 3,
        ..Default::default()
    });
    write_nt(&p.path("bars.txt"), &bars);
    std::fs::create_dir_all(p.path("sw")).unwrap();
    std::fs::write(p.path("sw/sweep.csv"), "the previous run's file\n").unwrap();
    let interrupt = |args: &[&str]| -> (std::process::Output, std::time::Duration) {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_vrev"))
            .args(args)
            .current_dir(p.dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Long enough to read the bars and be well into the run.
        std::thread::sleep(std::time::Duration::from_millis(2500));
        let sent = std::time::Instant::now();
        let ok = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -INT");
        let out = child.wait_with_output().unwrap();
        (out, sent.elapsed())
    };
    let values = |from: f64, n: usize| {
        (0..n)
            .map(|k| format!("{:.1}", from + k as f64 * 0.5))
            .collect::<Vec<_>>()
            .join(",")
    };
    // 200 cells over 138,000 bars: tens of seconds of work for this build.
    let a = format!(
        "profile.production.params.drop_threshold={}",
        values(3.0, 20)
    );
    let b = format!("profile.production.target_points={}", values(2.0, 10));
    let (out, took) = interrupt(&[
        "backtest",
        "bars.txt",
        "--sweep",
        &a,
        "--sweep",
        &b,
        "--threads",
        "2",
        "--report",
        "sw",
    ]);
    let (o, e) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(130), "{o}{e}");
    assert!(
        took < std::time::Duration::from_millis(1500),
        "exit {took:?} after the signal"
    );
    assert!(e.contains("interrupted (Ctrl+C) after "), "{e}");
    assert!(e.contains(" of 200 sweep cells; no report written"), "{e}");
    let done: usize = e
        .split("interrupted (Ctrl+C) after ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(done < 200, "{e}");
    if done > 0 {
        assert!(
            o.contains(&format!("sweep interrupted: {done} of 200 cells completed")),
            "{o}"
        );
    }
    // The folder holds what it held: no sweep.html, no temporary file, the old CSV untouched.
    let names: Vec<String> = std::fs::read_dir(p.path("sw"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["sweep.csv"], "{names:?}");
    assert_eq!(
        std::fs::read_to_string(p.path("sw/sweep.csv")).unwrap(),
        "the previous run's file\n"
    );

    // A plain backtest busy in a large Monte Carlo stops the same way, writing no report.
    let (out, took) = interrupt(&[
        "backtest",
        "bars.txt",
        "--monte-carlo",
        "4000000",
        "--max-resamples",
        "4000000",
        "--report",
        "r",
    ]);
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{e}");
    assert!(took < std::time::Duration::from_millis(1500), "{took:?}");
    assert!(
        e.contains("interrupted (Ctrl+C)") && e.contains("no report written"),
        "{e}"
    );
    assert!(!p.path("r").exists() || std::fs::read_dir(p.path("r")).unwrap().next().is_none());
}

/// Issue 19: a summary's date range ended at a refused future bar ("… 3000-01-01").
#[test]
fn a_refused_future_bar_is_not_part_of_the_runs_date_range() {
    let p = synthetic_project(2);
    let mut text = std::fs::read_to_string(p.path("bars.txt")).unwrap();
    text.push_str("30000101 093100;5000;5001;4999;5000;10\n");
    std::fs::write(p.path("bars.txt"), text).unwrap();

    let o = p.vrev(&["replay", "bars.txt"]);
    let out = stdout(&o);
    assert!(!out.contains("3000"), "{out}");
    assert!(out.contains("over 2 trading days"), "{out}");
    assert!(out.contains("1 implausible"), "{out}");

    let o = p.vrev(&["backtest", "bars.txt", "--report", "rep"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let used = out.lines().find(|l| l.contains("bars used")).unwrap();
    assert!(
        !used.contains("3000") && used.contains("17:00:00 ET"),
        "{used}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.path("rep/summary.json")).unwrap()).unwrap();
    assert_eq!(
        (
            &summary["bars"],
            &summary["trading_days"],
            &summary["last_day"]
        ),
        (
            &serde_json::json!(2760),
            &serde_json::json!(2),
            &serde_json::json!("2025-02-11")
        )
    );
}

/// The run identity of a sweep and a walk-forward names the bars the engine accepted, as the
/// single report does (a refused future bar is not part of `bars used`).
#[test]
fn a_sweep_and_walk_forward_identity_leaves_out_a_refused_future_bar() {
    let p = synthetic_project(3);
    let mut text = std::fs::read_to_string(p.path("bars.txt")).unwrap();
    text.push_str("30000101 093100;5000;5001;4999;5000;10\n");
    std::fs::write(p.path("bars.txt"), text).unwrap();
    let sweep = ["--sweep", "profile.production.stop_pct=0.1,0.2"];
    for (extra, file) in [
        (&[][..], "sw/sweep.csv"),
        (
            &["--walk-forward", "train=1D,test=1D"][..],
            "sw/walk_forward.csv",
        ),
    ] {
        let out = p.vrev(
            &[
                &["backtest", "bars.txt", "--report", "sw"][..],
                &sweep,
                extra,
            ]
            .concat(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let csv = String::from_utf8(read(&p, file)).unwrap();
        let used = csv
            .lines()
            .find(|l| l.starts_with("# bars used: "))
            .unwrap_or_else(|| panic!("{csv}"));
        assert!(!used.contains("3000"), "{used}");
        assert!(used.contains("17:00:00 ET"), "{used}");
        // Nor is it a fold of its own.
        assert!(!stdout(&out).contains("3000"), "{}", stdout(&out));
    }
}
