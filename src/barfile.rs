//! Reading bar files (plain or gzip, detected by content, not by name).
//!
//! Formats, detected from the first non-empty line:
//! - NinjaTrader Historical Data export: `yyyyMMdd HHmmss;open;high;low;close;volume`, no header,
//!   wall-clock close times in the exporting PC's zone.
//! - CSV with the header `timestamp,open,high,low,close,volume`. A timestamp with an offset
//!   (`Z`, `+00:00`, `-05:00`) is an exact instant; a naive one is wall time in the given zone.
//!   [`TimeBasis::IgnoreOffset`] reads the older Python client's files, whose `+00:00` suffix is
//!   really NinjaTrader local time.
//!
//! Every problem names `file:line`. Rows out of time order are re-sorted and counted; rows
//! repeating a close time are dropped (the first one in the file stays) and counted, never
//! silently. Re-sorting rather than skipping means one row stamped far in the future cannot make
//! every later row "out of order"; the engine then refuses such a row as implausible
//! ([`crate::plausibility`]). A line longer than [`MAX_LINE_BYTES`] is a line error: a corrupt
//! file cannot drive memory up.

use crate::bar::Bar;
use crate::time::MarketClock;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Whether timestamps label the bar's close (NinjaTrader) or its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BarTime {
    Close,
    Start,
}

/// How to read timestamps that carry a UTC offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeBasis {
    /// An offset is exact; a naive time is wall time in the zone.
    Exact,
    /// Ignore any offset and read the wall time in the zone (older Python client CSV).
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
    /// Default [`TimeBasis::Exact`].
    pub basis: TimeBasis,
    /// Skip malformed lines (each reported) instead of failing on the first. Default false.
    pub skip_bad_lines: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            tz: crate::time::EXCHANGE_TZ,
            bar_time: BarTime::Close,
            bar_seconds: 60,
            basis: TimeBasis::Exact,
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
    #[error("{}: no bars found (expected NinjaTrader export lines `yyyyMMdd HHmmss;o;h;l;c;v` or a CSV header `timestamp,open,high,low,close,volume`)", .0.display())]
    Empty(PathBuf),
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
    /// Malformed lines skipped under `skip_bad_lines`, each with its place.
    pub bad_lines: Vec<LineError>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    NinjaTrader,
    Csv,
}

/// Opens a file, transparently gunzipping it when it starts with the gzip magic bytes.
pub fn open_maybe_gzip(path: &Path) -> std::io::Result<Box<dyn BufRead>> {
    let mut file = std::fs::File::open(path)?;
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

/// Reads bars from any reader; `path` is used only to name places in messages.
pub fn read_from(
    mut reader: impl BufRead,
    path: &Path,
    opts: &ReadOptions,
) -> Result<BarFile, ReadError> {
    let clock = MarketClock::new(opts.tz, NaiveTime::from_hms_opt(18, 0, 0).expect("valid"));
    let mut out = BarFile::default();
    let mut format: Option<Format> = None;
    let mut line = String::with_capacity(128);
    let mut line_no = 0usize;
    let mut last_time: Option<i64> = None;
    let mut local_cache = LocalCache::default();
    let offset = match opts.bar_time {
        BarTime::Close => 0,
        BarTime::Start => opts.bar_seconds,
    };
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
            let err = LineError {
                file: path.to_path_buf(),
                line: line_no,
                message: format!("line longer than {MAX_LINE_BYTES} bytes (not a bar)"),
            };
            if opts.skip_bad_lines {
                out.bad_lines.push(err);
                continue;
            }
            return Err(ReadError::Line(err));
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
        let fmt = match format {
            Some(f) => f,
            None => {
                let f = detect(text).ok_or_else(|| {
                    ReadError::Line(LineError {
                        file: path.to_path_buf(),
                        line: line_no,
                        message: format!(
                            "unknown bar file format: expected `yyyyMMdd HHmmss;open;high;low;close;volume` or the CSV header `timestamp,open,high,low,close,volume`, found `{}`",
                            truncate(text, 80)
                        ),
                    })
                })?;
                format = Some(f);
                if f == Format::Csv {
                    continue; // header line
                }
                f
            }
        };
        let parsed = match fmt {
            Format::NinjaTrader => parse_nt_line(text, &clock, &mut local_cache, last_time),
            Format::Csv => parse_csv_line(text, &clock, &mut local_cache, last_time, opts.basis),
        };
        let mut bar = match parsed.and_then(|b| match b.invalid_reason() {
            None => Ok(b),
            Some(r) => Err(r.to_string()),
        }) {
            Ok(b) => b,
            Err(message) => {
                let err = LineError {
                    file: path.to_path_buf(),
                    line: line_no,
                    message,
                };
                if opts.skip_bad_lines {
                    out.bad_lines.push(err);
                    continue;
                }
                return Err(ReadError::Line(err));
            }
        };
        bar.close_time += offset;
        if last_time.is_some_and(|prev| bar.close_time < prev) {
            out.reordered += 1;
        }
        // The previous row, for reading an ambiguous fall-back time in order.
        last_time = Some(bar.close_time);
        out.bars.push(bar);
    }
    // Stable: among rows with the same close time the first in the file stays.
    out.bars.sort_by_key(|b| b.close_time);
    let rows = out.bars.len();
    out.bars.dedup_by_key(|b| b.close_time);
    out.duplicates = rows - out.bars.len();
    if out.bars.is_empty() && out.bad_lines.is_empty() {
        return Err(ReadError::Empty(path.to_path_buf()));
    }
    Ok(out)
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn detect(first: &str) -> Option<Format> {
    let b = first.as_bytes();
    if b.len() > 16 && b[..8].iter().all(u8::is_ascii_digit) && b[8] == b' ' && b[15] == b';' {
        return Some(Format::NinjaTrader);
    }
    let header: Vec<String> = first
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    if header == ["timestamp", "open", "high", "low", "close", "volume"] {
        return Some(Format::Csv);
    }
    None
}

/// Caches wall-time → UTC per local hour (offsets change only on whole hours in the zones
/// NinjaTrader users run; the ambiguous fall-back hour is never cached).
#[derive(Default)]
struct LocalCache {
    key: i64,
    offset: Option<i64>,
}

fn local_to_utc(
    clock: &MarketClock,
    cache: &mut LocalCache,
    naive: NaiveDateTime,
    previous: Option<i64>,
) -> Result<i64, String> {
    let local_secs = naive.and_utc().timestamp();
    let hour = local_secs.div_euclid(3600);
    if cache.key == hour {
        if let Some(off) = cache.offset {
            return Ok(local_secs - off);
        }
    }
    let utc = clock.local_to_utc(naive, previous)?;
    // Cache only unambiguous hours: both ends of the hour map to exactly one instant.
    let single = |secs: i64| {
        use chrono::TimeZone;
        DateTime::from_timestamp(secs, 0)
            .map(|d| {
                matches!(
                    clock.tz().from_local_datetime(&d.naive_utc()),
                    chrono::LocalResult::Single(_)
                )
            })
            .unwrap_or(false)
    };
    cache.key = hour;
    cache.offset = (single(hour * 3600) && single(hour * 3600 + 3599)).then_some(local_secs - utc);
    Ok(utc)
}

/// The value of a run of ASCII digits; `None` if any byte is not a digit.
pub(crate) fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

fn num(field: Option<&str>, name: &str) -> Result<f64, String> {
    let s = field
        .ok_or_else(|| format!("missing field `{name}`"))?
        .trim();
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{name}` is not a number: `{}`", truncate(s, 40)))?;
    Ok(v)
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
        open: num(parts.next(), "open")?,
        high: num(parts.next(), "high")?,
        low: num(parts.next(), "low")?,
        close: num(parts.next(), "close")?,
        volume: num(parts.next(), "volume")?,
    };
    if parts.next().is_some() {
        return Err("too many fields (expected 6 separated by `;`)".into());
    }
    Ok(bar)
}

fn parse_csv_line(
    text: &str,
    clock: &MarketClock,
    cache: &mut LocalCache,
    previous: Option<i64>,
    basis: TimeBasis,
) -> Result<Bar, String> {
    let mut parts = text.split(',');
    let stamp = parts.next().unwrap_or("").trim().trim_matches('"');
    let close_time = parse_timestamp(stamp, clock, cache, previous, basis)?;
    let bar = Bar {
        close_time,
        open: num(parts.next(), "open")?,
        high: num(parts.next(), "high")?,
        low: num(parts.next(), "low")?,
        close: num(parts.next(), "close")?,
        volume: num(parts.next(), "volume")?,
    };
    if parts.next().is_some() {
        return Err("too many fields (expected 6 separated by `,`)".into());
    }
    Ok(bar)
}

/// Parses `2025-02-13T18:59:00Z`, `2025-02-13 13:59:00-05:00`, `2025-02-13 13:59:00` (naive) and
/// the same with fractional seconds.
fn parse_timestamp(
    stamp: &str,
    clock: &MarketClock,
    cache: &mut LocalCache,
    previous: Option<i64>,
    basis: TimeBasis,
) -> Result<i64, String> {
    let s = stamp.trim();
    let (wall, has_offset) = split_offset(s);
    if has_offset && basis == TimeBasis::Exact {
        let normalized = s.replacen(' ', "T", 1);
        return DateTime::parse_from_rfc3339(&normalized)
            .map(|d| d.timestamp())
            .map_err(|_| {
                format!(
                    "timestamp `{}` is not RFC 3339 (e.g. 2025-02-13T18:59:00Z)",
                    truncate(s, 40)
                )
            });
    }
    let naive = NaiveDateTime::parse_from_str(wall, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(wall, "%Y-%m-%d %H:%M:%S%.f"))
        .or_else(|_| NaiveDateTime::parse_from_str(wall, "%Y-%m-%d %H:%M"))
        .map_err(|_| {
            format!(
                "timestamp `{}` is not `yyyy-MM-dd HH:mm:ss`",
                truncate(s, 40)
            )
        })?;
    local_to_utc(clock, cache, naive, previous)
}

/// Splits the wall-time part from a trailing `Z` / `±HH:MM` offset.
fn split_offset(s: &str) -> (&str, bool) {
    if let Some(w) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        return (w, true);
    }
    let b = s.as_bytes();
    if b.len() > 6 {
        let tail = &b[b.len() - 6..];
        if (tail[0] == b'+' || tail[0] == b'-')
            && tail[3] == b':'
            && tail[1..3].iter().all(u8::is_ascii_digit)
            && tail[4..6].iter().all(u8::is_ascii_digit)
        {
            return (&s[..s.len() - 6], true);
        }
    }
    (s, false)
}

#[cfg(test)]
mod tests {
    use super::*;

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
