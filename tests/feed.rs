//! The live feed on real loopback WebSocket connections (issue 6, "must hold"): the real `vrev`
//! binary (`run`, `record`, `serve`) against publishers written here with tokio-tungstenite (or
//! against `vrev serve`), 127.0.0.1 only. Every wait is bounded in time.

mod common;
use common::*;

use futures_util::{SinkExt, StreamExt};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use vrev::feed::protocol::{
    encode_bar, encode_hello, encode_historical_end, encode_historical_start, parse, Msg,
};
use vrev::market::bar::Bar;

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

// ------------------------------------------------------------------------------------------
// Helpers

/// Runs a publisher on its own thread: `handler(connection number, socket)` per connection,
/// one connection at a time. Returns the port.
fn publisher<F, Fut>(handler: F) -> u16
where
    F: Fn(usize, Ws) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::from_std(listener).unwrap();
            let mut n = 0;
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                sock.set_nodelay(true).unwrap();
                let cfg = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                    .max_message_size(Some(8 << 20))
                    .max_frame_size(Some(8 << 20));
                let Ok(ws) = tokio_tungstenite::accept_async_with_config(sock, Some(cfg)).await
                else {
                    continue;
                };
                n += 1;
                handler(n, ws).await;
            }
        });
    });
    port
}

/// A running `vrev` child with its stderr collected line by line.
struct Proc {
    child: Child,
    err: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    fn start(dir: &std::path::Path, args: &[&str]) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vrev"))
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = err.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        Proc { child, err }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stderr(&self) -> String {
        self.err.lock().unwrap().join("\n")
    }

    /// Waits until a stderr line satisfies `pred`; panics with the log after `timeout`.
    fn wait_for(&mut self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) {
        let start = Instant::now();
        loop {
            if self.err.lock().unwrap().iter().any(|l| pred(l)) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("vrev exited ({status}) before {what}:\n{}", self.stderr());
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!("timed out waiting for {what}:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for a status line reporting `n` bars.
    fn wait_bars(&mut self, n: usize, timeout: Duration) {
        let needle = format!("| bars {n} (");
        self.wait_for(&format!("{n} bars"), timeout, |l| l.contains(&needle));
    }

    /// Peak resident memory (VmHWM) in MB.
    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kb / 1024.0
    }

    /// Ctrl+C, then the exit and stdout (bounded wait).
    fn interrupt(mut self) -> (String, String) {
        let ok = Command::new("kill")
            .args(["-INT", &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                panic!("vrev did not stop on Ctrl+C:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut out = String::new();
        std::io::Read::read_to_string(self.child.stdout.as_mut().unwrap(), &mut out).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(status.success(), "exit {status}:\n{out}\n{}", self.stderr());
        (out, self.stderr())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number after `label` in `text` (e.g. "duplicate 3").
fn count(text: &str, label: &str) -> u64 {
    let i = text
        .find(label)
        .unwrap_or_else(|| panic!("`{label}` not in:\n{text}"));
    text[i + label.len()..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Synthetic days with a V in every window, dated from two weeks after today: history signals
/// are inside their EXPIRES on the wall clock, as on a live day. Bars in the future are refused
/// by a live `vrev run`, so the tests that use them run with `--playback` (data time only).
fn future_bars(days: u32, seed: u64) -> Vec<Bar> {
    let start = chrono::Utc::now().date_naive() + chrono::Duration::days(14);
    vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        seed,
        start,
        days,
        ..Default::default()
    })
}

/// A simple valid random walk, one bar a minute, fast to make in any quantity.
fn walk(n: usize, first_close: i64) -> Vec<Bar> {
    let mut rng = vrev::market::synth::Rng::new(7);
    let mut p: i64 = 20_000;
    (0..n)
        .map(|i| {
            let o = p;
            p += rng.range(-2, 2);
            let (h, l) = (o.max(p) + rng.range(0, 2), o.min(p) - rng.range(0, 2));
            Bar {
                close_time: first_close + 60 * i as i64,
                open: o as f64 * 0.25,
                high: h as f64 * 0.25,
                low: l as f64 * 0.25,
                close: p as f64 * 0.25,
                volume: 100.0,
            }
        })
        .collect()
}

fn sym() -> String {
    "\"ES 03-25\"".to_string()
}

fn journal_end(p: &Project) -> serde_json::Value {
    p.journal()
        .into_iter()
        .rev()
        .find(|e| e["event"] == "run_end")
        .expect("run_end in the journal")
}

fn signal_texts(p: &Project) -> Vec<(String, String)> {
    p.signal_files()
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(p.path("signals").join(&f)).unwrap();
            (f, text)
        })
        .collect()
}

/// What `vrev replay` writes for the same bars (the oracle).
fn replay_signals(bars: &[Bar]) -> Vec<(String, String)> {
    let p = Project::new();
    write_nt(&p.path("bars.txt"), bars);
    let out = p.vrev(&["replay", "bars.txt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    signal_texts(&p)
}

async fn send(ws: &mut Ws, text: String) -> bool {
    ws.send(Message::text(text)).await.is_ok()
}

/// Reads the client's `subscribe` (vrev protocol), answering nothing else.
async fn read_subscribe(ws: &mut Ws) -> Option<i64> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                if let Ok(Msg::Subscribe { after }) = parse(t.as_str()) {
                    return after;
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => panic!("no subscribe from the client"),
        }
    }
}

/// Keeps a connection open (reading, answering nothing) for at most `d`.
async fn idle(ws: &mut Ws, d: Duration) {
    let _ = tokio::time::timeout(d, async { while let Some(Ok(_)) = ws.next().await {} }).await;
}

// ------------------------------------------------------------------------------------------
// 1. A 1,100,000-bar history: no disconnect, no dropped bar, bounded memory.

#[test]
fn history_of_1_100_000_bars_arrives_whole_with_bounded_memory() {
    const N: usize = 1_100_000;
    let bars = Arc::new(walk(N, 1_600_000_000));
    let mut opts = vrev::feed::server::ServeOptions::new(false, N, None);
    opts.quiet = true;
    let url = serve_on_thread(bars.clone(), opts);
    let p = Project::new();
    let mut run = Proc::start(
        p.dir.path(),
        &["run", "--url", &url, "--status-every", "0.5"],
    );
    let start = Instant::now();
    run.wait_for("the whole history", Duration::from_secs(90), |l| {
        l.contains("history received: 1100000 bars")
    });
    let secs = start.elapsed().as_secs_f64();
    let peak = run.peak_rss_mb();
    let (out, err) = run.interrupt();
    eprintln!(
        "1.1M bars over the socket into the engine in {secs:.1} s; client VmHWM {peak:.1} MB"
    );
    assert!(peak < 150.0, "client peak RSS {peak:.1} MB");
    assert_eq!(count(&out, "bars:"), N as u64, "{out}");
    assert_eq!(count(&out, "history"), N as u64, "{out}");
    assert_eq!(count(&out, "connects"), 1, "no disconnect:\n{out}\n{err}");
    assert_eq!(count(&out, "bars refused by the engine:"), 0, "{out}");
    let end = journal_end(&p);
    assert_eq!(end["bars"], N as u64);
    assert_eq!(end["bars_skipped"], 0);
}

// ------------------------------------------------------------------------------------------
// 2. Drops mid-history and mid-live: every bar evaluated once, signals = replay's.

/// A publisher over `bars`: the first `history` are published at start, the rest are sent live
/// one by one; the connection is cut (no close frame) right after the bar at each index in
/// `drops` is sent. vrev protocol honours `subscribe`; legacy re-sends all published history on
/// every connection, with New York wall-clock timestamps and a false `Z`.
///
/// Legacy live bars go out `LEGACY_LIVE_EVERY` apart: from the legacy publisher, live bars
/// faster than real time are a chart-history burst that never trades (`docs/live.md`).
fn dropping_publisher(
    bars: Arc<Vec<Bar>>,
    history: usize,
    drops: Vec<usize>,
    legacy: bool,
) -> (u16, Arc<AtomicUsize>) {
    let published = Arc::new(AtomicUsize::new(history));
    let drops = Arc::new(Mutex::new(drops));
    let pub2 = published.clone();
    let port = publisher(move |_, mut ws| {
        let (bars, published, drops) = (bars.clone(), pub2.clone(), drops.clone());
        async move {
            let clock = vrev::feed::protocol::LegacyClock::new(chrono_tz::America::New_York);
            let wall = |t: i64| if legacy { clock.to_wall(t) } else { t };
            let take_drop = |i: usize| {
                let mut d = drops.lock().unwrap();
                match d.iter().position(|&x| x == i) {
                    Some(k) => {
                        d.remove(k);
                        true
                    }
                    None => false,
                }
            };
            let mut from = 0;
            if !legacy {
                if !send(&mut ws, encode_hello("ES 03-25", 60, 0.25, 50.0)).await {
                    return;
                }
                if let Some(after) = read_subscribe(&mut ws).await {
                    from = bars.partition_point(|b| b.close_time <= after);
                }
            }
            let upto = published.load(Ordering::SeqCst);
            let from = from.min(upto);
            send(&mut ws, encode_historical_start(upto - from)).await;
            for i in from..upto {
                let b = &bars[i];
                let _ = ws
                    .feed(Message::text(encode_bar(
                        true,
                        &sym(),
                        wall(b.close_time),
                        b,
                    )))
                    .await;
                if take_drop(i) {
                    let _ = ws.flush().await;
                    return; // cut: no historical_end, no close frame
                }
            }
            send(&mut ws, encode_historical_end(upto - from)).await;
            loop {
                let i = published.load(Ordering::SeqCst);
                if i >= bars.len() {
                    break;
                }
                let b = &bars[i];
                if !send(&mut ws, encode_bar(false, &sym(), wall(b.close_time), b)).await {
                    return;
                }
                published.store(i + 1, Ordering::SeqCst);
                if take_drop(i) {
                    return;
                }
                if legacy {
                    tokio::time::sleep(LEGACY_LIVE_EVERY).await;
                } else if i % 64 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            idle(&mut ws, Duration::from_secs(60)).await;
        }
    });
    (port, published)
}

/// Legacy live bars this far apart are live at any Playback speed up to 500× (the burst gap is
/// 60 ms), with room for a loaded machine.
const LEGACY_LIVE_EVERY: Duration = Duration::from_millis(200);

fn drops_mid_history_and_mid_live(legacy: bool, seed: u64) {
    let bars = Arc::new(future_bars(3, seed));
    let n = bars.len();
    // Legacy live bars are paced (the burst rule): fewer of them, so the test stays short.
    let history = if legacy { n - 60 } else { n / 2 };
    let mut rng = vrev::market::synth::Rng::new(seed);
    let mut drops: Vec<usize> = (0..3)
        .map(|_| rng.range(10, history as i64 - 10) as usize)
        .collect();
    for _ in 0..3 {
        drops.push(rng.range(history as i64 + 5, n as i64 - 5) as usize);
    }
    drops.sort();
    drops.dedup();
    eprintln!("seed {seed}: {n} bars, history {history}, drops after bars {drops:?}");
    let (port, _) = dropping_publisher(bars.clone(), history, drops.clone(), legacy);
    let p = Project::new();
    let url = format!("ws://127.0.0.1:{port}");
    let mut run = Proc::start(
        p.dir.path(),
        &["run", "--url", &url, "--status-every", "0.1", "--playback"],
    );
    run.wait_bars(n, Duration::from_secs(60));
    let (out, err) = run.interrupt();
    assert_eq!(count(&out, "bars:"), n as u64, "{out}");
    assert_eq!(count(&out, "history burst"), 0, "{out}");
    assert_eq!(
        count(&out, "connects"),
        drops.len() as u64 + 1,
        "{out}\n{err}"
    );
    assert_eq!(count(&out, "duplicate"), 0, "{out}");
    assert_eq!(count(&out, "out of order"), 0, "{out}");
    if legacy {
        assert!(
            count(&out, "already had") > 0,
            "legacy re-sends its history:\n{out}"
        );
    }
    // Every bar evaluated exactly once.
    let end = journal_end(&p);
    assert_eq!(end["bars"], n as u64, "{end}");
    assert_eq!(end["bars_skipped"], 0, "{end}");
    // No signal duplicated or lost: the same files, byte for byte, as a replay of the bars.
    let live = signal_texts(&p);
    let replay = replay_signals(&bars);
    assert!(replay.len() >= 9, "3 days with a V in every window");
    assert_eq!(live, replay);
    let journaled: Vec<_> = p
        .journal()
        .into_iter()
        .filter(|e| e["event"] == "signal")
        .collect();
    assert_eq!(journaled.len(), replay.len(), "one journal line per signal");
    let connects = p
        .journal()
        .into_iter()
        .filter(|e| e["event"] == "feed" && e["state"] == "connected")
        .count();
    assert_eq!(connects, drops.len() + 1, "connects are journaled");
}

#[test]
fn vrev_protocol_drops_mid_history_and_mid_live_lose_and_repeat_nothing() {
    drops_mid_history_and_mid_live(false, 11);
}

#[test]
fn legacy_drops_mid_history_and_mid_live_lose_and_repeat_nothing() {
    drops_mid_history_and_mid_live(true, 23);
}

// ------------------------------------------------------------------------------------------
// 3. Bad frames: each logged and counted, nothing crashes, later good bars still processed.

#[test]
fn bad_frames_are_logged_and_counted_and_good_bars_still_processed() {
    let bars = future_bars(1, 5);
    let good: Vec<Bar> = bars[..9].to_vec();
    let frame = |kind: &str, b: &Bar| encode_bar(kind == "h", &sym(), b.close_time, b);
    let g = good.clone();
    let port = publisher(move |conn, mut ws| {
        let g = g.clone();
        async move {
            send(&mut ws, encode_hello("ES 03-25", 60, 0.25, 50.0)).await;
            let after = read_subscribe(&mut ws).await;
            if conn == 1 {
                assert_eq!(after, None);
                send(&mut ws, encode_historical_start(5)).await;
                for b in &g[..5] {
                    send(&mut ws, frame("h", b)).await;
                }
                send(&mut ws, encode_historical_end(5)).await;
                let ts = vrev::feed::protocol::utc_text(g[6].close_time);
                let bad_bar = |fields: &str| {
                    format!(r#"{{"type":"bar","symbol":"ES","timestamp":"{ts}",{fields}}}"#)
                };
                let frames: Vec<Message> = vec![
                    Message::text(frame("l", &g[5])),
                    Message::text(r#"{"type":"bar","#), // malformed
                    Message::text("not json at all"),   // malformed
                    Message::text(r#"{"type":"quote","bid":1}"#), // unknown type
                    Message::text(bad_bar(r#""open":1,"high":2,"low":1,"volume":1"#)), // missing close
                    Message::text(bad_bar(
                        r#""open":1,"high":2,"low":1,"close":NaN,"volume":1"#,
                    )), // malformed
                    Message::text(bad_bar(
                        r#""open":1,"high":2,"low":1,"close":"NaN","volume":1"#,
                    )), // malformed
                    Message::text(bad_bar(
                        r#""open":1,"high":2,"low":-1,"close":1,"volume":1"#,
                    )), // invalid
                    Message::text(bad_bar(r#""open":1,"high":1,"low":2,"close":1,"volume":1"#)), // invalid
                    Message::text(frame("l", &g[6])),
                    Message::text(frame("l", &g[4])), // out of order
                    Message::text(frame("l", &g[6])), // duplicate
                    Message::text(format!(
                        "{{\"type\":\"bar\",\"pad\":\"{}\"}}",
                        "x".repeat(100_000)
                    )), // oversized, skipped
                    Message::binary(vec![1u8, 2, 3]), // malformed
                    Message::text(frame("l", &g[7])),
                    Message::text("y".repeat(2 << 20)), // over the client's limit: reconnect
                ];
                for f in frames {
                    if ws.send(f).await.is_err() {
                        return;
                    }
                }
                idle(&mut ws, Duration::from_secs(10)).await;
            } else {
                assert_eq!(
                    after,
                    Some(g[7].close_time),
                    "resumes after the last good bar"
                );
                send(&mut ws, encode_historical_start(0)).await;
                send(&mut ws, encode_historical_end(0)).await;
                send(&mut ws, frame("l", &g[8])).await;
                idle(&mut ws, Duration::from_secs(30)).await;
            }
        }
    });
    let p = Project::new();
    let url = format!("ws://127.0.0.1:{port}");
    let mut run = Proc::start(
        p.dir.path(),
        &["run", "--url", &url, "--status-every", "0.1", "--playback"],
    );
    run.wait_bars(9, Duration::from_secs(20));
    let (out, err) = run.interrupt();
    let c = |l| count(&out, l);
    assert_eq!(c("bars:"), 9, "{out}");
    assert_eq!(c("malformed"), 5, "{out}");
    assert_eq!(c("unknown type"), 1, "{out}");
    assert_eq!(c("missing field"), 1, "{out}");
    assert_eq!(c("invalid"), 2, "{out}");
    assert_eq!(c("out of order"), 1, "{out}");
    assert_eq!(c("duplicate"), 1, "{out}");
    assert_eq!(c("oversized"), 2, "{out}");
    assert_eq!(c("connects"), 2, "{out}");
    // Each is logged, naming the frame's problem.
    for needle in [
        "not valid JSON",
        "unknown message type `quote`",
        "`bar` without `close`",
        "invalid bar: price is zero or negative",
        "invalid bar: high is below low",
        "bar out of order",
        "duplicate bar",
        "oversized frame of 100",
        "binary frame",
    ] {
        assert!(err.contains(needle), "no log line with `{needle}`:\n{err}");
    }
    let end = journal_end(&p);
    assert_eq!(end["bars"], 9);
    let rejected = p
        .journal()
        .into_iter()
        .filter(|e| e["event"] == "bar_rejected")
        .count();
    assert_eq!(rejected, 2, "invalid bars are journaled by the engine");
}

// ------------------------------------------------------------------------------------------
// 4. Legacy time, and the recorder (CSV, ticks, resume without duplicates).

#[test]
fn legacy_wall_time_with_a_false_z_is_new_york_time_and_recorded_as_utc() {
    let port = publisher(|_, mut ws| async move {
        // Legacy: no hello; history re-sent on every connection.
        send(&mut ws, r#"{"type":"historical_start","count":2}"#.into()).await;
        for (t, c) in [("13:58", "6290.25"), ("13:59", "6290.5")] {
            send(&mut ws, format!(r#"{{"type":"historical_bar","symbol":"ES 09-25","open":6290.0,"high":6291.0,"low":6289.75,"close":{c},"volume":812,"timestamp":"2025-07-14T{t}:00.000Z"}}"#)).await;
        }
        send(&mut ws, r#"{"type":"historical_end","sent":2}"#.into()).await;
        send(&mut ws, r#"{"type":"tick","symbol":"ES 09-25","price":6290.75,"volume":3,"timestamp":"2025-07-14T13:59:30.250Z"}"#.into()).await;
        send(&mut ws, r#"{"type":"bar","symbol":"ES 09-25","open":6290.5,"high":6291.25,"low":6290.25,"close":6291.0,"volume":640,"timestamp":"2025-07-14T14:00:00.000Z"}"#.into()).await;
        idle(&mut ws, Duration::from_secs(20)).await;
    });
    let p = Project::new();
    let url = format!("ws://127.0.0.1:{port}");
    let args = [
        "record",
        "--url",
        &url,
        "--out",
        "rec/bars.csv",
        "--ticks",
        "rec/ticks.csv",
        "--status-every",
        "0.1",
    ];
    let expected = "timestamp,open,high,low,close,volume\n\
        2025-07-14T17:58:00+00:00,6290,6291,6289.75,6290.25,812\n\
        2025-07-14T17:59:00+00:00,6290,6291,6289.75,6290.5,812\n\
        2025-07-14T18:00:00+00:00,6290.5,6291.25,6290.25,6291,640\n";
    // Twice: the second run (a restart) appends nothing already recorded.
    for round in 0..2 {
        let mut rec = Proc::start(p.dir.path(), &args);
        // historical_start, 2 bars, historical_end, a tick, a live bar.
        rec.wait_for("the recorder's status", Duration::from_secs(20), |l| {
            l.contains("record: status:") && l.contains("| frames 6,")
        });
        let (out, err) = rec.interrupt();
        assert!(
            out.contains(&format!("recorded {} bars", if round == 0 { 3 } else { 0 })),
            "{out}\n{err}"
        );
        assert_eq!(
            std::fs::read_to_string(p.path("rec/bars.csv")).unwrap(),
            expected
        );
        if round == 1 {
            assert!(
                err.contains("has bars up to 2025-07-14T18:00:00Z; resuming after it"),
                "{err}"
            );
            assert_eq!(count(&out, "already had"), 3, "{out}");
        }
    }
    let ticks = std::fs::read_to_string(p.path("rec/ticks.csv")).unwrap();
    assert_eq!(
        ticks,
        "timestamp,price,volume\n2025-07-14T17:59:30+00:00,6290.75,3\n2025-07-14T17:59:30+00:00,6290.75,3\n",
        "ticks have no identity: one row per tick received"
    );
}

// ------------------------------------------------------------------------------------------
// 5. A legacy publisher that drops clients not answering `ping`: the engine stays connected.

#[test]
fn legacy_ping_pong_keeps_the_engine_connected_over_a_long_run() {
    const PING: Duration = Duration::from_millis(100);
    const PONG_TIMEOUT: Duration = Duration::from_millis(400);
    const LIVE: usize = 120; // one every 25 ms: 3 s
    let bars = Arc::new(walk(200 + LIVE, 1_700_000_000));
    let stats = Arc::new(Mutex::new((0usize, 0usize, 0usize))); // connections, pongs, drops
    let (b2, s2) = (bars.clone(), stats.clone());
    let port = publisher(move |_, ws| {
        let (bars, stats) = (b2.clone(), s2.clone());
        async move {
            stats.lock().unwrap().0 += 1;
            let (mut tx, mut rx) = ws.split();
            let clock = vrev::feed::protocol::LegacyClock::new(chrono_tz::America::New_York);
            let frame = |h: bool, b: &Bar| encode_bar(h, &sym(), clock.to_wall(b.close_time), b);
            let _ = tx.send(Message::text(encode_historical_start(200))).await;
            for b in &bars[..200] {
                let _ = tx.feed(Message::text(frame(true, b))).await;
            }
            let _ = tx.send(Message::text(encode_historical_end(200))).await;
            let mut ping = tokio::time::interval(PING);
            let mut live = tokio::time::interval(Duration::from_millis(25));
            let mut next = 200;
            let mut unanswered: Option<Instant> = None;
            let end = Instant::now() + Duration::from_secs(6);
            while Instant::now() < end {
                tokio::select! {
                    m = rx.next() => match m {
                        Some(Ok(Message::Text(t))) if t.as_str() == "pong" => {
                            stats.lock().unwrap().1 += 1;
                            unanswered = None;
                        }
                        Some(Ok(_)) => {}
                        _ => return,
                    },
                    _ = ping.tick() => {
                        if unanswered.is_some_and(|t| t.elapsed() > PONG_TIMEOUT) {
                            stats.lock().unwrap().2 += 1;
                            return; // drop the client, as the legacy publisher does
                        }
                        unanswered.get_or_insert_with(Instant::now);
                        let _ = tx.send(Message::text("ping")).await;
                    }
                    _ = live.tick(), if next < bars.len() => {
                        let _ = tx.send(Message::text(frame(false, &bars[next]))).await;
                        next += 1;
                    }
                }
            }
        }
    });
    let p = Project::new();
    let url = format!("ws://127.0.0.1:{port}");
    let mut run = Proc::start(
        p.dir.path(),
        &["run", "--url", &url, "--status-every", "0.1", "--playback"],
    );
    run.wait_bars(200 + LIVE, Duration::from_secs(20));
    let (out, err) = run.interrupt();
    let (connections, pongs, drops) = *stats.lock().unwrap();
    assert_eq!(drops, 0, "a ping went unanswered:\n{err}");
    assert_eq!(connections, 1, "{out}\n{err}");
    assert!(
        pongs >= 25,
        "only {pongs} pongs in ~3 s of pings every 100 ms"
    );
    assert_eq!(count(&out, "connects"), 1, "{out}");
    assert_eq!(count(&out, "bars:"), 200 + LIVE as u64, "{out}");
}

// ------------------------------------------------------------------------------------------
// 6. Slow clients never make `vrev serve` use unbounded memory.

fn rss_mb(pid: u32, key: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap()
        / 1024.0
}

#[test]
fn slow_clients_are_dropped_and_serve_memory_stays_bounded() {
    const HISTORY: usize = 60_000;
    const LIVE: usize = 40_000;
    let p = Project::new();
    // A CSV with offsets (parses fast); 100k bars.
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for b in walk(HISTORY + LIVE, 1_600_000_000) {
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            vrev::feed::protocol::csv_time(b.close_time),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume
        ));
    }
    p.write("bars.csv", &csv);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let port_s = port.to_string();
    // 40,000 live bars at one per 0.2 ms: 8 s; slow clients are dropped 1,000 bars behind.
    let serve = Proc::start(
        p.dir.path(),
        &[
            "serve",
            "bars.csv",
            "--port",
            &port_s,
            "--history",
            "60000",
            "--speed",
            "300000",
            "--max-behind",
            "1000",
        ],
    );
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "serve did not start:\n{}",
            serve.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let base = rss_mb(serve.pid(), "VmRSS:");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("ws://127.0.0.1:{port}");
    let received = rt.block_on(async {
        // Four clients that never read after the handshake.
        let mut slow = Vec::new();
        for _ in 0..4 {
            let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
                .await
                .unwrap();
            slow.push(ws);
        }
        // One that reads everything (and subscribes from the start).
        let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap();
        let mut bars = 0usize;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while bars < HISTORY + LIVE {
            let m = tokio::time::timeout_at(deadline, ws.next()).await;
            let Ok(Some(Ok(Message::Text(t)))) = m else {
                panic!("fast client: {m:?} after {bars} bars")
            };
            match parse(t.as_str()) {
                Ok(Msg::Hello(_)) => {
                    ws.send(Message::text(r#"{"type":"subscribe","after":null}"#))
                        .await
                        .unwrap();
                }
                Ok(Msg::Bar { .. }) => bars += 1,
                _ => {}
            }
        }
        drop(slow);
        bars
    });
    let peak = rss_mb(serve.pid(), "VmHWM:");
    let (_, err) = serve.interrupt();
    eprintln!("serve: RSS {base:.1} MB at start, peak {peak:.1} MB");
    assert_eq!(received, HISTORY + LIVE, "the fast client got every bar");
    let dropped = err
        .lines()
        .filter(|l| l.contains("bars behind (reads too slowly"))
        .count();
    assert_eq!(dropped, 4, "one line per slow client:\n{err}");
    assert!(
        peak - base < 30.0,
        "serve grew from {base:.1} MB to {peak:.1} MB with slow clients"
    );
}

// ------------------------------------------------------------------------------------------
// The replay publisher, the client and the demo end to end.

#[test]
fn serve_then_run_writes_the_signals_of_a_replay() {
    let bars = future_bars(2, 3);
    let n = bars.len();
    let p = Project::new();
    write_nt(&p.path("bars.txt"), &bars);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let _serve = Proc::start(
        p.dir.path(),
        &[
            "serve",
            "bars.txt",
            "--port",
            &port,
            "--history",
            "700",
            "--speed",
            "max",
        ],
    );
    let url = format!("ws://127.0.0.1:{port}");
    let mut run = Proc::start(
        p.dir.path(),
        &[
            "run",
            "--url",
            &url,
            "--status-every",
            "0.1",
            "--reconnect-max",
            "0.2",
            "--playback",
        ],
    );
    run.wait_bars(n, Duration::from_secs(30));
    let (out, _) = run.interrupt();
    assert_eq!(count(&out, "history"), 700, "{out}");
    assert_eq!(count(&out, "live"), n as u64 - 700, "{out}");
    assert_eq!(signal_texts(&p), replay_signals(&bars));
}

#[test]
fn demo_runs_a_synthetic_day_through_the_live_path() {
    let p = Project::new();
    let start = Instant::now();
    let out = p.vrev(&["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(start.elapsed() < Duration::from_secs(20));
    assert!(
        text.contains("signals: 3 — by window: overnight 1 (production), morning 1 (production), afternoon 1 (production)"),
        "{text}"
    );
    assert_eq!(count(&text, "bars:"), 1380, "{text}");
    let files: Vec<String> = std::fs::read_dir(p.path("demo/signals"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != SIGNALS_LOCK)
        .collect();
    assert_eq!(files.len(), 3);
    assert!(text.contains("latency (live bar frame → signal file renamed): p50"));
    // Deterministic: a second run gives the same files.
    let again = p.vrev(&["demo"]);
    assert!(again.status.success());
    let mut files2: Vec<String> = std::fs::read_dir(p.path("demo/signals"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != SIGNALS_LOCK)
        .collect();
    let mut files = files;
    files.sort();
    files2.sort();
    assert_eq!(files, files2);
}

#[test]
fn legacy_live_bars_interleaved_with_history_are_held_until_its_end() {
    let bars = walk(6, 1_700_000_000);
    let b2 = bars.clone();
    let port = publisher(move |_, mut ws| {
        let bars = b2.clone();
        async move {
            let clock = vrev::feed::protocol::LegacyClock::new(chrono_tz::America::New_York);
            let f = |h: bool, b: &Bar| encode_bar(h, &sym(), clock.to_wall(b.close_time), b);
            send(&mut ws, encode_historical_start(4)).await;
            send(&mut ws, f(true, &bars[0])).await;
            send(&mut ws, f(true, &bars[1])).await;
            send(&mut ws, f(false, &bars[4])).await; // live, while history is still coming
            send(&mut ws, f(true, &bars[2])).await;
            send(&mut ws, f(true, &bars[3])).await;
            send(&mut ws, encode_historical_end(4)).await;
            send(&mut ws, f(false, &bars[5])).await;
            idle(&mut ws, Duration::from_secs(20)).await;
        }
    });
    let p = Project::new();
    let url = format!("ws://127.0.0.1:{port}");
    let mut rec = Proc::start(
        p.dir.path(),
        &[
            "record",
            "--url",
            &url,
            "--out",
            "bars.csv",
            "--status-every",
            "0.1",
        ],
    );
    rec.wait_bars(6, Duration::from_secs(20));
    let (out, _) = rec.interrupt();
    assert_eq!(count(&out, "refused: duplicate"), 0, "{out}");
    assert_eq!(count(&out, "out of order"), 0, "{out}");
    let rows: Vec<String> = std::fs::read_to_string(p.path("bars.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let expected: Vec<String> = bars
        .iter()
        .map(|b| vrev::feed::protocol::csv_time(b.close_time))
        .collect();
    assert_eq!(rows, expected, "every bar once, in time order");
}

#[test]
fn a_silent_feed_inside_a_window_is_reported() {
    use chrono::{Datelike, Timelike};
    let now = chrono::Utc::now().with_timezone(&chrono_tz::America::New_York);
    let minute = now.hour() as i64 * 60 + now.minute() as i64;
    if matches!(now.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) || minute >= 1438 {
        skip("no window can contain the present ET time (weekend or 23:58)");
        return;
    }
    let (start, end) = ((minute - 60).max(0), (minute + 60).min(1439));
    let hhmm = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
    let p = Project::new();
    let cfg = std::fs::read_to_string(p.path("config.toml")).unwrap();
    let (head, rest) = cfg.split_at(cfg.find("[[session]]").unwrap());
    let tail = &rest[rest.find("[profile.production]").unwrap()..];
    p.write(
        "config.toml",
        &format!(
            "{head}[[session]]\nname = \"now\"\nstart = \"{}\"\nend = \"{}\"\nprofile = \"production\"\n\n{tail}",
            hhmm(start),
            hhmm(end)
        ),
    );
    let port = publisher(|_, mut ws| async move {
        send(&mut ws, encode_hello("ES 03-25", 60, 0.25, 50.0)).await;
        read_subscribe(&mut ws).await;
        send(&mut ws, encode_historical_start(0)).await;
        send(&mut ws, encode_historical_end(0)).await;
        // Then nothing but pings.
        for _ in 0..100 {
            if !send(&mut ws, "ping".into()).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let url = format!("ws://127.0.0.1:{port}");
    let mut run = Proc::start(
        p.dir.path(),
        &[
            "run",
            "--url",
            &url,
            "--silent-after",
            "0.5",
            "--status-every",
            "0",
        ],
    );
    run.wait_for("the silence report", Duration::from_secs(10), |l| {
        l.contains("feed silent: no bar for") && l.contains("inside window `now` (connected")
    });
    run.interrupt();
    assert!(p
        .journal()
        .iter()
        .any(|e| e["event"] == "feed" && e["state"] == "silent"));
}

#[test]
fn run_applies_a_saved_config_edit_between_bars() {
    let port = publisher(|_, mut ws| async move {
        send(&mut ws, encode_hello("ES 03-25", 60, 0.25, 50.0)).await;
        read_subscribe(&mut ws).await;
        send(&mut ws, encode_historical_start(0)).await;
        send(&mut ws, encode_historical_end(0)).await;
        idle(&mut ws, Duration::from_secs(30)).await;
    });
    let p = Project::new();
    let url = format!("ws://127.0.0.1:{port}");
    let mut run = Proc::start(
        p.dir.path(),
        &["run", "--url", &url, "--status-every", "0.1"],
    );
    run.wait_for("a status line", Duration::from_secs(10), |l| {
        l.contains("afternoon=production")
    });
    // Point the afternoon window at another profile, as a trader would mid-session.
    let cfg = std::fs::read_to_string(p.path("config.toml")).unwrap();
    let i = cfg.find("name = \"afternoon\"").unwrap();
    let j = i + cfg[i..].find("profile = \"production\"").unwrap();
    let edited = format!(
        "{}profile = \"conservative\"{}",
        &cfg[..j],
        &cfg[j + "profile = \"production\"".len()..]
    );
    p.write("config.toml", &edited);
    run.wait_for(
        "the reloaded profile in the status line",
        Duration::from_secs(10),
        |l| l.contains("afternoon=conservative"),
    );
    run.interrupt();
}

// ------------------------------------------------------------------------------------------
// Faults (issue 10): stale chart history, a bar from 2999, a ping flood.

/// The older publisher sends a chart's whole history as live `bar` frames while NinjaTrader
/// loads the chart (no history markers). Those bars are far behind the wall clock: history,
/// whatever the frame type, so no signal may be written for yesterday's patterns.
#[test]
fn old_publisher_chart_load_history_as_live_bars_writes_no_stale_signals() {
    let bars = vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        days: 1,
        seed: 4,
        ..Default::default()
    });
    let n = bars.len();
    let expected = replay_signals(&bars);
    assert!(expected.len() >= 3);
    let shared = Arc::new(bars);
    let b2 = shared.clone();
    let port = publisher(move |_, mut ws| {
        let bars = b2.clone();
        async move {
            let clock = vrev::feed::protocol::LegacyClock::new(chrono_tz::America::New_York);
            for b in bars.iter() {
                let f = encode_bar(false, &sym(), clock.to_wall(b.close_time), b);
                if ws.feed(Message::text(f)).await.is_err() {
                    return;
                }
            }
            let _ = ws.flush().await;
            idle(&mut ws, Duration::from_secs(30)).await;
        }
    });
    let url = format!("ws://127.0.0.1:{port}");
    // A live session: nothing written, every proposal refused (a history burst, or expired on
    // the wall clock), the reason named. And in NinjaTrader Playback, where the wall clock
    // cannot tell (issue 20: the burst became signal files): the same.
    for playback in [false, true] {
        let p = Project::new();
        let mut args = vec!["run", "--url", &url, "--status-every", "0.1"];
        if playback {
            args.push("--playback");
        }
        let mut run = Proc::start(p.dir.path(), &args);
        run.wait_bars(n, Duration::from_secs(30));
        let (out, err) = run.interrupt();
        assert!(
            p.signal_files().is_empty(),
            "playback {playback}: stale signals: {:?}",
            p.signal_files()
        );
        assert!(out.contains("signals: 0"), "{out}");
        let refused = count(&out, "rejected proposals:");
        assert!(refused >= expected.len() as u64, "{out}");
        assert!(
            count(&out, "history burst") >= n as u64 - 10,
            "the frames came back to back: a burst\n{out}"
        );
        assert!(out.contains("history_burst"), "{out}");
        assert!(err.contains("chart history sent as live frames"), "{err}");
    }
}

/// Issue 20, vrev's own publisher: a chart's history comes as `historical_bar` frames, and in
/// Playback (past data) none of them is traded: a history bar's signal is judged by the wall
/// clock even with `--playback`, and it expired long ago.
#[test]
fn playback_history_batch_from_vrevs_own_publisher_is_never_traded() {
    let bars = vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        days: 1,
        seed: 4,
        ..Default::default()
    });
    let n = bars.len();
    let expected = replay_signals(&bars);
    assert!(expected.len() >= 3);
    let mut opts = vrev::feed::server::ServeOptions::new(false, n, None);
    opts.quiet = true;
    let url = serve_on_thread(Arc::new(bars), opts);
    let p = Project::new();
    let mut run = Proc::start(
        p.dir.path(),
        &["run", "--url", &url, "--status-every", "0.1", "--playback"],
    );
    run.wait_bars(n, Duration::from_secs(30));
    let (out, _) = run.interrupt();
    assert_eq!(count(&out, "history"), n as u64, "{out}");
    assert!(p.signal_files().is_empty(), "{:?}", p.signal_files());
    assert!(count(&out, "expired") >= expected.len() as u64, "{out}");
}

/// Issue 20: with `--playback`, vrev already connected while NinjaTrader loads the Playback
/// chart, the older publisher sends the chart's history as live `bar` frames in a burst (no
/// `historical_start`), and they became signal files. The burst warms the strategies up and
/// writes nothing; after a pause, the live bars trade as a replay of the same bars would.
#[test]
fn playback_history_burst_from_the_old_publisher_writes_no_signal_and_live_bars_after_it_trade() {
    let bars = future_bars(2, 6);
    let n = bars.len();
    let p = Project::new();
    // Where the signals are: the engine in memory over the same bars.
    let cfg = vrev::config::Config::load(&p.path("config.toml")).unwrap();
    let mut engine = vrev::host::engine::Engine::new(&cfg, Default::default()).unwrap();
    for b in &bars {
        engine.on_bar(b);
    }
    let last = engine.signals.last().expect("a signal on day 2").clone();
    let at = bars
        .iter()
        .position(|b| b.close_time == last.signal_time)
        .unwrap();
    // The live part: 30 bars before the last signal's bar to 3 after it; the burst: all before.
    let live_from = at - 30;
    let live_to = (at + 4).min(n);
    let live_ids: Vec<String> = engine
        .signals
        .iter()
        .filter(|s| s.signal_time >= bars[live_from].close_time)
        .map(|s| s.id.clone())
        .collect();
    let expected: Vec<(String, String)> = replay_signals(&bars)
        .into_iter()
        .filter(|(f, _)| live_ids.iter().any(|id| f.contains(id.as_str())))
        .collect();
    assert!(!expected.is_empty());
    assert!(
        engine.signals.len() > expected.len(),
        "the burst holds signals of its own"
    );
    let shared = Arc::new(bars[..live_to].to_vec());
    let b2 = shared.clone();
    let port = publisher(move |conn, mut ws| {
        let bars = b2.clone();
        async move {
            assert_eq!(conn, 1, "one connection");
            let clock = vrev::feed::protocol::LegacyClock::new(chrono_tz::America::New_York);
            let f = |b: &Bar| encode_bar(false, &sym(), clock.to_wall(b.close_time), b);
            // Connected, nothing loaded yet; then NinjaTrader loads the chart: its history as
            // live frames, back to back.
            tokio::time::sleep(Duration::from_millis(500)).await;
            for b in &bars[..live_from] {
                if ws.feed(Message::text(f(b))).await.is_err() {
                    return;
                }
            }
            let _ = ws.flush().await;
            // The chart is loaded; Playback runs: a bar every 200 ms (300× real time), each sent
            // twice back to back (a repeat is no burst: it is refused as a duplicate).
            tokio::time::sleep(Duration::from_millis(1500)).await;
            for b in &bars[live_from..] {
                if !send(&mut ws, f(b)).await || !send(&mut ws, f(b)).await {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            idle(&mut ws, Duration::from_secs(30)).await;
        }
    });
    let url = format!("ws://127.0.0.1:{port}");
    let mut run = Proc::start(
        p.dir.path(),
        &["run", "--url", &url, "--status-every", "0.1", "--playback"],
    );
    run.wait_bars(live_to, Duration::from_secs(60));
    let (out, err) = run.interrupt();
    assert_eq!(
        signal_texts(&p),
        expected,
        "only the live part's signals\n{out}\n{err}"
    );
    let burst = count(&out, "history burst");
    assert!(
        burst >= live_from as u64 - 10 && burst <= live_from as u64,
        "{burst} of {live_from} burst bars\n{out}"
    );
    assert!(count(&out, "history_burst") > 0, "{out}");
    assert_eq!(
        count(&out, "duplicate"),
        (live_to - live_from) as u64,
        "{out}"
    );
    assert!(err.contains("history burst ended (a pause)"), "{err}");
    let journal = p.journal();
    assert!(journal
        .iter()
        .any(|e| e["event"] == "feed" && e["state"] == "history_burst"));
}

/// Issue 20: the frame's `symbol` was never compared with `[instrument] symbol`; MES and NQ
/// bars were traded as ES, and the status line said `refused 0`. They are refused, counted,
/// shown, reported once per root symbol, and never reach the engine.
#[test]
fn wrong_instrument_bars_are_refused_counted_shown_and_never_traded() {
    let bars = future_bars(1, 5);
    let n = bars.len();
    let expected = replay_signals(&bars);
    assert!(expected.len() >= 3, "the ES bars would trade");
    let b2 = Arc::new(bars.clone());
    let port = publisher(move |_, mut ws| {
        let bars = b2.clone();
        async move {
            send(&mut ws, encode_hello("ES 03-25", 60, 0.25, 50.0)).await;
            read_subscribe(&mut ws).await;
            send(&mut ws, encode_historical_start(0)).await;
            send(&mut ws, encode_historical_end(0)).await;
            for (i, b) in bars.iter().enumerate() {
                // The same prices under other names: two charts on one publisher.
                let symbol = if i < 600 {
                    "\"MES 03-25\""
                } else if i < n - 5 {
                    "\"NQ 03-25\""
                } else {
                    "\"ES 03-25\""
                };
                if ws
                    .feed(Message::text(encode_bar(false, symbol, b.close_time, b)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            let _ = ws.flush().await;
            idle(&mut ws, Duration::from_secs(30)).await;
        }
    });
    let p = Project::new();
    let url = format!("ws://127.0.0.1:{port}");
    let mut run = Proc::start(
        p.dir.path(),
        &["run", "--url", &url, "--status-every", "0.1", "--playback"],
    );
    let wrong = n as u64 - 5;
    run.wait_for("every bar", Duration::from_secs(30), |l| {
        (l.contains("| bars 5 (") && l.contains(&format!("wrong instrument {wrong})")))
            || l.contains(&format!("| bars {n} ("))
    });
    std::thread::sleep(Duration::from_millis(300));
    let (out, err) = run.interrupt();
    assert!(
        p.signal_files().is_empty(),
        "MES/NQ bars traded as ES: {:?}",
        p.signal_files()
    );
    assert_eq!(count(&out, "bars:"), 5, "{out}");
    assert_eq!(count(&out, "wrong instrument"), wrong, "{out}");
    let status = err
        .lines()
        .rev()
        .find(|l| l.contains("status:"))
        .expect("a status line");
    assert!(
        status.contains(&format!("refused {wrong} (wrong instrument {wrong})")),
        "{status}"
    );
    // One line per root symbol and run, not one per bar.
    assert_eq!(
        err.matches("WARNING: bar of `MES 03-25` refused").count(),
        1,
        "{err}"
    );
    assert_eq!(
        err.matches("WARNING: bar of `NQ 03-25` refused").count(),
        1,
        "{err}"
    );
    let journaled: Vec<_> = p
        .journal()
        .into_iter()
        .filter(|e| e["event"] == "feed" && e["state"] == "wrong_instrument")
        .collect();
    assert_eq!(journaled.len(), 2, "{journaled:?}");
    let end = journal_end(&p);
    assert_eq!(end["bars"], 5, "only the ES bars reach the engine: {end}");
}

/// One live bar stamped in 2999 is refused; every bar after it is still processed.
#[test]
fn a_live_bar_stamped_in_2999_does_not_poison_the_feed() {
    let now = chrono::Utc::now().timestamp() / 60 * 60;
    let bars = walk(40, now - 60 * 60);
    let b2 = bars.clone();
    let port = publisher(move |_, mut ws| {
        let bars = b2.clone();
        async move {
            send(&mut ws, encode_hello("ES 03-25", 60, 0.25, 50.0)).await;
            read_subscribe(&mut ws).await;
            send(&mut ws, encode_historical_start(0)).await;
            send(&mut ws, encode_historical_end(0)).await;
            for (k, b) in bars.iter().enumerate() {
                send(&mut ws, encode_bar(false, &sym(), b.close_time, b)).await;
                if k == 10 {
                    let poison = Bar {
                        close_time: 32_503_680_000, // 2999-12-31
                        ..*b
                    };
                    send(
                        &mut ws,
                        encode_bar(false, &sym(), poison.close_time, &poison),
                    )
                    .await;
                }
            }
            idle(&mut ws, Duration::from_secs(30)).await;
        }
    });
    let p = Project::new();
    let url = format!("ws://127.0.0.1:{port}");
    let mut run = Proc::start(
        p.dir.path(),
        &["run", "--url", &url, "--status-every", "0.1"],
    );
    run.wait_bars(40, Duration::from_secs(20));
    let (out, err) = run.interrupt();
    assert_eq!(count(&out, "bars:"), 40, "{out}");
    assert_eq!(count(&out, "in the future"), 1, "{out}");
    assert!(err.contains("it cannot have closed yet"), "{err}");
    let end = journal_end(&p);
    assert_eq!(end["bars"], 40);
    assert_eq!(end["bars_implausible"], 1, "{end}");
}

/// A publisher that floods text pings and never reads must not leave `vrev run` stuck writing
/// pongs, deaf to Ctrl+C.
#[test]
fn a_publisher_that_floods_pings_and_never_reads_cannot_wedge_run() {
    let flooding = Arc::new(AtomicUsize::new(0));
    let f2 = flooding.clone();
    let port = publisher(move |_, ws| {
        let flooding = f2.clone();
        async move {
            let (mut tx, _rx) = ws.split(); // never read
            let end = Instant::now() + Duration::from_secs(40);
            while Instant::now() < end {
                let sent =
                    tokio::time::timeout(Duration::from_secs(1), tx.send(Message::text("ping")))
                        .await;
                if matches!(sent, Ok(Err(_))) {
                    return;
                }
                flooding.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let p = Project::new();
    let url = format!("ws://127.0.0.1:{port}");
    let mut run = Proc::start(
        p.dir.path(),
        &["run", "--url", &url, "--status-every", "0.2"],
    );
    run.wait_for("the flood", Duration::from_secs(20), |l| {
        l.contains("status: connected")
    });
    // Long enough for unthrottled pongs to fill both socket buffers several times over.
    std::thread::sleep(Duration::from_secs(6));
    assert!(
        flooding.load(Ordering::Relaxed) > 10_000,
        "the publisher did flood"
    );
    run.interrupt(); // panics if vrev does not stop within 10 s
}

/// `vrev demo --dir D` once removed `D/state` and `D/signals` wholesale, unrelated files too.
#[test]
fn demo_deletes_only_what_it_made_and_refuses_a_folder_it_did_not_make() {
    let p = Project::new();
    std::fs::create_dir_all(p.path("mine/signals")).unwrap();
    std::fs::write(p.path("mine/signals/keep.txt"), "mine").unwrap();
    let out = p.vrev(&["demo", "--dir", "mine"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("mine: holds signals") && err.contains("not a folder `vrev demo` made"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(p.path("mine/signals/keep.txt")).unwrap(),
        "mine"
    );
    // In its own folder, a file it did not make survives a second run.
    let first = p.vrev(&["demo", "--dir", "d"]);
    assert!(first.status.success(), "{}", stderr(&first));
    std::fs::write(p.path("d/signals/notes.md"), "mine").unwrap();
    std::fs::write(p.path("d/state/notes.md"), "mine").unwrap();
    let again = p.vrev(&["demo", "--dir", "d"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        std::fs::read_to_string(p.path("d/signals/notes.md")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(p.path("d/state/notes.md")).unwrap(),
        "mine"
    );
    let signals = std::fs::read_dir(p.path("d/signals")).unwrap().count();
    assert_eq!(signals, 5, "three signals, the notes and the folder's lock");
}
