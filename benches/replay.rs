//! Replay speed: the production script vs the native reference, same bars, same engine, same
//! run. End to end: reading and gunzipping the file, parsing, the engine (clock, windows, book,
//! rules) and the strategy. Signals are kept in memory (no files written), so disk speed does
//! not blur the comparison. Each side runs several times, alternating; the best run counts.
//!
//!     cargo bench --bench replay                 # the real 2021–2022 ES file in ../shared/data
//!     VREV_BENCH_FILE=bars.txt cargo bench --bench replay

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vrev::barfile::{read_file, ReadOptions};
use vrev::config::Config;
use vrev::engine::{Engine, EngineOptions};

fn run(cfg: &Config, file: &Path) -> (Duration, usize, u64, u64) {
    let start = Instant::now();
    let bars = read_file(file, &ReadOptions::default())
        .expect("bar file")
        .bars;
    let mut engine = Engine::new(cfg, EngineOptions::default()).expect("engine");
    for b in &bars {
        engine.on_bar(b);
    }
    engine.finish(true);
    (
        start.elapsed(),
        bars.len(),
        engine.stats.signals,
        engine.stats.strategy_calls,
    )
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = std::env::var_os("VREV_BENCH_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/data/es-1m-2021-2022.nt.txt.gz"));
    if !file.exists() {
        println!(
            "replay bench skipped: {} not found (set VREV_BENCH_FILE)",
            file.display()
        );
        return;
    }
    let scripted = Config::load(&root.join("config.toml")).expect("config.toml");
    let mut native = scripted.clone();
    native
        .apply_overrides(&["profile.production.strategy=builtin:vreversal".into()])
        .expect("override");

    let rounds = std::env::var("VREV_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let (mut best_s, mut best_n) = (Duration::MAX, Duration::MAX);
    let mut check = None;
    for _ in 0..rounds {
        let (ts, bars, sig_s, calls) = run(&scripted, &file);
        let (tn, _, sig_n, _) = run(&native, &file);
        assert_eq!(
            sig_s, sig_n,
            "script and reference must admit the same signals"
        );
        best_s = best_s.min(ts);
        best_n = best_n.min(tn);
        check = Some((bars, sig_s, calls));
    }
    let (bars, signals, calls) = check.expect("at least one round");
    let rate = |d: Duration| bars as f64 / d.as_secs_f64();
    println!("replay bench: {} ({bars} bars, {calls} eligible bars evaluated, {signals} signals admitted), best of {rounds}", file.display());
    println!(
        "  native reference   {:>8.3} s  {:>10.0} bars/s",
        best_n.as_secs_f64(),
        rate(best_n)
    );
    println!(
        "  production script  {:>8.3} s  {:>10.0} bars/s",
        best_s.as_secs_f64(),
        rate(best_s)
    );
    println!(
        "  script / native time ratio: {:.2}x  (target: <= 2.0x, and >= 500,000 bars/s)",
        best_s.as_secs_f64() / best_n.as_secs_f64()
    );
}
