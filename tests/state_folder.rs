//! `--state DIR` and `--fresh` (issue 13): which ledger a replay uses, and how to start a new one.
//! The regression: `--signals NEWDIR` alone still used the old ledger, so a "fresh" replay
//! silently wrote only the signals the old ledger did not know.

mod common;
use common::*;

fn files_in(p: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = match std::fs::read_dir(p) {
        Ok(d) => d
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".txt"))
            .collect(),
        Err(_) => vec![],
    };
    v.sort();
    v
}

fn one_day_of_bars(p: &Project) {
    let o = p.vrev(&["synth", "--out", "bars.txt", "--days", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_second_replay_names_the_ledger_and_fresh_writes_every_signal_again() {
    let p = Project::new();
    one_day_of_bars(&p);
    let first = p.vrev(&["replay", "bars.txt"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let written = p.signal_files();
    assert_eq!(written.len(), 3, "{}", stdout(&first));

    // A new signal folder alone keeps the old ledger: nothing is written, and the summary says
    // why (the ledger's place) and what to do (--fresh).
    let again = p.vrev(&["replay", "bars.txt", "--signals", "new1"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let out = stdout(&again);
    assert!(files_in(&p.path("new1")).is_empty());
    assert!(out.contains("signals: 0"), "{out}");
    assert!(out.contains("duplicate 3"), "{out}");
    assert!(out.contains("state/ledger.txt"), "{out}");
    assert!(out.contains("--fresh"), "{out}");

    // --fresh: a new empty ledger; all three signals are written; the old ledger is kept aside.
    let fresh = p.vrev(&["replay", "bars.txt", "--signals", "new2", "--fresh"]);
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    let out = stdout(&fresh);
    assert_eq!(files_in(&p.path("new2")), written, "{out}");
    assert!(out.contains("signals: 3"), "{out}");
    assert!(!out.contains("duplicate"), "{out}");
    let ledger = std::fs::read_to_string(p.path("state/ledger.txt")).unwrap();
    assert_eq!(
        ledger.lines().count(),
        3,
        "the new ledger holds this run's IDs"
    );
    let aside: Vec<String> = std::fs::read_dir(p.path("state"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("ledger-") && n.ends_with(".txt"))
        .collect();
    assert_eq!(aside.len(), 1, "the old ledger is kept aside: {aside:?}");
    assert!(
        out.contains(&aside[0]),
        "the summary names where the old ledger went: {out}"
    );
}

#[test]
fn fresh_does_not_rewrite_signal_files_still_waiting_in_the_signal_folder() {
    let p = Project::new();
    one_day_of_bars(&p);
    assert!(p.vrev(&["replay", "bars.txt"]).status.success());
    // Same signal folder, files still there: a file in place counts as emitted (crash safety),
    // and the summary says so instead of blaming the ledger.
    let o = p.vrev(&["replay", "bars.txt", "--fresh"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("duplicate 3"), "{out}");
    assert!(out.contains("signal file(s) still in signals"), "{out}");
    assert!(out.contains("--signals"), "{out}");
}

#[test]
fn state_puts_the_ledger_and_lock_in_another_folder() {
    let p = Project::new();
    one_day_of_bars(&p);
    assert!(p.vrev(&["replay", "bars.txt"]).status.success());
    let o = p.vrev(&["replay", "bars.txt", "--state", "st2", "--signals", "sig2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(files_in(&p.path("sig2")).len(), 3, "{}", stdout(&o));
    let ledger = std::fs::read_to_string(p.path("st2/ledger.txt")).unwrap();
    assert_eq!(ledger.lines().count(), 3);
    assert!(p.path("st2/lock").exists());
    // The old ledger is untouched.
    let old = std::fs::read_to_string(p.path("state/ledger.txt")).unwrap();
    assert_eq!(old.lines().count(), 3);
}

#[test]
fn help_of_replay_and_run_explains_state_and_fresh() {
    let p = Project::new();
    for cmd in ["replay", "run"] {
        let o = p.vrev(&[cmd, "--help"]);
        let h = stdout(&o);
        assert!(h.contains("--state <DIR>"), "{cmd}: {h}");
        assert!(h.contains("--fresh"), "{cmd}: {h}");
        assert!(h.contains("ledger"), "{cmd}: {h}");
    }
}

/// Issue 22: `--state DIR` moved the ledger but left the journal at engine.journal, so two
/// replays with their own state folders wrote into one journal.
#[test]
fn state_dir_moves_the_journal_unless_journal_is_given() {
    let p = Project::new();
    one_day_of_bars(&p);
    let run = p.vrev(&["replay", "bars.txt", "--state", "other"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let out = stdout(&run);
    assert!(
        p.path("other/journal.jsonl").is_file(),
        "no journal in the --state folder: {out}"
    );
    assert!(
        !p.path("state/journal.jsonl").exists(),
        "the config's journal was written though --state was given: {out}"
    );
    assert!(out.contains("other/journal.jsonl"), "{out}");

    // --journal wins over --state.
    let run = p.vrev(&[
        "replay",
        "bars.txt",
        "--state",
        "third",
        "--journal",
        "j.jsonl",
        "--signals",
        "s3",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(p.path("j.jsonl").is_file(), "{}", stdout(&run));
    assert!(!p.path("third/journal.jsonl").exists());
}

/// Issue 19: `--signals FILE` was reported as "state: cannot open the ledger: File exists".
#[test]
fn a_file_given_as_the_signals_or_state_folder_is_named_as_such() {
    let p = Project::new();
    one_day_of_bars(&p);
    p.write("afile", "x");
    for flag in ["--signals", "--state"] {
        let o = p.vrev(&["replay", "bars.txt", flag, "afile"]);
        assert!(!o.status.success());
        let err = stderr(&o);
        let what = if flag == "--signals" {
            "the signals folder"
        } else {
            "the state folder"
        };
        assert!(
            err.contains(&format!(
                "afile: cannot use as {what}: it is a file, not a folder"
            )),
            "{flag}: {err}"
        );
        assert!(!err.contains("ledger"), "{flag}: {err}");
    }
    assert_eq!(std::fs::read_to_string(p.path("afile")).unwrap(), "x");
}
