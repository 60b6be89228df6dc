//! What a proposal must be before the host rules look at it (DESIGN §14): every number finite and
//! plausible for this bar, every text safe to write as one `KEY=VALUE` line. A proposal that
//! fails is the script's error (journaled with the strategy's name, that bar gets no signal),
//! never a panic and never a forged line in a signal file.

use crate::config::value_problem;
use crate::host::signal::extra_key_problem;
use crate::strategy::{ExtraValue, Proposal};

/// The entry reference may differ from the signal bar's close by at most this fraction of it:
/// the entry is a market order at the next bar's open, a price far from this bar is a bug.
pub const MAX_ENTRY_DISTANCE: f64 = 0.10;

/// Anchors and a proposed stop may differ from the signal bar's close by at most this fraction
/// of it: they are prices of the pattern's bars (an anchor of 1e28 makes an unwritable file name).
pub const MAX_PRICE_DISTANCE: f64 = 1.0;

/// Longest `PATTERN_TYPE` and extra text value.
pub const MAX_TEXT_CHARS: usize = 200;

/// `Err(what is wrong)` when the proposal cannot become a signal at a bar closing at `close`.
pub fn check(p: &Proposal, close: f64) -> Result<(), String> {
    let far = |name: &str, v: f64, limit: f64| -> Result<(), String> {
        if !v.is_finite() {
            return Err(format!("proposal `{name}` is not a finite number ({v})"));
        }
        if (v - close).abs() > limit * close.abs() {
            return Err(format!(
                "proposal `{name}` {v} is implausibly far from this bar's close {close} (more than {:.0} %)",
                limit * 100.0
            ));
        }
        Ok(())
    };
    far("entry", p.entry, MAX_ENTRY_DISTANCE)?;
    far("anchor_a", p.anchor_a, MAX_PRICE_DISTANCE)?;
    far("anchor_b", p.anchor_b, MAX_PRICE_DISTANCE)?;
    if let Some(stop) = p.stop {
        far("stop", stop, MAX_PRICE_DISTANCE)?;
    }
    if let Some(target) = p.plan.target {
        far("target", target, MAX_PRICE_DISTANCE)?;
    }
    // Multiples and distances: finite, above zero and below what any plan could mean.
    for (name, v, max) in [
        ("target_r", p.plan.target_r, 1_000.0),
        ("breakeven_at_r", p.plan.breakeven_at_r, 1_000.0),
        ("trail_points", p.plan.trail_points, close.abs()),
        ("risk", p.plan.risk, 1e9),
    ] {
        if let Some(v) = v {
            if !(v.is_finite() && v > 0.0 && v <= max) {
                return Err(format!(
                    "proposal `{name}` {v} is not a plausible value (above 0, at most {max})"
                ));
            }
        }
    }
    if let Some(pattern) = &p.pattern {
        if let Some(why) = value_problem(pattern, MAX_TEXT_CHARS) {
            return Err(format!("proposal `pattern` {pattern:?} {why}"));
        }
    }
    let mut seen: Vec<String> = Vec::with_capacity(p.extra.len());
    for (key, value) in &p.extra {
        if let Some(why) = extra_key_problem(key) {
            return Err(format!("extra key `{key}` {why}"));
        }
        let upper = key.to_ascii_uppercase();
        if seen.contains(&upper) {
            return Err(format!(
                "extra keys differ only in case: two would be written as `{upper}`"
            ));
        }
        seen.push(upper);
        match value {
            ExtraValue::Float(f) if !f.is_finite() => {
                return Err(format!("extra `{key}` is not a finite number ({f})"));
            }
            ExtraValue::Text(t) => {
                if let Some(why) = value_problem(t, MAX_TEXT_CHARS) {
                    return Err(format!("extra `{key}` {t:?} {why}"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::price::Side;

    fn proposal() -> Proposal {
        Proposal {
            side: Side::Buy,
            entry: 5000.0,
            anchor_a: 5004.0,
            anchor_b: 4995.0,
            confidence: None,
            stop: None,
            plan: Default::default(),
            pattern: None,
            extra: vec![],
        }
    }

    #[test]
    fn refuses_what_cannot_be_written_or_is_not_a_price() {
        let text = |s: &str| ExtraValue::Text(s.into());
        // (change, fragment of the error; "" = accepted)
        type Change = Box<dyn Fn(&mut Proposal)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|_| {}), ""),
            (Box::new(|p| p.entry = f64::NAN), "`entry` is not a finite"),
            (
                Box::new(|p| p.entry = 2e28),
                "`entry` 20000000000000000000000000000 is implausibly far",
            ),
            (Box::new(|p| p.entry = 5600.0), "implausibly far"),
            (Box::new(|p| p.entry = 5400.0), ""),
            (Box::new(|p| p.anchor_a = 1e300), "`anchor_a`"),
            (
                Box::new(|p| p.anchor_b = f64::INFINITY),
                "`anchor_b` is not a finite",
            ),
            (Box::new(|p| p.stop = Some(-2e28)), "`stop`"),
            (
                Box::new(|p| p.pattern = Some("v\nACTION=SELL".into())),
                "control character",
            ),
            (Box::new(|p| p.pattern = Some("a=b".into())), "contains `=`"),
            (Box::new(|p| p.pattern = Some("v_reversal".into())), ""),
            (
                Box::new(|p| p.extra = vec![("depth\nACTION".into(), ExtraValue::Int(1))]),
                "letters, digits",
            ),
            (
                Box::new(|p| p.extra = vec![("stop_loss".into(), ExtraValue::Float(1.0))]),
                "`STOP_LOSS` is a key the host writes",
            ),
            (
                Box::new(|p| {
                    p.extra = vec![
                        ("depth".into(), ExtraValue::Int(1)),
                        ("DEPTH".into(), ExtraValue::Int(2)),
                    ]
                }),
                "differ only in case",
            ),
            (
                Box::new(move |p| p.extra = vec![("note".into(), text("a\r\nQUANTITY=99"))]),
                "control character",
            ),
            (
                Box::new(|p| p.extra = vec![("x".into(), ExtraValue::Float(f64::NAN))]),
                "not a finite",
            ),
            (
                Box::new(move |p| p.extra = vec![("note".into(), text("retest held; 2 bars"))]),
                "",
            ),
        ];
        for (n, (change, want)) in cases.iter().enumerate() {
            let mut p = proposal();
            change(&mut p);
            match (check(&p, 5000.0), *want) {
                (Ok(()), "") => {}
                (Err(e), w) if !w.is_empty() && e.contains(w) => {}
                (got, w) => panic!("case {n}: want {w:?}, got {got:?}"),
            }
        }
    }
}
