//! The bar helpers scripts call: `open/high/low/close/volume(i)`, `et_minute(i)`, the range
//! helpers that replace script loops (`lowest_low`, `first_high_above`, `first_close_above`,
//! `count_closes_below`, ...), and `min`/`max`. Bars are read in place from the shared series;
//! reading a bar after the current one, or one no longer kept, is an error.

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

/// Registers the bar fields and range helpers, bound to `series`.
pub(super) fn register(engine: &mut Engine, series: &Rc<RefCell<BarSeries>>) {
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
    {
        let s = series.clone();
        engine.register_fn("lowest_low", move |from: i64, to: i64| {
            idx(s.borrow().lowest_low(from, to))
        });
    }
    {
        let s = series.clone();
        engine.register_fn("highest_high", move |from: i64, to: i64| {
            idx(s.borrow().highest_high(from, to))
        });
    }
    {
        let s = series.clone();
        engine.register_fn("first_high_above", move |from: i64, to: i64, level: f64| {
            idx(s.borrow().first_high_above(from, to, level))
        });
    }
    {
        let s = series.clone();
        engine.register_fn("first_low_below", move |from: i64, to: i64, level: f64| {
            idx(s.borrow().first_low_below(from, to, level))
        });
    }
    {
        let s = series.clone();
        engine.register_fn(
            "first_pullback_to",
            move |from: i64, to: i64, level: f64, tol: f64| {
                idx(s.borrow().first_pullback_to(from, to, level, tol))
            },
        );
    }
    {
        let s = series.clone();
        engine.register_fn(
            "first_rally_to",
            move |from: i64, to: i64, level: f64, tol: f64| {
                idx(s.borrow().first_rally_to(from, to, level, tol))
            },
        );
    }
    {
        let s = series.clone();
        engine.register_fn(
            "highs_near",
            move |from: i64, to: i64, price: f64, tol: f64| {
                let mut out = rhai::Array::new();
                s.borrow().each_high_near(from, to, price, tol, |i| {
                    out.push(Dynamic::from_int(i as i64))
                });
                out
            },
        );
    }
    {
        let s = series.clone();
        engine.register_fn(
            "lows_near",
            move |from: i64, to: i64, price: f64, tol: f64| {
                let mut out = rhai::Array::new();
                s.borrow().each_low_near(from, to, price, tol, |i| {
                    out.push(Dynamic::from_int(i as i64))
                });
                out
            },
        );
    }
    for (name, find) in [
        (
            "first_close_above",
            BarSeries::first_close_above as fn(&BarSeries, i64, i64, f64) -> Option<usize>,
        ),
        ("first_close_below", BarSeries::first_close_below),
    ] {
        let s = series.clone();
        engine.register_fn(name, move |from: i64, to: i64, level: f64| {
            idx(find(&s.borrow(), from, to, level))
        });
    }
    for (name, count) in [
        (
            "count_closes_above",
            BarSeries::count_closes_above as fn(&BarSeries, i64, i64, f64) -> usize,
        ),
        ("count_closes_below", BarSeries::count_closes_below),
    ] {
        let s = series.clone();
        engine.register_fn(name, move |from: i64, to: i64, level: f64| {
            count(&s.borrow(), from, to, level) as i64
        });
    }
    engine.register_fn("min", |a: i64, b: i64| a.min(b));
    engine.register_fn("max", |a: i64, b: i64| a.max(b));
    engine.register_fn("min", |a: f64, b: f64| a.min(b));
    engine.register_fn("max", |a: f64, b: f64| a.max(b));
}
