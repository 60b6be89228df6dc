//! One engine per folder (DESIGN §14): an exclusive OS lock on `<state_dir>/lock`, and the same
//! lock on `<signals_dir>/.vrev-lock`.
//!
//! Two engines sharing a ledger would each think the other's signals were never emitted and
//! write almost every signal twice. Two engines with their own state folders but one signals
//! folder would each write their signals into it, and the auto-trader would take every signal of
//! both (whatever their prefixes: a second engine is refused even if its prefixes differ). The
//! lock is the operating system's (`flock` on Unix, `LockFileEx` on Windows, through
//! `std::fs::File::try_lock`), so it is released when the process ends however it ends — a crash
//! or SIGKILL never leaves a stale lock behind, unlike a PID file. The file stays after the run:
//! whether it is *held* is what counts, never whether it exists. Its text only *describes* the
//! last holder for the refusal message and `vrev doctor`, one `key: value` line each (`pid`,
//! `host`, `command`, `mode`, `state folder`, `signals folder`, `started`); it is never what
//! decides.
//!
//! The signals folder's lock file is hidden (`.vrev-lock`) and no reader takes it for a signal:
//! the start-up scan skips it by name (`src/host/ledger.rs`), `VrevAutoTrader` reads only
//! `<prefix>….txt`/`.exit` and never a name starting with `.`, and the old system's traders read
//! `vreversal_*.txt`.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Name of the lock file inside the state folder.
pub const LOCK_FILE: &str = "lock";

/// Name of the lock file inside the signals folder (hidden: no reader takes it for a signal).
pub const SIGNALS_LOCK_FILE: &str = ".vrev-lock";

/// Held for the engine's lifetime; dropping it releases the lock.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
    pub path: PathBuf,
}

/// Which folder a lock guards, for its refusal message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guarded {
    State,
    Signals,
}

impl StateLock {
    /// Takes the lock of `state_dir` (created if missing) for `mode` (`replay`, `run`, ...), or
    /// explains who holds it.
    pub fn acquire(state_dir: &Path, mode: &str) -> Result<StateLock, String> {
        Self::take(Guarded::State, state_dir, state_dir, None, mode)
    }

    /// Takes the lock of the signals folder (created if missing): `<signals_dir>/.vrev-lock`.
    /// `state_dir` is named in the lock file, so that a refusal says which engine holds it.
    pub fn acquire_signals(
        signals_dir: &Path,
        state_dir: &Path,
        mode: &str,
    ) -> Result<StateLock, String> {
        Self::take(
            Guarded::Signals,
            signals_dir,
            state_dir,
            Some(signals_dir),
            mode,
        )
    }

    fn take(
        guarded: Guarded,
        dir: &Path,
        state_dir: &Path,
        signals_dir: Option<&Path>,
        mode: &str,
    ) -> Result<StateLock, String> {
        let (name, what) = match guarded {
            Guarded::State => (LOCK_FILE, "state folder"),
            Guarded::Signals => (SIGNALS_LOCK_FILE, "signals folder"),
        };
        let path = dir.join(name);
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: cannot create the {what}: {e}", dir.display()))?;
        // A link or FIFO at the lock's name is refused: truncating it would write through it.
        crate::market::safe_write::refuse_special(&path).map_err(|e| e.to_string())?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| format!("{}: cannot open the lock file: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = describe_holder(&text);
                return Err(match guarded {
                    Guarded::State => format!(
                        "{} is in use by another vrev ({holder}): one engine per state folder, or both would write every signal twice. Stop it first, or give this run its own state folder (engine.state_dir)",
                        dir.display()
                    ),
                    Guarded::Signals => format!(
                        "signals folder {} is in use by another vrev ({holder}; lock {}): one engine per signals folder whatever the prefixes, or the auto-trader would take the signals of both. Stop it first, or give this run its own signals folder (engine.signals_dir, --signals)",
                        dir.display(),
                        path.display()
                    ),
                });
            }
            Err(TryLockError::Error(e)) => {
                return Err(format!("{}: cannot lock: {e}", path.display()));
            }
        }
        let text = holder_text(mode, state_dir, signals_dir);
        // Best effort: the description helps the next refusal message, the lock is what counts.
        let _ = file
            .set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| file.write_all(text.as_bytes()))
            .and_then(|_| file.flush());
        Ok(StateLock { _file: file, path })
    }
}

/// The lock file's text: who holds it, one `key: value` line each.
fn holder_text(mode: &str, state_dir: &Path, signals_dir: Option<&Path>) -> String {
    let abs = |p: &Path| {
        std::path::absolute(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .display()
            .to_string()
    };
    let args: Vec<String> = std::env::args().collect();
    let mut text = format!(
        "pid: {}\nhost: {}\ncommand: {}\nmode: {mode}\nstate folder: {}\n",
        std::process::id(),
        host_name(),
        args.join(" "),
        abs(state_dir)
    );
    if let Some(s) = signals_dir {
        text.push_str(&format!("signals folder: {}\n", abs(s)));
    }
    text.push_str(&format!(
        "started: {}\n",
        crate::market::time::format_utc(chrono::Utc::now().timestamp())
    ));
    text
}

/// One line for a refusal message: `pid 41 on host-a, `vrev run`, run started 2026-…Z, state
/// folder /x/state`. A text in another layout (an older vrev's) is shown as it is.
pub fn describe_holder(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "holder unknown".into();
    }
    let field = |key: &str| {
        text.lines().find_map(|l| {
            l.strip_prefix(key)
                .and_then(|r| r.strip_prefix(':'))
                .map(str::trim)
        })
    };
    let (Some(pid), Some(mode), Some(started)) = (field("pid"), field("mode"), field("started"))
    else {
        return text.lines().collect::<Vec<_>>().join(" ");
    };
    let mut s = format!("pid {pid}");
    if let Some(h) = field("host") {
        s.push_str(&format!(" on {h}"));
    }
    if let Some(c) = field("command") {
        s.push_str(&format!(", `{c}`"));
    }
    s.push_str(&format!(", {mode} started {started}"));
    if let Some(st) = field("state folder") {
        s.push_str(&format!(", state folder {st}"));
    }
    s
}

/// This machine's name (`unknown host` when the system does not say).
fn host_name() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its whole length; gethostname writes at most that.
        let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if r == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
            if !name.is_empty() {
                return name;
            }
        }
    }
    #[cfg(windows)]
    {
        if let Ok(name) = std::env::var("COMPUTERNAME") {
            if !name.trim().is_empty() {
                return name.trim().to_string();
            }
        }
    }
    "unknown host".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(dir.path(), "replay").unwrap();
        let err = StateLock::acquire(dir.path(), "run").unwrap_err();
        assert!(err.contains("in use by another vrev"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(err.contains("replay started"), "{err}");
        drop(first);
        StateLock::acquire(dir.path(), "run").expect("released on drop");
    }

    #[test]
    fn the_signals_folder_lock_is_a_hidden_file_naming_pid_host_state_folder_and_start() {
        let dir = tempfile::tempdir().unwrap();
        let (sig, state_a, state_b) = (
            dir.path().join("signals"),
            dir.path().join("a"),
            dir.path().join("b"),
        );
        let first = StateLock::acquire_signals(&sig, &state_a, "run").unwrap();
        assert_eq!(first.path, sig.join(".vrev-lock"));
        let text = std::fs::read_to_string(&first.path).unwrap();
        for key in [
            "pid: ",
            "host: ",
            "command: ",
            "mode: run",
            "state folder: ",
            "signals folder: ",
            "started: ",
        ] {
            assert!(text.contains(key), "{key} in:\n{text}");
        }
        assert!(text.contains(&std::path::absolute(&state_a).unwrap().display().to_string()));
        // Another state folder does not help: one engine per signals folder.
        let err = StateLock::acquire_signals(&sig, &state_b, "replay").unwrap_err();
        assert!(err.contains("signals folder"), "{err}");
        assert!(err.contains("in use by another vrev"), "{err}");
        assert!(
            err.contains(&format!("pid {} on {}", std::process::id(), host_name())),
            "{err}"
        );
        assert!(err.contains("run started"), "{err}");
        assert!(err.contains(&state_a.display().to_string()), "{err}");
        // The state lock of the same folder is a different file.
        let _state = StateLock::acquire(&sig, "run").unwrap();
        drop(first);
        StateLock::acquire_signals(&sig, &state_b, "replay").expect("released on drop");
    }

    #[test]
    fn an_older_one_line_holder_text_is_shown_as_it_is() {
        assert_eq!(describe_holder(""), "holder unknown");
        assert_eq!(
            describe_holder("pid 7, `vrev run`, run started 2026-01-01T00:00:00Z\n"),
            "pid 7, `vrev run`, run started 2026-01-01T00:00:00Z"
        );
    }
}
