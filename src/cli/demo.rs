//! `vrev demo`: the whole live path on one machine, with no data and no NinjaTrader.
//!
//! A synthetic trading day with a V-reversal in every default window (deterministic seed) is
//! served by the in-process publisher ([`crate::feed::server`], vrev protocol, as fast as the client
//! reads) over a real loopback WebSocket; the client ([`crate::feed::client`]) drives the engine with
//! the config's windows and profiles; signal files, journal and ledger go into the demo folder.
//! The bars before the first window (minus an hour) are the history batch; the rest are live.
//!
//! The day is a past date, so, as with NinjaTrader Playback, signals are not checked against the
//! wall clock (the history batch holds no window bar, so it could not emit anyway).

use crate::cli::args::DemoArgs;
use crate::config::Config;
use crate::feed::client::Client;
use crate::feed::run::EngineSink;
use crate::feed::server::{serve, ServeOptions};
use crate::feed::{client_options, runtime, shutdown_signal};
use crate::host::engine::{Engine, EngineOptions, Outputs};
use crate::market::synth::{generate, write_ninjatrader, SynthOptions};
use crate::market::time::MarketClock;
use anyhow::{anyhow, Context as _, Result};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The file that says a folder is the demo's own: `vrev demo` clears files only in a folder that
/// holds it, and only files it makes itself.
pub const MARKER: &str = ".vrev-demo";

/// Makes `dir` ready for a demo run. A missing or empty folder gets the marker. A folder with the
/// marker has the demo's own files of the last run deleted (`bars.txt`, signal files with a
/// profile's prefix, the ledger, journal and lock in `state/`), nothing else. Any other non-empty
/// folder is refused, naming what is there.
fn prepare_dir(dir: &Path, prefixes: &[String]) -> Result<()> {
    use crate::market::safe_write::{is_own_temp_name, refuse_special};
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let marker = dir.join(MARKER);
    let entries: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    refuse_special(&marker)?;
    if !marker.exists() {
        if let Some(first) = entries.first() {
            return Err(anyhow!(
                "{}: holds {first} ({} entr{} in all) and is not a folder `vrev demo` made (no {MARKER}); the demo clears its folder before it runs, so choose an empty or new folder with --dir",
                dir.display(),
                entries.len(),
                if entries.len() == 1 { "y" } else { "ies" }
            ));
        }
        crate::market::safe_write::write_file(
            dir,
            MARKER,
            b"made by `vrev demo`: it deletes only its own files here\n",
            false,
        )?;
        return Ok(());
    }
    let remove = |p: &Path| -> Result<()> {
        // `symlink_metadata`: a link is removed as a link, never followed.
        if std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()) {
            std::fs::remove_file(p).with_context(|| format!("{}: cannot clear", p.display()))?;
        }
        Ok(())
    };
    remove(&dir.join("bars.txt"))?;
    let signals = dir.join("signals");
    if std::fs::symlink_metadata(&signals).is_ok_and(|m| m.is_dir()) {
        for e in std::fs::read_dir(&signals)?.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().to_string();
            let own = prefixes.iter().any(|p| {
                (name.starts_with(p.as_str()) && name.ends_with(".txt"))
                    || is_own_temp_name(&name, p)
            });
            if own {
                remove(&e.path())?;
            }
        }
    }
    let state = dir.join("state");
    if std::fs::symlink_metadata(&state).is_ok_and(|m| m.is_dir()) {
        for e in std::fs::read_dir(&state)?.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().to_string();
            let own = ["ledger.txt", "journal.jsonl", "lock"].contains(&name.as_str())
                || (name.starts_with("ledger-") && name.ends_with(".txt"));
            if own {
                remove(&e.path())?;
            }
        }
    }
    Ok(())
}

pub fn run(a: DemoArgs) -> Result<()> {
    let started = Instant::now();
    let mut cfg = Config::load(&a.config).map_err(|e| {
        anyhow!(
            "{e}\n(the demo runs config.toml and strategies/ of this folder: start it in the repository or in a folder `vrev init` wrote, or pass --config)"
        )
    })?;
    let dir = if a.dir.is_absolute() {
        a.dir.clone()
    } else {
        std::env::current_dir()?.join(&a.dir)
    };
    let prefixes: Vec<String> = cfg
        .profile
        .values()
        .map(|p| p.signal_prefix.clone())
        .collect();
    prepare_dir(&dir, &prefixes)?;
    cfg.engine.signals_dir = dir.join("signals");
    cfg.engine.state_dir = dir.join("state");
    cfg.engine.journal = dir.join("state").join("journal.jsonl");

    let synth = SynthOptions {
        seed: a.seed,
        days: 1,
        ..SynthOptions::default()
    };
    let bars = generate(&synth);
    let bars_file = dir.join("bars.txt");
    {
        let mut text = Vec::new();
        write_ninjatrader(&bars, &mut text)
            .and_then(|_| {
                crate::market::safe_write::write_file(&dir, "bars.txt", &text, false).map(|_| ())
            })
            .with_context(|| format!("{}: cannot write", bars_file.display()))?;
    }
    let clock = MarketClock::exchange();
    let windows = cfg.windows();
    let first_window = bars
        .iter()
        .position(|b| {
            let s = clock.stamp(b.close_time);
            windows.iter().any(|(_, w, _)| w.contains(&s))
        })
        .unwrap_or(bars.len());
    let history = first_window.saturating_sub(60);
    let last_close = bars.last().map(|b| b.close_time).unwrap_or(0);

    let opts = EngineOptions {
        outputs: Outputs::Files,
        mode: "demo".into(),
        wall_clock: false,
        ..EngineOptions::default()
    };
    let engine = Engine::new(&cfg, opts).map_err(|e| anyhow!("{e}"))?;
    let journal = cfg.engine.journal.clone();
    let mut sink = EngineSink::new(engine);
    sink.stop_after = Some(last_close);

    let rt = runtime()?;
    let served = Arc::new(bars);
    let (counters, url, elapsed) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen on 127.0.0.1")?;
        let url = format!("ws://{}", listener.local_addr()?);
        let mut sopts = ServeOptions::new(false, history, None);
        sopts.quiet = true;
        sopts.symbol = cfg.instrument.symbol.clone();
        sopts.tick_size = cfg.instrument.tick_size;
        sopts.point_value = cfg.instrument.point_value;
        let server = tokio::spawn(serve(listener, served.clone(), sopts));
        let mut copts = client_options(&cfg, &url, "demo")?;
        copts.silent_after = Duration::MAX;
        let t = Instant::now();
        let mut client = Client::new(copts, &mut sink, None);
        client.run(shutdown_signal()).await;
        let counters = client.counters.clone();
        server.abort();
        anyhow::Ok((counters, url, t.elapsed()))
    })?;
    {
        use crate::feed::client::Sink as _;
        sink.feed_event("stopped", "end of the demo day");
    }
    sink.engine.finish(false);

    let rel = |p: &Path| {
        std::env::current_dir()
            .ok()
            .and_then(|c| p.strip_prefix(c).ok().map(Path::to_path_buf))
            .unwrap_or_else(|| p.to_path_buf())
            .display()
            .to_string()
    };
    let e = &sink.engine;
    let day = served
        .last()
        .map(|b| clock.stamp(b.close_time).trading_day.to_string())
        .unwrap_or_default();
    crate::outln!();
    crate::outln!(
        "vrev demo: one synthetic trading day ({day}, seed {}) published on {url} and traded live by the engine with {}",
        a.seed,
        a.config.display()
    );
    let hist_end = if history > 0 {
        format!(
            " up to {} ET",
            clock.stamp(served[history - 1].close_time).format()
        )
    } else {
        String::new()
    };
    crate::outln!(
        "bars: {} (history {}{hist_end}, live {}) over the socket in {:.2} s; refused frames: {}",
        counters.bars(),
        counters.history_bars,
        counters.live_bars,
        elapsed.as_secs_f64(),
        counters.bad_frames()
    );
    let by: Vec<String> = sink
        .signals_by_window()
        .iter()
        .map(|(w, p, n)| format!("{w} {n} ({p})"))
        .collect();
    crate::outln!(
        "signals: {} — by window: {}",
        e.stats.signals,
        by.join(", ")
    );
    crate::outln!("files written:");
    for s in &e.signals {
        crate::outln!("  {}", rel(&cfg.engine.signals_dir.join(s.file_name())));
    }
    crate::outln!(
        "  {} (every decision), {} (emitted IDs)",
        rel(&journal),
        rel(&cfg.engine.state_dir.join("ledger.txt"))
    );
    crate::outln!("  {} (the day's bars)", rel(&bars_file));
    crate::outln!(
        "latency (live bar frame → signal file renamed): {}",
        sink.latency.describe()
    );
    crate::outln!(
        "done in {:.2} s. Live path by hand: `vrev serve {} --speed max --history 60` and, in a second terminal, `vrev run --playback` (the day's bars are old on the wall clock; `--speed 60` plays them at a bar a second).",
        started.elapsed().as_secs_f64(),
        rel(&bars_file)
    );
    crate::cli::run_summary::faults(e)
}
