//! Opening the files a user names as input (bar files, configs, scripts, scenarios, trade logs).
//!
//! Only regular files are read. A FIFO, a device or a directory is refused before it is opened:
//! opening a FIFO blocks until a writer comes, and `/dev/zero` or a terminal never ends, so
//! `vrev replay /dev/zero` used to spin forever without a word (issue 19). The check is made on
//! the path first (so a FIFO is never opened) and again on the opened handle (so a file swapped
//! for something else in between is caught too).

use std::fs::File;
use std::io::{Error, ErrorKind, Read};
use std::path::Path;

/// What a non-regular file is, for the message.
fn kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

fn refuse(meta: &std::fs::Metadata) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!(
            "{}: vrev reads its inputs only from regular files",
            kind(meta)
        ),
    )
}

/// Opens `path` for reading if it is a regular file (after following links).
pub fn open(path: &Path) -> std::io::Result<File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(refuse(&meta));
    }
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refuse(&meta));
    }
    Ok(file)
}

/// The whole of a regular file.
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![];
    open(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The whole of a regular file as UTF-8 text.
pub fn read_to_string(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read(path)?).map_err(|_| Error::new(ErrorKind::InvalidData, "not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_refused_and_a_regular_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("a folder"), "{err}");
        let f = dir.path().join("a.txt");
        std::fs::write(&f, "x").unwrap();
        assert_eq!(read_to_string(&f).unwrap(), "x");
    }

    #[cfg(unix)]
    #[test]
    fn dev_zero_and_a_fifo_are_refused_without_blocking() {
        let err = read(Path::new("/dev/zero")).unwrap_err();
        assert!(err.to_string().contains("a device"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("bars.fifo");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            // Opening a FIFO with no writer would block forever: refused before it is opened.
            let err = read(&fifo).unwrap_err();
            assert!(err.to_string().contains("FIFO"), "{err}");
        }
    }
}
