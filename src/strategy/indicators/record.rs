//! What the scripts read, recorded for a backtest report (issue 22): every series a profile's
//! script read, how often, and its values where the report draws them — at each trading day's
//! last bar (the whole-run daily chart) and on the bars around trades (the trade chart).
//!
//! The registry keeps only each series' last [`super::SERIES_KEEP`] values and drops a series a
//! whole trading day unread, so the values are taken **as the bars pass**, never read back at
//! the end: a day's last value when the next day's first bar is computed, and the bars of a
//! trade's stretch while it is open (its bars before the signal from the ring, which still
//! holds them). Off unless asked for ([`super::Indicators::record`]): a plain run pays one
//! branch per bar.
//!
//! Memory is bounded by what the report draws, not by the bars: days × series and trade bars ×
//! series, for at most [`MAX_RECORDED`] series with values ([`MAX_NAMES`] counted by name).

use crate::market::time::MarketClock;
use chrono::NaiveDate;
use std::collections::HashMap;

/// Series counted by name; reads of further names are counted together ([`SeriesRecord::uncounted`]).
pub const MAX_NAMES: usize = 4_096;

/// Series whose values are recorded (the first drawable ones a script asked for); further ones
/// are counted but drawn nowhere.
pub const MAX_RECORDED: usize = 64;

/// What a series' values are, which decides where a chart draws it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A price level (VWAP, averages and extremes of prices, session and previous-day values,
    /// time ranges): drawn over the candles.
    Price,
    /// 0–100 (RSI and averages of it): the pane below the price.
    Oscillator,
    /// A width in points (ATR and averages of it): the pane below, on its own axis (over the
    /// candles it would flatten them).
    Points,
    /// Volumes and averages of them: listed, not drawn (the charts have no volume pane).
    Volume,
    /// A bar field (`closes()`): the candles already show it.
    Field,
    /// `bar_at`: a bar index, not a value.
    Index,
}

impl Kind {
    /// Drawn on the charts.
    pub fn drawn(self) -> bool {
        matches!(self, Kind::Price | Kind::Oscillator | Kind::Points)
    }
}

/// One series (by the name a script would write to ask for it) and what was recorded of it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedSeries {
    /// `ema(21)`, `vwap()`, `vwap("09:30")`, `range_high("09:30", "09:45")`, `ema(rsi(14), 5)`.
    pub name: String,
    pub kind: Kind,
    /// Reads (`s[i]`, and each crossing test) per reader ([`SeriesRecord::readers`]).
    pub reads: Vec<u64>,
    /// Values were recorded (false beyond [`MAX_RECORDED`] and for kinds not drawn).
    pub recorded: bool,
    /// The value at each day's last bar ([`SeriesRecord::days`]); NaN where it had none.
    pub day_values: Vec<f32>,
    /// The value at each recorded bar ([`SeriesRecord::times`]); NaN where it had none.
    pub values: Vec<f32>,
}

impl RecordedSeries {
    pub fn total_reads(&self) -> u64 {
        self.reads.iter().sum()
    }
}

/// What one run's scripts read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesRecord {
    /// Who read (profile names, in the order they first read a series).
    pub readers: Vec<String>,
    pub series: Vec<RecordedSeries>,
    /// Reads of series beyond [`MAX_NAMES`] names.
    pub uncounted: u64,
    /// Each trading day and the close time (UTC seconds) of its last bar.
    pub days: Vec<(NaiveDate, i64)>,
    /// Close times (UTC seconds) of the bars recorded around trades, ascending.
    pub times: Vec<i64>,
}

impl SeriesRecord {
    /// The series a chart draws: at most `n` drawn kinds with values, most reads first (ties by
    /// name), never one that was not read.
    pub fn chosen(&self, n: usize) -> Vec<usize> {
        let mut k: Vec<usize> = (0..self.series.len())
            .filter(|&i| {
                let s = &self.series[i];
                s.kind.drawn() && s.recorded && s.total_reads() > 0
            })
            .collect();
        k.sort_by(|&a, &b| {
            let (a, b) = (&self.series[a], &self.series[b]);
            b.total_reads()
                .cmp(&a.total_reads())
                .then_with(|| a.name.cmp(&b.name))
        });
        k.truncate(n);
        k
    }
}

/// The recorder inside the registry.
#[derive(Debug)]
pub(super) struct Recorder {
    clock: MarketClock,
    pub(super) rec: SeriesRecord,
    by_name: HashMap<String, u32>,
    reader: usize,
    /// The trading day of the last bar seen, its index and close time.
    last: Option<(NaiveDate, usize, i64)>,
    /// Bar ranges to record (inclusive), in order.
    windows: Vec<(usize, usize)>,
    /// Newest bar recorded around trades.
    recorded_to: Option<usize>,
}

/// Marks a series with no track.
pub(super) const NO_TRACK: u32 = u32::MAX;

impl Recorder {
    pub(super) fn new(clock: MarketClock) -> Self {
        Recorder {
            clock,
            rec: SeriesRecord::default(),
            by_name: HashMap::new(),
            reader: 0,
            last: None,
            windows: Vec::new(),
            recorded_to: None,
        }
    }

    /// Who reads from now on.
    pub(super) fn set_reader(&mut self, name: &str) {
        self.reader = match self.rec.readers.iter().position(|r| r == name) {
            Some(k) => k,
            None => {
                self.rec.readers.push(name.to_string());
                for s in &mut self.rec.series {
                    s.reads.push(0);
                }
                self.rec.readers.len() - 1
            }
        };
    }

    /// The track of a series by name (made on first sight), or [`NO_TRACK`] past [`MAX_NAMES`].
    pub(super) fn track(&mut self, name: String, kind: Kind) -> u32 {
        if let Some(&k) = self.by_name.get(&name) {
            return k;
        }
        if self.rec.series.len() >= MAX_NAMES {
            return NO_TRACK;
        }
        let recorded =
            kind.drawn() && self.rec.series.iter().filter(|s| s.recorded).count() < MAX_RECORDED;
        let k = self.rec.series.len() as u32;
        self.rec.series.push(RecordedSeries {
            name: name.clone(),
            kind,
            reads: vec![0; self.rec.readers.len().max(1)],
            recorded,
            day_values: Vec::new(),
            values: Vec::new(),
        });
        if self.rec.readers.is_empty() {
            // Reads before any reader was named (a registry used without an engine).
            self.rec.readers.push(String::new());
        }
        self.by_name.insert(name, k);
        k
    }

    pub(super) fn read(&mut self, track: u32) {
        match self.rec.series.get_mut(track as usize) {
            Some(s) => {
                if s.reads.len() <= self.reader {
                    s.reads.resize(self.reader + 1, 0);
                }
                s.reads[self.reader] += 1;
            }
            None => self.rec.uncounted += 1,
        }
    }

    /// Records bars `newest - before ..= newest + after` (a trade's stretch around the bar
    /// `newest`); the ones already computed (up to `done`) are taken from the ring now.
    pub(super) fn want(&mut self, newest: usize, before: usize, after: usize) {
        let (from, until) = (newest.saturating_sub(before), newest + after);
        match self.windows.last_mut() {
            Some(w) if from <= w.1 + 1 => w.1 = w.1.max(until),
            _ => self.windows.push((from, until)),
        }
    }

    /// Bar `i` was just computed for every series: a day's end and a recorded bar are taken
    /// here. `time(j)` is bar `j`'s close; `value(k, j)` the value of entry `k` at bar `j` (NaN
    /// when it has none); `tracks` the (track, entry) of the series alive.
    pub(super) fn after_bar(
        &mut self,
        i: usize,
        time: impl Fn(usize) -> i64,
        tracks: &[(u32, usize)],
        value: impl Fn(usize, usize) -> f64,
    ) {
        let t = time(i);
        let day = self.clock.stamp(t).trading_day;
        if let Some((d, j, tj)) = self.last {
            if d != day {
                // Bars skipped (a restart from the oldest bar in memory) leave no values.
                let alive: &[(u32, usize)] = if j + 1 == i { tracks } else { &[] };
                self.day_end(d, j, tj, alive, &value);
            }
        }
        self.last = Some((day, i, t));
        // A wanted bar before `i` not recorded yet was never computed (skipped by a restart).
        self.record_upto(i, i, time, tracks, value);
    }

    /// Records the wanted bars from `from` to `to` not recorded yet (wanted bars before `from`
    /// are given up: they have no values).
    pub(super) fn record_upto(
        &mut self,
        from: usize,
        to: usize,
        time: impl Fn(usize) -> i64,
        tracks: &[(u32, usize)],
        value: impl Fn(usize, usize) -> f64,
    ) {
        while let Some(&(a, b)) = self.windows.first() {
            let start = a.max(from).max(self.recorded_to.map_or(0, |r| r + 1));
            for j in start..=b.min(to) {
                self.rec.times.push(time(j));
                let n = self.rec.times.len();
                for &(track, k) in tracks {
                    if let Some(s) = self.rec.series.get_mut(track as usize) {
                        if s.recorded {
                            s.values.resize(n - 1, f32::NAN);
                            s.values.push(value(k, j) as f32);
                        }
                    }
                }
                self.recorded_to = Some(j);
            }
            if b <= to {
                self.windows.remove(0);
            } else {
                break;
            }
        }
    }

    fn day_end(
        &mut self,
        day: NaiveDate,
        j: usize,
        time: i64,
        tracks: &[(u32, usize)],
        value: &impl Fn(usize, usize) -> f64,
    ) {
        self.rec.days.push((day, time));
        let n = self.rec.days.len();
        for &(track, k) in tracks {
            if let Some(s) = self.rec.series.get_mut(track as usize) {
                if s.recorded {
                    s.day_values.resize(n - 1, f32::NAN);
                    s.day_values.push(value(k, j) as f32);
                }
            }
        }
    }

    /// The record at the end of the run: the last day's end taken, every value list as long
    /// as its axis.
    pub(super) fn finish(
        mut self,
        tracks: &[(u32, usize)],
        value: impl Fn(usize, usize) -> f64,
    ) -> SeriesRecord {
        if let Some((d, j, t)) = self.last.take() {
            self.day_end(d, j, t, tracks, &value);
        }
        let (days, times) = (self.rec.days.len(), self.rec.times.len());
        for s in &mut self.rec.series {
            if s.recorded {
                s.day_values.resize(days, f32::NAN);
                s.values.resize(times, f32::NAN);
            }
            s.reads.resize(self.rec.readers.len(), 0);
        }
        self.rec
    }
}

#[cfg(test)]
mod tests {
    use super::super::day::{position, DayValue};
    use super::super::{Field, Indicators, Spec};
    use super::*;
    use crate::market::bar::{Bar, BarSeries};

    /// `n` bars `minutes` apart from 2025-02-13 14:00 UTC (09:00 ET), closes 100, 101, ...
    fn bars(n: usize, minutes: i64, capacity: usize) -> BarSeries {
        let mut s = BarSeries::with_capacity(capacity);
        for i in 0..n {
            let c = 100.0 + i as f64;
            s.push(&Bar {
                close_time: 1_739_455_200 + 60 * minutes * (i as i64 + 1),
                open: c,
                high: c + 1.0,
                low: c - 1.0,
                close: c,
                volume: 10.0,
            });
        }
        s
    }

    #[test]
    fn the_series_drawn_are_the_8_read_most_often_price_over_the_candles_rsi_and_atr_below() {
        let series = bars(60, 1, 256);
        let last = series.len() as i64 - 1;
        let mut ind = Indicators::new(series.capacity(), 18 * 60);
        ind.record();
        ind.set_reader("probe");
        let close = ind.get(Spec::Field(Field::Close), &series);
        let high = ind.get(Spec::Field(Field::High), &series);
        let volume = ind.get(Spec::Field(Field::Volume), &series);
        let rsi = ind.get(Spec::Rsi(close, 14), &series);
        let at = |hhmm: u32| position(hhmm, 18 * 60);
        // (series, reads, name, kind)
        let cases = [
            (
                Spec::Sma(volume, 20),
                100,
                "sma(volumes(), 20)",
                Kind::Volume,
            ),
            (Spec::Ema(close, 9), 50, "ema(9)", Kind::Price),
            (Spec::Day(DayValue::Vwap), 45, "vwap()", Kind::Price),
            (Spec::Rsi(close, 14), 40, "rsi(14)", Kind::Oscillator),
            (Spec::Atr(14), 30, "atr(14)", Kind::Points),
            (
                Spec::AnchoredVwap(at(570)),
                25,
                "vwap(\"09:30\")",
                Kind::Price,
            ),
            (Spec::Highest(high, 20), 20, "highest(20)", Kind::Price),
            (Spec::Ema(rsi, 5), 15, "ema(rsi(14), 5)", Kind::Oscillator),
            (
                Spec::RangeHigh(at(570), at(585)),
                10,
                "range_high(\"09:30\", \"09:45\")",
                Kind::Price,
            ),
            (
                Spec::Day(DayValue::PrevDayClose),
                5,
                "prev_day_close()",
                Kind::Price,
            ),
            (
                Spec::BarAt(at(570)),
                200,
                "bar_at(t, \"09:30\")",
                Kind::Index,
            ),
        ];
        for (spec, reads, _, _) in cases {
            let id = ind.get(spec, &series);
            for _ in 0..reads {
                ind.value(id, last, &series).unwrap();
            }
        }
        let rec = ind.finish_record(&series).unwrap();
        assert_eq!(rec.readers, vec!["probe".to_string()]);
        for (_, reads, name, kind) in cases {
            let s = rec
                .series
                .iter()
                .find(|s| s.name == name)
                .unwrap_or_else(|| {
                    panic!(
                        "{name} not recorded: {:?}",
                        rec.series.iter().map(|s| &s.name).collect::<Vec<_>>()
                    )
                });
            assert_eq!((s.kind, s.total_reads()), (kind, reads), "{name}");
        }
        let chosen: Vec<&str> = rec
            .chosen(8)
            .into_iter()
            .map(|k| rec.series[k].name.as_str())
            .collect();
        // The most read (a volume average, a bar index) are not drawn; prev_day_close() is the
        // ninth drawable one; closes() (a source, never read) neither.
        assert_eq!(
            chosen,
            [
                "ema(9)",
                "vwap()",
                "rsi(14)",
                "atr(14)",
                "vwap(\"09:30\")",
                "highest(20)",
                "ema(rsi(14), 5)",
                "range_high(\"09:30\", \"09:45\")"
            ]
        );
        // Ties by name.
        let mut tied = rec.clone();
        for s in &mut tied.series {
            s.reads = vec![7];
        }
        let names: Vec<&str> = tied
            .chosen(3)
            .into_iter()
            .map(|k| tied.series[k].name.as_str())
            .collect();
        assert_eq!(names, ["atr(14)", "ema(9)", "ema(rsi(14), 5)"]);
    }

    #[test]
    fn values_are_recorded_as_the_bars_pass_at_each_days_last_bar_and_around_trades() {
        // Hourly bars over 4 trading days (18:00 ET roll) and a ring of 8 values: by the end
        // the ring no longer holds the early values, the record does.
        let all = bars(90, 60, 256);
        let mut series = BarSeries::with_capacity(8);
        let mut ind = Indicators::new(8, 18 * 60);
        ind.record();
        let mut sma = None;
        for i in 0..all.len() {
            series.push(&all.bar(i));
            let id = *sma.get_or_insert_with(|| {
                let close = ind.get(Spec::Field(Field::Close), &series);
                ind.get(Spec::Sma(close, 3), &series)
            });
            ind.value(id, i as i64, &series).unwrap();
            if i == 20 || i == 22 {
                ind.record_around(&series, 2, 1);
            }
        }
        let rec = ind.finish_record(&series).unwrap();
        let s = &rec.series.iter().find(|s| s.name == "sma(3)").unwrap();
        // sma(3) of closes 100 + i at bar i is 99 + i from bar 2 on.
        let want = |i: usize| if i >= 2 { 99.0 + i as f32 } else { f32::NAN };
        let recorded: Vec<usize> = (18..=23).collect();
        assert_eq!(
            rec.times,
            recorded
                .iter()
                .map(|&i| all.close_time(i))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            s.values,
            recorded.iter().map(|&i| want(i)).collect::<Vec<_>>()
        );
        // Each trading day's last bar (the day rolls at 18:00 ET, 23:00 UTC in February).
        let clock = MarketClock::exchange();
        let last_of_day: Vec<usize> = (0..all.len())
            .filter(|&i| {
                i + 1 == all.len()
                    || clock.stamp(all.close_time(i)).trading_day
                        != clock.stamp(all.close_time(i + 1)).trading_day
            })
            .collect();
        assert_eq!(last_of_day.len(), 3, "{last_of_day:?}");
        assert_eq!(
            rec.days,
            last_of_day
                .iter()
                .map(|&i| (
                    clock.stamp(all.close_time(i)).trading_day,
                    all.close_time(i)
                ))
                .collect::<Vec<_>>()
        );
        let got: Vec<f32> = s.day_values.clone();
        assert_eq!(
            got,
            last_of_day.iter().map(|&i| want(i)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_trade_on_bars_no_longer_in_memory_when_first_computed_is_given_up_not_a_panic() {
        // No script read a series during the run (a native strategy beside a script): the
        // registry computes nothing until the end, when the early bars are out of memory.
        let all = bars(200, 1, 256);
        let mut series = BarSeries::with_capacity(64);
        let mut ind = Indicators::new(64, 18 * 60);
        ind.record();
        for i in 0..all.len() {
            series.push(&all.bar(i));
            if i == 10 || i == 190 {
                ind.record_around(&series, 2, 1);
            }
        }
        let close = ind.get(Spec::Field(Field::Close), &series);
        ind.get(Spec::Sma(close, 3), &series);
        let rec = ind.finish_record(&series).unwrap();
        // Bars 188..=191: in memory, recorded; 8..=11 are not.
        assert_eq!(
            rec.times,
            (188..=191).map(|i| all.close_time(i)).collect::<Vec<_>>()
        );
    }
}
