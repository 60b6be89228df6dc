//! The scan vocabulary of [`crate::strategy::scan`] as chained methods on a `Scan` value
//! (`origins(59, 2).level_at_high().lowest_low("L", "origin", 0, 14)...`), and the map of marks
//! a scan found, which `on_bar(t, p, v)` receives.

use crate::strategy::scan::{Find, Found, Level, Scan, Step};
use rhai::{Dynamic, Engine, EvalAltResult, Map};

fn points(v: &Dynamic, what: &str) -> Result<f64, Box<EvalAltResult>> {
    v.as_float()
        .or_else(|_| v.as_int().map(|i| i as f64))
        .map_err(|_| format!("{what} must be a number, found {}", v.type_name()).into())
}

/// What a scan found, as `on_bar(t, p, v)` sees it: a map of `v.origin`, `v.L`, ... (bar indices)
/// and `v.scan` (the scan's name).
///
/// A map, not a type of our own: Rhai reads a map's key in place, while a property of a custom
/// type first fails a getter lookup, formatting an error message each time, before it tries the
/// indexer; that was about 40 % of the production script's time in Rhai. A read of a mark the scan
/// does not have (`v.Low`) is refused when the script is bound, naming the marks it has
/// (`unknown_mark_reads` in `script_calls.rs`).
pub fn marks_map(scan: &Scan, found: &Found) -> Map {
    let mut m = Map::new();
    for (name, &bar) in scan.marks.iter().zip(found.marks.iter()) {
        m.insert(name.as_str().into(), Dynamic::from_int(bar as i64));
    }
    m.insert("scan".into(), scan.name.as_str().into());
    m
}

/// The scan vocabulary of [`crate::strategy::scan`], as chained methods on a `Scan` value.
pub(super) fn register(engine: &mut Engine) {
    type R = Result<Scan, Box<EvalAltResult>>;
    let fail = |e: String| -> Box<EvalAltResult> { e.into() };
    engine.register_type_with_name::<Scan>("Scan");
    engine.register_fn("origins", move |max_back: i64, min_back: i64| -> R {
        Scan::new("scan", max_back, min_back).map_err(fail)
    });
    engine.register_fn("named", |s: &mut Scan, name: &str| -> Scan {
        s.name = name.to_string();
        s.clone()
    });
    for (fname, level) in [
        ("level_at_high", Level::High),
        ("level_at_low", Level::Low),
        ("level_at_close", Level::Close),
    ] {
        engine.register_fn(fname, move |s: &mut Scan| -> Scan {
            s.level = level;
            s.clone()
        });
    }
    let marks: [(&str, Find); 4] = [
        ("lowest_low", Find::LowestLow),
        ("highest_high", Find::HighestHigh),
        ("first_high_above_level", Find::HighAboveLevel),
        ("first_low_below_level", Find::LowBelowLevel),
    ];
    for (fname, find) in marks {
        engine.register_fn(
            fname,
            move |s: &mut Scan, name: &str, from: &str, lo: i64, hi: i64| -> R {
                s.add_mark(name, from, lo, hi, find).map_err(fail)?;
                Ok(s.clone())
            },
        );
    }
    engine.register_fn(
        "first_pullback_to_level",
        move |s: &mut Scan, name: &str, from: &str, lo: i64, hi: i64, tol: Dynamic| -> R {
            let tol = points(&tol, "tolerance")?;
            s.add_mark(name, from, lo, hi, Find::PullbackToLevel { tol })
                .map_err(fail)?;
            Ok(s.clone())
        },
    );
    engine.register_fn(
        "first_rally_to_level",
        move |s: &mut Scan, name: &str, from: &str, lo: i64, hi: i64, tol: Dynamic| -> R {
            let tol = points(&tol, "tolerance")?;
            s.add_mark(name, from, lo, hi, Find::RallyToLevel { tol })
                .map_err(fail)?;
            Ok(s.clone())
        },
    );
    engine.register_fn(
        "require_drop",
        move |s: &mut Scan, mark: &str, pts: Dynamic| -> R {
            let step = Step::DropAtLeast {
                mark: s.mark_index(mark).map_err(fail)?,
                points: points(&pts, "drop")?,
            };
            s.add_requirement(step);
            Ok(s.clone())
        },
    );
    engine.register_fn(
        "require_rise",
        move |s: &mut Scan, mark: &str, pts: Dynamic| -> R {
            let step = Step::RiseAtLeast {
                mark: s.mark_index(mark).map_err(fail)?,
                points: points(&pts, "rise")?,
            };
            s.add_requirement(step);
            Ok(s.clone())
        },
    );
    engine.register_fn(
        "require_before_this_bar",
        move |s: &mut Scan, mark: &str| -> R {
            let step = Step::BeforeThisBar {
                mark: s.mark_index(mark).map_err(fail)?,
            };
            s.add_requirement(step);
            Ok(s.clone())
        },
    );
    engine.register_fn("require_this_bar", move |s: &mut Scan, mark: &str| -> R {
        let step = Step::IsThisBar {
            mark: s.mark_index(mark).map_err(fail)?,
        };
        s.add_requirement(step);
        Ok(s.clone())
    });
}
