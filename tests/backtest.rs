//! `vrev backtest`: determinism, sweeps equal single runs, no look-ahead, report contents.

mod common;
use common::*;
use proptest::prelude::*;
use std::path::Path;
use vrev::backtest::{run, sweep};
use vrev::config::Config;
use vrev::engine::EngineOptions;
use vrev::synth::{generate, write_ninjatrader, SynthOptions};

fn repo_config(sets: &[&str]) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    let mut cfg = Config::load(&path).unwrap();
    cfg.apply_overrides(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .unwrap();
    cfg
}

#[test]
fn two_runs_write_byte_identical_trades_and_summary_and_a_readable_report() {
    let p = Project::new();
    let bars = generate(&SynthOptions {
        days: 8,
        volatility_ticks: 3,
        ..Default::default()
    });
    let mut text = Vec::new();
    write_ninjatrader(&bars, &mut text).unwrap();
    std::fs::write(p.path("bars.txt"), text).unwrap();
    for dir in ["r1", "r2"] {
        let out = p.vrev(&[
            "backtest",
            "bars.txt",
            "--profile",
            "bidirectional",
            "--report",
            dir,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("fill assumptions"),
            "{}",
            stdout(&out)
        );
    }
    for f in ["trades.csv", "summary.json", "daily.csv", "report.html"] {
        assert_eq!(
            std::fs::read(p.path(&format!("r1/{f}"))).unwrap(),
            std::fs::read(p.path(&format!("r2/{f}"))).unwrap(),
            "{f} differs between runs"
        );
    }
    let trades = std::fs::read_to_string(p.path("r1/trades.csv")).unwrap();
    assert!(trades.starts_with("signal_id,side,signal_time,entry_time,entry_price,exit_time,exit_price,exit_reason,contracts,pnl\n"));
    assert!(trades.lines().count() > 10 && trades.contains(",BUY,") && trades.contains(",SELL,"));
    let html = std::fs::read_to_string(p.path("r1/report.html")).unwrap();
    assert_eq!(
        html.matches("<svg").count(),
        2,
        "equity and drawdown charts"
    );
    for part in [
        "By side",
        "By session window",
        "Monthly P&amp;L",
        "Fill assumptions",
        "the stop wins",
        "overnight",
        "morning",
        "afternoon",
    ] {
        assert!(html.contains(part), "report.html lacks {part}");
    }
    // --json is one object whose numbers match the report's summary.json.
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--profile",
        "bidirectional",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("r1/summary.json")).unwrap()).unwrap();
    assert_eq!(json, file);
    assert_eq!(
        json["overall"]["trades"].as_u64().unwrap() as usize,
        trades.lines().count() - 1
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
    let mut text = Vec::new();
    write_ninjatrader(&bars, &mut text).unwrap();
    std::fs::write(p.path("bars.txt"), text).unwrap();
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
        let before = |bt: &vrev::backtest::Backtest| -> Vec<vrev::book::Trade> {
            bt.trades.iter().filter(|t| t.exit_time.unwrap() < cut_time).cloned().collect()
        };
        prop_assert!(!before(&full).is_empty() || cut < 2000);
        prop_assert_eq!(before(&full), before(&part));
    }
}
