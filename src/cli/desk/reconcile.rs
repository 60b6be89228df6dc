//! `vrev reconcile` (issue 21): the auto-trader's real trades (`trades_<account>.csv`, written
//! by `VrevTradeLog` in `nt8/Strategies/VrevAutoTrader.cs`) against vrev's own signals and shadow
//! trades from the journal (`signal` and `trade_closed` events), matched by SIGNAL_ID.
//!
//! Slippage is measured in ticks against the model's price *before* its own slippage: the open
//! of the bar after the signal bar for an entry, the stop or the target for an exit (the gap
//! open or the close for the model's other exits). A fill exactly as modelled therefore shows
//! the configured `backtest.slippage_ticks` (0 on a target, which the model fills exactly).
//! Positive ticks are against the trader. Exit reasons are data; only `stop_gap` is read as
//! `stop` on both sides. P&L is compared gross (before commissions), as the trade log writes it.

use crate::backtest::identity::{shell_command, HashedFile};
use crate::cli::args::ReconcileArgs;
use crate::config::Config;
use crate::market::format::{esc, money, text_table};
use crate::market::price::Side;
use anyhow::{anyhow, bail, Context as _, Result};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One line of the auto-trader's trade log.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveTrade {
    /// 1-based line in the file.
    pub line: usize,
    pub signal_id: String,
    pub side: Side,
    pub quantity: u32,
    pub entry_time: String,
    pub entry_price: f64,
    pub exit_time: String,
    pub exit_price: f64,
    pub exit_reason: String,
    /// Gross dollars, as logged.
    pub pnl: f64,
}

/// A signal vrev wrote (journal `signal` event).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSignal {
    pub signal_id: String,
    pub side: Side,
    pub bar_time: String,
    pub entry: f64,
    pub stop: f64,
    pub target: f64,
    pub quantity: u32,
    pub profile: String,
}

/// A shadow trade that exited (journal `trade_closed` event). Prices include the model's
/// slippage.
#[derive(Clone, Debug, PartialEq)]
pub struct ShadowTrade {
    pub entry: f64,
    pub exit: f64,
    pub reason: String,
}

/// vrev's side of the comparison, in signal order.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub signals: Vec<ModelSignal>,
    pub shadows: HashMap<String, ShadowTrade>,
}

/// The numbers the comparison needs from the config.
#[derive(Clone, Copy, Debug)]
pub struct Costs {
    pub tick_size: f64,
    pub point_value: f64,
    pub slippage_ticks: f64,
}

impl Costs {
    pub fn from_config(cfg: &Config) -> Costs {
        Costs {
            tick_size: cfg.instrument.tick_size,
            point_value: cfg.instrument.point_value,
            slippage_ticks: cfg.backtest.slippage_ticks,
        }
    }
}

/// A real trade with its vrev signal.
#[derive(Clone, Debug)]
pub struct Matched {
    pub live: LiveTrade,
    pub signal: ModelSignal,
    pub shadow: Option<ShadowTrade>,
    /// The model's entry before its slippage (the next bar's open), when the shadow entered.
    pub model_entry: Option<f64>,
    pub entry_slip: Option<f64>,
    /// The model's exit before its slippage.
    pub model_exit: Option<f64>,
    pub exit_slip: Option<f64>,
    /// Live and shadow exit reasons differ (after `stop_gap` → `stop`).
    pub reason_differs: bool,
    /// Gross shadow P&L of the live quantity.
    pub shadow_pnl: Option<f64>,
    /// The live fills against the shadow's own fills (slippage included), in ticks, positive =
    /// the live fill was worse: 0 and 0 when NinjaTrader filled exactly as the backtest did.
    pub entry_vs_shadow: Option<f64>,
    pub exit_vs_shadow: Option<f64>,
}

impl Matched {
    /// Live minus shadow P&L (gross, at the live quantity), when the shadow trade has exited.
    pub fn pnl_difference(&self) -> Option<f64> {
        self.shadow_pnl.map(|s| self.live.pnl - s)
    }
}

/// Everything `reconcile` found.
#[derive(Clone, Debug, Default)]
pub struct Reconciliation {
    pub matched: Vec<Matched>,
    /// Signals without a real trade, with the auto-trader's outcome from its processed list.
    pub untraded: Vec<(ModelSignal, Option<String>)>,
    /// Real trades whose SIGNAL_ID vrev never wrote.
    pub unmatched: Vec<LiveTrade>,
}

/// `stop_gap` counts as `stop`; every other reason is itself.
pub fn normal_reason(r: &str) -> &str {
    if r == "stop_gap" {
        "stop"
    } else {
        r
    }
}

fn side_of(s: &str) -> Option<Side> {
    match s {
        "BUY" => Some(Side::Buy),
        "SELL" => Some(Side::Sell),
        _ => None,
    }
}

/// Reads `trades_<account>.csv`; every bad value is an error naming `file:line` and the column.
pub fn read_trades(path: &Path) -> Result<Vec<LiveTrade>> {
    let text = crate::market::input_file::read_to_string(path)
        .with_context(|| format!("{}: cannot read the trade log", path.display()))?;
    let file = path.display();
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = match lines.next() {
        Some((_, h)) => h
            .trim_start_matches('\u{feff}')
            .split(',')
            .map(str::trim)
            .collect(),
        None => bail!("{file}: empty, expected the header signal_id,side,quantity,..."),
    };
    let want = [
        "signal_id",
        "side",
        "quantity",
        "entry_time_utc",
        "entry_price",
        "exit_time_utc",
        "exit_price",
        "exit_reason",
        "points",
        "pnl",
    ];
    let mut col = HashMap::new();
    for w in want {
        match header.iter().position(|h| *h == w) {
            Some(i) => {
                col.insert(w, i);
            }
            None => bail!(
                "{file}:1: no `{w}` column (expected the auto-trader's header {})",
                want.join(",")
            ),
        }
    }
    let mut out = Vec::new();
    for (n, raw) in lines {
        let line = n + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = raw.split(',').map(str::trim).collect();
        let cell = |name: &str| -> Result<&str> {
            cells
                .get(col[name])
                .copied()
                .ok_or_else(|| anyhow!("{file}:{line}: no `{name}` value ({} fields)", cells.len()))
        };
        let number = |name: &str| -> Result<f64> {
            let v = cell(name)?;
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| anyhow!("{file}:{line}: {name} `{v}` is not a number"))
        };
        let id = cell("signal_id")?;
        if id.is_empty() {
            bail!("{file}:{line}: empty signal_id");
        }
        let side_text = cell("side")?;
        let side = side_of(side_text)
            .ok_or_else(|| anyhow!("{file}:{line}: side `{side_text}` is not BUY or SELL"))?;
        let q = cell("quantity")?;
        let quantity = q.parse::<u32>().ok().filter(|q| *q > 0).ok_or_else(|| {
            anyhow!("{file}:{line}: quantity `{q}` is not a whole number above 0")
        })?;
        out.push(LiveTrade {
            line,
            signal_id: id.to_string(),
            side,
            quantity,
            entry_time: cell("entry_time_utc")?.to_string(),
            entry_price: number("entry_price")?,
            exit_time: cell("exit_time_utc")?.to_string(),
            exit_price: number("exit_price")?,
            exit_reason: cell("exit_reason")?.to_string(),
            pnl: number("pnl")?,
        });
    }
    Ok(out)
}

/// Reads the auto-trader's processed list (`ID TAB outcome TAB trading day TAB recorded UTC`).
/// A missing file is an empty list; lines the auto-trader itself would skip are skipped.
pub fn read_processed(path: &Path) -> Result<HashMap<String, String>> {
    let text = match crate::market::input_file::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => bail!("{}: cannot read the processed list: {e}", path.display()),
    };
    let mut out = HashMap::new();
    for raw in text.lines() {
        let parts: Vec<&str> = raw.split('\t').collect();
        if parts.len() < 3 || parts[0].is_empty() {
            continue;
        }
        out.entry(parts[0].to_string())
            .or_insert_with(|| parts[1].to_string());
    }
    Ok(out)
}

/// Reads the journal's `signal` and `trade_closed` events (the latest of each per ID, when
/// several runs wrote the same one). A malformed line is an error naming `file:line`, except an
/// unterminated last line (a crash mid-write), which is skipped.
pub fn read_journal(path: &Path) -> Result<Model> {
    let text = crate::market::input_file::read_to_string(path)
        .with_context(|| format!("{}: cannot read the journal", path.display()))?;
    let file = path.display();
    let mut model = Model::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let ends_clean = text.ends_with('\n');
    let count = text.lines().count();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = match serde_json::from_str(raw) {
            Ok(v) => v,
            Err(_) if line == count && !ends_clean => {
                crate::errln!("warning: {file}:{line}: unterminated last line skipped");
                continue;
            }
            Err(e) => bail!("{file}:{line}: not a journal line: {e}"),
        };
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let f = |k: &str| -> Result<f64> {
            v.get(k)
                .and_then(|x| x.as_f64())
                .ok_or_else(|| anyhow!("{file}:{line}: `{k}` is missing or not a number"))
        };
        match v.get("event").and_then(|e| e.as_str()) {
            Some("signal") => {
                let side = side_of(&s("side")).ok_or_else(|| {
                    anyhow!("{file}:{line}: side `{}` is not BUY or SELL", s("side"))
                })?;
                let sig = ModelSignal {
                    signal_id: s("signal_id"),
                    side,
                    bar_time: s("bar_time"),
                    entry: f("entry")?,
                    stop: f("stop")?,
                    target: f("target")?,
                    quantity: v.get("quantity").and_then(|q| q.as_u64()).unwrap_or(0) as u32,
                    profile: s("profile"),
                };
                match index.get(&sig.signal_id) {
                    Some(&i) => model.signals[i] = sig,
                    None => {
                        index.insert(sig.signal_id.clone(), model.signals.len());
                        model.signals.push(sig);
                    }
                }
            }
            Some("trade_closed") => {
                let (entry, exit) = (f("entry"), f("exit"));
                // A trade that never filled has no prices (NaN is written as null).
                if let (Ok(entry), Ok(exit)) = (entry, exit) {
                    model.shadows.insert(
                        s("signal_id"),
                        ShadowTrade {
                            entry,
                            exit,
                            reason: s("reason"),
                        },
                    );
                }
            }
            _ => {}
        }
    }
    Ok(model)
}

fn ticks(adverse_points: f64, tick: f64) -> f64 {
    // Rounded to 1/1000 tick: fills are on the tick grid, averaged fills are not. `+ 0.0`
    // turns -0 (a SELL filled exactly) into 0, which the CSV would otherwise print as `-0`.
    (adverse_points / tick * 1000.0).round() / 1000.0 + 0.0
}

/// Matches the real trades to the model by SIGNAL_ID.
pub fn reconcile(
    model: &Model,
    trades: &[LiveTrade],
    processed: &HashMap<String, String>,
    c: Costs,
) -> Reconciliation {
    let by_id: HashMap<&str, &ModelSignal> = model
        .signals
        .iter()
        .map(|s| (s.signal_id.as_str(), s))
        .collect();
    let slip = c.slippage_ticks * c.tick_size;
    let mut r = Reconciliation::default();
    let mut traded: HashMap<&str, ()> = HashMap::new();
    for t in trades {
        let Some(sig) = by_id.get(t.signal_id.as_str()) else {
            r.unmatched.push(t.clone());
            continue;
        };
        traded.insert(sig.signal_id.as_str(), ());
        let sign = t.side.sign();
        let shadow = model.shadows.get(&sig.signal_id).cloned();
        let model_entry = shadow.as_ref().map(|s| s.entry - sign * slip);
        let live_reason = normal_reason(&t.exit_reason);
        let model_exit = match &shadow {
            Some(s) => Some(match s.reason.as_str() {
                "stop" => sig.stop,
                "target" => sig.target,
                // Gap opens, max hold, end of data: market fills with the model's slippage.
                _ => s.exit + sign * slip,
            }),
            None => match live_reason {
                "stop" => Some(sig.stop),
                "target" => Some(sig.target),
                _ => None,
            },
        };
        let entry_slip = model_entry.map(|m| ticks(sign * (t.entry_price - m), c.tick_size));
        let exit_slip = model_exit.map(|m| ticks(sign * (m - t.exit_price), c.tick_size));
        let reason_differs = shadow
            .as_ref()
            .is_some_and(|s| normal_reason(&s.reason) != live_reason);
        let shadow_pnl = shadow
            .as_ref()
            .map(|s| sign * (s.exit - s.entry) * t.quantity as f64 * c.point_value);
        let entry_vs_shadow = shadow
            .as_ref()
            .map(|s| ticks(sign * (t.entry_price - s.entry), c.tick_size));
        let exit_vs_shadow = shadow
            .as_ref()
            .map(|s| ticks(sign * (s.exit - t.exit_price), c.tick_size));
        r.matched.push(Matched {
            live: t.clone(),
            signal: (*sig).clone(),
            shadow,
            model_entry,
            entry_slip,
            model_exit,
            exit_slip,
            reason_differs,
            shadow_pnl,
            entry_vs_shadow,
            exit_vs_shadow,
        });
    }
    for s in &model.signals {
        if !traded.contains_key(s.signal_id.as_str()) {
            r.untraded
                .push((s.clone(), processed.get(&s.signal_id).cloned()));
        }
    }
    r
}

/// Mean and worst (most against the trader) of some ticks; `None` when there are none.
pub fn mean_worst(v: &[f64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let worst = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    Some((mean, worst))
}

impl Reconciliation {
    /// Gross live P&L of the matched trades, and the shadow's on the same trades.
    pub fn pnl_totals(&self) -> (f64, f64) {
        let live = self.matched.iter().map(|m| m.live.pnl).sum();
        let shadow = self.matched.iter().filter_map(|m| m.shadow_pnl).sum();
        (live, shadow)
    }

    /// Ticks of `which` side ("entry" / "exit") for one trade side (`None`: both).
    pub fn slips(&self, exit: bool, side: Option<Side>) -> Vec<f64> {
        self.matched
            .iter()
            .filter(|m| side.is_none_or(|s| m.live.side == s))
            .filter_map(|m| if exit { m.exit_slip } else { m.entry_slip })
            .collect()
    }

    /// Rows of the slippage table: what, trades, mean, worst.
    pub fn slip_rows(&self) -> Vec<Vec<String>> {
        let mut rows = vec![vec![
            "slippage (ticks)".to_string(),
            "trades".into(),
            "mean".into(),
            "worst".into(),
        ]];
        for exit in [false, true] {
            for side in [None, Some(Side::Buy), Some(Side::Sell)] {
                let v = self.slips(exit, side);
                let name = format!(
                    "{} {}",
                    if exit { "exit" } else { "entry" },
                    side.map(|s| s.as_str()).unwrap_or("all")
                );
                let (mean, worst) = match mean_worst(&v) {
                    Some((m, w)) => (tick_text(m), tick_text(w)),
                    None => ("—".into(), "—".into()),
                };
                rows.push(vec![name, v.len().to_string(), mean, worst]);
            }
        }
        rows
    }
}

/// `1`, `-0.5`, `0.333`: ticks without trailing zeros.
pub fn tick_text(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn opt_ticks(v: Option<f64>) -> String {
    v.map(tick_text).unwrap_or_else(|| "—".into())
}

fn price(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.2}")).unwrap_or_else(|| "—".into())
}

/// The terminal text.
pub fn describe(r: &Reconciliation, c: Costs) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "reconcile: {} real trade(s) matched to a vrev signal, {} signal(s) never traded, {} trade(s) without a vrev signal",
        r.matched.len(),
        r.untraded.len(),
        r.unmatched.len()
    );
    let _ = writeln!(
        out,
        "slippage in ticks against the model's price before its own slippage (model: {} tick(s) on entries and stops, 0 on targets); positive = against us",
        tick_text(c.slippage_ticks)
    );
    if !r.matched.is_empty() {
        let mut rows = vec![vec![
            "signal".to_string(),
            "side".into(),
            "qty".into(),
            "entry".into(),
            "model".into(),
            "slip".into(),
            "exit".into(),
            "model".into(),
            "slip".into(),
            "reason live/shadow".into(),
            "live P&L".into(),
            "shadow P&L".into(),
        ]];
        for m in &r.matched {
            let shadow_reason = m
                .shadow
                .as_ref()
                .map(|s| s.reason.as_str())
                .unwrap_or("open");
            rows.push(vec![
                m.live.signal_id.clone(),
                m.live.side.as_str().into(),
                m.live.quantity.to_string(),
                format!("{:.2}", m.live.entry_price),
                price(m.model_entry),
                opt_ticks(m.entry_slip),
                format!("{:.2}", m.live.exit_price),
                price(m.model_exit),
                opt_ticks(m.exit_slip),
                format!(
                    "{}/{}{}",
                    m.live.exit_reason,
                    shadow_reason,
                    if m.reason_differs { " DIFFERS" } else { "" }
                ),
                money(m.live.pnl),
                m.shadow_pnl.map(money).unwrap_or_else(|| "—".into()),
            ]);
        }
        out.push_str("trades:\n");
        out.push_str(&text_table(&rows, &[0, 1, 9]));
    }
    if !r.untraded.is_empty() {
        out.push_str("signals never traded:\n");
        let rows: Vec<Vec<String>> = r
            .untraded
            .iter()
            .map(|(s, why)| {
                vec![
                    s.signal_id.clone(),
                    s.side.as_str().into(),
                    s.profile.clone(),
                    match why.as_deref() {
                        Some(w) => format!("auto-trader: {w}"),
                        None => "not in the auto-trader's processed list".into(),
                    },
                ]
            })
            .collect();
        out.push_str(&text_table(&rows, &[0, 1, 2, 3]));
    }
    if !r.unmatched.is_empty() {
        out.push_str("trades without a vrev signal:\n");
        let rows: Vec<Vec<String>> = r
            .unmatched
            .iter()
            .map(|t| {
                vec![
                    format!("line {}", t.line),
                    t.signal_id.clone(),
                    t.side.as_str().into(),
                    t.exit_reason.clone(),
                    money(t.pnl),
                ]
            })
            .collect();
        out.push_str(&text_table(&rows, &[0, 1, 2, 3]));
    }
    let (live, shadow) = r.pnl_totals();
    let differ = r.matched.iter().filter(|m| m.reason_differs).count();
    let _ = writeln!(
        out,
        "P&L (gross, matched trades): live {} vs shadow {} (difference {}); exit reasons differ on {} trade(s)",
        money(live),
        money(shadow),
        money(live - shadow),
        differ
    );
    let vs: Vec<f64> = r
        .matched
        .iter()
        .flat_map(|m| [m.entry_vs_shadow, m.exit_vs_shadow])
        .flatten()
        .collect();
    if !vs.is_empty() {
        let off = vs.iter().filter(|v| **v != 0.0).count();
        let _ = writeln!(
            out,
            "fills vs the shadow's own fills: {} of {} differ (sum {} ticks, positive = live worse)",
            off,
            vs.len(),
            tick_text(vs.iter().sum())
        );
    }
    out.push_str(&text_table(&r.slip_rows(), &[0]));
    out
}

/// Every text cell: quoted and formula-neutralised, the rule of every CSV vrev writes.
fn csv_field(s: &str) -> String {
    crate::market::format::csv_text(s)
}

/// reconcile.csv: the identity as `# key: value` lines, then one row per trade or signal.
pub fn csv(r: &Reconciliation, identity: &[(String, String)]) -> String {
    let mut out = String::new();
    for (k, v) in identity {
        let _ = writeln!(out, "# {k}: {v}");
    }
    out.push_str("kind,signal_id,side,quantity,entry_price,model_entry,entry_slip_ticks,exit_price,model_exit,exit_slip_ticks,live_exit_reason,shadow_exit_reason,reason_differs,live_pnl,shadow_pnl,auto_trader_outcome,entry_vs_shadow_ticks,exit_vs_shadow_ticks\n");
    let p = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_default();
    for m in &r.matched {
        let row = [
            "matched".to_string(),
            m.live.signal_id.clone(),
            m.live.side.as_str().into(),
            m.live.quantity.to_string(),
            format!("{}", m.live.entry_price),
            p(m.model_entry),
            p(m.entry_slip),
            format!("{}", m.live.exit_price),
            p(m.model_exit),
            p(m.exit_slip),
            m.live.exit_reason.clone(),
            m.shadow
                .as_ref()
                .map(|s| s.reason.clone())
                .unwrap_or_default(),
            m.reason_differs.to_string(),
            format!("{:.2}", m.live.pnl),
            m.shadow_pnl.map(|x| format!("{x:.2}")).unwrap_or_default(),
            String::new(),
            p(m.entry_vs_shadow),
            p(m.exit_vs_shadow),
        ];
        out.push_str(
            &row.iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    for (s, why) in &r.untraded {
        let row = [
            "never_traded",
            &s.signal_id,
            s.side.as_str(),
            &s.quantity.to_string(),
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            why.as_deref().unwrap_or(""),
            "",
            "",
        ];
        out.push_str(
            &row.iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    for t in &r.unmatched {
        let row = [
            "no_signal".to_string(),
            t.signal_id.clone(),
            t.side.as_str().into(),
            t.quantity.to_string(),
            format!("{}", t.entry_price),
            String::new(),
            String::new(),
            format!("{}", t.exit_price),
            String::new(),
            String::new(),
            t.exit_reason.clone(),
            String::new(),
            String::new(),
            format!("{:.2}", t.pnl),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ];
        out.push_str(
            &row.iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

/// reconcile.html: the identity, then the terminal text's tables.
pub fn html(r: &Reconciliation, c: Costs, identity: &[(String, String)]) -> String {
    let mut out = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>vrev reconcile</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}pre{background:#f6f6f6;padding:1em}</style></head><body><h1>vrev reconcile</h1><table>",
    );
    for (k, v) in identity {
        let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    out.push_str("</table><pre>");
    out.push_str(&esc(&describe(r, c)));
    out.push_str("</pre></body></html>\n");
    out
}

/// `processed_<account>.txt` beside `trades_<account>.csv`.
pub fn processed_beside(trades: &Path) -> Option<PathBuf> {
    let name = trades.file_name()?.to_str()?;
    let account = name.strip_prefix("trades_")?.strip_suffix(".csv")?;
    Some(trades.with_file_name(format!("processed_{account}.txt")))
}

pub fn run(a: ReconcileArgs) -> Result<()> {
    let cfg = Config::load(&a.config).map_err(|e| anyhow!("{e}"))?;
    let costs = Costs::from_config(&cfg);
    let journal = a
        .journal
        .clone()
        .unwrap_or_else(|| cfg.resolve(&cfg.engine.journal));
    let trades = read_trades(&a.trades)?;
    let model = read_journal(&journal)?;
    let processed_path = a.processed.clone().or_else(|| processed_beside(&a.trades));
    let processed = match &processed_path {
        Some(p) => read_processed(p)?,
        None => HashMap::new(),
    };
    let r = reconcile(&model, &trades, &processed, costs);
    crate::outln!("{}", describe(&r, costs).trim_end());
    if let Some(dir) = &a.report {
        let mut identity: Vec<(String, String)> = vec![
            ("vrev".into(), env!("CARGO_PKG_VERSION").into()),
            (
                "command".into(),
                shell_command(
                    &std::iter::once("vrev".to_string())
                        .chain(std::env::args().skip(1))
                        .collect::<Vec<_>>(),
                ),
            ),
        ];
        let mut files: BTreeMap<&str, &Path> = BTreeMap::new();
        files.insert("config", &a.config);
        files.insert("journal", &journal);
        files.insert("trades", &a.trades);
        for (what, p) in files {
            let (h, _) = HashedFile::read(p).with_context(|| format!("{}", p.display()))?;
            identity.push((what.into(), format!("{} @{}", h.path, h.hash)));
        }
        if let Some(p) = processed_path.as_ref().filter(|p| p.exists()) {
            let (h, _) = HashedFile::read(p).with_context(|| format!("{}", p.display()))?;
            identity.push(("processed".into(), format!("{} @{}", h.path, h.hash)));
        }
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        let csv_path = dir.join("reconcile.csv");
        std::fs::write(&csv_path, csv(&r, &identity))
            .with_context(|| format!("{}", csv_path.display()))?;
        let html_path = dir.join("reconcile.html");
        std::fs::write(&html_path, html(&r, costs, &identity))
            .with_context(|| format!("{}", html_path.display()))?;
        crate::outln!("report: {} and {}", html_path.display(), csv_path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sell_filled_exactly_as_the_shadow_shows_0_ticks_not_minus_0() {
        let mut model = Model::default();
        model.signals.push(ModelSignal {
            signal_id: "20250226_035900_5057.50_5063.75_SELL".into(),
            side: Side::Sell,
            bar_time: "2025-02-26T08:59:00Z".into(),
            entry: 5060.0,
            stop: 5063.75,
            target: 5050.0,
            quantity: 1,
            profile: "bidirectional".into(),
        });
        model.shadows.insert(
            "20250226_035900_5057.50_5063.75_SELL".into(),
            ShadowTrade {
                entry: 5059.75,
                exit: 5062.0,
                reason: "max_hold".into(),
            },
        );
        let live = LiveTrade {
            line: 2,
            signal_id: "20250226_035900_5057.50_5063.75_SELL".into(),
            side: Side::Sell,
            quantity: 1,
            entry_time: "2025-02-26T09:00:00Z".into(),
            entry_price: 5059.75,
            exit_time: "2025-02-26T09:30:00Z".into(),
            exit_price: 5062.0,
            exit_reason: "max_hold".into(),
            pnl: -112.5,
        };
        let c = Costs {
            tick_size: 0.25,
            point_value: 50.0,
            slippage_ticks: 1.0,
        };
        let r = reconcile(&model, &[live], &HashMap::new(), c);
        let row = csv(&r, &[]).lines().nth(1).unwrap().to_string();
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!((cells[16], cells[17]), ("0", "0"), "{row}");
        assert!(!row.contains(",-0,"), "{row}");
    }
}
