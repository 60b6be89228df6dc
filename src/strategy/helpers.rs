//! The bar helpers scripts call: `open/high/low/close/volume(i)`, `et_minute(i)`, the range
//! helpers that replace script loops (`lowest_low`, `first_high_above`, `first_close_above`,
//! `count_closes_below`, ...), and `min`/`max`. Bars are read in place from the shared series;
//! reading a bar after the current one, or one no longer kept, is an error.

use super::call_budget::{CallClock, BAR_READS_PER_OP};
use crate::market::bar::BarSeries;
use rhai::{Dynamic, Engine, EvalAltResult};
use std::cell::RefCell;
use std::rc::Rc;

pub(super) fn bar_missing(i: i64, s: &BarSeries) -> Box<EvalAltResult> {
    let msg = if i >= s.len() as i64 {
        format!(
            "bar {i} does not exist yet (the newest bar is {}): scripts cannot look ahead",
            s.len() as i64 - 1
        )
    } else if i < 0 {
        format!("bar {i} does not exist (bars count from 0)")
    } else {
        format!(
            "bar {i} is no longer in memory (the oldest kept is {})",
            s.first_available()
        )
    };
    msg.into()
}

/// Charges the bars a range helper reads over `from..=to` (clamped to the bars in memory).
fn charge(clock: &CallClock, s: &BarSeries, from: i64, to: i64) {
    if let Some((lo, hi)) = s.clamp(from, to) {
        clock.charge_work((hi - lo + 1) as u64, BAR_READS_PER_OP);
    }
}

/// The bars, with the call charged for reading `from..=to`.
fn read<'a>(
    s: &'a Rc<RefCell<BarSeries>>,
    c: &CallClock,
    from: i64,
    to: i64,
) -> std::cell::Ref<'a, BarSeries> {
    let s = s.borrow();
    charge(c, &s, from, to);
    s
}

/// Registers the bar fields and range helpers, bound to `series`; range helpers charge the bars
/// they read to `clock`.
pub(super) fn register(engine: &mut Engine, series: &Rc<RefCell<BarSeries>>, clock: &CallClock) {
    macro_rules! field {
        ($name:literal, $get:ident) => {{
            let s = series.clone();
            engine.register_fn($name, move |i: i64| -> Result<f64, Box<EvalAltResult>> {
                let s = s.borrow();
                if s.contains(i) {
                    Ok(s.$get(i as usize))
                } else {
                    Err(bar_missing(i, &s))
                }
            });
        }};
    }
    field!("open", open);
    field!("high", high);
    field!("low", low);
    field!("close", close);
    field!("volume", volume);

    let idx = |r: Option<usize>| r.map(|i| i as i64).unwrap_or(-1);
    {
        let s = series.clone();
        engine.register_fn("first_bar", move || s.borrow().first_available() as i64);
    }
    {
        let s = series.clone();
        let clock = crate::market::time::MarketClock::exchange();
        engine.register_fn(
            "et_minute",
            move |i: i64| -> Result<i64, Box<EvalAltResult>> {
                let s = s.borrow();
                if s.contains(i) {
                    Ok(clock.stamp(s.close_time(i as usize)).minute_of_day as i64)
                } else {
                    Err(bar_missing(i, &s))
                }
            },
        );
    }
    // The range helpers: each reads the bars of `from..=to` in memory and charges them.
    type Find = fn(&BarSeries, i64, i64) -> Option<usize>;
    for (name, find) in [
        ("lowest_low", BarSeries::lowest_low as Find),
        ("highest_high", BarSeries::highest_high),
    ] {
        let (s, c) = (series.clone(), clock.clone());
        engine.register_fn(name, move |from: i64, to: i64| {
            idx(find(&read(&s, &c, from, to), from, to))
        });
    }
    type FindLevel = fn(&BarSeries, i64, i64, f64) -> Option<usize>;
    for (name, find) in [
        ("first_high_above", BarSeries::first_high_above as FindLevel),
        ("first_low_below", BarSeries::first_low_below),
        ("first_close_above", BarSeries::first_close_above),
        ("first_close_below", BarSeries::first_close_below),
    ] {
        let (s, c) = (series.clone(), clock.clone());
        engine.register_fn(name, move |from: i64, to: i64, level: f64| {
            idx(find(&read(&s, &c, from, to), from, to, level))
        });
    }
    type FindNear = fn(&BarSeries, i64, i64, f64, f64) -> Option<usize>;
    for (name, find) in [
        (
            "first_pullback_to",
            BarSeries::first_pullback_to as FindNear,
        ),
        ("first_rally_to", BarSeries::first_rally_to),
    ] {
        let (s, c) = (series.clone(), clock.clone());
        engine.register_fn(name, move |from: i64, to: i64, level: f64, tol: f64| {
            idx(find(&read(&s, &c, from, to), from, to, level, tol))
        });
    }
    for (name, high) in [("highs_near", true), ("lows_near", false)] {
        let (s, c) = (series.clone(), clock.clone());
        engine.register_fn(name, move |from: i64, to: i64, price: f64, tol: f64| {
            let mut out = rhai::Array::new();
            let push = |i: usize| out.push(Dynamic::from_int(i as i64));
            let s = read(&s, &c, from, to);
            if high {
                s.each_high_near(from, to, price, tol, push);
            } else {
                s.each_low_near(from, to, price, tol, push);
            }
            out
        });
    }
    for (name, count) in [
        (
            "count_closes_above",
            BarSeries::count_closes_above as fn(&BarSeries, i64, i64, f64) -> usize,
        ),
        ("count_closes_below", BarSeries::count_closes_below),
    ] {
        let (s, c) = (series.clone(), clock.clone());
        engine.register_fn(name, move |from: i64, to: i64, level: f64| {
            count(&read(&s, &c, from, to), from, to, level) as i64
        });
    }
    engine.register_fn("min", |a: i64, b: i64| a.min(b));
    engine.register_fn("max", |a: i64, b: i64| a.max(b));
    engine.register_fn("min", |a: f64, b: f64| a.min(b));
    engine.register_fn("max", |a: f64, b: f64| a.max(b));
}
