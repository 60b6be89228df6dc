//! The journal (DESIGN §7): an append-only JSON-lines file of everything the engine decided —
//! admitted signals, rejections with their reason, script errors, shadow-trade exits, runs —
//! so no decision is ever silent.

use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// One journal line. `event` names the kind; the rest depends on it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStart {
        mode: String,
        config: String,
        profiles: Vec<String>,
        strategies: Vec<String>,
        ledger_ids: usize,
        recovered_from_files: usize,
    },
    Signal {
        bar_time: String,
        /// The same instant as ET wall time (`yyyy-MM-dd HH:mm:ss`), as a trader reads it.
        bar_time_et: String,
        signal_id: String,
        side: String,
        profile: String,
        window: String,
        strategy: String,
        entry: f64,
        stop: f64,
        target: f64,
        quantity: u32,
        confidence: Option<f64>,
        file: String,
        /// Microseconds from the bar reaching the engine to the file being renamed into place.
        latency_us: u64,
    },
    Rejected {
        bar_time: String,
        /// The same instant as ET wall time (`yyyy-MM-dd HH:mm:ss`), as a trader reads it.
        bar_time_et: String,
        signal_id: String,
        side: String,
        profile: String,
        strategy: String,
        reason: String,
        detail: String,
    },
    ScriptError {
        bar_time: String,
        /// The same instant as ET wall time (`yyyy-MM-dd HH:mm:ss`), as a trader reads it.
        bar_time_et: String,
        profile: String,
        strategy: String,
        error: String,
    },
    /// A script asked to close an open trade: the exit file (`docs/protocol.md` §1b), or why
    /// none was written.
    ScriptExit {
        bar_time: String,
        /// The same instant as ET wall time (`yyyy-MM-dd HH:mm:ss`), as a trader reads it.
        bar_time_et: String,
        profile: String,
        signal_id: String,
        reason: String,
        /// The exit file's path; empty when none was written (see `detail`).
        file: String,
        detail: String,
    },
    SignalWriteFailed {
        bar_time: String,
        /// The same instant as ET wall time (`yyyy-MM-dd HH:mm:ss`), as a trader reads it.
        bar_time_et: String,
        signal_id: String,
        error: String,
    },
    TradeClosed {
        signal_id: String,
        side: String,
        entry_time: String,
        entry_time_et: String,
        entry: f64,
        exit_time: String,
        exit_time_et: String,
        exit: f64,
        reason: String,
        pnl: f64,
    },
    /// A new script or config version went live after the bar `after_bar`.
    Reload {
        after_bar: String,
        file: String,
        old_hash: Option<String>,
        new_hash: String,
        profiles: Vec<String>,
        /// What happened to script state, or to the window→profile map.
        state: String,
        notes: Vec<String>,
    },
    /// A new version was refused; the running one stays.
    ReloadFailed {
        after_bar: String,
        file: String,
        hash: String,
        error: String,
    },
    /// The live feed's connection: connected, disconnected, silent, stopped.
    Feed {
        state: String,
        detail: String,
        /// Wall-clock time of the event.
        time: String,
    },
    /// State could not be recorded: nothing more is admitted in this run (DESIGN §14).
    Halted { reason: String },
    /// The kill switch (`state/HALT`) was found on or off: while on, every new entry is refused
    /// as `kill_switch`.
    KillSwitch {
        on: bool,
        detail: String,
        /// Wall-clock time it was noticed.
        time: String,
    },
    /// Something a person did at the live desk (a key): what it did.
    Desk {
        action: String,
        detail: String,
        time: String,
    },
    BarRejected {
        bar_time: String,
        /// The same instant as ET wall time (`yyyy-MM-dd HH:mm:ss`), as a trader reads it.
        bar_time_et: String,
        reason: String,
    },
    RunEnd {
        bars: u64,
        signals: u64,
        rejections: u64,
        script_errors: u64,
        bars_skipped: u64,
        bars_implausible: u64,
        signal_write_failures: usize,
        halted: Option<String>,
    },
}

/// Appends events to a file, one JSON object per line, each line one `write` call (no buffer: a
/// failed write is reported for that line and never leaks half a line into a later one).
pub struct Journal {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl Journal {
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        // Appended to, never followed: a link or FIFO at the journal's name is refused.
        crate::market::safe_write::refuse_special(path)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write(&mut self, event: &Event) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(event).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)
    }
}

#[cfg(all(test, unix))]
mod link_tests {
    #[test]
    fn the_journal_is_never_appended_through_a_planted_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let path = dir.path().join("journal.jsonl");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let e = super::Journal::open(&path)
            .err()
            .expect("a link is refused");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }
}
