//! `config.toml` (DESIGN §8): instrument, engine paths, feed, backtest costs, session windows and
//! profiles. Validated at load; every error names `file:line:column` and the key.
//!
//! `--set KEY=VALUE` overrides are applied after the file is read (so file errors keep their
//! places) and are validated again; an error in one names the `--set`.

use crate::market::time::{parse_hhmm, SessionWindow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// `[instrument]`
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Instrument {
    /// Default "ES".
    pub symbol: String,
    /// Default 0.25.
    pub tick_size: f64,
    /// Dollars per point per contract. Default 50.0.
    pub point_value: f64,
}

impl Default for Instrument {
    fn default() -> Self {
        Instrument {
            symbol: "ES".into(),
            tick_size: 0.25,
            point_value: 50.0,
        }
    }
}

/// `[engine]`
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSection {
    /// Where signal files are written. Default "signals" (relative to the config file).
    pub signals_dir: PathBuf,
    /// Append-only JSON-lines journal. Default "state/journal.jsonl".
    pub journal: PathBuf,
    /// Ledger of emitted signal IDs and other state. Default "state".
    pub state_dir: PathBuf,
    /// ET time at which the trading day rolls. Default "18:00".
    pub trading_day_start: String,
    /// EXPIRES = signal time + this. Default 90.
    pub signal_ttl_seconds: i64,
    /// Bars kept in memory for scripts. Default 131072.
    pub history_bars: usize,
    /// Bar length in seconds. Default 60.
    pub bar_seconds: i64,
    /// Script operations per call before it is stopped, host functions charged their work
    /// (`docs/script-limits.md`). Default 200000.
    pub script_max_operations: u64,
    /// Wall-clock milliseconds a script call may take in a live run (`vrev run`) before it is
    /// stopped. Offline runs never look at the clock, so that their output is reproducible.
    /// Default 50.
    pub script_max_call_ms: u64,
    /// fsync each signal file, its folder and the ledger line: survives power loss too, at 0.5–4
    /// ms per signal on a virtual disk. Without it, a crash of vrev itself (any instant, even
    /// SIGKILL) still loses and duplicates nothing. Default false.
    pub fsync: bool,
}

impl EngineSection {
    /// `trading_day_start` in minutes after ET midnight (validated when the config loads; the
    /// CME 18:00 otherwise).
    pub fn trading_day_start_minute(&self) -> u32 {
        parse_hhmm(&self.trading_day_start).unwrap_or(18 * 60)
    }
}

impl Default for EngineSection {
    fn default() -> Self {
        EngineSection {
            signals_dir: "signals".into(),
            journal: "state/journal.jsonl".into(),
            state_dir: "state".into(),
            trading_day_start: "18:00".into(),
            signal_ttl_seconds: 90,
            history_bars: crate::market::bar::DEFAULT_HISTORY_BARS,
            bar_seconds: 60,
            script_max_operations: 200_000,
            script_max_call_ms: 50,
            fsync: false,
        }
    }
}

/// `[feed]` (used by the live feed).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Feed {
    /// Default "ws://127.0.0.1:6789".
    pub url: String,
    /// Zone of the legacy publisher's fake-UTC timestamps. Default "America/New_York".
    pub legacy_time_zone: String,
    /// Shared feed token `run` sends (the publisher's `Token` property, `serve --token`); the
    /// environment variable `VREV_FEED_TOKEN` overrides it. Never printed or journaled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            url: "ws://127.0.0.1:6789".into(),
            legacy_time_zone: "America/New_York".into(),
            token: None,
        }
    }
}

/// `[nt8]`: where NinjaTrader's side lives, for the commands that read or write it (the live
/// desk's trade pane; `nt8 install` and `doctor`). Optional: without it, those say how to set it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Nt8 {
    /// The Documents folder NinjaTrader and the auto-trader use (`C:\Users\me\Documents`;
    /// write it single-quoted in TOML: `documents_dir = 'C:\Users\me\Documents'`). Relative
    /// paths resolve against the config file.
    pub documents_dir: PathBuf,
    /// The account the auto-trader trades. Default "Sim101".
    #[serde(default = "default_account")]
    pub account: String,
}

fn default_account() -> String {
    "Sim101".into()
}

impl Nt8 {
    /// The account as the auto-trader puts it in a file name (`VrevPaths.SafeFilePart`).
    pub fn account_file_part(&self) -> String {
        self.account
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }

    /// The auto-trader's default state folder: `<Documents>/vrev/nt8`.
    pub fn state_folder(&self) -> PathBuf {
        self.documents_dir.join("vrev").join("nt8")
    }

    /// `trades_<account>.csv` in the auto-trader's state folder.
    pub fn trade_log(&self) -> PathBuf {
        self.state_folder()
            .join(format!("trades_{}.csv", self.account_file_part()))
    }

    /// `processed_<account>.txt` in the auto-trader's state folder.
    pub fn processed_list(&self) -> PathBuf {
        self.state_folder()
            .join(format!("processed_{}.txt", self.account_file_part()))
    }
}

/// `[backtest]` costs (the fill rules themselves are fixed: DESIGN §10).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Backtest {
    /// Default 2.25 dollars.
    pub commission_per_contract_side: f64,
    /// Default 1 tick.
    pub slippage_ticks: f64,
}

impl Default for Backtest {
    fn default() -> Self {
        Backtest {
            commission_per_contract_side: 2.25,
            slippage_ticks: 1.0,
        }
    }
}

/// What a changed strategy must pass before it goes live.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    /// Compile, bind and a trial run on the latest bars (always done).
    #[default]
    None,
    /// Also every scenario in `scenarios` that uses the script must pass.
    Scenarios,
}

/// `[reload]`
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Reload {
    /// Default "none".
    pub gate: Gate,
    /// Scenario folder for the gate, relative to the config. Default "tests/scenarios".
    pub scenarios: PathBuf,
}

impl Default for Reload {
    fn default() -> Self {
        Reload {
            gate: Gate::None,
            scenarios: "tests/scenarios".into(),
        }
    }
}

/// `[[session]]`: a window of ET wall-clock time that runs one profile.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Session {
    pub name: String,
    /// `HH:MM` ET, inclusive.
    pub start: String,
    /// `HH:MM` ET, exclusive.
    pub end: String,
    pub profile: String,
}

/// Which sides a profile trades.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Long,
    Short,
    Both,
    /// Nothing passes (a long-only profile run with `--sell-only`, or the reverse). Not
    /// accepted in the file.
    #[serde(skip)]
    Neither,
}

impl Direction {
    pub fn allows(self, side: crate::market::price::Side) -> bool {
        use crate::market::price::Side;
        matches!(
            (self, side),
            (Direction::Both, _) | (Direction::Long, Side::Buy) | (Direction::Short, Side::Sell)
        )
    }
}

/// `[profile.NAME]`
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Script path (relative to the config file) or `builtin:vreversal` / `builtin:bidirectional`.
    pub strategy: String,
    pub direction: Direction,
    pub contracts: u32,
    /// Stop distance in percent of entry.
    pub stop_pct: f64,
    pub target_points: f64,
    pub max_hold_minutes: u32,
    pub max_daily_signals: u32,
    /// 0.0–1.0; proposals below are rejected (`confidence`).
    #[serde(default)]
    pub min_confidence: f64,
    /// Default 1.
    #[serde(default = "one")]
    pub max_open_positions: u32,
    /// Dollars; no new signals once today's realized P&L reaches −this. Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_daily_loss: Option<f64>,
    /// Signal file name prefix. Default "vreversal_".
    #[serde(default = "default_prefix")]
    pub signal_prefix: String,
    /// The widest stop a proposal may have, in points from its entry. Default: the `stop_pct`
    /// distance (a script may then only tighten the profile's stop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stop_points: Option<f64>,
    /// The largest size of one trade, in contracts. Default: `contracts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_contracts: Option<u32>,
    /// The largest dollar risk of one trade (contracts × stop distance × point value). Default:
    /// no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_risk: Option<f64>,
    /// The least reward/risk (target distance / stop distance) a trade may have. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_reward_risk: Option<f64>,
    /// The target as a multiple of the stop distance when the script gives none (instead of
    /// `target_points`). Default: none (`target_points`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_r: Option<f64>,
    /// `"HH:MM"` ET: open trades of this profile exit at the close of the first bar at or after
    /// it on their trading day, and no signal is admitted at or after it. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flat_by: Option<String>,
    /// Script parameters by name (the script declares names and defaults).
    #[serde(default)]
    pub params: toml::Table,
}

fn one() -> u32 {
    1
}
fn default_prefix() -> String {
    "vreversal_".into()
}

/// The whole file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub instrument: Instrument,
    #[serde(default)]
    pub engine: EngineSection,
    #[serde(default)]
    pub feed: Feed,
    #[serde(default)]
    pub backtest: Backtest,
    #[serde(default)]
    pub reload: Reload,
    /// `[nt8]`, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nt8: Option<Nt8>,
    #[serde(default)]
    pub session: Vec<Session>,
    #[serde(default)]
    pub profile: BTreeMap<String, Profile>,
    /// Directory of the config file; relative paths resolve against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// Where the config came from (for messages).
    #[serde(skip)]
    pub source: PathBuf,
}

/// A config problem with its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: {}", self.file, l, c, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A key path into the document, e.g. `session[1].profile`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

fn key(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

fn path_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k)
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map(|i| before[i + 1..].chars().count())
        .unwrap_or_else(|| before.chars().count())
        + 1;
    (line, col)
}

/// Finds the span of the value at `path` in the TOML text (the key's span when the value is a
/// table, so the message points at the header).
fn locate(text: &str, path: &[Seg]) -> Option<std::ops::Range<usize>> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).ok()?;
    let mut table = doc.get_ref();
    let mut span: Option<std::ops::Range<usize>> = None;
    let mut current: Option<&DeValue> = None;
    for seg in path {
        match seg {
            Seg::Key(k) => {
                let t = match current {
                    None => table,
                    Some(DeValue::Table(t)) => t,
                    _ => return span,
                };
                let (kk, v) = t
                    .iter()
                    .find(|(kk, _)| kk.get_ref().as_ref() == k.as_str())?;
                span = Some(if matches!(v.get_ref(), DeValue::Table(_)) {
                    kk.span()
                } else {
                    v.span()
                });
                current = Some(v.get_ref());
                table = t;
            }
            Seg::Index(i) => {
                let DeValue::Array(a) = current? else {
                    return span;
                };
                let v = a.get(*i)?;
                span = Some(v.span());
                current = Some(v.get_ref());
            }
        }
    }
    span
}

/// The TOML reader's message in a trader's words: `invalid type: string "3", expected u32`
/// becomes `expected a whole number, found the text "3" (numbers take no quotes)`.
fn trader_words(message: &str) -> String {
    let kind = |rust: &str| -> String {
        match rust.trim() {
            "u8" | "u16" | "u32" | "u64" | "usize" | "i32" | "i64" | "isize" => {
                "a whole number".into()
            }
            "f32" | "f64" => "a number".into(),
            "a boolean" => "true or false".into(),
            "a string" => "text in quotes".into(),
            "a sequence" => "a list like [1, 2]".into(),
            other => other.to_string(),
        }
    };
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            let expected = kind(expected);
            let found = found
                .replacen("string ", "the text ", 1)
                .replacen("integer ", "the whole number ", 1)
                .replacen("floating point ", "the number ", 1)
                .replacen("boolean ", "", 1)
                .replace('`', "");
            let hint = if found.starts_with("the text") && expected.contains("number") {
                " (numbers take no quotes)"
            } else {
                ""
            };
            return format!("expected {expected}, found {found}{hint}");
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        if let Some((value, choices)) = rest.split_once(", expected one of ") {
            return format!("{value} is not one of: {}", choices.replace('`', ""));
        }
        if let Some((value, choice)) = rest.split_once(", expected ") {
            return format!("{value} is not {}", choice.replace('`', ""));
        }
    }
    message.to_string()
}

/// The dotted key whose value starts at `offset` (`profile.production.contracts`), from the
/// table header above it and the `key =` before it; `None` when `offset` is not at a value.
/// Keys that hold a file or folder path, each with the example its Windows-path hint shows.
const PATH_KEYS: &[(&str, &str)] = &[
    ("signals_dir", r"D:\vrev\signals"),
    ("state_dir", r"D:\vrev\state"),
    ("journal", r"D:\vrev\state\journal.jsonl"),
    ("strategy", r"D:\vrev\strategies\vreversal.rhai"),
    ("scenarios", r"D:\vrev\tests\scenarios"),
    ("documents_dir", r"C:\Users\me\Documents"),
];

/// The hint shown when a path key's value is a double-quoted Windows path: in TOML's double
/// quotes `\` starts an escape, in single quotes (a literal string) it is just a character.
fn windows_path_hint(key: &str) -> Option<String> {
    PATH_KEYS.iter().find(|(k, _)| *k == key).map(|(k, example)| {
        format!("write Windows paths single-quoted, where a backslash is just a backslash: {k} = '{example}'")
    })
}

/// One rule for every path key: no control character. `"C:\temp"` and `"D:\new\x"` are valid
/// TOML (a tab, a newline) and would silently name another folder; no real path holds one.
fn path_value(key: &str, value: &Path) -> Result<(), String> {
    let v = value.to_string_lossy();
    if v.chars().any(char::is_control) {
        let hint = windows_path_hint(key).unwrap_or_default();
        return Err(format!(
            "{v:?} holds a control character (a \\t or \\n written in double quotes?): {hint}"
        ));
    }
    Ok(())
}

fn key_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset.min(text.len()))?;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let on_line = &before[line_start..];
    let eq = on_line.rfind('=')?;
    let lhs = on_line[..eq].trim_end();
    let key = lhs
        .rsplit(|c: char| c == '{' || c == ',' || c.is_whitespace())
        .next()?
        .trim_matches('"');
    if key.is_empty() || key.starts_with('#') {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    if let Some(header) = text[..line_start].lines().rev().find_map(|l| {
        let l = l.trim();
        l.starts_with('[').then(|| {
            l.trim_matches(|c| c == '[' || c == ']')
                .trim()
                .replace('"', "")
        })
    }) {
        parts.push(header);
    }
    if let Some((parent, _)) = lhs.split_once('{') {
        parts.push(parent.trim().trim_end_matches('=').trim().to_string());
    }
    parts.push(key.to_string());
    Some(parts.join("."))
}

/// `message`, then the offending line of `text` with a caret under `column`.
fn with_caret(message: String, text: &str, line: Option<usize>, column: Option<usize>) -> String {
    let (Some(l), Some(c)) = (line, column) else {
        return message;
    };
    let Some(src) = text.lines().nth(l - 1) else {
        return message;
    };
    let gutter = l.to_string().len();
    format!(
        "{message}\n  {l} | {src}\n  {:gutter$} | {:pad$}^",
        "",
        "",
        pad = c.saturating_sub(1)
    )
}

/// Largest `engine.history_bars`: 2^22 bars (about 8 years of minutes, 200 MB of history).
pub const MAX_HISTORY_BARS: usize = 1 << 22;

/// Largest `contracts` of a profile: a typo such as `contracts = 3000` must not reach an order.
pub const MAX_CONTRACTS: u32 = 1000;

/// `Err(message)` unless `v` is a finite number in `lo..=hi`.
fn within(v: f64, lo: f64, hi: f64, unit: &str) -> Result<(), String> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(format!(
            "{v} is not a plausible value: expected {lo} to {hi} {unit}"
        ))
    }
}

/// A name that is written into signal files, the journal or the status line: one line, no `=`.
fn text(s: &str) -> Result<(), String> {
    match value_problem(s, 64) {
        None => Ok(()),
        Some(why) => Err(format!("{s:?} {why}")),
    }
}

/// Every number in a profile's `params` is finite (`nan` and `inf` are valid TOML): `Err((key,
/// message))` names the first that is not.
fn finite_params(params: &toml::Table) -> Result<(), (String, String)> {
    fn walk(v: &toml::Value) -> bool {
        match v {
            toml::Value::Float(f) => f.is_finite(),
            toml::Value::Array(a) => a.iter().all(walk),
            toml::Value::Table(t) => t.values().all(walk),
            _ => true,
        }
    }
    for (k, v) in params {
        if !walk(v) {
            return Err((k.clone(), format!("{v} is not a finite number")));
        }
    }
    Ok(())
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = crate::market::input_file::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            line: None,
            column: None,
            message: match e.kind() {
                // An installed vrev run outside a trading folder: say where it looked and how
                // to make one (issue 20).
                std::io::ErrorKind::NotFound => format!(
                    "config not found (looked for {}): run `vrev init` to write a starter config.toml and strategies/ here (or `vrev init DIR`), or pass --config FILE",
                    std::path::absolute(path)
                        .unwrap_or_else(|_| path.to_path_buf())
                        .display()
                ),
                _ => format!("cannot read: {e}"),
            },
        })?;
        Self::from_text(&text, path)
    }

    /// Parses and validates config text read from `path`.
    pub fn from_text(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|s| line_col(text, s.start))
                .map(|(l, c)| (Some(l), Some(c)))
                .unwrap_or((None, None));
            let words = trader_words(e.message().trim());
            let message = match e.span().and_then(|s| key_at(text, s.start).map(|k| (s, k))) {
                Some((span, key)) => {
                    // A Windows path in double quotes: `\T` is no TOML escape.
                    let line = text[..span.start].rsplit('\n').next().unwrap_or("");
                    let leaf = key.rsplit('.').next().unwrap_or(&key);
                    match windows_path_hint(leaf) {
                        Some(hint) if line.contains('\\') => format!("{key}: {words}; {hint}"),
                        _ => format!("{key}: {words}"),
                    }
                }
                None => words,
            };
            ConfigError {
                file: file.clone(),
                line,
                column,
                message: with_caret(message, text, line, column),
            }
        })?;
        cfg.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if cfg.base_dir.as_os_str().is_empty() {
            cfg.base_dir = PathBuf::from(".");
        }
        cfg.source = path.to_path_buf();
        cfg.validate().map_err(|(p, message)| {
            let (line, column) = locate(text, &p)
                .map(|s| line_col(text, s.start))
                .map(|(l, c)| (Some(l), Some(c)))
                .unwrap_or((None, None));
            ConfigError {
                file: file.clone(),
                line,
                column,
                message: with_caret(
                    format!("{}: {message}", path_string(&p)),
                    text,
                    line,
                    column,
                ),
            }
        })?;
        Ok(cfg)
    }

    /// Applies `KEY=VALUE` overrides (`profile.production.params.drop_threshold=5`). The value is
    /// read as TOML (`5`, `0.2`, `"text"`, `true`), or as a plain string when it is not TOML.
    pub fn apply_overrides(&mut self, sets: &[String]) -> Result<(), ConfigError> {
        if sets.is_empty() {
            return Ok(());
        }
        let err = |set: &str, message: String| ConfigError {
            file: format!("--set {set}"),
            line: None,
            column: None,
            message,
        };
        let mut doc = toml::Value::try_from(&*self).map_err(|e| err("", e.to_string()))?;
        for set in sets {
            let (k, v) = set
                .split_once('=')
                .ok_or_else(|| err(set, "expected KEY=VALUE".into()))?;
            let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {v}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or_else(|| toml::Value::String(v.to_string()));
            let parts: Vec<&str> = k.trim().split('.').collect();
            if parts.iter().any(|p| p.is_empty()) {
                return Err(err(
                    set,
                    format!("`{k}` is not a key path like profile.production.stop_pct"),
                ));
            }
            let mut node = &mut doc;
            for (n, part) in parts.iter().enumerate() {
                let last = n + 1 == parts.len();
                let table = node.as_table_mut().ok_or_else(|| {
                    err(set, format!("`{}` is not a table", parts[..n].join(".")))
                })?;
                if last {
                    table.insert(part.to_string(), value.clone());
                    break;
                }
                // Only `params` tables may gain new keys; elsewhere the path must exist.
                if !table.contains_key(*part) {
                    if *part == "params" {
                        table.insert(part.to_string(), toml::Value::Table(Default::default()));
                    } else {
                        return Err(err(
                            set,
                            format!("no `{}` in the config", parts[..=n].join(".")),
                        ));
                    }
                }
                node = table.get_mut(*part).expect("just checked");
            }
        }
        let (base, source) = (self.base_dir.clone(), self.source.clone());
        let mut cfg: Config = doc
            .try_into()
            .map_err(|e: toml::de::Error| err(&sets.join(" "), e.message().trim().to_string()))?;
        cfg.base_dir = base;
        cfg.source = source;
        cfg.validate()
            .map_err(|(p, m)| err(&sets.join(" "), format!("{}: {m}", path_string(&p))))?;
        *self = cfg;
        Ok(())
    }

    /// Semantic checks; the error carries the key path for locating it. Every number must be
    /// finite and inside a plausible range (DESIGN §14): a NaN, an infinity or an absurd value
    /// would otherwise surface later as a panic, an endless loop or an enormous allocation.
    fn validate(&self) -> Result<(), (Vec<Seg>, String)> {
        let i = &self.instrument;
        let at2 = |a: &str, b: &str| vec![key(a), key(b)];
        within(i.tick_size, 1e-6, 10_000.0, "price units")
            .map_err(|m| (at2("instrument", "tick_size"), m))?;
        if crate::market::price::price_decimals(i.tick_size) > 8 {
            return Err((
                at2("instrument", "tick_size"),
                format!("{} has more than 8 decimals", i.tick_size),
            ));
        }
        within(i.point_value, 1e-6, 1e7, "dollars per point")
            .map_err(|m| (at2("instrument", "point_value"), m))?;
        text(&i.symbol).map_err(|m| (at2("instrument", "symbol"), m))?;
        let e = &self.engine;
        if parse_hhmm(&e.trading_day_start).is_none() {
            return Err((
                at2("engine", "trading_day_start"),
                format!("`{}` is not HH:MM", e.trading_day_start),
            ));
        }
        for (k, v) in [
            ("signals_dir", &e.signals_dir),
            ("state_dir", &e.state_dir),
            ("journal", &e.journal),
        ] {
            path_value(k, v).map_err(|m| (at2("engine", k), m))?;
        }
        path_value("scenarios", &self.reload.scenarios)
            .map_err(|m| (at2("reload", "scenarios"), m))?;
        within(e.signal_ttl_seconds as f64, 1.0, 86_400.0, "seconds")
            .map_err(|m| (at2("engine", "signal_ttl_seconds"), m))?;
        within(e.bar_seconds as f64, 1.0, 86_400.0, "seconds")
            .map_err(|m| (at2("engine", "bar_seconds"), m))?;
        within(
            e.history_bars as f64,
            100.0,
            MAX_HISTORY_BARS as f64,
            "bars",
        )
        .map_err(|m| (at2("engine", "history_bars"), m))?;
        within(e.script_max_operations as f64, 1000.0, 1e9, "operations")
            .map_err(|m| (at2("engine", "script_max_operations"), m))?;
        within(e.script_max_call_ms as f64, 1.0, 60_000.0, "milliseconds")
            .map_err(|m| (at2("engine", "script_max_call_ms"), m))?;
        if self.feed.legacy_time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err((
                vec![key("feed"), key("legacy_time_zone")],
                format!("unknown time zone `{}`", self.feed.legacy_time_zone),
            ));
        }
        if let Some(n) = &self.nt8 {
            let dir = n.documents_dir.to_string_lossy();
            if dir.trim().is_empty() {
                return Err((
                    at2("nt8", "documents_dir"),
                    "is empty: NinjaTrader's Documents folder, e.g. documents_dir = 'C:\\Users\\me\\Documents'".into(),
                ));
            }
            path_value("documents_dir", &n.documents_dir)
                .map_err(|m| (at2("nt8", "documents_dir"), m))?;
            if n.account.trim().is_empty() {
                return Err((
                    at2("nt8", "account"),
                    "is empty: the account the auto-trader trades, e.g. \"Sim101\"".into(),
                ));
            }
            text(&n.account).map_err(|m| (at2("nt8", "account"), m))?;
        }
        let b = &self.backtest;
        within(b.commission_per_contract_side, 0.0, 1000.0, "dollars")
            .map_err(|m| (at2("backtest", "commission_per_contract_side"), m))?;
        within(b.slippage_ticks, 0.0, 1000.0, "ticks")
            .map_err(|m| (at2("backtest", "slippage_ticks"), m))?;
        for (name, p) in &self.profile {
            let at = |k: &str| vec![key("profile"), key(name), key(k)];
            if let Err(m) = text(name) {
                return Err((vec![key("profile"), key(name)], format!("profile name {m}")));
            }
            within(p.contracts as f64, 1.0, MAX_CONTRACTS as f64, "contracts")
                .map_err(|m| (at("contracts"), m))?;
            if !(p.stop_pct > 0.0 && p.stop_pct < 100.0) {
                return Err((
                    at("stop_pct"),
                    "must be between 0 and 100 (percent of entry)".into(),
                ));
            }
            within(p.target_points, 1e-9, 1e6, "points").map_err(|m| (at("target_points"), m))?;
            within(p.max_hold_minutes as f64, 1.0, 100_000.0, "minutes")
                .map_err(|m| (at("max_hold_minutes"), m))?;
            within(p.max_daily_signals as f64, 0.0, 1e6, "signals")
                .map_err(|m| (at("max_daily_signals"), m))?;
            if !(0.0..=1.0).contains(&p.min_confidence) {
                return Err((at("min_confidence"), "must be between 0 and 1".into()));
            }
            within(p.max_open_positions as f64, 1.0, 1e6, "positions")
                .map_err(|m| (at("max_open_positions"), m))?;
            if let Some(l) = p.max_daily_loss {
                within(l, 1e-9, 1e9, "dollars").map_err(|m| (at("max_daily_loss"), m))?;
            }
            if let Some(v) = p.max_stop_points {
                within(v, 1e-9, 1e6, "points").map_err(|m| (at("max_stop_points"), m))?;
            }
            if let Some(v) = p.max_contracts {
                within(v as f64, 1.0, MAX_CONTRACTS as f64, "contracts")
                    .map_err(|m| (at("max_contracts"), m))?;
                if v < p.contracts {
                    return Err((
                        at("max_contracts"),
                        format!("{v} is below the profile's own `contracts` {}", p.contracts),
                    ));
                }
            }
            if let Some(v) = p.max_risk {
                within(v, 1e-9, 1e9, "dollars").map_err(|m| (at("max_risk"), m))?;
            }
            if let Some(v) = p.min_reward_risk {
                within(v, 0.0, 1000.0, "").map_err(|m| (at("min_reward_risk"), m))?;
            }
            if let Some(v) = p.target_r {
                within(v, 1e-6, 1000.0, "").map_err(|m| (at("target_r"), m))?;
            }
            if let Some(f) = &p.flat_by {
                if parse_hhmm(f).is_none() {
                    return Err((at("flat_by"), format!("`{f}` is not HH:MM (24 h, ET)")));
                }
            }
            if p.signal_prefix.is_empty()
                || p.signal_prefix.len() > 64
                || !p
                    .signal_prefix
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err((
                    at("signal_prefix"),
                    "must be a plain file name prefix like `vreversal_` (letters, digits, `_`, `-`)"
                        .into(),
                ));
            }
            path_value("strategy", Path::new(&p.strategy)).map_err(|m| (at("strategy"), m))?;
            // The script's file name is written as STRATEGY=name@hash.
            let file_name = Path::new(&p.strategy)
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            text(&file_name).map_err(|m| (at("strategy"), format!("file name {m}")))?;
            finite_params(&p.params).map_err(|(k, m)| {
                let mut path = at("params");
                path.push(key(&k));
                (path, m)
            })?;
            if p.strategy.starts_with("builtin:")
                && !BUILTIN_STRATEGIES.contains(&p.strategy.as_str())
            {
                return Err((
                    at("strategy"),
                    format!(
                        "unknown builtin `{}` ({})",
                        p.strategy,
                        BUILTIN_STRATEGIES.join(", ")
                    ),
                ));
            }
        }
        let mut windows: Vec<(usize, SessionWindow)> = Vec::new();
        for (n, s) in self.session.iter().enumerate() {
            let at = |k: &str| vec![key("session"), Seg::Index(n), key(k)];
            text(&s.name).map_err(|m| (at("name"), format!("window name {m}")))?;
            let start = parse_hhmm(&s.start).ok_or((
                at("start"),
                format!("`{}` is not HH:MM (24 h, ET)", s.start),
            ))?;
            let end = parse_hhmm(&s.end)
                .ok_or((at("end"), format!("`{}` is not HH:MM (24 h, ET)", s.end)))?;
            if end == start {
                return Err((
                    at("end"),
                    format!(
                        "window `{}` ends at {} where it starts (an end before the start wraps past midnight)",
                        s.name, s.end
                    ),
                ));
            }
            if !self.profile.contains_key(&s.profile) {
                let known: Vec<&str> = self.profile.keys().map(String::as_str).collect();
                return Err((
                    at("profile"),
                    format!(
                        "unknown profile `{}` (defined: {})",
                        s.profile,
                        known.join(", ")
                    ),
                ));
            }
            let w = SessionWindow {
                start_minute: start,
                end_minute: end,
            };
            if let Some((m, _)) = windows.iter().find(|(_, o)| w.overlaps(o)) {
                return Err((
                    at("start"),
                    format!(
                        "window `{}` overlaps window `{}`",
                        s.name, self.session[*m].name
                    ),
                ));
            }
            if self.session[..n].iter().any(|o| o.name == s.name) {
                return Err((
                    at("name"),
                    format!("window name `{}` is used twice", s.name),
                ));
            }
            windows.push((n, w));
        }
        Ok(())
    }

    /// Resolves a path from the config against the config file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() || self.base_dir == Path::new(".") {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// The session windows with their parsed times (validated, so parsing cannot fail).
    pub fn windows(&self) -> Vec<(String, SessionWindow, String)> {
        self.session
            .iter()
            .filter_map(|s| {
                Some((
                    s.name.clone(),
                    SessionWindow {
                        start_minute: parse_hhmm(&s.start)?,
                        end_minute: parse_hhmm(&s.end)?,
                    },
                    s.profile.clone(),
                ))
            })
            .collect()
    }

    /// Values that are valid but implausible for day-trading ES, each with its place: they are
    /// warned about, never refused (a trader may mean them). `stop_pct = 10` is a stop about
    /// Values a profile can write that `VrevAutoTrader` refuses with its default properties
    /// (`nt8/README.md`): a trader raises the property, or the profile, before a live day.
    pub fn beyond_auto_trader_defaults(&self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        let mut warn = |path: &[&str], message: String| {
            let mut place = self.place_of(path);
            place.message = format!("{}: {message}", path.join("."));
            out.push(place);
        };
        if self.engine.signal_ttl_seconds > NT8_MAX_SIGNAL_LIFE_SECONDS {
            warn(
                &["engine", "signal_ttl_seconds"],
                format!(
                    "{} s is more than VrevAutoTrader's Max signal life ({NT8_MAX_SIGNAL_LIFE_SECONDS} s): it would refuse every signal",
                    self.engine.signal_ttl_seconds
                ),
            );
        }
        for (name, p) in &self.profile {
            let size = p.max_contracts.unwrap_or(p.contracts).max(p.contracts);
            if size > NT8_MAX_QUANTITY {
                let key = if p.max_contracts.is_some() {
                    "max_contracts"
                } else {
                    "contracts"
                };
                warn(
                    &["profile", name, key],
                    format!("up to {size} contracts, more than VrevAutoTrader's Max quantity ({NT8_MAX_QUANTITY}): it refuses such signals (raise the property)"),
                );
            }
            let widest = p
                .max_stop_points
                .unwrap_or(p.stop_pct / 100.0 * REFERENCE_PRICE);
            if widest > NT8_MAX_STOP_POINTS {
                let key = if p.max_stop_points.is_some() {
                    "max_stop_points"
                } else {
                    "stop_pct"
                };
                warn(
                    &["profile", name, key],
                    format!("stops up to {widest:.2} points (at {REFERENCE_PRICE}), more than VrevAutoTrader's Max stop ({NT8_MAX_STOP_POINTS} points): it refuses such signals"),
                );
            }
            let target = match p.target_r {
                Some(r) => r * widest,
                None => p.target_points,
            };
            if target > NT8_MAX_TARGET_POINTS {
                let key = if p.target_r.is_some() {
                    "target_r"
                } else {
                    "target_points"
                };
                warn(
                    &["profile", name, key],
                    format!("targets up to {target:.2} points, more than VrevAutoTrader's Max target ({NT8_MAX_TARGET_POINTS} points): it refuses such signals"),
                );
            }
            if p.max_hold_minutes > NT8_MAX_HOLD_MINUTES {
                warn(
                    &["profile", name, "max_hold_minutes"],
                    format!("{} minutes is more than VrevAutoTrader's Max hold ({NT8_MAX_HOLD_MINUTES} minutes): it refuses such signals", p.max_hold_minutes),
                );
            }
        }
        out
    }

    /// 500 points from entry; a slip of the decimal point should not pass silently.
    pub fn implausible(&self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        for (name, p) in &self.profile {
            let mut warn = |k: &str, message: String| {
                let mut place = self.place_of(&["profile", name, k]);
                place.message = format!("profile.{name}.{k}: {message}");
                out.push(place);
            };
            if p.stop_pct > 1.0 {
                warn(
                    "stop_pct",
                    format!(
                        "{} % of entry is a stop about {:.0} points away at 5,000 (day-trading stops are 0.05–1 %; the value is a percentage, 0.1 = 0.1 %)",
                        p.stop_pct,
                        50.0 * p.stop_pct
                    ),
                );
            }
            if p.target_points > 50.0 {
                warn(
                    "target_points",
                    format!(
                        "a target {} points from entry is more than a day's usual range",
                        p.target_points
                    ),
                );
            }
            if p.contracts > 20 {
                warn(
                    "contracts",
                    format!("{} contracts per signal: check the size", p.contracts),
                );
            }
            if p.max_hold_minutes > 24 * 60 {
                warn(
                    "max_hold_minutes",
                    format!(
                        "{} minutes is longer than a trading day",
                        p.max_hold_minutes
                    ),
                );
            }
        }
        out
    }

    /// Finds where a profile key lives in the file, for errors found after loading (e.g. an
    /// unknown script parameter).
    pub fn place_of(&self, path: &[&str]) -> ConfigError {
        let file = self.source.display().to_string();
        let segs: Vec<Seg> = path.iter().map(|s| key(s)).collect();
        let text = std::fs::read_to_string(&self.source).unwrap_or_default();
        let (line, column) = locate(&text, &segs)
            .map(|s| line_col(&text, s.start))
            .map(|(l, c)| (Some(l), Some(c)))
            .unwrap_or((None, None));
        ConfigError {
            file,
            line,
            column,
            message: path.join("."),
        }
    }
}

/// `VrevAutoTrader`'s default limits (`nt8/README.md`, `docs/protocol.md` §1d): a signal beyond
/// them is refused there, so `vrev check` warns about profiles that can write one.
pub const NT8_MAX_QUANTITY: u32 = 3;
pub const NT8_MAX_STOP_POINTS: f64 = 30.0;
pub const NT8_MAX_TARGET_POINTS: f64 = 60.0;
pub const NT8_MAX_SIGNAL_LIFE_SECONDS: i64 = 300;
pub const NT8_MAX_HOLD_MINUTES: u32 = 1440;
/// The price at which `stop_pct` distances are judged in those warnings (ES, late 2025).
const REFERENCE_PRICE: f64 = 7000.0;

/// The native strategies a profile may name instead of a script: the DESIGN §9 reference
/// (`builtin:vreversal`, `builtin:bidirectional`) and the twins of the shipped indicator scripts.
/// The strategy layer builds each (a unit test in `strategy::twins` holds it to this list).
pub const BUILTIN_STRATEGIES: [&str; 5] = [
    "builtin:vreversal",
    "builtin:bidirectional",
    "builtin:orb",
    "builtin:vwap_reversion",
    "builtin:ema_pullback",
];

/// Why `value` cannot be a value of a signal file's `KEY=VALUE` line (names, patterns and reasons
/// from the config and from scripts end up there, so both are checked with this one rule): a line break would inject a line of its own, any
/// other control character would corrupt it, `=` makes the line ambiguous to a reader that splits
/// at the last `=`. `None` when it can.
pub fn value_problem(value: &str, max_chars: usize) -> Option<String> {
    if value.trim().is_empty() {
        return Some("is empty".into());
    }
    if value.chars().count() > max_chars {
        return Some(format!("is longer than {max_chars} characters"));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Some(format!(
            "contains the control character {:?} (a line break would inject a line into the signal file)",
            c
        ));
    }
    if value.contains('=') {
        return Some("contains `=`, which separates keys from values in the signal file".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[instrument]
symbol = "ES"

[[session]]
name = "morning"
start = "09:00"
end = "11:00"
profile = "production"

[profile.production]
strategy = "strategies/vreversal.rhai"
direction = "long"
contracts = 3
stop_pct = 0.1
target_points = 3.0
max_hold_minutes = 25
max_daily_signals = 20
min_confidence = 0.70
params = { drop_threshold = 4.0 }
"#;

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_text(text, Path::new("config.toml"))
    }

    #[test]
    fn the_nt8_section_is_optional_names_the_trade_log_and_refuses_bad_values_with_their_place() {
        assert_eq!(load(GOOD).unwrap().nt8, None);
        let with = format!("{GOOD}\n[nt8]\ndocuments_dir = 'C:\\Users\\me\\Documents'\n");
        let n = load(&with).unwrap().nt8.unwrap();
        assert_eq!(n.account, "Sim101");
        assert!(n
            .trade_log()
            .ends_with(Path::new("vrev").join("nt8").join("trades_Sim101.csv")));
        let odd = format!("{GOOD}\n[nt8]\ndocuments_dir = \"docs\"\naccount = \"Sim 101\"\n");
        let n = load(&odd).unwrap().nt8.unwrap();
        assert_eq!(n.trade_log(), Path::new("docs/vrev/nt8/trades_Sim_101.csv"));
        assert_eq!(
            n.processed_list(),
            Path::new("docs/vrev/nt8/processed_Sim_101.txt")
        );
        let line = GOOD.lines().count() + 2;
        let cases = [
            ("documents_dir = \"C:\\temp\"", "control character"),
            ("documents_dir = \"\"", "is empty"),
            ("documents_dir = \"d\"\naccount = \"\"", "account: is empty"),
            ("documents_dir = \"d\"\naccount = \"a=b\"", "nt8.account"),
            ("documents_dir = \"d\"\nacount = \"x\"", "acount"),
        ];
        for (body, want) in cases {
            let e = load(&format!("{GOOD}\n[nt8]\n{body}\n")).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(want), "{body}: {text}");
            assert!(e.line.is_some_and(|l| l >= line), "{body}: {text}");
        }
    }

    #[test]
    fn windows_paths_in_double_quotes_are_refused_with_the_single_quoted_form() {
        // (line added after `[engine]` or in the profile, the error must contain all of these)
        let engine = |line: &str| {
            GOOD.replacen(
                "[[session]]",
                &format!("[engine]\n{line}\n\n[[session]]"),
                1,
            )
        };
        let strategy = |value: &str| GOOD.replacen("\"strategies/vreversal.rhai\"", value, 1);
        let cases: Vec<(String, Vec<&str>)> = vec![
            // A backslash escape TOML does not know: a parse error, with the hint.
            (
                engine(r#"signals_dir = "D:\Thelma\signals""#),
                vec![
                    "config.toml:6:",
                    "engine.signals_dir",
                    r"signals_dir = 'D:\vrev\signals'",
                ],
            ),
            (
                engine(r#"state_dir = "D:\vrev\state""#),
                vec![
                    "config.toml:6:",
                    "engine.state_dir",
                    r"state_dir = 'D:\vrev\state'",
                ],
            ),
            // Valid escapes (tab, newline, ...) that would silently make another path.
            (
                engine(r#"signals_dir = "C:\temp""#),
                vec![
                    "config.toml:6:",
                    "engine.signals_dir",
                    "control character",
                    r"signals_dir = 'D:\vrev\signals'",
                ],
            ),
            (
                engine(r#"signals_dir = "D:\new\x""#),
                vec![
                    "config.toml:6:",
                    "engine.signals_dir",
                    r"signals_dir = 'D:\vrev\signals'",
                ],
            ),
            (
                engine(r#"state_dir = "D:\new""#),
                vec![
                    "config.toml:6:",
                    "engine.state_dir",
                    "control character",
                    r"state_dir = 'D:\vrev\state'",
                ],
            ),
            (
                engine(r#"journal = "D:\temp.jsonl""#),
                vec![
                    "config.toml:6:",
                    "engine.journal",
                    "control character",
                    r"journal = 'D:\vrev\state\journal.jsonl'",
                ],
            ),
            (
                strategy(r#""D:\strategies\vreversal.rhai""#),
                vec![
                    "config.toml:12:",
                    "profile.production.strategy",
                    r"strategy = 'D:\vrev\strategies\vreversal.rhai'",
                ],
            ),
            (
                strategy(r#""D:\rhai\bvreversal.rhai""#),
                vec![
                    "config.toml:12:",
                    "profile.production.strategy",
                    "control character",
                    r"strategy = 'D:\vrev\strategies\vreversal.rhai'",
                ],
            ),
            (
                format!("{GOOD}\n[reload]\nscenarios = \"D:\\tests\"\n"),
                vec![
                    "reload.scenarios",
                    "control character",
                    r"scenarios = 'D:\vrev\tests\scenarios'",
                ],
            ),
            (
                format!("{GOOD}\n[nt8]\ndocuments_dir = \"C:\\Users\\me\\Documents\"\n"),
                vec![
                    "nt8.documents_dir",
                    r"documents_dir = 'C:\Users\me\Documents'",
                ],
            ),
        ];
        for (text, wants) in &cases {
            let err = load(text).unwrap_err().to_string();
            for want in wants {
                assert!(err.contains(want), "want {want:?} in:\n{err}");
            }
        }
        // The single-quoted (literal) forms load as written.
        let good = [
            (
                engine(r"signals_dir = 'D:\Thelma\signals'"),
                r"D:\Thelma\signals",
            ),
            (engine(r"signals_dir = 'C:\temp'"), r"C:\temp"),
            (engine(r#"signals_dir = "D:\\new\\x""#), r"D:\new\x"),
        ];
        for (text, dir) in good {
            assert_eq!(load(&text).unwrap().engine.signals_dir, PathBuf::from(dir));
        }
        let c = load(&strategy(r"'D:\vrev\strategies\vreversal.rhai'")).unwrap();
        assert_eq!(
            c.profile["production"].strategy,
            r"D:\vrev\strategies\vreversal.rhai"
        );
    }

    #[test]
    fn good_config_loads_with_defaults() {
        let c = load(GOOD).unwrap();
        assert_eq!(c.engine.signal_ttl_seconds, 90);
        assert_eq!(c.profile["production"].max_open_positions, 1);
        assert_eq!(
            c.windows()[0].1,
            SessionWindow {
                start_minute: 540,
                end_minute: 660
            }
        );
    }

    /// `vrev check` warns where VrevAutoTrader's default limits would refuse a profile's signals.
    #[test]
    fn warns_about_values_the_auto_trader_refuses_by_default() {
        let warned = |from: &str, to: &str| -> Vec<String> {
            load(&GOOD.replacen(from, to, 1))
                .unwrap()
                .beyond_auto_trader_defaults()
                .iter()
                .map(|w| w.to_string())
                .collect()
        };
        assert!(warned("contracts = 3", "contracts = 3").is_empty());
        let w = warned("contracts = 3", "contracts = 4");
        assert!(w.len() == 1 && w[0].contains("profile.production.contracts: up to 4 contracts, more than VrevAutoTrader's Max quantity (3)"), "{w:?}");
        let w = warned("stop_pct = 0.1", "stop_pct = 0.1\nmax_stop_points = 40.0");
        assert!(
            w.iter()
                .any(|w| w.contains("max_stop_points: stops up to 40.00 points")),
            "{w:?}"
        );
        let w = warned("max_hold_minutes = 25", "max_hold_minutes = 2000");
        assert!(
            w.iter()
                .any(|w| w.contains(":20: profile.production.max_hold_minutes: 2000 minutes")),
            "{w:?}"
        );
    }

    #[test]
    fn errors_name_line_column_and_key() {
        // (replacement applied to GOOD, expected error text)
        let cases = [
            ("contracts = 3", "contracts = 0", "config.toml:14:13: profile.production.contracts: 0 is not a plausible value: expected 1 to 1000 contracts"),
            ("contracts = 3", "contracts = \"three\"", "config.toml:14:13: profile.production.contracts: expected a whole number, found the text \"three\""),
            ("max_hold_minutes = 25", "max_hold = 25", "config.toml:17:1: unknown field `max_hold`, expected one of"),
            ("profile = \"production\"", "profile = \"prod\"", "config.toml:9:11: session[0].profile: unknown profile `prod` (defined: production)"),
            ("end = \"11:00\"", "end = \"09:00\"", "config.toml:8:7: session[0].end: window `morning` ends at 09:00 where it starts"),
            ("max_hold_minutes = 25", "max_hold_minutes = 25\nflat_by = \"4pm\"", "config.toml:18:11: profile.production.flat_by: `4pm` is not HH:MM"),
            ("max_hold_minutes = 25", "max_hold_minutes = 25\nmax_contracts = 2", "config.toml:18:17: profile.production.max_contracts: 2 is below the profile's own `contracts` 3"),
            ("start = \"09:00\"", "start = \"9am\"", "config.toml:7:9: session[0].start: `9am` is not HH:MM"),
            ("direction = \"long\"", "direction = \"up\"", "config.toml:13:13: profile.production.direction: `up` is not one of: long, short, both"),
            ("stop_pct = 0.1", "stop_pct = 0.1\nstop_pct = 0.2", "config.toml:16:1: duplicate key"),
        ];
        for (from, to, expected) in cases {
            let text = GOOD.replacen(from, to, 1);
            let err = load(&text).unwrap_err().to_string();
            assert!(
                err.starts_with(expected),
                "{from} -> {to}:\n got  {err}\n want {expected}"
            );
        }
    }

    #[test]
    fn nan_infinite_and_absurd_numbers_are_config_errors_with_their_place() {
        // (replacement applied to GOOD, expected error text)
        let cases = [
            ("symbol = \"ES\"", "symbol = \"ES\"\ntick_size = nan", "config.toml:4:13: instrument.tick_size: NaN is not a plausible value"),
            ("symbol = \"ES\"", "symbol = \"ES\"\ntick_size = 1e-300", "config.toml:4:13: instrument.tick_size"),
            ("symbol = \"ES\"", "symbol = \"ES\\nACTION=SELL\"", "config.toml:3:10: instrument.symbol: \"ES\\nACTION=SELL\" contains the control character"),
            ("symbol = \"ES\"", "symbol = \"E=S\"", "instrument.symbol: \"E=S\" contains `=`"),
            ("symbol = \"ES\"", "symbol = \"ES\"\n[engine]\nsignal_ttl_seconds = 99999999", "config.toml:5:22: engine.signal_ttl_seconds: 99999999 is not a plausible value"),
            ("symbol = \"ES\"", "symbol = \"ES\"\n[engine]\nhistory_bars = 100000000000", "engine.history_bars"),
            ("symbol = \"ES\"", "symbol = \"ES\"\n[engine]\nscript_max_call_ms = 0", "engine.script_max_call_ms"),
            ("symbol = \"ES\"", "symbol = \"ES\"\n[backtest]\ncommission_per_contract_side = inf", "config.toml:5:32: backtest.commission_per_contract_side: inf is not a plausible value"),
            ("symbol = \"ES\"", "symbol = \"ES\"\n[backtest]\nslippage_ticks = nan", "backtest.slippage_ticks"),
            ("drop_threshold = 4.0", "drop_threshold = nan", "config.toml:20:29: profile.production.params.drop_threshold: nan is not a finite number"),
            ("drop_threshold = 4.0", "drop_threshold = [1.0, inf]", "profile.production.params.drop_threshold"),
            ("target_points = 3.0", "target_points = inf", "config.toml:16:17: profile.production.target_points"),
            ("stop_pct = 0.1", "stop_pct = nan", "profile.production.stop_pct: must be between 0 and 100"),
            ("contracts = 3", "contracts = 3000", "profile.production.contracts: 3000 is not a plausible value"),
            ("min_confidence = 0.70", "min_confidence = nan", "profile.production.min_confidence"),
            ("max_daily_signals = 20", "max_daily_signals = 20\nmax_daily_loss = inf", "profile.production.max_daily_loss"),
            ("[profile.production]", "[profile.\"prod=x\"]", "config.toml:11:10: profile.prod=x: profile name \"prod=x\" contains `=`"),
            ("direction = \"long\"", "direction = \"long\"\nsignal_prefix = \"v\\nx\"", "profile.production.signal_prefix"),
            ("strategy = \"strategies/vreversal.rhai\"", "strategy = \"strategies/v=r.rhai\"", "profile.production.strategy: file name"),
            ("name = \"morning\"", "name = \"mor\\nning\"", "session[0].name: window name"),
        ];
        for (from, to, expected) in cases {
            assert!(GOOD.contains(from), "{from}");
            let text = GOOD.replacen(from, to, 1);
            let err = load(&text).unwrap_err().to_string();
            assert!(
                err.contains(expected),
                "{from} -> {to}:\n got  {err}\n want {expected}"
            );
        }
    }

    #[test]
    fn implausible_but_valid_values_are_warned_about_with_their_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        // (replacement, warning fragment; "" = no warning)
        let cases = [
            ("stop_pct = 0.1", "stop_pct = 0.5", ""),
            ("stop_pct = 0.1", "stop_pct = 10", ":15:12: profile.production.stop_pct: 10 % of entry is a stop about 500 points away"),
            ("target_points = 3.0", "target_points = 300.0", ":16:17: profile.production.target_points"),
            ("contracts = 3", "contracts = 300", ":14:13: profile.production.contracts: 300 contracts"),
            ("max_hold_minutes = 25", "max_hold_minutes = 2000", "profile.production.max_hold_minutes"),
        ];
        for (from, to, want) in cases {
            std::fs::write(&path, GOOD.replacen(from, to, 1)).unwrap();
            let warnings: Vec<String> = Config::load(&path)
                .unwrap()
                .implausible()
                .iter()
                .map(|w| w.to_string())
                .collect();
            if want.is_empty() {
                assert!(warnings.is_empty(), "{to}: {warnings:?}");
            } else {
                assert_eq!(warnings.len(), 1, "{to}: {warnings:?}");
                assert!(warnings[0].contains(want), "{to}: {warnings:?}");
            }
        }
    }

    #[test]
    fn type_errors_name_the_key_in_a_traders_words_and_show_the_line() {
        // (replacement applied to GOOD, expected error text)
        let cases = [
            ("contracts = 3", "contracts = \"3\"", "config.toml:14:13: profile.production.contracts: expected a whole number, found the text \"3\" (numbers take no quotes)\n  14 | contracts = \"3\"\n     |             ^"),
            ("direction = \"long\"", "direction = \"buy\"", "config.toml:13:13: profile.production.direction: `buy` is not one of: long, short, both"),
            ("stop_pct = 0.1", "stop_pct = true", "profile.production.stop_pct: expected a number, found true"),
            ("drop_threshold = 4.0", "drop_threshold = 4.0, x = [1, \"a\"]", ""),
            ("end = \"11:00\"", "end = 11", "session.end: expected text in quotes, found the whole number 11"),
        ];
        for (from, to, expected) in cases {
            let text = GOOD.replacen(from, to, 1);
            match load(&text) {
                Ok(_) => assert!(expected.is_empty(), "{to} loaded"),
                Err(e) => {
                    let err = e.to_string();
                    assert!(
                        !expected.is_empty() && err.contains(expected),
                        "{from} -> {to}:\n got  {err}\n want {expected}"
                    );
                }
            }
        }
        // Semantic errors show their line too.
        let err = load(&GOOD.replacen("contracts = 3", "contracts = 0", 1))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("\n  14 | contracts = 0\n     |             ^"),
            "{err}"
        );
    }

    #[test]
    fn overlapping_windows_are_refused() {
        let text = format!("{GOOD}\n[[session]]\nname = \"late\"\nstart = \"10:30\"\nend = \"12:00\"\nprofile = \"production\"\n");
        let err = load(&text).unwrap_err().to_string();
        assert!(
            err.contains("session[1].start: window `late` overlaps window `morning`"),
            "{err}"
        );
    }

    #[test]
    fn overrides_set_values_and_name_the_set_on_error() {
        let mut c = load(GOOD).unwrap();
        c.apply_overrides(&[
            "profile.production.params.drop_threshold=5".into(),
            "profile.production.stop_pct=0.2".into(),
        ])
        .unwrap();
        assert_eq!(
            c.profile["production"].params["drop_threshold"],
            toml::Value::Integer(5)
        );
        assert_eq!(c.profile["production"].stop_pct, 0.2);
        let err = c
            .clone()
            .apply_overrides(&["profile.production.contracts=0".into()])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--set profile.production.contracts=0: profile.production.contracts: 0 is not a plausible value"), "{err}");
        let err = c
            .clone()
            .apply_overrides(&["profile.nope.contracts=1".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `profile.nope` in the config"), "{err}");
        let err = c
            .apply_overrides(&["profile.production.stop_pct=abc".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected f64"), "{err}");
    }
}
