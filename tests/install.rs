//! Issue 20: an installed `vrev` on the trading PC. `vrev init`, `vrev nt8 install` and
//! `vrev doctor`, run as the real binary against a fake home folder (`HOME`, `USERPROFILE`)
//! with a fake Documents tree in a temp dir; the feed checks against a real `vrev serve` on a
//! free loopback port.

mod common;
use common::*;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A fake user: `home/Documents`, and the folders commands run in.
struct User {
    tmp: tempfile::TempDir,
}

impl User {
    fn new() -> User {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("home/Documents")).unwrap();
        User { tmp }
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }
    fn documents(&self) -> PathBuf {
        self.path("home/Documents")
    }
    fn custom(&self) -> PathBuf {
        self.documents().join("NinjaTrader 8/bin/Custom")
    }
    fn command(&self, dir: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vrev"));
        let home = self.path("home");
        c.current_dir(self.path(dir))
            .env("HOME", &home)
            .env("USERPROFILE", &home)
            .env_remove("OneDrive")
            .env_remove("VREV_FEED_TOKEN");
        c
    }
    /// Runs `vrev ARGS` in `dir` (relative to the temp dir).
    fn vrev(&self, dir: &str, args: &[&str]) -> Output {
        self.command(dir).args(args).output().unwrap()
    }
    /// `vrev init trading` and `vrev nt8 install` in it, both checked.
    fn trading(&self) {
        let o = self.vrev(".", &["init", "trading"]);
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        let o = self.vrev("trading", &["nt8", "install"]);
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    }
}

fn all(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

/// The old VrevPublisher.cs of commit 1f43072 (2026-11-24), as vrev shipped it.
fn old_publisher() -> Vec<u8> {
    let gz = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/nt8/VrevPublisher.cs.1f43072.gz"),
    )
    .unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn shipped(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("nt8").join(rel)).unwrap()
}

/// Every `.cs` file under `dir`, relative.
fn cs_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "cs") {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn nt8_install_copies_replaces_refuses_edits_keeps_backups_outside_custom_and_warns_about_the_old_system(
) {
    let u = User::new();
    std::fs::create_dir_all(u.path("work")).unwrap();
    let strat = u.custom().join("Strategies/VrevAutoTrader.cs");
    let ind = u.custom().join("Indicators/VrevPublisher.cs");

    // The Documents folder must exist.
    let o = u.vrev("work", &["nt8", "install", "--documents", "nowhere"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(all(&o).contains("nowhere: no such folder"), "{}", all(&o));

    // Fresh: both files, folders created, the F5 steps.
    let o = u.vrev("work", &["nt8", "install"]);
    let out = all(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("(from the user's Documents folder ($HOME))"),
        "{out}"
    );
    assert!(
        out.contains("installed  Indicators/VrevPublisher.cs"),
        "{out}"
    );
    assert!(
        out.contains("installed  Strategies/VrevAutoTrader.cs"),
        "{out}"
    );
    assert!(out.contains("press F5"), "{out}");
    assert!(out.contains("tick Enabled"), "{out}");
    assert_eq!(
        std::fs::read(&strat).unwrap(),
        shipped("Strategies/VrevAutoTrader.cs")
    );
    assert_eq!(
        std::fs::read(&ind).unwrap(),
        shipped("Indicators/VrevPublisher.cs")
    );

    // Again: already current, nothing written. A CRLF copy (a Windows checkout) is current too.
    let crlf = String::from_utf8(shipped("Indicators/VrevPublisher.cs"))
        .unwrap()
        .replace('\n', "\r\n");
    std::fs::write(&ind, &crlf).unwrap();
    let o = u.vrev("work", &["nt8", "install"]);
    let out = all(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("current    Indicators/VrevPublisher.cs"),
        "{out}"
    );
    assert!(
        out.contains("current    Strategies/VrevAutoTrader.cs"),
        "{out}"
    );
    assert!(out.contains("nothing to do"), "{out}");
    assert!(!out.contains("F5"), "{out}");
    assert_eq!(std::fs::read_to_string(&ind).unwrap(), crlf);

    // An older version vrev shipped is replaced.
    std::fs::write(&ind, old_publisher()).unwrap();
    let o = u.vrev("work", &["nt8", "install"]);
    let out = all(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains(
            "updated    Indicators/VrevPublisher.cs (was the version of 1f43072 of 2026-11-24)"
        ),
        "{out}"
    );
    assert_eq!(
        std::fs::read(&ind).unwrap(),
        shipped("Indicators/VrevPublisher.cs")
    );

    // Edited by hand: refused, named, untouched; the other file still goes on.
    let mut edited = shipped("Strategies/VrevAutoTrader.cs");
    edited.extend_from_slice(b"// my change\n");
    std::fs::write(&strat, &edited).unwrap();
    std::fs::write(&ind, old_publisher()).unwrap();
    let o = u.vrev("work", &["nt8", "install"]);
    let out = all(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!(
            "refused    {}: changed since vrev wrote it",
            strat.display()
        )),
        "{out}"
    );
    assert!(out.contains("--force"), "{out}");
    assert!(out.contains("error: 1 file(s) not installed"), "{out}");
    assert_eq!(std::fs::read(&strat).unwrap(), edited);
    assert_eq!(
        std::fs::read(&ind).unwrap(),
        shipped("Indicators/VrevPublisher.cs")
    );

    // --force: the edited file is kept outside bin/Custom, under a name that is no .cs.
    let o = u.vrev("work", &["nt8", "install", "--force"]);
    let out = all(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("replaced   Strategies/VrevAutoTrader.cs (--force)"),
        "{out}"
    );
    let backups: Vec<PathBuf> =
        std::fs::read_dir(u.documents().join("NinjaTrader 8/vrev-backup/Strategies"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    let name = backups[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert!(
        name.starts_with("VrevAutoTrader.cs.") && name.ends_with(".bak"),
        "{name}"
    );
    assert!(out.contains(&backups[0].display().to_string()), "{out}");
    assert_eq!(std::fs::read(&backups[0]).unwrap(), edited);
    assert_eq!(
        std::fs::read(&strat).unwrap(),
        shipped("Strategies/VrevAutoTrader.cs")
    );
    // NinjaTrader compiles every .cs under bin/Custom: only vrev's two are there.
    assert_eq!(
        cs_files(&u.custom()),
        vec![
            "Indicators/VrevPublisher.cs",
            "Strategies/VrevAutoTrader.cs"
        ]
    );
    assert!(
        cs_files(&u.documents()).len() == 2,
        "{:?}",
        cs_files(&u.documents())
    );

    // The old system's files: named, with what to do; the install itself succeeds.
    std::fs::write(
        u.custom().join("Strategies/VReversalAutoTrader.cs"),
        "public class VReversalAutoTrader : Strategy { string pattern = \"vreversal_*.txt\"; }\n",
    )
    .unwrap();
    std::fs::create_dir_all(u.custom().join("Indicators/Old")).unwrap();
    std::fs::write(
        u.custom().join("Indicators/Old/BarPublisher.cs"),
        "// WebSocket server for the Python client\npublic class BarPublisher : Indicator { int port = 6789; }\n",
    )
    .unwrap();
    std::fs::write(
        u.custom().join("Strategies/EnhancedTrader.cs"),
        "string prefix = \"enhanced_vreversal_v\";\n",
    )
    .unwrap();
    let o = u.vrev("work", &["nt8", "install"]);
    let out = all(&o);
    assert!(o.status.success(), "{out}");
    for (file, why) in [
        (
            "Strategies/VReversalAutoTrader.cs",
            "reads every vreversal_*.txt",
        ),
        (
            "Indicators/Old/BarPublisher.cs",
            "bar publisher (port 6789)",
        ),
        ("Strategies/EnhancedTrader.cs", "Enhanced auto-trader"),
    ] {
        let line = format!(
            "warning    {}: the old system's",
            u.custom().join(file).display()
        );
        assert!(out.contains(&line), "{line}\n{out}");
        assert!(out.contains(why), "{why}\n{out}");
    }
    // The config's [nt8] documents_dir is the default when there is one.
    let elsewhere = u.path("other-docs");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(
        u.path("work/config.toml"),
        format!("[nt8]\ndocuments_dir = '{}'\n", elsewhere.display()),
    )
    .unwrap();
    let o = u.vrev("work", &["nt8", "install"]);
    let out = all(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("from [nt8] documents_dir of config.toml"),
        "{out}"
    );
    assert!(elsewhere
        .join("NinjaTrader 8/bin/Custom/Strategies/VrevAutoTrader.cs")
        .is_file());
}

#[test]
fn init_writes_a_config_and_scripts_that_check_demo_and_replay_from_an_installed_vrev() {
    let u = User::new();
    let o = u.vrev(".", &["init", "trading"]);
    let out = all(&o);
    assert!(o.status.success(), "{out}");
    let signals = u.documents().join("vrev/signals");
    assert!(out.contains(&signals.display().to_string()), "{out}");
    let text = std::fs::read_to_string(u.path("trading/config.toml")).unwrap();
    assert!(
        text.contains(&format!("signals_dir = '{}'", signals.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "[nt8]\ndocuments_dir = '{}'",
            u.documents().display()
        )),
        "{text}"
    );
    // `vrev check` there, and from elsewhere with --config.
    let o = u.vrev("trading", &["check"]);
    assert!(o.status.success(), "{}", all(&o));
    assert!(
        stdout(&o).contains("ok      config.toml (3 windows, 9 profiles)"),
        "{}",
        all(&o)
    );
    let o = u.vrev(".", &["check", "--config", "trading/config.toml"]);
    assert!(o.status.success(), "{}", all(&o));
    // The demo, and a replay of built-in data into the auto-trader's signals folder.
    let o = u.vrev("trading", &["demo"]);
    assert!(o.status.success(), "{}", all(&o));
    assert!(stdout(&o).contains("signals: 3"), "{}", all(&o));
    let o = u.vrev("trading", &["synth", "--out", "bars.txt", "--days", "2"]);
    assert!(o.status.success(), "{}", all(&o));
    let o = u.vrev("trading", &["replay", "bars.txt"]);
    assert!(o.status.success(), "{}", all(&o));
    let written = std::fs::read_dir(&signals).unwrap().count();
    assert!(written >= 2, "{written} signal files\n{}", all(&o));
    assert!(u.path("trading/state/ledger.txt").is_file());

    // A folder that is not empty is refused and named; nothing in it changes.
    let o = u.vrev(".", &["init", "trading"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(all(&o).contains("trading: not empty"), "{}", all(&o));
    assert_eq!(
        std::fs::read_to_string(u.path("trading/config.toml")).unwrap(),
        text
    );
    // `vrev init` with no DIR: the current folder, if empty.
    std::fs::create_dir_all(u.path("here")).unwrap();
    let o = u.vrev("here", &["init"]);
    assert!(o.status.success(), "{}", all(&o));
    assert!(u.path("here/strategies/vreversal.rhai").is_file());
}

#[test]
fn every_command_without_a_config_names_the_path_it_looked_for_and_suggests_vrev_init() {
    let u = User::new();
    std::fs::create_dir_all(u.path("empty")).unwrap();
    let looked = u.path("empty/config.toml");
    for args in [
        vec!["check"],
        vec!["replay", "bars.txt"],
        vec!["backtest", "bars.txt"],
        vec!["explain", "bars.txt", "--at", "2025-02-13 13:59"],
        vec!["run"],
        vec!["test"],
        vec!["demo"],
        vec!["halt"],
        vec!["reconcile", "--trades", "t.csv"],
        vec!["doctor"],
    ] {
        let o = u.vrev("empty", &args);
        let out = all(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {out}");
        assert!(
            out.contains(&format!(
                "config not found (looked for {})",
                looked.display()
            )),
            "{args:?}: {out}"
        );
        assert!(out.contains("run `vrev init`"), "{args:?}: {out}");
    }
    let o = u.vrev("empty", &["replay", "bars.txt", "--config", "nope/my.toml"]);
    assert!(
        all(&o).contains(&format!(
            "config not found (looked for {})",
            u.path("empty/nope/my.toml").display()
        )),
        "{}",
        all(&o)
    );
}

/// A `vrev serve` of bars whose newest closes `newest_offset` seconds from now, on a free port.
struct Serve {
    child: Child,
    port: u16,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(u: &User, newest_offset: i64, extra: &[&str]) -> Serve {
    let now = chrono::Utc::now().timestamp();
    let last = (now - now.rem_euclid(60)) + newest_offset;
    let bars: Vec<_> = (0..30)
        .map(|k| {
            let p = 6000.0 + k as f64 * 0.25;
            bar(last - 60 * (29 - k), p, p + 0.5, p - 0.5, p + 0.25, 100.0)
        })
        .collect();
    let file = u.path(&format!("bars-{}-{}.txt", newest_offset, extra.join("_")));
    write_nt(&file, &bars);
    let port = free_port();
    let port_s = port.to_string();
    let mut args = vec![
        "serve",
        file.to_str().unwrap(),
        "--port",
        &port_s,
        "--history",
        "1000",
        "--speed",
        "max",
    ];
    args.extend_from_slice(extra);
    let child = u
        .command(".")
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Serve { child, port }
}

fn url(port: u16) -> String {
    format!("ws://127.0.0.1:{port}")
}

/// `vrev doctor --url URL` in the trading folder: (exit code, stdout + stderr).
fn doctor(u: &User, url: &str, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["doctor", "--url", url, "--timeout", "5"];
    args.extend_from_slice(extra);
    let o = u.vrev("trading", &args);
    (o.status.code(), all(&o))
}

/// `vrev doctor` against a `vrev serve` of ES bars up to this minute, started for this call (a
/// publisher started earlier would have bars that age past the clock check's limit).
fn doctor_fresh(u: &User, extra: &[&str]) -> (Option<i32>, String) {
    let es = serve(u, 0, &[]);
    doctor(u, &url(es.port), extra)
}

fn problems(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with("problem ")).collect()
}

#[test]
fn doctor_passes_a_sound_setup_and_names_each_problem_with_what_to_do() {
    let u = User::new();
    u.trading();
    let es = serve(&u, 0, &[]);

    // All is well.
    let (code, out) = doctor(&u, &url(es.port), &[]);
    let es_url = url(es.port);
    drop(es);
    assert_eq!(code, Some(0), "{out}");
    assert!(problems(&out).is_empty(), "{out}");
    for line in [
        "ok      config and scripts: config.toml loads, every script checks",
        "ok      signals folder ",
        "ok      state folder state: writable",
        &format!(
            "ok      feed {}: VrevPublisher (vrev protocol 1), ES, 30 bar(s)",
            es_url
        ),
        "ok      clock: the newest bar closes at ",
        "ok      NinjaTrader: Indicators/VrevPublisher.cs is this vrev's version",
        "ok      NinjaTrader: Strategies/VrevAutoTrader.cs is this vrev's version",
        "ok      NinjaTrader: no old-system file",
        "doctor: no problem found",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    // [nt8] account: the auto-trader's state folder, once it has run.
    let nt8_state = u.documents().join("vrev/nt8");
    assert!(
        out.contains(&format!(
            "note    NinjaTrader: {} does not exist yet",
            nt8_state.display()
        )),
        "{out}"
    );
    std::fs::create_dir_all(&nt8_state).unwrap();
    std::fs::write(nt8_state.join("trades_Sim101.csv"), "signal_id\n").unwrap();
    let (code, out) = doctor_fresh(&u, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("(account Sim101: trade log present)"), "{out}");

    // Another instrument on the feed.
    let nq = serve(&u, 0, &["--symbol", "NQ 03-25"]);
    let (code, out) = doctor(&u, &url(nq.port), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(problems(&out).len(), 1, "{out}");
    assert!(
        out.contains(
            "sends NQ 03-25, not ES ([instrument] symbol): put VrevPublisher on an ES chart"
        ),
        "{out}"
    );
    // MES is not ES either (the root before the first space, case-sensitive).
    let mes = serve(&u, 0, &["--symbol", "MES 03-25", "--legacy"]);
    let (code, out) = doctor(&u, &url(mes.port), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("the old Python system's publisher (no hello) sends MES 03-25, not ES"),
        "{out}"
    );

    // The old publisher with ES: works, with a note to move to VrevPublisher.
    let legacy = serve(&u, 0, &["--symbol", "ES 03-25", "--legacy"]);
    let (code, out) = doctor(&u, &url(legacy.port), &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("the old Python system's publisher (no hello), ES 03-25, 30 bar(s)"),
        "{out}"
    );
    assert!(
        out.contains("note    feed: this is the old publisher's protocol"),
        "{out}"
    );
    assert!(out.contains("ok      clock: "), "{out}");

    // Bars two hours ahead of the clock: every live bar would be refused.
    let ahead = serve(&u, 7200, &[]);
    let (code, out) = doctor(&u, &url(ahead.port), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(problems(&out).len(), 1, "{out}");
    assert!(
        out.contains("ahead of this PC's clock: vrev refuses bars more than 5 min in the future"),
        "{out}"
    );
    // On Playback the clock is not checked.
    let (code, out) = doctor(&u, &url(ahead.port), &["--playback"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("skipped clock: --playback"), "{out}");

    // Nothing listens.
    let closed = free_port();
    let (code, out) = doctor(&u, &url(closed), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("nothing listens there"), "{out}");
    assert!(out.contains("skipped clock: no bar from the feed"), "{out}");
    // Something else holds the port.
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other_port = other.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in other.incoming() {
            let Ok(mut s) = s else { break };
            use std::io::Write;
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
        }
    });
    let (code, out) = doctor(&u, &url(other_port), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("the port is held by something that is not a bar publisher"),
        "{out}"
    );

    // The state folder held by another engine (the OS lock, as a running engine holds it).
    let lock_path = u.path("trading/state/lock");
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .unwrap();
    std::fs::write(
        &lock_path,
        "pid 4242, `vrev run`, run started 2026-12-07 08:00:00 UTC",
    )
    .unwrap();
    held.try_lock().unwrap();
    let (code, out) = doctor_fresh(&u, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(problems(&out).len(), 1, "{out}");
    assert!(
        out.contains("is in use by another vrev (pid 4242, `vrev run`"),
        "{out}"
    );
    drop(held);
    // A signals folder held by another engine: its `.vrev-lock` names the holder.
    let signals = u.documents().join("vrev/signals");
    let sig_lock = signals.join(".vrev-lock");
    // The lock file's text as an engine writes it (`host/state_lock.rs`: one `key: value` a line).
    std::fs::write(
        &sig_lock,
        "pid: 777\nhost: pc2\ncommand: vrev run\nmode: run\nstate folder: D:\\other\\state\nstarted: 2026-12-07 08:00:00 UTC\n",
    )
    .unwrap();
    let held = std::fs::File::open(&sig_lock).unwrap();
    held.try_lock().unwrap();
    let (code, out) = doctor_fresh(&u, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("in use by another vrev engine (pid 777 on pc2, `vrev run`, run started 2026-12-07 08:00:00 UTC, state folder D:\\other\\state)"),
        "{out}"
    );
    drop(held);
    let (code, out) = doctor_fresh(&u, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("no engine on it (the last one: pid 777 on pc2"),
        "{out}"
    );
    std::fs::remove_file(&sig_lock).unwrap();

    // A signals folder vrev cannot write (its parent is a file).
    std::fs::write(u.path("trading/blocked"), "a file").unwrap();
    let cfg_path = u.path("trading/config.toml");
    let good_cfg = std::fs::read_to_string(&cfg_path).unwrap();
    let start = good_cfg.find("signals_dir = ").unwrap();
    let end = start + good_cfg[start..].find('\n').unwrap();
    std::fs::write(
        &cfg_path,
        format!(
            "{}signals_dir = \"blocked/signals\"{}",
            &good_cfg[..start],
            &good_cfg[end..]
        ),
    )
    .unwrap();
    let (code, out) = doctor_fresh(&u, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("problem signals folder blocked/signals: cannot create it"),
        "{out}"
    );
    std::fs::write(&cfg_path, &good_cfg).unwrap();

    // The kill switch on.
    let o = u.vrev("trading", &["halt"]);
    assert!(o.status.success());
    let (code, out) = doctor_fresh(&u, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("problem kill switch on") && out.contains("`vrev resume`"),
        "{out}"
    );
    assert!(u.vrev("trading", &["resume"]).status.success());

    // A script that does not check.
    let script = u.path("trading/strategies/orb.rhai");
    let good_script = std::fs::read_to_string(&script).unwrap();
    std::fs::write(&script, format!("{good_script}\nfn broken( {{\n")).unwrap();
    let (code, out) = doctor_fresh(&u, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("error   strategies/orb.rhai"), "{out}");
    assert!(out.contains("problem config and scripts:"), "{out}");
    std::fs::write(&script, &good_script).unwrap();

    // NinjaTrader's files: an older version, an edit, an old-system file, a missing folder.
    let ind = u.custom().join("Indicators/VrevPublisher.cs");
    std::fs::write(&ind, old_publisher()).unwrap();
    let (code, out) = doctor_fresh(&u, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("problem NinjaTrader: Indicators/VrevPublisher.cs is an older version (of 1f43072 of 2026-11-24): run `vrev nt8 install`"),
        "{out}"
    );
    let mut edited = shipped("Indicators/VrevPublisher.cs");
    edited.extend_from_slice(b"// mine\n");
    std::fs::write(&ind, &edited).unwrap();
    let (code, out) = doctor_fresh(&u, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("Indicators/VrevPublisher.cs was changed by hand"),
        "{out}"
    );
    assert!(out.contains("`vrev nt8 install --force`"), "{out}");
    std::fs::write(&ind, shipped("Indicators/VrevPublisher.cs")).unwrap();
    let old = u.custom().join("Strategies/VReversalAutoTrader.cs");
    std::fs::write(
        &old,
        "var files = Directory.GetFiles(dir, \"vreversal_*.txt\");\n",
    )
    .unwrap();
    let (code, out) = doctor_fresh(&u, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(problems(&out).len(), 1, "{out}");
    assert!(
        out.contains(&format!(
            "problem NinjaTrader: {}: the old system's auto-trader",
            old.display()
        )),
        "{out}"
    );
    std::fs::remove_file(&old).unwrap();
    let (code, out) = doctor_fresh(&u, &["--documents", u.path("trading").to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("NinjaTrader 8/bin/Custom not found (Documents folder from --documents)"),
        "{out}"
    );

    // Last, everything sound again.
    let (code, out) = doctor_fresh(&u, &[]);
    assert_eq!(code, Some(0), "{out}");
}

/// The `vrev` commands (and `cd`s) of the ```sh code blocks of a Markdown page, in order.
fn sh_commands(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in page.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_sh = !in_sh && t == "```sh";
            continue;
        }
        if in_sh && !t.is_empty() && !t.starts_with('#') {
            assert!(
                t.starts_with("vrev ") || t.starts_with("cd "),
                "docs/migrating.md: `{t}` in a sh block is neither a vrev command nor a cd"
            );
            out.push(t.to_string());
        }
    }
    out
}

/// The old Python client's CSV: New York wall time marked `+00:00`.
fn python_client_csv(bars: &[vrev::market::bar::Bar]) -> String {
    let clock = vrev::market::time::MarketClock::exchange();
    let mut text = String::from("timestamp,open,high,low,close,volume\n");
    for b in bars {
        text.push_str(&format!(
            "{}+00:00,{},{},{},{},{}\n",
            clock.stamp(b.close_time).format(),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume
        ));
    }
    text
}

#[test]
fn the_migration_page_commands_work_as_written_in_order() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/migrating.md"))
            .unwrap();
    let commands = sh_commands(&page);
    for needed in [
        "vrev init trading",
        "vrev check",
        "vrev nt8 install",
        "vrev doctor",
        "vrev backtest es_bars.csv --ignore-offset",
    ] {
        assert!(
            commands.iter().any(|c| c == needed),
            "docs/migrating.md no longer runs `{needed}`: {commands:?}"
        );
    }
    let u = User::new();
    std::fs::create_dir_all(u.path("work")).unwrap();
    // What the old system left: a recorded CSV, and its traders and publisher in NinjaTrader.
    let bars = vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        days: 2,
        ..Default::default()
    });
    let csv = python_client_csv(&bars);
    std::fs::create_dir_all(u.custom().join("Strategies")).unwrap();
    std::fs::create_dir_all(u.custom().join("Indicators")).unwrap();
    let old_trader = u.custom().join("Strategies/VReversalAutoTrader.cs");
    let old_publisher = u.custom().join("Indicators/BarPublisher.cs");
    std::fs::write(&old_trader, "string mask = \"vreversal_*.txt\";\n").unwrap();
    std::fs::write(&old_publisher, "int port = 6789; // WebSocket server\n").unwrap();

    let mut cwd = PathBuf::from("work");
    let mut publisher = None;
    for c in &commands {
        if let Some(dir) = c.strip_prefix("cd ") {
            cwd = cwd.join(dir);
            continue;
        }
        let args: Vec<&str> = c.split_whitespace().skip(1).collect();
        if args.first() == Some(&"backtest") {
            // "with a file the old client recorded copied there"; without the flag it is
            // refused, with both fixes named.
            std::fs::write(u.path(cwd.join("es_bars.csv").to_str().unwrap()), &csv).unwrap();
            let o = u.vrev(cwd.to_str().unwrap(), &["backtest", "es_bars.csv"]);
            assert_eq!(o.status.code(), Some(1), "{}", all(&o));
            assert!(
                all(&o).contains("--ignore-offset") && all(&o).contains("--exact-offset"),
                "{}",
                all(&o)
            );
        }
        if args == ["doctor"] {
            // Step 1 by hand: the old system's files go. Step 2: vrev's feed url is the port of
            // the publisher (here a `vrev serve` of bars up to this minute).
            std::fs::remove_file(&old_trader).unwrap();
            std::fs::remove_file(&old_publisher).unwrap();
            let s = serve(&u, 0, &[]);
            let cfg = u.path(cwd.join("config.toml").to_str().unwrap());
            let text = std::fs::read_to_string(&cfg).unwrap();
            assert!(text.contains("url = \"ws://127.0.0.1:6789\""), "{text}");
            std::fs::write(
                &cfg,
                text.replace(
                    "url = \"ws://127.0.0.1:6789\"",
                    &format!("url = \"{}\"", url(s.port)),
                ),
            )
            .unwrap();
            publisher = Some(s);
        }
        let o = u.vrev(cwd.to_str().unwrap(), &args);
        let out = all(&o);
        assert!(
            o.status.success(),
            "`{c}` failed in {}:\n{out}",
            cwd.display()
        );
        match args.as_slice() {
            ["backtest", ..] => assert!(out.contains("fill assumptions"), "{out}"),
            ["nt8", "install"] => {
                assert!(
                    out.contains("installed  Strategies/VrevAutoTrader.cs"),
                    "{out}"
                );
                assert!(
                    out.contains(&format!("warning    {}", old_trader.display())),
                    "{out}"
                );
                assert!(
                    out.contains(&format!("warning    {}", old_publisher.display())),
                    "{out}"
                );
            }
            ["doctor"] => assert!(out.contains("doctor: no problem found"), "{out}"),
            _ => {}
        }
    }
    assert!(publisher.is_some(), "the page ran no `vrev doctor`");
}
