//! `replay --pace` (issue 13): a line per signal and a status line about every second, never a
//! line per bar; Ctrl+C stops between bars with the closing summary and exit code 130.

mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn one_day(p: &Project) {
    let o = p.vrev(&["synth", "--out", "bars.txt", "--days", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn pace_prints_each_signal_and_a_status_line_per_second_not_a_line_per_bar() {
    let p = Project::new();
    one_day(&p);
    let started = Instant::now();
    // 1,380 bars at 1,000 bars a second.
    let o = p.vrev(&["replay", "bars.txt", "--pace", "60000"]);
    let secs = started.elapsed().as_secs_f64();
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let signal_lines: Vec<&str> = err.lines().filter(|l| l.starts_with("signal ")).collect();
    assert_eq!(signal_lines.len(), 3, "{err}");
    for l in &signal_lines {
        assert!(l.contains(" ET BUY entry "), "{l}");
        assert!(l.contains(" id 2025021"), "{l}");
    }
    let status: Vec<&str> = err.lines().filter(|l| l.starts_with("pace: ")).collect();
    assert!(!status.is_empty(), "{err}");
    assert!(
        status.len() as f64 <= secs + 2.0,
        "{} status lines in {secs:.1} s: {err}",
        status.len()
    );
    let last = status.last().unwrap();
    assert!(last.starts_with("pace: bar 1380/1380 ("), "{last}");
    assert!(last.contains("| signals 3 |"), "{last}");
    assert!(last.contains("today's shadow P&L"), "{last}");
    assert!(err.lines().count() < 20, "no line per bar: {err}");
    assert!(stdout(&o).contains("signals: 3 written"), "{}", stdout(&o));
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_between_bars_with_the_closing_summary_and_exit_130() {
    let p = Project::new();
    one_day(&p);
    // 10 bars a second: the day would take over two minutes.
    let child = Command::new(env!("CARGO_BIN_EXE_vrev"))
        .args(["replay", "bars.txt", "--pace", "600"])
        .current_dir(p.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let started = Instant::now();
    let o = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "stops promptly");
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(130), "{out}\n{err}");
    assert!(err.contains("interrupted (Ctrl+C) after "), "{err}");
    assert!(err.contains(" of 1380 bars"), "{err}");
    // The same closing lines as a normal end.
    assert!(out.contains("signals: "), "{out}");
    assert!(out.contains("rejected proposals: "), "{out}");
    assert!(out.contains("ledger: state/ledger.txt"), "{out}");
    assert!(out.contains("journal: state/journal.jsonl"), "{out}");
    // Stopped between bars: the journal ends with the run's end, no bar half-done.
    let journal = p.journal();
    assert!(!journal.is_empty());
}
