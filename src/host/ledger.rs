//! The ledger of emitted signal IDs (DESIGN §7): survives restarts and crashes.
//!
//! Order of writes for a new signal: the signal file is renamed into place first, then its ID is
//! appended here. A crash between the two leaves a file whose ID the ledger lacks; at start-up the
//! ledger is reconciled with the signal files present, so the ID counts as emitted and the signal
//! is never written twice. A crash before the rename leaves only a `.tmp` file, which is removed:
//! that signal was never emitted and the re-run emits it.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

/// Emitted IDs, in memory and (optionally) on disk.
#[derive(Debug, Default)]
pub struct Ledger {
    ids: HashSet<String>,
    file: Option<std::fs::File>,
    path: Option<std::path::PathBuf>,
    fsync: bool,
}

/// What opening a ledger found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// IDs read from the ledger file.
    pub from_ledger: usize,
    /// IDs found only as signal files (crash between rename and ledger append), now added.
    pub from_files: usize,
    /// Leftover temporary files removed (crash before rename).
    pub temp_files_removed: usize,
    /// Names with a signal prefix that were not read: links, FIFOs, devices, oversized files.
    pub skipped: Vec<String>,
}

/// The largest signal file the start-up scan reads (vrev writes well under 4 KiB).
pub const MAX_SIGNAL_FILE_BYTES: u64 = 64 * 1024;

/// The signals folder's lock file (shared with NinjaTrader); the scan never touches it.
pub const LOCK_FILE_NAME: &str = ".vrev-lock";

/// Reads a regular file of at most [`MAX_SIGNAL_FILE_BYTES`], without following a link and
/// without blocking on a FIFO swapped in after the listing. `None` when it is anything else.
fn read_bounded(path: &Path) -> std::io::Result<Option<String>> {
    use std::io::Read;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let f = opts.open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() || meta.len() > MAX_SIGNAL_FILE_BYTES {
        return Ok(None);
    }
    let mut text = String::new();
    f.take(MAX_SIGNAL_FILE_BYTES).read_to_string(&mut text)?;
    Ok(Some(text))
}

impl Ledger {
    /// An in-memory ledger (backtests, scenarios).
    pub fn in_memory() -> Self {
        Ledger::default()
    }

    /// An in-memory ledger that already holds `ids` (a restart, without files).
    pub fn with_ids(ids: impl IntoIterator<Item = String>) -> Self {
        Ledger {
            ids: ids.into_iter().collect(),
            ..Ledger::default()
        }
    }

    /// Opens (or creates) `state_dir/ledger.txt` and reconciles it with `signals_dir`: only
    /// regular files named with one of `prefixes` (bounded in size) are read, and only vrev's
    /// own temporary names with those prefixes are deleted. Links, FIFOs and devices are skipped
    /// and listed in [`Recovery::skipped`]; the folder's `.vrev-lock` is never touched.
    pub fn open(
        state_dir: &Path,
        signals_dir: &Path,
        prefixes: &[String],
        fsync: bool,
    ) -> std::io::Result<(Self, Recovery)> {
        std::fs::create_dir_all(state_dir)?;
        std::fs::create_dir_all(signals_dir)?;
        let path = state_dir.join("ledger.txt");
        let mut ids = HashSet::new();
        let mut rec = Recovery::default();
        crate::market::safe_write::refuse_special(&path)?;
        if let Ok(text) = std::fs::read_to_string(&path) {
            // A line without its newline was cut by a crash mid-append; the file scan below
            // recovers that ID if its signal file exists.
            let complete = match text.rfind('\n') {
                Some(i) => &text[..=i],
                None => "",
            };
            for line in complete.lines().map(str::trim).filter(|l| !l.is_empty()) {
                if ids.insert(line.to_string()) {
                    rec.from_ledger += 1;
                }
            }
            if complete.len() != text.len() {
                // Drop the partial line so later appends start on a fresh line.
                crate::market::safe_write::write_file(
                    state_dir,
                    "ledger.txt",
                    complete.as_bytes(),
                    fsync,
                )?;
            }
        }
        crate::market::safe_write::refuse_special(&path)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        for entry in std::fs::read_dir(signals_dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            if name == LOCK_FILE_NAME {
                continue;
            }
            let ours = prefixes.iter().any(|p| {
                crate::market::safe_write::is_own_temp_name(&name, p)
                    || (name.starts_with(p.as_str()) && name.ends_with(".txt"))
            });
            if !ours {
                continue;
            }
            // `file_type` does not follow a link.
            let kind = entry.file_type()?;
            if !kind.is_file() {
                let what = crate::market::safe_write::special_kind(&entry.path())
                    .unwrap_or("not a regular file");
                rec.skipped.push(format!(
                    "{}: is {what}; skipped (vrev reads and deletes only regular files)",
                    entry.path().display()
                ));
                continue;
            }
            if name.starts_with('.') {
                // Our own temporary name: a write cut short by a crash of an engine that held
                // this folder's state lock (as this one does now).
                std::fs::remove_file(entry.path())?;
                rec.temp_files_removed += 1;
                continue;
            }
            if id_in_file_name(&name).is_some_and(|id| ids.contains(id)) {
                continue;
            }
            match read_bounded(&entry.path()) {
                Ok(Some(text)) => {
                    if let Some(id) = crate::host::signal::read_signal_id(&text) {
                        if ids.insert(id.to_string()) {
                            writeln!(file, "{id}")?;
                            rec.from_files += 1;
                        }
                    }
                }
                Ok(None) => rec.skipped.push(format!(
                    "{}: larger than {MAX_SIGNAL_FILE_BYTES} bytes or not a regular file; skipped (not a signal vrev wrote)",
                    entry.path().display()
                )),
                Err(_) => {}
            }
        }
        if fsync {
            file.sync_all()?;
        }
        Ok((
            Ledger {
                ids,
                file: Some(file),
                path: Some(path),
                fsync,
            },
            rec,
        ))
    }

    /// Where the ledger lives, for messages.
    pub fn describe(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "(in memory)".into(),
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Records an emitted ID (after its signal file is in place). The ID is held in memory even
    /// when the disk write fails: this run never writes it twice, and the next start finds it
    /// again from its signal file.
    pub fn record(&mut self, id: &str) -> std::io::Result<()> {
        self.ids.insert(id.to_string());
        if let Some(f) = &mut self.file {
            // One write call per line: a crash cannot interleave half an ID with another.
            f.write_all(format!("{id}\n").as_bytes())?;
            if self.fsync {
                f.sync_data()?;
            }
        }
        Ok(())
    }
}

/// The ID at the end of a signal file name: its last four `_`-separated parts
/// (`YYYYMMDD_HHMMSS_A_B`), five for a SELL (`..._SELL`), whatever the prefix.
fn id_in_file_name(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".txt")?;
    let parts = if stem.ends_with(crate::host::signal::SELL_SUFFIX) {
        4
    } else {
        3
    };
    let cut = stem
        .rmatch_indices('_')
        .nth(parts)
        .map(|(i, _)| i + 1)
        .unwrap_or(0);
    Some(&stem[cut..])
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_read_from_file_names_whatever_the_prefix() {
        assert_eq!(
            super::id_in_file_name("vreversal_20250213_135900_6107.25_6091.50.txt"),
            Some("20250213_135900_6107.25_6091.50")
        );
        assert_eq!(
            super::id_in_file_name("my_long_prefix_20250213_135900_1.00_2.00.txt"),
            Some("20250213_135900_1.00_2.00")
        );
        assert_eq!(
            super::id_in_file_name("vreversal_20250714_095000_6290.00_6301.25_SELL.txt"),
            Some("20250714_095000_6290.00_6301.25_SELL")
        );
    }

    use super::*;

    fn prefixes() -> Vec<String> {
        vec!["vreversal_".to_string()]
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_scan_deletes_only_its_own_temp_files_and_never_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let (state, sig) = (dir.path().join("state"), dir.path().join("signals"));
        std::fs::create_dir_all(&sig).unwrap();
        for other in [
            ".notes.txt.tmp",
            ".vreversal_X.txt.tmp",
            ".vrev-lock",
            "notes.txt",
        ] {
            std::fs::write(sig.join(other), "SIGNAL_ID=Z\n").unwrap();
        }
        let (l, rec) = Ledger::open(&state, &sig, &prefixes(), false).unwrap();
        assert_eq!(rec.temp_files_removed, 0);
        // `notes.txt` lacks the prefix: not read as a signal.
        assert!(!l.contains("Z"), "{rec:?}");
        assert_eq!(
            names(&sig),
            vec![
                ".notes.txt.tmp",
                ".vrev-lock",
                ".vreversal_X.txt.tmp",
                "notes.txt"
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_scan_skips_links_fifos_and_devices_with_a_warning_and_never_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let (state, sig) = (dir.path().join("state"), dir.path().join("signals"));
        std::fs::create_dir_all(&sig).unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "SIGNAL_ID=OUT\n").unwrap();
        std::os::unix::fs::symlink("/dev/zero", sig.join("vreversal_zero.txt")).unwrap();
        std::os::unix::fs::symlink(&outside, sig.join("vreversal_link.txt")).unwrap();
        std::os::unix::fs::symlink(&outside, sig.join(".vreversal_L.txt.abc.vrev-tmp")).unwrap();
        assert!(std::process::Command::new("mkfifo")
            .arg(sig.join("vreversal_fifo.txt"))
            .status()
            .unwrap()
            .success());
        std::fs::write(
            sig.join("vreversal_big.txt"),
            "SIGNAL_ID=BIG\n".repeat(10_000),
        )
        .unwrap();
        let started = std::time::Instant::now();
        let (l, rec) = Ledger::open(&state, &sig, &prefixes(), false).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(!l.contains("OUT") && !l.contains("BIG"));
        assert_eq!(rec.temp_files_removed, 0);
        assert_eq!(rec.skipped.len(), 5, "{:?}", rec.skipped);
        let all = rec.skipped.join("\n");
        assert!(
            all.contains("vreversal_zero.txt: is a symbolic link"),
            "{all}"
        );
        assert!(all.contains("vreversal_fifo.txt: is a FIFO"), "{all}");
        assert!(all.contains("vreversal_big.txt: larger than"), "{all}");
        // The linked file and the link itself are untouched.
        assert_eq!(
            std::fs::read_to_string(&outside).unwrap(),
            "SIGNAL_ID=OUT\n"
        );
        assert!(sig
            .join(".vreversal_L.txt.abc.vrev-tmp")
            .symlink_metadata()
            .is_ok());
    }

    #[test]
    fn reopening_finds_recorded_ids_files_without_ledger_lines_and_cleans_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let (state, sig) = (dir.path().join("state"), dir.path().join("signals"));
        {
            let (mut l, rec) = Ledger::open(&state, &sig, &prefixes(), false).unwrap();
            assert_eq!(rec, Recovery::default());
            l.record("A").unwrap();
        }
        // A crash after the rename of B's file, before its ledger line; and one mid-write of C.
        std::fs::write(sig.join("vreversal_B.txt"), "SIGNAL_ID=B\n").unwrap();
        std::fs::write(
            sig.join(".vreversal_C.txt.k3J9xQ2mPa.vrev-tmp"),
            "SIGNAL_ID=C\n",
        )
        .unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(state.join("ledger.txt"))
            .unwrap();
        f.write_all(b"PARTI").unwrap();
        let (l, rec) = Ledger::open(&state, &sig, &prefixes(), false).unwrap();
        assert_eq!(
            rec,
            Recovery {
                from_ledger: 1,
                from_files: 1,
                temp_files_removed: 1,
                skipped: vec![],
            }
        );
        assert!(l.contains("A") && l.contains("B") && !l.contains("C") && !l.contains("PARTI"));
        assert_eq!(
            std::fs::read_to_string(state.join("ledger.txt")).unwrap(),
            "A\nB\n"
        );
    }
}
