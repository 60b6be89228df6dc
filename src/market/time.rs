//! Exchange time (DESIGN §4): UTC inside, America/New_York wall clock via chrono-tz, the CME
//! trading day that rolls at 18:00 ET, and half-open session windows evaluated on the bar close.

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
    Weekday,
};
use chrono_tz::Tz;
use std::cell::Cell;

/// The exchange zone used for windows, trading days and signal IDs.
pub const EXCHANGE_TZ: Tz = chrono_tz::America::New_York;

/// A bar close expressed in exchange wall-clock time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EtStamp {
    /// ET calendar date of the close.
    pub date: NaiveDate,
    /// Minutes after ET midnight (0..1440).
    pub minute_of_day: u32,
    /// Seconds within the minute.
    pub second: u32,
    pub weekday: Weekday,
    /// CME trading day the bar belongs to.
    pub trading_day: NaiveDate,
    /// The weekday of the trading day before a Saturday or Sunday is rolled to Monday (Friday
    /// 18:05 → Saturday): what decides whether a window that wraps past midnight trades.
    pub session_weekday: Weekday,
}

impl EtStamp {
    pub fn is_weekday(&self) -> bool {
        !matches!(self.weekday, Weekday::Sat | Weekday::Sun)
    }
    /// `yyyy-MM-dd HH:mm:ss`
    pub fn format(&self) -> String {
        format!(
            "{} {:02}:{:02}:{:02}",
            self.date.format("%Y-%m-%d"),
            self.minute_of_day / 60,
            self.minute_of_day % 60,
            self.second
        )
    }
    /// `YYYYMMDD_HHMMSS`, the time part of a signal ID.
    pub fn id_stamp(&self) -> String {
        format!(
            "{}_{:02}{:02}{:02}",
            self.date.format("%Y%m%d"),
            self.minute_of_day / 60,
            self.minute_of_day % 60,
            self.second
        )
    }
}

/// Converts UTC instants to exchange time. Caches the zone offset per UTC quarter hour: every
/// tzdb transition of America/New_York (and of every modern zone) falls on a quarter hour, so the
/// cache is exact while avoiding a zone lookup per bar.
#[derive(Debug)]
pub struct MarketClock {
    tz: Tz,
    /// Minutes after ET midnight at which the trading day rolls (18:00 = 1080).
    day_start_minute: u32,
    cache: Cell<(i64, i32)>,
}

const QUARTER_HOUR: i64 = 900;

impl MarketClock {
    pub fn new(tz: Tz, trading_day_start: NaiveTime) -> Self {
        MarketClock {
            tz,
            day_start_minute: trading_day_start.hour() * 60 + trading_day_start.minute(),
            cache: Cell::new((i64::MIN, 0)),
        }
    }

    /// The exchange clock whose trading day rolls `day_start_minute` minutes after ET midnight.
    pub fn exchange_rolling_at(day_start_minute: u32) -> Self {
        let roll = NaiveTime::from_hms_opt(day_start_minute / 60, day_start_minute % 60, 0)
            .unwrap_or_default();
        Self::new(EXCHANGE_TZ, roll)
    }

    /// The exchange clock with the CME 18:00 roll.
    pub fn exchange() -> Self {
        Self::new(
            EXCHANGE_TZ,
            NaiveTime::from_hms_opt(18, 0, 0).expect("valid time"),
        )
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// Offset from UTC in seconds at the instant `utc`.
    pub fn offset_seconds(&self, utc: i64) -> i32 {
        let block = utc.div_euclid(QUARTER_HOUR);
        let (cached_block, offset) = self.cache.get();
        if cached_block == block {
            return offset;
        }
        let dt = DateTime::<Utc>::from_timestamp(block * QUARTER_HOUR, 0).unwrap_or_default();
        let offset = {
            use chrono::Offset;
            self.tz
                .offset_from_utc_datetime(&dt.naive_utc())
                .fix()
                .local_minus_utc()
        };
        self.cache.set((block, offset));
        offset
    }

    /// The wall-clock stamp of the instant `utc` (seconds since the epoch).
    pub fn stamp(&self, utc: i64) -> EtStamp {
        let local = utc + self.offset_seconds(utc) as i64;
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400) as u32;
        // 719_163 = days from 0001-01-01 (CE day 1) to 1970-01-01.
        let date =
            NaiveDate::from_num_days_from_ce_opt((days + 719_163) as i32).unwrap_or_default();
        let minute_of_day = secs / 60;
        EtStamp {
            date,
            minute_of_day,
            second: secs % 60,
            weekday: date.weekday(),
            trading_day: self.trading_day_of(date, minute_of_day),
            session_weekday: if minute_of_day >= self.day_start_minute {
                date.weekday().succ()
            } else {
                date.weekday()
            },
        }
    }

    /// The CME trading day of a close at `minute_of_day` on ET `date`: the same date before the
    /// roll, the next date at or after it; Saturday and Sunday roll forward to Monday.
    pub fn trading_day_of(&self, date: NaiveDate, minute_of_day: u32) -> NaiveDate {
        let mut day = if minute_of_day >= self.day_start_minute {
            date.succ_opt().unwrap_or(date)
        } else {
            date
        };
        while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            day = day.succ_opt().unwrap_or(day);
        }
        day
    }

    /// Reads a naive wall-clock time in this clock's zone. A time in the spring-forward gap does
    /// not exist (error). A time in the fall-back hour is ambiguous: the earlier offset is taken,
    /// unless it would not come after `previous_utc` (the last bar accepted), in which case the
    /// later one is (so the repeated hour of a time-ordered file reads in order).
    pub fn local_to_utc(
        &self,
        naive: NaiveDateTime,
        previous_utc: Option<i64>,
    ) -> Result<i64, String> {
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => Ok(t.timestamp()),
            LocalResult::Ambiguous(early, late) => {
                let e = early.timestamp();
                match previous_utc {
                    Some(prev) if e <= prev => Ok(late.timestamp()),
                    _ => Ok(e),
                }
            }
            LocalResult::None => Err(format!(
                "{naive} does not exist in {} (clocks jump forward then)",
                self.tz
            )),
        }
    }
}

/// A session window in ET wall-clock minutes: contains a bar when `start <= close < end`, on a
/// Monday–Friday (ET calendar day of the close). A window whose end is before its start wraps
/// past midnight (`18:00`–`02:00`): it contains a close at or after the start or before the end,
/// and belongs to the trading day (`docs/protocol.md` §1c): Sunday 18:00 to Monday 02:00 is
/// Monday's session; Friday 18:00 onward is Saturday's, never traded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionWindow {
    pub start_minute: u32,
    pub end_minute: u32,
}

impl SessionWindow {
    pub fn contains(&self, stamp: &EtStamp) -> bool {
        let m = stamp.minute_of_day;
        if self.wraps() {
            (m >= self.start_minute || m < self.end_minute)
                && !matches!(stamp.session_weekday, Weekday::Sat | Weekday::Sun)
        } else {
            stamp.is_weekday() && self.start_minute <= m && m < self.end_minute
        }
    }

    /// The end is before the start: the window runs past midnight.
    pub fn wraps(&self) -> bool {
        self.end_minute < self.start_minute
    }

    /// The window's minutes of the day as one or two half-open ranges.
    fn ranges(&self) -> Vec<(u32, u32)> {
        if self.wraps() {
            vec![(self.start_minute, 1440), (0, self.end_minute)]
        } else {
            vec![(self.start_minute, self.end_minute)]
        }
    }

    /// Whether two windows share a minute of the day.
    pub fn overlaps(&self, other: &SessionWindow) -> bool {
        self.ranges()
            .iter()
            .any(|a| other.ranges().iter().any(|b| a.0 < b.1 && b.0 < a.1))
    }
}

/// Parses `HH:MM` (24 h).
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// UTC seconds to RFC 3339 with `Z` and whole seconds, e.g. `2025-02-13T18:59:00Z`.
pub fn format_utc(utc: i64) -> String {
    DateTime::<Utc>::from_timestamp(utc, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| format!("@{utc}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }
    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn et_stamps_follow_dst_on_both_2025_sundays() {
        let c = MarketClock::exchange();
        // Winter: 13:59 EST = 18:59 UTC.
        let s = c.stamp(utc("2025-02-13T18:59:00Z"));
        assert_eq!((s.date, s.minute_of_day), (d("2025-02-13"), 13 * 60 + 59));
        assert_eq!(s.id_stamp(), "20250213_135900");
        // Day after spring forward (2025-03-09): 13:59 EDT = 17:59 UTC.
        assert_eq!(
            c.stamp(utc("2025-03-10T17:59:00Z")).minute_of_day,
            13 * 60 + 59
        );
        // Around the jump itself: 06:59 UTC = 01:59 EST, 07:00 UTC = 03:00 EDT.
        assert_eq!(c.stamp(utc("2025-03-09T06:59:00Z")).minute_of_day, 60 + 59);
        assert_eq!(c.stamp(utc("2025-03-09T07:00:00Z")).minute_of_day, 3 * 60);
        // Fall back 2025-11-02: 05:59 UTC = 01:59 EDT, 06:00 UTC = 01:00 EST.
        assert_eq!(c.stamp(utc("2025-11-02T05:59:00Z")).minute_of_day, 60 + 59);
        assert_eq!(c.stamp(utc("2025-11-02T06:00:00Z")).minute_of_day, 60);
        assert_eq!(
            c.stamp(utc("2025-11-03T18:59:00Z")).minute_of_day,
            13 * 60 + 59
        );
    }

    #[test]
    fn trading_day_rolls_at_1800_et_and_skips_the_weekend() {
        let c = MarketClock::exchange();
        // Monday 17:59 ET belongs to Monday, Monday 18:05 ET to Tuesday.
        assert_eq!(
            c.stamp(utc("2025-07-14T21:59:00Z")).trading_day,
            d("2025-07-14")
        );
        assert_eq!(
            c.stamp(utc("2025-07-14T22:00:00Z")).trading_day,
            d("2025-07-15")
        );
        assert_eq!(
            c.stamp(utc("2025-07-14T22:05:00Z")).trading_day,
            d("2025-07-15")
        );
        // Friday 18:00 rolls to Monday; Sunday evening belongs to Monday.
        assert_eq!(
            c.stamp(utc("2025-07-18T22:00:00Z")).trading_day,
            d("2025-07-21")
        );
        assert_eq!(
            c.stamp(utc("2025-07-20T22:01:00Z")).trading_day,
            d("2025-07-21")
        );
    }

    #[test]
    fn naive_times_in_the_gap_fail_and_the_repeated_hour_reads_in_order() {
        let c = MarketClock::exchange();
        let n = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        assert!(c.local_to_utc(n("2025-03-09 02:30:00"), None).is_err());
        let first = c.local_to_utc(n("2025-11-02 01:30:00"), None).unwrap();
        assert_eq!(first, utc("2025-11-02T05:30:00Z"));
        // The same wall time again after 01:59 EDT was accepted: the EST one.
        let again = c
            .local_to_utc(n("2025-11-02 01:30:00"), Some(utc("2025-11-02T05:59:00Z")))
            .unwrap();
        assert_eq!(again, utc("2025-11-02T06:30:00Z"));
    }

    #[test]
    fn windows_are_half_open_and_weekdays_only() {
        let c = MarketClock::exchange();
        let w = SessionWindow {
            start_minute: 9 * 60,
            end_minute: 11 * 60,
        };
        assert!(w.contains(&c.stamp(utc("2025-07-14T13:00:00Z")))); // 09:00 EDT
        assert!(w.contains(&c.stamp(utc("2025-07-14T14:59:00Z")))); // 10:59
        assert!(!w.contains(&c.stamp(utc("2025-07-14T15:00:00Z")))); // 11:00
        assert!(!w.contains(&c.stamp(utc("2025-07-12T13:30:00Z")))); // Saturday
    }

    /// A window across midnight belongs to the trading day: Sunday evening opens Monday's
    /// session, Friday evening (Saturday's) is never traded, Monday 01:00 is in, 02:00 is out.
    #[test]
    fn a_window_across_midnight_belongs_to_the_trading_day() {
        let c = MarketClock::exchange();
        let w = SessionWindow {
            start_minute: 18 * 60,
            end_minute: 2 * 60,
        };
        assert!(w.wraps());
        // 2025-07-13 is a Sunday (EDT, UTC−4).
        assert!(w.contains(&c.stamp(utc("2025-07-13T22:01:00Z")))); // Sun 18:01
        assert!(w.contains(&c.stamp(utc("2025-07-14T05:59:00Z")))); // Mon 01:59
        assert!(!w.contains(&c.stamp(utc("2025-07-14T06:00:00Z")))); // Mon 02:00
        assert!(!w.contains(&c.stamp(utc("2025-07-14T21:59:00Z")))); // Mon 17:59
        assert!(w.contains(&c.stamp(utc("2025-07-17T22:30:00Z")))); // Thu 18:30
        assert!(w.contains(&c.stamp(utc("2025-07-18T05:00:00Z")))); // Fri 01:00
        assert!(!w.contains(&c.stamp(utc("2025-07-18T22:30:00Z")))); // Fri 18:30
        assert!(!w.contains(&c.stamp(utc("2025-07-19T05:00:00Z")))); // Sat 01:00
        let day = SessionWindow {
            start_minute: 9 * 60,
            end_minute: 11 * 60,
        };
        let late = SessionWindow {
            start_minute: 23 * 60,
            end_minute: 9 * 60 + 30,
        };
        assert!(w.overlaps(&late) && late.overlaps(&day) && !w.overlaps(&day));
    }

    #[test]
    fn hhmm_parsing() {
        assert_eq!(parse_hhmm("13:30"), Some(810));
        assert_eq!(parse_hhmm("24:00"), None);
        assert_eq!(parse_hhmm("9:30"), None);
        assert_eq!(
            format_utc(utc("2025-02-13T18:59:00Z")),
            "2025-02-13T18:59:00Z"
        );
    }
}
