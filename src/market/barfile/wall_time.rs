//! Timestamps of bar files: wall time in a zone to UTC (cached per hour), ISO stamps with or
//! without an offset, separate date and time columns, and the stamp layout of the older vrev
//! Python client.

use crate::market::time::MarketClock;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::fields::{digits, truncate};

/// Caches wall-time → UTC per local hour (offsets change only on whole hours in the zones
/// NinjaTrader users run; the ambiguous fall-back hour is never cached).
#[derive(Default)]
pub struct LocalCache {
    key: i64,
    offset: Option<i64>,
}

/// Wall time in the clock's zone → UTC seconds; `previous` (the row before) reads the repeated
/// fall-back hour in order.
pub fn local_to_utc(
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

/// How a stamp with a UTC offset is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offsets {
    /// The offset is exact.
    Exact,
    /// The offset is dropped and the wall time read in the zone.
    Ignore,
}

/// A parsed stamp: UTC seconds, and whether it falls on a whole second (no fraction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub utc: i64,
    pub nanos: u32,
}

/// Parses one timestamp column: `2025-02-13T18:59:00Z`, `2025-02-13 13:59:00-05:00`,
/// `2025-02-13 13:59:00` / `2025-02-13 13:59` (naive: wall time in the zone), fractional
/// seconds, and `02/13/2025 13:59[:00]`.
pub fn parse_stamp(
    stamp: &str,
    clock: &MarketClock,
    cache: &mut LocalCache,
    previous: Option<i64>,
    offsets: Offsets,
) -> Result<Stamp, String> {
    let s = stamp.trim();
    let (wall, offset) = split_offset(s);
    let naive = naive_stamp(wall).ok_or_else(|| {
        format!(
            "timestamp `{}` is not `yyyy-MM-dd HH:mm:ss` with an optional `Z`/`±HH:MM` (or `MM/dd/yyyy HH:mm:ss`)",
            truncate(s, 40)
        )
    })?;
    let utc = match (offset, offsets) {
        (Some(off), Offsets::Exact) => naive.and_utc().timestamp() - off,
        _ => local_to_utc(clock, cache, naive, previous)?,
    };
    Ok(Stamp {
        utc,
        nanos: naive.nanosecond(),
    })
}

fn naive_stamp(wall: &str) -> Option<NaiveDateTime> {
    const LAYOUTS: [&str; 6] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%m/%d/%Y %H:%M:%S%.f",
        "%m/%d/%Y %H:%M",
    ];
    LAYOUTS
        .iter()
        .find_map(|l| NaiveDateTime::parse_from_str(wall, l).ok())
}

/// Parses separate date and time columns (`2025-02-13`, `02/13/2025` or `20250213`; `13:59`,
/// `13:59:00`, `13:59:00.000` or `135900`), wall time in the zone.
pub fn parse_date_time(
    date: &str,
    time: &str,
    clock: &MarketClock,
    cache: &mut LocalCache,
    previous: Option<i64>,
) -> Result<Stamp, String> {
    let (date, time) = (date.trim(), time.trim());
    let d = ["%Y-%m-%d", "%m/%d/%Y", "%Y%m%d"]
        .iter()
        .find_map(|l| NaiveDate::parse_from_str(date, l).ok())
        .ok_or_else(|| {
            format!(
                "date `{}` is not `yyyy-MM-dd`, `MM/dd/yyyy` or `yyyyMMdd`",
                truncate(date, 40)
            )
        })?;
    let t = ["%H:%M:%S%.f", "%H:%M", "%H%M%S"]
        .iter()
        .find_map(|l| NaiveTime::parse_from_str(time, l).ok())
        .ok_or_else(|| {
            format!(
                "time `{}` is not `HH:mm`, `HH:mm:ss` or `HHmmss`",
                truncate(time, 40)
            )
        })?;
    let naive = d.and_time(t);
    Ok(Stamp {
        utc: local_to_utc(clock, cache, naive, previous)?,
        nanos: naive.nanosecond(),
    })
}

/// Splits the wall-time part from a trailing `Z` / `±HH:MM` offset (its seconds east of UTC).
pub fn split_offset(s: &str) -> (&str, Option<i64>) {
    if let Some(w) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        return (w, Some(0));
    }
    let b = s.as_bytes();
    if b.len() > 6 {
        let tail = &b[b.len() - 6..];
        if (tail[0] == b'+' || tail[0] == b'-') && tail[3] == b':' {
            if let (Some(h), Some(m)) = (digits(&tail[1..3]), digits(&tail[4..6])) {
                let secs = (h as i64) * 3600 + (m as i64) * 60;
                let sign = if tail[0] == b'-' { -1 } else { 1 };
                return (&s[..s.len() - 6], Some(sign * secs));
            }
        }
    }
    (s, None)
}

/// The stamp layout of the older vrev Python client: `2025-02-13 13:59:00+00:00` (a space, whole
/// seconds with an optional fraction, and exactly `+00:00`), which Python's `str(datetime)` and
/// pandas write. That client stamped New York wall time and marked it UTC. vrev's own `record`
/// writes `2025-02-13T18:59:00+00:00` (a `T`), and other tools write `Z`.
pub fn is_python_client_stamp(s: &str) -> bool {
    let s = s.trim();
    let Some(wall) = s.strip_suffix("+00:00") else {
        return false;
    };
    let b = wall.as_bytes();
    b.len() >= 19
        && b[10] == b' '
        && NaiveDateTime::parse_from_str(wall, "%Y-%m-%d %H:%M:%S%.f").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_layouts() {
        let clock = MarketClock::exchange();
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp();
        // (stamp, offsets, expected UTC, nanos)
        let cases = [
            (
                "2025-02-13T18:59:00Z",
                Offsets::Exact,
                "2025-02-13T18:59:00Z",
                0,
            ),
            (
                "2025-02-13 18:59:00Z",
                Offsets::Exact,
                "2025-02-13T18:59:00Z",
                0,
            ),
            (
                "2025-02-13T18:59Z",
                Offsets::Exact,
                "2025-02-13T18:59:00Z",
                0,
            ),
            (
                "2025-02-13 13:59:00-05:00",
                Offsets::Exact,
                "2025-02-13T18:59:00Z",
                0,
            ),
            (
                "2025-02-13 13:59:00.250-05:00",
                Offsets::Exact,
                "2025-02-13T18:59:00Z",
                250_000_000,
            ),
            (
                "2025-02-13 13:59:00+00:00",
                Offsets::Ignore,
                "2025-02-13T18:59:00Z",
                0,
            ),
            (
                "2025-02-13 13:59:00",
                Offsets::Exact,
                "2025-02-13T18:59:00Z",
                0,
            ),
            (
                "2025-02-13T13:59",
                Offsets::Exact,
                "2025-02-13T18:59:00Z",
                0,
            ),
            (
                "2025-02-13 13:59",
                Offsets::Exact,
                "2025-02-13T18:59:00Z",
                0,
            ),
            (
                "2025-02-13 13:59:00.000",
                Offsets::Exact,
                "2025-02-13T18:59:00Z",
                0,
            ),
            (
                "02/13/2025 13:59:00",
                Offsets::Exact,
                "2025-02-13T18:59:00Z",
                0,
            ),
            (
                "02/13/2025 13:59",
                Offsets::Exact,
                "2025-02-13T18:59:00Z",
                0,
            ),
        ];
        for (s, o, want, nanos) in cases {
            let got = parse_stamp(s, &clock, &mut LocalCache::default(), None, o).unwrap();
            assert_eq!(
                got,
                Stamp {
                    utc: utc(want),
                    nanos
                },
                "{s}"
            );
        }
        for bad in ["2025-13-01 00:00:00", "13:59", "2025/02/13 13:59", ""] {
            let e = parse_stamp(
                bad,
                &clock,
                &mut LocalCache::default(),
                None,
                Offsets::Exact,
            );
            assert!(e.is_err(), "{bad}");
        }
    }

    #[test]
    fn separate_date_and_time_columns() {
        let clock = MarketClock::exchange();
        let want = DateTime::parse_from_rfc3339("2025-02-13T18:59:00Z")
            .unwrap()
            .timestamp();
        for (d, t) in [
            ("2025-02-13", "13:59"),
            ("2025-02-13", "13:59:00"),
            ("02/13/2025", "13:59"),
            ("20250213", "135900"),
        ] {
            let got = parse_date_time(d, t, &clock, &mut LocalCache::default(), None).unwrap();
            assert_eq!(got.utc, want, "{d} {t}");
        }
        let e = parse_date_time(
            "2025-02-30",
            "13:59",
            &clock,
            &mut LocalCache::default(),
            None,
        );
        assert!(e.unwrap_err().contains("date `2025-02-30`"));
        let e = parse_date_time(
            "2025-02-13",
            "25:00",
            &clock,
            &mut LocalCache::default(),
            None,
        );
        assert!(e.unwrap_err().contains("time `25:00`"));
    }

    #[test]
    fn the_python_clients_layout_is_recognised_and_nothing_else() {
        // (stamp, is the older client's layout)
        let cases = [
            ("2025-02-13 13:59:00+00:00", true),
            ("2025-02-13 13:59:00.123456+00:00", true),
            ("2025-02-13T18:59:00+00:00", false), // vrev record
            ("2025-02-13 13:59:00Z", false),
            ("2025-02-13 13:59:00-05:00", false),
            ("2025-02-13 13:59:00", false),
            ("2025-02-13 13:59+00:00", false),
        ];
        for (s, want) in cases {
            assert_eq!(is_python_client_stamp(s), want, "{s}");
        }
    }
}
