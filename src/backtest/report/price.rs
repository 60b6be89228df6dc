//! The trades on price. A 2-year run has 700,000 one-minute bars: one trace of all of them
//! would make a page too big and too slow. So the page carries
//! - an overview of daily candles (one per trading day) with the days that traded marked, and
//! - the one-minute bars around the trades only: each trade's bars from 30 bars before its
//!   signal to 15 bars after its exit, overlapping stretches merged into segments, delta-encoded
//!   in ticks (`[minutes since the previous bar, open − previous close, high − open,
//!   open − low, close − open]` per bar), drawn one segment at a time.
//!
//! Times are ET wall clock (what a trader reads on their chart), passed as minutes of a naive
//! local clock so the browser never converts zones.

use crate::backtest::Backtest;
use crate::market::bar::Bar;
use crate::market::price::{format_price, price_decimals};
use crate::market::time::MarketClock;
use plotly::common::{Line, Marker, MarkerSymbol, Mode, Title};
use plotly::configuration::Configuration;
use plotly::layout::{Axis, AxisType, DragMode, HoverMode, Layout, RangeSlider};
use plotly::{Candlestick, Plot, Scatter};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Bars of context before a trade's signal bar and after its exit bar.
pub const BARS_BEFORE: usize = 30;
pub const BARS_AFTER: usize = 15;

/// Naive ET minutes since 1970-01-01 00:00 ET of a bar close.
fn et_minute(clock: &MarketClock, utc: i64) -> i64 {
    (utc + clock.offset_seconds(utc) as i64).div_euclid(60)
}

/// The data the page's price charts draw from (serialised into the page).
#[derive(Serialize)]
pub struct PriceData {
    pub tick: f64,
    pub decimals: usize,
    /// `[first bar ET minute, first open in ticks, [5 ints per bar…]]`
    pub segments: Vec<(i64, i64, Vec<i64>)>,
    /// `[segment, side (1 BUY, -1 SELL), entry x, exit x, entry, exit, initial stop, target, net
    /// P&L, signal id, exit reason, signal x, [[x, stop, rule] of each stop move]]`; x are ET
    /// minutes of the bars the marks sit on (a moved stop is in force from the bar after the
    /// close that moved it).
    pub trades: Vec<TradeMark>,
    /// Trading day → first trade of that day (by signal), for clicks on the overview.
    pub days: BTreeMap<String, usize>,
    /// Each segment's first and last bar (indexes into the run's bars).
    #[serde(skip)]
    pub ranges: Vec<(usize, usize)>,
}

#[derive(Serialize)]
pub struct TradeMark(
    usize,
    i8,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
    String,
    f64,
    String,
    &'static str,
    i64,
    Vec<(i64, String, &'static str)>,
);

fn ticks(p: f64, tick: f64) -> i64 {
    (p / tick).round() as i64
}

pub fn price_data(bt: &Backtest, bars: &[Bar]) -> PriceData {
    let clock = MarketClock::exchange();
    let tick = bt.fill.tick_size;
    let d = price_decimals(tick);
    let sig_index = |t: i64| bars.partition_point(|b| b.close_time < t);
    // Each trade's stretch of bars, then merged into segments.
    let spans: Vec<(usize, usize)> = bt
        .trades
        .iter()
        .zip(&bt.paths)
        .map(|(t, p)| {
            let s = sig_index(t.signal_time);
            let end = p.held_bars.map(|(_, e)| e).unwrap_or(s);
            (
                s.saturating_sub(BARS_BEFORE),
                (end + BARS_AFTER).min(bars.len().saturating_sub(1)),
            )
        })
        .collect();
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| spans[i]);
    let mut merged: Vec<(usize, usize)> = Vec::new();
    let mut seg_of = vec![0usize; spans.len()];
    for i in order {
        let (a, b) = spans[i];
        match merged.last_mut() {
            Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
        seg_of[i] = merged.len() - 1;
    }
    let ranges: Vec<(usize, usize)> = merged
        .iter()
        .copied()
        .filter(|(a, b)| a <= b && *b < bars.len())
        .collect();
    let segments = ranges
        .iter()
        .map(|&(a, b)| {
            let first = &bars[a];
            let t0 = et_minute(&clock, first.close_time);
            let p0 = ticks(first.open, tick);
            let (mut t, mut prev_close) = (t0, p0);
            let mut enc = Vec::with_capacity(5 * (b - a + 1));
            for bar in &bars[a..=b] {
                let m = et_minute(&clock, bar.close_time);
                let (o, h, l, c) = (
                    ticks(bar.open, tick),
                    ticks(bar.high, tick),
                    ticks(bar.low, tick),
                    ticks(bar.close, tick),
                );
                enc.extend([m - t, o - prev_close, h - o, o - l, c - o]);
                t = m;
                prev_close = c;
            }
            (t0, p0, enc)
        })
        .collect();
    let mut days = BTreeMap::new();
    let trades = bt
        .trades
        .iter()
        .enumerate()
        .map(|(i, t)| {
            days.entry(clock.stamp(t.signal_time).trading_day.to_string())
                .or_insert(i);
            let price = |p: Option<f64>| p.map(|p| format_price(p, d));
            TradeMark(
                seg_of[i],
                t.side.sign() as i8,
                t.entry_time
                    .map(|e| et_minute(&clock, e + bt.fill.bar_seconds)),
                t.exit_time.map(|e| et_minute(&clock, e)),
                price(t.entry_price),
                price(t.exit_price),
                format_price(t.initial_stop, d),
                format_price(t.target, d),
                t.pnl.unwrap_or(0.0) + 0.0,
                t.signal_id.clone(),
                t.exit_reason.map(|r| r.as_str()).unwrap_or(""),
                et_minute(&clock, t.signal_time),
                t.stop_moves
                    .iter()
                    .map(|m| {
                        (
                            et_minute(&clock, m.time + bt.fill.bar_seconds),
                            format_price(m.stop, d),
                            m.rule.as_str(),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    PriceData {
        tick,
        decimals: d,
        segments,
        trades,
        days,
        ranges,
    }
}

/// The data as JSON with numbers printed compactly (the bulk of the page).
pub fn price_json(data: &PriceData) -> String {
    // serde_json prints integers compactly already; a String writer avoids a second copy.
    let mut out = String::new();
    let _ = write!(
        out,
        "{}",
        serde_json::to_string(data).unwrap_or_else(|_| "{}".into())
    );
    out
}

/// One candle per trading day (ET), with the days that traded marked above their high.
pub fn overview(bt: &Backtest, bars: &[Bar]) -> Plot {
    let clock = MarketClock::exchange();
    let mut x: Vec<String> = Vec::new();
    let (mut o, mut h, mut l, mut c) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut last_day = None;
    for b in bars {
        let day = clock.stamp(b.close_time).trading_day;
        if last_day != Some(day) {
            last_day = Some(day);
            x.push(day.to_string());
            o.push(b.open);
            h.push(b.high);
            l.push(b.low);
            c.push(b.close);
        } else if let (Some(hh), Some(ll), Some(cc)) = (h.last_mut(), l.last_mut(), c.last_mut()) {
            *hh = f64::max(*hh, b.high);
            *ll = f64::min(*ll, b.low);
            *cc = b.close;
        }
    }
    // Trades and net P&L per trading day of the signal.
    let mut per_day: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for t in &bt.trades {
        let e = per_day
            .entry(clock.stamp(t.signal_time).trading_day.to_string())
            .or_default();
        e.0 += 1;
        e.1 += t.pnl.unwrap_or(0.0);
    }
    let high_of: BTreeMap<&str, f64> = x
        .iter()
        .map(String::as_str)
        .zip(h.iter().copied())
        .collect();
    let mut mx = Vec::new();
    let mut my = Vec::new();
    let mut text = Vec::new();
    let mut colors = Vec::new();
    for (day, (n, pnl)) in &per_day {
        if let Some(high) = high_of.get(day.as_str()) {
            mx.push(day.clone());
            my.push(*high);
            text.push(format!(
                "{day}: {n} trade(s), {} — click to see them",
                crate::market::format::money(*pnl)
            ));
            colors.push(if *pnl < 0.0 { "#b71c1c" } else { "#2e7d32" });
        }
    }
    // Each trade at its entry price on its signal's trading day (click: that trade).
    let mut marks = [
        (Vec::new(), Vec::new(), Vec::new(), Vec::new()),
        (Vec::new(), Vec::new(), Vec::new(), Vec::new()),
    ];
    for (i, t) in bt.trades.iter().enumerate() {
        let Some(entry) = t.entry_price else { continue };
        let day = clock.stamp(t.signal_time).trading_day.to_string();
        if !high_of.contains_key(day.as_str()) {
            continue;
        }
        let m = &mut marks[(t.side.sign() < 0.0) as usize];
        m.0.push(day);
        m.1.push(entry);
        m.2.push(format!(
            "#{} {} {} · {} · net {}",
            i + 1,
            t.side.as_str(),
            format_price(entry, price_decimals(bt.fill.tick_size)),
            t.exit_reason.map(|r| r.as_str()).unwrap_or("open"),
            crate::market::format::money(t.pnl.unwrap_or(0.0))
        ));
        m.3.push(i as i64);
    }
    let mut plot = Plot::new();
    plot.add_trace(Box::new(Candlestick::new(x, o, h, l, c).name("daily")));
    for ((mx, my, text, idx), (name, symbol, color)) in marks.into_iter().zip([
        ("BUY trades", MarkerSymbol::TriangleUp, "#1b5e20"),
        ("SELL trades", MarkerSymbol::TriangleDown, "#b71c1c"),
    ]) {
        plot.add_trace(
            Scatter::new(mx, my)
                .mode(Mode::Markers)
                .name(name)
                .marker(
                    Marker::new()
                        .symbol(symbol)
                        .size(7)
                        .opacity(0.75)
                        .color(color),
                )
                .hover_text_array(text)
                .custom_data(idx)
                .hover_info(plotly::common::HoverInfo::Text),
        );
    }
    plot.add_trace(
        Scatter::new(mx, my)
            .mode(Mode::Markers)
            .name("trading days")
            .marker(
                Marker::new()
                    .symbol(MarkerSymbol::TriangleDown)
                    .size(6)
                    .opacity(0.7)
                    .color_array(colors),
            )
            .hover_text_array(text)
            .hover_info(plotly::common::HoverInfo::Text),
    );
    plot.set_layout(
        super::charts::base_layout(360)
            .drag_mode(DragMode::Pan)
            .hover_mode(HoverMode::Closest)
            .x_axis(
                Axis::new()
                    .type_(AxisType::Date)
                    .range_slider(RangeSlider::new().visible(false)),
            )
            .y_axis(
                Axis::new()
                    .title(Title::with_text("price (daily)"))
                    .tick_format(",.2f"),
            ),
    );
    plot.set_configuration(config());
    plot
}

/// The one-minute chart of one segment: the page fills the traces (candles, BUY entries, SELL
/// entries, exits, stops, targets, the selected trade) from [`PriceData`].
pub fn detail() -> Plot {
    let empty = || Vec::<f64>::new();
    let mut plot = Plot::new();
    plot.add_trace(Box::new(
        Candlestick::new(Vec::<String>::new(), empty(), empty(), empty(), empty()).name("1 min"),
    ));
    let marks = [
        ("BUY entry", MarkerSymbol::TriangleUp, "#1b5e20", 13),
        ("SELL entry", MarkerSymbol::TriangleDown, "#b71c1c", 13),
        ("exit", MarkerSymbol::X, "#111111", 10),
    ];
    for (name, symbol, color, size) in marks {
        plot.add_trace(
            Scatter::new(Vec::<String>::new(), empty())
                .mode(Mode::Markers)
                .name(name)
                .marker(
                    Marker::new()
                        .symbol(symbol)
                        .size(size)
                        .color(color)
                        .line(Line::new().color("white").width(1.0)),
                )
                .hover_info(plotly::common::HoverInfo::Text),
        );
    }
    for (name, color) in [("stop", "#d32f2f"), ("target", "#2e7d32")] {
        plot.add_trace(
            Scatter::new(Vec::<String>::new(), empty())
                .mode(Mode::Lines)
                .name(name)
                .line(
                    Line::new()
                        .color(color)
                        .width(2.0)
                        .dash(plotly::common::DashType::Dash),
                )
                .hover_info(plotly::common::HoverInfo::Skip),
        );
    }
    plot.add_trace(
        Scatter::new(Vec::<String>::new(), empty())
            .mode(Mode::Lines)
            .name("selected")
            .line(Line::new().color("rgba(21,101,192,0.85)").width(4.0))
            .hover_info(plotly::common::HoverInfo::Skip),
    );
    plot.set_layout(
        Layout::new()
            .height(560)
            .font(plotly::common::Font::new().size(13))
            .margin(
                plotly::layout::Margin::new()
                    .left(80)
                    .right(20)
                    .top(30)
                    .bottom(45),
            )
            .drag_mode(DragMode::Pan)
            .hover_mode(HoverMode::Closest)
            .show_legend(true)
            .legend(
                plotly::layout::Legend::new()
                    .orientation(plotly::common::Orientation::Horizontal)
                    .y(1.06),
            )
            .x_axis(
                Axis::new()
                    .type_(AxisType::Date)
                    .title(Title::with_text("time (ET, bar close)"))
                    .range_slider(RangeSlider::new().visible(false)),
            )
            .y_axis(
                Axis::new()
                    .title(Title::with_text("price"))
                    .tick_format(",.2f"),
            ),
    );
    plot.set_configuration(config());
    plot
}

fn config() -> Configuration {
    Configuration::new()
        .scroll_zoom(true)
        .responsive(true)
        .display_logo(false)
}
