//! The scenario file: one TOML file per scenario (reference: `docs/scenarios.md`).
//!
//! The file is read with serde into "raw" structs whose fields keep their spans, then checked
//! and turned into a [`Scenario`]. Every problem becomes a [`ScenarioError`] that names
//! `file:line:column` — a broken file is reported, never a panic.

pub use super::source::{Place, ScenarioError, Source};
use super::steps::{self, BlockLine, ScenarioBar};
use crate::config::Session;
use crate::host::rules::RejectReason;
use crate::market::price::Side;
use chrono::{DateTime, NaiveDate};
use serde::Deserialize;
use std::fmt;
use toml::Spanned;

/// A value from the file with its place (for errors found when the scenario runs).
#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub place: Place,
}

/// An expected time: `HH:MM[:SS]` matches that ET clock time on any day; with a date
/// (`YYYY-MM-DD HH:MM`) the day must match too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeSpec {
    pub date: Option<NaiveDate>,
    pub minute: u32,
    pub second: u32,
}

impl TimeSpec {
    /// Parses `HH:MM`, `HH:MM:SS`, `YYYY-MM-DD HH:MM[:SS]` (a `T` may separate date and time).
    pub fn parse(s: &str) -> Option<TimeSpec> {
        let s = s.trim();
        let (date, time) = match s.split_once([' ', 'T']) {
            Some((d, t)) => (
                Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?),
                t.trim(),
            ),
            None => (None, s),
        };
        let mut parts = time.split(':');
        let h: u32 = two_digits(parts.next()?)?;
        let m: u32 = two_digits(parts.next()?)?;
        let sec: u32 = match parts.next() {
            Some(x) => two_digits(x)?,
            None => 0,
        };
        if parts.next().is_some() || h > 23 || m > 59 || sec > 59 {
            return None;
        }
        Some(TimeSpec {
            date,
            minute: h * 60 + m,
            second: sec,
        })
    }

    /// Whether an ET stamp `yyyy-MM-dd HH:mm:ss` is this time.
    pub fn matches(&self, et: &str) -> bool {
        match TimeSpec::parse(et) {
            Some(a) => {
                a.minute == self.minute
                    && a.second == self.second
                    && self.date.is_none_or(|d| a.date == Some(d))
            }
            None => false,
        }
    }
}

fn two_digits(s: &str) -> Option<u32> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

impl fmt::Display for TimeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = self.date {
            write!(f, "{} ", d.format("%Y-%m-%d"))?;
        }
        write!(f, "{:02}:{:02}", self.minute / 60, self.minute % 60)?;
        if self.second != 0 {
            write!(f, ":{:02}", self.second)?;
        }
        Ok(())
    }
}

/// How an expected signal's shadow trade ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExitExpect {
    /// `exit = "none"`: no trade (the signal was on the last bar and never filled).
    NoTrade,
    /// `stop`, `stop_gap`, `target`, `breakeven`, `trail`, `script_exit`, `flat_by`, `max_hold`
    /// or `end_of_data`.
    Reason(String),
}

/// One `[[signal]]`: every field is optional; those given must match.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignalExpect {
    /// Line of the `[[signal]]` entry.
    pub line: usize,
    pub time: Option<TimeSpec>,
    /// UTC seconds of the signal bar's close.
    pub utc: Option<i64>,
    pub side: Option<Side>,
    pub id: Option<String>,
    pub entry: Option<f64>,
    pub stop: Option<f64>,
    pub target: Option<f64>,
    pub quantity: Option<u32>,
    pub profile: Option<String>,
    pub window: Option<String>,
    /// Hundredths.
    pub confidence: Option<u32>,
    pub max_hold: Option<u32>,
    pub entry_fill: Option<f64>,
    pub exit: Option<ExitExpect>,
    pub exit_price: Option<f64>,
    pub exit_time: Option<TimeSpec>,
    pub pnl: Option<f64>,
}

/// One `[[rejection]]`: `reason` is required, the rest optional.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RejectionExpect {
    pub line: usize,
    pub reason: String,
    pub time: Option<TimeSpec>,
    pub side: Option<Side>,
    pub id: Option<String>,
    pub profile: Option<String>,
    /// Must occur in the rejection's detail text.
    pub detail: Option<String>,
}

/// A checked scenario, bars expanded.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub file: String,
    /// Line of `name`.
    pub line: usize,
    /// `profile`: run this profile in every window (like `vrev replay --profile`).
    pub profile: Option<Located<String>>,
    /// `strategy`: the script the scenario's profile(s) run instead of theirs.
    pub strategy: Option<Located<String>>,
    /// `set`: `KEY=VALUE` overrides, as `vrev replay --set`.
    pub sets: Vec<Located<String>>,
    /// `sessions`: replaces every window of the config.
    pub sessions: Option<Located<Vec<Located<Session>>>>,
    /// `buy_only` / `sell_only`.
    pub only_side: Option<Side>,
    /// `restart_with`: IDs a previous run emitted (the ledger a restart finds).
    pub restart_with: Vec<String>,
    pub bars: Vec<ScenarioBar>,
    /// The complete list of signals, in order (empty with `no_signal = true`).
    pub signals: Vec<SignalExpect>,
    /// Rejections that must occur, in this order (others may occur between them).
    pub rejections: Vec<RejectionExpect>,
    /// `rejections = N`: the exact number of rejections.
    pub rejection_count: Option<usize>,
}

// ---- raw file structure (serde) -------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Spanned<String>,
    date: Spanned<toml::Value>,
    #[serde(default)]
    profile: Option<Spanned<String>>,
    #[serde(default)]
    strategy: Option<Spanned<String>>,
    #[serde(default)]
    set: Vec<Spanned<String>>,
    #[serde(default)]
    sessions: Option<Spanned<Vec<Spanned<Session>>>>,
    #[serde(default)]
    buy_only: Option<Spanned<bool>>,
    #[serde(default)]
    sell_only: Option<Spanned<bool>>,
    #[serde(default)]
    restart_with: Vec<Spanned<String>>,
    bars: Spanned<String>,
    #[serde(default)]
    no_signal: Option<Spanned<bool>>,
    #[serde(default)]
    signal: Vec<Spanned<RawSignal>>,
    #[serde(default)]
    rejection: Vec<Spanned<RawRejection>>,
    #[serde(default)]
    rejections: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignal {
    time: Option<Spanned<toml::Value>>,
    utc: Option<Spanned<toml::Value>>,
    side: Option<Spanned<String>>,
    id: Option<String>,
    entry: Option<f64>,
    stop: Option<f64>,
    target: Option<f64>,
    quantity: Option<u32>,
    profile: Option<String>,
    window: Option<String>,
    confidence: Option<Spanned<f64>>,
    max_hold: Option<u32>,
    entry_fill: Option<f64>,
    exit: Option<Spanned<String>>,
    exit_price: Option<f64>,
    exit_time: Option<Spanned<toml::Value>>,
    pnl: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRejection {
    reason: Spanned<String>,
    time: Option<Spanned<toml::Value>>,
    side: Option<Spanned<String>>,
    id: Option<String>,
    profile: Option<String>,
    detail: Option<String>,
}

/// The scenario's own keys (for the hint when one is written inside a [[signal]] entry).
const TOP_LEVEL_KEYS: [&str; 12] = [
    "name",
    "date",
    "profile",
    "strategy",
    "set",
    "sessions",
    "buy_only",
    "sell_only",
    "restart_with",
    "bars",
    "no_signal",
    "rejections",
];

const EXIT_REASONS: [&str; 10] = [
    "stop",
    "stop_gap",
    "target",
    "breakeven",
    "trail",
    "script_exit",
    "flat_by",
    "max_hold",
    "end_of_data",
    "none",
];

fn reject_reasons() -> Vec<&'static str> {
    RejectReason::ALL.iter().map(|r| r.as_str()).collect()
}

/// Reads the TOML of a scenario file. The error names the place; the name is not known yet.
pub fn parse_raw(src: &Source) -> Result<RawScenario, ScenarioError> {
    toml::from_str::<RawScenario>(&src.text).map_err(|e| {
        let message = e.message().trim().to_string();
        let message = if message.starts_with("missing field") {
            format!("{message} (every scenario needs `name`, `date` and `bars`)")
        } else if TOP_LEVEL_KEYS
            .iter()
            .any(|k| message.starts_with(&format!("unknown field `{k}`")))
        {
            // The classic TOML trap: a key written after a [[signal]] belongs to that entry.
            format!(
                "{message}\n(a key after a [[signal]] or [[rejection]] header belongs to that entry: write the scenario's own keys before the first [[...]])"
            )
        } else {
            message
        };
        match e.span() {
            Some(s) => src.error_span(s, message),
            None => src.error(message),
        }
    })
}

/// A date or time written as a TOML string or as a bare TOML date/time.
fn value_text(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Datetime(d) => Some(d.to_string()),
        _ => None,
    }
}

fn time_of(src: &Source, v: &Spanned<toml::Value>, what: &str) -> Result<TimeSpec, ScenarioError> {
    value_text(v.get_ref())
        .and_then(|s| TimeSpec::parse(&s))
        .ok_or_else(|| {
            src.error_span(
                v.span(),
                format!("{what}: expected an ET time \"HH:MM\" or \"YYYY-MM-DD HH:MM\""),
            )
        })
}

fn side_of(src: &Source, v: &Spanned<String>) -> Result<Side, ScenarioError> {
    match v.get_ref().to_ascii_uppercase().as_str() {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        other => Err(src.error_span(v.span(), format!("side: `{other}` is not BUY or SELL"))),
    }
}

fn located<T: Clone>(src: &Source, v: &Spanned<T>) -> Located<T> {
    Located {
        value: v.get_ref().clone(),
        place: src.place(v.span().start),
    }
}

/// Splits the `bars` string into lines with their places in the file. Literal strings
/// (`'''`) map exactly; a basic string with escapes falls back to line numbers counted from its
/// start.
fn block_lines<'a>(src: &Source, bars: &'a Spanned<String>) -> Vec<BlockLine<'a>> {
    let span = bars.span();
    let raw = &src.text[span.clone()];
    let delim = if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
        3
    } else {
        1
    };
    let mut start = span.start + delim;
    let rest = &src.text[start..];
    if delim == 3 {
        if rest.starts_with("\r\n") {
            start += 2;
        } else if rest.starts_with('\n') {
            start += 1;
        }
    }
    let first_line = src.place(start).line;
    let mut out = Vec::new();
    let mut offset = 0;
    for (n, piece) in bars.get_ref().split('\n').enumerate() {
        let text = piece.strip_suffix('\r').unwrap_or(piece);
        let at = start + offset;
        let exact = src.text.get(at..at + text.len()) == Some(text);
        out.push(BlockLine {
            text,
            line: if exact {
                src.place(at).line
            } else {
                first_line + n
            },
            offset: exact.then_some(at),
        });
        offset += piece.len() + 1;
    }
    out
}

/// Checks a raw scenario and expands its bars. `tick` is the instrument's tick size.
pub fn build(src: &Source, raw: &RawScenario, tick: f64) -> Result<Scenario, ScenarioError> {
    let name = raw.name.get_ref().trim().to_string();
    if name.is_empty() {
        return Err(src.error_span(raw.name.span(), "name is empty: say what the scenario pins"));
    }
    let date = value_text(raw.date.get_ref())
        .and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
        .ok_or_else(|| {
            src.error_span(
                raw.date.span(),
                "date: expected the ET date of the first bars, \"YYYY-MM-DD\"",
            )
        })?;
    let flag = |f: &Option<Spanned<bool>>| f.as_ref().is_some_and(|s| *s.get_ref());
    let only_side = match (flag(&raw.buy_only), flag(&raw.sell_only)) {
        (true, true) => {
            return Err(src.error_span(
                raw.sell_only.as_ref().expect("some").span(),
                "buy_only and sell_only cannot both be true",
            ))
        }
        (true, false) => Some(Side::Buy),
        (false, true) => Some(Side::Sell),
        (false, false) => None,
    };
    for s in &raw.set {
        if !s.get_ref().contains('=') {
            return Err(src.error_span(
                s.span(),
                format!(
                    "set: `{}` is not KEY=VALUE, e.g. \"profile.production.min_confidence=0.9\"",
                    s.get_ref()
                ),
            ));
        }
    }
    let sessions = raw.sessions.as_ref().map(|s| Located {
        value: s.get_ref().iter().map(|x| located(src, x)).collect(),
        place: src.place(s.span().start),
    });
    if let Some(s) = &raw.sessions {
        if s.get_ref().is_empty() {
            return Err(src.error_span(
                s.span(),
                "sessions is empty: give at least one window, or leave sessions out to use the config's",
            ));
        }
    }

    let lines = block_lines(src, &raw.bars);
    let bars = steps::expand(&lines, date, tick, src)?;

    let mut signals = Vec::new();
    for s in &raw.signal {
        signals.push(signal_expect(src, s)?);
    }
    if let Some(ns) = &raw.no_signal {
        if *ns.get_ref() && !signals.is_empty() {
            return Err(src.error_span(
                ns.span(),
                "no_signal = true contradicts the [[signal]] entries",
            ));
        }
        if !*ns.get_ref() && signals.is_empty() {
            return Err(src.error_span(
                ns.span(),
                "no_signal = false: list the expected signals as [[signal]] entries instead",
            ));
        }
    } else if signals.is_empty() {
        return Err(src.error_span(
            raw.name.span(),
            "say which signals the scenario expects: [[signal]] entries (the complete list), or no_signal = true",
        ));
    }
    let mut rejections = Vec::new();
    for r in &raw.rejection {
        rejections.push(rejection_expect(src, r)?);
    }
    let rejection_count = match &raw.rejections {
        Some(n) if *n.get_ref() < 0 => {
            return Err(src.error_span(n.span(), "rejections: a count cannot be negative"))
        }
        Some(n) if (*n.get_ref() as usize) < rejections.len() => {
            return Err(src.error_span(
                n.span(),
                format!(
                    "rejections = {} but {} [[rejection]] entries are listed",
                    n.get_ref(),
                    rejections.len()
                ),
            ))
        }
        Some(n) => Some(*n.get_ref() as usize),
        None => None,
    };
    let mut restart_with = Vec::new();
    for id in &raw.restart_with {
        if id.get_ref().trim().is_empty() {
            return Err(src.error_span(id.span(), "restart_with: empty signal ID"));
        }
        restart_with.push(id.get_ref().trim().to_string());
    }
    Ok(Scenario {
        name,
        file: src.file.clone(),
        line: src.place(raw.name.span().start).line,
        profile: raw.profile.as_ref().map(|p| located(src, p)),
        strategy: raw.strategy.as_ref().map(|p| located(src, p)),
        sets: raw.set.iter().map(|s| located(src, s)).collect(),
        sessions,
        only_side,
        restart_with,
        bars,
        signals,
        rejections,
        rejection_count,
    })
}

fn signal_expect(src: &Source, s: &Spanned<RawSignal>) -> Result<SignalExpect, ScenarioError> {
    let r = s.get_ref();
    let utc = match &r.utc {
        Some(v) => Some(
            value_text(v.get_ref())
                .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
                .map(|d| d.timestamp())
                .ok_or_else(|| {
                    src.error_span(
                        v.span(),
                        "utc: expected an RFC 3339 time like \"2025-03-10T07:05:00Z\"",
                    )
                })?,
        ),
        None => None,
    };
    let confidence = match &r.confidence {
        Some(c) if !(0.0..=1.0).contains(c.get_ref()) => {
            return Err(src.error_span(c.span(), "confidence: expected 0.0 to 1.0"))
        }
        Some(c) => Some((c.get_ref() * 100.0).round() as u32),
        None => None,
    };
    let exit = match &r.exit {
        Some(e) if !EXIT_REASONS.contains(&e.get_ref().as_str()) => {
            return Err(src.error_span(
                e.span(),
                format!(
                    "exit: `{}` is not one of {}",
                    e.get_ref(),
                    EXIT_REASONS.join(", ")
                ),
            ))
        }
        Some(e) if e.get_ref() == "none" => Some(ExitExpect::NoTrade),
        Some(e) => Some(ExitExpect::Reason(e.get_ref().clone())),
        None => None,
    };
    if exit == Some(ExitExpect::NoTrade)
        && (r.exit_price.is_some()
            || r.exit_time.is_some()
            || r.pnl.is_some()
            || r.entry_fill.is_some())
    {
        return Err(src.error_span(
            r.exit.as_ref().expect("some").span(),
            "exit = \"none\" (no trade) cannot have entry_fill, exit_price, exit_time or pnl",
        ));
    }
    let e = SignalExpect {
        line: src.place(s.span().start).line,
        time: r
            .time
            .as_ref()
            .map(|t| time_of(src, t, "time"))
            .transpose()?,
        utc,
        side: r.side.as_ref().map(|v| side_of(src, v)).transpose()?,
        id: r.id.clone(),
        entry: r.entry,
        stop: r.stop,
        target: r.target,
        quantity: r.quantity,
        profile: r.profile.clone(),
        window: r.window.clone(),
        confidence,
        max_hold: r.max_hold,
        entry_fill: r.entry_fill,
        exit,
        exit_price: r.exit_price,
        exit_time: r
            .exit_time
            .as_ref()
            .map(|t| time_of(src, t, "exit_time"))
            .transpose()?,
        pnl: r.pnl,
    };
    if e == (SignalExpect {
        line: e.line,
        ..Default::default()
    }) {
        return Err(src.error_span(
            s.span(),
            "this [[signal]] checks nothing: give at least its time, side or id",
        ));
    }
    Ok(e)
}

fn rejection_expect(
    src: &Source,
    s: &Spanned<RawRejection>,
) -> Result<RejectionExpect, ScenarioError> {
    let r = s.get_ref();
    let reasons = reject_reasons();
    if !reasons.contains(&r.reason.get_ref().as_str()) {
        return Err(src.error_span(
            r.reason.span(),
            format!(
                "reason: `{}` is not a host rule ({})",
                r.reason.get_ref(),
                reasons.join(", ")
            ),
        ));
    }
    Ok(RejectionExpect {
        line: src.place(s.span().start).line,
        reason: r.reason.get_ref().clone(),
        time: r
            .time
            .as_ref()
            .map(|t| time_of(src, t, "time"))
            .transpose()?,
        side: r.side.as_ref().map(|v| side_of(src, v)).transpose()?,
        id: r.id.clone(),
        profile: r.profile.clone(),
        detail: r.detail.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_every_written_form() {
        let t = TimeSpec::parse("13:59").unwrap();
        assert_eq!((t.date, t.minute, t.second), (None, 839, 0));
        assert!(t.matches("2025-02-13 13:59:00"));
        assert!(!t.matches("2025-02-13 13:58:00"));
        let d = TimeSpec::parse("2025-03-10 03:05").unwrap();
        assert!(d.matches("2025-03-10 03:05:00"));
        assert!(!d.matches("2025-03-07 03:05:00"));
        assert!(TimeSpec::parse("2025-03-10T03:05:00").is_some());
        for bad in [
            "3:05",
            "13:60",
            "24:00",
            "13:59:00:00",
            "noon",
            "2025-13-01 10:00",
        ] {
            assert!(TimeSpec::parse(bad).is_none(), "{bad}");
        }
    }
}
