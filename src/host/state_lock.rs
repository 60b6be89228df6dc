//! One engine per state folder (DESIGN §14): an exclusive OS lock on `<state_dir>/lock`.
//!
//! Two engines sharing a ledger would each think the other's signals were never emitted and
//! write almost every signal twice. The lock is the operating system's (`flock` on Unix,
//! `LockFileEx` on Windows, through `std::fs::File::try_lock`), so it is released when the
//! process ends however it ends — a crash or SIGKILL never leaves a stale lock behind, unlike a
//! PID file. The file's text only *describes* the holder (pid, command, start time) for the
//! refusal message; it is never what decides.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Name of the lock file inside the state folder.
pub const LOCK_FILE: &str = "lock";

/// Held for the engine's lifetime; dropping it releases the lock.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
    pub path: PathBuf,
}

impl StateLock {
    /// Takes the lock of `state_dir` (created if missing) for `mode` (`replay`, `run`, ...), or
    /// explains who holds it.
    pub fn acquire(state_dir: &Path, mode: &str) -> Result<StateLock, String> {
        let path = state_dir.join(LOCK_FILE);
        std::fs::create_dir_all(state_dir).map_err(|e| {
            format!(
                "{}: cannot create the state folder: {e}",
                state_dir.display()
            )
        })?;
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
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(format!(
                    "{} is in use by another vrev ({}): one engine per state folder, or both would write every signal twice. Stop it first, or give this run its own state folder (engine.state_dir)",
                    state_dir.display(),
                    if holder.is_empty() { "holder unknown" } else { holder }
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(format!("{}: cannot lock: {e}", path.display()));
            }
        }
        let args: Vec<String> = std::env::args().collect();
        let describe = format!(
            "pid {}, `{}`, {mode} started {}",
            std::process::id(),
            args.join(" "),
            crate::market::time::format_utc(chrono::Utc::now().timestamp())
        );
        // Best effort: the description helps the next refusal message, the lock is what counts.
        let _ = file
            .set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| file.write_all(describe.as_bytes()))
            .and_then(|_| file.flush());
        Ok(StateLock { _file: file, path })
    }
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
}
