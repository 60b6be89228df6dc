//! Every file vrev writes is created, never followed (issue 24).
//!
//! [`write_file`] writes the whole content to a temporary file that is *created* (never opened if
//! it exists: `O_EXCL` through `tempfile`) under an unpredictable name in the target folder, then
//! renames it over the final name. A rename replaces a name, it never writes through it, so a link
//! planted at either name cannot redirect the write. A symlink or a non-regular file (FIFO, device,
//! folder) already at the final name is refused with a message; a regular file there is replaced,
//! so re-running a command into the same folder works.
//!
//! Temporary names are `.<name>.<random>.vrev-tmp`: hidden, never ending in `.txt` or `.csv`, and
//! recognisable by [`is_own_temp_name`], so a start-up scan deletes only vrev's own leftovers.
//! While a temporary file exists its path is in a process-wide registry; [`remove_temp_files`]
//! deletes what is left there, for an exit that skips destructors (Ctrl+C, issue 22).
//!
//! [`Batch`] puts the files of one report folder in place together, after all are written.
//!
//! [`refuse_special`] is the check alone, for the files vrev appends to (journal, ledger,
//! recorder CSV).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The end of every temporary name vrev makes.
pub const TEMP_SUFFIX: &str = ".vrev-tmp";

/// This run's temporary files that still exist.
static TEMP_FILES: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

fn register(p: &Path) {
    if let Ok(mut g) = TEMP_FILES.lock() {
        g.get_or_insert_with(HashSet::new).insert(p.to_path_buf());
    }
}

fn unregister(p: &Path) {
    if let Ok(mut g) = TEMP_FILES.lock() {
        if let Some(s) = g.as_mut() {
            s.remove(p);
        }
    }
}

/// Deletes this run's temporary files that still exist (an interrupted write); returns how many.
/// Safe to call from any thread at any time: a write in progress then fails cleanly.
pub fn remove_temp_files() -> usize {
    remove_temp_files_where(|_| true)
}

fn remove_temp_files_where(mut pick: impl FnMut(&Path) -> bool) -> usize {
    let paths: Vec<PathBuf> = match TEMP_FILES.lock() {
        Ok(mut g) => match g.as_mut() {
            Some(s) => {
                let picked: Vec<PathBuf> = s.iter().filter(|p| pick(p)).cloned().collect();
                for p in &picked {
                    s.remove(p);
                }
                picked
            }
            None => Vec::new(),
        },
        Err(_) => return 0,
    };
    paths
        .iter()
        .filter(|p| std::fs::remove_file(p).is_ok())
        .count()
}

/// Whether `file_name` is a temporary name [`write_file`] makes for a final name starting with
/// `prefix` (`.` + prefix ... `.vrev-tmp`).
pub fn is_own_temp_name(file_name: &str, prefix: &str) -> bool {
    file_name
        .strip_prefix('.')
        .is_some_and(|rest| rest.starts_with(prefix) && rest.ends_with(TEMP_SUFFIX))
}

/// What is at `path` when it is something vrev must not write through: a symlink, a folder, a
/// FIFO, a device or a socket. `None` when nothing is there or a regular file is.
pub fn special_kind(path: &Path) -> Option<&'static str> {
    let m = std::fs::symlink_metadata(path).ok()?;
    let t = m.file_type();
    if t.is_file() {
        return None;
    }
    Some(if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else {
        special_unix_kind(&t)
    })
}

#[cfg(unix)]
fn special_unix_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn special_unix_kind(_: &std::fs::FileType) -> &'static str {
    "not a regular file"
}

/// Refuses a path vrev is about to write or append to when it is a link or not a regular file.
pub fn refuse_special(path: &Path) -> std::io::Result<()> {
    match special_kind(path) {
        None => Ok(()),
        Some(kind) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{}: is {kind}; vrev writes only regular files it creates, never through a link (remove it, or choose another path)",
                path.display()
            ),
        )),
    }
}

/// One file written in full under its temporary name, not yet in place. Dropped without
/// [`Staged::persist`], its temporary file is deleted.
struct Staged {
    tmp: Option<tempfile::NamedTempFile>,
    dest: PathBuf,
}

impl Staged {
    /// Renames the temporary file over its final name.
    fn persist(mut self) -> std::io::Result<PathBuf> {
        let tmp = self.tmp.take().expect("a staged file is persisted once");
        let tmp_path = tmp.path().to_path_buf();
        // `persist` renames; on failure the temporary file is dropped, which deletes it.
        let result = tmp.persist(&self.dest).map(drop).map_err(|e| e.error);
        unregister(&tmp_path);
        result.map(|()| self.dest.clone())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let p = tmp.path().to_path_buf();
            drop(tmp);
            unregister(&p);
        }
    }
}

/// Writes `content` under a new temporary name in `dir` for the final name `name` (refused when
/// a link or non-regular file is at `dir/name`).
fn stage(dir: &Path, name: &str, content: &[u8], fsync: bool) -> std::io::Result<Staged> {
    let dest = dir.join(name);
    refuse_special(&dest)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(TEMP_SUFFIX)
        .rand_bytes(10)
        .tempfile_in(dir)?;
    register(tmp.path());
    let mut staged = Staged {
        tmp: Some(tmp),
        dest,
    };
    let file = staged.tmp.as_mut().expect("just made").as_file_mut();
    file.write_all(content)?;
    file.flush()?;
    if fsync {
        file.sync_all()?;
    }
    Ok(staged)
}

/// Writes `content` to `dir/name`: a temporary file created under an unpredictable name in `dir`,
/// flushed (and synced with `fsync`), renamed over `dir/name`. A reader sees no file or the whole
/// file. Refuses a link or non-regular file at `dir/name`. Returns the final path.
pub fn write_file(dir: &Path, name: &str, content: &[u8], fsync: bool) -> std::io::Result<PathBuf> {
    let dest = stage(dir, name, content, fsync)?.persist()?;
    if fsync {
        // Make the rename itself durable.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(dest)
}

/// The files of one report folder, put in place together (issue 22: Ctrl+C leaves no
/// half-written report). [`Batch::add`] writes each file in full under its temporary name;
/// [`Batch::commit`] renames them all into place, after every file was written. When a stop was
/// asked for ([`crate::market::stop`]) before the commit, or a file cannot be written, no file of
/// the batch is put in place and its temporary files are deleted: the folder holds the previous
/// run's files or this run's, never a mix of finished and missing ones.
pub struct Batch {
    dir: PathBuf,
    staged: Vec<Staged>,
}

/// The error of a batch that a stop request cut short.
fn stopped(dir: &Path) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Interrupted,
        format!(
            "{}: interrupted (Ctrl+C) before the files were put in place; none was written",
            dir.display()
        ),
    )
}

impl Batch {
    pub fn new(dir: &Path) -> Batch {
        Batch {
            dir: dir.to_path_buf(),
            staged: Vec::new(),
        }
    }

    /// Writes `content` under a temporary name for `dir/name`.
    pub fn add(&mut self, name: &str, content: &[u8]) -> std::io::Result<()> {
        if crate::market::stop::raised() {
            return Err(stopped(&self.dir));
        }
        self.staged.push(stage(&self.dir, name, content, false)?);
        Ok(())
    }

    /// Puts every file in place (unless a stop was asked for); returns their paths.
    pub fn commit(mut self) -> std::io::Result<Vec<PathBuf>> {
        if crate::market::stop::raised() {
            return Err(stopped(&self.dir));
        }
        self.staged.drain(..).map(Staged::persist).collect()
    }
}

/// [`write_file`] for a full path.
pub fn write_path(path: &Path, content: &[u8]) -> std::io::Result<PathBuf> {
    let (dir, name) = split(path)?;
    write_file(dir, name, content, false)
}

fn split(path: &Path) -> std::io::Result<(&Path, &str)> {
    let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{}: not a file name vrev can write", path.display()),
        )
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Ok((dir, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_and_replaces_a_regular_file_leaving_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        write_file(dir.path(), "a.txt", b"one", true).unwrap();
        write_file(dir.path(), "a.txt", b"two", false).unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.txt")).unwrap(), b"two");
        assert_eq!(names(dir.path()), vec!["a.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_final_name_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("report.html")).unwrap();
        let e = write_file(dir.path(), "report.html", b"evil", false).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(e.to_string().contains("report.html"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(names(dir.path()), vec!["report.html"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_or_folder_at_the_final_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        let e = write_file(dir.path(), "d", b"x", false).unwrap_err();
        assert!(e.to_string().contains("a folder"), "{e}");
        let fifo = dir.path().join("f");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let e = write_file(dir.path(), "f", b"x", false).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn planted_links_at_the_old_predictable_temp_name_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(".s.txt.tmp")).unwrap();
        write_file(dir.path(), "s.txt", b"signal", false).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read(dir.path().join("s.txt")).unwrap(), b"signal");
    }

    #[test]
    fn temp_names_are_unpredictable_and_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let a = tempfile::Builder::new()
            .prefix(".vreversal_X.txt.")
            .suffix(TEMP_SUFFIX)
            .rand_bytes(10)
            .tempfile_in(dir.path())
            .unwrap();
        let name = a.path().file_name().unwrap().to_str().unwrap().to_string();
        assert!(is_own_temp_name(&name, "vreversal_"), "{name}");
        assert!(!is_own_temp_name(".vreversal_X.txt.tmp", "vreversal_"));
        assert!(!is_own_temp_name(".other.vrev-tmp", "vreversal_"));
    }

    #[test]
    fn an_interrupt_removes_this_runs_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".x.abc.vrev-tmp");
        std::fs::write(&p, "half").unwrap();
        register(&p);
        assert_eq!(remove_temp_files_where(|q| q.starts_with(dir.path())), 1);
        assert!(!p.exists());
    }

    #[test]
    fn a_batch_puts_its_files_in_place_only_at_the_commit() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.txt"), "old").unwrap();
        let mut batch = Batch::new(dir.path());
        batch.add("a.txt", b"one").unwrap();
        batch.add("b.txt", b"two").unwrap();
        // Written under temporary names only: the old b.txt is still there, no a.txt yet.
        assert_eq!(std::fs::read(dir.path().join("b.txt")).unwrap(), b"old");
        assert!(!dir.path().join("a.txt").exists());
        assert_eq!(names(dir.path()).len(), 3);
        batch.commit().unwrap();
        assert_eq!(names(dir.path()), vec!["a.txt", "b.txt"]);
        assert_eq!(std::fs::read(dir.path().join("b.txt")).unwrap(), b"two");
        // A batch dropped before its commit leaves nothing behind.
        let mut batch = Batch::new(dir.path());
        batch.add("c.txt", b"three").unwrap();
        drop(batch);
        assert_eq!(names(dir.path()), vec!["a.txt", "b.txt"]);
    }
}
