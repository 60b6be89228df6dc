//! Every command the README and the `--help` examples show, run as written by the real binary
//! on a copy of the repo's files in a temp dir (issue 13): a new user's first afternoon.
//! `cargo run --release -- X` is run as `vrev X` (the README says they are the same). Commands
//! that need `../shared/data` run when it is there (linked beside the copy) and skip visibly
//! otherwise. Every `vrev …` span of the README must be either run here or listed as a fragment
//! of prose (with why), so a new README command cannot go untested.

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// README commands this test runs, as written.
const RUN: &[&str] = &[
    "cargo run --release -- demo",
    "vrev demo",
    "cargo run --release -- backtest demo/bars.txt",
    "vrev serve demo/bars.txt --speed max --history 60",
    "vrev run --playback",
    "vrev record --out bars.csv",
    "vrev backtest ../shared/data/es-1m-2021-2022.nt.txt.gz --report out/",
    "vrev backtest demo/bars.txt --profile orb",
    "vrev halt",
    "vrev resume",
    "vrev reconcile --trades trades_Sim101.csv",
    "vrev init trading",
    "vrev nt8 install",
];

/// `vrev …` spans of the README that are not commands to run as they stand, and why.
const FRAGMENTS: &[(&str, &str)] = &[
    ("vrev backtest …", "an ellipsis in prose"),
    (
        "cargo run --release --",
        "names the prefix the examples stand for",
    ),
    (
        "vrev run",
        "names the command; needs a publisher (run above with --playback)",
    ),
    ("vrev run --playback", "run above"),
    (
        "vrev replay --pace 60",
        "practice mode named in prose; tests/pace.rs runs it",
    ),
    ("vrev replay", "names the command in a benchmark table"),
    (
        "vrev explain",
        "names the command; tests/explain.rs runs it",
    ),
    (
        "vrev check my.rhai",
        "a placeholder script in prose; tests/check.rs checks scripts run alone",
    ),
    (
        "vrev backtest --report",
        "names the command in a benchmark table",
    ),
    (
        "vrev doctor",
        "needs NinjaTrader's folders and a publisher: tests/install.rs runs it against vrev serve and a fake Documents tree",
    ),
];

/// The `e.g.` examples of `--help`, as runnable commands on the demo's bars.
const HELP_EXAMPLES: &[&str] = &[
    "vrev backtest demo/bars.txt --set profile.production.params.drop_threshold=5",
    "vrev backtest demo/bars.txt --sweep profile.production.params.drop_threshold=3,4,5",
    "vrev check",
    "vrev test",
];

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn vrev_args(command: &str) -> Vec<String> {
    let rest = command
        .strip_prefix("cargo run --release -- ")
        .or_else(|| command.strip_prefix("vrev "))
        .unwrap_or_else(|| panic!("not a vrev command: {command}"));
    rest.split_whitespace().map(str::to_string).collect()
}

/// The home folder the commands see (`HOME`, `USERPROFILE`): a temp one, so that `vrev init`
/// and `vrev nt8 install` never touch the real Documents folder.
static FAKE_HOME: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

fn home_env() -> Vec<(&'static str, std::path::PathBuf)> {
    FAKE_HOME
        .get()
        .map(|h| vec![("HOME", h.clone()), ("USERPROFILE", h.clone())])
        .unwrap_or_default()
}

fn run(dir: &Path, command: &str) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_vrev"))
        .args(vrev_args(command))
        .envs(home_env())
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "`{command}` failed:\n{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    o
}

fn spawn(dir: &Path, command: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_vrev"))
        .args(vrev_args(command))
        .envs(home_env())
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn interrupt(child: std::process::Child) -> Output {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    child.wait_with_output().unwrap()
}

fn signal_files(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .map(|d| {
            // `.vrev-lock` is the signals folder's lock (it names its holder), not a signal.
            d.filter(|e| e.as_ref().unwrap().file_name() != ".vrev-lock")
                .map(|e| {
                    let e = e.unwrap();
                    (
                        e.file_name().into_string().unwrap(),
                        std::fs::read_to_string(e.path()).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    done()
}

#[test]
fn every_readme_command_is_run_here_or_named_as_prose() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut spans: Vec<String> = readme
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.contains('\n'))
        .map(str::to_string)
        .collect();
    spans.extend(
        readme
            .lines()
            .filter_map(|l| l.strip_prefix("    "))
            .filter(|l| l.starts_with("vrev "))
            .map(str::to_string),
    );
    for s in spans {
        if !(s.starts_with("vrev ") || s.starts_with("cargo run")) {
            continue;
        }
        assert!(
            RUN.contains(&s.as_str()) || FRAGMENTS.iter().any(|(f, _)| *f == s),
            "README command `{s}` is neither run by this test nor listed as prose"
        );
    }
    for c in RUN {
        assert!(readme.contains(c), "`{c}` is no longer in the README");
    }
}

#[test]
fn the_readme_and_help_commands_work_as_written_on_a_copy_of_the_repo() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("vrev");
    std::fs::create_dir_all(&repo).unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join("Documents")).unwrap();
    FAKE_HOME.set(home.clone()).unwrap();
    std::fs::copy(root.join("config.toml"), repo.join("config.toml")).unwrap();
    copy_dir(&root.join("strategies"), &repo.join("strategies"));
    copy_dir(&root.join("tests/scenarios"), &repo.join("tests/scenarios"));

    // Set up, as the README says.
    let o = run(&repo, "cargo run --release -- demo");
    let out = stdout(&o);
    assert!(out.contains("signals: 3 — by window: overnight 1 (production), morning 1 (production), afternoon 1 (production)"), "{out}");
    // The demo's closing line names the live path by hand: it must be what the README says.
    assert!(
        out.contains("`vrev serve demo/bars.txt --speed max --history 60`")
            && out.contains("`vrev run --playback`"),
        "{out}"
    );
    let o = run(&repo, "vrev demo");
    assert!(stdout(&o).contains("signals: 3"));
    let demo_signals = signal_files(&repo.join("demo/signals"));
    assert_eq!(demo_signals.len(), 3);
    let o = run(&repo, "cargo run --release -- backtest demo/bars.txt");
    assert!(stdout(&o).contains("fill assumptions"), "{}", stdout(&o));

    // The live path by hand: serve + run --playback writes the demo's signals.
    let serve = spawn(&repo, "vrev serve demo/bars.txt --speed max --history 60");
    let running = spawn(&repo, "vrev run --playback");
    let got_all = wait_until(Duration::from_secs(30), || {
        signal_files(&repo.join("signals")).len() >= 3
    });
    std::thread::sleep(Duration::from_millis(300));
    let o = interrupt(running);
    assert!(got_all, "{}\n{}", stdout(&o), stderr(&o));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        signal_files(&repo.join("signals")),
        demo_signals,
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("rejected proposals:"), "{}", stdout(&o));

    // The kill switch and the reconciliation of the run's signals.
    run(&repo, "vrev halt");
    assert!(repo.join("state/HALT").exists());
    run(&repo, "vrev resume");
    assert!(!repo.join("state/HALT").exists());
    let id = demo_signals[0]
        .1
        .lines()
        .find_map(|l| l.strip_prefix("SIGNAL_ID="))
        .unwrap()
        .to_string();
    std::fs::write(
        repo.join("trades_Sim101.csv"),
        format!("signal_id,side,quantity,entry_time_utc,entry_price,exit_time_utc,exit_price,exit_reason,points,pnl\n{id},BUY,3,2025-02-10T08:47:00Z,5003.75,2025-02-10T09:12:00Z,5000.75,max_hold,-3.00,-450.00\n"),
    )
    .unwrap();
    let o = run(&repo, "vrev reconcile --trades trades_Sim101.csv");
    assert!(
        stdout(&o).contains("reconcile: 1 real trade(s) matched"),
        "{}",
        stdout(&o)
    );

    // Record what the publisher sends; replay and backtest read it.
    let record = spawn(&repo, "vrev record --out bars.csv");
    let recorded = wait_until(Duration::from_secs(20), || {
        std::fs::read_to_string(repo.join("bars.csv")).is_ok_and(|t| t.lines().count() > 1000)
    });
    let o = interrupt(record);
    let _ = interrupt(serve);
    assert!(recorded, "{}", stderr(&o));
    run(&repo, "vrev backtest bars.csv");

    // The trading PC: a new folder, then NinjaTrader's files into the (fake) Documents folder.
    let o = run(&repo, "vrev init trading");
    assert!(
        stdout(&o).contains("wrote trading/config.toml"),
        "{}",
        stdout(&o)
    );
    let o = run(&repo.join("trading"), "vrev nt8 install");
    assert!(stdout(&o).contains("press F5"), "{}", stdout(&o));
    assert!(home
        .join("Documents/NinjaTrader 8/bin/Custom/Strategies/VrevAutoTrader.cs")
        .is_file());

    for c in HELP_EXAMPLES {
        run(&repo, c);
    }
    // The indicator strategies' profiles, as the README shows one.
    for p in ["orb", "vwap_reversion", "ema_pullback"] {
        run(&repo, &format!("vrev backtest demo/bars.txt --profile {p}"));
    }

    // The headline backtest, where the data is.
    match real_data() {
        Some(data) => {
            std::os::unix::fs::symlink(
                data.parent().unwrap().parent().unwrap(),
                tmp.path().join("shared"),
            )
            .unwrap();
            let o = run(
                &repo,
                "vrev backtest ../shared/data/es-1m-2021-2022.nt.txt.gz --report out/",
            );
            let out = stdout(&o);
            assert!(out.contains("54.6%"), "{out}");
            assert!(out.contains("-$1,374.86"), "{out}");
            assert!(repo.join("out/report.html").exists());
        }
        None => skip("../shared/data/es-1m-2021-2022.nt.txt.gz is not present: the headline backtest was not run"),
    }
}
