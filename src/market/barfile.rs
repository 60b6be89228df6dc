//! Reading bar files (plain or gzip, detected by content, not by name).
//!
//! Formats, detected from the first non-empty line:
//! - NinjaTrader Historical Data export: `yyyyMMdd HHmmss;open;high;low;close;volume`, no header,
//!   wall-clock close times in the exporting PC's zone. Read line by line on the fast path.
//! - CSV with a header, read by column name ([`csv_bars`]): `timestamp,open,high,low,close,volume`
//!   or `Date,Time,Open,High,Low,Close,Volume`, any order, extra columns ignored. A timestamp with
//!   an offset (`Z`, `+00:00`, `-05:00`) is an exact instant; a naive one is wall time in the
//!   given zone. The older Python client's files (`2025-02-13 13:59:00+00:00`, really New York
//!   time) are refused unless [`TimeBasis::IgnoreOffset`] or [`TimeBasis::Exact`] says how to
//!   read them; their tick rows are skipped and counted.
//!
//! Every problem names `file:line`. Rows out of time order are re-sorted and counted; rows
//! repeating a close time are dropped (the first one in the file stays) and counted, never
//! silently. Re-sorting rather than skipping means one row stamped far in the future cannot make
//! every later row "out of order"; the engine then refuses such a row as implausible
//! ([`crate::market::plausibility`]). A line longer than [`MAX_LINE_BYTES`] is a line error: a corrupt
//! file cannot drive memory up.

mod csv_bars;
mod fields;
mod wall_time;

use crate::market::bar::Bar;
use crate::market::time::MarketClock;
use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use csv_bars::{CsvRows, Opened, Row, StampRules};
pub(crate) use fields::digits;
use fields::{number, truncate};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use wall_time::{local_to_utc, LocalCache, Offsets};

/// Whether timestamps label the bar's close (NinjaTrader) or its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BarTime {
    Close,
    Start,
}

/// How to read CSV timestamps that carry a UTC offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeBasis {
    /// An offset is exact and a naive time is wall time in the zone, but a file in the older
    /// Python client's layout (`2025-02-13 13:59:00+00:00`) is refused with the fix named: its
    /// `+00:00` is usually false.
    Detect,
    /// An offset is exact, whatever the layout (`--exact-offset`).
    Exact,
    /// Ignore any offset and read the wall time in the zone (`--ignore-offset`: the older Python
    /// client's CSV).
    IgnoreOffset,
}

/// Options for reading one or more bar files.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Zone of naive timestamps. Default America/New_York.
    pub tz: Tz,
    /// Default [`BarTime::Close`].
    pub bar_time: BarTime,
    /// Bar length in seconds, used to turn start stamps into close stamps. Default 60.
    pub bar_seconds: i64,
    /// Default [`TimeBasis::Detect`].
    pub basis: TimeBasis,
    /// Skip malformed lines (each reported) instead of failing on the first. Default false.
    pub skip_bad_lines: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            tz: crate::market::time::EXCHANGE_TZ,
            bar_time: BarTime::Close,
            bar_seconds: 60,
            basis: TimeBasis::Detect,
            skip_bad_lines: false,
        }
    }
}

/// A problem with one place in a bar file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Line(LineError),
    #[error("{}: no bars found (expected NinjaTrader export lines `yyyyMMdd HHmmss;o;h;l;c;v` or a CSV header such as `timestamp,open,high,low,close,volume`)", .0.display())]
    Empty(PathBuf),
    #[error("{}: no bars found: all {ticks} data rows are tick rows (no open/high/low/close)", path.display())]
    OnlyTicks { path: PathBuf, ticks: usize },
}

/// Longest line of a bar file (a bar is under 100 bytes).
pub const MAX_LINE_BYTES: usize = 4096;

/// Bars read from files, in time order, with what was re-sorted or dropped.
#[derive(Debug, Default)]
pub struct BarFile {
    pub bars: Vec<Bar>,
    /// Rows dropped because an earlier row has the same close time.
    pub duplicates: usize,
    /// Rows that came earlier than the row before them in the file (now in time order).
    pub reordered: usize,
    /// CSV rows that are ticks, not one-minute bars (skipped).
    pub ticks: usize,
    /// Malformed lines skipped under `skip_bad_lines`, each with its place.
    pub bad_lines: Vec<LineError>,
}

impl BarFile {
    /// `file rows: 2 out of time order (re-sorted), ...` when any row was re-sorted, dropped or
    /// skipped as a tick; `None` otherwise.
    pub fn rows_note(&self) -> Option<String> {
        if self.reordered == 0 && self.duplicates == 0 && self.ticks == 0 {
            return None;
        }
        let mut parts = vec![
            format!("{} out of time order (re-sorted)", self.reordered),
            format!(
                "{} repeating an earlier close time (dropped)",
                self.duplicates
            ),
        ];
        if self.ticks > 0 {
            parts.push(format!(
                "{} tick rows, not one-minute bars (skipped)",
                self.ticks
            ));
        }
        Some(format!("file rows: {}", parts.join(", ")))
    }
}

/// Opens a file, transparently gunzipping it when it starts with the gzip magic bytes.
pub fn open_maybe_gzip(path: &Path) -> std::io::Result<Box<dyn BufRead>> {
    let mut file = super::input_file::open(path)?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic)?;
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(0))?;
    let cap = 256 * 1024;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::with_capacity(
            cap,
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(cap, file)),
        )))
    } else {
        Ok(Box::new(BufReader::with_capacity(cap, file)))
    }
}

/// Reads several files and merges them in time order (each file read on its own, then sorted by
/// close time; equal times keep the first file's bar and count the rest as duplicates).
pub fn read_files(paths: &[PathBuf], opts: &ReadOptions) -> Result<BarFile, ReadError> {
    let mut all = BarFile::default();
    for p in paths {
        let f = read_file(p, opts)?;
        all.duplicates += f.duplicates;
        all.reordered += f.reordered;
        all.ticks += f.ticks;
        all.bad_lines.extend(f.bad_lines);
        all.bars.extend(f.bars);
    }
    if paths.len() > 1 {
        all.bars.sort_by_key(|b| b.close_time); // stable: earlier files win ties
        let before = all.bars.len();
        all.bars.dedup_by_key(|b| b.close_time);
        all.duplicates += before - all.bars.len();
    }
    Ok(all)
}

/// Reads one bar file.
pub fn read_file(path: &Path, opts: &ReadOptions) -> Result<BarFile, ReadError> {
    let io_err = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let reader = open_maybe_gzip(path).map_err(io_err)?;
    read_from(reader, path, opts)
}

/// Rows as they are read: bar validity, `--bar-time start`, the time-order counts, and the bad
/// lines (kept or fatal). Shared by both formats.
struct Collector<'a> {
    path: &'a Path,
    opts: &'a ReadOptions,
    out: BarFile,
    last_time: Option<i64>,
    offset: i64,
}

impl<'a> Collector<'a> {
    fn new(path: &'a Path, opts: &'a ReadOptions) -> Self {
        Collector {
            path,
            opts,
            out: BarFile::default(),
            last_time: None,
            offset: match opts.bar_time {
                BarTime::Close => 0,
                BarTime::Start => opts.bar_seconds,
            },
        }
    }

    fn error(&self, line: usize, message: String) -> LineError {
        LineError {
            file: self.path.to_path_buf(),
            line,
            message,
        }
    }

    /// A line that is not a bar: kept for the report under `skip_bad_lines`, else fatal.
    fn bad(&mut self, line: usize, message: String) -> Result<(), ReadError> {
        let err = self.error(line, message);
        if self.opts.skip_bad_lines {
            self.out.bad_lines.push(err);
            return Ok(());
        }
        Err(ReadError::Line(err))
    }

    fn row(&mut self, line: usize, parsed: Result<Bar, String>) -> Result<(), ReadError> {
        let mut bar = match parsed.and_then(|b| match b.invalid_reason() {
            None => Ok(b),
            Some(r) => Err(r.to_string()),
        }) {
            Ok(b) => b,
            Err(message) => return self.bad(line, message),
        };
        bar.close_time += self.offset;
        if self.last_time.is_some_and(|prev| bar.close_time < prev) {
            self.out.reordered += 1;
        }
        // The previous row, for reading an ambiguous fall-back time in order.
        self.last_time = Some(bar.close_time);
        self.out.bars.push(bar);
        Ok(())
    }

    fn finish(mut self) -> Result<BarFile, ReadError> {
        let mut out = std::mem::take(&mut self.out);
        // Stable: among rows with the same close time the first in the file stays.
        out.bars.sort_by_key(|b| b.close_time);
        let rows = out.bars.len();
        out.bars.dedup_by_key(|b| b.close_time);
        out.duplicates = rows - out.bars.len();
        if out.bars.is_empty() && out.bad_lines.is_empty() {
            if out.ticks > 0 {
                return Err(ReadError::OnlyTicks {
                    path: self.path.to_path_buf(),
                    ticks: out.ticks,
                });
            }
            return Err(ReadError::Empty(self.path.to_path_buf()));
        }
        Ok(out)
    }
}

/// Reads bars from any reader; `path` is used only to name places in messages.
pub fn read_from(
    mut reader: impl BufRead,
    path: &Path,
    opts: &ReadOptions,
) -> Result<BarFile, ReadError> {
    let io = |e: std::io::Error| ReadError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    if starts_as_ninjatrader(&mut reader).map_err(io)? {
        read_ninjatrader(reader, path, opts)
    } else {
        read_csv(reader, path, opts)
    }
}

/// Whether the first non-empty line (looked at in the reader's buffer, not consumed) is a
/// NinjaTrader export line.
fn starts_as_ninjatrader(reader: &mut impl BufRead) -> std::io::Result<bool> {
    let buf = reader.fill_buf()?;
    let buf = buf.strip_prefix("\u{feff}".as_bytes()).unwrap_or(buf);
    let first = buf
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .find(|l| !l.iter().all(u8::is_ascii_whitespace));
    Ok(first.is_some_and(is_ninjatrader_line))
}

fn is_ninjatrader_line(b: &[u8]) -> bool {
    b.len() > 16 && b[..8].iter().all(u8::is_ascii_digit) && b[8] == b' ' && b[15] == b';'
}

fn read_csv(reader: impl BufRead, path: &Path, opts: &ReadOptions) -> Result<BarFile, ReadError> {
    let io = |e: std::io::Error| ReadError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let clock = MarketClock::new(opts.tz, NaiveTime::from_hms_opt(18, 0, 0).expect("valid"));
    let rules = StampRules {
        offsets: match opts.basis {
            TimeBasis::IgnoreOffset => Offsets::Ignore,
            TimeBasis::Exact | TimeBasis::Detect => Offsets::Exact,
        },
        refuse_python_client: opts.basis == TimeBasis::Detect,
        bar_seconds: opts.bar_seconds,
    };
    let mut rows = match CsvRows::open(reader, clock, rules).map_err(io)? {
        Opened::Rows(r) => r,
        Opened::Empty => return Err(ReadError::Empty(path.to_path_buf())),
        Opened::NotAHeader(line, text) => {
            return Err(ReadError::Line(LineError {
                file: path.to_path_buf(),
                line: line as usize,
                message: format!(
                    "unknown bar file format: expected `yyyyMMdd HHmmss;open;high;low;close;volume` or a CSV header naming the columns (`timestamp,open,high,low,close,volume`, `Date,Time,Open,High,Low,Close,Volume`), found `{}`",
                    truncate(&text, 80)
                ),
            }))
        }
        Opened::BadHeader(line, message) => {
            return Err(ReadError::Line(LineError {
                file: path.to_path_buf(),
                line: line as usize,
                message,
            }))
        }
    };
    let mut c = Collector::new(path, opts);
    // Rows off the whole-minute boundary: ticks among minute bars, or the bars of a file stamped
    // off the minute throughout (decided at the end).
    let mut off_boundary: Vec<(usize, Option<Bar>)> = Vec::new();
    while let Some(next) = rows.next_row(c.last_time) {
        let (line, row) = next.map_err(io)?;
        match row {
            Ok(Row::Tick) => c.out.ticks += 1,
            Ok(Row::OffBoundary(bar)) => off_boundary.push((line as usize, bar)),
            Ok(Row::Bar(bar)) => c.row(line as usize, Ok(bar))?,
            Err(m) => c.row(line as usize, Err(m))?,
        }
    }
    if c.out.bars.is_empty() && off_boundary.iter().any(|(_, b)| b.is_some()) {
        for (line, bar) in off_boundary {
            match bar {
                Some(b) => c.row(line, Ok(b))?,
                None => c.out.ticks += 1,
            }
        }
    } else {
        c.out.ticks += off_boundary.len();
    }
    c.finish()
}

/// The NinjaTrader export, line by line (the fast path: the replay benchmark reads 707k lines).
fn read_ninjatrader(
    mut reader: impl BufRead,
    path: &Path,
    opts: &ReadOptions,
) -> Result<BarFile, ReadError> {
    let clock = MarketClock::new(opts.tz, NaiveTime::from_hms_opt(18, 0, 0).expect("valid"));
    let mut c = Collector::new(path, opts);
    let mut line = String::with_capacity(128);
    let mut line_no = 0usize;
    let mut local_cache = LocalCache::default();
    let io = |e: std::io::Error| ReadError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_line(&mut line)
            .map_err(io)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if n > MAX_LINE_BYTES && !line.ends_with('\n') {
            // Skip the rest of the line without holding it in memory.
            reader.skip_until(b'\n').map_err(io)?;
            c.bad(
                line_no,
                format!("line longer than {MAX_LINE_BYTES} bytes (not a bar)"),
            )?;
            continue;
        }
        let text = line.trim_end_matches(['\n', '\r']);
        let text = if line_no == 1 {
            text.trim_start_matches('\u{feff}')
        } else {
            text
        };
        if text.trim().is_empty() {
            continue;
        }
        let parsed = parse_nt_line(text, &clock, &mut local_cache, c.last_time);
        c.row(line_no, parsed)?;
    }
    c.finish()
}

fn parse_nt_line(
    text: &str,
    clock: &MarketClock,
    cache: &mut LocalCache,
    previous: Option<i64>,
) -> Result<Bar, String> {
    let mut parts = text.split(';');
    let stamp = parts.next().unwrap_or("");
    let b = stamp.as_bytes();
    if b.len() != 15 || b[8] != b' ' {
        return Err(format!(
            "timestamp `{}` is not `yyyyMMdd HHmmss`",
            truncate(stamp, 40)
        ));
    }
    let bad_time = || format!("timestamp `{stamp}` is not a valid `yyyyMMdd HHmmss` time");
    let (y, mo, d) = (
        digits(&b[0..4]).ok_or_else(bad_time)?,
        digits(&b[4..6]).ok_or_else(bad_time)?,
        digits(&b[6..8]).ok_or_else(bad_time)?,
    );
    let (h, mi, s) = (
        digits(&b[9..11]).ok_or_else(bad_time)?,
        digits(&b[11..13]).ok_or_else(bad_time)?,
        digits(&b[13..15]).ok_or_else(bad_time)?,
    );
    let date = NaiveDate::from_ymd_opt(y as i32, mo, d).ok_or_else(bad_time)?;
    let time = NaiveTime::from_hms_opt(h, mi, s).ok_or_else(bad_time)?;
    let close_time = local_to_utc(clock, cache, date.and_time(time), previous)?;
    let bar = Bar {
        close_time,
        open: number(parts.next(), "open")?,
        high: number(parts.next(), "high")?,
        low: number(parts.next(), "low")?,
        close: number(parts.next(), "close")?,
        volume: number(parts.next(), "volume")?,
    };
    if parts.next().is_some() {
        return Err("too many fields (expected 6 separated by `;`)".into());
    }
    Ok(bar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn read(text: &str, opts: &ReadOptions) -> Result<BarFile, ReadError> {
        read_from(text.as_bytes(), Path::new("bars.txt"), opts)
    }
    fn utc(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    #[test]
    fn ninjatrader_export_is_close_time_in_the_zone() {
        let f = read(
            "20250213 135900;6100;6101;6099.75;6100.5;1234\n20250714 135900;1;2;1;2;3\n",
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(f.bars[0].close_time, utc("2025-02-13T18:59:00Z"));
        assert_eq!(f.bars[0].close, 6100.5);
        assert_eq!(f.bars[1].close_time, utc("2025-07-14T17:59:00Z"));
    }

    #[test]
    fn csv_offsets_are_exact_naive_is_local_and_start_stamps_shift() {
        let text = "timestamp,open,high,low,close,volume\n2025-02-13T18:59:00Z,1,2,1,2,3\n2025-02-13 14:00:00,1,2,1,2,3\n2025-02-13 14:01:00-05:00,1,2,1,2,3\n";
        let f = read(text, &ReadOptions::default()).unwrap();
        let times: Vec<i64> = f.bars.iter().map(|b| b.close_time).collect();
        assert_eq!(
            times,
            vec![
                utc("2025-02-13T18:59:00Z"),
                utc("2025-02-13T19:00:00Z"),
                utc("2025-02-13T19:01:00Z")
            ]
        );
        let start = read(
            text,
            &ReadOptions {
                bar_time: BarTime::Start,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(start.bars[0].close_time, utc("2025-02-13T19:00:00Z"));
    }

    #[test]
    fn false_utc_offset_of_the_python_client_is_ignored_on_request() {
        let text = "timestamp,open,high,low,close,volume\n2025-07-14 13:59:00+00:00,1,2,1,2,3\n";
        let f = read(
            text,
            &ReadOptions {
                basis: TimeBasis::IgnoreOffset,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(f.bars[0].close_time, utc("2025-07-14T17:59:00Z"));
    }

    #[test]
    fn off_minute_rows_are_ticks_among_minute_bars_but_bars_when_the_whole_file_is_off() {
        let among = "timestamp,open,high,low,close,volume\n2025-02-13T18:58:00Z,1,2,1,2,3\n2025-02-13T18:58:12Z,2,2,2,2,1\n2025-02-13T18:58:30.5Z,2,,,,\n2025-02-13T18:59:00Z,1,2,1,2,3\n";
        let f = read(among, &ReadOptions::default()).unwrap();
        assert_eq!((f.bars.len(), f.ticks), (2, 2));
        let all_off = "timestamp,open,high,low,close,volume\n2025-02-13T18:58:40Z,1,2,1,2,3\n2025-02-13T18:59:40Z,1,2,1,2,3\n";
        let f = read(all_off, &ReadOptions::default()).unwrap();
        assert_eq!((f.bars.len(), f.ticks), (2, 0));
        assert_eq!(f.bars[1].close_time, utc("2025-02-13T18:59:40Z"));
    }

    #[test]
    fn a_csv_that_is_not_utf8_names_the_line() {
        let mut bytes =
            b"timestamp,open,high,low,close,volume\n2025-02-13T18:58:00Z,1,2,1,2,3\n".to_vec();
        bytes.extend_from_slice(b"2025-02-13T18:59:00Z,1,\xff,1,2,3\n");
        let err = read_from(&bytes[..], Path::new("bars.csv"), &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(err, "bars.csv: cannot read: line 3: not UTF-8 text");
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let err = read(
            "20250213 135900;1;2;1;2;3\n20250213 140000;1;x;1;2;3\n",
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "bars.txt:2: `high` is not a number: `x`");
        let err = read("20250213 140000;1;2;3;2;3\n", &ReadOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "bars.txt:1: high is below low");
        let err = read("20250309 023000;1;2;1;2;3\n", &ReadOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("bars.txt:1: 2025-03-09 02:30:00 does not exist"),
            "{err}"
        );
        let err = read("hello\n", &ReadOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("bars.txt:1: unknown bar file format"),
            "{err}"
        );
        let err = read("\n\n", &ReadOptions::default()).unwrap_err();
        assert!(matches!(err, ReadError::Empty(_)));
    }

    #[test]
    fn skipped_bad_lines_are_reported_and_good_ones_kept() {
        let f = read(
            "20250213 135900;1;2;1;2;3\n20250213 140000;1;2;1\n20250213 140100;1;2;1;2;3\n",
            &ReadOptions {
                skip_bad_lines: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(f.bars.len(), 2);
        assert_eq!(f.bad_lines.len(), 1);
        assert_eq!(f.bad_lines[0].line, 2);
    }

    #[test]
    fn out_of_order_rows_are_resorted_and_duplicates_dropped_and_counted() {
        let f = read("20250213 135900;1;2;1;2;3\n20250213 135900;1;3;1;2;3\n20250213 135800;1;2;1;2;3\n20250213 140000;1;2;1;2;3\n", &ReadOptions::default()).unwrap();
        let times: Vec<i64> = f.bars.iter().map(|b| b.close_time).collect();
        assert_eq!(
            times,
            vec![
                utc("2025-02-13T18:58:00Z"),
                utc("2025-02-13T18:59:00Z"),
                utc("2025-02-13T19:00:00Z")
            ]
        );
        assert_eq!(
            f.bars[1].high, 2.0,
            "the first row of a repeated time stays"
        );
        assert_eq!((f.duplicates, f.reordered), (1, 1));
    }

    #[test]
    fn a_row_stamped_far_in_the_future_does_not_swallow_the_rows_after_it() {
        let f = read("20250213 135800;1;2;1;2;3\n29990101 000000;1;2;1;2;3\n20250213 135900;1;2;1;2;3\n20250213 140000;1;2;1;2;3\n", &ReadOptions::default()).unwrap();
        assert_eq!(f.bars.len(), 4, "every row is kept, in time order");
        assert_eq!(f.bars[3].close_time, utc("2999-01-01T05:00:00Z"));
    }

    #[test]
    fn an_endless_line_is_a_line_error_not_a_memory_blow_up() {
        let long = format!(
            "20250213 135800;1;2;1;2;3\n{}\n20250213 135900;1;2;1;2;3\n",
            "9".repeat(10 * MAX_LINE_BYTES)
        );
        let err = read(&long, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains(":2: line longer than 4096 bytes"), "{err}");
        let f = read(
            &long,
            &ReadOptions {
                skip_bad_lines: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((f.bars.len(), f.bad_lines.len()), (2, 1));
        assert_eq!(f.bad_lines[0].line, 2);
    }

    #[test]
    fn the_repeated_fall_back_hour_reads_in_order() {
        let f = read("20251102 013000;1;2;1;2;3\n20251102 015900;1;2;1;2;3\n20251102 010000;1;2;1;2;3\n20251102 013000;1;2;1;2;3\n", &ReadOptions::default()).unwrap();
        let times: Vec<i64> = f.bars.iter().map(|b| b.close_time).collect();
        assert_eq!(
            times,
            vec![
                utc("2025-11-02T05:30:00Z"),
                utc("2025-11-02T05:59:00Z"),
                utc("2025-11-02T06:00:00Z"),
                utc("2025-11-02T06:30:00Z")
            ]
        );
        assert_eq!((f.duplicates, f.reordered), (0, 0));
    }
}
