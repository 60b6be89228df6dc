//! The feed commands: `vrev run` (the engine behind the live client), `vrev serve` (a bar file
//! published over WebSocket) and `vrev record` (what a publisher sends, as CSV). The machinery
//! is in `crate::feed`; this module turns arguments into its options and prints the summaries.

use crate::cli::args::{RecordArgs, RunArgs, ServeArgs};
use crate::feed::client::{check_url, Client, ClientOptions};
use crate::feed::{
    client_options, duration_text, protocol, record, run, runtime, seconds, server,
    shutdown_signal, zone,
};
use crate::host::engine::{Engine, EngineOptions, Outputs};
use anyhow::{anyhow, Context as _, Result};
use std::time::Duration;

pub fn run_command(a: RunArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let cfg = crate::cli::inputs::load_config(&a.engine)?;
    let url = a.url.clone().unwrap_or_else(|| cfg.feed.url.clone());
    check_url(&url)?;
    let mut copts = client_options(&cfg, &url, "run")?;
    copts.reject_future_bars = !a.playback;
    // In Playback the wall clock cannot tell a legacy chart-history burst from live bars: hold
    // each live bar after a pause up to the burst gap to see whether a burst follows.
    copts.hold_burst_start = a.playback;
    copts.status_every = seconds(a.status_every);
    copts.silent_after = seconds(a.silent_after).unwrap_or(Duration::MAX);
    if let Some(m) = seconds(a.reconnect_max) {
        copts.reconnect_max = m.max(copts.reconnect_min);
    }
    let journal = crate::cli::inputs::journal_override(&a.journal, &a.state.state)
        .unwrap_or_else(|| cfg.resolve(&cfg.engine.journal));
    let signals = a
        .signals
        .clone()
        .unwrap_or_else(|| cfg.resolve(&cfg.engine.signals_dir));
    let opts = EngineOptions {
        forced_profile: a.engine.profile.clone(),
        only_side: crate::cli::inputs::only_side(&a.engine),
        outputs: Outputs::Files,
        signals_dir: a.signals.clone(),
        journal: Some(journal.clone()),
        state_dir: a.state.state.clone(),
        fresh_ledger: a.state.fresh,
        mode: "run".into(),
        // The wall clock judges the bars (DESIGN §11, §14): bars in the future are refused,
        // a signal already expired on the wall clock is history, except live frames in Playback.
        wall_clock: true,
        playback: a.playback,
        ..EngineOptions::default()
    };
    let dashboard = wants_dashboard(a.plain);
    let opts = EngineOptions {
        // The dashboard reads what the engine journals, drained after every bar.
        keep_events: dashboard,
        ..opts
    };
    let engine = Engine::new(&cfg, opts).map_err(|e| anyhow!("{e}"))?;
    crate::cli::run_summary::print_recovery(&engine, a.state.fresh);
    let profiles: Vec<String> = engine
        .window_profiles()
        .iter()
        .map(|(w, p, v)| format!("{w}={p} ({v})"))
        .collect();
    crate::errln!(
        "run: {} → signals in {}, journal {}; windows: {}",
        url,
        signals.display(),
        journal.display(),
        profiles.join(", ")
    );
    let mut sink = run::EngineSink::new(engine);
    // Saved edits of the scripts and config.toml take effect between two bars (DESIGN §1).
    match crate::host::reload::Reloader::watch(
        &a.engine.config,
        &cfg,
        a.engine.sets.clone(),
        crate::cli::inputs::reload_gate(&a.engine.config, &cfg),
    ) {
        Ok(r) => sink.reloader = Some(r),
        Err(e) => tracing::warn!("cannot watch the scripts and config for edits: {e}"),
    }
    let rt = runtime()?;
    let (mut sink, counters) = if dashboard {
        run_dashboard(&rt, &cfg, &url, copts, sink, &journal)
    } else {
        let counters = rt.block_on(async {
            let mut client = Client::new(copts, &mut sink, None);
            client.run(shutdown_signal()).await;
            client.counters.clone()
        });
        (sink, counters)
    };
    {
        use crate::feed::client::Sink as _;
        sink.feed_event("stopped", "shutdown requested");
    }
    sink.engine.finish(false);
    // The summary.
    let e = &sink.engine;
    crate::outln!(
        "run: stopped after {} — bars: {} (history {}, live {}, history burst {})",
        duration_text(started.elapsed()),
        counters.bars(),
        counters.history_bars,
        counters.live_bars,
        counters.history_burst
    );
    crate::outln!("feed: {}", counters.describe());
    let by: Vec<String> = sink
        .signals_by_window()
        .iter()
        .map(|(w, p, n)| format!("{w} {n} ({p})"))
        .collect();
    crate::outln!(
        "signals: {} written to {} — by window: {}",
        e.stats.signals,
        signals.display(),
        by.join(", ")
    );
    crate::outln!("{}", crate::cli::run_summary::refusals(e));
    crate::outln!("{}", crate::cli::run_summary::ledger(e));
    crate::outln!("{}", crate::cli::run_summary::refused_bars(e));
    crate::outln!(
        "latency (bar frame → signal file renamed): {}",
        sink.latency.describe()
    );
    crate::outln!("journal: {}", journal.display());
    crate::cli::run_summary::faults(e)
}

/// The full-screen dashboard is for a person at a terminal: not in a pipe or a file, not with
/// `--plain`, not on a dumb terminal (TERM=dumb, or no TERM outside Windows).
fn wants_dashboard(plain: bool) -> bool {
    use std::io::IsTerminal;
    let term_ok = match std::env::var("TERM") {
        Ok(t) => !t.is_empty() && t != "dumb",
        Err(_) => cfg!(windows),
    };
    !plain && term_ok && std::io::stdout().is_terminal()
}

/// `vrev run` with the dashboard: the same client and engine; the drawing thread gets a
/// snapshot after each bar and sends the keys back (`crate::cli::desk::dashboard`). `q` stops
/// through the same path as Ctrl+C. Returns the feed's counters; the terminal is restored.
fn run_dashboard(
    rt: &tokio::runtime::Runtime,
    cfg: &crate::config::Config,
    url: &str,
    mut copts: ClientOptions,
    mut sink: run::EngineSink,
    journal: &std::path::Path,
) -> (run::EngineSink, crate::feed::client::FeedCounters) {
    use crate::cli::desk::dashboard::{term, DeskSink, Published};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    // The screen replaces the status lines and the per-signal lines (all of it is journaled).
    let plain_copts = copts.clone();
    copts.quiet = true;
    copts.status_every = None;
    let (tx, rx) = tokio::sync::watch::channel(Published::default());
    let (cmd_tx, cmd_rx) = std::sync::mpsc::channel();
    let quit = Arc::new(tokio::sync::Notify::new());
    let quit_pressed = Arc::new(AtomicBool::new(false));
    let nt8 = term::Nt8Setup {
        trade_log: cfg.nt8.as_ref().map(|n| cfg.resolve(&n.trade_log())),
        journal: journal.to_path_buf(),
        costs: crate::cli::desk::reconcile::Costs::from_config(cfg),
        clock: crate::market::time::MarketClock::exchange_rolling_at(
            cfg.engine.trading_day_start_minute(),
        ),
    };
    // What vrev would print on stderr meanwhile goes to a file beside the kill switch.
    let aside_path = sink
        .engine
        .kill_switch_file()
        .and_then(|f| f.parent())
        .map(|d| d.join("dashboard-stderr.log"))
        .unwrap_or_else(|| std::path::PathBuf::from("dashboard-stderr.log"));
    let screen = match term::Screen::start(rx, cmd_tx, quit.clone(), quit_pressed.clone(), nt8) {
        Ok(s) => s,
        Err(e) => {
            crate::errln!("run: cannot draw the dashboard ({e}); status lines instead (--plain)");
            let counters = rt.block_on(async {
                let mut client = Client::new(plain_copts, &mut sink, None);
                client.run(shutdown_signal()).await;
                client.counters.clone()
            });
            return (sink, counters);
        }
    };
    let aside = term::StderrAside::to(aside_path);
    sink.announce = false;
    let mut desk = DeskSink::new(sink, url, tx, cmd_rx);
    let counters = rt.block_on(async {
        let mut client = Client::new(copts, &mut desk, None);
        let stop = async {
            tokio::select! {
                _ = shutdown_signal() => {},
                _ = quit.notified() => {},
            }
        };
        client.run(stop).await;
        client.counters.clone()
    });
    if quit_pressed.load(Ordering::SeqCst) {
        desk.inner
            .engine
            .journal_desk("quit", "key q: stopping as Ctrl+C does");
    }
    let drawn = screen.stop();
    let active = aside.active();
    let path = aside.path.clone();
    drop(aside);
    if let Err(e) = drawn {
        crate::errln!("run: the dashboard stopped drawing: {e}");
    }
    if active && std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
        crate::errln!(
            "run: what vrev wrote on stderr while the dashboard was up is in {}",
            path.display()
        );
    }
    (desk.inner, counters)
}

pub fn serve_command(a: ServeArgs) -> Result<()> {
    let speed = server::parse_speed(&a.speed).map_err(|e| anyhow!(e))?;
    let file = crate::cli::inputs::load_bars(std::slice::from_ref(&a.file), &a.bars, 60)?;
    let bars = file.bars;
    if bars.is_empty() {
        anyhow::bail!("{}: no bars to serve", a.file.display());
    }
    let n = bars.len();
    let history = a.history.unwrap_or(1440).min(n);
    let mut opts = server::ServeOptions::new(a.legacy, history, speed);
    opts.symbol = a.symbol.clone();
    opts.legacy_tz = zone(&a.legacy_tz, "--legacy-tz")?;
    if let Some(p) = seconds(a.ping_every) {
        opts.ping_every = p;
    }
    if let Some(t) = a.pong_timeout.and_then(seconds) {
        opts.pong_timeout = t;
    }
    opts.max_behind = a.max_behind;
    if a.max_per_ip < 4 || a.max_clients < a.max_per_ip {
        anyhow::bail!(
            "--max-per-ip {} / --max-clients {}: at least 4 per address (run, record and a check all connect from 127.0.0.1), and --max-clients at least --max-per-ip",
            a.max_per_ip,
            a.max_clients
        );
    }
    opts.max_clients = a.max_clients;
    opts.max_per_ip = a.max_per_ip;
    opts.allowed_origins = a.allow_origin.clone();
    opts.token = crate::feed::feed_token(a.token.as_deref());
    if let Some(t) = seconds(a.handshake_timeout) {
        opts.handshake_timeout = t;
    }
    let rt = runtime()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind((a.bind.as_str(), a.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", a.bind, a.port))?;
        let addr = listener.local_addr()?;
        if let Some(w) =
            crate::feed::admission::exposure_warning(addr.ip(), opts.token.is_some())
        {
            crate::errln!("serve: {w}");
        }
        let clock = crate::market::time::MarketClock::exchange();
        let et = |i: usize| clock.stamp(bars[i].close_time).format();
        let pace = match speed {
            None => "as fast as each client reads".to_string(),
            Some(x) => format!("at {x}× real time (one bar every {:.3} s)", 60.0 / x),
        };
        crate::outln!(
            "serving {} bars of {} on ws://{addr} ({}): history {} bars{}, then {} live bars {pace}; the live clock starts when the first client has its history. Ctrl+C stops.",
            n,
            a.file.display(),
            if a.legacy { "legacy publisher" } else { "vrev protocol 1" },
            history,
            if history > 0 { format!(" ({} .. {} ET)", et(0), et(history - 1)) } else { String::new() },
            n - history,
        );
        tokio::select! {
            _ = server::serve(listener, std::sync::Arc::new(bars), opts) => {},
            _ = shutdown_signal() => crate::errln!("serve: stopped"),
        }
        Ok(())
    })
}

pub fn record_command(a: RecordArgs) -> Result<()> {
    check_url(&a.url)?;
    let (mut sink, resume) = record::RecordSink::open(&a.out, a.ticks.as_deref())?;
    let mut copts = ClientOptions::new(&a.url, zone(&a.legacy_tz, "--legacy-tz")?, "record");
    copts.token = crate::feed::feed_token(a.token.as_deref());
    copts.status_every = seconds(a.status_every);
    copts.silent_after = Duration::MAX;
    if let Some(t) = resume {
        crate::errln!(
            "record: {} has bars up to {}; resuming after it",
            a.out.display(),
            protocol::utc_text(t)
        );
    }
    let rt = runtime()?;
    let counters = rt.block_on(async {
        let mut client = Client::new(copts, &mut sink, resume);
        client.run(shutdown_signal()).await;
        client.counters.clone()
    });
    let failed = sink.finish();
    let clock = crate::market::time::MarketClock::exchange();
    let span = match (sink.first, sink.last) {
        (Some(f), Some(l)) if sink.rows > 0 => format!(
            " ({} .. {} ET)",
            clock.stamp(f).format(),
            clock.stamp(l).format()
        ),
        _ => String::new(),
    };
    crate::outln!("recorded {} bars{span} to {}", sink.rows, a.out.display());
    if let Some(t) = &a.ticks {
        crate::outln!("recorded {} ticks to {}", sink.tick_rows, t.display());
    }
    crate::outln!("feed: {}", counters.describe());
    if let Some(e) = failed {
        anyhow::bail!("recording stopped: {e}");
    }
    Ok(())
}
