//! The budget of a script call (docs/script-limits.md): offline runs are bounded by a count of
//! operations, never by the clock, so their output does not depend on the machine's load.

mod common;
use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use vrev::market::synth::{generate, SynthOptions};

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

/// Reads 28 series on every call and spends work that depends on the bar: calls on every fifth
/// bar run past the operation budget (200,000); the others take several milliseconds each, far past a 1 ms clock, the others stay under it.
const HEAVY: &str = r#"
fn params() { #{ drop_threshold: 4.0, drop_window: 15, breakout_window: 30, pullback_window: 15, pullback_tolerance: 1.0 } }
fn on_bar(t, p) {
    let s = 0.0;
    for n in 2..30 { let v = ema(n)[t]; if !v.is_nan() { s += v; } }
    let lo = lowest_low(t - 600, t);
    let k = 0;
    let n = (t % 5) * 15000;
    while k < n { k += 1; }
    if t % 40 == 0 && !s.is_nan() && lo >= 0 {
        return #{ side: "BUY", anchor_a: high(t), anchor_b: low(t) - (t % 3).to_float(), confidence: 0.8 };
    }
}
"#;

/// Runs the heavy backtest; returns trades.csv, daily.csv and summary.json without its `run`
/// (which holds the command line).
fn heavy_backtest(
    p: &Project,
    dir: &str,
    extra: &[&str],
) -> (Vec<u8>, Vec<u8>, serde_json::Value, String) {
    let mut args = vec![
        "backtest",
        "bars.txt",
        "--profile",
        "production",
        "--allow-script-errors",
        "--report",
        dir,
    ];
    args.extend_from_slice(extra);
    let out = p.vrev(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let read = |f: &str| std::fs::read(p.path(&format!("{dir}/{f}"))).unwrap();
    let mut summary: serde_json::Value = serde_json::from_slice(&read("summary.json")).unwrap();
    summary.as_object_mut().unwrap().remove("run");
    (read("trades.csv"), read("daily.csv"), summary, stderr(&out))
}

#[test]
fn a_backtest_is_byte_identical_under_load_and_with_a_1_ms_call_budget() {
    let p = synthetic_project(3);
    p.write("strategies/vreversal.rhai", HEAVY);
    let quiet = heavy_backtest(&p, "quiet", &[]);
    let text = String::from_utf8_lossy(&quiet.0).to_string();
    assert!(text.lines().count() > 2, "the script trades:\n{text}");
    let errors = &quiet.3;
    assert!(
        errors.contains("script stopped after 200000 operations"),
        "every fifth call runs past the budget: {errors}"
    );

    // Two busy loops on a machine of two cores.
    let stop = Arc::new(AtomicBool::new(false));
    let spinners: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                }
            })
        })
        .collect();
    let loaded = heavy_backtest(&p, "loaded", &[]);
    let tight = heavy_backtest(&p, "tight", &["--set", "engine.script_max_call_ms=1"]);
    stop.store(true, Ordering::Relaxed);
    for s in spinners {
        s.join().unwrap();
    }
    for (name, other) in [("under load", &loaded), ("with a 1 ms budget", &tight)] {
        assert!(quiet.0 == other.0, "trades.csv differs {name}");
        assert!(quiet.1 == other.1, "daily.csv differs {name}");
        assert_eq!(quiet.2, other.2, "summary.json differs {name}");
    }
}

/// The shipped profiles, each a shipped script.
const SHIPPED: [&str; 5] = [
    "production",
    "bidirectional",
    "orb",
    "vwap_reversion",
    "ema_pullback",
];

/// Backtests every shipped profile over `data` with a tenth of the default budget (20,000
/// operations per call): no call may be stopped.
fn shipped_scripts_fit_in_a_tenth_of_the_budget(p: &Project, data: &str) {
    for profile in SHIPPED {
        let out = p.vrev(&[
            "backtest",
            data,
            "--profile",
            profile,
            "--set",
            "engine.script_max_operations=20000",
            "--report",
            &format!("r-{profile}"),
        ]);
        let (o, e) = (stdout(&out), stderr(&out));
        assert!(out.status.success(), "{profile}:\n{o}\n{e}");
        assert!(!e.contains("SCRIPT ERRORS"), "{profile}:\n{e}");
    }
}

#[test]
fn shipped_scripts_use_under_a_tenth_of_the_budget_on_synthetic_bars() {
    let p = synthetic_project(10);
    shipped_scripts_fit_in_a_tenth_of_the_budget(&p, "bars.txt");
}

#[test]
fn shipped_scripts_use_under_a_tenth_of_the_budget_on_the_2_year_file_needs_real_data() {
    let Some(data) = real_data() else {
        return skip("needs ../shared/data/es-1m-2021-2022.nt.txt.gz");
    };
    let p = Project::new();
    shipped_scripts_fit_in_a_tenth_of_the_budget(&p, data.to_str().unwrap());
}
