//! Series functions computed by the host (issue 11): moving averages, RSI, ATR, highest/lowest,
//! session values, VWAP, opening ranges. A script asks for a series by what it is
//! (`ema(21)`, `range_high("09:30", "09:45")`); the [`Indicators`] registry computes each
//! distinct series once, incrementally, over **every** bar (also the bars on which no script was
//! called), and keeps its last [`SERIES_KEEP`] values. Asking for a value is O(1).
//!
//! Memory has a ceiling: at most [`MAX_SERIES`] series are alive at once (one more is an error
//! for the script), a series not read for a whole trading day is dropped (and computed again,
//! from the oldest bar in memory, if a script asks for it again), and each keeps
//! [`SERIES_KEEP`] values, not one per bar of history (`docs/indicators.md`).
//!
//! Warm-up: a series is computed from the oldest bar in memory when it is first asked for (in a
//! backtest: from the start of the data; live: from the history the feed sent). Each module
//! documents its definition; `docs/indicators.md` has them all for traders.

pub mod day;
pub mod extremes;
pub mod moving;
pub mod oscillators;
pub mod record;

use crate::market::bar::BarSeries;
use crate::market::time::MarketClock;
use day::{BarAt, Day, DayPlace, DayValue, Range};
use extremes::Extreme;
use moving::{Ema, Sma};
use oscillators::{Atr, Rsi};
use std::collections::HashMap;

/// The place given to series that do not read it (every series when none of the clock is alive).
const NO_PLACE: DayPlace = DayPlace { day: 0, minute: 0 };

/// A bar field, the simplest series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Open,
    High,
    Low,
    Close,
    Volume,
}

/// A registered series: its slot in the registry and the generation of that slot (a slot freed
/// by a dropped series is reused; an id of the old generation is refused, never misread).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeriesId {
    slot: u32,
    generation: u32,
}

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
    /// VWAP anchored at a position of the trading day (`vwap("09:30")`).
    AnchoredVwap(u32),
    /// Highest high / lowest low since a position of the trading day (`highest_since("09:30")`).
    HighestSince(u32),
    LowestSince(u32),
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

    /// The bars a value needs, for a series whose value at a bar depends only on its source's
    /// last `n` values (an SMA, highest, lowest); `None` for one that reaches back indefinitely.
    fn window(&self) -> Option<usize> {
        match *self {
            Spec::Sma(_, n) | Spec::Highest(_, n) | Spec::Lowest(_, n) => Some(n as usize),
            _ => None,
        }
    }

    fn needs_clock(&self) -> bool {
        matches!(
            self,
            Spec::Day(_)
                | Spec::RangeHigh(..)
                | Spec::RangeLow(..)
                | Spec::BarAt(_)
                | Spec::AnchoredVwap(_)
                | Spec::HighestSince(_)
                | Spec::LowestSince(_)
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
            Spec::AnchoredVwap(m) => Calc::AnchoredVwap(day::AnchoredVwap::new(m)),
            Spec::HighestSince(m) => Calc::Since(day::Since::new(m, true)),
            Spec::LowestSince(m) => Calc::Since(day::Since::new(m, false)),
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
    AnchoredVwap(day::AnchoredVwap),
    Since(day::Since),
}

#[derive(Debug)]
struct Entry {
    spec: Spec,
    calc: Calc,
    /// Ring of the last values (bar index & keep mask); empty once the series is dropped.
    values: Vec<f64>,
    /// First bar this series has a value for.
    from: usize,
    generation: u32,
    alive: bool,
    /// The trading day (count of days the registry has seen) a script last asked for it.
    used_day: u64,
    /// Its track in the [`record::Recorder`] ([`record::NO_TRACK`] when not recording).
    track: u32,
}

/// Longest look-back a series accepts (bars).
pub const MAX_LENGTH: u32 = 100_000;

/// Most series alive at once. One more is a script error with the count.
pub const MAX_SERIES: usize = 1_024;

/// Values a series keeps: `s[i]` reaches back this many bars from the newest (about three days
/// of one-minute bars; `bars_since_*` looks back at most 2,000). 32 KiB a series.
pub const SERIES_KEEP: usize = 4_096;

/// The series of one bar history.
#[derive(Debug)]
pub struct Indicators {
    clock: MarketClock,
    day_start_minute: u32,
    entries: Vec<Entry>,
    ids: HashMap<Spec, SeriesId>,
    /// Last bar computed for every entry.
    done: Option<usize>,
    /// Ring mask of the values a series keeps.
    mask: usize,
    needs_clock: bool,
    /// Series alive (computed every bar).
    alive: usize,
    /// Trading days seen (the count the drop rule compares), and the newest bar's day.
    day_count: u64,
    day: Option<i32>,
    /// Series values computed and bars examined so far, the work a script call is charged for
    /// (`docs/script-limits.md`).
    work: u64,
    /// What the scripts read, for a report ([`Indicators::record`]); `None`: not recording.
    recorder: Option<Box<record::Recorder>>,
    /// (track, entry) of the series alive that have a track, while recording.
    tracked: Vec<(u32, usize)>,
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
            mask: capacity.next_power_of_two().min(SERIES_KEEP) - 1,
            needs_clock: false,
            alive: 0,
            day_count: 0,
            day: None,
            work: 0,
            recorder: None,
            tracked: Vec::new(),
        }
    }

    /// From now on, record what the scripts read ([`record`]): each series' reads by reader
    /// and its values at each trading day's last bar and on the bars [`Indicators::record_around`]
    /// asks for.
    pub fn record(&mut self) {
        if self.recorder.is_none() {
            let clock = MarketClock::exchange_rolling_at(self.day_start_minute);
            self.recorder = Some(Box::new(record::Recorder::new(clock)));
            for k in 0..self.entries.len() {
                if self.entries[k].alive {
                    self.entries[k].track = self.track_of(self.entries[k].spec);
                }
            }
            self.retrack();
        }
    }

    /// The reads that follow are `reader`'s (a profile name), while recording.
    pub fn set_reader(&mut self, reader: &str) {
        if let Some(r) = &mut self.recorder {
            r.set_reader(reader);
        }
    }

    /// While recording: record the values on bars `newest - before ..= newest + after`
    /// (`newest` = the newest bar), those computed already now, the others as they are.
    pub fn record_around(&mut self, series: &BarSeries, before: usize, after: usize) {
        let Some(newest) = series.last() else {
            return;
        };
        let Some(mut r) = self.recorder.take() else {
            return;
        };
        r.want(newest, before, after);
        if let Some(done) = self.done {
            // The ring and the bar history hold these bars (older ones have no values).
            let oldest = series.first_available().max(done.saturating_sub(self.mask));
            r.record_upto(
                oldest,
                done,
                |j| series.close_time(j),
                &self.tracked,
                |k, j| self.kept_value(k, j, done),
            );
        }
        self.recorder = Some(r);
    }

    /// The record, once the run is over: every bar computed, the last day's end taken.
    /// `None` when not recording.
    pub fn finish_record(&mut self, series: &BarSeries) -> Option<record::SeriesRecord> {
        self.recorder.as_ref()?;
        self.catch_up(series);
        let r = self.recorder.take()?;
        let done = self.done.unwrap_or(0);
        Some(r.finish(&self.tracked, |k, j| self.kept_value(k, j, done)))
    }

    /// Entry `k`'s value at bar `j` while `done` is the newest computed: NaN before it started
    /// or once its ring has moved past `j`.
    fn kept_value(&self, k: usize, j: usize, done: usize) -> f64 {
        let e = &self.entries[k];
        if !e.alive || j < e.from || j > done || j + self.mask < done {
            return f64::NAN;
        }
        e.values[j & self.mask]
    }

    /// The recorder's track for `spec` ([`record::NO_TRACK`] when not recording).
    fn track_of(&mut self, spec: Spec) -> u32 {
        if self.recorder.is_none() {
            return record::NO_TRACK;
        }
        let (name, kind) = (self.name(spec), self.kind(spec));
        match &mut self.recorder {
            Some(r) => r.track(name, kind),
            None => record::NO_TRACK,
        }
    }

    fn retrack(&mut self) {
        self.tracked = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.alive && e.track != record::NO_TRACK)
            .map(|(k, e)| (e.track, k))
            .collect();
    }

    /// `HH:MM` ET of a position in the trading day.
    fn hhmm(&self, position: u32) -> String {
        let m = (position + self.day_start_minute) % 1440;
        format!("{:02}:{:02}", m / 60, m % 60)
    }

    /// The call a script writes to ask for `spec`: `ema(21)`, `ema(rsi(14), 5)`, `vwap("09:30")`.
    pub fn name(&self, spec: Spec) -> String {
        let of = |f: &str, src: SeriesId, n: u32, default: Field| {
            let src = self.entries[src.slot as usize].spec;
            if src == Spec::Field(default) {
                format!("{f}({n})")
            } else {
                format!("{f}({}, {n})", self.name(src))
            }
        };
        match spec {
            Spec::Field(f) => match f {
                Field::Open => "opens()",
                Field::High => "highs()",
                Field::Low => "lows()",
                Field::Close => "closes()",
                Field::Volume => "volumes()",
            }
            .to_string(),
            Spec::Sma(s, n) => of("sma", s, n, Field::Close),
            Spec::Ema(s, n) => of("ema", s, n, Field::Close),
            Spec::Rsi(s, n) => of("rsi", s, n, Field::Close),
            Spec::Highest(s, n) => of("highest", s, n, Field::High),
            Spec::Lowest(s, n) => of("lowest", s, n, Field::Low),
            Spec::Atr(n) => format!("atr({n})"),
            Spec::Day(v) => format!(
                "{}()",
                match v {
                    DayValue::SessionOpen => "session_open",
                    DayValue::SessionHigh => "session_high",
                    DayValue::SessionLow => "session_low",
                    DayValue::PrevDayHigh => "prev_day_high",
                    DayValue::PrevDayLow => "prev_day_low",
                    DayValue::PrevDayClose => "prev_day_close",
                    DayValue::Vwap => "vwap",
                }
            ),
            Spec::RangeHigh(a, b) => {
                format!("range_high(\"{}\", \"{}\")", self.hhmm(a), self.hhmm(b))
            }
            Spec::RangeLow(a, b) => {
                format!("range_low(\"{}\", \"{}\")", self.hhmm(a), self.hhmm(b))
            }
            Spec::BarAt(m) => format!("bar_at(t, \"{}\")", self.hhmm(m)),
            Spec::AnchoredVwap(m) => format!("vwap(\"{}\")", self.hhmm(m)),
            Spec::HighestSince(m) => format!("highest_since(\"{}\")", self.hhmm(m)),
            Spec::LowestSince(m) => format!("lowest_since(\"{}\")", self.hhmm(m)),
        }
    }

    /// What `spec`'s values are (where a chart draws it).
    pub fn kind(&self, spec: Spec) -> record::Kind {
        use record::Kind;
        match spec {
            Spec::Field(Field::Volume) => Kind::Volume,
            Spec::Field(_) => Kind::Field,
            Spec::BarAt(_) => Kind::Index,
            Spec::Day(_)
            | Spec::RangeHigh(..)
            | Spec::RangeLow(..)
            | Spec::AnchoredVwap(_)
            | Spec::HighestSince(_)
            | Spec::LowestSince(_) => Kind::Price,
            Spec::Atr(_) => Kind::Points,
            Spec::Rsi(..) => Kind::Oscillator,
            Spec::Sma(s, _) | Spec::Ema(s, _) | Spec::Highest(s, _) | Spec::Lowest(s, _) => {
                match self.kind(self.entries[s.slot as usize].spec) {
                    Kind::Field => Kind::Price,
                    k => k,
                }
            }
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

    /// The series for `spec`, registered and computed up to the newest bar on first use (or on
    /// first use after it was dropped); an error when [`MAX_SERIES`] are alive already.
    pub fn series(&mut self, spec: Spec, series: &BarSeries) -> Result<SeriesId, String> {
        if let Some(&id) = self.ids.get(&spec) {
            self.touch(id);
            return Ok(id);
        }
        if let Some(src) = spec.source() {
            self.check(src)?;
        }
        if self.alive >= MAX_SERIES {
            return Err(format!(
                "too many series: {} are alive and this would be one more (at most {MAX_SERIES}; a series unread for a whole trading day is dropped; a new length on every bar makes a new series each time: docs/indicators.md)",
                self.alive
            ));
        }
        let from = match (spec.source(), self.done) {
            // A series of bar fields warms over every bar in memory; a series of a computed
            // series over the values that series keeps.
            (Some(s), Some(done)) => {
                let src = &self.entries[s.slot as usize];
                let from = src.from.max(series.first_available());
                match (src.spec, spec.window()) {
                    // A windowed series of bar fields needs only the values it keeps plus one
                    // window: orb's volume average, dropped between breakout days, was warmed
                    // again over all 131,072 bars in memory each time (2x slower in all).
                    (Spec::Field(_), Some(n)) => {
                        from.max((done + 1).saturating_sub(self.mask + 1 + n))
                    }
                    (Spec::Field(_), None) => from,
                    _ => from.max((done + 1).saturating_sub(self.mask + 1)),
                }
            }
            // A series of the clock restarts each trading day and reads at most the day before
            // (the previous day's high, low, close): the values it keeps need only the trading
            // day of the oldest kept bar and the day before it. orb's `bar_at`, asked for again
            // after a day unread, was warmed over every bar in memory, each converted to ET.
            (None, Some(done)) if spec.needs_clock() => {
                let kept = (done + 1).saturating_sub(self.mask + 1);
                self.day_before_start(series, kept.max(series.first_available()))
            }
            _ => series.first_available(),
        };
        let entry = Entry {
            spec,
            calc: spec.calc(),
            values: vec![f64::NAN; self.mask + 1],
            from,
            generation: 0,
            alive: true,
            used_day: self.day_count,
            track: self.track_of(spec),
        };
        // A slot freed by a dropped series is reused under a new generation.
        let id = match self.entries.iter().position(|e| !e.alive) {
            Some(k) => {
                let generation = self.entries[k].generation.wrapping_add(1);
                self.entries[k] = Entry {
                    generation,
                    ..entry
                };
                SeriesId {
                    slot: k as u32,
                    generation,
                }
            }
            None => {
                self.entries.push(entry);
                SeriesId {
                    slot: self.entries.len() as u32 - 1,
                    generation: 0,
                }
            }
        };
        self.alive += 1;
        self.ids.insert(spec, id);
        if self.recorder.is_some() {
            self.retrack();
        }
        self.needs_clock |= spec.needs_clock();
        if let Some(done) = self.done {
            // Warm the new series over the bars the others have already done. A bar field keeps
            // no state: only the values it keeps are filled (its dependents read older fields
            // from the bars themselves).
            let k = id.slot as usize;
            let warm_from = match spec {
                Spec::Field(_) => from.max((done + 1).saturating_sub(self.mask + 1)),
                _ => from,
            };
            // Only a series of the clock reads the bar's place in its day: orb's volume average,
            // warmed again on each breakout day, converted 4,096 close times to ET for nothing
            // (30 % of orb's replay time, with its twin).
            let uses_place = spec.needs_clock();
            for i in warm_from..=done {
                let place = if uses_place {
                    self.place(series, i)
                } else {
                    NO_PLACE
                };
                self.step(k, i, series, place);
            }
        }
        Ok(id)
    }

    /// [`Indicators::series`] for tests, where the count cannot run out.
    #[cfg(test)]
    pub fn get(&mut self, spec: Spec, series: &BarSeries) -> SeriesId {
        self.series(spec, series).unwrap()
    }

    /// Series alive now.
    pub fn alive(&self) -> usize {
        self.alive
    }

    /// `id` still names its series (not one dropped since).
    fn check(&self, id: SeriesId) -> Result<(), String> {
        match self.entries.get(id.slot as usize) {
            Some(e) if e.alive && e.generation == id.generation => Ok(()),
            _ => Err("this series was dropped after a whole trading day unread: ask for it again on the call that reads it (`ema(21)[t]`) rather than keeping it in `this` (docs/indicators.md)".into()),
        }
    }

    /// Marks `id` and its sources as read today.
    fn touch(&mut self, id: SeriesId) {
        let mut k = id.slot as usize;
        loop {
            self.entries[k].used_day = self.day_count;
            match self.entries[k].spec.source() {
                Some(s) => k = s.slot as usize,
                None => break,
            }
        }
    }

    /// The value of series `id` at bar `i`: NaN while it warms up; an error for a bar that does
    /// not exist yet or is no longer kept.
    pub fn value(&mut self, id: SeriesId, i: i64, series: &BarSeries) -> Result<f64, String> {
        self.check(id)?;
        self.catch_up(series);
        self.touch(id);
        if let Some(r) = &mut self.recorder {
            r.read(self.entries[id.slot as usize].track);
        }
        let newest = series.len() as i64 - 1;
        if i > newest {
            return Err(format!(
                "bar {i} does not exist yet (the newest bar is {newest}): scripts cannot look ahead"
            ));
        }
        if i < 0 {
            return Err(format!("bar {i} does not exist (bars count from 0)"));
        }
        let oldest = self.oldest(id, series);
        if (i as usize) < oldest {
            return Err(format!(
                "bar {i} is no longer in memory for this series (the oldest kept is {oldest}: a series keeps the last {} bars, docs/indicators.md)",
                self.mask + 1
            ));
        }
        Ok(self.at(id, i as usize))
    }

    /// Drops the series no script asked for during the whole previous trading day, when the
    /// newest bar opens a new one.
    fn roll_day(&mut self, series: &BarSeries, newest: usize) {
        let day = self.clock.stamp(series.close_time(newest)).trading_day;
        let day = chrono::Datelike::num_days_from_ce(&day);
        if self.day == Some(day) {
            return;
        }
        if self.day.is_some() {
            self.day_count += 1;
        }
        self.day = Some(day);
        for e in &mut self.entries {
            if e.alive && e.used_day + 1 < self.day_count {
                self.ids.remove(&e.spec);
                e.alive = false;
                e.values = Vec::new();
                e.calc = e.spec.calc();
                self.alive -= 1;
            }
        }
        if self.recorder.is_some() {
            self.retrack();
        }
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
                if self.entries[k].alive {
                    self.step(k, i, series, place);
                }
            }
            if let Some(mut r) = self.recorder.take() {
                r.after_bar(
                    i,
                    |j| series.close_time(j),
                    &self.tracked,
                    |k, j| self.kept_value(k, j, i),
                );
                self.recorder = Some(r);
            }
        }
        self.done = Some(newest);
        self.roll_day(series, newest);
    }

    /// The first bar of the trading day before bar `i`'s (the oldest bar in memory when that
    /// day is not all in memory).
    fn day_before_start(&self, series: &BarSeries, i: usize) -> usize {
        let first = series.first_available();
        let day = |j: usize| self.clock.stamp(series.close_time(j)).trading_day;
        let start_of_day = |mut j: usize| {
            let d = day(j);
            while j > first && day(j - 1) == d {
                j -= 1;
            }
            j
        };
        match start_of_day(i) {
            j if j == first => first,
            j => start_of_day(j - 1),
        }
    }

    /// Where bar `i` falls in its trading day, for the series of the clock (session VWAP,
    /// ranges, `bar_at`, `highest_since`); [`NO_PLACE`] when no series needs it.
    fn place(&self, series: &BarSeries, i: usize) -> DayPlace {
        if !self.needs_clock {
            return NO_PLACE;
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
        let field = |f: Field| match f {
            Field::Open => series.open(i),
            Field::High => series.high(i),
            Field::Low => series.low(i),
            Field::Close => series.close(i),
            Field::Volume => series.volume(i),
        };
        // A bar field is read from the bar (a warm-up reaches further back than values kept).
        let src = match self.entries[k].spec.source() {
            Some(s) => match self.entries[s.slot as usize].spec {
                Spec::Field(f) => field(f),
                _ => self.entries[s.slot as usize].values[slot],
            },
            None => f64::NAN,
        };
        let e = &mut self.entries[k];
        let v = match &mut e.calc {
            Calc::Field(f) => field(*f),
            Calc::Sma(c) => c.next(src),
            Calc::Ema(c) => c.next(src),
            Calc::Rsi(c) => c.next(src),
            Calc::Extreme(c) => c.next(src),
            Calc::Atr(c) => c.next(series.high(i), series.low(i), series.close(i)),
            Calc::Day(c) => c.next(place, &series.bar(i)),
            Calc::Range(c) => c.next(place, &series.bar(i)),
            Calc::BarAt(c) => c.next(place, i),
            Calc::AnchoredVwap(c) => c.next(place, &series.bar(i)),
            Calc::Since(c) => c.next(place, &series.bar(i)),
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
    /// The oldest bar series `id` has a value for (and keeps).
    fn oldest(&self, id: SeriesId, series: &BarSeries) -> usize {
        let kept = series.len().saturating_sub(self.mask + 1);
        self.entries[id.slot as usize]
            .from
            .max(series.first_available())
            .max(kept)
    }

    fn at(&self, id: SeriesId, i: usize) -> f64 {
        self.entries[id.slot as usize].values[i & self.mask]
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
        let found =
            (0..=max_back.min(t)).find(|&k| self.crosses_unchecked(a, b, above, t - k, series));
        self.work += found.unwrap_or(max_back.min(t)) as u64 + 1;
        Ok(found.map(|k| k as i64))
    }
}

#[cfg(test)]
mod reference_tests;
