//! Hot-reload speed, in one process: the engine takes synthetic bars every millisecond while
//! another thread saves a new version of `strategies/vreversal.rhai` 40 times, 150–250 ms apart.
//! Prints save-to-live latency (file written → first bar evaluated by the new version, debounce
//! included; target p99 ≤ 250 ms) and how long taking a reload held up the bar loop (compile,
//! bind, trial on the latest bars; target ≤ 5 ms).
//!
//!     cargo bench --bench reload

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vrev::config::Config;
use vrev::host::engine::{Engine, EngineOptions};
use vrev::host::reload::Reloader;

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(root.join("config.toml"), dir.path().join("config.toml")).expect("config");
    std::fs::create_dir_all(dir.path().join("strategies")).expect("dir");
    for f in ["vreversal.rhai", "bidirectional.rhai"] {
        std::fs::copy(
            root.join("strategies").join(f),
            dir.path().join("strategies").join(f),
        )
        .expect("script");
    }
    let config_path = dir.path().join("config.toml");
    let cfg = Config::load(&config_path).expect("config");
    let mut engine = Engine::new(&cfg, EngineOptions::default()).expect("engine");
    let mut reloader = Reloader::watch(&config_path, &cfg, vec![], None).expect("watch");
    let bars = vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        days: 12,
        ..Default::default()
    });

    let saves: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let script = dir.path().join("strategies/vreversal.rhai");
    let original = std::fs::read_to_string(&script).expect("script");
    let writer = {
        let saves = saves.clone();
        let script = script.clone();
        std::thread::spawn(move || {
            let mut rng = vrev::market::synth::Rng::new(7);
            std::thread::sleep(Duration::from_millis(300));
            for n in 0..40 {
                let text = format!("{original}\n// save {n}\n");
                let h = vrev::strategy::content_hash(text.as_bytes());
                let at = Instant::now();
                std::fs::write(&script, &text).expect("save");
                saves.lock().expect("lock").insert(h, at);
                std::thread::sleep(Duration::from_millis(150 + rng.range(0, 100) as u64));
            }
        })
    };

    let mut latencies_ms = Vec::new();
    let mut hold_ms = Vec::new();
    let mut waiting: Option<String> = None;
    let start = Instant::now();
    for (n, bar) in bars.iter().enumerate() {
        if writer.is_finished() && waiting.is_none() && n > 0 && latencies_ms.len() >= 40 {
            break;
        }
        if let Some(wait) =
            (start + Duration::from_millis(n as u64)).checked_duration_since(Instant::now())
        {
            std::thread::sleep(wait);
        }
        let t = Instant::now();
        if reloader.apply(&mut engine) > 0 {
            hold_ms.push(t.elapsed().as_secs_f64() * 1e3);
            let version = engine.window_profiles()[0].2.clone();
            waiting = version.split('@').nth(1).map(String::from);
        }
        engine.on_bar(bar);
        if let Some(h) = waiting.take() {
            // This bar was the first one evaluated by the new version.
            if let Some(saved) = saves.lock().expect("lock").get(&h) {
                latencies_ms.push(saved.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    writer.join().expect("writer");
    println!("reload bench: {} saves of strategies/vreversal.rhai under a 1 bar/ms loop (debounce {} ms)", latencies_ms.len(), vrev::host::reload::DEBOUNCE.as_millis());
    let n = latencies_ms.len();
    if n == 0 {
        println!("  no reload observed");
        return;
    }
    println!(
        "  save -> live: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms  (target p99 <= 250 ms)",
        pct(&mut latencies_ms, 0.5),
        pct(&mut latencies_ms, 0.99),
        pct(&mut latencies_ms, 1.0)
    );
    println!(
        "  bar loop held by a reload: p50 {:.2} ms, max {:.2} ms  (target <= 5 ms)",
        pct(&mut hold_ms, 0.5),
        pct(&mut hold_ms, 1.0)
    );
}
