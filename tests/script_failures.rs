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

/// Issue 22: a sweep with script errors in 16 cells left no trace in its files. sweep.csv has
/// each cell's count, sweep.html and walk_forward.html say which cells had errors and mark them.
#[test]
fn sweep_and_walk_forward_files_carry_each_cells_script_errors_marked() {
    let p = project();
    p.write(
        "strategies/probe.rhai",
        "fn params() { #{ n: 1 } }\nfn on_bar(t, p) {\n    if p.n == 2 && et_minute(t) >= 13 * 60 + 30 {\n        let x = hihg(t);\n    }\n}\n",
    );
    let sweep = ["--sweep", "profile.production.params.n=1,2"];
    let out = p.vrev(
        &[
            &[
                "backtest",
                "bars.txt",
                "--allow-script-errors",
                "--report",
                "sw",
            ][..],
            &sweep,
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("⚠ 90"), "{}", stdout(&out));
    let csv = std::fs::read_to_string(p.path("sw/sweep.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().filter(|l| !l.starts_with('#')).collect();
    let head: Vec<&str> = rows[0].split(',').collect();
    let col = head.iter().position(|h| *h == "script_errors").unwrap();
    let errors: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r.split(',').nth(col).unwrap())
        .collect();
    assert_eq!(errors, ["0", "90"], "{csv}");
    let html = std::fs::read_to_string(p.path("sw/sweep.html")).unwrap();
    assert!(html.contains("⚠ Script errors in 1 of 2 cells"), "{html}");
    assert!(html.contains("n=2 (90)"), "{html}");
    assert!(html.contains("<tr class=\"err\">"), "{html}");
    assert!(
        html.contains("⚠ 90 errors"),
        "the heatmap square is marked: {html}"
    );

    let bars = vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        days: 3,
        ..Default::default()
    });
    write_nt(&p.path("bars.txt"), &bars);
    let out = p.vrev(
        &[
            &[
                "backtest",
                "bars.txt",
                "--allow-script-errors",
                "--report",
                "wf",
            ][..],
            &sweep,
            &["--walk-forward", "train=1D,test=1D"],
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("⚠ script errors in 1 of 2 cells: n=2 ("),
        "{}",
        stdout(&out)
    );
    let html = std::fs::read_to_string(p.path("wf/walk_forward.html")).unwrap();
    assert!(
        html.contains("⚠ script errors in 1 of 2 cells: n=2 ("),
        "{html}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("wf/walk_forward.json")).unwrap())
            .unwrap();
    assert_eq!(json["script_errors"][0][0], "n=2", "{json}");
}
