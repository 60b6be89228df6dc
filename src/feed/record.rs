//! `vrev record`: the publisher's bars to CSV (`timestamp,open,high,low,close,volume`, UTC with
//! its offset, one row per bar), ticks to a second CSV (`timestamp,price,volume`).
//!
//! The feed client already hands on each bar once and in order, across reconnects; an existing
//! file is appended to, resuming after its last row (a partial last line left by a crash is cut
//! off first). Rows go to a background writer thread through a bounded channel: memory stays
//! bounded, and a slow disk slows the reading of the socket rather than growing a queue. The
//! writer writes whole lines only and flushes whenever it has caught up.

use super::client::{Flow, Sink, Tick};
use super::protocol::{csv_time, parse_time};
use crate::market::bar::Bar;
use crate::market::time::MarketClock;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Instant;

pub const BAR_HEADER: &str = "timestamp,open,high,low,close,volume";
pub const TICK_HEADER: &str = "timestamp,price,volume";

/// Rows in flight to the writer, at most.
const CHANNEL: usize = 8192;

enum Row {
    Bar(Bar),
    Tick(Tick),
}

/// Opens (or creates) a CSV for appending: writes the header to a new file, checks it in an
/// existing one, cuts off a partial last line, and returns the file with the timestamp of the
/// last row (UTC seconds).
pub fn open_csv(path: &Path, header: &str) -> anyhow::Result<(File, Option<i64>)> {
    use anyhow::Context as _;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("{}: cannot create folder", parent.display()))?;
    }
    crate::market::safe_write::refuse_special(path)?;
    let mut f = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("{}: cannot open", path.display()))?;
    let len = f.metadata()?.len();
    if len == 0 {
        writeln!(f, "{header}").with_context(|| format!("{}: cannot write", path.display()))?;
        return Ok((f, None));
    }
    let mut first = vec![0u8; (header.len() + 2).min(len as usize)];
    f.seek(SeekFrom::Start(0))?;
    f.read_exact(&mut first)?;
    let first_line = String::from_utf8_lossy(&first);
    let first_line = first_line.lines().next().unwrap_or("");
    if first_line.trim_end() != header {
        anyhow::bail!(
            "{}: exists and does not start with `{header}`: not a vrev recording (choose another file)",
            path.display()
        );
    }
    // The tail: the last complete line, and a partial one to cut off.
    let tail_len = len.min(64 * 1024);
    let mut tail = vec![0u8; tail_len as usize];
    f.seek(SeekFrom::Start(len - tail_len))?;
    f.read_exact(&mut tail)?;
    if tail.last() != Some(&b'\n') {
        let keep = match tail.iter().rposition(|&c| c == b'\n') {
            Some(p) => len - tail_len + p as u64 + 1,
            None => anyhow::bail!("{}: last line is longer than 64 KiB", path.display()),
        };
        crate::errln!(
            "record: {}: cut off an unfinished last line ({} bytes) left by an interrupted run",
            path.display(),
            len - keep
        );
        f.set_len(keep)?;
        tail.truncate((keep - (len - tail_len)) as usize);
    }
    let text = String::from_utf8_lossy(&tail);
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .filter(|l| l.trim_end() != header)
        .map(|l| {
            let ts = l.split(',').next().unwrap_or("");
            parse_time(ts).map(|t| t.utc()).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: last row's timestamp `{ts}` cannot be read",
                    path.display()
                )
            })
        })
        .transpose()?;
    f.seek(SeekFrom::End(0))?;
    Ok((f, last))
}

fn writer(
    rx: Receiver<Row>,
    mut bars: File,
    mut ticks: Option<File>,
    paths: (PathBuf, Option<PathBuf>),
) -> Result<(), String> {
    use std::fmt::Write as _;
    let mut bar_buf = String::with_capacity(1 << 16);
    let mut tick_buf = String::new();
    let flush = |buf: &mut String, f: &mut File, p: &Path| -> Result<(), String> {
        if !buf.is_empty() {
            f.write_all(buf.as_bytes())
                .map_err(|e| format!("{}: cannot write: {e}", p.display()))?;
            buf.clear();
        }
        Ok(())
    };
    let mut row = rx.recv().ok();
    while let Some(r) = row {
        match r {
            Row::Bar(b) => {
                let _ = writeln!(
                    bar_buf,
                    "{},{},{},{},{},{}",
                    csv_time(b.close_time),
                    b.open,
                    b.high,
                    b.low,
                    b.close,
                    b.volume
                );
            }
            Row::Tick(t) => {
                let _ = writeln!(tick_buf, "{},{},{}", csv_time(t.time), t.price, t.volume);
            }
        }
        if bar_buf.len() >= 1 << 16 {
            flush(&mut bar_buf, &mut bars, &paths.0)?;
        }
        if let (Some(f), Some(p)) = (&mut ticks, &paths.1) {
            if tick_buf.len() >= 1 << 16 {
                flush(&mut tick_buf, f, p)?;
            }
        }
        row = match rx.try_recv() {
            Ok(r) => Some(r),
            Err(_) => {
                // Caught up: whatever arrived is on disk (whole lines only).
                flush(&mut bar_buf, &mut bars, &paths.0)?;
                if let (Some(f), Some(p)) = (&mut ticks, &paths.1) {
                    flush(&mut tick_buf, f, p)?;
                }
                rx.recv().ok()
            }
        };
    }
    flush(&mut bar_buf, &mut bars, &paths.0)?;
    bars.sync_all().ok();
    if let (Some(f), Some(p)) = (&mut ticks, &paths.1) {
        flush(&mut tick_buf, f, p)?;
        f.sync_all().ok();
    }
    Ok(())
}

/// The recorder as a feed sink.
pub struct RecordSink {
    tx: Option<SyncSender<Row>>,
    thread: Option<JoinHandle<Result<(), String>>>,
    record_ticks: bool,
    pub rows: u64,
    pub tick_rows: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// The writer failed (disk full, ...): the client is stopped and this is the reason.
    pub failed: Option<String>,
    clock: MarketClock,
}

impl RecordSink {
    /// Opens the files; returns the sink and the last bar already in `out`.
    pub fn open(out: &Path, ticks: Option<&Path>) -> anyhow::Result<(RecordSink, Option<i64>)> {
        let (bars, last) = open_csv(out, BAR_HEADER)?;
        let tick_file = match ticks {
            Some(p) => Some(open_csv(p, TICK_HEADER)?.0),
            None => None,
        };
        let (tx, rx) = sync_channel(CHANNEL);
        let paths = (out.to_path_buf(), ticks.map(Path::to_path_buf));
        let record_ticks = tick_file.is_some();
        let thread = std::thread::Builder::new()
            .name("vrev-record-writer".into())
            .spawn(move || writer(rx, bars, tick_file, paths))?;
        Ok((
            RecordSink {
                tx: Some(tx),
                thread: Some(thread),
                record_ticks,
                rows: 0,
                tick_rows: 0,
                first: None,
                last,
                failed: None,
                clock: MarketClock::exchange(),
            },
            last,
        ))
    }

    fn send(&mut self, row: Row) -> Flow {
        let Some(tx) = &self.tx else {
            return Flow::Stop;
        };
        let sent = match tx.try_send(row) {
            Ok(()) => Ok(()),
            // The writer is behind: wait for it (backpressure on the socket, bounded memory).
            Err(TrySendError::Full(row)) => tx.send(row).map_err(|_| ()),
            Err(TrySendError::Disconnected(_)) => Err(()),
        };
        if sent.is_err() {
            self.finish();
            return Flow::Stop;
        }
        Flow::Continue
    }

    /// Flushes everything and stops the writer; returns the writer's error, if any.
    pub fn finish(&mut self) -> Option<String> {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            match t.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => self.failed = Some(e),
                Err(_) => self.failed = Some("the writer thread panicked".into()),
            }
        }
        self.failed.clone()
    }
}

impl Drop for RecordSink {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Sink for RecordSink {
    fn bar(&mut self, bar: &Bar, _history: bool, _arrived: Instant) -> Flow {
        self.rows += 1;
        self.first.get_or_insert(bar.close_time);
        self.last = Some(bar.close_time);
        self.send(Row::Bar(*bar))
    }

    fn tick(&mut self, tick: &Tick) {
        if self.record_ticks {
            self.tick_rows += 1;
            let _ = self.send(Row::Tick(*tick));
        }
    }

    fn status(&self) -> String {
        let last = self
            .last
            .map(|t| format!("{} ET", self.clock.stamp(t).format()))
            .unwrap_or_else(|| "none".into());
        let ticks = if self.record_ticks {
            format!(", {} ticks", self.tick_rows)
        } else {
            String::new()
        };
        format!("last bar {last} | recorded {} rows{ticks} ", self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_after_the_last_row_and_cuts_a_partial_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bars.csv");
        std::fs::write(
            &p,
            format!("{BAR_HEADER}\n2025-02-13T18:58:00+00:00,1,1,1,1,1\n2025-02-13T18:59:00+00:00,1,1,1,1,1\n2025-02-13T19:0"),
        )
        .unwrap();
        let (_, last) = open_csv(&p, BAR_HEADER).unwrap();
        assert_eq!(
            last,
            Some(parse_time("2025-02-13T18:59:00Z").unwrap().utc())
        );
        assert!(std::fs::read_to_string(&p)
            .unwrap()
            .ends_with("18:59:00+00:00,1,1,1,1,1\n"));
        let other = dir.path().join("other.csv");
        std::fs::write(&other, "a,b\n1,2\n").unwrap();
        assert!(open_csv(&other, BAR_HEADER).is_err());
        let fresh = dir.path().join("sub/new.csv");
        assert_eq!(open_csv(&fresh, BAR_HEADER).unwrap().1, None);
        assert_eq!(
            std::fs::read_to_string(&fresh).unwrap(),
            format!("{BAR_HEADER}\n")
        );
    }
}
