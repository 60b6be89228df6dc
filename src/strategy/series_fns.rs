//! The series functions scripts call (definitions in [`crate::strategy::indicators`] and
//! `docs/indicators.md`). Every series is a value of type `Series`; indexing it with a bar
//! gives its value there:
//!
//! ```rhai
//! let fast = ema(9);                 // of closes; ema(volumes(), 20) of another series
//! if crossover(fast, ema(21), t) && rsi(14)[t] < 70.0 { ... }
//! let hi = range_high("09:30", "09:45")[t];   // NaN until the range is complete
//! ```
//!
//! Asking for a series again is a hash lookup; its values are computed once per bar by the host.

use super::call_budget::{CallClock, SERIES_STEPS_PER_OP};
use crate::market::bar::BarSeries;
use crate::strategy::indicators::day::{position, DayValue};
use crate::strategy::indicators::{Field, Indicators, Level, SeriesId, Spec, MAX_LENGTH};
use rhai::{Engine, EvalAltResult};
use std::cell::RefCell;
use std::rc::Rc;

/// A series a script holds (`ema(21)`); `s[i]` reads its value at bar `i`.
#[derive(Clone, Copy, Debug)]
pub struct Series(SeriesId);

type R<T> = Result<T, Box<EvalAltResult>>;

/// The registry and the bars it reads, as the closures share them, and the budget of the call
/// in progress, charged for the series values each function computes.
#[derive(Clone)]
struct Shared {
    bars: Rc<RefCell<BarSeries>>,
    ind: Rc<RefCell<Indicators>>,
    clock: CallClock,
}

impl Shared {
    /// Runs `f` on the registry and charges the call for the work it did (warm-ups, catch-up,
    /// crossing searches).
    fn with<T>(&self, f: impl FnOnce(&mut Indicators, &BarSeries) -> T) -> T {
        let mut ind = self.ind.borrow_mut();
        let before = ind.work();
        let r = f(&mut ind, &self.bars.borrow());
        self.clock
            .charge_work(ind.work() - before, SERIES_STEPS_PER_OP);
        r
    }

    fn get(&self, spec: Spec) -> R<Series> {
        Ok(Series(self.with(|ind, bars| ind.series(spec, bars))?))
    }

    fn field(&self, f: Field) -> R<SeriesId> {
        Ok(self.get(Spec::Field(f))?.0)
    }

    fn value(&self, s: Series, i: i64) -> R<f64> {
        self.with(|ind, bars| ind.value(s.0, i, bars))
            .map_err(Into::into)
    }

    /// Minutes after the trading day's start of an `HH:MM` ET time.
    fn position(&self, what: &str, hhmm: &str) -> R<u32> {
        let m = crate::market::time::parse_hhmm(hhmm)
            .ok_or_else(|| format!("{what}: `{hhmm}` is not a time of day HH:MM (US/Eastern)"))?;
        Ok(position(m, self.ind.borrow().day_start_minute()))
    }

    fn range(&self, what: &str, start: &str, end: &str) -> R<(u32, u32)> {
        let (a, b) = (self.position(what, start)?, self.position(what, end)?);
        if a >= b {
            let ds = self.ind.borrow().day_start_minute();
            return Err(format!(
                "{what}(\"{start}\", \"{end}\"): the range must end after it starts within one trading day (which starts at {:02}:{:02} ET)",
                ds / 60,
                ds % 60
            )
            .into());
        }
        Ok((a, b))
    }
}

fn length(what: &str, n: i64) -> R<u32> {
    if (1..=MAX_LENGTH as i64).contains(&n) {
        Ok(n as u32)
    } else {
        Err(format!("{what}: the length must be between 1 and {MAX_LENGTH} bars, found {n}").into())
    }
}

/// Registers `Series`, its constructors, indexing and the crossing functions.
pub(super) fn register(
    engine: &mut Engine,
    bars: &Rc<RefCell<BarSeries>>,
    ind: &Rc<RefCell<Indicators>>,
    clock: &CallClock,
) {
    let sh = Shared {
        bars: bars.clone(),
        ind: ind.clone(),
        clock: clock.clone(),
    };
    engine.register_type_with_name::<Series>("Series");
    {
        let sh = sh.clone();
        engine.register_indexer_get(move |s: &mut Series, i: i64| sh.value(*s, i));
    }
    for (name, f) in [
        ("opens", Field::Open),
        ("highs", Field::High),
        ("lows", Field::Low),
        ("closes", Field::Close),
        ("volumes", Field::Volume),
    ] {
        let sh = sh.clone();
        engine.register_fn(name, move || -> R<Series> { Ok(Series(sh.field(f)?)) });
    }

    // Series of a source (closes by default for averages and RSI; highs/lows for extremes).
    type Make = fn(SeriesId, u32) -> Spec;
    let of_source: [(&str, Make, Field); 5] = [
        ("sma", Spec::Sma, Field::Close),
        ("ema", Spec::Ema, Field::Close),
        ("rsi", Spec::Rsi, Field::Close),
        ("highest", Spec::Highest, Field::High),
        ("lowest", Spec::Lowest, Field::Low),
    ];
    for (name, make, default) in of_source {
        {
            let sh = sh.clone();
            engine.register_fn(name, move |n: i64| -> R<Series> {
                let n = length(name, n)?;
                sh.get(make(sh.field(default)?, n))
            });
        }
        let sh = sh.clone();
        engine.register_fn(name, move |src: Series, n: i64| -> R<Series> {
            sh.get(make(src.0, length(name, n)?))
        });
    }
    {
        let sh = sh.clone();
        engine.register_fn("atr", move |n: i64| -> R<Series> {
            sh.get(Spec::Atr(length("atr", n)?))
        });
    }
    for (name, v) in [
        ("vwap", DayValue::Vwap),
        ("session_open", DayValue::SessionOpen),
        ("session_high", DayValue::SessionHigh),
        ("session_low", DayValue::SessionLow),
        ("prev_day_high", DayValue::PrevDayHigh),
        ("prev_day_low", DayValue::PrevDayLow),
        ("prev_day_close", DayValue::PrevDayClose),
    ] {
        let sh = sh.clone();
        engine.register_fn(name, move || sh.get(Spec::Day(v)));
    }
    {
        let sh = sh.clone();
        engine.register_fn("vwap", move |anchor: &str| -> R<Series> {
            let p = sh.position("vwap", anchor)?;
            sh.get(Spec::AnchoredVwap(p))
        });
    }
    for (name, high) in [("highest_since", true), ("lowest_since", false)] {
        let sh = sh.clone();
        engine.register_fn(name, move |anchor: &str| -> R<Series> {
            let p = sh.position(name, anchor)?;
            sh.get(if high {
                Spec::HighestSince(p)
            } else {
                Spec::LowestSince(p)
            })
        });
    }
    for (name, high) in [("range_high", true), ("range_low", false)] {
        let sh = sh.clone();
        engine.register_fn(name, move |start: &str, end: &str| -> R<Series> {
            let (a, b) = sh.range(name, start, end)?;
            sh.get(if high {
                Spec::RangeHigh(a, b)
            } else {
                Spec::RangeLow(a, b)
            })
        });
    }
    {
        let sh = sh.clone();
        engine.register_fn("bar_at", move |t: i64, at: &str| -> R<i64> {
            let p = sh.position("bar_at", at)?;
            let v = sh.value(sh.get(Spec::BarAt(p))?, t)?;
            Ok(if v.is_nan() { -1 } else { v as i64 })
        });
    }

    // Crossings: the second series may be a number (a fixed level).
    register_crossings(engine, &sh);
}

/// How far back `bars_since_*` looks: about a trading day and a half of minutes.
pub const BARS_SINCE_LIMIT: usize = 2_000;

fn register_crossings(engine: &mut Engine, sh: &Shared) {
    for (name, above) in [("crossover", true), ("crossunder", false)] {
        let since = format!("bars_since_{name}");
        let cross = move |sh: &Shared, a: Series, b: Level, t: i64| -> R<bool> {
            Ok(sh.with(|ind, bars| ind.crosses(a.0, b, above, t, bars))?)
        };
        let bars_since = move |sh: &Shared, a: Series, b: Level, t: i64| -> R<i64> {
            let k = sh
                .with(|ind, bars| ind.bars_since_cross(a.0, b, above, t, BARS_SINCE_LIMIT, bars))?;
            Ok(k.unwrap_or(-1))
        };
        {
            let sh = sh.clone();
            engine.register_fn(name, move |a: Series, b: Series, t: i64| {
                cross(&sh, a, Level::Series(b.0), t)
            });
        }
        {
            let sh = sh.clone();
            engine.register_fn(name, move |a: Series, level: f64, t: i64| {
                cross(&sh, a, Level::Value(level), t)
            });
        }
        {
            let sh = sh.clone();
            engine.register_fn(name, move |a: Series, level: i64, t: i64| {
                cross(&sh, a, Level::Value(level as f64), t)
            });
        }
        {
            let sh = sh.clone();
            engine.register_fn(&since, move |a: Series, b: Series, t: i64| {
                bars_since(&sh, a, Level::Series(b.0), t)
            });
        }
        {
            let sh = sh.clone();
            engine.register_fn(&since, move |a: Series, level: f64, t: i64| {
                bars_since(&sh, a, Level::Value(level), t)
            });
        }
        {
            let sh = sh.clone();
            engine.register_fn(&since, move |a: Series, level: i64, t: i64| {
                bars_since(&sh, a, Level::Value(level as f64), t)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::market::bar::{Bar, BarSeries};
    use crate::strategy::script::{merge_params, ScriptHost, ScriptLimits};
    use crate::strategy::{Proposal, Strategy, StrategyError};
    use std::cell::RefCell;
    use std::path::Path;
    use std::rc::Rc;

    /// Runs `src` on bars with closes `closes` (one a minute from 2025-02-13 14:00 UTC = 09:00
    /// ET), calling on_bar on the last bar only.
    fn run(src: &str, closes: &[f64]) -> Result<Vec<Proposal>, StrategyError> {
        let series = Rc::new(RefCell::new(BarSeries::with_capacity(256)));
        for (i, c) in closes.iter().enumerate() {
            series.borrow_mut().push(&Bar {
                close_time: 1_739_455_200 + 60 * (i as i64 + 1),
                open: *c,
                high: c + 1.0,
                low: c - 1.0,
                close: *c,
                volume: 10.0,
            });
        }
        let h = ScriptHost::new(series, ScriptLimits::default());
        let c = Rc::new(h.compile_source(Path::new("s.rhai"), src)?);
        let params = merge_params(&c, &toml::Table::new()).unwrap();
        let mut s = h.bind(c, params)?;
        let mut out = vec![];
        s.on_bar(closes.len() - 1, &mut out)?;
        Ok(out)
    }

    /// A proposal whose anchor_a carries the value the script computed.
    fn value(expr: &str, closes: &[f64]) -> Result<f64, StrategyError> {
        let src =
            format!("fn on_bar(t, p) {{ #{{ side: \"BUY\", anchor_a: {expr}, anchor_b: 1.0 }} }}");
        run(&src, closes).map(|o| o[0].anchor_a)
    }

    #[test]
    fn scripts_read_series_by_bar() {
        let closes = [10.0, 11.0, 12.0, 13.0, 14.0];
        // (expression, expected)
        let cases = [
            ("sma(3)[t]", 13.0),
            ("sma(3)[t - 1]", 12.0),
            ("sma(closes(), 5)[t]", 12.0),
            ("ema(3)[t]", 13.0),
            ("highest(2)[t]", 15.0),
            ("lowest(lows(), 2)[t]", 12.0),
            ("session_high()[t]", 15.0),
            ("if sma(10)[t].is_nan() { 1.0 } else { 2.0 }", 1.0),
            ("bar_at(t, \"09:02\").to_float()", 1.0),
            ("if crossover(closes(), 13.5, t) { 1.0 } else { 0.0 }", 1.0),
            (
                "if crossunder(closes(), sma(2), t) { 1.0 } else { 0.0 }",
                0.0,
            ),
            ("bars_since_crossover(closes(), 11.5, t).to_float()", 2.0),
            ("count_closes_above(0, t, 11.5).to_float()", 3.0),
            ("first_close_below(2, t, 20.0).to_float()", 2.0),
        ];
        for (expr, want) in cases {
            assert_eq!(value(expr, &closes).unwrap(), want, "{expr}");
        }
    }

    #[test]
    fn series_mistakes_are_errors_with_the_line() {
        let closes = [10.0, 11.0, 12.0];
        // (expression, fragment of the error)
        let cases = [
            ("sma(3)[t + 1]", "cannot look ahead"),
            ("sma(0)[t]", "between 1 and"),
            ("range_high(\"9h30\", \"09:45\")[t]", "not a time of day"),
            (
                "range_high(\"10:00\", \"09:45\")[t]",
                "must end after it starts",
            ),
            (
                "if crossover(closes(), 1.0, t + 1) { 1.0 } else { 0.0 }",
                "cannot look ahead",
            ),
        ];
        for (expr, want) in cases {
            let e = value(expr, &closes).unwrap_err();
            assert!(
                e.to_string().contains(want) && e.line == Some(1),
                "{expr}: {e}"
            );
        }
    }
}

#[cfg(test)]
mod memory_tests {
    use crate::market::bar::{Bar, BarSeries};
    use crate::strategy::indicators::MAX_SERIES;
    use crate::strategy::script::{merge_params, ScriptHost, ScriptLimits, ScriptStrategy};
    use crate::strategy::{Proposal, Strategy};
    use std::cell::RefCell;
    use std::path::Path;
    use std::rc::Rc;

    /// Weekday sessions 09:31–16:00 ET (390 bars) from Monday 2025-01-06, `days` of them
    /// (across DST changes); highs move by day and minute.
    fn session_bars(days: usize) -> Vec<Bar> {
        use chrono::{Datelike, TimeZone};
        let mut v = Vec::new();
        let mut date = chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
        for d in 0..days {
            while date.weekday().number_from_monday() > 5 {
                date = date.succ_opt().unwrap();
            }
            let open = chrono_tz::America::New_York
                .from_local_datetime(&date.and_hms_opt(9, 30, 0).unwrap())
                .unwrap()
                .timestamp();
            for m in 1..=390i64 {
                let x = ((d * 7919 + m as usize * 104_729) % 1000) as f64 / 10.0;
                v.push(Bar {
                    close_time: open + 60 * m,
                    open: 5000.0 + x,
                    high: 5001.0 + x,
                    low: 4999.0 + x,
                    close: 5000.0 + x,
                    volume: 1.0,
                });
            }
            date = date.succ_opt().unwrap();
        }
        v
    }

    fn bind(src: &str, capacity: usize) -> (ScriptHost, ScriptStrategy, Rc<RefCell<BarSeries>>) {
        let series = Rc::new(RefCell::new(BarSeries::with_capacity(capacity)));
        let h = ScriptHost::with_day_start(series.clone(), ScriptLimits::default(), 18 * 60);
        let c = Rc::new(h.compile_source(Path::new("s.rhai"), src).unwrap());
        let params = merge_params(&c, &toml::Table::new()).unwrap();
        let s = h.bind(c, params).unwrap();
        (h, s, series)
    }

    #[test]
    fn highest_since_0930_with_a_new_length_each_bar_is_right_for_2_years_with_flat_memory() {
        // The trader's script: the highest high since the session's first bar, by asking for
        // `highest(n)` with n growing on every bar.
        let src = "fn on_bar(t, p) {
            let first = bar_at(t, \"09:31\");
            #{ side: \"BUY\", anchor_a: highest(t - first + 1)[t], anchor_b: 1.0 }
        }";
        let (h, mut s, series) = bind(src, 8_192);
        let bars = session_bars(520);
        let (mut since, mut peak_first_year, mut peak) = (f64::NAN, 0, 0);
        for (t, b) in bars.iter().enumerate() {
            series.borrow_mut().push(b);
            since = if t % 390 == 0 {
                b.high
            } else {
                since.max(b.high)
            };
            let mut out: Vec<Proposal> = vec![];
            s.on_bar(t, &mut out)
                .unwrap_or_else(|e| panic!("bar {t}: {e}"));
            assert_eq!(out[0].anchor_a, since, "bar {t}");
            peak = peak.max(h.series_alive());
            if t == bars.len() / 2 {
                peak_first_year = peak;
            }
        }
        // 390 lengths, highs and bar_at: the same count in the second year as in the first.
        assert!(peak <= 393, "{peak} series alive");
        assert_eq!(peak, peak_first_year, "memory grew in the second year");
    }

    #[test]
    fn highest_since_and_lowest_since_are_one_series_each_for_2_years() {
        // The helper the "highest since the open" script can use instead of a new length a bar.
        let src = "fn on_bar(t, p) {
            #{ side: \"BUY\", anchor_a: highest_since(\"09:30\")[t], anchor_b: lowest_since(\"09:30\")[t] }
        }";
        let (h, mut s, series) = bind(src, 8_192);
        let bars = session_bars(520);
        let (mut hi, mut lo) = (f64::NAN, f64::NAN);
        for (t, b) in bars.iter().enumerate() {
            series.borrow_mut().push(b);
            // session_bars: 390 bars a day closing 09:31..16:00, all after the anchor.
            (hi, lo) = if t % 390 == 0 {
                (b.high, b.low)
            } else {
                (hi.max(b.high), lo.min(b.low))
            };
            let mut out: Vec<Proposal> = vec![];
            s.on_bar(t, &mut out)
                .unwrap_or_else(|e| panic!("bar {t}: {e}"));
            assert_eq!((out[0].anchor_a, out[0].anchor_b), (hi, lo), "bar {t}");
        }
        // highs, lows and the two helpers.
        assert!(h.series_alive() <= 4, "{} series alive", h.series_alive());
    }

    #[test]
    fn highest_since_is_nan_before_its_anchor() {
        let src = "fn on_bar(t, p) { let v = highest_since(\"10:00\")[t]; #{ side: \"BUY\", anchor_a: if v.is_nan() { -1.0 } else { v }, anchor_b: 1.0 } }";
        let (_, mut s, series) = bind(src, 8_192);
        let bars = session_bars(1);
        let mut high = f64::NAN;
        for (t, b) in bars.iter().enumerate() {
            series.borrow_mut().push(b);
            let mut out: Vec<Proposal> = vec![];
            s.on_bar(t, &mut out).unwrap();
            // Bar t closes at 09:31 + t: the bar closing 10:01 (t = 30) is the first after 10:00.
            let want = if t < 30 {
                -1.0
            } else {
                high = if t == 30 { b.high } else { high.max(b.high) };
                high
            };
            assert_eq!(out[0].anchor_a, want, "bar {t}");
        }
        let (_, mut bad, series) = bind("fn on_bar(t, p) {\n    lowest_since(\"9h\")[t];\n}", 64);
        series.borrow_mut().push(&bars[0]);
        let err = bad.on_bar(0, &mut vec![]).unwrap_err().to_string();
        assert!(
            err.contains("s.rhai:2:") && err.contains("lowest_since: `9h` is not a time of day"),
            "{err}"
        );
    }

    #[test]
    fn a_series_unread_for_a_trading_day_is_dropped_and_rebuilt_when_asked_again() {
        // Day 0 asks for 40 EMAs; then only ema(9); on day 5 ema(30) again.
        let src = "fn on_bar(t, p) {
            let d = (t / 390);
            if d == 0 { for n in 2..42 { ema(n)[t]; } }
            let v = if d == 5 { ema(30)[t] } else { ema(9)[t] };
            #{ side: \"BUY\", anchor_a: if v.is_nan() { 0.0 } else { v }, anchor_b: 1.0 }
        }";
        let (h, mut s, series) = bind(src, 8_192);
        let bars = session_bars(6);
        let (_, mut fresh, fresh_series) = bind("fn on_bar(t, p) { let v = ema(30)[t]; #{ side: \"BUY\", anchor_a: if v.is_nan() { 0.0 } else { v }, anchor_b: 1.0 } }", 8_192);
        let mut alive = vec![];
        for (t, b) in bars.iter().enumerate() {
            series.borrow_mut().push(b);
            fresh_series.borrow_mut().push(b);
            let mut out = vec![];
            s.on_bar(t, &mut out).unwrap();
            let mut want = vec![];
            fresh.on_bar(t, &mut want).unwrap();
            if t / 390 == 5 {
                // Rebuilt from the oldest bar in memory: the same value as one never dropped.
                assert_eq!(out[0].anchor_a, want[0].anchor_a, "bar {t}");
            }
            if t % 390 == 389 {
                alive.push(h.series_alive());
            }
        }
        // closes + 40 EMAs on days 0 and 1; from day 2 closes + ema(9); day 5 adds ema(30).
        assert_eq!(
            alive,
            vec![41, 41, 2, 2, 2, 3],
            "series alive at each day's end"
        );
    }

    #[test]
    fn one_series_more_than_the_ceiling_is_an_error_with_the_place_and_the_count() {
        // Three new series a bar: 1,170 a day, more than the ceiling before a day is over.
        let src = "fn on_bar(t, p) {\n    for k in 0..3 {\n        let v = ema(t * 3 + k + 1)[t];\n    }\n}";
        let (h, mut s, series) = bind(src, 8_192);
        let bars = session_bars(4);
        let mut first_error = None;
        for (t, b) in bars.iter().enumerate() {
            series.borrow_mut().push(b);
            if let Err(e) = s.on_bar(t, &mut vec![]) {
                first_error.get_or_insert((t, e));
            }
            assert!(h.series_alive() <= MAX_SERIES);
        }
        let (t, e) = first_error.expect("the 1,024th series is refused");
        assert_eq!(t, (MAX_SERIES - 1) / 3, "closes and 1,023 EMAs fit");
        assert_eq!((e.line, e.column), (Some(3), Some(17)), "{e}");
        assert!(e.message.contains("too many series: 1024 are alive"), "{e}");
    }

    #[test]
    fn a_series_reaches_back_4096_bars() {
        let src = "fn on_bar(t, p) { #{ side: \"BUY\", anchor_a: closes()[t - 4095] + 0.0 * closes()[t - 4096], anchor_b: 1.0 } }";
        let (_, mut s, series) = bind(src, 8_192);
        for (t, b) in session_bars(11).iter().enumerate() {
            series.borrow_mut().push(b);
            if t == 4_200 {
                let e = s.on_bar(t, &mut vec![]).unwrap_err();
                assert!(
                    e.message.contains("a series keeps the last 4096 bars"),
                    "{e}"
                );
            }
        }
    }
}
