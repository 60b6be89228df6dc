//! report.html in a real browser: headless Chromium loads the page of a synthetic run (and of
//! the real 2021–2022 file when `../shared/data` is present) with no console message, draws the
//! price chart (candlesticks) and the other charts, lists every trade, and a `#trade-N` link
//! shows that trade. A harness page beside the report works it like a user (issue 22): the
//! indicator overlays and their legend toggles, sorting and filtering the trade list, the best
//! and worst trade links, "—" for a month without trades, the Monte Carlo section. Skips with a
//! message when no Chromium is installed (`.ci/run` installs it).

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vrev::market::synth::{generate, SynthOptions};

/// `$VREV_CHROMIUM`, else the first of the usual names on `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VREV_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
    .find(|p| p.is_file())
}

/// What the browser made of a page: the DOM after the scripts ran, and its console messages.
struct Loaded {
    dom: String,
    console: Vec<String>,
}

fn load(browser: &Path, page: &Path, fragment: &str) -> Loaded {
    load_with(browser, page, fragment, &[])
}

fn load_with(browser: &Path, page: &Path, fragment: &str, flags: &[&str]) -> Loaded {
    let profile = tempfile::tempdir().unwrap();
    let url = format!(
        "file://{}{fragment}",
        page.canonicalize().unwrap().display()
    );
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=20000",
            "--window-size=1400,2000",
            "--dump-dom",
        ])
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // Read both pipes while waiting, with a deadline so a hung browser fails the test.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish loading {url} within 180 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let dom = out_reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    Loaded {
        console: stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(String::from)
            .collect(),
        dom,
    }
}

/// The part of the DOM inside the element with `id` (up to the next chart or section).
fn element<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id}"));
    let rest = &dom[at..];
    let end = rest[1..]
        .find("id=\"fig-")
        .map(|e| e + 1)
        .unwrap_or(rest.len());
    &rest[..end]
}

fn check_page(browser: &Path, page: &Path, trades: usize) {
    let loaded = load(browser, page, "");
    assert!(
        loaded.console.is_empty(),
        "console messages while loading {}:\n{}",
        page.display(),
        loaded.console.join("\n")
    );
    let dom = &loaded.dom;
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page script did not finish"
    );
    // The price chart: Plotly drew candlesticks (box traces) with the trade marks.
    for id in ["fig-overview", "fig-detail"] {
        let el = element(dom, id);
        assert!(el.contains("class=\"main-svg\""), "#{id} was not drawn");
        if trades > 0 || id == "fig-overview" {
            assert!(
                el.contains("class=\"trace boxes\""),
                "#{id} has no candlesticks"
            );
        }
    }
    for id in ["fig-equity", "fig-heatmap", "fig-histogram"] {
        assert!(
            element(dom, id).contains("class=\"main-svg\""),
            "#{id} was not drawn"
        );
    }
    // The trade table: one row per trade, the first trade shown on load.
    assert_eq!(dom.matches("<tr data-i=").count(), trades, "trade rows");
    if trades > 0 {
        assert!(
            dom.contains(&format!("Trade 1 of {trades}:")),
            "first trade not shown"
        );
        assert!(dom.contains("class=\"sel\""), "no selected row");
        // A link to a trade shows that trade.
        let n = trades.min(3);
        let linked = load(browser, page, &format!("#trade-{n}"));
        assert!(linked.console.is_empty(), "{}", linked.console.join("\n"));
        assert!(
            linked.dom.contains(&format!("Trade {n} of {trades}:")),
            "#trade-{n} did not show trade {n}"
        );
        let at = linked
            .dom
            .find(&format!("<tr data-i=\"{}\"", n - 1))
            .unwrap();
        let row_tag = &linked.dom[at..at + linked.dom[at..].find('>').unwrap()];
        assert!(
            row_tag.contains("class=\"sel\""),
            "row {n} not selected: {row_tag}"
        );
    }
}

#[test]
fn the_report_loads_in_chromium_without_console_errors_and_shows_the_trades_on_price_needs_chromium(
) {
    let Some(browser) = chromium() else {
        skip("no chromium on PATH (apt-get install -y chromium, or set VREV_CHROMIUM)");
        return;
    };
    let p = Project::new();
    let bars = generate(&SynthOptions {
        days: 10,
        volatility_ticks: 3,
        ..Default::default()
    });
    write_nt(&p.path("bars.txt"), &bars);
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--profile",
        "bidirectional",
        "--report",
        "r",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let trades = std::fs::read_to_string(p.path("r/trades.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert!(trades > 5, "the synthetic run must trade");
    check_page(&browser, &p.path("r/report.html"), trades);

    // A run without a single trade still loads cleanly.
    let out = p.vrev(&["backtest", "bars.txt", "--sell-only", "--report", "empty"]);
    assert!(out.status.success(), "{}", stderr(&out));
    check_page(&browser, &p.path("empty/report.html"), 0);
}

#[test]
fn the_report_of_the_real_two_year_file_loads_in_chromium_needs_real_data_and_chromium() {
    let Some(data) = real_data() else {
        skip("../shared/data/es-1m-2021-2022.nt.txt.gz is not present");
        return;
    };
    let Some(browser) = chromium() else {
        skip("no chromium on PATH (apt-get install -y chromium, or set VREV_CHROMIUM)");
        return;
    };
    let p = Project::new();
    let out = p.vrev(&["backtest", data.to_str().unwrap(), "--report", "r"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = p.path("r/report.html");
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 20 << 20, "report.html is {size} bytes (limit 20 MB)");
    let trades = std::fs::read_to_string(p.path("r/trades.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    check_page(&browser, &page, trades);

    // vwap_reversion reads VWAP, RSI and ATR: drawn, and the page stays under 20 MB.
    let out = p.vrev(&[
        "backtest",
        data.to_str().unwrap(),
        "--profile",
        "vwap_reversion",
        "--report",
        "v",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = p.path("v/report.html");
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 20 << 20, "report.html is {size} bytes (limit 20 MB)");
    let r = work_the_page(&browser, &p.path("v"));
    assert_eq!(
        r["legend"],
        serde_json::json!(["atr(14)", "rsi(14)", "vwap()"]),
        "{r}"
    );
    for t in r["overview"].as_array().unwrap() {
        assert!(t["values"].as_u64().unwrap() > 500, "a value a day: {t}");
    }
}

/// The harness: loads `report.html` in a frame, waits for it, then works it like a user and
/// writes what it saw as JSON into `#out`.
const HARNESS: &str = r##"<!doctype html><html><head><meta charset="utf-8"></head><body>
<pre id="out">pending</pre>
<iframe id="f" src="report.html" style="width:1400px;height:2400px"></iframe>
<script>
"use strict";
var f = document.getElementById("f"), out = document.getElementById("out"), r = {};
var wait = function (ms) { return new Promise(function (ok) { setTimeout(ok, ms); }); };
function ready() {
  var d = f.contentDocument;
  if (d && d.body && d.body.getAttribute("data-ready") === "1") return Promise.resolve(d);
  return wait(100).then(ready);
}
function overlays(gd, names) {
  return gd.data.filter(function (t) { return names.indexOf(t.name) >= 0; }).map(function (t) {
    return { name: t.name, visible: t.visible !== false, axis: t.yaxis || "y",
             values: (t.y || []).filter(function (v) { return v !== null && v !== undefined; }).length };
  });
}
var lines = function (gd) { return gd.querySelectorAll(".scatterlayer .trace").length; };
function rows(d) {
  return Array.prototype.map.call(d.querySelectorAll("#trades tbody tr"), function (tr) {
    return { i: +tr.getAttribute("data-i"), side: tr.cells[2].textContent,
             pnl: +tr.cells[14].getAttribute("data-v"), hidden: tr.classList.contains("hidden") };
  });
}
ready().then(function (d) {
  var w = f.contentWindow, ov = d.getElementById("fig-overview"), de = d.getElementById("fig-detail");
  r.legend = Array.prototype.map.call(d.querySelectorAll("#overlay-legend label.ov"), function (l) { return l.textContent; });
  r.detail = overlays(de, r.legend);
  r.overview = overlays(ov, r.legend);
  r.lines = [lines(ov), lines(de)];
  d.getElementById("ov-0").click();
  return wait(1500).then(function () {
    r.detail_off = overlays(de, r.legend);
    r.overview_off = overlays(ov, r.legend);
    r.lines_off = [lines(ov), lines(de)];
    r.legend_off = d.querySelector("#overlay-legend label.ov").className;
    var pnl = d.querySelector("#trades th[data-col='14']");
    pnl.click();
    r.sorted_up = rows(d).map(function (x) { return x.pnl; });
    pnl.click();
    r.sorted_down = rows(d).map(function (x) { return x.pnl; });
    var side = d.querySelector("#trades select[data-filter='2']");
    side.value = "BUY";
    side.dispatchEvent(new Event("change"));
    r.side_buy = rows(d);
    r.shown = d.getElementById("trades-shown").textContent;
    side.value = "";
    side.dispatchEvent(new Event("change"));
    var p = d.querySelector("#trades input[data-filter='14']");
    p.value = ">0";
    p.dispatchEvent(new Event("input"));
    r.pnl_positive = rows(d);
    p.value = "";
    p.dispatchEvent(new Event("input"));
    r.links = Array.prototype.map.call(d.querySelectorAll("a.trade-link"), function (a) {
      var tr = a.closest("tr"), td = a.closest("td");
      return { row: tr.cells[0].textContent, col: Array.prototype.indexOf.call(tr.cells, td), href: a.getAttribute("href") };
    });
    r.months = Array.prototype.map.call(d.querySelectorAll("#fig-heatmap .annotation-text"), function (t) { return t.textContent; });
    var mc = d.getElementById("monte-carlo-table");
    r.monte_carlo = mc ? mc.textContent : null;
    var best = r.links.filter(function (l) { return l.row === "all" && l.col === 2; })[0];
    w.location.hash = best ? best.href : "";
    return wait(1500);
  }).then(function () {
    r.label = d.getElementById("detail-label").textContent;
    out.textContent = JSON.stringify(r);
  });
}).catch(function (e) { out.textContent = "error: " + (e && e.stack || e); });
</script></body></html>
"##;

/// What the harness saw on `dir/report.html`.
fn work_the_page(browser: &Path, dir: &Path) -> serde_json::Value {
    let harness = dir.join("harness.html");
    std::fs::write(&harness, HARNESS).unwrap();
    let loaded = load_with(browser, &harness, "", &["--allow-file-access-from-files"]);
    let at = loaded
        .dom
        .find("<pre id=\"out\">")
        .expect("the harness's output")
        + 14;
    let text = &loaded.dom[at..at + loaded.dom[at..].find("</pre>").unwrap()];
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("harness: {e}: {text}"))
}

/// A script that reads ten series, each a different number of times a call (a volume average
/// most), and trades every 45th bar up to bar `last_trade`.
fn probe_script(last_trade: usize) -> String {
    format!(
        r#"fn params() {{ #{{ drop_threshold: 4.0, rise_threshold: 4.0 }} }}
fn on_bar(t, p) {{
    if t < 30 {{ return; }}
    let v = 0.0;
    for k in 0..20 {{ v += sma(volumes(), 20)[t]; }}
    for k in 0..10 {{ v += ema(9)[t]; }}
    for k in 0..9 {{ v += vwap()[t]; }}
    for k in 0..8 {{ v += rsi(14)[t]; }}
    for k in 0..7 {{ v += atr(14)[t]; }}
    for k in 0..6 {{ v += sma(20)[t]; }}
    for k in 0..5 {{ v += session_high()[t]; }}
    for k in 0..4 {{ v += highest(30)[t]; }}
    for k in 0..3 {{ v += ema(rsi(14), 5)[t]; }}
    for k in 0..2 {{ v += prev_day_close()[t]; }}
    if t > {last_trade} || t % 45 != 0 {{ return; }}
    if (t / 45) % 2 == 0 {{
        return #{{ side: "BUY", entry: close(t), anchor_a: low(t) - 1.0, anchor_b: high(t), confidence: 0.9, pattern: "probe" }};
    }}
    #{{ side: "SELL", entry: close(t), anchor_a: high(t) + 1.0, anchor_b: low(t), confidence: 0.9, pattern: "probe" }}
}}
"#
    )
}

#[test]
fn the_report_draws_the_series_the_script_read_and_its_trade_list_sorts_and_filters_needs_chromium()
{
    let Some(browser) = chromium() else {
        skip("no chromium on PATH (apt-get install -y chromium, or set VREV_CHROMIUM)");
        return;
    };
    let p = Project::new();
    // Ten days of February that trade, then five days of March that do not.
    let feb = generate(&SynthOptions {
        days: 10,
        volatility_ticks: 3,
        ..Default::default()
    });
    let mar = generate(&SynthOptions {
        days: 5,
        volatility_ticks: 3,
        start: date("2025-03-17"),
        ..Default::default()
    });
    write_nt(&p.path("bars.txt"), &[feb.clone(), mar].concat());
    p.write("strategies/probe.rhai", &probe_script(feb.len() - 100));
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--profile",
        "bidirectional",
        "--set",
        "profile.bidirectional.strategy=strategies/probe.rhai",
        "--monte-carlo",
        "200",
        "--report",
        "r",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let trades = std::fs::read_to_string(p.path("r/trades.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert!(trades > 20, "the probe must trade: {trades} trades");
    check_page(&browser, &p.path("r/report.html"), trades);
    let r = work_the_page(&browser, &p.path("r"));
    let names = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };

    // The 8 most read series the charts can draw, most read first: not the volume average (a
    // volume) nor prev_day_close() (the ninth).
    let drawn = [
        "ema(9)",
        "vwap()",
        "rsi(14)",
        "atr(14)",
        "sma(20)",
        "session_high()",
        "highest(30)",
        "ema(rsi(14), 5)",
    ];
    assert_eq!(names(&r["legend"]), drawn, "{r}");
    for chart in ["detail", "overview"] {
        let traces = r[chart].as_array().unwrap();
        assert_eq!(traces.len(), 8, "{chart}: {r}");
        for t in traces {
            let name = t["name"].as_str().unwrap();
            let axis = match name {
                "rsi(14)" | "ema(rsi(14), 5)" => "y2",
                "atr(14)" => "y3",
                _ => "y",
            };
            assert_eq!(t["axis"], axis, "{chart} {name}");
            assert_eq!(t["visible"], true, "{chart} {name}");
            assert!(
                t["values"].as_u64().unwrap() > 0,
                "{chart}: {name} has no values"
            );
        }
    }
    // Ticking the first one off hides it on both charts, and only it.
    for chart in ["detail_off", "overview_off"] {
        let visible: Vec<bool> = r[chart]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["visible"].as_bool().unwrap())
            .collect();
        assert_eq!(
            visible,
            [false, true, true, true, true, true, true, true],
            "{chart}"
        );
    }
    let lines = |k: &str| -> Vec<u64> {
        r[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect()
    };
    let (on, off) = (lines("lines"), lines("lines_off"));
    assert!(
        off[0] + 1 == on[0] && off[1] + 1 == on[1],
        "one line fewer drawn on each chart: {on:?} -> {off:?}"
    );
    assert!(r["legend_off"].as_str().unwrap().contains("off"));

    // Sorting by net P&L, then the other way.
    let pnls = |k: &str| -> Vec<f64> {
        r[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let up = pnls("sorted_up");
    assert_eq!(up.len(), trades);
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "not ascending: {up:?}");
    let down = pnls("sorted_down");
    assert!(
        down.windows(2).all(|w| w[0] >= w[1]),
        "not descending: {down:?}"
    );
    // Filtering by side, and by P&L > 0.
    let rows = |k: &str| r[k].as_array().unwrap().clone();
    let buy = rows("side_buy");
    let shown_buy = buy.iter().filter(|t| t["hidden"] == false).count();
    assert!(
        shown_buy > 0 && shown_buy < trades,
        "{shown_buy} of {trades}"
    );
    assert!(buy
        .iter()
        .all(|t| (t["hidden"] == false) == (t["side"] == "BUY")));
    assert_eq!(
        r["shown"],
        format!("Showing {shown_buy} of {trades} trades."),
        "the count under the table"
    );
    let winners = rows("pnl_positive");
    assert!(winners
        .iter()
        .all(|t| (t["hidden"] == false) == (t["pnl"].as_f64().unwrap() > 0.0)));

    // Largest win and loss of "all" link to the best and worst trade; the link shows it.
    let by_index: Vec<(usize, f64)> = rows("pnl_positive")
        .iter()
        .map(|t| {
            (
                t["i"].as_u64().unwrap() as usize,
                t["pnl"].as_f64().unwrap(),
            )
        })
        .collect();
    // The first in exit order on a tie.
    let pick = |better: fn(f64, f64) -> bool| {
        by_index
            .iter()
            .copied()
            .reduce(|a, b| {
                if better(b.1, a.1) || (b.1 == a.1 && b.0 < a.0) {
                    b
                } else {
                    a
                }
            })
            .unwrap()
    };
    let (best_n, worst_n) = (pick(|x, y| x > y).0 + 1, pick(|x, y| x < y).0 + 1);
    let link = |col: u64| -> String {
        r["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["row"] == "all" && l["col"] == col)
            .unwrap_or_else(|| panic!("no link in column {col} of row all: {r}"))["href"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(link(2), format!("#trade-{best_n}"));
    assert_eq!(link(3), format!("#trade-{worst_n}"));
    assert!(
        r["label"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Trade {best_n} of {trades}:")),
        "{}",
        r["label"]
    );

    // February traded, March did not: "—", not "$0".
    let months = names(&r["months"]);
    assert_eq!(months.len(), 2, "{months:?}");
    assert!(
        months[0].starts_with('$') || months[0].starts_with("-$"),
        "{months:?}"
    );
    assert_eq!(months[1], "—");

    // The Monte Carlo section, with the terminal's figures.
    let mc = r["monte_carlo"].as_str().expect("a Monte Carlo section");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("r/monte_carlo.json")).unwrap())
            .unwrap();
    let median = vrev::market::format::money(json["final_pnl"]["p50"].as_f64().unwrap());
    assert!(mc.contains("final P&L") && mc.contains(&median), "{mc}");

    // Without --monte-carlo, no section; a native strategy reads no series: no legend.
    let out = p.vrev(&[
        "backtest",
        "bars.txt",
        "--set",
        "profile.production.strategy=builtin:vreversal",
        "--report",
        "plain",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = std::fs::read_to_string(p.path("plain/report.html")).unwrap();
    assert!(!html.contains("id=\"monte-carlo\""));
    assert!(html.contains("id=\"overlay-none\"") && !html.contains("id=\"overlay-legend\""));
}
