//! Every series against a plain reference that recomputes each value from scratch, on random
//! bars with gaps (missing minutes, hours, weekends) across a DST change.

use super::day::{position, DayValue};
use super::{Field, Indicators, Level, SeriesId, Spec};
use crate::market::bar::{Bar, BarSeries};
use crate::market::time::MarketClock;
use rand::{Rng, SeedableRng};

const NAN: f64 = f64::NAN;

fn random_bars(n: usize, seed: u64) -> Vec<Bar> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // 2025-03-06 23:00 UTC: a Thursday evening, three days before the spring DST change.
    let mut t = 1_741_302_000i64;
    let mut close = 5000.0f64;
    (0..n)
        .map(|_| {
            t += if rng.random_bool(0.03) {
                60 * rng.random_range(2..900)
            } else {
                60
            };
            let open = close;
            close = (open + 0.25 * rng.random_range(-8i32..=8) as f64).max(1.0);
            let high = open.max(close) + 0.25 * rng.random_range(0..4) as f64;
            let low = open.min(close) - 0.25 * rng.random_range(0..4) as f64;
            Bar {
                close_time: t,
                open,
                high,
                low,
                close,
                volume: rng.random_range(0..50) as f64,
            }
        })
        .collect()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Pine's seeded smoothing, written as the definition reads.
fn smooth(xs: &[f64], n: usize, alpha: f64) -> Vec<f64> {
    let mut out = vec![NAN; xs.len()];
    for i in 0..xs.len() {
        if i + 1 == n {
            out[i] = mean(&xs[..n]);
        } else if i + 1 > n {
            out[i] = alpha * xs[i] + (1.0 - alpha) * out[i - 1];
        }
    }
    out
}

fn sma(xs: &[f64], n: usize) -> Vec<f64> {
    (0..xs.len())
        .map(|i| {
            if i + 1 >= n {
                mean(&xs[i + 1 - n..=i])
            } else {
                NAN
            }
        })
        .collect()
}

fn rsi(xs: &[f64], n: usize) -> Vec<f64> {
    let ups: Vec<f64> = xs.windows(2).map(|w| (w[1] - w[0]).max(0.0)).collect();
    let downs: Vec<f64> = xs.windows(2).map(|w| (w[0] - w[1]).max(0.0)).collect();
    let (u, d) = (
        smooth(&ups, n, 1.0 / n as f64),
        smooth(&downs, n, 1.0 / n as f64),
    );
    let mut out = vec![NAN];
    for k in 0..ups.len() {
        out.push(if u[k].is_nan() {
            NAN
        } else if d[k] == 0.0 {
            100.0
        } else if u[k] == 0.0 {
            0.0
        } else {
            100.0 - 100.0 / (1.0 + u[k] / d[k])
        });
    }
    out
}

fn atr(bars: &[Bar], n: usize) -> Vec<f64> {
    let tr: Vec<f64> = (0..bars.len())
        .map(|i| {
            let b = bars[i];
            if i == 0 {
                b.high - b.low
            } else {
                let pc = bars[i - 1].close;
                (b.high - b.low)
                    .max((b.high - pc).abs())
                    .max((b.low - pc).abs())
            }
        })
        .collect();
    smooth(&tr, n, 1.0 / n as f64)
}

fn extreme(xs: &[f64], n: usize, highest: bool) -> Vec<f64> {
    (0..xs.len())
        .map(|i| {
            if i + 1 < n {
                return NAN;
            }
            let w = xs[i + 1 - n..=i].iter().copied();
            if highest {
                w.fold(f64::MIN, f64::max)
            } else {
                w.fold(f64::MAX, f64::min)
            }
        })
        .collect()
}

/// (trading day, position in it) of every bar, from the market clock directly.
fn places(bars: &[Bar]) -> Vec<(chrono::NaiveDate, u32)> {
    let clock = MarketClock::exchange();
    bars.iter()
        .map(|b| {
            let s = clock.stamp(b.close_time);
            (s.trading_day, position(s.minute_of_day, 18 * 60))
        })
        .collect()
}

fn day_value(bars: &[Bar], what: DayValue) -> Vec<f64> {
    let p = places(bars);
    (0..bars.len())
        .map(|i| {
            let today: Vec<&Bar> = (0..=i)
                .filter(|&k| p[k].0 == p[i].0)
                .map(|k| &bars[k])
                .collect();
            let prev_day = (0..i).rev().map(|k| p[k].0).find(|d| *d < p[i].0);
            let prev: Vec<&Bar> = match prev_day {
                Some(d) => (0..i).filter(|&k| p[k].0 == d).map(|k| &bars[k]).collect(),
                None => vec![],
            };
            let hi = |v: &[&Bar]| v.iter().map(|b| b.high).fold(f64::MIN, f64::max);
            let lo = |v: &[&Bar]| v.iter().map(|b| b.low).fold(f64::MAX, f64::min);
            match what {
                DayValue::SessionOpen => today[0].open,
                DayValue::SessionHigh => hi(&today),
                DayValue::SessionLow => lo(&today),
                DayValue::PrevDayHigh if !prev.is_empty() => hi(&prev),
                DayValue::PrevDayLow if !prev.is_empty() => lo(&prev),
                DayValue::PrevDayClose if !prev.is_empty() => prev[prev.len() - 1].close,
                DayValue::Vwap => {
                    let v: f64 = today.iter().map(|b| b.volume).sum();
                    let pv: f64 = today
                        .iter()
                        .map(|b| (b.high + b.low + b.close) / 3.0 * b.volume)
                        .sum();
                    if v > 0.0 {
                        pv / v
                    } else {
                        NAN
                    }
                }
                _ => NAN,
            }
        })
        .collect()
}

/// Highest high / lowest low of the day's bars so far that close after `anchor`; NaN at a bar
/// that closes at or before it.
fn since(bars: &[Bar], anchor: u32, high: bool) -> Vec<f64> {
    let p = places(bars);
    (0..bars.len())
        .map(|i| {
            if p[i].1 <= anchor {
                return NAN;
            }
            let xs = (0..=i)
                .filter(|&k| p[k].0 == p[i].0 && p[k].1 > anchor)
                .map(|k| if high { bars[k].high } else { bars[k].low });
            if high {
                xs.fold(f64::MIN, f64::max)
            } else {
                xs.fold(f64::MAX, f64::min)
            }
        })
        .collect()
}

fn range(bars: &[Bar], start: u32, end: u32, high: bool) -> Vec<f64> {
    let p = places(bars);
    (0..bars.len())
        .map(|i| {
            // Complete at the first bar of the day at or after the end; fixed from there on
            // (random bars include weekend hours, which repeat positions within one day).
            let Some(done) = (0..=i).find(|&k| p[k].0 == p[i].0 && p[k].1 >= end) else {
                return NAN;
            };
            let complete = true;
            let inside: Vec<f64> = (0..=done)
                .filter(|&k| p[k].0 == p[i].0 && p[k].1 > start && p[k].1 <= end)
                .map(|k| if high { bars[k].high } else { bars[k].low })
                .collect();
            if !complete || inside.is_empty() {
                NAN
            } else if high {
                inside.iter().copied().fold(f64::MIN, f64::max)
            } else {
                inside.iter().copied().fold(f64::MAX, f64::min)
            }
        })
        .collect()
}

fn bar_at(bars: &[Bar], at: u32) -> Vec<f64> {
    let p = places(bars);
    (0..bars.len())
        .map(|i| {
            (0..=i)
                .rev()
                .find(|&k| p[k].0 == p[i].0 && p[k].1 <= at)
                .map_or(NAN, |k| k as f64)
        })
        .collect()
}

fn close_enough(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * (1.0 + b.abs())
}

/// Pushes `bars` one by one, registering each spec at `register_at` (a bar index), reading the
/// values of every bar afterwards.
fn host_values(
    bars: &[Bar],
    specs: &dyn Fn(&mut Indicators, &BarSeries) -> SeriesId,
    register_at: usize,
    capacity: usize,
) -> Vec<f64> {
    let mut s = BarSeries::with_capacity(capacity);
    let mut ind = Indicators::new(s.capacity(), 18 * 60);
    let mut id = None;
    for (i, b) in bars.iter().enumerate() {
        s.push(b);
        if i == register_at {
            id = Some(specs(&mut ind, &s));
        }
        // Ask only now and then, as a script called in windows does: the host catches up.
        if i % 97 == 0 {
            if let Some(id) = id {
                ind.value(id, i as i64, &s).unwrap();
            }
        }
    }
    let id = id.unwrap();
    (0..bars.len())
        .map(|i| ind.value(id, i as i64, &s).unwrap_or(NAN))
        .collect()
}

#[test]
fn every_series_equals_its_plain_reference_on_random_bars() {
    let bars = random_bars(3000, 7);
    let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let highs: Vec<f64> = bars.iter().map(|b| b.high).collect();
    let lows: Vec<f64> = bars.iter().map(|b| b.low).collect();
    let volumes: Vec<f64> = bars.iter().map(|b| b.volume).collect();
    let close = |ind: &mut Indicators, s: &BarSeries| ind.get(Spec::Field(Field::Close), s);
    type Case<'a> = (
        &'a str,
        Box<dyn Fn(&mut Indicators, &BarSeries) -> SeriesId>,
        Vec<f64>,
    );
    let cases: Vec<Case> = vec![
        (
            "sma(20)",
            Box::new(move |i, s| {
                let c = close(i, s);
                i.get(Spec::Sma(c, 20), s)
            }),
            sma(&closes, 20),
        ),
        (
            "sma(1)",
            Box::new(move |i, s| {
                let c = close(i, s);
                i.get(Spec::Sma(c, 1), s)
            }),
            closes.clone(),
        ),
        (
            "ema(9)",
            Box::new(move |i, s| {
                let c = close(i, s);
                i.get(Spec::Ema(c, 9), s)
            }),
            smooth(&closes, 9, 0.2),
        ),
        (
            "rsi(14)",
            Box::new(move |i, s| {
                let c = close(i, s);
                i.get(Spec::Rsi(c, 14), s)
            }),
            rsi(&closes, 14),
        ),
        (
            "atr(14)",
            Box::new(|i, s| i.get(Spec::Atr(14), s)),
            atr(&bars, 14),
        ),
        (
            "highest(30)",
            Box::new(|i, s| {
                let h = i.get(Spec::Field(Field::High), s);
                i.get(Spec::Highest(h, 30), s)
            }),
            extreme(&highs, 30, true),
        ),
        (
            "lowest(30)",
            Box::new(|i, s| {
                let l = i.get(Spec::Field(Field::Low), s);
                i.get(Spec::Lowest(l, 30), s)
            }),
            extreme(&lows, 30, false),
        ),
        (
            "sma(volumes, 5)",
            Box::new(|i, s| {
                let v = i.get(Spec::Field(Field::Volume), s);
                i.get(Spec::Sma(v, 5), s)
            }),
            sma(&volumes, 5),
        ),
        (
            "ema(sma(10), 5)",
            Box::new(move |i, s| {
                let c = close(i, s);
                let m = i.get(Spec::Sma(c, 10), s);
                i.get(Spec::Ema(m, 5), s)
            }),
            {
                let m = sma(&closes, 10);
                let mut e = smooth(&m[9..], 5, 2.0 / 6.0);
                let mut v = vec![NAN; 9];
                v.append(&mut e);
                v
            },
        ),
        (
            "vwap",
            Box::new(|i, s| i.get(Spec::Day(DayValue::Vwap), s)),
            day_value(&bars, DayValue::Vwap),
        ),
        (
            "session_open",
            Box::new(|i, s| i.get(Spec::Day(DayValue::SessionOpen), s)),
            day_value(&bars, DayValue::SessionOpen),
        ),
        (
            "session_high",
            Box::new(|i, s| i.get(Spec::Day(DayValue::SessionHigh), s)),
            day_value(&bars, DayValue::SessionHigh),
        ),
        (
            "session_low",
            Box::new(|i, s| i.get(Spec::Day(DayValue::SessionLow), s)),
            day_value(&bars, DayValue::SessionLow),
        ),
        (
            "prev_day_high",
            Box::new(|i, s| i.get(Spec::Day(DayValue::PrevDayHigh), s)),
            day_value(&bars, DayValue::PrevDayHigh),
        ),
        (
            "prev_day_low",
            Box::new(|i, s| i.get(Spec::Day(DayValue::PrevDayLow), s)),
            day_value(&bars, DayValue::PrevDayLow),
        ),
        (
            "prev_day_close",
            Box::new(|i, s| i.get(Spec::Day(DayValue::PrevDayClose), s)),
            day_value(&bars, DayValue::PrevDayClose),
        ),
        // 09:30-09:45 ET = positions 930..945 after 18:00.
        (
            "range_high(09:30, 09:45)",
            Box::new(|i, s| i.get(Spec::RangeHigh(930, 945), s)),
            range(&bars, 930, 945, true),
        ),
        (
            "range_low(09:30, 09:45)",
            Box::new(|i, s| i.get(Spec::RangeLow(930, 945), s)),
            range(&bars, 930, 945, false),
        ),
        (
            "highest_since(09:30)",
            Box::new(|i, s| i.get(Spec::HighestSince(930), s)),
            since(&bars, 930, true),
        ),
        (
            "lowest_since(09:30)",
            Box::new(|i, s| i.get(Spec::LowestSince(930), s)),
            since(&bars, 930, false),
        ),
        (
            "bar_at(09:45)",
            Box::new(|i, s| i.get(Spec::BarAt(945), s)),
            bar_at(&bars, 945),
        ),
    ];
    for (name, spec, want) in &cases {
        // Registered at the first bar, and late (warmed from the bars in memory): the same.
        for register_at in [0, 1700] {
            let got = host_values(&bars, spec.as_ref(), register_at, 4096);
            for i in 0..bars.len() {
                assert!(
                    close_enough(got[i], want[i]),
                    "{name} registered at bar {register_at}: bar {i}: host {} reference {}",
                    got[i],
                    want[i]
                );
            }
        }
    }
}

#[test]
fn a_series_never_reads_past_the_newest_bar_or_before_the_history() {
    let bars = random_bars(300, 3);
    let mut s = BarSeries::with_capacity(64);
    let mut ind = Indicators::new(s.capacity(), 18 * 60);
    for b in &bars {
        s.push(b);
    }
    let c = ind.get(Spec::Field(Field::Close), &s);
    let e = ind.get(Spec::Sma(c, 3), &s);
    assert!(ind
        .value(e, 300, &s)
        .unwrap_err()
        .contains("cannot look ahead"));
    assert!(ind
        .value(e, 10, &s)
        .unwrap_err()
        .contains("no longer in memory"));
    assert!(ind.value(e, 299, &s).is_ok());
    // More bars than the history keeps arrive between two reads: the series start again from
    // the oldest bar in memory (and warm up again) instead of reading bars that are gone.
    for b in random_bars(200, 4) {
        let mut b = b;
        b.close_time += 10_000_000;
        s.push(&b);
    }
    let newest = s.last().unwrap() as i64;
    let first = s.first_available() as i64;
    assert!(
        ind.value(e, first, &s).unwrap().is_nan(),
        "warming up again"
    );
    let want =
        (s.close(newest as usize) + s.close(newest as usize - 1) + s.close(newest as usize - 2))
            / 3.0;
    assert!(close_enough(ind.value(e, newest, &s).unwrap(), want));
}

#[test]
fn crossings_and_bars_since_equal_their_plain_reference() {
    let bars = random_bars(3000, 11);
    let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let (fast, slow) = (
        smooth(&closes, 5, 2.0 / 6.0),
        smooth(&closes, 20, 2.0 / 21.0),
    );
    let over = |i: usize| i >= 1 && fast[i] > slow[i] && fast[i - 1] <= slow[i - 1];
    let under = |i: usize| i >= 1 && fast[i] < slow[i] && fast[i - 1] >= slow[i - 1];
    let level = 5000.0;
    let over_level = |i: usize| i >= 1 && closes[i] > level && closes[i - 1] <= level;
    let mut s = BarSeries::with_capacity(4096);
    let mut ind = Indicators::new(s.capacity(), 18 * 60);
    for b in &bars {
        s.push(b);
    }
    let c = ind.get(Spec::Field(Field::Close), &s);
    let f = ind.get(Spec::Ema(c, 5), &s);
    let sl = ind.get(Spec::Ema(c, 20), &s);
    let since = |cross: &dyn Fn(usize) -> bool, t: usize, max: usize| {
        (0..=max.min(t)).find(|&k| cross(t - k)).map(|k| k as i64)
    };
    for t in 0..bars.len() {
        let ti = t as i64;
        assert_eq!(
            ind.crosses(f, Level::Series(sl), true, ti, &s).unwrap(),
            over(t),
            "over {t}"
        );
        assert_eq!(
            ind.crosses(f, Level::Series(sl), false, ti, &s).unwrap(),
            under(t),
            "under {t}"
        );
        assert_eq!(
            ind.crosses(c, Level::Value(level), true, ti, &s).unwrap(),
            over_level(t)
        );
        assert_eq!(
            ind.bars_since_cross(f, Level::Series(sl), true, ti, 300, &s)
                .unwrap(),
            since(&over, t, 300),
            "bars since over {t}"
        );
    }
    assert!(ind
        .crosses(f, Level::Value(1.0), true, 3000, &s)
        .unwrap_err()
        .contains("look ahead"));
}

#[test]
fn a_windowed_series_registered_late_warms_over_its_window_not_every_bar() {
    // orb's volume average is dropped between breakout days and asked for again: it used to warm
    // over every bar in memory each time. An SMA, highest or lowest needs its window only.
    let bars = random_bars(20_000, 11);
    let volumes: Vec<f64> = bars.iter().map(|b| b.volume).collect();
    let highs: Vec<f64> = bars.iter().map(|b| b.high).collect();
    let mut s = BarSeries::with_capacity(32_768);
    let mut ind = Indicators::new(s.capacity(), 18 * 60);
    let close = ind.get(Spec::Field(Field::Close), &s);
    for (i, b) in bars.iter().enumerate() {
        s.push(b);
        ind.value(close, i as i64, &s).unwrap();
    }
    let last = bars.len() - 1;
    let before = ind.work();
    let v = ind.get(Spec::Field(Field::Volume), &s);
    let avg = ind.get(Spec::Sma(v, 20), &s);
    let h = ind.get(Spec::Field(Field::High), &s);
    let hi = ind.get(Spec::Highest(h, 30), &s);
    let work = ind.work() - before;
    // Each series: the 4,096 values it keeps, plus its window for an SMA or highest (a field
    // series keeps no state; its dependents read older fields from the bars).
    assert!(work <= 4 * (4096 + 30), "{work} steps");
    let sma_want = sma(&volumes, 20);
    let hi_want = extreme(&highs, 30, true);
    for i in last - 4095..=last {
        let got = ind.value(avg, i as i64, &s).unwrap();
        assert!(
            close_enough(got, sma_want[i]),
            "sma bar {i}: {got} vs {}",
            sma_want[i]
        );
        assert_eq!(
            ind.value(hi, i as i64, &s).unwrap(),
            hi_want[i],
            "highest bar {i}"
        );
    }
}

#[test]
fn a_series_of_the_clock_registered_late_warms_over_two_days_before_its_kept_values_not_every_bar()
{
    // orb's `bar_at(t, "09:45")` is dropped on days without a breakout and asked for again: it
    // was warmed over every bar in memory, converting each close time to ET (30 % of orb's
    // replay). A series of the clock restarts each trading day (the previous day's values at
    // most): its kept values need the day of the oldest kept bar and the day before.
    let bars = random_bars(20_000, 12);
    let specs = [
        Spec::BarAt(9 * 60 + 45),
        Spec::RangeHigh(9 * 60 + 30, 9 * 60 + 45),
        Spec::RangeLow(9 * 60 + 30, 9 * 60 + 45),
        Spec::Day(DayValue::PrevDayHigh),
        Spec::Day(DayValue::Vwap),
        Spec::AnchoredVwap(9 * 60 + 30),
        Spec::HighestSince(9 * 60 + 30),
        Spec::LowestSince(9 * 60 + 30),
    ];
    let mut s = BarSeries::with_capacity(32_768);
    // `all` has every series from the first bar; `late` gets them at the end.
    let mut all = Indicators::new(s.capacity(), 18 * 60);
    let mut late = Indicators::new(s.capacity(), 18 * 60);
    let close = late.get(Spec::Field(Field::Close), &s);
    let all_ids: Vec<SeriesId> = specs.iter().map(|&sp| all.get(sp, &s)).collect();
    for (i, b) in bars.iter().enumerate() {
        s.push(b);
        late.value(close, i as i64, &s).unwrap();
        for &id in &all_ids {
            all.value(id, i as i64, &s).unwrap();
        }
    }
    let last = bars.len() - 1;
    let before = late.work();
    let late_ids: Vec<SeriesId> = specs.iter().map(|&sp| late.get(sp, &s)).collect();
    let work = late.work() - before;
    // Each series: the 4,096 values it keeps plus at most two trading days of bars (1,440
    // one-minute bars each) before them.
    assert!(
        work <= specs.len() as u64 * (4096 + 2 * 1440),
        "{work} steps"
    );
    for i in last - 4095..=last {
        for (k, sp) in specs.iter().enumerate() {
            let want = all.value(all_ids[k], i as i64, &s).unwrap();
            let got = late.value(late_ids[k], i as i64, &s).unwrap();
            assert!(
                got == want || (got.is_nan() && want.is_nan()),
                "{sp:?} bar {i}: {got} vs {want}"
            );
        }
    }
}
