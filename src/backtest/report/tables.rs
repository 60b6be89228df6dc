//! The tables of the report: statistics per group (terminal and HTML), entries by weekday and
//! by hour (ET), and the trade list that jumps to each trade on the price chart.

use crate::backtest::{Backtest, Group, Summary};
use crate::market::format::{count, esc, minutes, money, num2, opt, pct, text_table};
use crate::market::price::{format_price, price_decimals};
use crate::market::time::MarketClock;
use crate::stats::Stats;
use std::fmt::Write as _;

/// A table: header and rows of cells, the first column a name.
pub struct Table {
    pub head: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// The statistics every trader reads first.
pub fn main_stats(groups: &[(String, &Stats)]) -> Table {
    Table {
        head: vec![
            "",
            "trades",
            "win rate",
            "avg win",
            "avg loss",
            "profit factor",
            "net P&L",
            "P&L / day",
            "Sharpe",
            "max drawdown",
        ],
        rows: groups
            .iter()
            .map(|(name, s)| {
                vec![
                    name.clone(),
                    count(s.trades),
                    opt(s.win_rate, pct),
                    opt(s.average_win, money),
                    opt(s.average_loss, money),
                    opt(s.profit_factor, num2),
                    money(s.net_pnl),
                    opt(s.average_pnl_per_day, money),
                    opt(s.sharpe, num2),
                    opt(s.max_drawdown, money),
                ]
            })
            .collect(),
    }
}

/// Expectancy, extremes, streaks, hold, costs and risk-adjusted ratios.
pub fn more_stats(groups: &[(String, &Stats)]) -> Table {
    Table {
        head: vec![
            "",
            "expectancy",
            "largest win",
            "largest loss",
            "max losses in a row",
            "avg hold",
            "commissions",
            "Sortino",
            "Calmar",
            "max DD duration",
            "exposure",
        ],
        rows: groups
            .iter()
            .map(|(name, s)| {
                vec![
                    name.clone(),
                    opt(s.expectancy, money),
                    opt(s.largest_win, money),
                    opt(s.largest_loss, money),
                    count(s.max_consecutive_losses),
                    opt(s.average_hold_minutes, minutes),
                    money(s.total_commissions),
                    opt(s.sortino, num2),
                    opt(s.calmar, num2),
                    opt(s.max_drawdown_duration_days, |d| {
                        format!("{} days", count(d))
                    }),
                    opt(s.exposure, pct),
                ]
            })
            .collect(),
    }
}

/// "all", then each side, then each window.
pub fn groups(s: &Summary) -> Vec<(String, &Stats)> {
    let mut g: Vec<(String, &Stats)> = vec![("all".into(), &s.overall)];
    g.extend(
        s.by_side
            .iter()
            .map(|Group { name, stats }| (name.clone(), stats)),
    );
    g.extend(
        s.by_window
            .iter()
            .map(|Group { name, stats }| (format!("window {name}"), stats)),
    );
    g
}

impl Table {
    /// Aligned text: names left, numbers right.
    pub fn text(&self) -> String {
        let head: Vec<String> = self.head.iter().map(|h| h.to_string()).collect();
        let all: Vec<Vec<String>> = std::iter::once(head).chain(self.rows.clone()).collect();
        text_table(&all, &[0])
    }

    /// An HTML table; a cell holding a negative amount is red, a positive one green when
    /// `color` names its column.
    pub fn html(&self, color: &[usize]) -> String {
        self.html_linked(color, |_, _| None)
    }

    /// [`Table::html`] with the cells `link(row, column)` names made links to that target.
    pub fn html_linked(
        &self,
        color: &[usize],
        link: impl Fn(usize, usize) -> Option<String>,
    ) -> String {
        let mut h = String::from("<table><thead><tr>");
        for c in &self.head {
            let _ = write!(h, "<th>{}</th>", esc(c));
        }
        h.push_str("</tr></thead><tbody>");
        for (row, r) in self.rows.iter().enumerate() {
            h.push_str("<tr>");
            for (i, v) in r.iter().enumerate() {
                let class = if i == 0 {
                    " class=\"name\""
                } else if color.contains(&i) && v.starts_with("-$") {
                    " class=\"neg\""
                } else if color.contains(&i) && v.starts_with('$') && v != "$0.00" {
                    " class=\"pos\""
                } else {
                    ""
                };
                match link(row, i) {
                    Some(href) => {
                        let _ = write!(
                            h,
                            "<td{class}><a class=\"trade-link\" href=\"{}\">{}</a></td>",
                            esc(&href),
                            esc(v)
                        );
                    }
                    None => {
                        let _ = write!(h, "<td{class}>{}</td>", esc(v));
                    }
                }
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table>");
        h
    }
}

/// Trades grouped by a key of their entry time in ET (weekday, hour): trades, win rate, net
/// P&L, average P&L. Keys in `order`; keys without trades are left out.
fn by_entry(
    bt: &Backtest,
    first: &'static str,
    key: impl Fn(&crate::market::time::EtStamp) -> usize,
    names: impl Fn(usize) -> String,
    keys: usize,
) -> Table {
    let clock = MarketClock::exchange();
    let mut acc = vec![(0usize, 0usize, 0.0f64); keys];
    for t in &bt.trades {
        let Some(entry) = t.entry_time else { continue };
        let k = key(&clock.stamp(entry));
        let pnl = t.pnl.unwrap_or(0.0);
        acc[k].0 += 1;
        acc[k].1 += (pnl > 0.0) as usize;
        acc[k].2 += pnl;
    }
    Table {
        head: vec![first, "trades", "win rate", "net P&L", "avg P&L"],
        rows: acc
            .iter()
            .enumerate()
            .filter(|(_, a)| a.0 > 0)
            .map(|(k, (n, w, p))| {
                vec![
                    names(k),
                    count(*n),
                    pct(*w as f64 / *n as f64),
                    money(*p),
                    money(p / *n as f64),
                ]
            })
            .collect(),
    }
}

/// Entries by ET weekday, Monday first (Sunday-evening entries are the Globex open).
pub fn by_weekday(bt: &Backtest) -> Table {
    const NAMES: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    by_entry(
        bt,
        "weekday (ET)",
        |s| s.weekday.num_days_from_monday() as usize,
        |k| NAMES[k].to_string(),
        7,
    )
}

/// Entries by ET hour of the entry time.
pub fn by_hour(bt: &Backtest) -> Table {
    by_entry(
        bt,
        "entry hour (ET)",
        |s| (s.minute_of_day / 60) as usize,
        |k| format!("{k:02}:00–{:02}:00", k + 1),
        24,
    )
}

/// The trade list: every row jumps to its trade on the price chart (`data-i` = trade index).
/// Each column sorts (click its head) and filters (the row under the heads: a choice for side,
/// window and reason; text or `>x`, `<x`, `a..b` for the others); a cell's `data-v` is the
/// value it sorts and filters by.
pub fn trade_list(bt: &Backtest) -> String {
    let d = price_decimals(bt.fill.tick_size);
    let clock = MarketClock::exchange();
    let price = |p: Option<f64>| p.map(|p| format_price(p, d)).unwrap_or_default();
    let et = |t: Option<i64>| {
        t.map(|t| {
            let s = clock.stamp(t).format();
            s[..16].to_string()
        })
        .unwrap_or_default()
    };
    // (head, type: n number / t text / c choice)
    const COLUMNS: [(&str, char); 15] = [
        ("#", 'n'),
        ("signal", 't'),
        ("side", 'c'),
        ("window", 'c'),
        ("entry (ET)", 't'),
        ("entry", 'n'),
        ("stop", 'n'),
        ("target", 'n'),
        ("exit (ET)", 't'),
        ("exit", 'n'),
        ("reason", 'c'),
        ("hold", 'n'),
        ("MAE", 'n'),
        ("MFE", 'n'),
        ("net P&L", 'n'),
    ];
    let mut h = String::with_capacity(360 * (bt.trades.len() + 1));
    h.push_str("<table id=\"trades\"><thead><tr>");
    for (k, (head, ty)) in COLUMNS.iter().enumerate() {
        let class = if k == 1 {
            " class=\"name sort\""
        } else {
            " class=\"sort\""
        };
        let _ = write!(
            h,
            "<th{class} data-col=\"{k}\" data-type=\"{ty}\" title=\"sort\">{}<span class=\"arrow\"></span></th>",
            esc(head)
        );
    }
    h.push_str("</tr><tr class=\"filters\">");
    let choices = |k: usize| -> Vec<String> {
        let mut v: Vec<String> = bt
            .trades
            .iter()
            .map(|t| match k {
                2 => t.side.as_str().to_string(),
                3 => t.window.clone(),
                _ => t.exit_reason.map(|r| r.as_str()).unwrap_or("").to_string(),
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    for (k, (head, ty)) in COLUMNS.iter().enumerate() {
        if *ty == 'c' {
            let _ = write!(
                h,
                "<th><select data-filter=\"{k}\" aria-label=\"filter {}\"><option value=\"\">all</option>",
                esc(head)
            );
            for c in choices(k) {
                let _ = write!(h, "<option>{}</option>", esc(&c));
            }
            h.push_str("</select></th>");
        } else {
            let (hint, title) = if *ty == 'n' {
                (">0", "a number: >0, <-100, >=2, =3, 1..5")
            } else {
                ("text", "text the cell contains")
            };
            let _ = write!(
                h,
                "<th><input data-filter=\"{k}\" size=\"5\" placeholder=\"{hint}\" title=\"{title}\" aria-label=\"filter {}\"></th>",
                esc(head)
            );
        }
    }
    h.push_str("</tr></thead><tbody>");
    let num = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_default();
    for (i, (t, p)) in bt.trades.iter().zip(&bt.paths).enumerate() {
        let pnl = t.pnl.unwrap_or(0.0);
        let cls = if pnl < 0.0 { "neg" } else { "pos" };
        let _ = write!(
            h,
            "<tr data-i=\"{i}\" id=\"row-{}\"><td data-v=\"{}\"><a href=\"#trade-{}\">{}</a></td><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{}</td><td data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td><td>{}</td><td data-v=\"{}\">{}</td><td>{}</td><td data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td><td class=\"{cls}\" data-v=\"{}\">{}</td></tr>",
            i + 1,
            i + 1,
            i + 1,
            i + 1,
            esc(&t.signal_id),
            t.side.as_str(),
            esc(&t.window),
            et(t.entry_time),
            num(t.entry_price),
            price(t.entry_price),
            t.initial_stop,
            format_price(t.initial_stop, d),
            t.target,
            format_price(t.target, d),
            et(t.exit_time),
            num(t.exit_price),
            price(t.exit_price),
            t.exit_reason.map(|r| r.as_str()).unwrap_or(""),
            num(p.hold_minutes),
            opt(p.hold_minutes, minutes),
            num(p.mae_points),
            price(p.mae_points),
            num(p.mfe_points),
            price(p.mfe_points),
            pnl + 0.0,
            money(pnl),
        );
    }
    h.push_str("</tbody></table>");
    h
}
