//! Backtest output: the terminal summary, and `--report DIR` (summary.json, trades.csv,
//! daily.csv, report.html). Everything printed is derived from the trades; the fill assumptions
//! come last in every form.

use super::{Backtest, Group, Summary};
use crate::price::format_price;
use crate::stats::Stats;
use crate::time::format_utc;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map(f).unwrap_or_else(|| "—".into())
}
fn money(v: f64) -> String {
    let s = format!("{:.2}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (n, c) in int.chars().enumerate() {
        if n > 0 && (int.len() - n) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}${grouped}.{frac}", if v < 0.0 { "-" } else { "" })
}
fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}
fn num2(v: f64) -> String {
    format!("{v:.2}")
}

/// One row of the statistics table.
fn row(name: &str, s: &Stats) -> [String; 10] {
    [
        name.to_string(),
        s.trades.to_string(),
        opt(s.win_rate, pct),
        opt(s.average_win, money),
        opt(s.average_loss, money),
        opt(s.profit_factor, num2),
        money(s.net_pnl),
        opt(s.average_pnl_per_day, money),
        opt(s.sharpe, num2),
        opt(s.max_drawdown, money),
    ]
}

const HEAD: [&str; 10] = [
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
];

fn groups(s: &Summary) -> Vec<(String, &Stats)> {
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

/// The terminal summary.
pub fn terminal(s: &Summary) -> String {
    let mut out = String::new();
    let days = match (s.first_day, s.last_day) {
        (Some(a), Some(b)) => format!(" ({a} .. {b})"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "backtest: {} bars, {} trading days{days}, {} signals",
        s.bars, s.trading_days, s.signals
    );
    if s.script_errors > 0 {
        let _ = writeln!(
            out,
            "script errors: {} (journaled; those bars got no signal)",
            s.script_errors
        );
    }
    let rows: Vec<[String; 10]> = std::iter::once(HEAD.map(String::from))
        .chain(groups(s).iter().map(|(n, st)| row(n, st)))
        .collect();
    let widths: Vec<usize> = (0..10)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, v)| {
                if c == 0 {
                    format!("{v:<w$}", w = widths[c])
                } else {
                    format!("{v:>w$}", w = widths[c])
                }
            })
            .collect();
        let _ = writeln!(out, "  {}", line.join("  ").trim_end());
    }
    let _ = writeln!(out, "fill assumptions (DESIGN §10):");
    for a in &s.assumptions {
        let _ = writeln!(out, "  - {a}");
    }
    out
}

/// Writes summary.json, trades.csv, daily.csv and report.html into `dir`.
pub fn write_dir(dir: &Path, bt: &Backtest, s: &Summary, title: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(s).map_err(std::io::Error::other)? + "\n",
    )?;
    std::fs::write(dir.join("trades.csv"), trades_csv(bt))?;
    std::fs::write(dir.join("daily.csv"), daily_csv(bt))?;
    std::fs::write(dir.join("report.html"), html(bt, s, title))?;
    Ok(())
}

/// `signal_id,side,signal_time,entry_time,entry_price,exit_time,exit_price,exit_reason,contracts,pnl`
pub fn trades_csv(bt: &Backtest) -> String {
    let d = crate::price::price_decimals(bt.fill.tick_size);
    let mut out = String::from("signal_id,side,signal_time,entry_time,entry_price,exit_time,exit_price,exit_reason,contracts,pnl\n");
    for t in &bt.trades {
        let f = |x: Option<i64>| x.map(format_utc).unwrap_or_default();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{:.2}",
            t.signal_id,
            t.side.as_str(),
            format_utc(t.signal_time),
            f(t.entry_time),
            t.entry_price
                .map(|p| format_price(p, d))
                .unwrap_or_default(),
            f(t.exit_time),
            t.exit_price.map(|p| format_price(p, d)).unwrap_or_default(),
            t.exit_reason.map(|r| r.as_str()).unwrap_or(""),
            t.contracts,
            t.pnl.unwrap_or(0.0)
        );
    }
    out
}

/// `trading_day,trades,pnl,equity,drawdown` for every trading day with bars.
pub fn daily_csv(bt: &Backtest) -> String {
    let mut count: BTreeMap<chrono::NaiveDate, usize> = BTreeMap::new();
    for t in &bt.trades {
        if let Some(d) = t.exit_trading_day {
            *count.entry(d).or_default() += 1;
        }
    }
    let mut out = String::from("trading_day,trades,pnl,equity,drawdown\n");
    let (mut equity, mut peak) = (0.0f64, 0.0f64);
    for (day, pnl) in bt.trading_days.iter().zip(bt.daily_pnl(|_| true)) {
        equity += pnl;
        peak = peak.max(equity);
        let _ = writeln!(
            out,
            "{day},{},{pnl:.2},{equity:.2},{:.2}",
            count.get(day).copied().unwrap_or(0),
            peak - equity
        );
    }
    out
}

/// Equity and drawdown of the closed-trade curve, one point per trade exit.
/// (trade number, dollars) points of a chart.
type Curve = Vec<(f64, f64)>;

fn curves(bt: &Backtest) -> (Curve, Curve) {
    let (mut equity, mut peak) = (0.0f64, 0.0f64);
    let mut eq = vec![(0.0, 0.0)];
    let mut dd = vec![(0.0, 0.0)];
    for (n, t) in bt.trades.iter().enumerate() {
        equity += t.pnl.unwrap_or(0.0);
        peak = peak.max(equity);
        eq.push(((n + 1) as f64, equity));
        dd.push(((n + 1) as f64, -(peak - equity)));
    }
    (eq, dd)
}

/// An SVG line chart (plotters) of `points`, x = trade number.
fn chart(
    title: &str,
    points: &[(f64, f64)],
    color: plotters::style::RGBColor,
    fill: bool,
) -> String {
    use plotters::prelude::*;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 320)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let xmax = points.last().map(|p| p.0).unwrap_or(1.0).max(1.0);
        let (mut lo, mut hi) = points
            .iter()
            .fold((0.0f64, 0.0f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
        if hi - lo < 1.0 {
            hi += 1.0;
            lo -= 1.0;
        }
        let pad = (hi - lo) * 0.05;
        let built = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..xmax, (lo - pad)..(hi + pad));
        if let Ok(mut c) = built {
            let _ = c
                .configure_mesh()
                .x_desc("trade #")
                .y_desc("$")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| format!("{v:.0}"))
                .light_line_style(RGBColor(235, 235, 235))
                .draw();
            if fill {
                let _ = c.draw_series(
                    AreaSeries::new(points.iter().copied(), 0.0, color.mix(0.25))
                        .border_style(color),
                );
            } else {
                let _ = c.draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ));
            }
        }
        let _ = root.present();
    }
    svg
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn table(rows: &[(String, &Stats)]) -> String {
    let mut h = String::from("<table><tr>");
    for c in HEAD {
        let _ = write!(h, "<th>{}</th>", esc(c));
    }
    h.push_str("</tr>");
    for (name, s) in rows {
        h.push_str("<tr>");
        for (i, v) in row(name, s).iter().enumerate() {
            let class = if i == 0 { " class=\"name\"" } else { "" };
            let _ = write!(h, "<td{class}>{}</td>", esc(v));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
    h
}

/// Monthly P&L (by exit trading day): month, trades, wins, net P&L.
fn monthly(bt: &Backtest) -> String {
    let mut by: BTreeMap<String, (usize, usize, f64)> = BTreeMap::new();
    for t in &bt.trades {
        if let Some(d) = t.exit_trading_day {
            let e = by.entry(d.format("%Y-%m").to_string()).or_default();
            e.0 += 1;
            e.1 += (t.pnl.unwrap_or(0.0) > 0.0) as usize;
            e.2 += t.pnl.unwrap_or(0.0);
        }
    }
    let mut h = String::from(
        "<table><tr><th>month</th><th>trades</th><th>win rate</th><th>net P&amp;L</th></tr>",
    );
    for (m, (n, w, p)) in by {
        let cls = if p < 0.0 { "neg" } else { "pos" };
        let _ = write!(h, "<tr><td class=\"name\">{m}</td><td>{n}</td><td>{}</td><td class=\"{cls}\">{}</td></tr>", pct(w as f64 / n as f64), esc(&money(p)));
    }
    h.push_str("</table>");
    h
}

/// The self-contained report page.
pub fn html(bt: &Backtest, s: &Summary, title: &str) -> String {
    use plotters::style::RGBColor;
    let (eq, dd) = curves(bt);
    let all = groups(s);
    let sides: Vec<(String, &Stats)> = all
        .iter()
        .filter(|(n, _)| n == "BUY" || n == "SELL")
        .cloned()
        .collect();
    let windows: Vec<(String, &Stats)> = all
        .iter()
        .filter(|(n, _)| n.starts_with("window "))
        .map(|(n, st)| (n.trim_start_matches("window ").to_string(), *st))
        .collect();
    let days = match (s.first_day, s.last_day) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        _ => "no bars".into(),
    };
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vrev backtest — {t}</title>
<style>
body {{ font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 2rem auto; max-width: 1000px; color: #222; }}
h1 {{ font-size: 1.5rem; margin-bottom: .2rem; }} h2 {{ font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }}
.meta {{ color: #666; }} table {{ border-collapse: collapse; margin: .5rem 0; font-variant-numeric: tabular-nums; }}
th, td {{ padding: .25rem .6rem; text-align: right; border-bottom: 1px solid #eee; }} th {{ background: #f6f6f6; }}
td.name {{ text-align: left; font-weight: 600; }} .neg {{ color: #b00020; }} .pos {{ color: #1b5e20; }}
.assume li {{ margin: .2rem 0; }} svg {{ max-width: 100%; height: auto; }}
</style></head><body>
<h1>vrev backtest — {t}</h1>
<p class="meta">{bars} bars · {n} trading days ({days}) · {sig} signals · {tr} trades · every number below is from a simulated fill of each trade</p>
<h2>Summary</h2>{overall}
<h2>Equity (closed trades)</h2>{eqsvg}
<h2>Drawdown</h2>{ddsvg}
<h2>By side</h2>{sides}
<h2>By session window</h2>{windows}
<h2>Monthly P&amp;L</h2>{monthly}
<h2>Fill assumptions and costs</h2><ul class="assume">"#,
        t = esc(title),
        bars = s.bars,
        n = s.trading_days,
        sig = s.signals,
        tr = s.overall.trades,
        overall = table(&all[..1]),
        eqsvg = chart("equity ($)", &eq, RGBColor(21, 101, 192), false),
        ddsvg = chart("drawdown ($)", &dd, RGBColor(183, 28, 28), true),
        sides = table(&sides),
        windows = table(&windows),
        monthly = monthly(bt),
    );
    for a in &s.assumptions {
        let _ = write!(h, "<li>{}</li>", esc(a));
    }
    h.push_str("</ul></body></html>\n");
    h
}
