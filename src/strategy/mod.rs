//! Strategies propose; the host decides (DESIGN §5).
//!
//! A strategy looks at the bar history up to bar `t` and proposes zero or more trades. Two kinds
//! exist: Rhai scripts ([`script`], what traders write) and the native reference implementations
//! of DESIGN §9 ([`native`], used to prove the shipped scripts right and as the speed yardstick).

mod call_budget;
pub mod call_path;
mod errors;
mod helpers;
pub mod indicators;
pub mod native;
mod params;
pub mod position;
mod sandbox;
pub mod scan;
mod scan_fns;
pub mod script;
pub mod script_calls;
pub mod script_failures;
pub mod series_fns;
pub mod trace;
pub mod twins;

use crate::market::price::Side;
use std::fmt;

/// A value a script adds to the signal file (`KEY=VALUE`, key upper-cased).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum ExtraValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
}

impl fmt::Display for ExtraValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtraValue::Int(v) => write!(f, "{v}"),
            ExtraValue::Float(v) => write!(f, "{v}"),
            ExtraValue::Bool(v) => write!(f, "{v}"),
            ExtraValue::Text(v) => write!(f, "{v}"),
        }
    }
}

/// The trade plan a strategy may propose with an entry (the trade-plan issue). Every field is
/// optional; the host fills the rest from the profile and bounds all of it (DESIGN §6 rule 8).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlanRequest {
    /// Target price (rounded toward the entry).
    pub target: Option<f64>,
    /// Target as a multiple of the stop distance R (`target` wins when both are given).
    pub target_r: Option<f64>,
    /// Size in contracts.
    pub contracts: Option<u32>,
    /// Size from dollars at risk: `floor(risk / (R × point value))` contracts.
    pub risk: Option<f64>,
    /// Move the stop to the entry fill once a close is this many R beyond it.
    pub breakeven_at_r: Option<f64>,
    /// Trail the stop this many points behind the best close since entry.
    pub trail_points: Option<f64>,
}

impl PlanRequest {
    /// Whether the proposal carries an exit plan (breakeven or trail).
    pub fn has_exit_plan(&self) -> bool {
        self.breakeven_at_r.is_some() || self.trail_points.is_some()
    }
}

/// Which open trade a script asks to close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExitTarget {
    /// Every open trade of the profile.
    All,
    /// The trade with this signal ID.
    Id(String),
}

/// A script's request to close open trades at the next bar's open (`#{ exit: "all", reason }`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitRequest {
    pub target: ExitTarget,
    pub reason: String,
}

/// What a strategy proposes at bar `t`. The host adds stop, target, size and ID (DESIGN §6).
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    pub side: Side,
    /// Entry reference price, normally the signal bar's close.
    pub entry: f64,
    /// The two prices that identify the pattern (long V: origin high, low).
    pub anchor_a: f64,
    pub anchor_b: f64,
    /// Confidence in hundredths (0.70 → 70), if the strategy gives one.
    pub confidence: Option<u32>,
    /// The strategy's stop price, if it gives one (bounded by the profile: DESIGN §6 rule 8).
    pub stop: Option<f64>,
    /// Target, size and exit plan, if the strategy gives them.
    pub plan: PlanRequest,
    /// Pattern name for `PATTERN_TYPE`; default is the strategy's name.
    pub pattern: Option<String>,
    /// Extra named values for the signal file, in the order given.
    pub extra: Vec<(String, ExtraValue)>,
}

/// Identifies the exact code that produced a proposal: `vreversal.rhai@3f2a9c01d4e5`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StrategyVersion {
    /// File name (or `builtin:NAME` for native references).
    pub name: String,
    /// First 12 hex digits of the SHA-256 of the source.
    pub hash: String,
}

impl fmt::Display for StrategyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.hash)
    }
}

/// Content hash used in `STRATEGY` and in reload journal entries.
pub fn content_hash(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// An error raised while evaluating a strategy on one bar, with the place in the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrategyError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for StrategyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: {}", self.file, l, c, self.message),
            (Some(l), None) => write!(f, "{}:{}: {}", self.file, l, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A strategy bound to one profile's parameters.
pub trait Strategy {
    /// Appends the proposals for bar `t` (the newest bar of the shared series) to `out`.
    fn on_bar(&mut self, t: usize, out: &mut Vec<Proposal>) -> Result<(), StrategyError>;
    /// Moves the exits the last `on_bar` asked for into `out` (scripts only).
    fn take_exits(&mut self, _out: &mut Vec<ExitRequest>) {}
    /// Whether the strategy wants every bar (it keeps state), not only eligible ones.
    fn call_on_every_bar(&self) -> bool {
        false
    }
    fn version(&self) -> &StrategyVersion;
    /// Name used as the default `PATTERN_TYPE`.
    fn pattern_name(&self) -> &str;
    /// The state a script keeps between calls (`this`), if any: carried across reloads.
    fn state(&self) -> Option<rhai::Dynamic> {
        None
    }
    fn set_state(&mut self, _state: rhai::Dynamic) {}
}
