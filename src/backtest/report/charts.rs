//! The charts by date, built with the `plotly` crate (Plotly.js figures as JSON, drawn by the
//! Plotly.js the crate ships, embedded in the page): equity and drawdown against trading days
//! with the longest drawdown shaded, the year × month P&L heatmap, the distribution of P&L per
//! trade and the rolling Sharpe ratio.

use crate::backtest::Backtest;
use crate::market::format::money;
use crate::stats::rolling_sharpe::rolling_sharpe;
use chrono::Datelike;
use plotly::common::{ColorScale, ColorScaleElement, Fill, Font, Line, Marker, Mode, Title};
use plotly::layout::{
    Annotation, Axis, AxisType, HoverMode, Layout, Margin, Shape, ShapeLayer, ShapeLine, ShapeType,
};
use plotly::{HeatMap, Histogram, Plot, Scatter};
use std::collections::BTreeMap;

/// Trading days in the rolling Sharpe window (about three months).
pub const ROLLING_SHARPE_DAYS: usize = 63;

const BLUE: &str = "#1565c0";
const RED: &str = "#b71c1c";
const GREEN: &str = "#2e7d32";

/// A layout every chart shares: readable type, room for dollar ticks, no legend clutter.
pub fn base_layout(height: usize) -> Layout {
    Layout::new()
        .height(height)
        .font(
            Font::new()
                .size(13)
                .family("system-ui, -apple-system, Segoe UI, sans-serif"),
        )
        .margin(Margin::new().left(90).right(20).top(30).bottom(45))
        .show_legend(false)
}

fn dollar_axis(title: &str) -> Axis {
    Axis::new()
        .title(Title::with_text(title))
        .tick_format("$,.0f")
        .hover_format("$,.2f")
        .zero_line(true)
        .zero_line_color("#999")
}

/// Equity (closed trades, by exit trading day) above its drawdown, sharing the date axis; the
/// longest stretch under the peak is shaded on both.
pub fn equity_drawdown(bt: &Backtest) -> Plot {
    let days: Vec<String> = bt.trading_days.iter().map(|d| d.to_string()).collect();
    let (mut equity, mut peak) = (0.0f64, 0.0f64);
    let mut eq = Vec::with_capacity(days.len());
    let mut dd = Vec::with_capacity(days.len());
    // Longest run of days under the peak: (first day index, last day index).
    let (mut run_start, mut longest): (Option<usize>, Option<(usize, usize)>) = (None, None);
    for (i, pnl) in bt.daily_pnl(|_| true).into_iter().enumerate() {
        equity += pnl;
        if equity >= peak {
            peak = equity;
            run_start = None;
        } else {
            let s = *run_start.get_or_insert(i);
            if longest.is_none_or(|(a, b)| b - a < i - s) {
                longest = Some((s, i));
            }
        }
        eq.push(equity + 0.0);
        dd.push(-(peak - equity) + 0.0);
    }
    let mut plot = Plot::new();
    plot.add_trace(
        Scatter::new(days.clone(), eq)
            .mode(Mode::Lines)
            .name("equity")
            .line(Line::new().color(BLUE).width(2.0)),
    );
    plot.add_trace(
        Scatter::new(days.clone(), dd)
            .mode(Mode::Lines)
            .name("drawdown")
            .fill(Fill::ToZeroY)
            .fill_color("rgba(183,28,28,0.25)")
            .line(Line::new().color(RED).width(1.0))
            .y_axis("y2"),
    );
    let mut layout = base_layout(520)
        .hover_mode(HoverMode::XUnified)
        .x_axis(Axis::new().type_(AxisType::Date).anchor("y2"))
        .y_axis(dollar_axis("equity").domain(&[0.38, 1.0]))
        .y_axis2(dollar_axis("drawdown").domain(&[0.0, 0.3]));
    if let Some((a, b)) = longest {
        let (from, to) = (days[a.saturating_sub(1)].clone(), days[b].clone());
        for yref in ["y", "y2"] {
            layout.add_shape(
                Shape::new()
                    .shape_type(ShapeType::Rect)
                    .x_ref("x")
                    .y_ref(format!("{yref} domain"))
                    .x0(from.clone())
                    .x1(to.clone())
                    .y0(0)
                    .y1(1)
                    .fill_color("rgba(255,160,0,0.12)")
                    .line(ShapeLine::new().width(0.0))
                    .layer(ShapeLayer::Below),
            );
        }
        layout.add_annotation(
            Annotation::new()
                .text(format!(
                    "longest drawdown: {} trading days ({from} → {to})",
                    b - a + 1
                ))
                .x_ref("paper")
                .y_ref("paper")
                .x(0.0)
                .y(1.0)
                .show_arrow(false)
                .font(Font::new().size(12).color("#8a5a00")),
        );
    }
    plot.set_layout(layout);
    plot
}

/// Net P&L by year (rows) and month (columns), by exit trading day; months without any
/// trading day are blank, months with days but no trades show $0.
pub fn monthly_heatmap(bt: &Backtest) -> Plot {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut cells: BTreeMap<(i32, u32), f64> = BTreeMap::new();
    for (day, pnl) in bt.trading_days.iter().zip(bt.daily_pnl(|_| true)) {
        *cells.entry((day.year(), day.month0())).or_default() += pnl;
    }
    // Trades per month, by the exit's trading day like the P&L.
    let mut trades: BTreeMap<(i32, u32), usize> = BTreeMap::new();
    for t in &bt.trades {
        if let Some(d) = t.exit_trading_day {
            *trades.entry((d.year(), d.month0())).or_default() += 1;
        }
    }
    let traded = |k: &(i32, u32)| trades.get(k).copied().unwrap_or(0);
    // Latest year first in the list = at the bottom of the chart: the first year reads on top.
    let years: Vec<i32> = {
        let mut y: Vec<i32> = cells.keys().map(|(y, _)| *y).collect();
        y.dedup();
        y.reverse();
        y
    };
    let z: Vec<Vec<Option<f64>>> = years
        .iter()
        .map(|y| {
            (0..12)
                .map(|m| {
                    // A month without trades has no colour: it is not a break-even month.
                    cells
                        .get(&(*y, m))
                        .filter(|_| traded(&(*y, m)) > 0)
                        .map(|v| v + 0.0)
                })
                .collect()
        })
        .collect();
    let biggest = cells.values().fold(1.0f64, |m, v| m.max(v.abs()));
    // Cells by index (a category axis with a single year draws no cells in Plotly.js 3.0).
    let mut layout = base_layout(110 + 46 * years.len())
        .x_axis(
            Axis::new()
                .tick_values((0..12).map(f64::from).collect())
                .tick_text(MONTHS.iter().map(|m| m.to_string()).collect())
                .side(plotly::common::AxisSide::Top)
                .range(vec![-0.5, 11.5])
                .show_grid(false)
                .zero_line(false),
        )
        .y_axis(
            Axis::new()
                .tick_values((0..years.len()).map(|i| i as f64).collect())
                .tick_text(years.iter().map(|y| y.to_string()).collect())
                .range(vec![-0.5, years.len() as f64 - 0.5])
                .show_grid(false)
                .zero_line(false),
        )
        .margin(Margin::new().left(60).right(20).top(40).bottom(20));
    for ((y, m), v) in &cells {
        let row = years.iter().position(|x| x == y).unwrap_or(0);
        layout.add_annotation(
            Annotation::new()
                .text(month_cell(traded(&(*y, *m)), *v))
                .x(*m as f64)
                .y(row as f64)
                .show_arrow(false)
                .font(Font::new().size(12).color(if v.abs() > biggest * 0.6 {
                    "white"
                } else {
                    "#222"
                })),
        );
    }
    let mut plot = Plot::new();
    plot.add_trace(
        HeatMap::new_z(z)
            .zmid(0.0)
            .zmin(-biggest)
            .zmax(biggest)
            .x_gap(2)
            .y_gap(2)
            .color_scale(ColorScale::Vector(vec![
                ColorScaleElement(0.0, RED.into()),
                ColorScaleElement(0.5, "#f7f7f7".into()),
                ColorScaleElement(1.0, GREEN.into()),
            ]))
            .show_scale(false)
            .hover_info(plotly::common::HoverInfo::Skip),
    );
    plot.set_layout(layout);
    plot
}

/// The text of a month's cell: its net P&L in whole dollars (cells stay short), or "—" when no
/// trade exited that month (not "$0": nothing was traded, nothing was won or lost).
pub fn month_cell(trades: usize, pnl: f64) -> String {
    if trades == 0 {
        "—".into()
    } else {
        money(pnl.round()).trim_end_matches(".00").to_string()
    }
}

/// How the net P&L of single trades is distributed.
pub fn pnl_histogram(bt: &Backtest) -> Plot {
    let pnls: Vec<f64> = bt.trades.iter().map(|t| t.pnl.unwrap_or(0.0)).collect();
    let mut plot = Plot::new();
    plot.add_trace(
        Histogram::new(pnls)
            .n_bins_x(60)
            .marker(Marker::new().color(BLUE))
            .hover_template("%{x}: %{y} trades<extra></extra>"),
    );
    plot.set_layout(
        base_layout(320)
            .x_axis(
                Axis::new()
                    .title(Title::with_text("net P&L per trade"))
                    .tick_format("$,.0f"),
            )
            .y_axis(
                Axis::new()
                    .title(Title::with_text("trades"))
                    .tick_format(",d"),
            ),
    );
    plot
}

/// Sharpe of the trailing [`ROLLING_SHARPE_DAYS`] trading days, by day.
pub fn rolling_sharpe_chart(bt: &Backtest) -> Plot {
    let daily = bt.daily_pnl(|_| true);
    let values = rolling_sharpe(&daily, ROLLING_SHARPE_DAYS);
    let days: Vec<String> = bt
        .trading_days
        .iter()
        .skip(ROLLING_SHARPE_DAYS.saturating_sub(1))
        .map(|d| d.to_string())
        .collect();
    let mut plot = Plot::new();
    plot.add_trace(
        Scatter::new(days, values)
            .mode(Mode::Lines)
            .line(Line::new().color(BLUE).width(1.5))
            .connect_gaps(false),
    );
    plot.set_layout(
        base_layout(300)
            .x_axis(Axis::new().type_(AxisType::Date))
            .y_axis(
                Axis::new()
                    .title(Title::with_text(format!(
                        "Sharpe, {ROLLING_SHARPE_DAYS} days"
                    )))
                    .tick_format(".1f")
                    .zero_line(true)
                    .zero_line_color("#999"),
            ),
    );
    plot
}

#[cfg(test)]
mod tests {
    use super::month_cell;

    #[test]
    fn a_month_without_trades_shows_a_dash_not_zero_dollars() {
        // (trades, net P&L, cell)
        let cases = [
            (0, 0.0, "—"),
            (1, 0.0, "$0"),
            (3, -1234.4, "-$1,234"),
            (2, 99.5, "$100"),
            (0, 12.0, "—"),
        ];
        for (trades, pnl, want) in cases {
            assert_eq!(month_cell(trades, pnl), want, "{trades} trades, {pnl}");
        }
    }
}
