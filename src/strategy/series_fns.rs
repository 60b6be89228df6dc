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

use super::sandbox::{CallClock, SERIES_STEPS_PER_OP};
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

    fn get(&self, spec: Spec) -> Series {
        Series(self.with(|ind, bars| ind.get(spec, bars)))
    }

    fn field(&self, f: Field) -> SeriesId {
        self.get(Spec::Field(f)).0
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
        engine.register_fn(name, move || Series(sh.field(f)));
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
                Ok(sh.get(make(sh.field(default), n)))
            });
        }
        let sh = sh.clone();
        engine.register_fn(name, move |src: Series, n: i64| -> R<Series> {
            Ok(sh.get(make(src.0, length(name, n)?)))
        });
    }
    {
        let sh = sh.clone();
        engine.register_fn("atr", move |n: i64| -> R<Series> {
            Ok(sh.get(Spec::Atr(length("atr", n)?)))
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
    for (name, high) in [("range_high", true), ("range_low", false)] {
        let sh = sh.clone();
        engine.register_fn(name, move |start: &str, end: &str| -> R<Series> {
            let (a, b) = sh.range(name, start, end)?;
            Ok(sh.get(if high {
                Spec::RangeHigh(a, b)
            } else {
                Spec::RangeLow(a, b)
            }))
        });
    }
    {
        let sh = sh.clone();
        engine.register_fn("bar_at", move |t: i64, at: &str| -> R<i64> {
            let p = sh.position("bar_at", at)?;
            let v = sh.value(sh.get(Spec::BarAt(p)), t)?;
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
            let k = sh.with(|ind, bars| {
                ind.bars_since_cross(a.0, b, above, t, BARS_SINCE_LIMIT, bars)
            })?;
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
