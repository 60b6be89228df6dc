//! Editing strategies and config.toml under a running engine (`vrev replay --pace`, real files,
//! real saves): swaps between bars, refused broken versions, editor save styles, window remaps.

mod common;
use common::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Proposes a BUY on every bar with a unique ID, so every evaluated bar leaves one signal.
const EVERY_BAR: &str = "fn params() { #{ x: 1 } }\nfn on_bar(t, p) {\n    #{ side: \"BUY\", anchor_a: 1000.0 + t, anchor_b: 900.0, pattern: \"v1\" }\n}\n";

fn config(profile_for_all: &str) -> String {
    let profile = |name: &str, contracts: u32| {
        format!(
            "[profile.{name}]\nstrategy = \"strategies/every.rhai\"\ndirection = \"long\"\ncontracts = {contracts}\nstop_pct = 0.1\ntarget_points = 3.0\nmax_hold_minutes = 25\nmax_daily_signals = 100000\nmin_confidence = 0.0\nmax_open_positions = 100000\nparams = {{ x = 1 }}\n\n"
        )
    };
    format!("[[session]]\nname = \"all\"\nstart = \"00:00\"\nend = \"23:59\"\nprofile = \"{profile_for_all}\"\n\n{}{}", profile("p1", 1), profile("p2", 2))
}

/// A project whose only window covers the day, with `bars` Monday bars from 00:01 ET.
fn project(bars: usize) -> Project {
    let p = Project::new();
    p.write("config.toml", &config("p1"));
    p.write("strategies/every.rhai", EVERY_BAR);
    let start = et("2025-02-10 00:01");
    let bars: Vec<_> = (0..bars as i64)
        .map(|k| bar(start + 60 * k, 5000.0, 5001.0, 4999.0, 5000.5, 10.0))
        .collect();
    write_nt(&p.path("bars.txt"), &bars);
    p
}

/// A running `replay --pace`, its stderr read as it comes (`--pace` prints a line per signal,
/// more than a pipe holds: an unread pipe would stall the replay).
struct Replay {
    child: Child,
    stderr: std::thread::JoinHandle<String>,
}

/// `vrev replay --pace` at 6000x: one bar every 10 ms.
fn start(p: &Project) -> Replay {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vrev"))
        .args(["replay", "bars.txt", "--pace", "6000"])
        .current_dir(p.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut err = String::new();
        std::io::Read::read_to_string(&mut pipe, &mut err).unwrap();
        err
    });
    Replay { child, stderr }
}

fn events(p: &Project, kind: &str) -> Vec<serde_json::Value> {
    p.journal()
        .into_iter()
        .filter(|e| e["event"] == kind)
        .collect()
}

/// Waits until the running engine has admitted at least `n` signals.
fn wait_signals(p: &Project, n: usize) {
    let t = Instant::now();
    while events(p, "signal").len() < n {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the engine did not get to {n} signals"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Lets the watcher's debounce pass and the engine take the change at a bar.
fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

fn finish(replay: Replay) -> String {
    let Replay { mut child, stderr } = replay;
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "replay did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let err = stderr.join().unwrap();
    assert!(child.wait().unwrap().success(), "{err}");
    err
}

fn hash(text: &str) -> String {
    vrev::strategy::content_hash(text.as_bytes())
}

/// Every bar evaluated once: one signal per bar, bar times consecutive.
fn assert_every_bar_once(signals: &[serde_json::Value], bars: usize) {
    let times: Vec<i64> = signals
        .iter()
        .map(|e| {
            chrono::DateTime::parse_from_rfc3339(e["bar_time"].as_str().unwrap())
                .unwrap()
                .timestamp()
        })
        .collect();
    assert_eq!(times.len(), bars, "one signal per bar");
    assert!(
        times.windows(2).all(|w| w[1] - w[0] == 60),
        "no bar skipped or evaluated twice"
    );
}

#[test]
fn a_valid_edit_goes_live_between_two_bars_and_no_bar_is_skipped_or_doubled() {
    let p = project(400);
    let child = start(&p);
    wait_signals(&p, 30);
    let v2 = EVERY_BAR.replace("\"v1\"", "\"v2\"");
    p.write("strategies/every.rhai", &v2);
    finish(child);
    let signals = events(&p, "signal");
    assert_every_bar_once(&signals, 400);
    let reloads = events(&p, "reload");
    assert_eq!(reloads.len(), 1, "{reloads:?}");
    let (old, new) = (hash(EVERY_BAR), hash(&v2));
    assert_eq!(reloads[0]["old_hash"], old.as_str());
    assert_eq!(reloads[0]["new_hash"], new.as_str());
    // Old version up to the bar named in the reload event, new version from the next bar on.
    let after = reloads[0]["after_bar"].as_str().unwrap();
    let split = signals.iter().position(|e| e["bar_time"] == after).unwrap() + 1;
    assert!(
        split > 30 && split < 400,
        "the swap happened mid-stream (after signal {split})"
    );
    assert!(signals[..split]
        .iter()
        .all(|e| e["strategy"] == format!("every.rhai@{old}")));
    assert!(signals[split..]
        .iter()
        .all(|e| e["strategy"] == format!("every.rhai@{new}")));
    // The signal files name the exact version that produced them.
    let last = p.signal_files().pop().unwrap();
    let text = std::fs::read_to_string(p.path("signals").join(last)).unwrap();
    assert!(
        text.contains(&format!("STRATEGY=every.rhai@{new}")) && text.contains("PATTERN_TYPE=v2")
    );
}

#[test]
fn broken_versions_are_refused_once_per_save_and_the_old_version_keeps_running() {
    let p = project(300);
    let child = start(&p);
    wait_signals(&p, 20);
    // (broken version, fragment of its error)
    let broken = [
        (
            "fn params() { #{ x: 1 } }\nfn on_bar(t, p) {\n    let y = ;\n}\n",
            "strategies/every.rhai:3:13",
        ),
        (
            "fn params() { #{ x: 1 } }\nfn on_bar(t, p) {\n    let y = high(t) * \"x\";\n}\n",
            "strategies/every.rhai:3:",
        ),
        (
            "fn params() { #{ x: 1 } }\nfn on_bar_typo(t, p) { }\n",
            "no `fn on_bar(t, p)`",
        ),
        (
            "fn params() { #{ z: 1 } }\nfn on_bar(t, p) { }\n",
            "unknown parameter `x`",
        ),
        // Issue 10: `sleep(1e300)` panicked inside the reload trial and killed the engine.
        (
            "fn params() { #{ x: 1 } }\nfn on_bar(t, p) {\n    sleep(1e300);\n}\n",
            "`sleep` is not available",
        ),
        (
            "fn params() { #{ x: 1 } }\nlet n = 0;\nloop { n += 1; }\nfn on_bar(t, p) { }\n",
            "strategies/every.rhai:3:",
        ),
    ];
    let huge = format!(
        "fn params() {{ #{{ x: 1 }} }}\nfn on_bar(t, p) {{ }}\n{}",
        "// filler\n".repeat(30_000)
    );
    let broken: Vec<(&str, &str)> = broken
        .into_iter()
        .chain([(huge.as_str(), "a strategy script may be at most 256 KiB")])
        .collect();
    for (text, _) in &broken {
        p.write("strategies/every.rhai", text);
        settle();
    }
    let err = finish(child);
    let failed = events(&p, "reload_failed");
    assert_eq!(
        failed.len(),
        broken.len(),
        "one refusal per save: {failed:?}"
    );
    for (ev, (_, want)) in failed.iter().zip(broken.iter().copied()) {
        assert!(
            ev["error"].as_str().unwrap().contains(want),
            "want `{want}` in {ev}"
        );
        assert!(
            err.contains(want),
            "stderr names it too: want `{want}` in {err}"
        );
    }
    assert!(events(&p, "reload").is_empty());
    let signals = events(&p, "signal");
    assert_every_bar_once(&signals, 300);
    assert!(signals
        .iter()
        .all(|e| e["strategy"] == format!("every.rhai@{}", hash(EVERY_BAR))));
}

#[test]
fn editor_save_styles_reload_the_final_content_once_and_identical_saves_not_at_all() {
    let p = project(700);
    let child = start(&p);
    wait_signals(&p, 20);
    let path = p.path("strategies/every.rhai");
    let version = |n: u32| EVERY_BAR.replace("\"v1\"", &format!("\"v{n}\""));
    // 1. In place: truncate and write (what std::fs::write does).
    std::fs::write(&path, version(2)).unwrap();
    settle();
    // 2. Write a temporary file, then rename it over the script (vim, VS Code).
    std::fs::write(p.path("strategies/.every.rhai.swp"), version(3)).unwrap();
    std::fs::rename(p.path("strategies/.every.rhai.swp"), &path).unwrap();
    settle();
    // 3. Several quick saves: only the last content goes live.
    for n in 4..9 {
        std::fs::write(&path, version(n)).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    settle();
    // 4. Briefly empty, then half written, then complete.
    std::fs::write(&path, "").unwrap();
    std::thread::sleep(Duration::from_millis(15));
    let full = version(9);
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    std::thread::sleep(Duration::from_millis(15));
    std::fs::write(&path, &full).unwrap();
    settle();
    // 5. A save with identical content: no reload.
    std::fs::write(&path, &full).unwrap();
    settle();
    finish(child);
    let reloads: Vec<String> = events(&p, "reload")
        .iter()
        .map(|e| e["new_hash"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        reloads,
        [
            hash(&version(2)),
            hash(&version(3)),
            hash(&version(8)),
            hash(&full)
        ]
    );
    assert!(
        events(&p, "reload_failed").is_empty(),
        "half a file was never compiled"
    );
    assert_every_bar_once(&events(&p, "signal"), 700);
}

#[test]
fn remapping_a_window_in_the_config_switches_its_profile_at_the_next_bar_and_a_bad_config_is_refused(
) {
    let p = project(400);
    let child = start(&p);
    wait_signals(&p, 30);
    p.write("config.toml", &config("p2"));
    settle();
    p.write(
        "config.toml",
        &config("p1").replace("contracts = 1", "contracts = 0"),
    );
    settle();
    p.write("config.toml", &format!("{}\n[[session]\n", config("p1")));
    settle();
    finish(child);
    let signals = events(&p, "signal");
    assert_every_bar_once(&signals, 400);
    let reload = &events(&p, "reload")[0];
    assert_eq!(reload["state"], "windows all=p1 -> all=p2");
    let after = reload["after_bar"].as_str().unwrap();
    let split = signals.iter().position(|e| e["bar_time"] == after).unwrap() + 1;
    assert!(signals[..split]
        .iter()
        .all(|e| e["profile"] == "p1" && e["quantity"] == 1));
    assert!(
        signals[split..]
            .iter()
            .all(|e| e["profile"] == "p2" && e["quantity"] == 2),
        "the refused configs changed nothing"
    );
    let failed = events(&p, "reload_failed");
    assert_eq!(failed.len(), 2);
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("profile.p1.contracts: 0 is not a plausible value"),
        "{}",
        failed[0]
    );
    assert!(
        failed[1]["error"]
            .as_str()
            .unwrap()
            .contains("config.toml:"),
        "{}",
        failed[1]
    );
    let last = p.signal_files().pop().unwrap();
    assert!(std::fs::read_to_string(p.path("signals").join(last))
        .unwrap()
        .contains("PROFILE=p2"));
}

/// The state rule: `this` is kept across a reload only when the new version sets
/// `KEEP_STATE_ON_RELOAD` and its `init_state()` has the same shape; the journal says which.
#[test]
fn script_state_is_kept_only_when_asked_for_and_compatible() {
    use vrev::host::engine::{Engine, EngineOptions};
    let p = project(0);
    // Counts the bars it has seen; proposes once, on its 5th bar since its state began.
    let counting = |keep: bool, shape: &str, tag: &str| {
        format!(
            "{}fn init_state() {{ {shape} }}\nfn params() {{ #{{ x: 1 }} }}\nfn on_bar(t, p) {{\n    this.n += 1;\n    if this.n == 5 {{ #{{ side: \"BUY\", anchor_a: 1000.0 + t, anchor_b: 900.0, pattern: \"{tag}\" }} }}\n}}\n",
            if keep { "const KEEP_STATE_ON_RELOAD = true;\n" } else { "" }
        )
    };
    p.write("strategies/every.rhai", &counting(true, "#{ n: 0 }", "a"));
    let cfg = vrev::config::Config::load(&p.path("config.toml")).unwrap();
    let mut e = Engine::new(
        &cfg,
        EngineOptions {
            keep_events: true,
            ..Default::default()
        },
    )
    .unwrap();
    let start = et("2025-02-10 00:01");
    let mut t = 0;
    let mut feed = |e: &mut Engine, n: i64| {
        for _ in 0..n {
            e.on_bar(&bar(start + 60 * t, 5000.0, 5001.0, 4999.0, 5000.5, 10.0));
            t += 1;
        }
    };
    let script = p.path("strategies/every.rhai");
    feed(&mut e, 3);
    assert!(
        e.reload_script(&script, &counting(true, "#{ n: 0 }", "b")),
        "same shape, kept"
    );
    feed(&mut e, 3); // bars 4..6: the 5th bar since the start fires with the new version
    assert!(
        e.reload_script(&script, &counting(true, "#{ n: 0, extra: 1.5 }", "c")),
        "new shape, reset"
    );
    feed(&mut e, 5); // the count restarts: fires on the 5th bar after the reload
    assert!(
        e.reload_script(&script, &counting(false, "#{ n: 0 }", "d")),
        "not asked for, reset"
    );
    feed(&mut e, 5);
    let patterns: Vec<(String, i64)> = e
        .signals
        .iter()
        .map(|s| (s.pattern.clone(), (s.signal_time - start) / 60))
        .collect();
    assert_eq!(
        patterns,
        [
            ("b".to_string(), 4),
            ("c".to_string(), 10),
            ("d".to_string(), 15)
        ]
    );
    let states: Vec<String> = e
        .events
        .iter()
        .filter_map(|ev| match ev {
            vrev::host::journal::Event::Reload { state, .. } => Some(state.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [
            "p1: kept",
            "p1: reset (the state's shape changed)",
            "p1: reset (KEEP_STATE_ON_RELOAD is not set)"
        ]
    );
}

/// Regression: a config reload that drops the profile forced with `--profile` was an index
/// panic; it is refused and the running line-up stays.
#[test]
fn reload_dropping_the_forced_profile_is_refused_not_a_panic() {
    use vrev::host::engine::{Engine, EngineOptions};
    let p = project(0);
    let cfg = vrev::config::Config::load(&p.path("config.toml")).unwrap();
    let mut e = Engine::new(
        &cfg,
        EngineOptions {
            forced_profile: Some("p2".into()),
            keep_events: true,
            ..Default::default()
        },
    )
    .unwrap();
    let text = config("p1").replace("[profile.p2]", "[profile.p3]");
    let new = vrev::config::Config::from_text(&text, &p.path("config.toml")).unwrap();
    assert!(!e.reload_config(new, &text));
    assert_eq!(e.window_profiles()[0].1, "p2");
    let err = e.events.iter().find_map(|ev| match ev {
        vrev::host::journal::Event::ReloadFailed { error, .. } => Some(error.clone()),
        _ => None,
    });
    assert!(err.unwrap().contains("--profile p2: unknown profile"));
    assert!(Engine::new(
        &cfg,
        EngineOptions {
            forced_profile: Some("nope".into()),
            ..Default::default()
        }
    )
    .is_err());
}

/// `[reload] gate = "scenarios"`: a changed strategy goes live only if the scenarios that use it
/// pass with the new text; otherwise it is refused with the failing scenario named.
#[test]
fn the_scenario_gate_lets_a_passing_version_in_and_refuses_one_that_breaks_a_scenario() {
    let p = project(400);
    p.write(
        "config.toml",
        &format!(
            "[reload]\ngate = \"scenarios\"\nscenarios = \"scenarios\"\n\n{}",
            config("p1")
        ),
    );
    // Pins the IDs the script makes (anchor_a = 1000 + bar index).
    p.write(
        "scenarios/every_bar.toml",
        "name = \"every bar proposes with anchor 1000 + t\"\ndate = 2025-02-10\nbars = '''\n00:01 5000 5001 4999 5000.5\n00:02 5000 5001 4999 5000.5\n'''\n\n[[signal]]\ntime = \"00:01\"\nid = \"20250210_000100_1000.00_900.00\"\n\n[[signal]]\ntime = \"00:02\"\nid = \"20250210_000200_1001.00_900.00\"\n",
    );
    // A scenario that does not use the script is not run by the gate (it would fail).
    p.write("scenarios/other.toml", "name = \"other strategy\"\ndate = 2025-02-10\nstrategy = \"strategies/missing.rhai\"\nbars = '''\n00:01 5000 5001 4999 5000.5\n'''\nno_signal = true\n");
    let child = start(&p);
    wait_signals(&p, 20);
    let same_ids = EVERY_BAR.replace("\"v1\"", "\"v2\"");
    p.write("strategies/every.rhai", &same_ids);
    settle();
    settle();
    let other_ids = same_ids.replace("1000.0 + t", "2000.0 + t");
    p.write("strategies/every.rhai", &other_ids);
    settle();
    settle();
    finish(child);
    let reloads = events(&p, "reload");
    assert_eq!(reloads.len(), 1, "{reloads:?}");
    assert_eq!(reloads[0]["new_hash"], hash(&same_ids).as_str());
    let failed = events(&p, "reload_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    let error = failed[0]["error"].as_str().unwrap();
    assert!(
        error.contains("refused by the scenario gate")
            && error.contains("every bar proposes with anchor 1000 + t"),
        "{error}"
    );
    assert_eq!(failed[0]["hash"], hash(&other_ids).as_str());
    assert!(
        events(&p, "signal").last().unwrap()["strategy"]
            == format!("every.rhai@{}", hash(&same_ids))
    );
}
