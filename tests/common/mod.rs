//! Shared helpers for the integration tests: bar builders in ET wall time, temp project dirs,
//! and running the real `vrev` binary.
#![allow(dead_code)]

use chrono::{NaiveDate, NaiveDateTime};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use vrev::market::bar::Bar;
use vrev::market::time::MarketClock;

pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// UTC seconds of an ET wall time `YYYY-MM-DD HH:MM`.
pub fn et(s: &str) -> i64 {
    let n = NaiveDateTime::parse_from_str(&format!("{s}:00"), "%Y-%m-%d %H:%M:%S").unwrap();
    MarketClock::exchange().local_to_utc(n, None).unwrap()
}

pub fn bar(close_time: i64, o: f64, h: f64, l: f64, c: f64, v: f64) -> Bar {
    Bar {
        close_time,
        open: o,
        high: h,
        low: l,
        close: c,
        volume: v,
    }
}

/// A textbook long V whose retest (signal) bar closes at `retest_close` (UTC seconds): origin
/// high `h`, low `h - drop` four bars later, breakout to `h + 1.5`, retest low `h + 0.25`,
/// close `h + 1.0`. Preceded by `lead_in` quiet bars under the V's low (they can never be
/// origins: nothing after them drops below them). The decline and recovery are shaped so that no
/// other bar of the V is the origin of a second, valid V. 12 bars, one minute apart.
pub fn long_v(retest_close: i64, h: f64, drop: f64, lead_in: usize) -> Vec<Bar> {
    let n = 12 + lead_in as i64;
    let t0 = retest_close - 60 * (n - 1);
    let quiet = h - drop - 2.0;
    let mut bars: Vec<Bar> = (0..lead_in as i64)
        .map(|k| bar(t0 + 60 * k, quiet, quiet + 0.25, quiet, quiet + 0.25, 100.0))
        .collect();
    let q = |x: f64| (x * 4.0).round() / 4.0;
    let low = h - drop;
    let (d2, d3) = (q(h - drop / 2.0), q(h - 0.75 * drop));
    let shape = [
        (h - 0.5, h, h - 0.75, h - 0.5),    // origin: high h
        (h - 0.5, h - 0.25, d2, d2 + 0.25), // fast decline
        (d2 + 0.25, d2 + 0.25, d3, d3 + 0.25),
        (d3 + 0.25, d3 + 0.25, low + 0.25, low + 0.5),
        (low + 0.5, low + 0.75, low, low + 0.5),    // the low
        (low + 0.5, h - 3.5, low + 0.25, h - 3.75), // recovery, highs under h
        (h - 3.75, h - 2.0, h - 3.75, h - 2.25),
        (h - 2.25, h - 0.5, h - 2.25, h - 0.75),
        (h - 0.75, h + 1.5, h - 1.5, h + 1.25), // breakout (high volume)
        (h + 1.25, h + 2.5, h + 1.25, h + 2.25), // holds above the tolerance: no retest yet
        (h + 2.25, h + 2.75, h + 1.5, h + 1.75),
        (h + 1.75, h + 2.0, h + 0.25, h + 1.0), // retest → signal bar
    ];
    for (k, (o, hi, lo, c)) in shape.iter().enumerate() {
        let t = t0 + 60 * (lead_in as i64 + k as i64);
        bars.push(bar(t, *o, *hi, *lo, *c, if k == 8 { 900.0 } else { 500.0 }));
    }
    bars
}

/// Writes bars as a NinjaTrader export (ET close stamps).
pub fn write_nt(path: &Path, bars: &[Bar]) {
    let mut out = Vec::new();
    vrev::market::synth::write_ninjatrader(bars, &mut out).unwrap();
    std::fs::write(path, out).unwrap();
}

/// The signals folder's lock file (one engine per signals folder): not a signal.
pub const SIGNALS_LOCK: &str = ".vrev-lock";

/// A temp project: the repo's config.toml and strategies/, plus any files the test writes.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::copy(root.join("config.toml"), dir.path().join("config.toml")).unwrap();
        std::fs::create_dir_all(dir.path().join("strategies")).unwrap();
        for e in std::fs::read_dir(root.join("strategies")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.path().join("strategies").join(e.file_name())).unwrap();
        }
        Project { dir }
    }
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    /// Runs the real binary in the project folder.
    pub fn vrev(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_vrev"))
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }
    /// The files in `signals/`, but for the folder's lock (`.vrev-lock`, not a signal).
    pub fn signal_files(&self) -> Vec<String> {
        let mut v: Vec<String> = match std::fs::read_dir(self.path("signals")) {
            Ok(d) => d
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n != SIGNALS_LOCK)
                .collect(),
            Err(_) => vec![],
        };
        v.sort();
        v
    }
    pub fn journal(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.path("state/journal.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Path of the real 2021–2022 data if `../shared` is beside the repo.
pub fn real_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/es-1m-2021-2022.nt.txt.gz");
    p.exists().then_some(p)
}

/// Reports a test that cannot run here: `SKIPPED <test>: <why>` on the process's stderr, which
/// `cargo test` does not capture (an `eprintln!` would be hidden behind `ok`). Tests that may
/// skip say what they need in their name (`needs_real_data`, `needs_chromium`,
/// `needs_mount_rights`), so the `ok` line itself tells the reader.
pub fn skip(why: &str) {
    use std::io::Write;
    let name = std::thread::current().name().unwrap_or("test").to_string();
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("SKIPPED {name}: {why}\n").as_bytes());
}

/// vrev's own publisher (`vrev serve`'s code) serving `bars` with `opts` on a thread of its
/// own, on a free loopback port; returns its `ws://` URL.
pub fn serve_on_thread(
    bars: std::sync::Arc<Vec<Bar>>,
    opts: vrev::feed::server::ServeOptions,
) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            vrev::feed::server::serve(listener, bars, opts).await
        });
    });
    url
}
