//! Compares what the engine did with what the scenario expects, and renders a failure so a
//! trader sees at a glance what differs: the problems, expected versus actual signals side by
//! side, the rejections, and the bars around the first mismatch with their ET times.

use super::format::{ExitExpect, RejectionExpect, Scenario, SignalExpect, TimeSpec};
use super::runner::{Outcome, RejectionSeen};
use crate::host::book::Trade;
use crate::host::signal::Signal;
use crate::market::price::format_price;
use crate::market::time::{format_utc, MarketClock};
use std::fmt::Write as _;

/// The result of checking one scenario.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    /// One line per problem; empty when the scenario passed.
    pub problems: Vec<String>,
    /// Tables that explain the problems (empty when it passed).
    pub details: String,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One compared field of a signal.
struct Row {
    label: &'static str,
    expected: Option<String>,
    actual: String,
    ok: bool,
}

struct Cx<'a> {
    clock: MarketClock,
    decimals: usize,
    out: &'a Outcome,
}

impl Cx<'_> {
    fn et(&self, utc: i64) -> String {
        self.clock.stamp(utc).format()
    }
    fn price(&self, p: f64) -> String {
        format_price(p, self.decimals)
    }
    fn trade(&self, id: &str) -> Option<&Trade> {
        self.out.trades.iter().find(|t| t.signal_id == id)
    }

    /// The rows of an expected signal against an actual one: every field the expectation gives,
    /// plus time, side and id for orientation.
    fn rows(&self, e: Option<&SignalExpect>, a: Option<&Signal>) -> Vec<Row> {
        let mut rows = Vec::new();
        let trade = a.and_then(|a| self.trade(&a.id));
        let none = || "-".to_string();
        let price_row = |rows: &mut Vec<Row>, label, exp: Option<f64>, act: Option<f64>| {
            if let Some(x) = exp {
                rows.push(Row {
                    label,
                    expected: Some(self.price(x)),
                    actual: act.map(|p| self.price(p)).unwrap_or_else(none),
                    ok: act.is_some_and(|p| (p - x).abs() < 1e-9),
                });
            }
        };
        let text_row =
            |rows: &mut Vec<Row>, label, exp: Option<String>, act: Option<String>, always: bool| {
                match exp {
                    Some(x) => rows.push(Row {
                        label,
                        ok: act.as_deref() == Some(x.as_str()),
                        expected: Some(x),
                        actual: act.unwrap_or_else(none),
                    }),
                    None if always => rows.push(Row {
                        label,
                        expected: None,
                        actual: act.unwrap_or_else(none),
                        ok: true,
                    }),
                    None => {}
                }
            };
        let e0 = SignalExpect::default();
        let ex = e.unwrap_or(&e0);
        let all = e.is_none();
        // time
        match &ex.time {
            Some(t) => rows.push(Row {
                label: "time",
                expected: Some(t.to_string()),
                actual: a.map(|a| a.signal_time_et.clone()).unwrap_or_else(none),
                ok: a.is_some_and(|a| t.matches(&a.signal_time_et)),
            }),
            None => rows.push(Row {
                label: "time",
                expected: None,
                actual: a.map(|a| a.signal_time_et.clone()).unwrap_or_else(none),
                ok: true,
            }),
        }
        if let Some(u) = ex.utc {
            rows.push(Row {
                label: "utc",
                expected: Some(format_utc(u)),
                actual: a.map(|a| format_utc(a.signal_time)).unwrap_or_else(none),
                ok: a.is_some_and(|a| a.signal_time == u),
            });
        }
        text_row(
            &mut rows,
            "side",
            ex.side.map(|s| s.as_str().to_string()),
            a.map(|a| a.side.as_str().to_string()),
            true,
        );
        text_row(
            &mut rows,
            "id",
            ex.id.clone(),
            a.map(|a| a.id.clone()),
            true,
        );
        let with = |f: fn(&Signal) -> f64| a.map(f);
        if all {
            for (label, v) in [
                ("entry", with(|s| s.entry)),
                ("stop", with(|s| s.stop)),
                ("target", with(|s| s.target)),
            ] {
                rows.push(Row {
                    label,
                    expected: None,
                    actual: v.map(|p| self.price(p)).unwrap_or_else(none),
                    ok: true,
                });
            }
            rows.push(Row {
                label: "quantity",
                expected: None,
                actual: a.map(|a| a.quantity.to_string()).unwrap_or_else(none),
                ok: true,
            });
            return rows;
        }
        price_row(&mut rows, "entry", ex.entry, with(|s| s.entry));
        price_row(&mut rows, "stop", ex.stop, with(|s| s.stop));
        price_row(&mut rows, "target", ex.target, with(|s| s.target));
        let u32_text = |v: Option<u32>| v.map(|x| x.to_string());
        text_row(
            &mut rows,
            "quantity",
            u32_text(ex.quantity),
            a.map(|a| a.quantity.to_string()),
            false,
        );
        text_row(
            &mut rows,
            "profile",
            ex.profile.clone(),
            a.map(|a| a.profile.clone()),
            false,
        );
        text_row(
            &mut rows,
            "window",
            ex.window.clone(),
            a.map(|a| a.window.clone()),
            false,
        );
        let conf = |c: Option<u32>| match c {
            Some(c) => format!("{:.2}", c as f64 / 100.0),
            None => "none".into(),
        };
        text_row(
            &mut rows,
            "confidence",
            ex.confidence.map(|c| conf(Some(c))),
            a.map(|a| conf(a.confidence)),
            false,
        );
        text_row(
            &mut rows,
            "max_hold",
            u32_text(ex.max_hold),
            a.map(|a| a.max_hold_minutes.to_string()),
            false,
        );
        // The shadow trade.
        let no_trade = "none (never filled)".to_string();
        price_row(
            &mut rows,
            "entry_fill",
            ex.entry_fill,
            trade.and_then(|t| t.entry_price),
        );
        if let Some(x) = &ex.exit {
            let expected = match x {
                ExitExpect::NoTrade => no_trade.clone(),
                ExitExpect::Reason(r) => r.clone(),
            };
            let actual = match trade.and_then(|t| t.exit_reason) {
                Some(r) => r.as_str().to_string(),
                None if a.is_some() => no_trade.clone(),
                None => none(),
            };
            rows.push(Row {
                label: "exit",
                ok: a.is_some() && actual == expected,
                expected: Some(expected),
                actual,
            });
        }
        price_row(
            &mut rows,
            "exit_price",
            ex.exit_price,
            trade.and_then(|t| t.exit_price),
        );
        if let Some(t) = &ex.exit_time {
            let act = trade.and_then(|t| t.exit_time).map(|u| self.et(u));
            rows.push(Row {
                label: "exit_time",
                expected: Some(t.to_string()),
                ok: act.as_ref().is_some_and(|x| t.matches(x)),
                actual: act.unwrap_or_else(none),
            });
        }
        if let Some(x) = ex.pnl {
            let act = trade.and_then(|t| t.pnl);
            rows.push(Row {
                label: "pnl",
                expected: Some(format!("{x:.2}")),
                ok: act.is_some_and(|p| (p - x).abs() < 0.005),
                actual: act.map(|p| format!("{p:.2}")).unwrap_or_else(none),
            });
        }
        rows
    }

    fn signal_matches(&self, e: &SignalExpect, a: &Signal) -> bool {
        self.rows(Some(e), Some(a)).iter().all(|r| r.ok)
    }

    fn rejection_matches(&self, e: &RejectionExpect, a: &RejectionSeen) -> bool {
        e.reason == a.reason
            && e.time.is_none_or(|t| t.matches(&self.et(a.time)))
            && e.side.is_none_or(|s| s.as_str() == a.side)
            && e.id.as_ref().is_none_or(|i| *i == a.id)
            && e.profile.as_ref().is_none_or(|p| *p == a.profile)
            && e.detail
                .as_ref()
                .is_none_or(|d| a.detail.contains(d.as_str()))
    }

    fn signal_summary(&self, a: &Signal) -> String {
        format!("{} {} {}", &a.signal_time_et[..16], a.side.as_str(), a.id)
    }

    fn rejection_summary(&self, a: &RejectionSeen) -> String {
        format!(
            "{} {} {} {} ({})",
            &self.et(a.time)[..16],
            a.reason,
            a.side,
            a.id,
            a.detail
        )
    }
}

fn expected_summary(e: &SignalExpect) -> String {
    let mut s = Vec::new();
    if let Some(t) = e.time {
        s.push(format!("at {t}"));
    }
    if let Some(side) = e.side {
        s.push(side.as_str().to_string());
    }
    if let Some(id) = &e.id {
        s.push(id.clone());
    }
    if s.is_empty() {
        s.push("a signal".into());
    }
    s.join(" ")
}

fn rejection_expected_summary(e: &RejectionExpect) -> String {
    let mut s = vec![e.reason.clone()];
    if let Some(t) = e.time {
        s.push(format!("at {t}"));
    }
    if let Some(side) = e.side {
        s.push(side.as_str().to_string());
    }
    if let Some(id) = &e.id {
        s.push(id.clone());
    }
    if let Some(p) = &e.profile {
        s.push(format!("profile {p}"));
    }
    if let Some(d) = &e.detail {
        s.push(format!("detail ~ \"{d}\""));
    }
    s.join(" ")
}

/// Pairs expected and actual items in order: a longest common subsequence of matching pairs;
/// between two matched pairs the unmatched items are paired by position (so a wrong field shows
/// as a difference, not as one missing and one unexpected signal).
pub fn align(
    n_exp: usize,
    n_act: usize,
    eq: impl Fn(usize, usize) -> bool,
) -> Vec<(Option<usize>, Option<usize>)> {
    let mut lcs = vec![vec![0usize; n_act + 1]; n_exp + 1];
    for i in (0..n_exp).rev() {
        for j in (0..n_act).rev() {
            lcs[i][j] = if eq(i, j) {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut pairs = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n_exp && j < n_act {
        if eq(i, j) && lcs[i][j] == lcs[i + 1][j + 1] + 1 {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    let mut rows = Vec::new();
    let (mut pe, mut pa) = (0, 0);
    let gap = |rows: &mut Vec<_>, e: std::ops::Range<usize>, a: std::ops::Range<usize>| {
        let (ne, na) = (e.len(), a.len());
        for k in 0..ne.max(na) {
            rows.push(((k < ne).then(|| e.start + k), (k < na).then(|| a.start + k)));
        }
    };
    for (e, a) in pairs {
        gap(&mut rows, pe..e, pa..a);
        rows.push((Some(e), Some(a)));
        pe = e + 1;
        pa = a + 1;
    }
    gap(&mut rows, pe..n_exp, pa..n_act);
    rows
}

/// Checks the outcome against the scenario's expectations.
pub fn check(sc: &Scenario, out: &Outcome) -> Verdict {
    let cx = Cx {
        clock: MarketClock::exchange(),
        decimals: out.decimals,
        out,
    };
    let mut problems = Vec::new();
    // The first mismatch's time, for the bars table: (UTC if known, expected time if known).
    let mut anchor: Option<(Option<i64>, Option<TimeSpec>)> = None;

    // Signals: the complete list, in order.
    let sig_rows = align(sc.signals.len(), out.signals.len(), |i, j| {
        cx.signal_matches(&sc.signals[i], &out.signals[j])
    });
    for (e, a) in &sig_rows {
        let (e, a) = (e.map(|i| &sc.signals[i]), a.map(|j| &out.signals[j]));
        match (e, a) {
            (Some(e), Some(a)) => {
                let bad: Vec<String> = cx
                    .rows(Some(e), Some(a))
                    .into_iter()
                    .filter(|r| !r.ok)
                    .map(|r| {
                        format!(
                            "{} expected {}, got {}",
                            r.label,
                            r.expected.unwrap_or_default(),
                            r.actual
                        )
                    })
                    .collect();
                if !bad.is_empty() {
                    problems.push(format!(
                        "signal (line {}) {}: {}",
                        e.line,
                        expected_summary(e),
                        bad.join("; ")
                    ));
                    anchor.get_or_insert((Some(a.signal_time), e.time));
                }
            }
            (Some(e), None) => {
                problems.push(format!(
                    "missing signal (line {}): expected {}, the engine admitted no such signal",
                    e.line,
                    expected_summary(e)
                ));
                anchor.get_or_insert((None, e.time));
            }
            (None, Some(a)) => {
                problems.push(format!("unexpected signal: {}", cx.signal_summary(a)));
                anchor.get_or_insert((Some(a.signal_time), None));
            }
            (None, None) => {}
        }
    }

    // Rejections: the listed ones must occur, in order.
    let rej_rows = align(sc.rejections.len(), out.rejections.len(), |i, j| {
        cx.rejection_matches(&sc.rejections[i], &out.rejections[j])
    });
    let matched: Vec<bool> = {
        let mut m = vec![false; sc.rejections.len()];
        for (e, a) in &rej_rows {
            if let (Some(e), Some(a)) = (e, a) {
                if cx.rejection_matches(&sc.rejections[*e], &out.rejections[*a]) {
                    m[*e] = true;
                }
            }
        }
        m
    };
    for (k, e) in sc.rejections.iter().enumerate() {
        if !matched[k] {
            problems.push(format!(
                "missing rejection (line {}): expected {}",
                e.line,
                rejection_expected_summary(e)
            ));
            anchor.get_or_insert((None, e.time));
        }
    }
    if let Some(n) = sc.rejection_count {
        if n != out.rejections.len() {
            problems.push(format!(
                "expected {n} rejection(s) in all, the engine made {}",
                out.rejections.len()
            ));
            if let Some(r) = out.rejections.first() {
                anchor.get_or_insert((Some(r.time), None));
            }
        }
    }
    for (t, msg) in &out.script_errors {
        problems.push(format!("script error at {} ET: {msg}", &cx.et(*t)[..16]));
        anchor.get_or_insert((Some(*t), None));
    }
    for (t, msg) in &out.bars_rejected {
        problems.push(format!(
            "the engine refused the bar at {} ET: {msg}",
            &cx.et(*t)[..16]
        ));
    }
    if problems.is_empty() {
        return Verdict::default();
    }

    let mut d = String::new();
    render_signals(&cx, sc, &sig_rows, &mut d);
    if !sc.rejections.is_empty() || !out.rejections.is_empty() {
        render_rejections(&cx, sc, &rej_rows, &matched, &mut d);
    }
    render_bars(&cx, sc, anchor, &mut d);
    Verdict {
        problems,
        details: d,
    }
}

fn render_signals(cx: &Cx, sc: &Scenario, rows: &[(Option<usize>, Option<usize>)], d: &mut String) {
    let _ = writeln!(d, "signals (expected | actual):");
    if rows.is_empty() {
        let _ = writeln!(d, "    none expected | none admitted");
        return;
    }
    let mut blocks = Vec::new();
    for (n, (e, a)) in rows.iter().enumerate() {
        let (e, a) = (e.map(|i| &sc.signals[i]), a.map(|j| &cx.out.signals[j]));
        let head = match (e, a) {
            (Some(e), _) => format!("#{} [[signal]] at line {}", n + 1, e.line),
            (None, _) => format!("#{} not expected", n + 1),
        };
        let rows = cx.rows(e, a);
        blocks.push((head, e.is_some(), rows));
    }
    let width = blocks
        .iter()
        .flat_map(|(_, _, r)| r.iter())
        .map(|r| r.expected.as_ref().map_or(1, |x| x.chars().count()))
        .max()
        .unwrap_or(1)
        .max(8);
    for (head, has_exp, rows) in blocks {
        let _ = writeln!(d, "  {head}");
        for r in rows {
            let exp = match (&r.expected, has_exp) {
                (Some(x), _) => x.clone(),
                (None, true) => "(any)".into(),
                (None, false) => "-".into(),
            };
            let mark = if r.ok { ' ' } else { '!' };
            let _ = writeln!(d, "  {mark} {:<11}{exp:<width$} | {}", r.label, r.actual);
        }
    }
}

fn render_rejections(
    cx: &Cx,
    sc: &Scenario,
    rows: &[(Option<usize>, Option<usize>)],
    matched: &[bool],
    d: &mut String,
) {
    let _ = writeln!(
        d,
        "rejections (expected, in order; others may come between | actual):"
    );
    let cells: Vec<(char, String, String)> = rows
        .iter()
        .map(|(e, a)| {
            let exp = e
                .map(|i| {
                    format!(
                        "line {}: {}",
                        sc.rejections[i].line,
                        rejection_expected_summary(&sc.rejections[i])
                    )
                })
                .unwrap_or_else(|| "-".into());
            let act = a
                .map(|j| cx.rejection_summary(&cx.out.rejections[j]))
                .unwrap_or_else(|| "-".into());
            let bad = e.is_some_and(|i| !matched[i]);
            (if bad { '!' } else { ' ' }, exp, act)
        })
        .collect();
    let width = cells.iter().map(|c| c.1.chars().count()).max().unwrap_or(1);
    for (mark, exp, act) in cells {
        let _ = writeln!(d, "  {mark} {exp:<width$} | {act}");
    }
}

fn render_bars(
    cx: &Cx,
    sc: &Scenario,
    anchor: Option<(Option<i64>, Option<TimeSpec>)>,
    d: &mut String,
) {
    let bars = &sc.bars;
    if bars.is_empty() {
        return;
    }
    let et: Vec<String> = bars.iter().map(|b| cx.et(b.bar.close_time)).collect();
    let index = match anchor {
        Some((Some(t), _)) => bars.iter().position(|b| b.bar.close_time == t),
        Some((None, Some(spec))) => et.iter().position(|s| spec.matches(s)),
        _ => None,
    }
    .unwrap_or(bars.len() - 1);
    let from = index.saturating_sub(6);
    let to = (index + 3).min(bars.len() - 1);
    let _ = writeln!(
        d,
        "bars around {} ET (bar times are closes; > marks the bar of the first difference):",
        &et[index][..16]
    );
    let _ = writeln!(
        d,
        "    line  time ET             open      high       low     close   volume  step                   engine"
    );
    for k in from..=to {
        let b = &bars[k].bar;
        let mut notes: Vec<String> = Vec::new();
        for s in cx
            .out
            .signals
            .iter()
            .filter(|s| s.signal_time == b.close_time)
        {
            notes.push(format!("signal {}", s.side.as_str()));
        }
        for r in cx.out.rejections.iter().filter(|r| r.time == b.close_time) {
            notes.push(format!("rejected {} ({})", r.side, r.reason));
        }
        for e in sc
            .signals
            .iter()
            .filter(|e| e.time.is_some_and(|t| t.matches(&et[k])))
        {
            notes.push(format!("expected signal (line {})", e.line));
        }
        for t in &cx.out.trades {
            if t.entry_time == Some(b.close_time - cx.out.bar_seconds) && t.entry_price.is_some() {
                let fill = t.entry_price.unwrap_or_default();
                notes.push(format!("entry fill {}", cx.price(fill)));
            }
            if t.exit_time == Some(b.close_time) {
                let reason = t.exit_reason.map(|r| r.as_str()).unwrap_or("exit");
                notes.push(format!(
                    "exit {reason} {}",
                    cx.price(t.exit_price.unwrap_or_default())
                ));
            }
        }
        let vol = if b.volume.fract() == 0.0 {
            format!("{}", b.volume as i64)
        } else {
            format!("{}", b.volume)
        };
        let row = format!(
            "  {} {:>4}  {}  {:>8}  {:>8}  {:>8}  {:>8}  {:>7}  {:<22} {}",
            if k == index { '>' } else { ' ' },
            bars[k].line,
            &et[k][..16],
            cx.price(b.open),
            cx.price(b.high),
            cx.price(b.low),
            cx.price(b.close),
            vol,
            bars[k].what,
            notes.join(", ")
        );
        let _ = writeln!(d, "{}", row.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::align;

    #[test]
    fn align_pairs_matches_and_lines_up_the_rest() {
        // expected [A, B*, C] vs actual [A, X, B', C]: A and C match; B* pairs with X, B' extra.
        let exp = ["A", "B*", "C"];
        let act = ["A", "X", "B'", "C"];
        let rows = align(3, 4, |i, j| exp[i] == act[j]);
        assert_eq!(
            rows,
            vec![
                (Some(0), Some(0)),
                (Some(1), Some(1)),
                (None, Some(2)),
                (Some(2), Some(3))
            ]
        );
        assert_eq!(
            align(0, 2, |_, _| false),
            vec![(None, Some(0)), (None, Some(1))]
        );
        assert_eq!(align(1, 0, |_, _| false), vec![(Some(0), None)]);
    }
}
