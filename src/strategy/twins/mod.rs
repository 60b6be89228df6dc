//! Native Rust twins of the shipped indicator strategies (`strategies/orb.rhai`,
//! `vwap_reversion.rhai`, `ema_pullback.rhai`), selected with `strategy = "builtin:orb"` etc.
//! They exist for tests (each script must propose exactly what its twin proposes, on synthetic
//! bars and on the real file) and for the replay benchmark (the yardstick a script's speed is
//! measured against). Each twin reads the same series the script does, registered in the same
//! order, so both see bit-identical indicator values.

mod ema_pullback;
mod orb;
mod vwap_reversion;

use super::{ExtraValue, Proposal, Strategy, StrategyError, StrategyVersion};
use crate::market::bar::BarSeries;
use crate::market::price::Side;
use crate::strategy::indicators::{Indicators, SeriesId, Spec};
use std::cell::RefCell;
use std::rc::Rc;

/// Builds the twin a `builtin:NAME` spec names, if it names one of these.
pub fn build(
    spec: &str,
    series: Rc<RefCell<BarSeries>>,
    params: &toml::Table,
    day_start_minute: u32,
) -> Option<Result<Box<dyn Strategy>, String>> {
    let name = spec.strip_prefix("builtin:")?;
    let ctx = || Ctx::new(series.clone(), day_start_minute, spec);
    let twin: Result<Box<dyn Strategy>, String> = match name {
        "orb" => orb::Orb::new(ctx(), params).map(|s| Box::new(s) as Box<dyn Strategy>),
        "vwap_reversion" => vwap_reversion::VwapReversion::new(ctx(), params)
            .map(|s| Box::new(s) as Box<dyn Strategy>),
        "ema_pullback" => {
            ema_pullback::EmaPullback::new(ctx(), params).map(|s| Box::new(s) as Box<dyn Strategy>)
        }
        _ => return None,
    };
    Some(twin)
}

/// The bars, the twin's own series registry and its version.
struct Ctx {
    series: Rc<RefCell<BarSeries>>,
    ind: Indicators,
    version: StrategyVersion,
}

impl Ctx {
    fn new(series: Rc<RefCell<BarSeries>>, day_start_minute: u32, spec: &str) -> Self {
        let capacity = series.borrow().capacity();
        Ctx {
            series,
            ind: Indicators::new(capacity, day_start_minute),
            version: StrategyVersion {
                name: spec.into(),
                hash: "native".into(),
            },
        }
    }

    fn get(&mut self, spec: Spec) -> SeriesId {
        // A twin asks for fewer than ten series, all on every bar: the count never runs out.
        self.ind
            .series(spec, &self.series.borrow())
            .expect("a twin's few series fit under MAX_SERIES")
    }

    /// Value of `id` at bar `t` (the current bar: always there).
    fn at(&mut self, id: SeriesId, t: usize) -> f64 {
        self.ind
            .value(id, t as i64, &self.series.borrow())
            .unwrap_or(f64::NAN)
    }
}

/// Reads `key` of a profile's params, or `default`.
fn param<T>(
    table: &toml::Table,
    key: &str,
    default: T,
    read: impl Fn(&toml::Value) -> Option<T>,
) -> Result<T, String> {
    match table.get(key) {
        None => Ok(default),
        Some(v) => read(v).ok_or_else(|| format!("parameter `{key}` has the wrong type: {v}")),
    }
}

fn number(v: &toml::Value) -> Option<f64> {
    v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
}

fn whole(v: &toml::Value) -> Option<i64> {
    v.as_integer()
}

/// Refuses parameters the twin does not know (as the script would).
fn known(table: &toml::Table, names: &[&str]) -> Result<(), String> {
    match table.keys().find(|k| !names.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "unknown parameter `{k}` (known: {})",
            names.join(", ")
        )),
        None => Ok(()),
    }
}

/// A proposal as the scripts write it: confidence in hundredths.
fn proposal(
    side: Side,
    entry: f64,
    anchors: (f64, f64),
    confidence: i64,
    pattern: &str,
    extra: Vec<(String, ExtraValue)>,
) -> Proposal {
    Proposal {
        side,
        entry,
        anchor_a: anchors.0,
        anchor_b: anchors.1,
        confidence: Some(confidence as u32),
        stop: None,
        plan: Default::default(),
        pattern: Some(pattern.into()),
        extra,
    }
}

/// Errors never happen in twins; the type is the trait's.
type Out = Result<(), StrategyError>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BUILTIN_STRATEGIES;
    use crate::strategy::native::NativeStrategy;

    /// Every `builtin:` name the config accepts builds a strategy here, and no other name does.
    #[test]
    fn every_builtin_the_config_accepts_is_built() {
        let series = Rc::new(RefCell::new(BarSeries::with_capacity(100)));
        for name in BUILTIN_STRATEGIES {
            let native = NativeStrategy::kind_from_spec(name).is_some();
            let twin = build(name, series.clone(), &toml::Table::new(), 18 * 60).is_some();
            assert!(native != twin, "{name}: native {native}, twin {twin}");
        }
        for name in ["builtin:orbb", "builtin:", "orb"] {
            assert!(NativeStrategy::kind_from_spec(name).is_none());
            assert!(build(name, series.clone(), &toml::Table::new(), 18 * 60).is_none());
        }
    }
}
