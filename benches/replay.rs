//! Replay speed: every shipped strategy's script vs its native twin, same bars, same engine,
//! same run. End to end: reading and gunzipping the file, parsing, the engine (clock, windows,
//! book, rules, indicators) and the strategy, run in all three default windows (`--profile`).
//! Signals are kept in memory (no files written), so disk speed does not blur the comparison.
//! Each side runs several times, alternating; the best run counts.
//!
//!     cargo bench --bench replay                 # the real 2021–2022 ES file in ../shared/data
//!     VREV_BENCH_FILE=bars.txt cargo bench --bench replay
//!     VREV_BENCH_ROUNDS=5 cargo bench --bench replay

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vrev::config::Config;
use vrev::host::engine::{Engine, EngineOptions};
use vrev::market::barfile::{read_file, ReadOptions};

/// (profile, its native twin, the largest script/twin time ratio allowed)
const STRATEGIES: [(&str, &str, f64); 5] = [
    ("production", "builtin:vreversal", 2.0),
    ("bidirectional", "builtin:bidirectional", 2.0),
    ("orb", "builtin:orb", 3.0),
    ("vwap_reversion", "builtin:vwap_reversion", 3.0),
    ("ema_pullback", "builtin:ema_pullback", 3.0),
];

/// Every script must replay at least this many bars per second end to end.
const MIN_BARS_PER_SECOND: f64 = 500_000.0;

fn run(cfg: &Config, profile: &str, file: &Path) -> (Duration, usize, u64) {
    let start = Instant::now();
    let bars = read_file(file, &ReadOptions::default())
        .expect("bar file")
        .bars;
    let opts = EngineOptions {
        forced_profile: Some(profile.into()),
        ..EngineOptions::default()
    };
    let mut engine = Engine::new(cfg, opts).expect("engine");
    for b in &bars {
        engine.on_bar(b);
    }
    engine.finish(true);
    assert_eq!(engine.stats.script_errors, 0, "{profile}: script errors");
    (start.elapsed(), bars.len(), engine.stats.signals)
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
    let rounds = std::env::var("VREV_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    println!(
        "replay bench: {}, best of {rounds}, each strategy in all three default windows",
        file.display()
    );
    println!(
        "  {:<16} {:>8} {:>13} {:>13} {:>7}  target",
        "strategy", "signals", "script bars/s", "twin bars/s", "ratio"
    );
    let mut failed = Vec::new();
    for (profile, twin, max_ratio) in STRATEGIES {
        let mut native = scripted.clone();
        native
            .apply_overrides(&[format!("profile.{profile}.strategy={twin}")])
            .expect("override");
        let (mut best_s, mut best_n) = (Duration::MAX, Duration::MAX);
        let (mut bars, mut signals) = (0, 0);
        for _ in 0..rounds {
            let (ts, n, sig_s) = run(&scripted, profile, &file);
            let (tn, _, sig_n) = run(&native, profile, &file);
            assert_eq!(
                sig_s, sig_n,
                "{profile}: script and twin must admit the same signals"
            );
            best_s = best_s.min(ts);
            best_n = best_n.min(tn);
            (bars, signals) = (n, sig_s);
        }
        let rate = |d: Duration| bars as f64 / d.as_secs_f64();
        let ratio = best_s.as_secs_f64() / best_n.as_secs_f64();
        let ok = ratio <= max_ratio && rate(best_s) >= MIN_BARS_PER_SECOND;
        println!(
            "  {:<16} {:>8} {:>13.0} {:>13.0} {:>6.2}x  <= {max_ratio}x and >= 500k bars/s: {}",
            profile,
            signals,
            rate(best_s),
            rate(best_n),
            ratio,
            if ok { "met" } else { "MISSED" }
        );
        if !ok {
            failed.push(profile);
        }
    }
    if !failed.is_empty() {
        println!("  targets missed: {}", failed.join(", "));
    }
}
