//! report.html: one self-contained page that opens offline. Plotly.js comes from the `plotly`
//! crate (`plotly_embed_js`); the figures are the crate's JSON; `page.js` only wires the trade
//! list and the charts together. Nothing on the page depends on the clock or on where it is
//! written, so the same run gives the same bytes.

use super::{charts, overlay, price, tables};
use crate::backtest::monte_carlo::MonteCarlo;
use crate::backtest::{Backtest, Summary};
use crate::host::book::Trade;
use crate::market::bar::Bar;
use crate::market::format::{count, esc};
use std::fmt::Write as _;

const SCRIPT: &str = include_str!("page.js");

const STYLE: &str = r#"
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem auto; max-width: 1360px; padding: 0 1rem; color: #1d1d1d; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; } h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.meta { color: #555; margin: .2rem 0 1rem; }
table { border-collapse: collapse; margin: .5rem 0; font-variant-numeric: tabular-nums; }
table { font-size: 14px; }
th, td { padding: .25rem .5rem; text-align: right; border-bottom: 1px solid #eee; white-space: nowrap; }
th { background: #f4f5f7; font-weight: 600; position: sticky; top: 0; }
td.name, th.name { text-align: left; font-weight: 600; } .neg { color: #b00020; } .pos { color: #1b5e20; }
.wide { overflow-x: auto; }
.run td { text-align: left; white-space: normal; } .run td:first-child { color: #555; white-space: nowrap; }
.run code, .cmd { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.cmd { background: #f4f5f7; padding: .4rem .6rem; display: block; white-space: pre-wrap; word-break: break-all; }
.cautions { border: 2px solid #e0a000; background: #fff8e1; padding: .6rem 1rem; margin: 1rem 0; }
.cautions h2 { margin: 0 0 .3rem; border: 0; color: #8a5a00; }
#trades { font-size: 13px; } #trades td, #trades th { padding: .2rem .35rem; }
#trades-box { max-height: 460px; overflow: auto; border: 1px solid #ddd; }
#trades tbody tr { cursor: pointer; } #trades tbody tr:hover { background: #eef4fd; }
#trades tr.sel { background: #d6e6fb; }
.controls { display: flex; gap: .6rem; align-items: center; margin: .3rem 0; }
.controls button { font: inherit; padding: .2rem .8rem; }
#detail-label { font-weight: 600; }
.pair { display: flex; gap: 2rem; flex-wrap: wrap; align-items: flex-start; }
.note { color: #555; font-size: .92rem; }
.assume li { margin: .2rem 0; }
details summary { cursor: pointer; color: #1565c0; }
#overlay-legend { flex-wrap: wrap; } label.ov { cursor: pointer; white-space: nowrap; } label.ov input { margin: 0 .25rem 0 0; vertical-align: middle; }
.swatch { display: inline-block; width: 18px; height: 3px; margin: 0 .3rem 0 0; vertical-align: middle; }
label.ov.off { color: #999; text-decoration: line-through; }
#trades th.sort { cursor: pointer; user-select: none; } #trades th .arrow { color: #1565c0; }
#trades tr.filters th { top: 1.7rem; background: #fafbfc; padding: .15rem .2rem; } #trades tr.filters input, #trades tr.filters select { font: inherit; font-size: 12px; max-width: 9rem; }
#trades tbody tr.hidden { display: none; }
"#;

/// Plotly.js as the crate ships it: the first `<script>` of its offline sources (the second
/// is MathJax, which the report does not use).
fn plotly_js() -> String {
    let all = plotly::Plot::offline_js_sources();
    match all.find("</script>") {
        Some(end) => all[..end + "</script>".len()].to_string(),
        None => all,
    }
}

/// JSON inside `<script type="application/json">`: `<` written as `\u003c` so no string in it
/// can close the script element.
fn json_script(id: &str, json: &str) -> String {
    format!(
        "<script type=\"application/json\" id=\"{id}\">{}</script>\n",
        json.replace('<', "\\u003c")
    )
}

/// The best (`best`) or worst trade of those `keep` selects: the largest win or loss, the first
/// in exit order on a tie; `None` without a winning (losing) trade.
pub fn extreme_trade(bt: &Backtest, keep: impl Fn(&Trade) -> bool, best: bool) -> Option<usize> {
    let mut found: Option<(usize, f64)> = None;
    for (i, t) in bt.trades.iter().enumerate().filter(|(_, t)| keep(t)) {
        let p = t.pnl.unwrap_or(0.0);
        let wanted = if best { p > 0.0 } else { p < 0.0 };
        let better = found.is_none_or(|(_, q)| if best { p > q } else { p < q });
        if wanted && better {
            found = Some((i, p));
        }
    }
    found.map(|(i, _)| i)
}

/// Which trades a statistics row (`all`, `BUY`, `SELL`, `window NAME`) counts.
fn in_group(name: &str, t: &Trade) -> bool {
    match name {
        "all" => true,
        _ => match name.strip_prefix("window ") {
            Some(w) => t.window == w,
            None => t.side.as_str() == name,
        },
    }
}

/// The Monte Carlo section (`--monte-carlo N`): the same figures as the terminal.
fn monte_carlo_html(mc: &MonteCarlo) -> String {
    use crate::market::format::money;
    let row = |name: &str, p: &crate::backtest::monte_carlo::Percentiles| {
        format!(
            "<tr><td class=\"name\">{name}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            money(p.p5),
            money(p.p50),
            money(p.p95)
        )
    };
    format!(
        "<h2 id=\"monte-carlo\">Monte Carlo</h2>\n<p class=\"note\">{} resamples of the backtest's {} trades, drawn with replacement (a sample may repeat a trade and miss another), seed {}: how much of the final P&amp;L and the max drawdown is the luck of the order and mix of the trades (<code>monte_carlo.json</code> has the same figures).</p>\n<table id=\"monte-carlo-table\"><thead><tr><th></th><th>5th pct</th><th>median</th><th>95th pct</th></tr></thead><tbody>{}{}</tbody></table>\n",
        count(mc.samples),
        count(mc.trades),
        mc.seed,
        row("final P&amp;L", &mc.final_pnl),
        row("max drawdown", &mc.max_drawdown),
    )
}

/// The self-contained report page; `mc` is the Monte Carlo of the trades when it was run.
pub fn html(
    bt: &Backtest,
    bars: &[Bar],
    s: &Summary,
    mc: Option<&MonteCarlo>,
    title: &str,
) -> String {
    let groups = tables::groups(s);
    let days = match (s.first_day, s.last_day) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        _ => "no bars".into(),
    };
    let data = price::price_data(bt, bars);
    let overview = price::overview(bt, bars);
    // The daily chart's days: the candles' x.
    let day_list: Vec<String> = serde_json::from_str::<serde_json::Value>(&overview.to_json())
        .ok()
        .and_then(|v| {
            v["data"][0]["x"].as_array().map(|x| {
                x.iter()
                    .map(|d| d.as_str().unwrap_or_default().to_string())
                    .collect()
            })
        })
        .unwrap_or_default();
    let overlays = overlay::overlays(bt, bars, &data.ranges, &day_list);
    let mut h = String::with_capacity(8 << 20);
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>vrev backtest — {t}</title>\n<style>{STYLE}</style>\n</head><body>\n<h1>vrev backtest — {t}</h1>\n<p class=\"meta\">{bars} bars · {n} trading days ({days}) · {sig} signals · {tr} trades · every number below is from a simulated fill of each trade (assumptions at the end)</p>\n",
        t = esc(title),
        bars = count(s.bars),
        n = count(s.trading_days),
        sig = count(s.signals),
        tr = count(s.overall.trades),
    );
    // Every refusal is a decision of the host (rule names, e.g. `stop_too_wide`), never silent.
    let _ = writeln!(
        h,
        "<p class=\"meta\" id=\"refusals\">{}</p>",
        esc(&bt.refusals_line())
    );
    if !s.warnings.is_empty() {
        h.push_str("<div class=\"cautions\" id=\"cautions\"><h2>Cautions</h2><ul>");
        for w in &s.warnings {
            let _ = write!(h, "<li>{}</li>", esc(w));
        }
        h.push_str("</ul></div>\n");
    }
    if let Some(run) = &s.run {
        h.push_str("<h2>What produced this report</h2>\n");
        let _ = write!(
            h,
            "<p>Re-run this command in the same folder to reproduce this report byte for byte:</p><code class=\"cmd\">{}</code>\n<table class=\"run\">",
            esc(&run.command)
        );
        for (k, v) in run.lines().iter().filter(|(k, _)| k != "command") {
            let _ = write!(
                h,
                "<tr><td>{}</td><td><code>{}</code></td></tr>",
                esc(k),
                esc(v)
            );
        }
        h.push_str("</table>\n<details><summary>Each window's profile settings and parameters (after --set)</summary><table class=\"run\">");
        for w in &run.windows {
            let _ = write!(
                h,
                "<tr><td>{}</td><td><code>{}</code></td></tr>",
                esc(&w.window),
                esc(&serde_json::to_string(&w.settings).unwrap_or_default())
            );
        }
        h.push_str("</table></details>\n");
    }
    let _ = write!(
        h,
        "<h2>Statistics</h2><div class=\"wide\">{}</div>\n<div class=\"wide\">{}</div>\n<p class=\"note\">Per side and per session window (by the signal bar's window). Sharpe and Sortino are annualised from daily P&amp;L over every trading day with bars; Calmar = annualised P&amp;L ÷ max drawdown; drawdown duration in trading days under the equity peak; exposure = share of bars with a position open.</p>\n",
        tables::main_stats(&groups).html(&[3, 4, 6, 7]),
        tables::more_stats(&groups).html_linked(&[1, 2, 3], |row, col| {
            // Largest win and largest loss link to that trade (its row and its chart).
            let (name, _) = groups.get(row)?;
            let best = match col {
                2 => true,
                3 => false,
                _ => return None,
            };
            extreme_trade(bt, |t| in_group(name, t), best).map(|i| format!("#trade-{}", i + 1))
        }),
    );
    if let Some(mc) = mc {
        h.push_str(&monte_carlo_html(mc));
    }
    let _ = write!(
        h,
        "<h2>Trades on price</h2>\n<p class=\"note\">Daily candles of the whole run; ▲/▼ each BUY/SELL trade at its entry price on its trading day, ▼ above the high the days with trades (green: net positive). Click one to see its trade below. The indicators are the series the scripts read, the {max} read most often: price levels over the candles, RSI-like (0–100) in the pane below, ATR-like widths in points on that pane's right axis; on the daily candles each is its value at the trading day's last bar (docs/report.md). Tick one off to hide it on both charts.</p>\n{legend}<div id=\"fig-overview\"></div>\n<div class=\"controls\"><button id=\"prev-trade\" type=\"button\">◀ previous trade</button><button id=\"next-trade\" type=\"button\">next trade ▶</button><span id=\"detail-label\"></span></div>\n<div id=\"fig-detail\"></div>\n<p class=\"note\">One-minute bars around the trades ({before} bars before each signal to {after} after each exit), ET. ▲/▼ entry (at the open of the entry bar), ✕ exit, dashed red stop (stepping where breakeven or trailing moved it) and green target from entry to exit, the exit reason in each trade's label; the blue line joins the selected trade's entry and exit. Click a row to show that trade; click a column's head to sort by it, and type or choose under it to filter (numbers: <code>&gt;0</code>, <code>&lt;-100</code>, <code>1..5</code>). <span id=\"trades-shown\"></span></p>\n<div id=\"trades-box\">{list}</div>\n",
        max = overlay::MAX_OVERLAYS,
        legend = overlay::legend_html(bt.series.as_ref(), &overlays),
        before = price::BARS_BEFORE,
        after = price::BARS_AFTER,
        list = tables::trade_list(bt),
    );
    let _ = write!(
        h,
        "<h2>Equity and drawdown</h2>\n<p class=\"note\">Closed-trade equity by exit trading day (every trading day with bars); the shaded stretch is the longest time under the peak.</p><div id=\"fig-equity\"></div>\n<h2>Monthly P&amp;L</h2><div id=\"fig-heatmap\"></div>\n<h2>P&amp;L per trade</h2><div id=\"fig-histogram\"></div>\n<h2>Rolling Sharpe ({days} trading days)</h2>{rolling}\n<h2>When trades were entered (ET)</h2><div class=\"pair\"><div>{wd}</div><div>{hr}</div></div>\n",
        days = charts::ROLLING_SHARPE_DAYS,
        rolling = if bt.trading_days.len() >= charts::ROLLING_SHARPE_DAYS {
            "<div id=\"fig-rolling\"></div>".to_string()
        } else {
            format!(
                "<p class=\"note\">Not drawn: the run has {} trading days, the window needs {}.</p>",
                bt.trading_days.len(),
                charts::ROLLING_SHARPE_DAYS
            )
        },
        wd = tables::by_weekday(bt).html(&[3, 4]),
        hr = tables::by_hour(bt).html(&[3, 4]),
    );
    h.push_str("<h2>Fill assumptions and costs</h2><ul class=\"assume\">");
    for a in &s.assumptions {
        let _ = write!(h, "<li>{}</li>", esc(a));
    }
    h.push_str("</ul>\n");
    h.push_str(&plotly_js());
    h.push('\n');
    let figures = [
        ("fig-overview-json", overview),
        ("fig-detail-json", price::detail()),
        ("fig-equity-json", charts::equity_drawdown(bt)),
        ("fig-heatmap-json", charts::monthly_heatmap(bt)),
        ("fig-histogram-json", charts::pnl_histogram(bt)),
        ("fig-rolling-json", charts::rolling_sharpe_chart(bt)),
    ];
    for (id, fig) in figures {
        h.push_str(&json_script(id, &fig.to_json()));
    }
    h.push_str(&json_script("price-data", &price::price_json(&data)));
    h.push_str(&json_script(
        "overlay-data",
        &serde_json::to_string(&overlays).unwrap_or_else(|_| "{}".into()),
    ));
    let _ = write!(h, "<script>{SCRIPT}</script>\n</body></html>\n");
    h
}
