//! CSV bar files, read by column name with the `csv` crate.
//!
//! The header names the columns, matched case-insensitively and in any order; other columns are
//! ignored. The time is one column (`timestamp`, `datetime`, `time` or `date` holding both) or
//! a `date` and a `time` column. Prices are `open`, `high`, `low`, `close`; then `volume`.
//!
//! **Tick rows** are not bars and are skipped and counted: a row whose open, high, low and close
//! are all empty (a tick carries one price, e.g. in a `price` column), or whose time is not on a
//! whole bar boundary (a trade at 13:59:12) in a file whose other rows are ([`Row::OffBoundary`]:
//! the caller decides once it has seen the whole file; a file stamped at :40 throughout is bars).
//!
//! **The older vrev Python client's CSV** (`2025-02-13 13:59:00+00:00`: New York wall time
//! falsely marked UTC) is recognised by that stamp layout on the first row and refused unless
//! the reader was told how to read its offsets (`--ignore-offset` or `--exact-offset`).

use super::fields::{number, truncate};
use super::wall_time::{is_python_client_stamp, parse_date_time, parse_stamp, LocalCache, Offsets};
use crate::market::bar::Bar;
use crate::market::time::MarketClock;
use std::io::{BufRead, Read};

/// Where the time of a row is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum TimeColumns {
    /// One column with date and time.
    Stamp(usize),
    /// A date column and a time column.
    DateAndTime(usize, usize),
}

/// The columns a bar needs, found by name in the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns {
    time: TimeColumns,
    open: usize,
    high: usize,
    low: usize,
    close: usize,
    volume: usize,
}

const STAMP_NAMES: [&str; 5] = ["timestamp", "datetime", "date_time", "date time", "time"];

impl Columns {
    /// Finds the columns by name (case-insensitive, any order, other columns ignored). `None`
    /// when the line does not look like a bar header at all; `Err` names what is missing.
    pub fn from_header(names: &[String]) -> Option<Result<Columns, String>> {
        let norm: Vec<String> = names
            .iter()
            .map(|n| n.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let find = |name: &str| norm.iter().position(|n| n == name);
        let (date, time) = (find("date"), find("time"));
        let stamp = STAMP_NAMES.iter().find_map(|n| find(n));
        let time_cols = match (date, time) {
            (Some(d), Some(t)) => Some(TimeColumns::DateAndTime(d, t)),
            _ => stamp.or(date).map(TimeColumns::Stamp),
        };
        let prices = ["open", "high", "low", "close"].map(find);
        if time_cols.is_none() && prices.iter().all(Option::is_none) {
            return None;
        }
        let found = || names.join(",");
        let Some(time) = time_cols else {
            return Some(Err(format!(
                "CSV header has no time column (`timestamp`, `datetime`, `time`, or `date` and `time`); found `{}`",
                truncate(&found(), 120)
            )));
        };
        let mut missing = Vec::new();
        for (name, col) in ["open", "high", "low", "close"].iter().zip(prices) {
            if col.is_none() {
                missing.push(*name);
            }
        }
        let volume = find("volume").or_else(|| find("vol"));
        if volume.is_none() {
            missing.push("volume");
        }
        if !missing.is_empty() {
            return Some(Err(format!(
                "CSV header has no `{}` column; found `{}`",
                missing.join("`, `"),
                truncate(&found(), 120)
            )));
        }
        let [Some(open), Some(high), Some(low), Some(close)] = prices else {
            unreachable!("missing prices were reported above")
        };
        Some(Ok(Columns {
            time,
            open,
            high,
            low,
            close,
            volume: volume.expect("checked above"),
        }))
    }
}

/// How the CSV's stamps are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StampRules {
    pub offsets: Offsets,
    /// Refuse the older Python client's stamp layout (the user has not said how to read it).
    pub refuse_python_client: bool,
    pub bar_seconds: i64,
}

/// One data row.
#[derive(Debug, PartialEq)]
pub enum Row {
    Bar(Bar),
    /// Not a one-minute bar: skipped and counted.
    Tick,
    /// A row whose time is not on a whole bar boundary (seconds or a fraction): a tick if the
    /// file has bars on whole boundaries, else a bar. `None`: its prices are not a bar's.
    OffBoundary(Option<Bar>),
}

/// The rows of a CSV bar file after its header, each with its line number.
pub struct CsvRows<R: BufRead> {
    reader: csv::Reader<LineCap<R>>,
    record: csv::StringRecord,
    columns: Columns,
    rules: StampRules,
    clock: MarketClock,
    cache: LocalCache,
    first_row: bool,
    overlong: std::rc::Rc<std::cell::RefCell<Vec<u64>>>,
}

/// What opening a CSV found.
pub enum Opened<R: BufRead> {
    Rows(Box<CsvRows<R>>),
    /// The first line is not a bar header (line, its text).
    NotAHeader(u64, String),
    /// A bar header missing a column (line, message).
    BadHeader(u64, String),
    /// Nothing but blank lines.
    Empty,
}

impl<R: BufRead> CsvRows<R> {
    /// Reads the header of `input` and maps its columns.
    pub fn open(input: R, clock: MarketClock, rules: StampRules) -> std::io::Result<Opened<R>> {
        let overlong = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(LineCap::new(input, overlong.clone()));
        let mut record = csv::StringRecord::new();
        if !read(&mut reader, &mut record)? {
            return Ok(Opened::Empty);
        }
        let line = record.position().map_or(1, |p| p.line());
        if overlong.borrow().binary_search(&line).is_ok() {
            return Ok(Opened::NotAHeader(
                line,
                record.iter().collect::<Vec<_>>().join(","),
            ));
        }
        let names: Vec<String> = record.iter().map(str::to_string).collect();
        let columns = match Columns::from_header(&names) {
            None => return Ok(Opened::NotAHeader(line, names.join(","))),
            Some(Err(m)) => return Ok(Opened::BadHeader(line, m)),
            Some(Ok(c)) => c,
        };
        Ok(Opened::Rows(Box::new(CsvRows {
            reader,
            record,
            columns,
            rules,
            clock,
            cache: LocalCache::default(),
            first_row: true,
            overlong,
        })))
    }

    /// The next row and its line; `previous` is the close time of the row before (for the
    /// repeated fall-back hour). `None` at the end.
    pub fn next_row(
        &mut self,
        previous: Option<i64>,
    ) -> Option<std::io::Result<(u64, Result<Row, String>)>> {
        match read(&mut self.reader, &mut self.record) {
            Err(e) => return Some(Err(e)),
            Ok(false) => return None,
            Ok(true) => {}
        }
        let line = self.record.position().map_or(0, |p| p.line());
        if self.overlong.borrow().binary_search(&line).is_ok() {
            let m = format!(
                "line longer than {} bytes (not a bar)",
                super::MAX_LINE_BYTES
            );
            return Some(Ok((line, Err(m))));
        }
        let first = std::mem::replace(&mut self.first_row, false);
        Some(Ok((line, self.parse(previous, first))))
    }

    fn parse(&mut self, previous: Option<i64>, first: bool) -> Result<Row, String> {
        let r = &self.record;
        let c = &self.columns;
        let field = |i: usize| r.get(i).map(str::trim).filter(|s| !s.is_empty());
        let prices = [c.open, c.high, c.low, c.close].map(field);
        let stamp = match c.time {
            TimeColumns::Stamp(i) => {
                let s = field(i).ok_or("missing the time")?;
                if first && self.rules.refuse_python_client && is_python_client_stamp(s) {
                    return Err(format!(
                        "`{}` looks like the older vrev Python client's CSV, whose +00:00 stamps are New York wall time: pass --ignore-offset to read them in --tz, or --exact-offset if they really are UTC",
                        truncate(s, 40)
                    ));
                }
                parse_stamp(
                    s,
                    &self.clock,
                    &mut self.cache,
                    previous,
                    self.rules.offsets,
                )?
            }
            TimeColumns::DateAndTime(d, t) => parse_date_time(
                field(d).ok_or("missing the date")?,
                field(t).ok_or("missing the time")?,
                &self.clock,
                &mut self.cache,
                previous,
            )?,
        };
        if prices.iter().all(Option::is_none) {
            return Ok(Row::Tick);
        }
        let bar = || -> Result<Bar, String> {
            Ok(Bar {
                close_time: stamp.utc,
                open: number(prices[0], "open")?,
                high: number(prices[1], "high")?,
                low: number(prices[2], "low")?,
                close: number(prices[3], "close")?,
                volume: number(field(c.volume), "volume")?,
            })
        };
        if stamp.nanos != 0 || stamp.utc.rem_euclid(self.rules.bar_seconds) != 0 {
            return Ok(Row::OffBoundary(bar().ok()));
        }
        bar().map(Row::Bar)
    }
}

/// Reads a record; a CSV error that is not I/O (bad UTF-8, say) becomes an I/O error of the file.
fn read<R: Read>(
    reader: &mut csv::Reader<R>,
    record: &mut csv::StringRecord,
) -> std::io::Result<bool> {
    reader.read_record(record).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        csv::ErrorKind::Utf8 { pos, .. } => std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            match pos {
                Some(p) => format!("line {}: not UTF-8 text", p.line()),
                None => "not UTF-8 text".into(),
            },
        ),
        other => std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{other:?}")),
    })
}

/// Passes a file through with each line cut at [`super::MAX_LINE_BYTES`] (the rest of the line
/// skipped, its line number noted), so a corrupt file cannot drive memory up.
struct LineCap<R> {
    inner: R,
    line: u64,
    run: usize,
    overlong: std::rc::Rc<std::cell::RefCell<Vec<u64>>>,
}

impl<R> LineCap<R> {
    fn new(inner: R, overlong: std::rc::Rc<std::cell::RefCell<Vec<u64>>>) -> Self {
        LineCap {
            inner,
            line: 1,
            run: 0,
            overlong,
        }
    }
}

impl<R: BufRead> Read for LineCap<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() || out.is_empty() {
                return Ok(0);
            }
            let (mut used, mut written) = (0, 0);
            while used < chunk.len() && written < out.len() {
                let b = chunk[used];
                used += 1;
                if b == b'\n' {
                    self.line += 1;
                    self.run = 0;
                    out[written] = b;
                    written += 1;
                } else if self.run < super::MAX_LINE_BYTES {
                    self.run += 1;
                    out[written] = b;
                    written += 1;
                } else if self.run == super::MAX_LINE_BYTES {
                    self.run += 1;
                    self.overlong.borrow_mut().push(self.line);
                }
            }
            self.inner.consume(used);
            if written > 0 {
                return Ok(written);
            }
        }
    }
}
