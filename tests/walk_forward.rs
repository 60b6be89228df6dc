//! Walk-forward, overfitting statistics, Monte Carlo and cautions: a walk-forward whose folds all
//! choose the same cell is a plain backtest of its test spans; no training span's result depends
//! on its test bars; the same seed gives byte-identical outputs from the real binary.

mod common;
use common::*;
use proptest::prelude::*;
use std::path::Path;
use vrev::backtest::run;
use vrev::backtest::sweep::{self, SortBy};
use vrev::backtest::walk_forward::{self, Setup};
use vrev::config::Config;
use vrev::host::engine::EngineOptions;
use vrev::market::bar::Bar;
use vrev::market::synth::{generate, SynthOptions};
use vrev::market::time::MarketClock;

fn repo_config(sets: &[&str]) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    let mut cfg = Config::load(&path).unwrap();
    cfg.apply_overrides(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .unwrap();
    cfg
}

fn both_sides() -> Config {
    repo_config(&[
        "profile.production.strategy=builtin:bidirectional",
        "profile.production.direction=both",
    ])
}

fn bars(seed: u64, days: u32) -> Vec<Bar> {
    generate(&SynthOptions {
        seed,
        days,
        volatility_ticks: 3,
        ..Default::default()
    })
}

fn run_wf(
    cfg: &Config,
    axes: &[sweep::Axis],
    spec: &str,
    bars: &[Bar],
) -> walk_forward::WalkForward {
    let grid = sweep::cells(axes);
    let setup = Setup {
        base: cfg,
        opts: &EngineOptions::default(),
        axes,
        grid: &grid,
        sort: SortBy::NetPnl,
        threads: 2,
        monte_carlo: None,
    };
    walk_forward::walk_forward(
        &setup,
        &walk_forward::parse_spec(spec).unwrap(),
        bars,
        &|| {},
    )
    .unwrap()
}

/// The bars of trading days first..=last, as `--from/--to` select them.
fn span(bars: &[Bar], first: chrono::NaiveDate, last: chrono::NaiveDate) -> Vec<Bar> {
    let clock = MarketClock::exchange();
    bars.iter()
        .filter(|b| {
            let d = clock.stamp(b.close_time).trading_day;
            d >= first && d <= last
        })
        .copied()
        .collect()
}

fn trading_days(bars: &[Bar]) -> Vec<chrono::NaiveDate> {
    let clock = MarketClock::exchange();
    let mut d: Vec<_> = bars
        .iter()
        .map(|b| clock.stamp(b.close_time).trading_day)
        .collect();
    d.dedup();
    d
}

#[test]
fn folds_that_all_choose_the_same_cell_are_a_plain_backtest_of_the_test_spans() {
    let bars = bars(11, 9);
    let cfg = both_sides();
    let mut one_contract = cfg.clone();
    one_contract
        .apply_overrides(&["profile.production.contracts=1".to_string()])
        .unwrap();
    // Two identical cells (the value does not change anything): every fold ties and takes the
    // first; one cell alone gives the same record.
    for axis in [
        "profile.production.contracts=1,1",
        "profile.production.contracts=1",
    ] {
        for spec in [
            "train=2D,test=1D",
            "train=2D,test=2D",
            "train=3D,test=1D,step=2D,anchored",
        ] {
            let wf = run_wf(&cfg, &[sweep::parse_axis(axis).unwrap()], spec, &bars);
            assert!(wf.folds.len() >= 3, "{spec}: {} folds", wf.folds.len());
            let mut trades = Vec::new();
            let mut daily = Vec::new();
            for f in &wf.folds {
                assert_eq!(
                    f.chosen.as_deref(),
                    Some(&["profile.production.contracts=1".to_string()][..])
                );
                let plain = run(
                    &one_contract,
                    EngineOptions::default(),
                    &span(&bars, f.test_first, f.test_last),
                    |_| {},
                )
                .unwrap();
                assert_eq!(
                    f.out_of_sample,
                    plain.summary().overall,
                    "{spec} fold {}",
                    f.fold
                );
                daily.extend(plain.daily_pnl(|_| true));
                trades.extend(plain.trades);
            }
            assert!(!trades.is_empty());
            assert_eq!(wf.trades, trades, "{spec}");
            assert_eq!(
                wf.days.iter().map(|d| d.pnl).collect::<Vec<_>>(),
                daily,
                "{spec}"
            );
        }
    }
}

#[test]
fn a_training_span_is_its_blocks_plain_backtests_stitched() {
    let bars = bars(5, 6);
    let cfg = both_sides();
    let axes = [sweep::parse_axis("profile.production.stop_pct=0.05,0.2").unwrap()];
    let wf = run_wf(&cfg, &axes, "train=2D,test=1D", &bars);
    for f in &wf.folds {
        let chosen = f.chosen.clone().unwrap();
        let mut c = cfg.clone();
        c.apply_overrides(&chosen).unwrap();
        let days: Vec<chrono::NaiveDate> = trading_days(&bars)
            .into_iter()
            .filter(|d| *d >= f.train_first && *d <= f.train_last)
            .collect();
        let (mut facts, mut daily, mut n_bars) = (Vec::new(), Vec::new(), 0);
        for d in days {
            let bt = run(&c, EngineOptions::default(), &span(&bars, d, d), |_| {}).unwrap();
            // Bar indices of each day's run continue those of the days before it.
            facts.extend(
                bt.trade_facts(|_| true)
                    .into_iter()
                    .map(|f| vrev::stats::TradeFacts {
                        held_bars: f.held_bars.map(|(a, b)| (a + n_bars, b + n_bars)),
                        ..f
                    }),
            );
            n_bars += bt.bars;
            daily.extend(bt.daily_pnl(|_| true));
        }
        assert_eq!(
            f.in_sample.clone().unwrap(),
            vrev::stats::Stats::compute(
                &facts,
                &daily,
                n_bars,
                c.backtest.commission_per_contract_side
            )
        );
        // The chosen cell is the best in sample (ties: first in grid order).
        let other = axes[0]
            .values
            .iter()
            .map(|v| format!("profile.production.stop_pct={v}"))
            .find(|s| *s != chosen[0])
            .unwrap();
        let mut o = cfg.clone();
        o.apply_overrides(std::slice::from_ref(&other)).unwrap();
        let other_net: f64 = trading_days(&bars)
            .into_iter()
            .filter(|d| *d >= f.train_first && *d <= f.train_last)
            .map(|d| {
                run(&o, EngineOptions::default(), &span(&bars, d, d), |_| {})
                    .unwrap()
                    .summary()
                    .overall
                    .net_pnl
            })
            .sum();
        let best_net = f.in_sample.as_ref().unwrap().net_pnl;
        assert!(
            best_net > other_net || (best_net == other_net && chosen[0].ends_with("0.05")),
            "fold {}: {best_net} vs {other_net}",
            f.fold
        );
    }
}

/// Mirrors every bar from index `from` on around `pivot` (highs become lows): a different
/// future, same times.
fn mirror_from(bars: &[Bar], from: usize) -> Vec<Bar> {
    let pivot = bars[from].open;
    bars.iter()
        .enumerate()
        .map(|(i, b)| {
            if i < from {
                *b
            } else {
                Bar {
                    open: 2.0 * pivot - b.open,
                    high: 2.0 * pivot - b.low,
                    low: 2.0 * pivot - b.high,
                    close: 2.0 * pivot - b.close,
                    ..*b
                }
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]
    /// The fold runner never lets a training span see its test bars: changing every bar from a
    /// fold's test span on leaves that fold's choice and in-sample result, and every earlier
    /// fold, exactly as they were.
    #[test]
    fn no_training_span_sees_test_bars(seed in 0u64..500, train in 1usize..4, test in 1usize..3, anchored: bool, pick in 0usize..100) {
        let bars = bars(seed, 8);
        let cfg = both_sides();
        let axes = [sweep::parse_axis("profile.production.stop_pct=0.05,0.2").unwrap(),
                    sweep::parse_axis("profile.production.target_points=2,4").unwrap()];
        let spec = format!("train={}D,test={test}D{}", train * test, if anchored { ",anchored" } else { "" });
        let before = run_wf(&cfg, &axes, &spec, &bars);
        prop_assume!(!before.folds.is_empty());
        let k = pick % before.folds.len();
        let fold = &before.folds[k];
        let clock = MarketClock::exchange();
        let first_test_bar = bars.iter().position(|b| clock.stamp(b.close_time).trading_day >= fold.test_first).unwrap();
        // Every bar a training span of this fold covers precedes the test span.
        prop_assert!(fold.train_last < fold.test_first);
        let after = run_wf(&cfg, &axes, &spec, &mirror_from(&bars, first_test_bar));
        prop_assert_eq!(&after.folds[k].chosen, &fold.chosen);
        prop_assert_eq!(&after.folds[k].in_sample, &fold.in_sample);
        prop_assert_eq!(&after.folds[..k], &before.folds[..k]);
    }
}

#[test]
fn too_little_data_or_a_bad_spec_is_a_clear_error() {
    let p = Project::new();
    write_nt(&p.path("bars.txt"), &bars(1, 3));
    let sweep = ["--sweep", "profile.production.stop_pct=0.1,0.2"];
    let cases: [(&[&str], &str); 6] = [
        (
            &["--walk-forward", "train=3D,test=1D"],
            "the data has 3 block(s) of 1D; the first fold needs 3 (training) + 1 (test)",
        ),
        (
            &["--walk-forward", "train=6M"],
            "needs train=LEN and test=LEN",
        ),
        (
            &["--walk-forward", "train=3D,test=2D"],
            "train must be a whole multiple of test",
        ),
        (
            &["--walk-forward", "train=2M,test=10D"],
            "must all be in trading days (D) or all in months (M, Y)",
        ),
        (
            &["--walk-forward", "train=2X,test=1D"],
            "train=2X: expected a length like 20D",
        ),
        (
            &["--walk-forward", "train=2D,test=1D,rolling"],
            "unknown part \"rolling\"",
        ),
    ];
    for (args, want) in cases {
        let mut a = vec!["backtest", "bars.txt"];
        a.extend(sweep);
        a.extend(args);
        let out = p.vrev(&a);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
    }
    let out = p.vrev(&["backtest", "bars.txt", "--walk-forward", "train=2D,test=1D"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--sweep"), "{}", stderr(&out));
    let out = p.vrev(&["backtest", "bars.txt", "--monte-carlo", "0"]);
    assert!(!out.status.success());
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_same_seed_gives_byte_identical_outputs_from_the_binary() {
    let p = Project::new();
    write_nt(&p.path("bars.txt"), &bars(3, 8));
    let grid = [
        "--profile",
        "bidirectional",
        "--sweep",
        "profile.bidirectional.params.drop_threshold=3,4",
        "--sweep",
        "profile.bidirectional.stop_pct=0.05,0.1",
    ];
    let variants: [&[&str]; 3] = [
        &[
            "--walk-forward",
            "train=2D,test=1D",
            "--monte-carlo",
            "300",
            "--seed",
            "7",
        ],
        &["--monte-carlo", "300", "--seed", "7"],
        &[],
    ];
    for (n, extra) in variants.iter().enumerate() {
        let mut outs = Vec::new();
        for r in ["r1", "r2"] {
            let dir = format!("{r}-{n}");
            let mut a = vec!["backtest", "bars.txt"];
            a.extend(grid);
            a.extend(*extra);
            a.extend(["--report", &dir]);
            let out = p.vrev(&a);
            assert!(out.status.success(), "{}", stderr(&out));
            // The files carry the command (run identity), which names its report folder.
            let named = files(&p.path(&dir))
                .into_iter()
                .map(|(f, b)| (f, String::from_utf8(b).unwrap().replace(&dir, "DIR")))
                .collect::<Vec<_>>();
            outs.push((stdout(&out).replace(&dir, "DIR"), named));
        }
        assert_eq!(outs[0], outs[1], "{extra:?}");
        assert!(
            outs[0].1.len() >= 2,
            "{:?}",
            outs[0].1.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
    }
    // Plain backtest with Monte Carlo: JSON carries it; another seed gives other percentiles.
    let json = |seed: &str| -> serde_json::Value {
        let out = p.vrev(&[
            "backtest",
            "bars.txt",
            "--profile",
            "bidirectional",
            "--json",
            "--monte-carlo",
            "500",
            "--seed",
            seed,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let (a, b, c) = (json("1"), json("1"), json("2"));
    assert_eq!(a, b);
    assert_eq!(a["monte_carlo"]["samples"], 500);
    assert_ne!(a["monte_carlo"], c["monte_carlo"]);
    assert_eq!(a["bars"], c["bars"]);
}

#[test]
fn a_walk_forward_prints_its_folds_and_writes_csv_json_and_a_page() {
    let p = Project::new();
    write_nt(&p.path("bars.txt"), &bars(4, 7));
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--profile",
        "bidirectional",
        "--sweep",
        "profile.bidirectional.stop_pct=0.05,0.1",
        "--sweep",
        "profile.bidirectional.target_points=2,3",
        "--walk-forward",
        "train=2D,test=1D",
        "--sort",
        "sharpe",
        "--report",
        "wf",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(
        s.contains(
            "walk-forward train=2D,test=1D (rolling): 5 folds, 4 cells each chosen by sharpe"
        ),
        "{s}"
    );
    assert!(s.contains("stitched out of sample: 5 trading days"), "{s}");
    // 5 one-day test spans: the Sharpe rests on 5 days, and each fold's choice on a handful of
    // trades; both are said.
    assert!(
        s.contains("caution: stitched out of sample: Sharpe")
            || s.contains("caution: stitched out of sample:"),
        "{s}"
    );
    assert!(s.contains("in-sample trades"), "{s}");
    let csv = std::fs::read_to_string(p.path("wf/walk_forward.csv")).unwrap();
    let csv: String = csv
        .lines()
        .filter(|l| !l.starts_with("# "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(csv.lines().count(), 6);
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .contains(",profile.bidirectional.stop_pct,profile.bidirectional.target_points,"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("wf/walk_forward.json")).unwrap())
            .unwrap();
    assert_eq!(json["folds"].as_array().unwrap().len(), 5);
    assert_eq!(json["sort"], "sharpe");
    assert_eq!(json["days"].as_array().unwrap().len(), 5);
    let html = std::fs::read_to_string(p.path("wf/walk_forward.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("stitched out-of-sample equity"));
    assert!(
        !html.contains("<script") && !html.contains("http://")
            || html.contains("xmlns=\"http://www.w3.org/2000/svg\"")
    );
}

#[test]
fn a_sweep_says_how_far_its_best_cell_can_be_trusted_and_draws_a_heatmap() {
    let p = Project::new();
    write_nt(&p.path("bars.txt"), &bars(2, 5));
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--sweep",
        "profile.production.params.drop_threshold=3,4,5",
        "--sweep",
        "profile.production.stop_pct=0.1,0.2",
        "--report",
        "sw",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("sorted by net-pnl (best first)"), "{s}");
    assert!(
        s.contains("probability of backtest overfitting (PBO, CSCV 2 groups, 2 splits)"),
        "{s}"
    );
    assert!(s.contains("deflated Sharpe ratio of the best cell"), "{s}");
    // 5 days: the best cell's Sharpe and trade count get cautions.
    assert!(s.contains("caution: best cell (drop_threshold="), "{s}");
    assert!(
        s.contains("Sharpe") && s.contains("from 5 trading days (fewer than 20)"),
        "{s}"
    );
    // Money as in the main table.
    assert!(s.contains('$'), "{s}");
    let html = std::fs::read_to_string(p.path("sw/sweep.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("net-pnl over the grid"));
    // 3 × 2 squares, one per cell, each titled with its values.
    assert_eq!(html.matches("<rect").count(), 6, "{html}");
    assert!(html.contains("<title>drop_threshold=5, stop_pct=0.2</title>"));
}

/// The real 2021–2022 file: a sweep's PBO and DSR are defined, and a monthly walk-forward runs.
#[test]
fn real_data_sweep_and_walk_forward_needs_real_data() {
    let Some(file) = real_data() else {
        skip("../shared/data/es-1m-2021-2022.nt.txt.gz is not present");
        return;
    };
    let p = Project::new();
    let f = file.to_str().unwrap();
    let out = p.vrev(&[
        "backtest",
        f,
        "--from",
        "2021-01-01",
        "--to",
        "2021-06-30",
        "--sweep",
        "profile.production.params.drop_threshold=3,5",
        "--sweep",
        "profile.production.stop_pct=0.1,0.2",
        "--walk-forward",
        "train=2M,test=1M",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("4 folds"), "{s}");
    let out = p.vrev(&[
        "backtest",
        f,
        "--from",
        "2021-01-01",
        "--to",
        "2021-06-30",
        "--sweep",
        "profile.production.params.drop_threshold=3,5",
        "--sweep",
        "profile.production.stop_pct=0.1,0.2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("CSCV 16 groups, 12870 splits"), "{s}");
}

/// Issue 19: `--walk-forward …,anchored,anchored` was accepted.
#[test]
fn walk_forward_anchored_anchored_is_refused() {
    let p = Project::new();
    write_nt(&p.path("bars.txt"), &bars(1, 5));
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--sweep",
        "profile.production.stop_pct=0.1,0.2",
        "--walk-forward",
        "train=2D,test=1D,anchored,anchored",
    ]);
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(
        e.contains("--walk-forward train=2D,test=1D,anchored,anchored: anchored is given twice"),
        "{e}"
    );
}

/// Issues 18, 19 and 22: a walk-forward with the same grid as a sweep printed neither PBO nor
/// the deflated Sharpe, no DSR line said what luck it was measured against, the folds showed no
/// refusals, and walk_forward.* carried no run identity.
#[test]
fn walk_forward_reports_pbo_dsr_with_its_luck_benchmark_refusals_and_run_identity() {
    let p = Project::new();
    write_nt(&p.path("bars.txt"), &bars(4, 12));
    let args = [
        "backtest",
        "bars.txt",
        "--profile",
        "bidirectional",
        "--sweep",
        "profile.bidirectional.stop_pct=0.05,0.1",
        "--sweep",
        "profile.bidirectional.max_open_positions=1,2",
        "--walk-forward",
        "train=4D,test=2D",
        "--sort",
        "net-pnl",
        "--report",
        "wf",
    ];
    let out = p.vrev(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(
        s.contains("the grid over every day the walk-forward ran (12 trading days, each cell's blocks stitched):"),
        "{s}"
    );
    assert!(s.contains("overfitting (4 cells tried):"), "{s}");
    assert!(
        s.contains("probability of backtest overfitting (PBO, CSCV 6 groups, 20 splits): "),
        "{s}"
    );
    assert!(
        s.contains("ranks the cells by the Sharpe of their daily P&L, whatever --sort is"),
        "{s}"
    );
    assert!(
        s.contains("deflated Sharpe ratio of the best cell ("),
        "{s}"
    );
    assert!(s.contains("luck benchmark: Sharpe "), "{s}");
    assert!(
        s.contains("what the best of 4 cells shows with no skill"),
        "{s}"
    );
    assert!(s.contains("refused proposals out of sample: "), "{s}");
    assert!(s.contains("script errors: none in any cell"), "{s}");
    // The fold table's refusal column adds up to the total line.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("wf/walk_forward.json")).unwrap())
            .unwrap();
    let total: u64 = json["refusals"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let by_fold: u64 = json["folds"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["refusals"].as_object().unwrap().values())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, by_fold);
    assert!(
        total > 0,
        "one position at a time refuses some proposals: {json}"
    );
    assert!(
        json["overfitting"]["pbo"]["probability"].is_number(),
        "{json}"
    );
    assert!(json["overfitting"]["luck_benchmark"].is_number(), "{json}");
    assert!(json["run"]["command"]
        .as_str()
        .unwrap()
        .starts_with("vrev backtest bars.txt --profile bidirectional --sweep"));
    let hash = vrev::strategy::content_hash(&std::fs::read(p.path("bars.txt")).unwrap());
    assert_eq!(json["run"]["data"][0]["hash"], hash.as_str());
    let csv = std::fs::read_to_string(p.path("wf/walk_forward.csv")).unwrap();
    assert!(csv.starts_with("# vrev: "), "{csv}");
    assert!(csv.contains(&format!("# data: bars.txt @{hash}")), "{csv}");
    let header = csv.lines().find(|l| !l.starts_with('#')).unwrap();
    assert!(header.contains(",script_errors,oos_refused"), "{header}");
    let html = std::fs::read_to_string(p.path("wf/walk_forward.html")).unwrap();
    for want in [
        "What produced this page",
        &hash,
        "<h2>Overfitting</h2>",
        "luck benchmark: Sharpe ",
        "refused proposals out of sample: ",
        "<th>OOS refused</th>",
        "script errors: none in any cell",
    ] {
        assert!(html.contains(want), "{want}: {html}");
    }
}
