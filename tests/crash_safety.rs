//! Crash safety (DESIGN §7): a replay killed with SIGKILL at random moments, then re-run to the
//! end, leaves exactly the signal files of an uninterrupted run — none duplicated, none lost,
//! every byte the same.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn snapshot(p: &Project) -> BTreeMap<String, Vec<u8>> {
    p.signal_files()
        .into_iter()
        .map(|f| {
            (
                f.clone(),
                std::fs::read(p.path("signals").join(&f)).unwrap(),
            )
        })
        .collect()
}

fn setup(bars_text: &[u8]) -> Project {
    let p = Project::new();
    std::fs::write(p.path("bars.txt"), bars_text).unwrap();
    p
}

#[test]
fn sigkill_at_random_moments_then_rerun_gives_exactly_the_uninterrupted_files() {
    // 40 synthetic trading days: about 120 signals, each written with fsync.
    let bars = vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        days: 40,
        seed: 11,
        ..Default::default()
    });
    let mut text = Vec::new();
    vrev::market::synth::write_ninjatrader(&bars, &mut text).unwrap();

    let reference = setup(&text);
    let started = Instant::now();
    let out = reference.vrev(&["replay", "bars.txt"]);
    let full_run = started.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = snapshot(&reference);
    assert!(
        expected.len() >= 60,
        "need many signals to kill between, got {}",
        expected.len()
    );

    let mut rng = vrev::market::synth::Rng::new(2024);
    let mut killed_mid_run = 0;
    for run in 0..6 {
        let p = setup(&text);
        // Up to three kills per run at random moments within the uninterrupted duration.
        for _ in 0..1 + run % 3 {
            let mut child = Command::new(env!("CARGO_BIN_EXE_vrev"))
                .args(["replay", "bars.txt"])
                .current_dir(p.dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let wait = full_run.mul_f64(0.1 + 0.9 * rng.unit());
            std::thread::sleep(wait.min(Duration::from_secs(5)));
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                killed_mid_run += 1;
            }
            child.wait().unwrap();
        }
        let out = p.vrev(&["replay", "bars.txt"]);
        assert!(out.status.success(), "run {run}: {}", stderr(&out));
        let got = snapshot(&p);
        let missing: Vec<_> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
        let extra: Vec<_> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "run {run}: missing {missing:?}, extra {extra:?}"
        );
        assert_eq!(
            got, expected,
            "run {run}: same names but different contents"
        );
        // No temporary file survives the recovery, and the ledger holds each ID once.
        assert!(std::fs::read_dir(p.path("signals")).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")));
        let ledger = std::fs::read_to_string(p.path("state/ledger.txt")).unwrap();
        let mut ids: Vec<&str> = ledger.lines().collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "run {run}: an ID is in the ledger twice");
        assert_eq!(n, expected.len(), "run {run}");
    }
    assert!(
        killed_mid_run >= 3,
        "the kills must land while the replay runs (got {killed_mid_run})"
    );
}
