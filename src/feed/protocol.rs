//! The bar feed's wire format (`docs/protocol.md` §2): parsing and encoding the JSON text frames
//! of both publishers, and their timestamps.
//!
//! - vrev protocol 1: a first `hello`, true UTC timestamps `yyyy-MM-ddTHH:mm:ss.fffZ`, the client's
//!   `subscribe {after}`.
//! - legacy (the older Python system): no `hello`, and a timestamp that looks like UTC but is
//!   NinjaTrader's local wall time with a literal `Z` ([`LegacyClock`] reads it in
//!   `feed.legacy_time_zone`).
//!
//! Parsing never panics: every bad frame becomes a [`FrameError`] that names what is wrong.

use crate::market::bar::Bar;
use crate::market::barfile::digits;
use crate::market::time::MarketClock;
use chrono::{LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt::Write as _;

/// The only protocol version this build speaks.
pub const PROTOCOL: i64 = 1;

/// A timestamp as written on the wire: wall-clock seconds read as if they were UTC, and the UTC
/// offset the text carried (`Z` = 0), if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireTime {
    pub wall: i64,
    pub offset: Option<i32>,
}

impl WireTime {
    /// The instant, for a publisher that writes true UTC (vrev protocol). A timestamp without an
    /// offset is taken as UTC.
    pub fn utc(self) -> i64 {
        self.wall - self.offset.unwrap_or(0) as i64
    }
}

/// A bar as received: the fields present, not yet validated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WireBar {
    pub time: WireTime,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl WireBar {
    pub fn to_bar(self, close_time: i64) -> Bar {
        Bar {
            close_time,
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume: self.volume,
        }
    }
}

/// A last-trade update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WireTick {
    pub time: WireTime,
    pub price: f64,
    pub volume: f64,
}

/// The publisher's `hello` (vrev protocol).
#[derive(Clone, Debug, PartialEq)]
pub struct Hello {
    pub protocol: i64,
    pub instrument: String,
    pub bar_period_seconds: i64,
    pub tick_size: Option<f64>,
    pub point_value: Option<f64>,
}

/// One parsed frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    Hello(Hello),
    HistoricalStart {
        count: Option<u64>,
    },
    /// `historical_bar` (`history` = true) or live `bar`, with the frame's `symbol` if it has
    /// one (both publishers send it).
    Bar {
        history: bool,
        bar: WireBar,
        symbol: Option<String>,
    },
    HistoricalEnd {
        sent: Option<u64>,
    },
    Tick(WireTick),
    /// Client → server: resume after this bar close (UTC seconds; None = all history).
    Subscribe {
        after: Option<i64>,
    },
}

/// Why a frame was refused. The display names the problem; [`FrameError::kind`] is the counter.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FrameError {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("unknown message type `{0}`")]
    UnknownType(String),
    #[error("`{kind}` without `{field}`")]
    Missing {
        kind: &'static str,
        field: &'static str,
    },
    #[error("`{kind}`: bad timestamp `{text}` (expected yyyy-MM-ddTHH:mm:ss[.fff]Z)")]
    BadTime { kind: &'static str, text: String },
}

impl FrameError {
    pub fn kind(&self) -> &'static str {
        match self {
            FrameError::Json(_) => "malformed",
            FrameError::UnknownType(_) => "unknown type",
            FrameError::Missing { .. } => "missing field",
            FrameError::BadTime { .. } => "malformed",
        }
    }
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    symbol: Option<Cow<'a, str>>,
    open: Option<f64>,
    high: Option<f64>,
    low: Option<f64>,
    close: Option<f64>,
    volume: Option<f64>,
    price: Option<f64>,
    count: Option<f64>,
    sent: Option<f64>,
    protocol: Option<i64>,
    #[serde(borrow, default)]
    instrument: Option<Cow<'a, str>>,
    bar_period_seconds: Option<i64>,
    tick_size: Option<f64>,
    point_value: Option<f64>,
    #[serde(borrow, default)]
    after: Option<Cow<'a, str>>,
}

fn count(v: Option<f64>) -> Option<u64> {
    v.filter(|c| c.is_finite() && *c >= 0.0).map(|c| c as u64)
}

/// Parses one text frame.
pub fn parse(text: &str) -> Result<Msg, FrameError> {
    let raw: Raw = serde_json::from_str(text).map_err(|e| FrameError::Json(e.to_string()))?;
    let kind = match raw.kind.as_deref() {
        Some(k) => k,
        None => {
            return Err(FrameError::Missing {
                kind: "message",
                field: "type",
            })
        }
    };
    let time = |kind: &'static str| -> Result<WireTime, FrameError> {
        let text = raw.timestamp.as_deref().ok_or(FrameError::Missing {
            kind,
            field: "timestamp",
        })?;
        parse_time(text).ok_or_else(|| FrameError::BadTime {
            kind,
            text: text.chars().take(40).collect(),
        })
    };
    let field = |kind: &'static str, name: &'static str, v: Option<f64>| {
        v.ok_or(FrameError::Missing { kind, field: name })
    };
    let bar = |kind: &'static str| -> Result<WireBar, FrameError> {
        Ok(WireBar {
            open: field(kind, "open", raw.open)?,
            high: field(kind, "high", raw.high)?,
            low: field(kind, "low", raw.low)?,
            close: field(kind, "close", raw.close)?,
            volume: field(kind, "volume", raw.volume)?,
            time: time(kind)?,
        })
    };
    Ok(match kind {
        "historical_bar" => Msg::Bar {
            history: true,
            bar: bar("historical_bar")?,
            symbol: raw.symbol.as_deref().map(str::to_string),
        },
        "bar" => Msg::Bar {
            history: false,
            bar: bar("bar")?,
            symbol: raw.symbol.as_deref().map(str::to_string),
        },
        "tick" => Msg::Tick(WireTick {
            price: field("tick", "price", raw.price)?,
            volume: raw.volume.unwrap_or(0.0),
            time: time("tick")?,
        }),
        "historical_start" => Msg::HistoricalStart {
            count: count(raw.count),
        },
        "historical_end" => Msg::HistoricalEnd {
            sent: count(raw.sent),
        },
        "hello" => Msg::Hello(Hello {
            protocol: raw.protocol.ok_or(FrameError::Missing {
                kind: "hello",
                field: "protocol",
            })?,
            instrument: raw.instrument.as_deref().unwrap_or("").to_string(),
            bar_period_seconds: raw.bar_period_seconds.unwrap_or(60),
            tick_size: raw.tick_size,
            point_value: raw.point_value,
        }),
        "subscribe" => Msg::Subscribe {
            after: match raw.after.as_deref() {
                None => None,
                Some(t) => Some(
                    parse_time(t)
                        .ok_or_else(|| FrameError::BadTime {
                            kind: "subscribe",
                            text: t.chars().take(40).collect(),
                        })?
                        .utc(),
                ),
            },
        },
        other => return Err(FrameError::UnknownType(other.chars().take(40).collect())),
    })
}

// ---------------------------------------------------------------------------------------------
// Instruments

/// The root of an instrument name: the text before the first space (`ES 03-25` → `ES`; `ES` →
/// `ES`). NinjaTrader names a futures contract `ROOT MM-YY`.
pub fn root_symbol(name: &str) -> &str {
    name.split(' ').next().unwrap_or("")
}

/// Whether a frame's `symbol` is the configured instrument (`[instrument] symbol`): the same
/// root, case-sensitive. `ES 03-25` and `ES 06-25` are ES; `MES 03-25`, `NQ 03-25` and `es`
/// are not.
pub fn same_instrument(frame_symbol: &str, configured: &str) -> bool {
    root_symbol(frame_symbol) == root_symbol(configured)
}

// ---------------------------------------------------------------------------------------------
// Timestamps

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `yyyy-MM-ddTHH:mm:ss` (a space instead of `T` is accepted), optional fraction
/// (truncated to the second), optional `Z` or `±HH:MM`/`±HHMM`.
pub fn parse_time(s: &str) -> Option<WireTime> {
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let y = digits(&b[0..4])? as i64;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    let h = digits(&b[11..13])?;
    let mi = digits(&b[14..16])?;
    let se = digits(&b[17..19])?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59
    {
        return None;
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &rest[1 + n..];
    }
    let offset = match rest {
        [] => None,
        [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), hh @ ..] if hh.len() == 5 || hh.len() == 4 => {
            let (oh, om) = if hh.len() == 5 {
                if hh[2] != b':' {
                    return None;
                }
                (digits(&hh[0..2])?, digits(&hh[3..5])?)
            } else {
                (digits(&hh[0..2])?, digits(&hh[2..4])?)
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let o = (oh * 3600 + om * 60) as i32;
            Some(if *sign == b'-' { -o } else { o })
        }
        _ => return None,
    };
    let wall = days_from_civil(y, mo, d) * 86_400 + (h * 3600 + mi * 60 + se) as i64;
    Some(WireTime { wall, offset })
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Appends `yyyy-MM-ddTHH:mm:ss` of wall seconds.
fn push_wall(out: &mut String, wall: i64) {
    let (y, m, d) = civil_from_days(wall.div_euclid(86_400));
    let s = wall.rem_euclid(86_400);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
}

/// `yyyy-MM-ddTHH:mm:ss.fffZ` of wall seconds (UTC for vrev protocol, local for legacy).
pub fn push_wire_time(out: &mut String, wall: i64) {
    push_wall(out, wall);
    out.push_str(".000Z");
}

/// `yyyy-MM-ddTHH:mm:ss+00:00` (the recorder's CSV timestamp: UTC with its offset).
pub fn csv_time(utc: i64) -> String {
    let mut s = String::with_capacity(25);
    push_wall(&mut s, utc);
    s.push_str("+00:00");
    s
}

/// `yyyy-MM-ddTHH:mm:ssZ`, the `after` of `subscribe`.
pub fn utc_text(utc: i64) -> String {
    let mut s = String::with_capacity(20);
    push_wall(&mut s, utc);
    s.push('Z');
    s
}

/// Reads the legacy publisher's timestamps: wall time in `feed.legacy_time_zone` whatever the
/// offset says. A time in the spring-forward gap is an error; a time in the repeated fall-back
/// hour takes the earlier instant unless that would not come after the previous bar.
pub struct LegacyClock {
    clock: MarketClock,
    /// A wall-clock quarter hour that maps to one offset, and that offset.
    cache: Option<(i64, i32)>,
}

const QUARTER: i64 = 900;

impl LegacyClock {
    pub fn new(tz: Tz) -> Self {
        LegacyClock {
            clock: MarketClock::new(tz, chrono::NaiveTime::MIN),
            cache: None,
        }
    }

    pub fn tz(&self) -> Tz {
        self.clock.tz()
    }

    fn single(&self, wall: i64) -> Option<i32> {
        let naive = naive(wall)?;
        match self.clock.tz().from_local_datetime(&naive) {
            LocalResult::Single(t) => Some((wall - t.timestamp()) as i32),
            _ => None,
        }
    }

    /// The UTC instant of a legacy wall time; `previous` = the last bar accepted (UTC).
    pub fn to_utc(&mut self, wall: i64, previous: Option<i64>) -> Result<i64, String> {
        let block = wall.div_euclid(QUARTER);
        if let Some((b, off)) = self.cache {
            if b == block {
                return Ok(wall - off as i64);
            }
        }
        // Every modern zone transition falls on a quarter hour: a quarter hour whose first and
        // last second map to one and the same offset maps entirely to it.
        let start = block * QUARTER;
        if let (Some(a), Some(z)) = (self.single(start), self.single(start + QUARTER - 1)) {
            if a == z {
                self.cache = Some((block, a));
                return Ok(wall - a as i64);
            }
        }
        let naive = naive(wall).ok_or_else(|| format!("timestamp out of range ({wall})"))?;
        self.clock.local_to_utc(naive, previous)
    }

    /// The legacy wall time of a UTC instant (for `vrev serve --legacy`).
    pub fn to_wall(&self, utc: i64) -> i64 {
        utc + self.clock.offset_seconds(utc) as i64
    }
}

/// Wall seconds as a naive date-time.
fn naive(wall: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp(wall, 0).map(|d| d.naive_utc())
}

// ---------------------------------------------------------------------------------------------
// Encoding (the publisher side: `vrev serve`)

fn push_num(out: &mut String, v: f64) {
    if v.is_finite() {
        // Shortest round-trip decimal, `.0` on whole numbers, as the NinjaTrader publisher does.
        let _ = write!(out, "{v:?}");
    } else {
        out.push_str("null");
    }
}

/// `{"type":"hello",...}`
pub fn encode_hello(
    instrument: &str,
    bar_period_seconds: i64,
    tick_size: f64,
    point_value: f64,
) -> String {
    let mut s = String::with_capacity(128);
    s.push_str(r#"{"type":"hello","protocol":"#);
    let _ = write!(s, "{PROTOCOL}");
    s.push_str(r#","instrument":"#);
    s.push_str(&serde_json::to_string(instrument).unwrap_or_else(|_| "\"\"".into()));
    let _ = write!(
        s,
        r#","bar_period_seconds":{bar_period_seconds},"tick_size":"#
    );
    push_num(&mut s, tick_size);
    s.push_str(r#","point_value":"#);
    push_num(&mut s, point_value);
    s.push('}');
    s
}

/// A `historical_bar` or `bar` frame; `wall` is the timestamp to write (UTC for vrev protocol,
/// local wall time for legacy). `symbol_json` is the symbol already JSON-quoted.
pub fn encode_bar(history: bool, symbol_json: &str, wall: i64, bar: &Bar) -> String {
    let mut s = String::with_capacity(160);
    s.push_str(if history {
        r#"{"type":"historical_bar","symbol":"#
    } else {
        r#"{"type":"bar","symbol":"#
    });
    s.push_str(symbol_json);
    s.push_str(r#","timestamp":""#);
    push_wire_time(&mut s, wall);
    s.push_str(r#"","open":"#);
    push_num(&mut s, bar.open);
    s.push_str(r#","high":"#);
    push_num(&mut s, bar.high);
    s.push_str(r#","low":"#);
    push_num(&mut s, bar.low);
    s.push_str(r#","close":"#);
    push_num(&mut s, bar.close);
    s.push_str(r#","volume":"#);
    if bar.volume.is_finite() && bar.volume.fract() == 0.0 && bar.volume.abs() < 1e15 {
        let _ = write!(s, "{}", bar.volume as i64);
    } else {
        push_num(&mut s, bar.volume);
    }
    s.push('}');
    s
}

pub fn encode_historical_start(count: usize) -> String {
    format!(r#"{{"type":"historical_start","count":{count}}}"#)
}

pub fn encode_historical_end(sent: usize) -> String {
    format!(r#"{{"type":"historical_end","sent":{sent}}}"#)
}

/// The client's resume request.
pub fn encode_subscribe(after: Option<i64>) -> String {
    match after {
        Some(t) => format!(r#"{{"type":"subscribe","after":"{}"}}"#, utc_text(t)),
        None => r#"{"type":"subscribe","after":null}"#.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn timestamps_parse_with_and_without_offsets() {
        let t = parse_time("2025-02-13T18:59:00.000Z").unwrap();
        assert_eq!(t.offset, Some(0));
        assert_eq!(utc_text(t.utc()), "2025-02-13T18:59:00Z");
        let t = parse_time("2025-02-13 13:59:00-05:00").unwrap();
        assert_eq!(utc_text(t.utc()), "2025-02-13T18:59:00Z");
        let t = parse_time("2025-02-13T13:59:00").unwrap();
        assert_eq!(t.offset, None);
        for bad in [
            "",
            "2025-02-30T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-02-13T24:00:00Z",
            "2025-02-13T18:59:00.Z",
            "2025-02-13T18:59:00+5",
            "2025-02-13T18:59:00Zjunk",
            "2025-02-13X18:59:00Z",
            "２０２５-02-13T18:59:00Z",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn legacy_time_is_new_york_wall_time_with_a_false_z() {
        // DESIGN §11 / issue 6 must-hold 4: 13:59 EDT = 17:59 UTC.
        let mut clock = LegacyClock::new(chrono_tz::America::New_York);
        let msg = parse(r#"{"type":"bar","symbol":"ES","timestamp":"2025-07-14T13:59:00.000Z","open":1,"high":1,"low":1,"close":1,"volume":1}"#).unwrap();
        let Msg::Bar { bar, history, .. } = msg else {
            panic!()
        };
        assert!(!history);
        let utc = clock.to_utc(bar.time.wall, None).unwrap();
        assert_eq!(utc_text(utc), "2025-07-14T17:59:00Z");
        // Winter: EST = UTC−5.
        let w = parse_time("2025-02-13T13:59:00.000Z").unwrap().wall;
        assert_eq!(
            utc_text(clock.to_utc(w, None).unwrap()),
            "2025-02-13T18:59:00Z"
        );
        // Spring gap: 02:30 does not exist on 2025-03-09.
        let w = parse_time("2025-03-09T02:30:00.000Z").unwrap().wall;
        assert!(clock.to_utc(w, None).is_err());
        // Fall back: 01:30 happens twice on 2025-11-02; the earlier first, then the later.
        let w = parse_time("2025-11-02T01:30:00.000Z").unwrap().wall;
        let first = clock.to_utc(w, None).unwrap();
        assert_eq!(utc_text(first), "2025-11-02T05:30:00Z");
        assert_eq!(
            utc_text(clock.to_utc(w, Some(first)).unwrap()),
            "2025-11-02T06:30:00Z"
        );
        // And back: the serve side writes wall time.
        assert_eq!(clock.to_wall(first), w);
    }

    #[test]
    fn every_message_round_trips() {
        let bar = Bar {
            close_time: parse_time("2025-02-13T18:59:00Z").unwrap().utc(),
            open: 6107.0,
            high: 6107.25,
            low: 6091.5,
            close: 6100.75,
            volume: 1234.0,
        };
        let text = encode_bar(true, "\"ES 03-25\"", bar.close_time, &bar);
        assert_eq!(
            text,
            r#"{"type":"historical_bar","symbol":"ES 03-25","timestamp":"2025-02-13T18:59:00.000Z","open":6107.0,"high":6107.25,"low":6091.5,"close":6100.75,"volume":1234}"#
        );
        let Msg::Bar {
            history: true,
            bar: w,
            symbol: Some(sym),
        } = parse(&text).unwrap()
        else {
            panic!()
        };
        assert_eq!(w.to_bar(w.time.utc()), bar);
        assert_eq!(sym, "ES 03-25");
        assert_eq!(
            parse(&encode_hello("ES 03-25", 60, 0.25, 50.0)).unwrap(),
            Msg::Hello(Hello {
                protocol: 1,
                instrument: "ES 03-25".into(),
                bar_period_seconds: 60,
                tick_size: Some(0.25),
                point_value: Some(50.0)
            })
        );
        assert_eq!(
            parse(&encode_subscribe(Some(bar.close_time))).unwrap(),
            Msg::Subscribe {
                after: Some(bar.close_time)
            }
        );
        assert_eq!(
            parse(&encode_subscribe(None)).unwrap(),
            Msg::Subscribe { after: None }
        );
        assert_eq!(
            parse(&encode_historical_start(5)).unwrap(),
            Msg::HistoricalStart { count: Some(5) }
        );
        assert_eq!(
            parse(&encode_historical_end(5)).unwrap(),
            Msg::HistoricalEnd { sent: Some(5) }
        );
    }

    #[test]
    fn wrong_instrument_root_symbol_is_the_text_before_the_first_space_case_sensitive() {
        assert_eq!(root_symbol("ES 03-25"), "ES");
        assert_eq!(root_symbol("ES"), "ES");
        assert_eq!(root_symbol("MES 03-25"), "MES");
        assert_eq!(root_symbol(""), "");
        assert_eq!(root_symbol(" ES"), "");
        for (frame, configured, same) in [
            ("ES 03-25", "ES", true),
            ("ES 06-25", "ES", true),
            ("ES", "ES", true),
            ("ES 03-25", "ES 06-25", true), // a config naming a contract: its root
            ("MES 03-25", "ES", false),
            ("NQ 03-25", "ES", false),
            ("ESM5", "ES", false),
            ("es 03-25", "ES", false), // case-sensitive
            ("", "ES", false),
            (" ES 03-25", "ES", false),
        ] {
            assert_eq!(
                same_instrument(frame, configured),
                same,
                "{frame} vs {configured}"
            );
        }
    }

    #[test]
    fn a_bar_frame_carries_its_symbol_or_none() {
        let with = parse(r#"{"type":"bar","symbol":"NQ 03-25","timestamp":"2025-02-13T18:59:00Z","open":1,"high":1,"low":1,"close":1,"volume":1}"#).unwrap();
        assert!(matches!(with, Msg::Bar { symbol: Some(s), .. } if s == "NQ 03-25"));
        let without = parse(r#"{"type":"historical_bar","timestamp":"2025-02-13T18:59:00Z","open":1,"high":1,"low":1,"close":1,"volume":1}"#).unwrap();
        assert!(matches!(
            without,
            Msg::Bar {
                symbol: None,
                history: true,
                ..
            }
        ));
    }

    #[test]
    fn bad_frames_name_their_problem() {
        let kind = |t: &str| parse(t).unwrap_err().kind();
        assert_eq!(kind("{"), "malformed");
        assert_eq!(kind("ping"), "malformed");
        assert_eq!(kind(r#"{"type":"bar","close":NaN}"#), "malformed");
        assert_eq!(kind(r#"{"type":"bar","close":"6100"}"#), "malformed");
        assert_eq!(kind(r#"{"type":"quote"}"#), "unknown type");
        assert_eq!(kind(r#"{"open":1}"#), "missing field");
        let e = parse(r#"{"type":"bar","timestamp":"2025-02-13T18:59:00Z","open":1,"high":1,"low":1,"volume":1}"#).unwrap_err();
        assert_eq!(e.to_string(), "`bar` without `close`");
        let e = parse(
            r#"{"type":"bar","timestamp":"13:59","open":1,"high":1,"low":1,"close":1,"volume":1}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("bad timestamp `13:59`"), "{e}");
    }
}
