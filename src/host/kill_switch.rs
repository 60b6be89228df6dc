//! The kill switch (issue 21): a file `HALT` in the engine's state folder. While it exists,
//! every new entry is refused as `kill_switch`; nothing else changes (the shadow book runs,
//! open trades still exit, the exit code is untouched). It is a file so that another program, or
//! a person in a second terminal (`vrev halt` / `vrev resume`), can trip it. Not the fault state
//! `halted` of [`crate::host::faults`].

use std::path::{Path, PathBuf};

/// The refusal reason in the journal and the summaries.
pub const REASON: &str = "kill_switch";

/// `DIR/HALT`.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("HALT")
}

/// Whether the switch at `file` is on (the file exists, whatever it holds).
pub fn is_on(file: &Path) -> bool {
    std::fs::symlink_metadata(file).is_ok()
}

/// The first line of the file (who tripped it and when), or a placeholder.
pub fn note(file: &Path) -> String {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|t| t.lines().next().map(|l| l.trim().to_string()))
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "HALT file present".into())
}

/// Turns the switch on: writes `DIR/HALT` with `by` and the UTC time (the folder is created if
/// missing). Returns whether it was already on (then the file is left as it was).
pub fn trip(state_dir: &Path, by: &str) -> std::io::Result<bool> {
    let file = path(state_dir);
    if is_on(&file) {
        return Ok(true);
    }
    std::fs::create_dir_all(state_dir)?;
    let now = crate::market::time::format_utc(chrono::Utc::now().timestamp());
    // Created under a temporary name and renamed, never written through a link.
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("HALT");
    crate::market::safe_write::write_file(
        state_dir,
        name,
        format!("halted by {by} at {now}\n").as_bytes(),
        true,
    )?;
    Ok(false)
}

/// Turns the switch off: removes `DIR/HALT`. Returns whether it was on.
pub fn release(state_dir: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path(state_dir)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trip_and_release_report_the_previous_state() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        assert!(!is_on(&path(&state)));
        assert!(!trip(&state, "test").unwrap(), "was off");
        assert!(is_on(&path(&state)));
        assert!(note(&path(&state)).starts_with("halted by test at "));
        assert!(trip(&state, "again").unwrap(), "was already on");
        assert!(note(&path(&state)).starts_with("halted by test"), "kept");
        assert!(release(&state).unwrap());
        assert!(!is_on(&path(&state)));
        assert!(!release(&state).unwrap());
    }
}
