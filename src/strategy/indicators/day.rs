//! Values of the CME trading day (which starts at `engine.trading_day_start`, 18:00 ET): the
//! session's open, high and low so far, the previous trading day's high, low and close, the
//! session VWAP, the high and low of an ET time range today (an opening range), and the bar of
//! today at an ET time.
//!
//! Definitions:
//! - `session_open/high/low` at a bar: the first open, highest high and lowest low of the bars
//!   of its trading day up to and including it.
//! - `prev_day_high/low/close`: the high, low and last close of the latest earlier trading day
//!   that had bars (a holiday or weekend is skipped). NaN before the first complete day.
//! - `vwap`: the sum of `(high + low + close) / 3 * volume` over the trading day's bars so far,
//!   divided by their volume (Pine Script's `ta.vwap` with a daily anchor). NaN while the day's
//!   volume is 0.
//! - `vwap("HH:MM")`: the VWAP anchored at an ET time, the same sum over the bars of the trading
//!   day that **cover** minutes after the anchor (closing after it: `vwap("09:30")` starts with
//!   the bar closing 09:31), to the end of the trading day (18:00). NaN before the anchor and
//!   while that volume is 0. `vwap("09:30")` is the regular-hours VWAP.
//! - `range_high/low(start, end)`: the high/low of today's bars that **cover** the minutes
//!   between `start` and `end` ET (bars stamped with their close: a bar closing at `c` covers
//!   `c - 1 min .. c`, so 09:30–09:45 is the bars closing 09:31 to 09:45 inclusive; note this
//!   differs from windows, which contain a bar when `start <= close < end`). NaN until the range
//!   is complete (the bar closing at `end`, or the first bar after it), then fixed for the rest
//!   of the trading day; NaN all day if no bar fell in the range.
//! - `highest_since("HH:MM")` / `lowest_since("HH:MM")`: the highest high / lowest low of the
//!   trading day's bars that **cover** minutes after the anchor (closing after it, as
//!   `vwap("HH:MM")`), up to and including the bar, to the end of the trading day. NaN before the
//!   anchor. One series whatever the bar, where `highest(t - bar_at(t, "09:31") + 1)` asks for a
//!   new length on every bar.
//! - `bar_at(HH:MM)`: the index of the last bar of today that closes at or before `HH:MM` ET
//!   (in trading-day order: 18:00 comes first). NaN before such a bar exists today.
//!
//! Gaps: values are per trading day, not per clock minute: missing minutes are simply absent,
//! and a new trading day starts with its first bar whatever the gap before it.

/// Where a bar falls: its trading day (days since 0001-01-01) and its close's position in that
/// day, in minutes after the day's start (0 = a close exactly at the start, e.g. 18:00).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayPlace {
    pub day: i32,
    pub minute: u32,
}

/// Minutes after the trading day's start of an ET wall time (minutes after midnight).
pub fn position(minute_of_day: u32, day_start_minute: u32) -> u32 {
    (minute_of_day + 1440 - day_start_minute) % 1440
}

/// What a [`Day`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DayValue {
    SessionOpen,
    SessionHigh,
    SessionLow,
    PrevDayHigh,
    PrevDayLow,
    PrevDayClose,
    Vwap,
}

/// The running values of the current trading day and the last complete one.
#[derive(Clone, Debug)]
pub struct Day {
    what: DayValue,
    day: Option<i32>,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    pv: f64,
    volume: f64,
    prev: (f64, f64, f64),
}

impl Day {
    pub fn new(what: DayValue) -> Self {
        Day {
            what,
            day: None,
            open: f64::NAN,
            high: f64::NAN,
            low: f64::NAN,
            close: f64::NAN,
            pv: 0.0,
            volume: 0.0,
            prev: (f64::NAN, f64::NAN, f64::NAN),
        }
    }

    pub fn next(&mut self, at: DayPlace, bar: &crate::market::bar::Bar) -> f64 {
        if self.day != Some(at.day) {
            if self.day.is_some() {
                self.prev = (self.high, self.low, self.close);
            }
            self.day = Some(at.day);
            (self.open, self.high, self.low) = (bar.open, bar.high, bar.low);
            (self.pv, self.volume) = (0.0, 0.0);
        }
        self.high = self.high.max(bar.high);
        self.low = self.low.min(bar.low);
        self.close = bar.close;
        self.pv += (bar.high + bar.low + bar.close) / 3.0 * bar.volume;
        self.volume += bar.volume;
        match self.what {
            DayValue::SessionOpen => self.open,
            DayValue::SessionHigh => self.high,
            DayValue::SessionLow => self.low,
            DayValue::PrevDayHigh => self.prev.0,
            DayValue::PrevDayLow => self.prev.1,
            DayValue::PrevDayClose => self.prev.2,
            DayValue::Vwap if self.volume > 0.0 => self.pv / self.volume,
            DayValue::Vwap => f64::NAN,
        }
    }
}

/// The VWAP of each trading day from an anchor position on (see the module's definitions).
#[derive(Clone, Debug)]
pub struct AnchoredVwap {
    /// Position in the trading day (see [`position`]): bars closing after it count.
    anchor: u32,
    day: Option<i32>,
    pv: f64,
    volume: f64,
}

impl AnchoredVwap {
    pub fn new(anchor: u32) -> Self {
        AnchoredVwap {
            anchor,
            day: None,
            pv: 0.0,
            volume: 0.0,
        }
    }

    pub fn next(&mut self, at: DayPlace, bar: &crate::market::bar::Bar) -> f64 {
        if self.day != Some(at.day) {
            self.day = Some(at.day);
            (self.pv, self.volume) = (0.0, 0.0);
        }
        if at.minute <= self.anchor {
            return f64::NAN;
        }
        self.pv += (bar.high + bar.low + bar.close) / 3.0 * bar.volume;
        self.volume += bar.volume;
        if self.volume > 0.0 {
            self.pv / self.volume
        } else {
            f64::NAN
        }
    }
}

/// The highest high or lowest low of each trading day since an anchor position.
#[derive(Clone, Debug)]
pub struct Since {
    /// Position in the trading day (see [`position`]): bars closing after it count.
    anchor: u32,
    high: bool,
    day: Option<i32>,
    value: f64,
}

impl Since {
    pub fn new(anchor: u32, high: bool) -> Self {
        Since {
            anchor,
            high,
            day: None,
            value: f64::NAN,
        }
    }

    pub fn next(&mut self, at: DayPlace, bar: &crate::market::bar::Bar) -> f64 {
        if self.day != Some(at.day) {
            self.day = Some(at.day);
            self.value = f64::NAN;
        }
        if at.minute <= self.anchor {
            return f64::NAN;
        }
        let x = if self.high { bar.high } else { bar.low };
        self.value = match (self.value.is_nan(), self.high) {
            (true, _) => x,
            (false, true) => self.value.max(x),
            (false, false) => self.value.min(x),
        };
        self.value
    }
}

/// The high or low of an ET time range of each trading day.
#[derive(Clone, Debug)]
pub struct Range {
    /// Positions in the trading day (see [`position`]): covered when `start < close <= end`.
    start: u32,
    end: u32,
    high: bool,
    day: Option<i32>,
    value: f64,
    complete: bool,
}

impl Range {
    /// `start`/`end` are positions in the trading day; `start < end` (checked by the caller).
    pub fn new(start: u32, end: u32, high: bool) -> Self {
        Range {
            start,
            end,
            high,
            day: None,
            value: f64::NAN,
            complete: false,
        }
    }

    pub fn next(&mut self, at: DayPlace, bar: &crate::market::bar::Bar) -> f64 {
        if self.day != Some(at.day) {
            self.day = Some(at.day);
            self.value = f64::NAN;
            self.complete = false;
        }
        if !self.complete && at.minute > self.start && at.minute <= self.end {
            let x = if self.high { bar.high } else { bar.low };
            self.value = if self.value.is_nan() {
                x
            } else if self.high {
                self.value.max(x)
            } else {
                self.value.min(x)
            };
        }
        if at.minute >= self.end {
            self.complete = true;
        }
        if self.complete {
            self.value
        } else {
            f64::NAN
        }
    }
}

/// The index of today's last bar closing at or before a time.
#[derive(Clone, Debug)]
pub struct BarAt {
    at: u32,
    day: Option<i32>,
    index: f64,
}

impl BarAt {
    pub fn new(at: u32) -> Self {
        BarAt {
            at,
            day: None,
            index: f64::NAN,
        }
    }

    pub fn next(&mut self, place: DayPlace, index: usize) -> f64 {
        if self.day != Some(place.day) {
            self.day = Some(place.day);
            self.index = f64::NAN;
        }
        if place.minute <= self.at {
            self.index = index as f64;
        }
        self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::bar::Bar;

    fn bar(o: f64, h: f64, l: f64, c: f64, v: f64) -> Bar {
        Bar {
            close_time: 0,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: v,
        }
    }

    #[test]
    fn positions_count_from_the_day_start() {
        // (ET minute of day, day start, position)
        for (m, start, want) in [
            (1080, 1080, 0),
            (1081, 1080, 1),
            (0, 1080, 360),
            (1079, 1080, 1439),
            (570, 1080, 930),
        ] {
            assert_eq!(position(m, start), want, "{m}");
        }
    }

    #[test]
    fn session_values_roll_with_the_trading_day() {
        let d1 = |m| DayPlace { day: 1, minute: m };
        let d2 = |m| DayPlace { day: 2, minute: m };
        let mut hi = Day::new(DayValue::SessionHigh);
        let mut pc = Day::new(DayValue::PrevDayClose);
        let mut vw = Day::new(DayValue::Vwap);
        let b1 = bar(10.0, 12.0, 9.0, 11.0, 1.0); // typical 32/3
        let b2 = bar(11.0, 14.0, 11.0, 13.0, 3.0); // typical 38/3
        let b3 = bar(20.0, 21.0, 19.0, 20.0, 0.0);
        assert_eq!(hi.next(d1(1), &b1), 12.0);
        assert_eq!(hi.next(d1(2), &b2), 14.0);
        assert_eq!(hi.next(d2(1), &b3), 21.0, "a new day starts afresh");
        assert!(pc.next(d1(1), &b1).is_nan());
        pc.next(d1(2), &b2);
        assert_eq!(pc.next(d2(1), &b3), 13.0);
        assert!((vw.next(d1(1), &b1) - 32.0 / 3.0).abs() < 1e-12);
        assert!((vw.next(d1(2), &b2) - (32.0 / 3.0 + 38.0) / 4.0).abs() < 1e-12);
        assert!(vw.next(d2(1), &b3).is_nan(), "no volume yet today");
    }

    #[test]
    fn a_range_is_known_once_complete_and_covers_its_minutes() {
        // Range positions 10 < close <= 12.
        let mut r = Range::new(10, 12, true);
        let at = |m| DayPlace { day: 1, minute: m };
        let b = |h: f64| bar(h - 1.0, h, h - 2.0, h - 1.0, 1.0);
        assert!(
            r.next(at(10), &b(100.0)).is_nan(),
            "closes at start: before the range"
        );
        assert!(
            r.next(at(11), &b(5.0)).is_nan(),
            "in the range, not complete"
        );
        assert_eq!(r.next(at(12), &b(6.0)), 6.0, "complete at its end");
        assert_eq!(r.next(at(13), &b(50.0)), 6.0, "fixed after");
        // A day whose range bars are missing: complete at the first bar after, still NaN.
        let mut r = Range::new(10, 12, false);
        assert!(r.next(at(9), &b(5.0)).is_nan());
        assert!(r.next(at(14), &b(5.0)).is_nan());
    }

    #[test]
    fn bar_at_is_the_last_bar_at_or_before_the_time() {
        let mut x = BarAt::new(12);
        let at = |d, m| DayPlace { day: d, minute: m };
        assert_eq!(x.next(at(1, 11), 7), 7.0);
        assert_eq!(x.next(at(1, 13), 8), 7.0);
        assert!(x.next(at(2, 13), 9).is_nan(), "none yet on the new day");
    }
}
