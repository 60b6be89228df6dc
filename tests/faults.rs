//! Nothing gets past the host's limits, whatever fails (DESIGN §14, issue 10). Each test is
//! named after the failure it pins and runs the real binary in a temp project. Tests that need a
//! small tmpfs mount it themselves and say plainly when they cannot (not root, no mount).

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A config with one window-less profile whose script proposes a BUY on every bar with a
/// unique ID: only the host's limits (1 open position, 20 a day) keep signals rare.
const EVERY_BAR_CONFIG: &str = r#"
[[session]]
name = "all_day"
start = "00:00"
end = "23:59"
profile = "every_bar"

[profile.every_bar]
strategy = "strategies/every_bar.rhai"
direction = "long"
contracts = 1
stop_pct = 0.1
target_points = 3.0
max_hold_minutes = 5
max_daily_signals = 20
"#;

const EVERY_BAR_SCRIPT: &str = r#"
fn on_bar(t, p) {
    #{ side: "BUY", anchor_a: high(t), anchor_b: low(t) }
}
"#;

fn every_bar_project(days: u32) -> Project {
    every_bar_project_of(days, usize::MAX)
}

/// `max_bars` bars of `days` synthetic trading days, from Monday 00:00 ET on (the first 360 bars
/// are Sunday evening, when no window is open).
fn every_bar_project_of(days: u32, max_bars: usize) -> Project {
    let p = Project::new();
    p.write("config.toml", EVERY_BAR_CONFIG);
    p.write("strategies/every_bar.rhai", EVERY_BAR_SCRIPT);
    let mut bars = vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        days,
        seed: 5,
        ..Default::default()
    });
    if max_bars < bars.len() {
        bars = bars[360..360 + max_bars].to_vec();
    }
    write_nt(&p.path("bars.txt"), &bars);
    p
}

/// Mounts a tmpfs of `size` at `dir` (created), or says why it cannot.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            skip("cannot mount a tmpfs here (needs root and mount rights); the /dev/full tests still run");
            return None;
        }
        Some(Tmpfs(dir.to_path_buf()))
    }

    /// Fills the file system completely.
    fn fill(&self) {
        let mut f = std::fs::File::create(self.0.join("filler")).unwrap();
        let block = vec![7u8; 4096];
        while std::io::Write::write_all(&mut f, &block).is_ok() {}
    }

    fn remount_read_only(&self) {
        let ok = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount read-only");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_failed_state_write_never_lifts_a_limit_full_state_disk_needs_mount_rights() {
    // The uninterrupted run says which signals the limits admit.
    let reference = every_bar_project(5);
    let out = reference.vrev(&["replay", "bars.txt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let admitted: std::collections::BTreeSet<String> =
        reference.signal_files().into_iter().collect();
    assert!(admitted.len() >= 50, "{}", admitted.len());

    let p = every_bar_project(5);
    let Some(_fs) = Tmpfs::mount(&p.path("state"), "12k") else {
        return;
    };
    let out = p.vrev(&["replay", "bars.txt"]);
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(
        !out.status.success(),
        "a failed state write must fail the run:\n{o}\n{e}"
    );
    assert!(e.contains("cannot record its state"), "{e}");
    assert!(e.contains("state could not be recorded"), "{e}");
    let files = p.signal_files();
    assert!(
        !files.is_empty(),
        "some signals were written before the disk filled"
    );
    // Before the fix the ledger write failed after the rename, the signal was not counted, and
    // the limits let through signals no uninterrupted run admits (4,919 files in 5 days).
    for f in &files {
        assert!(admitted.contains(f), "{f} is beyond the host's limits");
    }
    assert!(
        files.len() < admitted.len(),
        "{} files: nothing stopped",
        files.len()
    );
    assert!(o.contains("halted"), "the refusals name the halt:\n{o}");
    assert!(temp_files(&p.path("signals")).is_empty());
}

#[test]
fn a_failed_state_write_never_lifts_a_limit_unwritable_journal() {
    // /dev/full refuses every write. vrev writes only regular files it creates (issue 24), so a
    // journal path that is a device is refused before the first bar: nothing is admitted, and
    // the message names the journal. (A journal whose writes fail mid-run is the tmpfs test
    // above, which needs mount rights.)
    let p = every_bar_project(2);
    let out = p.vrev(&["replay", "bars.txt", "--journal", "/dev/full"]);
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{o}\n{e}");
    assert!(e.contains("/dev/full: cannot open the journal"), "{e}");
    assert!(e.contains("is a device"), "{e}");
    assert!(
        p.signal_files().is_empty(),
        "nothing may be admitted once state cannot be recorded"
    );
}

#[test]
fn a_full_signal_folder_loses_no_signal_silently_and_leaves_no_temp_file_needs_mount_rights() {
    let p = every_bar_project(1);
    let Some(fs) = Tmpfs::mount(&p.path("signals"), "16k") else {
        return;
    };
    fs.fill();
    let out = p.vrev(&["replay", "bars.txt"]);
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{o}\n{e}");
    assert!(e.contains("NOT written"), "{e}");
    assert!(e.contains("could not be written"), "{e}");
    assert_eq!(temp_files(&p.path("signals")), Vec::<String>::new());
    let failed = p
        .journal()
        .iter()
        .filter(|ev| ev["event"] == "signal_write_failed")
        .count();
    assert!(failed > 0, "each unwritten signal is journaled");
    // An unwritten signal never reached NinjaTrader: it is not counted as a signal.
    assert!(o.contains("signals: 0"), "{o}");
}

#[test]
fn a_read_only_signal_folder_loses_no_signal_silently_needs_mount_rights() {
    let p = every_bar_project(1);
    let Some(fs) = Tmpfs::mount(&p.path("signals"), "1m") else {
        return;
    };
    fs.remount_read_only();
    let out = p.vrev(&["replay", "bars.txt"]);
    let e = stderr(&out);
    assert!(!out.status.success(), "{e}");
    // Refused at the start, before any bar: the signals folder's lock cannot be taken there
    // (issue 20). A folder that turns read-only mid-run: `NOT written` per signal (the full
    // disk test above).
    assert!(
        e.contains("signals/.vrev-lock: cannot open the lock file")
            && e.contains("Read-only file system"),
        "{e}"
    );
    assert!(p.signal_files().is_empty());
}

#[test]
fn one_engine_per_state_folder_the_second_is_refused_with_the_holder() {
    let p = every_bar_project(3);
    // The first engine paces slowly, so it holds the state folder while the second starts.
    let mut first = Command::new(env!("CARGO_BIN_EXE_vrev"))
        .args(["replay", "bars.txt", "--pace", "60"])
        .current_dir(p.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = p.path("state/lock");
    let start = Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("pid")) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the first engine never locked"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = p.vrev(&["replay", "bars.txt"]);
    let e = stderr(&out);
    assert!(!out.status.success());
    assert!(e.contains("is in use by another vrev"), "{e}");
    assert!(e.contains(&format!("pid {}", first.id())), "{e}");
    assert!(e.contains("replay"), "{e}");
    // Killing the holder (as a crash would) releases the lock: no stale lock file blocks.
    first.kill().unwrap();
    first.wait().unwrap();
    let out = p.vrev(&["replay", "bars.txt"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Issue 20: two engines with their own state folders wrote into one signals folder without a
/// word. The signals folder has its own lock (`.vrev-lock`): a second engine is refused whatever
/// its state folder, naming the holder, and the lock goes with the holder.
#[test]
fn one_engine_per_signals_folder_a_second_with_its_own_state_is_refused_naming_the_holder() {
    let p = every_bar_project(1);
    // Nothing listens here: `vrev run` keeps retrying, holding its folders.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("ws://127.0.0.1:{port}");
    let run = |state: &str| {
        Command::new(env!("CARGO_BIN_EXE_vrev"))
            .args([
                "run",
                "--url",
                &url,
                "--state",
                state,
                "--status-every",
                "0",
            ])
            .current_dir(p.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut first = run("state-a");
    let lock = p.path("signals/.vrev-lock");
    let start = Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("started:")) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the first engine never locked the signals folder"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&lock).unwrap();
    for key in [
        format!("pid: {}", first.id()),
        "host: ".into(),
        "mode: run".into(),
        "state folder: ".into(),
        "started: ".into(),
    ] {
        assert!(text.contains(&key), "{key} in:\n{text}");
    }
    assert!(text.contains("state-a"), "{text}");
    // A second `run` with its own state folder: refused, the holder named.
    let mut second = run("state-b");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = second.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = second.kill();
            let _ = first.kill();
            panic!("a second engine runs on the same signals folder");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut e = String::new();
    std::io::Read::read_to_string(second.stderr.as_mut().unwrap(), &mut e).unwrap();
    assert!(!status.success(), "{e}");
    assert!(
        e.contains("signals folder") && e.contains("is in use by another vrev"),
        "{e}"
    );
    assert!(e.contains(&format!("pid {}", first.id())), "{e}");
    assert!(e.contains("run started"), "{e}");
    assert!(e.contains("state-a"), "the holder's state folder: {e}");
    assert!(e.contains("one engine per signals folder"), "{e}");
    // A replay into the same folder (its own state): refused too; nothing written.
    let out = p.vrev(&["replay", "bars.txt", "--state", "state-c"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is in use by another vrev"),
        "{}",
        stderr(&out)
    );
    assert!(p.signal_files().is_empty(), "{:?}", p.signal_files());
    // The holder stops (Ctrl+C): the folder is free again.
    let ok = Command::new("kill")
        .args(["-INT", &first.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let start = Instant::now();
    while first.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "run did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = p.vrev(&["replay", "bars.txt", "--state", "state-c"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!p.signal_files().is_empty());
    // The lock file stays (it is never what decides) and names the last holder.
    assert!(std::fs::read_to_string(&lock)
        .unwrap()
        .contains("mode: replay"));
}

/// Replays 200 synthetic bars through a profile running `script` on each of them.
fn run_script(script: &str) -> (Project, std::process::Output, Duration) {
    let p = every_bar_project_of(1, 200);
    p.write("strategies/every_bar.rhai", script);
    let t = Instant::now();
    let out = p.vrev(&["replay", "bars.txt"]);
    (p, out, t.elapsed())
}

#[test]
fn a_script_cannot_stall_crash_or_bypass_the_host() {
    // (script, text of the journaled error)
    let cases = [
        ("fn on_bar(t, p) { sleep(5); }", "`sleep` is not available"),
        ("fn on_bar(t, p) { sleep(1e300); }", "`sleep` is not available"),
        (
            "fn on_bar(t, p) { let a = []; a.pad(9000, 1); let n = 0; while n < 100000 { if a.contains(2) { n += 1 } n += 1 } }",
            "charged to host functions",
        ),
        (
            "fn on_bar(t, p) { #{ side: \"BUY\", entry: 2e28, anchor_a: high(t), anchor_b: low(t) } }",
            "`entry` 20000000000000000000000000000 is implausibly far",
        ),
        (
            "fn on_bar(t, p) { #{ side: \"BUY\", stop: -2e28, anchor_a: high(t), anchor_b: low(t) } }",
            "`stop`",
        ),
        (
            "fn on_bar(t, p) { #{ side: \"BUY\", anchor_a: 1e300, anchor_b: low(t) } }",
            "`anchor_a`",
        ),
    ];
    for (script, want) in cases {
        let (p, out, took) = run_script(script);
        let (o, e) = (stdout(&out), stderr(&out));
        assert_ne!(out.status.code(), Some(101), "panic for {script}:\n{e}");
        assert!(out.status.code().is_some(), "killed by a signal: {script}");
        assert!(e.contains(want), "{script}:\n{e}");
        assert!(o.contains("signals: 0"), "{script}:\n{o}");
        let errors = p
            .journal()
            .iter()
            .filter(|ev| ev["event"] == "script_error")
            .count();
        assert!(
            errors > 100,
            "{script}: every bar's error is journaled ({errors})"
        );
        // 200 bars, each stopped by its operation budget (`contains` is charged per element):
        // before, `sleep(5)` alone took 1,000 s and `sleep(1e300)` panicked.
        assert!(took < Duration::from_secs(60), "{script}: took {took:?}");
    }
}

#[test]
fn a_huge_script_is_refused_before_it_can_stall_anything() {
    let mut script = String::from("fn on_bar(t, p) { }\n");
    while script.len() < 1 << 20 {
        script.push_str("// filler filler filler filler filler filler filler filler filler\n");
    }
    let (_, out, _) = run_script(&script);
    let e = stderr(&out);
    assert!(!out.status.success());
    assert!(
        e.contains("a strategy script may be at most 256 KiB"),
        "{e}"
    );
}

#[test]
fn signal_files_cannot_be_forged_from_inside() {
    // Every way a script could try to put a line of its own into a signal file.
    let cases = [
        ("pattern: \"v\\nACTION=SELL\"", "control character"),
        ("pattern: \"a=b\"", "contains `=`"),
        ("extra: #{ note: \"x\\nQUANTITY=99\" }", "control character"),
        ("extra: #{ note: \"x\\rQUANTITY=99\" }", "control character"),
        ("extra: #{ depth: 1, DEPTH: 2 }", "differ only in case"),
        (
            "extra: #{ quantity: 99 }",
            "`QUANTITY` is a key the host writes",
        ),
        ("extra: #{ \"a b\": 1 }", "letters, digits"),
    ];
    for (field, want) in cases {
        let script = format!(
            "fn on_bar(t, p) {{ #{{ side: \"BUY\", anchor_a: high(t), anchor_b: low(t), {field} }} }}"
        );
        let (p, out, _) = run_script(&script);
        let e = stderr(&out);
        assert!(e.contains(want), "{field}:\n{e}");
        assert!(
            p.signal_files().is_empty(),
            "{field}: no file may be written"
        );
    }
    // The allowed forms write a file in which every key appears exactly once.
    let (p, out, _) = run_script(
        "fn on_bar(t, p) { #{ side: \"BUY\", anchor_a: high(t), anchor_b: low(t), pattern: \"my v\", extra: #{ note: \"retest; held\", depth: 2 } } }",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let files = p.signal_files();
    assert!(!files.is_empty());
    for f in files {
        let text = std::fs::read_to_string(p.path("signals").join(&f)).unwrap();
        let keys: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split_once('=').expect("KEY=VALUE").0)
            .collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "{f}:\n{text}");
        assert!(
            !text.contains("CONFIDENCE"),
            "no empty CONFIDENCE=:\n{text}"
        );
        assert!(
            text.contains("\nPATTERN_TYPE=my v\nDEPTH=2\nNOTE=retest; held\n"),
            "{text}"
        );
    }
}

#[test]
fn signal_files_cannot_be_forged_from_the_config() {
    let p = every_bar_project(1);
    let cfg = EVERY_BAR_CONFIG.replace(
        "[[session]]",
        "[instrument]\nsymbol = \"ES\\nACTION=SELL\"\n\n[[session]]",
    );
    p.write("config.toml", &cfg);
    for args in [&["replay", "bars.txt"][..], &["check"][..]] {
        let out = p.vrev(args);
        let (o, e) = (stdout(&out), stderr(&out));
        assert!(!out.status.success());
        assert!(
            format!("{o}{e}")
                .contains("instrument.symbol: \"ES\\nACTION=SELL\" contains the control character"),
            "{args:?}:\n{o}\n{e}"
        );
    }
    assert!(p.signal_files().is_empty());
}

#[test]
fn bad_numbers_are_config_and_flag_errors_not_panics() {
    let p = every_bar_project(1);
    // (--set, fragment of the error)
    let sets = [
        (
            "backtest.commission_per_contract_side=inf",
            "backtest.commission_per_contract_side: inf is not a plausible value",
        ),
        (
            "engine.signal_ttl_seconds=9999999999",
            "engine.signal_ttl_seconds",
        ),
        ("engine.history_bars=99999999999", "engine.history_bars"),
        ("instrument.tick_size=nan", "instrument.tick_size"),
        (
            "profile.every_bar.contracts=3000",
            "profile.every_bar.contracts: 3000 is not a plausible value",
        ),
    ];
    for (set, want) in sets {
        for cmd in ["replay", "backtest"] {
            let out = p.vrev(&[cmd, "bars.txt", "--set", set]);
            let e = stderr(&out);
            assert_eq!(out.status.code(), Some(1), "{cmd} --set {set}:\n{e}");
            assert!(e.contains(want), "{cmd} --set {set}:\n{e}");
        }
    }
    // Durations and speed-ups that would overflow a timer.
    let flags: [&[&str]; 6] = [
        &["replay", "bars.txt", "--pace", "1e300"],
        &["run", "--status-every", "1e300"],
        &["run", "--silent-after", "inf"],
        &["run", "--reconnect-max", "1e300"],
        &["serve", "bars.txt", "--ping-every", "1e300"],
        &["serve", "bars.txt", "--speed", "1e300"],
    ];
    for args in flags {
        let out = p.vrev(args);
        let e = stderr(&out);
        assert_ne!(out.status.code(), Some(101), "panic: {args:?}\n{e}");
        assert!(!out.status.success(), "{args:?}");
        assert!(e.contains("expected a number"), "{args:?}:\n{e}");
    }
    // `vrev check` reports a bad number with its place.
    p.write(
        "config.toml",
        &EVERY_BAR_CONFIG.replace("contracts = 1", "contracts = 1\nmin_confidence = nan"),
    );
    let out = p.vrev(&["check"]);
    let o = stdout(&out);
    assert!(!out.status.success());
    assert!(
        o.contains("config.toml:12:18: profile.every_bar.min_confidence"),
        "{o}"
    );
}

#[test]
fn one_bad_bar_cannot_poison_a_file() {
    let bars = vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        days: 3,
        seed: 8,
        ..Default::default()
    });
    let reference = Project::new();
    write_nt(&reference.path("bars.txt"), &bars);
    let out = reference.vrev(&["replay", "bars.txt"]);
    assert!(out.status.success());
    let expected = reference.signal_files();
    assert!(expected.len() >= 6);

    // The same bars with one line stamped 2999 in the middle of the first day.
    let mut text = String::from_utf8(std::fs::read(reference.path("bars.txt")).unwrap()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(300, "29990101 093000;5000;5001;4999;5000;10");
    text = lines.join("\n") + "\n";
    let p = Project::new();
    p.write("bars.txt", &text);
    let out = p.vrev(&["replay", "bars.txt"]);
    let o = stdout(&out);
    assert!(out.status.success(), "{o}\n{}", stderr(&out));
    assert_eq!(p.signal_files(), expected, "every later bar still counts");
    assert!(o.contains("1 implausible"), "{o}");
    let refused: Vec<_> = p
        .journal()
        .into_iter()
        .filter(|e| e["event"] == "bar_rejected")
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("implausible"));
    // The journal gives ET beside UTC, as a trader reads times.
    assert_eq!(refused[0]["bar_time_et"], "2999-01-01 09:30:00");
    for ev in p.journal().iter().filter(|e| e["event"] == "signal") {
        let et = ev["bar_time_et"]
            .as_str()
            .unwrap()
            .replace(['-', ':'], "")
            .replace(' ', "_");
        assert!(ev["signal_id"].as_str().unwrap().starts_with(&et), "{ev}");
    }
}

#[test]
fn a_closed_stdout_and_stderr_do_not_kill_the_engine() {
    // `vrev demo | head -0`: both pipes closed before vrev writes anything.
    let p = Project::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vrev"))
        .args(["demo", "--dir", "demo"])
        .current_dir(p.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "demo hung");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status} (101 = panic)");
    assert!(
        std::fs::read_dir(p.path("demo/signals")).unwrap().count() >= 3,
        "the demo still wrote its signals"
    );
}

#[test]
fn warnings_carry_no_colour_codes_into_pipes() {
    let (_, out, _) = run_script("fn on_bar(t, p) { sleep(1); }");
    let e = stderr(&out);
    assert!(e.contains("WARN"), "{e}");
    assert!(!e.contains('\u{1b}'), "escape codes in a pipe: {e:?}");
}

#[test]
fn an_implausible_stop_is_warned_about_with_its_place_or_its_flag() {
    let p = every_bar_project_of(1, 20);
    p.write(
        "config.toml",
        &EVERY_BAR_CONFIG.replace("stop_pct = 0.1", "stop_pct = 10"),
    );
    let out = p.vrev(&["replay", "bars.txt"]);
    let e = stderr(&out);
    assert!(out.status.success(), "a warning, not a refusal: {e}");
    assert!(
        e.contains("warning: config.toml:12:12: profile.every_bar.stop_pct: 10 % of entry is a stop about 500 points away"),
        "{e}"
    );
    let out = p.vrev(&["check"]);
    assert!(stdout(&out).contains("warning config.toml:12:12: profile.every_bar.stop_pct"));
    p.write("config.toml", EVERY_BAR_CONFIG);
    let out = p.vrev(&[
        "replay",
        "bars.txt",
        "--set",
        "profile.every_bar.stop_pct=10",
    ]);
    let e = stderr(&out);
    assert!(
        e.contains(
            "warning: --set profile.every_bar.stop_pct=10: profile.every_bar.stop_pct: 10 %"
        ),
        "{e}"
    );
}
