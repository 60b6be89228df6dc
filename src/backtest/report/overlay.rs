//! The series the scripts read, drawn on the report's price charts (issue 22): chosen from the
//! run's [`SeriesRecord`] — at most [`MAX_OVERLAYS`], the ones read most often — price levels
//! over the candles, oscillators (RSI) and widths in points (ATR) in a pane below. The trade
//! chart draws each series' value on each of its one-minute bars; the whole-run daily chart its
//! value at each trading day's last bar.
//!
//! On the page, values are integers of hundredths, each the difference from the series'
//! previous value in the same list (`null` where the series had no value), like the bars.

use crate::backtest::Backtest;
use crate::market::bar::Bar;
use crate::market::format::{count, esc};
use crate::strategy::indicators::record::{Kind, SeriesRecord};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Most series drawn.
pub const MAX_OVERLAYS: usize = 8;

/// Line colours of the drawn series, in order of reads.
pub const COLORS: [&str; MAX_OVERLAYS] = [
    "#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#c2185b", "#558b2f", "#5d4037", "#455a64",
];

/// Hundredths: the precision values are drawn with.
const SCALE: f64 = 100.0;

#[derive(Serialize)]
pub struct OverlayMeta {
    pub name: String,
    pub kind: Kind,
    pub reads: u64,
    pub color: &'static str,
}

/// What the page draws.
#[derive(Serialize, Default)]
pub struct Overlays {
    pub series: Vec<OverlayMeta>,
    /// Per series, its value at each day of the daily chart (the chart's days, in order).
    pub daily: Vec<Vec<Option<i64>>>,
    /// Per segment of the trade chart, per series, its value at each bar of the segment.
    pub segments: Vec<Vec<Vec<Option<i64>>>>,
}

/// Values as hundredths, each the difference from the previous value (`None`: no value).
pub fn encode(values: impl IntoIterator<Item = f32>) -> Vec<Option<i64>> {
    let mut prev: Option<i64> = None;
    values
        .into_iter()
        .map(|v| {
            if !v.is_finite() {
                return None;
            }
            let x = (v as f64 * SCALE).round() as i64;
            let d = x - prev.unwrap_or(0);
            prev = Some(x);
            Some(d)
        })
        .collect()
}

/// The overlays of a run: none when nothing was recorded (a run without `--report`, native
/// strategies, scripts that read no series).
pub fn overlays(
    bt: &Backtest,
    bars: &[Bar],
    ranges: &[(usize, usize)],
    days: &[String],
) -> Overlays {
    let Some(rec) = &bt.series else {
        return Overlays::default();
    };
    let chosen = rec.chosen(MAX_OVERLAYS);
    let series = chosen
        .iter()
        .zip(COLORS)
        .map(|(&k, color)| OverlayMeta {
            name: rec.series[k].name.clone(),
            kind: rec.series[k].kind,
            reads: rec.series[k].total_reads(),
            color,
        })
        .collect();
    // The record's days by date, for the daily chart's days.
    let day_at: HashMap<String, usize> = rec
        .days
        .iter()
        .enumerate()
        .map(|(i, (d, _))| (d.to_string(), i))
        .collect();
    let daily = chosen
        .iter()
        .map(|&k| {
            let v = &rec.series[k].day_values;
            encode(days.iter().map(|d| {
                day_at
                    .get(d)
                    .and_then(|&i| v.get(i).copied())
                    .unwrap_or(f32::NAN)
            }))
        })
        .collect();
    let segments = ranges
        .iter()
        .map(|&(a, b)| {
            // Each bar's row in the record, by its close time.
            let rows: Vec<Option<usize>> = bars[a..=b.min(bars.len().saturating_sub(1))]
                .iter()
                .map(|bar| rec.times.binary_search(&bar.close_time).ok())
                .collect();
            chosen
                .iter()
                .map(|&k| {
                    let v = &rec.series[k].values;
                    encode(
                        rows.iter()
                            .map(|r| r.and_then(|r| v.get(r).copied()).unwrap_or(f32::NAN)),
                    )
                })
                .collect()
        })
        .collect();
    Overlays {
        series,
        daily,
        segments,
    }
}

/// Where a kind is drawn, in words.
fn place(kind: Kind) -> &'static str {
    match kind {
        Kind::Price => "over the price",
        Kind::Oscillator => "pane below (0–100)",
        Kind::Points => "pane below (points, right axis)",
        Kind::Volume => "not drawn: a volume (the charts have no volume pane)",
        Kind::Field => "not drawn: the candles show it",
        Kind::Index => "not drawn: a bar index",
    }
}

/// The legend above the price charts (a checkbox per drawn series) and the list of every series
/// the scripts read, with their reads by profile.
pub fn legend_html(rec: Option<&SeriesRecord>, ov: &Overlays) -> String {
    let mut h = String::new();
    let Some(rec) = rec else {
        h.push_str("<p class=\"note\" id=\"overlay-none\">No indicator overlays: the run's strategies read no series from the host (native strategies, or scripts that read only bars).</p>\n");
        return h;
    };
    if ov.series.is_empty() {
        h.push_str("<p class=\"note\" id=\"overlay-none\">No indicator overlays: the scripts read no series that a price chart can draw.</p>\n");
    } else {
        h.push_str("<div class=\"controls\" id=\"overlay-legend\"><span>Indicators the scripts read (most read first):</span>");
        for (k, s) in ov.series.iter().enumerate() {
            let _ = write!(
                h,
                "<label class=\"ov\" title=\"{reads} reads · {place}\"><input type=\"checkbox\" id=\"ov-{k}\" data-ov=\"{k}\" checked><span class=\"swatch\" style=\"background:{c}\"></span>{name}</label>",
                reads = count(s.reads as usize),
                place = place(s.kind),
                c = s.color,
                name = esc(&s.name),
            );
        }
        h.push_str("</div>\n");
    }
    let shown: Vec<&str> = ov.series.iter().map(|s| s.name.as_str()).collect();
    // A series only ever asked for as another's source (`closes()` under `rsi(14)`) was not read.
    let read: Vec<usize> = (0..rec.series.len())
        .filter(|&k| rec.series[k].total_reads() > 0)
        .collect();
    let _ = write!(
        h,
        "<details id=\"series-read\"><summary>Every series the scripts read ({n}) and how often</summary><table><thead><tr><th class=\"name\">series</th>",
        n = read.len()
    );
    for r in &rec.readers {
        let _ = write!(h, "<th>{}</th>", esc(r));
    }
    h.push_str("<th>reads</th><th class=\"name\">drawn</th></tr></thead><tbody>");
    let mut order = read;
    order.sort_by(|&a, &b| {
        rec.series[b]
            .total_reads()
            .cmp(&rec.series[a].total_reads())
            .then_with(|| rec.series[a].name.cmp(&rec.series[b].name))
    });
    for k in order {
        let s = &rec.series[k];
        let _ = write!(
            h,
            "<tr><td class=\"name\"><code>{}</code></td>",
            esc(&s.name)
        );
        for n in &s.reads {
            let _ = write!(h, "<td>{}</td>", count(*n as usize));
        }
        let drawn = if shown.contains(&s.name.as_str()) {
            place(s.kind).to_string()
        } else if s.kind.drawn() {
            format!("not drawn: only the {MAX_OVERLAYS} most read are")
        } else {
            place(s.kind).to_string()
        };
        let _ = write!(
            h,
            "<td>{}</td><td class=\"name\">{}</td></tr>",
            count(s.total_reads() as usize),
            esc(&drawn)
        );
    }
    h.push_str("</tbody></table>");
    if rec.uncounted > 0 {
        let _ = write!(
            h,
            "<p class=\"note\">{} more reads of series beyond the first {} names were not counted by name.</p>",
            count(rec.uncounted as usize),
            crate::strategy::indicators::record::MAX_NAMES
        );
    }
    h.push_str("</details>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_hundredths_as_differences_with_gaps() {
        // (values, encoded)
        let cases: [(&[f32], &[Option<i64>]); 4] = [
            (&[], &[]),
            (
                &[5000.25, 5000.5, 4999.75],
                &[Some(500_025), Some(25), Some(-75)],
            ),
            (
                &[f32::NAN, 30.0, f32::NAN, 31.5],
                &[None, Some(3000), None, Some(150)],
            ),
            (&[f32::INFINITY, 1.0], &[None, Some(100)]),
        ];
        for (values, want) in cases {
            assert_eq!(encode(values.iter().copied()), want, "{values:?}");
        }
    }
}
