//! The live path's speed on loopback (issue 6): prints figures, asserts nothing.
//!
//! 1. History ingest over the socket: `vrev serve`'s publisher (its own thread) sends 1,100,000
//!    synthetic bars as history; the client (this thread) receives, parses, dedupes and
//!    (a) only counts them, (b) feeds the engine with the default config, as `vrev run` does,
//!    (c) the same from a legacy publisher (local wall-clock timestamps).
//! 2. Live latency: a publisher sends future-dated synthetic days live; before each bar that
//!    produces a signal it waits until the client has processed every earlier bar, plus 1 ms, so
//!    the bar meets an idle client. Measured per signal:
//!    frame read by the client → signal file renamed into place (`on_bar` returned), and the
//!    publisher's send → renamed (one-way loopback included). With the default config
//!    (`engine.fsync = true`: the file, the rename and the ledger line are fsynced) and with
//!    `engine.fsync = false`, with the signal folder on the temp dir's disk and on tmpfs
//!    (`/dev/shm`, where the file system costs next to nothing).
//!
//! 3. The dashboard's cost (issue 21): the same live latency with `vrev run`'s dashboard on
//!    (the engine side publishing a snapshot after each bar, the real drawing loop redrawing a
//!    140×44 `TestBackend` on its own thread at the real rate) and off, alternated, on the
//!    fastest setting (tmpfs, no fsync, where an added cost shows most); prints on/off ratios.
//!
//! Run: `cargo bench --bench live`; smaller: `VREV_BENCH_BARS=300000 VREV_BENCH_LIVE_DAYS=40`.

use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use vrev::cli::desk::dashboard::{term, DeskSink, Published};
use vrev::config::Config;
use vrev::feed::client::{Client, ClientOptions, Flow, Sink};
use vrev::feed::protocol::{self, Msg};
use vrev::feed::run::EngineSink;
use vrev::feed::server::{serve, ServeOptions};
use vrev::host::engine::{Engine, EngineOptions, Outputs};
use vrev::market::bar::Bar;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn config() -> Config {
    Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml")).expect("config.toml")
}

/// Counts bars; stops at the last one.
struct Count {
    n: u64,
    last: i64,
}

impl Sink for Count {
    fn bar(&mut self, bar: &Bar, _: bool, _: Instant) -> Flow {
        self.n += 1;
        if bar.close_time >= self.last {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }
}

/// Starts the publisher on its own thread; returns its URL.
fn publish(bars: Arc<Vec<Bar>>, legacy: bool) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let n = bars.len();
    std::thread::spawn(move || {
        runtime().block_on(async move {
            let mut opts = ServeOptions::new(legacy, n, None);
            opts.quiet = true;
            serve(TcpListener::from_std(listener).unwrap(), bars, opts).await
        })
    });
    url
}

fn client_opts(url: &str) -> ClientOptions {
    let mut o = ClientOptions::new(url, chrono_tz::America::New_York, "bench");
    o.quiet = true;
    o
}

fn ingest(bars: &Arc<Vec<Bar>>, legacy: bool, engine: bool) -> (f64, u64) {
    let url = publish(bars.clone(), legacy);
    let last = bars.last().unwrap().close_time;
    let rt = runtime();
    let start = Instant::now();
    let n = if engine {
        let cfg = config();
        let e = Engine::new(
            &cfg,
            EngineOptions {
                mode: "bench".into(),
                wall_clock: true,
                ..EngineOptions::default()
            },
        )
        .unwrap();
        let mut sink = EngineSink::new(e);
        sink.announce = false;
        sink.stop_after = Some(last);
        rt.block_on(async {
            let mut c = Client::new(client_opts(&url), &mut sink, None);
            c.run(std::future::pending()).await;
            c.counters.bars()
        })
    } else {
        let mut sink = Count { n: 0, last };
        rt.block_on(async {
            let mut c = Client::new(client_opts(&url), &mut sink, None);
            c.run(std::future::pending()).await;
        });
        sink.n
    };
    (start.elapsed().as_secs_f64(), n)
}

/// The engine sink as `vrev run` uses it: plain, or inside the dashboard's engine side.
enum Inner {
    Plain(Box<EngineSink>),
    Desk(Box<DeskSink>),
}

impl Inner {
    fn engine_sink(&self) -> &EngineSink {
        match self {
            Inner::Plain(s) => s,
            Inner::Desk(d) => &d.inner,
        }
    }
}

/// Wraps the engine sink: records when each signal bar's file is in place, and publishes how
/// far the client is (so the publisher can send each signal bar to an idle client).
struct Timed {
    inner: Inner,
    done: HashMap<i64, Instant>,
    progress: Arc<AtomicI64>,
}

impl Sink for Timed {
    fn bar(&mut self, bar: &Bar, history: bool, arrived: Instant) -> Flow {
        let before = self.inner.engine_sink().engine.signals.len();
        let flow = match &mut self.inner {
            Inner::Plain(s) => s.bar(bar, history, arrived),
            Inner::Desk(d) => d.bar(bar, history, arrived),
        };
        if self.inner.engine_sink().engine.signals.len() > before {
            self.done.insert(bar.close_time, Instant::now());
        }
        self.progress.store(bar.close_time, Ordering::Release);
        flow
    }
    fn idle(&mut self) {
        match &mut self.inner {
            Inner::Plain(s) => s.idle(),
            Inner::Desk(d) => d.idle(),
        }
    }
    fn feed_state(&mut self, feed: &vrev::feed::client::FeedView<'_>) {
        if let Inner::Desk(d) = &mut self.inner {
            d.feed_state(feed);
        }
    }
}

fn percentiles(mut v: Vec<u64>) -> String {
    if v.is_empty() {
        return "no samples".into();
    }
    v.sort_unstable();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {} µs, p99 {} µs, max {} µs (n={})",
        at(0.5),
        at(0.99),
        v[v.len() - 1],
        v.len()
    )
}

/// Frame read → file renamed (p50, p99 µs), or `None` without signals.
fn live_latency(
    bars: Arc<Vec<Bar>>,
    signal_times: Arc<Vec<i64>>,
    fsync: bool,
    root: &Path,
    dashboard: bool,
) -> Option<(u64, u64)> {
    const HISTORY: usize = 1000;
    let sent: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let progress = Arc::new(AtomicI64::new(i64::MIN));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    {
        let (bars, signal_times, sent) = (bars.clone(), signal_times.clone(), sent.clone());
        let progress = progress.clone();
        std::thread::spawn(move || {
            runtime().block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                let (sock, _) = listener.accept().await.unwrap();
                sock.set_nodelay(true).unwrap();
                let mut ws = tokio_tungstenite::accept_async(sock).await.unwrap();
                let sym = "\"ES\"";
                ws.send(Message::text(protocol::encode_hello("ES", 60, 0.25, 50.0)))
                    .await
                    .unwrap();
                while let Some(Ok(m)) = ws.next().await {
                    if let Message::Text(t) = m {
                        if matches!(protocol::parse(t.as_str()), Ok(Msg::Subscribe { .. })) {
                            break;
                        }
                    }
                }
                ws.feed(Message::text(protocol::encode_historical_start(HISTORY)))
                    .await
                    .unwrap();
                for b in &bars[..HISTORY] {
                    ws.feed(Message::text(protocol::encode_bar(
                        true,
                        sym,
                        b.close_time,
                        b,
                    )))
                    .await
                    .unwrap();
                }
                ws.send(Message::text(protocol::encode_historical_end(HISTORY)))
                    .await
                    .unwrap();
                let is_signal: std::collections::HashSet<i64> =
                    signal_times.iter().copied().collect();
                for (k, b) in bars[HISTORY..].iter().enumerate() {
                    let frame = Message::text(protocol::encode_bar(false, sym, b.close_time, b));
                    if is_signal.contains(&b.close_time) {
                        // Wait until the client has processed every earlier bar and sits idle.
                        ws.flush().await.unwrap();
                        let prev = bars[HISTORY + k - 1].close_time;
                        let t0 = Instant::now();
                        while progress.load(Ordering::Acquire) < prev
                            && t0.elapsed() < Duration::from_secs(5)
                        {
                            tokio::time::sleep(Duration::from_micros(200)).await;
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        let t = Instant::now();
                        ws.send(frame).await.unwrap();
                        sent.lock().unwrap().insert(b.close_time, t);
                    } else if k % 64 == 0 {
                        ws.send(frame).await.unwrap();
                    } else {
                        ws.feed(frame).await.unwrap();
                    }
                }
                ws.flush().await.unwrap();
                while let Some(Ok(_)) = ws.next().await {}
            })
        });
    }
    let dir = tempfile::tempdir_in(root).unwrap();
    let mut cfg = config();
    cfg.engine.signals_dir = dir.path().join("signals");
    cfg.engine.state_dir = dir.path().join("state");
    cfg.engine.journal = dir.path().join("state/journal.jsonl");
    cfg.engine.fsync = fsync;
    let engine = Engine::new(
        &cfg,
        EngineOptions {
            outputs: Outputs::Files,
            mode: "bench".into(),
            wall_clock: true,
            playback: true,
            keep_events: dashboard,
            ..EngineOptions::default()
        },
    )
    .unwrap();
    let mut inner = EngineSink::new(engine);
    inner.announce = false;
    inner.stop_after = bars.last().map(|b| b.close_time);
    let stop = Arc::new(AtomicBool::new(false));
    let (inner, drawing) = if dashboard {
        let (tx, rx) = tokio::sync::watch::channel(Published::default());
        let (_cmd_tx, cmd_rx) = std::sync::mpsc::channel();
        let desk = DeskSink::new(inner, &url, tx, cmd_rx);
        let nt8 = term::Nt8Setup {
            trade_log: None,
            journal: cfg.engine.journal.clone(),
            costs: vrev::cli::desk::reconcile::Costs::from_config(&cfg),
            clock: vrev::market::time::MarketClock::exchange(),
        };
        let stop = stop.clone();
        // The real drawing loop at its real rate, on a terminal in memory.
        let drawing = std::thread::spawn(move || {
            let mut t =
                ratatui::Terminal::new(ratatui::backend::TestBackend::new(140, 44)).unwrap();
            term::draw_loop(&mut t, rx, None, nt8, &stop, |wait| {
                std::thread::sleep(wait);
                Ok(None)
            })
            .unwrap();
        });
        (Inner::Desk(Box::new(desk)), Some(drawing))
    } else {
        (Inner::Plain(Box::new(inner)), None)
    };
    let mut sink = Timed {
        inner,
        done: HashMap::new(),
        progress,
    };
    // The live days are dated two weeks ahead (so that no signal has expired on the wall
    // clock): taken as `vrev run --playback` takes them, neither the client nor the engine
    // refuses them as bars from the future (since the plausibility rules of issue 10 they did,
    // and this part of the benchmark waited 5 s per signal for bars that never came).
    let mut copts = client_opts(&url);
    copts.reject_future_bars = false;
    runtime().block_on(async {
        let mut c = Client::new(copts, &mut sink, None);
        c.run(std::future::pending()).await;
    });
    stop.store(true, Ordering::Relaxed);
    if let Some(d) = drawing {
        d.join().unwrap();
    }
    let sent = sent.lock().unwrap();
    let one_way: Vec<u64> = sink
        .done
        .iter()
        .filter_map(|(t, done)| {
            sent.get(t)
                .map(|s| done.duration_since(*s).as_micros() as u64)
        })
        .collect();
    let files = std::fs::read_dir(dir.path().join("signals"))
        .unwrap()
        .count();
    let latency = &sink.inner.engine_sink().latency;
    println!(
        "  {} engine.fsync = {fsync}{}: {files} signal files",
        root.display(),
        if dashboard { ", dashboard on" } else { "" }
    );
    println!(
        "    frame read by the client → file renamed: {}",
        latency.describe()
    );
    println!(
        "    publisher send → file renamed:           {}",
        percentiles(one_way)
    );
    latency.percentiles()
}

fn main() {
    let n = env("VREV_BENCH_BARS", 1_100_000);
    let days = (n as u32).div_ceil(1380);
    let mut bars = vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        days,
        ..Default::default()
    });
    bars.truncate(n);
    let bars = Arc::new(bars);
    println!(
        "history ingest over loopback: {} bars ({days} synthetic days), publisher on its own thread",
        bars.len()
    );
    for (label, legacy, engine) in [
        ("vrev protocol, receive + parse + dedupe only", false, false),
        (
            "vrev protocol, into the engine (default config)",
            false,
            true,
        ),
        (
            "legacy publisher, into the engine (default config)",
            true,
            true,
        ),
    ] {
        let (secs, got) = ingest(&bars, legacy, engine);
        assert_eq!(got, bars.len() as u64, "{label}: bars lost");
        println!(
            "  {label:<52} {:>6.2} s  {:>9.0} bars/s",
            secs,
            got as f64 / secs
        );
    }

    let live_days = env("VREV_BENCH_LIVE_DAYS", 100) as u32;
    let start = chrono::Utc::now().date_naive() + chrono::Duration::days(14);
    let live = vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        start,
        days: live_days,
        seed: 9,
        ..Default::default()
    });
    // Which bars produce a signal (same engine, in memory).
    let mut probe = Engine::new(&config(), EngineOptions::default()).unwrap();
    for b in &live {
        probe.on_bar(b);
    }
    let signal_times: Vec<i64> = probe.signals.iter().map(|s| s.signal_time).collect();
    println!(
        "live latency over loopback: {} future-dated bars ({live_days} days) sent live, {} of them produce a signal",
        live.len(),
        signal_times.len()
    );
    let live = Arc::new(live);
    let signal_times = Arc::new(signal_times);
    // The signal folder on the temp dir's disk, then on tmpfs (the code path without the
    // file system's cost), each with and without fsync.
    let mut roots = vec![std::env::temp_dir()];
    if Path::new("/dev/shm").is_dir() {
        roots.push("/dev/shm".into());
    }
    for root in &roots {
        for fsync in [true, false] {
            live_latency(live.clone(), signal_times.clone(), fsync, root, false);
        }
    }

    // The dashboard's cost: off and on alternated, twice each, on the fastest setting.
    let root = roots.last().unwrap();
    println!(
        "dashboard on vs off (issue 21): {} engine.fsync = false, alternated, 2 runs each",
        root.display()
    );
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        off.extend(live_latency(
            live.clone(),
            signal_times.clone(),
            false,
            root,
            false,
        ));
        on.extend(live_latency(
            live.clone(),
            signal_times.clone(),
            false,
            root,
            true,
        ));
    }
    let mean = |v: &[(u64, u64)], f: fn(&(u64, u64)) -> u64| {
        v.iter().map(f).sum::<u64>() as f64 / v.len().max(1) as f64
    };
    let (off50, on50) = (mean(&off, |x| x.0), mean(&on, |x| x.0));
    let (off99, on99) = (mean(&off, |x| x.1), mean(&on, |x| x.1));
    println!(
        "  frame → file, mean of the runs: p50 {off50:.0} µs off, {on50:.0} µs on (ratio {:.3}); p99 {off99:.0} µs off, {on99:.0} µs on (ratio {:.3})",
        on50 / off50,
        on99 / off99
    );
}
