//! Script errors that blanked bars end `replay`, `backtest` and `test` loudly with a non-zero
//! exit; `--allow-script-errors` keeps the exit code 0 (the summary is printed anyway).

mod common;
use common::*;

/// A script that fails in the afternoon window only (an unknown helper on a path reached after
/// 13:30 ET), the production profile running it, and one synthetic day of bars.
fn project() -> Project {
    let p = Project::new();
    p.write(
        "strategies/probe.rhai",
        "fn on_bar(t, p) {\n    if et_minute(t) >= 13 * 60 + 30 {\n        let x = hihg(t);\n    }\n}\n",
    );
    let config = std::fs::read_to_string(p.path("config.toml"))
        .unwrap()
        .replacen("strategies/vreversal.rhai", "strategies/probe.rhai", 1)
        .replacen(
            "params = { drop_threshold = 4.0, drop_window = 15, breakout_window = 30, pullback_window = 15, pullback_tolerance = 1.0 }",
            "",
            1,
        );
    p.write("config.toml", &config);
    let bars = vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        days: 1,
        ..Default::default()
    });
    write_nt(&p.path("bars.txt"), &bars);
    p
}

/// The afternoon window 13:30–15:00 ET of 2025-02-10: 90 bars, the first closing at 13:30.
const SUMMARY: &str = "SCRIPT ERRORS: 90 bars got no signal because the script failed: first at strategies/probe.rhai:3:17 on 2025-02-10 13:30 ET: Function not found: hihg (i64)";

#[test]
fn replay_and_backtest_end_loudly_and_exit_1_unless_allowed() {
    let p = project();
    for command in ["replay", "backtest"] {
        let out = p.vrev(&[command, "bars.txt"]);
        let e = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{command}: {e}");
        assert!(e.contains(SUMMARY), "{command}:\n{e}");
        assert!(e.contains("--allow-script-errors"), "{command}:\n{e}");

        let out = p.vrev(&[command, "bars.txt", "--allow-script-errors"]);
        let e = stderr(&out);
        assert!(out.status.success(), "{command} allowed: {e}");
        assert!(
            e.contains(SUMMARY),
            "{command} allowed: the summary stays:\n{e}"
        );
        // The run itself still reported what it did.
        let o = stdout(&out);
        assert!(
            o.contains("signals: 0") || o.contains("0 signals"),
            "{command}:\n{o}"
        );
    }
}

#[test]
fn a_run_without_script_errors_says_nothing_and_exits_0() {
    let p = project();
    let config = std::fs::read_to_string(p.path("config.toml"))
        .unwrap()
        .replace("strategies/probe.rhai", "strategies/vreversal.rhai");
    p.write("config.toml", &config);
    for command in ["replay", "backtest"] {
        let out = p.vrev(&[command, "bars.txt"]);
        assert!(out.status.success(), "{command}: {}", stderr(&out));
        assert!(!stderr(&out).contains("SCRIPT ERRORS"), "{}", stderr(&out));
    }
}

#[test]
fn vrev_test_sums_up_script_errors_and_allows_them_on_request() {
    let p = project();
    p.write(
        "scenarios/afternoon.toml",
        "name = \"probe in the afternoon\"\ndate = 2025-07-16\nstrategy = \"strategies/probe.rhai\"\n\nbars = '''\n13:20 flat until 13:40 at 6242.00\n'''\n\nno_signal = true\n",
    );
    let out = p.vrev(&["test", "scenarios"]);
    let (o, e) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{o}{e}");
    assert!(o.contains("0 passed, 1 failed"), "{o}");
    assert!(
        e.contains("SCRIPT ERRORS: 11 bars got no signal because the script failed: first at strategies/probe.rhai:3:17 on 2025-07-16 13:30 ET: Function not found: hihg (i64)"),
        "{e}"
    );

    let out = p.vrev(&["test", "scenarios", "--allow-script-errors"]);
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{o}{e}");
    assert!(o.contains("1 passed, 0 failed"), "{o}");
    assert!(e.contains("SCRIPT ERRORS: 11 bars"), "{e}");
}

#[test]
fn a_sweep_with_script_errors_in_its_cells_fails_unless_allowed() {
    let p = project();
    p.write(
        "strategies/probe.rhai",
        "fn params() { #{ n: 1 } }\nfn on_bar(t, p) {\n    if p.n == 2 && et_minute(t) >= 13 * 60 + 30 {\n        let x = hihg(t);\n    }\n}\n",
    );
    let sweep = ["--sweep", "profile.production.params.n=1,2"];
    let out = p.vrev(&[&["backtest", "bars.txt"][..], &sweep].concat());
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(
        e.contains("SCRIPT ERRORS: 90 script error(s) blanked bars in 1 sweep cell(s), first n=2"),
        "{e}"
    );
    let out = p.vrev(
        &[
            &["backtest", "bars.txt", "--allow-script-errors"][..],
            &sweep,
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_walk_forward_with_script_errors_in_its_cells_fails_unless_allowed() {
    let p = project();
    p.write(
        "strategies/probe.rhai",
        "fn params() { #{ n: 1 } }\nfn on_bar(t, p) {\n    if p.n == 2 && et_minute(t) >= 13 * 60 + 30 {\n        let x = hihg(t);\n    }\n}\n",
    );
    let bars = vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        days: 3,
        ..Default::default()
    });
    write_nt(&p.path("bars.txt"), &bars);
    let args = [
        "backtest",
        "bars.txt",
        "--sweep",
        "profile.production.params.n=1,2",
        "--walk-forward",
        "train=1D,test=1D",
    ];
    let out = p.vrev(&args);
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(
        e.contains("blanked bars in 1 sweep cell(s), first n=2"),
        "{e}"
    );
    let out = p.vrev(&[&args[..], &["--allow-script-errors"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
}
