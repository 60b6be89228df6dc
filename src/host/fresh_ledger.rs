//! `--fresh`: a run that starts with an empty ledger of emitted IDs.
//!
//! The previous ledger is never deleted: it is renamed to `ledger-<UTC time>.txt` in the same
//! state folder, under that folder's lock (no other engine is reading it), and the engine then
//! opens a new, empty `ledger.txt`. Signal files still waiting in the signal folder count as
//! emitted all the same (the ledger is reconciled with them at start-up, DESIGN §7): `--fresh`
//! never rewrites a file NinjaTrader may not have taken yet; point `--signals` at an empty folder
//! to write every signal again.

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// Moves `state_dir/ledger.txt` aside as `ledger-YYYYMMDDTHHMMSSZ.txt` (with `-2`, `-3`, ... if
/// that name is taken) and returns where it went; `None` when there was no ledger.
pub fn set_aside(state_dir: &Path, now: DateTime<Utc>) -> std::io::Result<Option<PathBuf>> {
    let ledger = state_dir.join("ledger.txt");
    if !ledger.exists() {
        return Ok(None);
    }
    let stamp = now.format("%Y%m%dT%H%M%SZ");
    let mut target = state_dir.join(format!("ledger-{stamp}.txt"));
    let mut n = 2;
    while target.exists() {
        target = state_dir.join(format!("ledger-{stamp}-{n}.txt"));
        n += 1;
    }
    std::fs::rename(&ledger, &target)?;
    Ok(Some(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_old_ledger_is_renamed_never_deleted_and_names_never_collide() {
        let dir = tempfile::tempdir().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-12-01T02:45:07Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(set_aside(dir.path(), now).unwrap(), None, "no ledger yet");
        std::fs::write(dir.path().join("ledger.txt"), "A\n").unwrap();
        let first = set_aside(dir.path(), now).unwrap().unwrap();
        assert_eq!(first, dir.path().join("ledger-20261201T024507Z.txt"));
        std::fs::write(dir.path().join("ledger.txt"), "B\n").unwrap();
        let second = set_aside(dir.path(), now).unwrap().unwrap();
        assert_eq!(second, dir.path().join("ledger-20261201T024507Z-2.txt"));
        assert_eq!(std::fs::read_to_string(first).unwrap(), "A\n");
        assert_eq!(std::fs::read_to_string(second).unwrap(), "B\n");
        assert!(!dir.path().join("ledger.txt").exists());
    }
}
