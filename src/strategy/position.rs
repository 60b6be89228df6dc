//! `position()` for scripts: the open trade of the profile the script runs for, as the host's
//! shadow book sees it when `on_bar` is called (the trade-plan issue).
//!
//! ```rhai
//! let pos = position();          // () when flat
//! if pos != () && close(t) < vwap()[t] { return #{ exit: "all", reason: "lost vwap" }; }
//! ```
//!
//! The host sets the view right before it calls a profile's strategy and clears it right after
//! (one engine runs on one thread, so the view is thread-local, like `trace` captures).

use rhai::{Dynamic, Engine, Map};
use std::cell::RefCell;

/// The open trade of a profile, as a script reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenPosition {
    pub id: String,
    /// `"BUY"` or `"SELL"`.
    pub side: &'static str,
    /// The entry fill price.
    pub entry: f64,
    /// The stop in force (as moved by breakeven or trailing).
    pub stop: f64,
    pub target: f64,
    pub contracts: u32,
    /// Bars since entry, the entry bar included (1 on the entry bar).
    pub bars_held: u32,
    /// Points in the trade's favour at this bar's close (negative when losing).
    pub open_points: f64,
}

impl OpenPosition {
    fn to_map(&self) -> Map {
        let mut m = Map::new();
        m.insert("id".into(), self.id.clone().into());
        m.insert("side".into(), self.side.into());
        m.insert("entry".into(), self.entry.into());
        m.insert("stop".into(), self.stop.into());
        m.insert("target".into(), self.target.into());
        m.insert("contracts".into(), (self.contracts as i64).into());
        m.insert("bars_held".into(), (self.bars_held as i64).into());
        m.insert("open_points".into(), self.open_points.into());
        m
    }
}

thread_local! {
    static CURRENT: RefCell<Option<OpenPosition>> = const { RefCell::new(None) };
}

/// Sets what `position()` returns until the next call (`None`: flat).
pub fn set(position: Option<OpenPosition>) {
    CURRENT.with(|c| *c.borrow_mut() = position);
}

/// Registers `position()`: a map of the open trade (`id, side, entry, stop, target, contracts,
/// bars_held, open_points`), or `()` when the profile is flat.
pub fn register(engine: &mut Engine) {
    engine.register_fn("position", || -> Dynamic {
        CURRENT.with(|c| match &*c.borrow() {
            Some(p) => Dynamic::from_map(p.to_map()),
            None => Dynamic::UNIT,
        })
    });
}
