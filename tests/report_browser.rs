//! report.html in a real browser: headless Chromium loads the page of a synthetic run (and of
//! the real 2021–2022 file when `../shared/data` is present) with no console message, draws the
//! price chart (candlesticks) and the other charts, lists every trade, and a `#trade-N` link
//! shows that trade. Skips with a message when no Chromium is installed (`.ci/run` installs it).

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vrev::market::synth::{generate, write_ninjatrader, SynthOptions};

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
    let mut text = Vec::new();
    write_ninjatrader(&bars, &mut text).unwrap();
    std::fs::write(p.path("bars.txt"), text).unwrap();
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
}
