//! Series functions computed by the host (issue 11): moving averages, RSI, ATR, highest/lowest,
//! session values, VWAP, opening ranges. A script asks for a series by what it is
//! (`ema(21)`, `range_high("09:30", "09:45")`); the [`Indicators`] registry computes each
//! distinct series once, incrementally, over **every** bar (also the bars on which no script was
//! called), and keeps its values as long as the bar history keeps bars. Asking for a value is
//! O(1).
//!
//! Warm-up: a series is computed from the oldest bar in memory when it is first asked for (in a
//! backtest: from the start of the data; live: from the history the feed sent). Each module
//! documents its definition; `docs/indicators.md` has them all for traders.

pub mod day;
pub mod extremes;
pub mod moving;
pub mod oscillators;

use crate::market::bar::BarSeries;
use crate::market::time::MarketClock;
use day::{BarAt, Day, DayPlace, DayValue, Range};
use extremes::Extreme;
use moving::{Ema, Sma};
use oscillators::{Atr, Rsi};
use std::collections::HashMap;

/// A bar field, the simplest series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Open,
    High,
    Low,
    Close,
    Volume,
}

/// A registered series (an index into its registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeriesId(pub u32);

/// What a series is. Two requests with equal specs share one series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Spec {
    Field(Field),
    Sma(SeriesId, u32),
    Ema(SeriesId, u32),
    Rsi(SeriesId, u32),
    Highest(SeriesId, u32),
    Lowest(SeriesId, u32),
    Atr(u32),
    Day(DayValue),
    /// Positions in the trading day (see [`day::position`]).
    RangeHigh(u32, u32),
    RangeLow(u32, u32),
    BarAt(u32),
}

impl Spec {
    fn source(&self) -> Option<SeriesId> {
        match *self {
            Spec::Sma(s, _)
            | Spec::Ema(s, _)
            | Spec::Rsi(s, _)
            | Spec::Highest(s, _)
            | Spec::Lowest(s, _) => Some(s),
            _ => None,
        }
    }

    fn needs_clock(&self) -> bool {
        matches!(
            self,
            Spec::Day(_) | Spec::RangeHigh(..) | Spec::RangeLow(..) | Spec::BarAt(_)
        )
    }

    fn calc(&self) -> Calc {
        match *self {
            Spec::Field(f) => Calc::Field(f),
            Spec::Sma(_, n) => Calc::Sma(Sma::new(n as usize)),
            Spec::Ema(_, n) => Calc::Ema(moving::ema(n as usize)),
            Spec::Rsi(_, n) => Calc::Rsi(Rsi::new(n as usize)),
            Spec::Highest(_, n) => Calc::Extreme(Extreme::highest(n as usize)),
            Spec::Lowest(_, n) => Calc::Extreme(Extreme::lowest(n as usize)),
            Spec::Atr(n) => Calc::Atr(Atr::new(n as usize)),
            Spec::Day(v) => Calc::Day(Day::new(v)),
            Spec::RangeHigh(a, b) => Calc::Range(Range::new(a, b, true)),
            Spec::RangeLow(a, b) => Calc::Range(Range::new(a, b, false)),
            Spec::BarAt(m) => Calc::BarAt(BarAt::new(m)),
        }
    }
}

#[derive(Clone, Debug)]
enum Calc {
    Field(Field),
    Sma(Sma),
    Ema(Ema),
    Rsi(Rsi),
    Extreme(Extreme),
    Atr(Atr),
    Day(Day),
    Range(Range),
    BarAt(BarAt),
}

#[derive(Debug)]
struct Entry {
    spec: Spec,
    calc: Calc,
    /// Ring of values addressed like the bar series (index & mask).
    values: Vec<f64>,
    /// First bar this series has a value for.
    from: usize,
}

/// Longest look-back a series accepts (bars).
pub const MAX_LENGTH: u32 = 100_000;

/// The series of one bar history.
#[derive(Debug)]
pub struct Indicators {
    clock: MarketClock,
    day_start_minute: u32,
    entries: Vec<Entry>,
    ids: HashMap<Spec, SeriesId>,
    /// Last bar computed for every entry.
    done: Option<usize>,
    mask: usize,
    needs_clock: bool,
    /// Series values computed and bars examined so far, the work a script call is charged for
    /// (`docs/script-limits.md`).
    work: u64,
}

impl Indicators {
    /// Series over a history of `capacity` bars (the [`BarSeries`]' capacity); trading days
    /// start at `day_start_minute` ET (minutes after midnight).
    pub fn new(capacity: usize, day_start_minute: u32) -> Self {
        Indicators {
            clock: MarketClock::exchange_rolling_at(day_start_minute),
            day_start_minute,
            entries: Vec::new(),
            ids: HashMap::new(),
            done: None,
            mask: capacity.next_power_of_two() - 1,
            needs_clock: false,
            work: 0,
        }
    }

    /// Series values computed (one series at one bar) and bars examined by crossing searches
    /// since this registry was made: what script calls are charged for.
    pub fn work(&self) -> u64 {
        self.work
    }

    /// Minutes after ET midnight at which trading days start.
    pub fn day_start_minute(&self) -> u32 {
        self.day_start_minute
    }

    /// The series for `spec`, registered and computed up to the newest bar on first use.
    pub fn get(&mut self, spec: Spec, series: &BarSeries) -> SeriesId {
        if let Some(&id) = self.ids.get(&spec) {
            return id;
        }
        let id = SeriesId(self.entries.len() as u32);
        let from = match (spec.source(), self.done) {
            (Some(s), Some(_)) => self.entries[s.0 as usize]
                .from
                .max(series.first_available()),
            _ => series.first_available(),
        };
        self.entries.push(Entry {
            spec,
            calc: spec.calc(),
            values: vec![f64::NAN; self.mask + 1],
            from,
        });
        self.ids.insert(spec, id);
        self.needs_clock |= spec.needs_clock();
        if let Some(done) = self.done {
            // Warm the new series over the bars the others have already done.
            let k = id.0 as usize;
            for i in from..=done {
                let place = self.place(series, i);
                self.step(k, i, series, place);
            }
        }
        id
    }

    /// The value of series `id` at bar `i`: NaN while it warms up; an error for a bar that does
    /// not exist yet or is no longer in memory.
    pub fn value(&mut self, id: SeriesId, i: i64, series: &BarSeries) -> Result<f64, String> {
        self.catch_up(series);
        let e = &self.entries[id.0 as usize];
        let newest = series.len() as i64 - 1;
        if i > newest {
            return Err(format!(
                "bar {i} does not exist yet (the newest bar is {newest}): scripts cannot look ahead"
            ));
        }
        if i < 0 {
            return Err(format!("bar {i} does not exist (bars count from 0)"));
        }
        let oldest = e.from.max(series.first_available());
        if (i as usize) < oldest {
            return Err(format!(
                "bar {i} is no longer in memory (the oldest kept is {oldest})"
            ));
        }
        Ok(e.values[i as usize & self.mask])
    }

    /// Computes every series for the bars added since the last call. When more bars arrived
    /// than the history keeps, the series start again from the oldest bar in memory.
    pub fn catch_up(&mut self, series: &BarSeries) {
        let Some(newest) = series.last() else {
            return;
        };
        let first = series.first_available();
        let start = match self.done {
            Some(d) if d >= newest => return,
            Some(d) if d + 1 >= first => d + 1,
            Some(_) => {
                for e in &mut self.entries {
                    e.calc = e.spec.calc();
                    e.from = first;
                }
                first
            }
            None => first,
        };
        for i in start..=newest {
            let place = self.place(series, i);
            for k in 0..self.entries.len() {
                self.step(k, i, series, place);
            }
        }
        self.done = Some(newest);
    }

    fn place(&self, series: &BarSeries, i: usize) -> DayPlace {
        if !self.needs_clock {
            return DayPlace { day: 0, minute: 0 };
        }
        let stamp = self.clock.stamp(series.close_time(i));
        DayPlace {
            day: chrono::Datelike::num_days_from_ce(&stamp.trading_day),
            minute: day::position(stamp.minute_of_day, self.day_start_minute),
        }
    }

    fn step(&mut self, k: usize, i: usize, series: &BarSeries, place: DayPlace) {
        self.work += 1;
        let slot = i & self.mask;
        let src = match self.entries[k].spec.source() {
            Some(s) => self.entries[s.0 as usize].values[slot],
            None => f64::NAN,
        };
        let e = &mut self.entries[k];
        let v = match &mut e.calc {
            Calc::Field(f) => match f {
                Field::Open => series.open(i),
                Field::High => series.high(i),
                Field::Low => series.low(i),
                Field::Close => series.close(i),
                Field::Volume => series.volume(i),
            },
            Calc::Sma(c) => c.next(src),
            Calc::Ema(c) => c.next(src),
            Calc::Rsi(c) => c.next(src),
            Calc::Extreme(c) => c.next(src),
            Calc::Atr(c) => c.next(series.high(i), series.low(i), series.close(i)),
            Calc::Day(c) => c.next(place, &series.bar(i)),
            Calc::Range(c) => c.next(place, &series.bar(i)),
            Calc::BarAt(c) => c.next(place, i),
        };
        e.values[slot] = v;
    }
}

/// What a series is compared with: another series or a fixed level.
#[derive(Clone, Copy, Debug)]
pub enum Level {
    Series(SeriesId),
    Value(f64),
}

impl Indicators {
    /// The oldest bar series `id` has a value for.
    fn oldest(&self, id: SeriesId, series: &BarSeries) -> usize {
        self.entries[id.0 as usize]
            .from
            .max(series.first_available())
    }

    fn at(&self, id: SeriesId, i: usize) -> f64 {
        self.entries[id.0 as usize].values[i & self.mask]
    }

    fn level_at(&self, b: Level, i: usize) -> f64 {
        match b {
            Level::Series(id) => self.at(id, i),
            Level::Value(v) => v,
        }
    }

    /// `a` crosses `b` at bar `t`: above — `a[t] > b[t]` and `a[t-1] <= b[t-1]` (Pine Script's
    /// `ta.crossover`); below — the mirror (`ta.crossunder`). False when a value is NaN or bar
    /// `t-1` is not in memory; an error for a bar after the newest.
    pub fn crosses(
        &mut self,
        a: SeriesId,
        b: Level,
        above: bool,
        t: i64,
        series: &BarSeries,
    ) -> Result<bool, String> {
        self.value(a, t, series)?;
        if let Level::Series(b) = b {
            self.value(b, t, series)?;
        }
        Ok(self.crosses_unchecked(a, b, above, t as usize, series))
    }

    fn crosses_unchecked(
        &self,
        a: SeriesId,
        b: Level,
        above: bool,
        t: usize,
        series: &BarSeries,
    ) -> bool {
        let mut oldest = self.oldest(a, series);
        if let Level::Series(b) = b {
            oldest = oldest.max(self.oldest(b, series));
        }
        if t < oldest + 1 {
            return false;
        }
        let (a0, b0, a1, b1) = (
            self.at(a, t),
            self.level_at(b, t),
            self.at(a, t - 1),
            self.level_at(b, t - 1),
        );
        // Comparisons with NaN are false, so a value still warming up never crosses.
        if above {
            a0 > b0 && a1 <= b1
        } else {
            a0 < b0 && a1 >= b1
        }
    }

    /// Bars since the latest bar `k <= t` at which `a` crossed `b` (0: at `t`), looking back at
    /// most `max_back` bars; `None` when there is none in that span (or in memory).
    pub fn bars_since_cross(
        &mut self,
        a: SeriesId,
        b: Level,
        above: bool,
        t: i64,
        max_back: usize,
        series: &BarSeries,
    ) -> Result<Option<i64>, String> {
        self.crosses(a, b, above, t, series)?;
        let t = t as usize;
        let found = (0..=max_back.min(t)).find(|&k| self.crosses_unchecked(a, b, above, t - k, series));
        self.work += found.unwrap_or(max_back.min(t)) as u64 + 1;
        Ok(found.map(|k| k as i64))
    }
}

#[cfg(test)]
mod reference_tests;
