//! `vrev test`: every scenario in tests/scenarios/ passes (run by the real binary from the repo
//! root, as a trader runs it), and the runner itself — broken files give `file:line:column`
//! errors without stopping the others, a failure shows expected versus actual side by side with
//! the bars around it, exit codes, `--filter`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `vrev ARGS` in `dir`.
fn vrev(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vrev"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run vrev")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A temp folder of scenario files, run against the repo's config (and its strategies).
struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new(files: &[(&str, &str)]) -> Dir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        Dir { dir }
    }
    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
    /// `vrev test <dir> --config <repo>/config.toml [extra]`, run inside the temp folder.
    fn test(&self, extra: &[&str]) -> Output {
        let config = root().join("config.toml");
        let mut args = vec!["test", ".", "--config", config.to_str().unwrap()];
        args.extend_from_slice(extra);
        vrev(&self.path(), &args)
    }
}

const GOOD: &str = r#"
name = "good: the reference V"
date = 2025-02-13
bars = '''
13:20 flat until 13:47 at 6089.50
v_reversal high 6107.25 low 6091.50 signal 13:59
flat 2 bars
'''

[[signal]]
time = "13:59"
side = "BUY"
id = "20250213_135900_6107.25_6091.50"
stop = 6102.25
"#;

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or("")
}

#[test]
fn every_shipped_scenario_passes() {
    let out = vrev(root(), &["test"]);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "vrev test failed:\n{text}\n{}",
        stderr(&out)
    );
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("test ")).collect();
    assert!(lines.iter().all(|l| l.ends_with(" ... ok")), "{text}");
    let files = std::fs::read_dir(root().join("tests/scenarios"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "toml")
        })
        .count();
    assert!(files >= 25, "only {files} scenario files");
    assert_eq!(lines.len(), files, "{text}");
    assert_eq!(last_line(&text), format!("{files} passed, 0 failed"));
}

#[test]
fn filter_selects_scenarios_by_name_case_insensitively() {
    let out = vrev(root(), &["test", "--filter", "dst"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let names: Vec<&str> = text.lines().filter(|l| l.starts_with("test ")).collect();
    assert_eq!(names.len(), 4, "{text}");
    assert!(names.iter().all(|l| l.contains("DST")), "{text}");
    assert_eq!(last_line(&text), "4 passed, 0 failed");

    let out = vrev(root(), &["test", "--filter", "no scenario is called this"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(last_line(&stdout(&out)), "0 passed, 0 failed");
    assert!(
        stderr(&out).contains("error: no scenario name contains `no scenario is called this`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn exit_code_is_zero_when_all_pass_and_one_when_any_fails() {
    let d = Dir::new(&[("good.toml", GOOD)]);
    let out = d.test(&[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        stdout(&out),
        "test good: the reference V ... ok\n\n1 passed, 0 failed\n"
    );

    let bad = GOOD
        .replace("good: the reference V", "bad: wrong stop")
        .replace("6102.25", "6102.00");
    let d = Dir::new(&[("good.toml", GOOD), ("wrong.toml", &bad)]);
    let out = d.test(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(last_line(&stdout(&out)), "1 passed, 1 failed");
    assert!(stdout(&out).contains("test bad: wrong stop ... FAILED"));
    assert_eq!(stderr(&out).trim(), "error: 1 of 2 scenarios failed");
}

#[test]
fn failure_shows_expected_and_actual_side_by_side_and_the_bars_around_it() {
    // Wrong stop, and a second expected signal that never comes.
    let text =
        GOOD.replace("6102.25", "6102.00") + "\n[[signal]]\ntime = \"14:30\"\nside = \"BUY\"\n";
    let d = Dir::new(&[("wrong.toml", &text)]);
    let out = d.test(&[]);
    let o = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{o}");
    for want in [
        "./wrong.toml:2: 2 problem(s):",
        "signal (line 10) at 13:59 BUY 20250213_135900_6107.25_6091.50: stop expected 6102.00, got 6102.25",
        "missing signal (line 16): expected at 14:30 BUY, the engine admitted no such signal",
        "signals (expected | actual):",
        "#1 [[signal]] at line 10",
        "#2 [[signal]] at line 16",
    ] {
        assert!(o.contains(want), "missing {want:?} in:\n{o}");
    }
    // Side by side: the differing row is marked, expected left, actual right.
    let stop_row = o.lines().find(|l| l.contains("! stop")).expect(&o);
    let (left, right) = stop_row.split_once('|').expect(stop_row);
    assert!(
        left.contains("6102.00") && right.trim() == "6102.25",
        "{stop_row}"
    );
    let time_row = o
        .lines()
        .find(|l| l.trim_start().starts_with("time") && l.contains("13:59"))
        .expect(&o);
    assert!(time_row.ends_with("| 2025-02-13 13:59:00"), "{time_row}");
    // The bars around the first difference, ET close times, the signal bar marked.
    assert!(o.contains("bars around 2025-02-13 13:59 ET"), "{o}");
    assert!(o.contains("line  time ET"), "{o}");
    let marked = o
        .lines()
        .find(|l| l.trim_start().starts_with('>'))
        .expect(&o);
    for want in [
        "2025-02-13 13:59",
        "6109.00",
        "6107.50",
        "6108.25",
        "v_reversal retest",
        "signal BUY",
    ] {
        assert!(marked.contains(want), "{want} not in {marked}");
    }
    assert!(
        o.contains("2025-02-13 13:53"),
        "six bars before the mark:\n{o}"
    );
    assert!(o.contains("2025-02-13 14:01"), "bars after the mark:\n{o}");
    assert!(o.contains("entry fill 6108.50"), "{o}");
}

#[test]
fn rejection_mismatch_lists_expected_and_actual_rejections() {
    let text = r#"
name = "limit that is not there"
date = 2025-06-11
set = ["profile.production.max_daily_signals=2"]
bars = '''
09:00 flat until 09:03 at 4992.00
v_reversal high 5000.00 low 4994.00 signal 09:15
flat until 09:33 at 4952.00
v_reversal high 4960.00 low 4954.00 signal 09:45
'''
no_signal = true

[[rejection]]
reason = "daily_limit"
time = "09:45"
"#;
    let d = Dir::new(&[("r.toml", text)]);
    let o = stdout(&d.test(&[]));
    for want in [
        "unexpected signal: 2025-06-11 09:15 BUY 20250611_091500_5000.00_4994.00",
        "unexpected signal: 2025-06-11 09:45 BUY 20250611_094500_4960.00_4954.00",
        "missing rejection (line 13): expected daily_limit at 09:45",
        "rejections (expected, in order; others may come between | actual):",
        "#1 not expected",
    ] {
        assert!(o.contains(want), "missing {want:?} in:\n{o}");
    }
}

#[test]
fn broken_files_give_file_line_column_and_do_not_stop_the_others() {
    let body = |bars: &str, rest: &str| {
        format!("name = \"broken\"\ndate = 2025-02-13\nbars = '''\n{bars}\n'''\n{rest}")
    };
    let good_bars =
        "13:20 flat until 13:47 at 6089.50\nv_reversal high 6107.25 low 6091.50 signal 13:59";
    let named = |name: &str, text: String| text.replacen("\"broken\"", &format!("\"{name}\""), 1);
    let cases: Vec<(&str, String, &str)> = vec![
        ("a_toml.toml", body(good_bars, "no_signal = tru\n"), "a_toml.toml:7:13: "),
        (
            "b_key.toml",
            named("b", body(good_bars, "[[signal]]\ntime = \"13:59\"\nstopp = 6102.25\n")),
            "b_key.toml:9:1: unknown field `stopp`, expected one of",
        ),
        (
            "c_step.toml",
            named("c", body("13:20 flat 3 bars at 6089.50\nwiggle 3 bars", "no_signal = true\n")),
            "c_step.toml:5:1: unknown step `wiggle`",
        ),
        (
            "d_back.toml",
            named("d", body("13:20 flat 3 bars at 6089.50\n13:21 flat 1 bar", "no_signal = true\n")),
            "d_back.toml:5:1: this bar closes at 2025-02-13 13:21 ET, not after the previous bar (2025-02-13 13:22 ET, line 4)",
        ),
        (
            "e_gap.toml",
            named("e", body("2025-03-09 02:30 flat 3 bars at 6000", "no_signal = true\n")),
            "e_gap.toml:4:12: 2025-03-09 02:30:00 does not exist in America/New_York",
        ),
        (
            "f_bar.toml",
            named("f", body("13:30  6100  6099  6101  6100", "no_signal = true\n")),
            "f_bar.toml:4:1: invalid bar at 2025-02-13 13:30 ET (open 6100 high 6099 low 6101 close 6100): high is below low",
        ),
        (
            "g_reason.toml",
            named("g", body(good_bars, "no_signal = true\n[[rejection]]\nreason = \"too_late\"\n")),
            "g_reason.toml:9:10: reason: `too_late` is not a host rule (window, direction, confidence, duplicate, daily_limit, daily_loss, open_positions, stop, flat_by, stop_wrong_side, stop_too_wide, target_wrong_side, reward_risk, risk_too_large, size_zero)",
        ),
        (
            "h_noname.toml",
            body(good_bars, "no_signal = true\n").replacen("name = \"broken\"\n", "", 1),
            "h_noname.toml:1:1: missing field `name` (every scenario needs `name`, `date` and `bars`)",
        ),
        (
            "i_nothing.toml",
            named("i", body(good_bars, "")),
            "i_nothing.toml:1:8: say which signals the scenario expects",
        ),
        (
            "j_set.toml",
            named("j", body(good_bars, "no_signal = true\n"))
                .replacen("date =", "set = [\"profile.production.nope=1\"]\ndate =", 1),
            "j_set.toml:2:8: set: --set profile.production.nope=1: unknown field `nope`",
        ),
        (
            "k_sessions.toml",
            named("k", body(good_bars, "no_signal = true\n")).replacen(
                "date =",
                "sessions = [\n  { name = \"a\", start = \"09:00\", end = \"11:00\", profile = \"production\" },\n  { name = \"b\", start = \"10:00\", end = \"12:00\", profile = \"production\" },\n]\ndate =",
                1,
            ),
            "k_sessions.toml:4:3: sessions[1].start: window `b` overlaps window `a`",
        ),
        (
            "l_profile.toml",
            named("l", body(good_bars, "no_signal = true\n"))
                .replacen("date =", "profile = \"aggressive\"\ndate =", 1),
            "l_profile.toml:2:11: profile: `aggressive` is not a profile of",
        ),
        (
            "m_after.toml",
            named("m", body(good_bars, "[[signal]]\ntime = \"13:59\"\nrejections = 0\n")),
            "m_after.toml:9:1: unknown field `rejections`",
        ),
        (
            "n_script.toml",
            named("n", body(good_bars, "no_signal = true\n"))
                .replacen("date =", "strategy = \"strategies/missing.rhai\"\ndate =", 1),
            "n_script.toml:1: the engine did not start: ",
        ),
        (
            "o_dup.toml",
            named("good: the reference V", body(good_bars, "no_signal = true\n")),
            "o_dup.toml:1: the name is already used by ./good.toml:2",
        ),
        (
            "p_signal.toml",
            named("p", body(good_bars, "[[signal]]\nstop = 6102.25\nexit = \"tp\"\n")),
            "p_signal.toml:9:8: exit: `tp` is not one of stop, stop_gap, target, breakeven, trail, script_exit, flat_by, max_hold, end_of_data, none",
        ),
    ];
    let mut files: Vec<(&str, &str)> = vec![("good.toml", GOOD)];
    for (name, text, _) in &cases {
        files.push((name, text.as_str()));
    }
    let d = Dir::new(&files);
    let out = d.test(&[]);
    let o = stdout(&out);
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{o}\n{e}");
    assert!(!e.contains("panicked"), "{e}");
    assert!(o.contains("test good: the reference V ... ok"), "{o}");
    for (_, _, want) in &cases {
        let want = format!("./{want}");
        assert!(o.contains(&want), "missing {want:?} in:\n{o}");
    }
    assert!(
        o.contains("\n    (a key after a [[signal]] or [[rejection]] header belongs to that entry"),
        "{o}"
    );
    assert!(o.contains("test ./o_dup.toml ... FAILED"), "{o}");
    assert!(o.contains("strategies/missing.rhai"), "{o}");
    assert_eq!(
        last_line(&o),
        format!("1 passed, {} failed", cases.len()),
        "{o}"
    );
    // A file whose name cannot be read is reported whatever the filter; one with a name (even
    // with a wrong key) is filtered by it.
    let out = d.test(&["--filter", "good"]);
    let o = stdout(&out);
    assert!(o.contains("test ./a_toml.toml ... FAILED"), "{o}");
    assert!(o.contains("test ./h_noname.toml ... FAILED"), "{o}");
    assert!(o.contains("test ./o_dup.toml ... FAILED"), "{o}");
    assert!(!o.contains("b_key"), "{o}");
    assert_eq!(last_line(&o), "1 passed, 3 failed", "{o}");
}

#[test]
fn missing_paths_and_config_are_clear_errors() {
    let d = Dir::new(&[("good.toml", GOOD)]);
    let config = root().join("config.toml");
    let out = vrev(
        &d.path(),
        &[
            "test",
            "good.toml",
            "nope.toml",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let o = stdout(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        o.contains("test nope.toml ... FAILED\n    nope.toml: no such scenario file or folder"),
        "{o}"
    );
    assert_eq!(last_line(&o), "1 passed, 1 failed");

    // Run outside a project without --config.
    let out = vrev(&d.path(), &["test", "good.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.starts_with("error: config.toml: config not found (looked for "),
        "{e}"
    );
    assert!(e.contains("vrev init"), "{e}");
    assert!(e.contains("pass --config"), "{e}");
}

/// Issue 22: `vrev test FILE --explain "HH:MM"` explains one bar of a scenario.
#[test]
fn test_explain_explains_one_bar_of_a_scenario() {
    let file = "tests/scenarios/bidirectional_long_and_short.toml";
    let o = vrev(root(), &["test", file, "--explain", "09:05"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(
        out.starts_with("scenario: bidirectional: long V gives a BUY at 09:05"),
        "{out}"
    );
    assert!(out.contains("bar 2025-07-14 09:05 ET"), "{out}");
    assert!(out.contains("path of on_bar"), "{out}");
    assert!(
        out.contains("proposal: BUY entry 6251 anchors 6250 / 6244")
            && out.contains("→ ID 20250714_090500_6250.00_6244.00"),
        "{out}"
    );
    let o = vrev(root(), &["test", file, "--explain", "07:05"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no bar of the scenario `bidirectional: long V gives a BUY at 09:05")
            && stderr(&o).contains("2025-07-14 08:40 .. 2025-07-14 09:53 ET"),
        "{}",
        stderr(&o)
    );
    let o = vrev(root(), &["test", "tests/scenarios", "--explain", "09:05"]);
    assert!(
        stderr(&o).contains("give one scenario FILE"),
        "{}",
        stderr(&o)
    );
}
