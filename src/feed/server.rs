//! `vrev serve`: a replay publisher that speaks both feed protocols (`docs/protocol.md` §2), so
//! the live path runs without NinjaTrader.
//!
//! The bar list is shared by every connection. A timeline says how many bars are *published*:
//! the first `history` bars at once, then one more every `bar_seconds / speed` (all of them at
//! `--speed max`). The live clock starts when the first client has received its history; later
//! clients and reconnects join the same timeline, as with NinjaTrader.
//!
//! Each connection gets (vrev protocol) `hello`, up to 2 s to `subscribe {after}`, then the
//! published bars after `after` as history and every bar published later as live; (legacy) all
//! published bars as history, then live, with local wall-clock timestamps and a false `Z`. Both
//! send a text `ping` every `ping_every` and drop a client that leaves one unanswered for
//! `pong_timeout`.
//!
//! Memory is bounded whatever the clients do: a connection is a cursor into the shared list,
//! frames are encoded as the socket accepts them (a client that does not read only fills its own
//! socket buffers), and a client more than `max_behind` published bars behind is dropped with one
//! log line (at a finite speed; at `max` there is nothing to fall behind).

use super::admission::{refusal, Slot, Slots, TOKEN_HEADER};
use super::protocol::{self, LegacyClock, Msg};
use crate::market::bar::Bar;
use chrono_tz::Tz;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// Largest speed-up a `--pace`/`--speed` accepts.
pub const MAX_FACTOR: f64 = 1_000_000.0;

/// How `serve` publishes.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Speak the older Python publisher's protocol.
    pub legacy: bool,
    /// Bars published before the first client connects (sent as history).
    pub history: usize,
    /// Times real time; None = as fast as each client reads.
    pub speed: Option<f64>,
    pub bar_seconds: i64,
    /// Instrument name in `hello` and in every bar's `symbol`.
    pub symbol: String,
    /// Zone of the legacy timestamps.
    pub legacy_tz: Tz,
    pub tick_size: f64,
    pub point_value: f64,
    pub ping_every: Duration,
    pub pong_timeout: Duration,
    /// A client this many published bars behind is dropped (finite speeds).
    pub max_behind: usize,
    /// How long the vrev publisher waits for `subscribe`.
    pub subscribe_wait: Duration,
    /// No per-connection log lines.
    pub quiet: bool,
    /// A client that has not completed the WebSocket handshake by then is dropped.
    pub handshake_timeout: Duration,
    /// Connections held at once, in all and from one address.
    pub max_clients: usize,
    pub max_per_ip: usize,
    /// Browser `Origin`s allowed to connect (`*`: any); others are refused with 403.
    pub allowed_origins: Vec<String>,
    /// Shared token a client must send (`?token=` or `X-Vrev-Token`); None: none needed.
    pub token: Option<String>,
}

/// Default caps: in all, and per address (`run`, `record` and a check may all come from
/// 127.0.0.1, so at least 4).
pub const DEFAULT_MAX_CLIENTS: usize = 32;
pub const DEFAULT_MAX_PER_IP: usize = 8;
/// Default time to complete the WebSocket handshake.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

impl ServeOptions {
    pub fn new(legacy: bool, history: usize, speed: Option<f64>) -> Self {
        ServeOptions {
            legacy,
            history,
            speed,
            bar_seconds: 60,
            symbol: "ES".into(),
            legacy_tz: chrono_tz::America::New_York,
            tick_size: 0.25,
            point_value: 50.0,
            ping_every: Duration::from_secs(10),
            pong_timeout: Duration::from_secs(if legacy { 20 } else { 30 }),
            max_behind: 20_000,
            subscribe_wait: Duration::from_secs(2),
            quiet: false,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_clients: DEFAULT_MAX_CLIENTS,
            max_per_ip: DEFAULT_MAX_PER_IP,
            allowed_origins: Vec::new(),
            token: None,
        }
    }
}

/// `--speed`: a positive factor or `max`.
pub fn parse_speed(s: &str) -> Result<Option<f64>, String> {
    if s.eq_ignore_ascii_case("max") {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x <= MAX_FACTOR => Ok(Some(x)),
        _ => Err(format!(
            "--speed {s}: expected a number above 0 and at most {} (60 = one one-minute bar per second) or `max`",
            MAX_FACTOR
        )),
    }
}

struct Shared {
    bars: Arc<Vec<Bar>>,
    opts: ServeOptions,
    symbol_json: String,
    /// Bars published so far (kept here for the server's lifetime: receivers never see it close).
    published: watch::Sender<usize>,
    start_clock: Notify,
}

/// Serves `bars` on `listener` until the future is dropped.
pub async fn serve(listener: TcpListener, bars: Arc<Vec<Bar>>, opts: ServeOptions) {
    let n = bars.len();
    let shared = Arc::new(Shared {
        symbol_json: serde_json::to_string(&opts.symbol).unwrap_or_else(|_| "\"ES\"".into()),
        published: watch::Sender::new(opts.history.min(n)),
        bars,
        opts,
        start_clock: Notify::new(),
    });
    tokio::spawn(clock(shared.clone()));
    let slots = Slots::new(shared.opts.max_clients, shared.opts.max_per_ip);
    loop {
        match listener.accept().await {
            Ok((sock, addr)) => match slots.take(addr.ip()) {
                Ok(slot) => {
                    tokio::spawn(client(shared.clone(), sock, addr, slot));
                }
                Err(why) => {
                    // Closed at once: an idle crowd cannot use up the open-files limit.
                    drop(sock);
                    if !shared.opts.quiet {
                        crate::errln!("serve: {addr}: {why}");
                    }
                }
            },
            Err(e) => {
                tracing::warn!("serve: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Advances the timeline once the first client has its history.
async fn clock(shared: Arc<Shared>) {
    shared.start_clock.notified().await;
    let tx = &shared.published;
    let n = shared.bars.len();
    let first = *tx.borrow();
    let Some(speed) = shared.opts.speed else {
        tx.send_replace(n);
        return;
    };
    let per_bar = Duration::from_secs_f64(shared.opts.bar_seconds as f64 / speed);
    let start = Instant::now();
    let mut k: u64 = 0;
    while first + (k as usize) < n {
        k += 1;
        let due = start + per_bar.mul_f64(k as f64);
        tokio::time::sleep_until(due).await;
        // Timers have a millisecond grain: publish everything that is due by now.
        let elapsed = start.elapsed().as_secs_f64();
        let due_count = (elapsed / per_bar.as_secs_f64()).floor() as u64;
        k = k.max(due_count);
        let published = (first + k as usize).min(n);
        tx.send_replace(published);
    }
    if !shared.opts.quiet {
        crate::errln!("serve: all {n} bars published (clients stay connected; Ctrl+C stops)");
    }
}

enum Phase {
    Start,
    History(usize),
    Live(usize),
}

async fn client(shared: Arc<Shared>, sock: TcpStream, addr: SocketAddr, _slot: Slot) {
    let quiet = shared.opts.quiet;
    let (origins, token) = (
        shared.opts.allowed_origins.clone(),
        shared.opts.token.clone(),
    );
    // The callback's types are tungstenite's (`accept_hdr_async`): its error is the HTTP
    // refusal itself, large by nature and sent once per refused handshake.
    #[allow(clippy::result_large_err)]
    let admit = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        match refusal(
            header("origin"),
            req.uri().query(),
            header(TOKEN_HEADER),
            &origins,
            token.as_deref(),
        ) {
            None => Ok(resp),
            Some((code, why)) => {
                let mut e = ErrorResponse::new(Some(why));
                *e.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::from_u16(code)
                    .unwrap_or(tokio_tungstenite::tungstenite::http::StatusCode::FORBIDDEN);
                Err(e)
            }
        }
    };
    let _ = sock.set_nodelay(true);
    let cfg = WebSocketConfig::default()
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
        .max_write_buffer_size(4 << 20);
    let ws = match tokio::time::timeout(
        shared.opts.handshake_timeout,
        tokio_tungstenite::accept_hdr_async_with_config(sock, admit, Some(cfg)),
    )
    .await
    {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            if !quiet {
                crate::errln!("serve: {addr}: WebSocket handshake failed: {e}");
            }
            return;
        }
        Err(_) => {
            if !quiet {
                crate::errln!("serve: {addr}: WebSocket handshake timed out");
            }
            return;
        }
    };
    let (reason, history, live) = session(&shared, ws, addr).await;
    if !quiet {
        crate::errln!("serve: {addr}: {reason} (sent {history} history + {live} live bars)");
    }
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

/// One connection; returns (why it ended, history bars sent, live bars sent).
async fn session(shared: &Shared, ws: Ws, addr: SocketAddr) -> (String, usize, usize) {
    let opts = &shared.opts;
    let bars = &shared.bars[..];
    let (mut tx, mut rx) = ws.split();
    let mut after = None;
    let mut subscribed = false;
    if !opts.legacy {
        let hello = protocol::encode_hello(
            &opts.symbol,
            opts.bar_seconds,
            opts.tick_size,
            opts.point_value,
        );
        if let Err(e) = tx.send(Message::text(hello)).await {
            return (format!("disconnected: {e}"), 0, 0);
        }
        let deadline = Instant::now() + opts.subscribe_wait;
        loop {
            match tokio::time::timeout_at(deadline, rx.next()).await {
                Err(_) => break,
                Ok(None) | Ok(Some(Err(_))) => {
                    return ("disconnected before subscribing".into(), 0, 0)
                }
                Ok(Some(Ok(Message::Text(t)))) => {
                    if let Ok(Msg::Subscribe { after: a }) = protocol::parse(t.as_str()) {
                        after = a;
                        subscribed = true;
                        break;
                    }
                }
                Ok(Some(Ok(Message::Close(_)))) => {
                    return ("closed by the client before subscribing".into(), 0, 0)
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }
    let snapshot = *shared.published.borrow();
    let from = match after {
        Some(a) => bars[..snapshot].partition_point(|b| b.close_time <= a),
        None => 0,
    };
    if !opts.quiet {
        let how = if opts.legacy {
            "legacy".to_string()
        } else if subscribed {
            match after {
                Some(a) => format!("vrev 1, subscribe after {}", protocol::utc_text(a)),
                None => "vrev 1, subscribe from the start".into(),
            }
        } else {
            "vrev 1, no subscribe within the wait: all history".into()
        };
        crate::errln!(
            "serve: {addr} connected ({how}): history {} bars",
            snapshot - from
        );
    }

    let mut legacy_clock = opts.legacy.then(|| LegacyClock::new(opts.legacy_tz));
    let mut wall = move |utc: i64| match &mut legacy_clock {
        Some(c) => c.to_wall(utc),
        None => utc,
    };
    let mut published_rx = shared.published.subscribe();
    let mut phase = Phase::Start;
    let mut pending_ping = false;
    let mut awaiting_pong: Option<Instant> = None;
    let mut dirty = false;
    let (mut sent_history, mut sent_live) = (0usize, 0usize);
    let mut ping_timer =
        tokio::time::interval_at(Instant::now() + opts.ping_every, opts.ping_every);
    ping_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut lag_timer = tokio::time::interval(Duration::from_millis(200));
    lag_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let finite = opts.speed.is_some();

    loop {
        let published = *published_rx.borrow_and_update();
        let has_next = pending_ping
            || match phase {
                Phase::Start | Phase::History(_) => true,
                Phase::Live(c) => c < published,
            };
        let can_write = has_next || dirty;
        tokio::select! {
            biased;
            m = rx.next() => match m {
                Some(Ok(Message::Text(t))) => {
                    if t.as_str().trim() == "pong" {
                        awaiting_pong = None;
                    }
                }
                Some(Ok(Message::Close(_))) => {
                    let _ = tokio::time::timeout(Duration::from_millis(200), tx.close()).await;
                    return ("closed by the client".into(), sent_history, sent_live);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return (format!("disconnected: {e}"), sent_history, sent_live),
                None => return ("disconnected".into(), sent_history, sent_live),
            },
            _ = ping_timer.tick() => {
                if let Some(since) = awaiting_pong {
                    if since.elapsed() >= opts.pong_timeout {
                        let _ = tokio::time::timeout(Duration::from_millis(200), tx.close()).await;
                        return (
                            format!("dropped: no pong for {:.1} s", since.elapsed().as_secs_f64()),
                            sent_history,
                            sent_live,
                        );
                    }
                } else {
                    awaiting_pong = Some(Instant::now());
                }
                pending_ping = true;
            },
            _ = lag_timer.tick(), if finite => {
                let at = match phase {
                    Phase::Live(c) => c,
                    _ => snapshot,
                };
                let behind = published.saturating_sub(at);
                if behind > opts.max_behind {
                    return (
                        format!("dropped: {behind} bars behind (reads too slowly; limit {})", opts.max_behind),
                        sent_history,
                        sent_live,
                    );
                }
            },
            r = std::future::poll_fn(|cx| {
                if !has_next {
                    return match tx.poll_flush_unpin(cx) {
                        Poll::Ready(r) => {
                            dirty = false;
                            Poll::Ready(r)
                        }
                        Poll::Pending => Poll::Pending,
                    };
                }
                // Encode frames only as the socket takes them: nothing queues up per client.
                for _ in 0..256 {
                    match tx.poll_ready_unpin(cx) {
                        Poll::Ready(Ok(())) => {}
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => return Poll::Pending,
                    }
                    let text = if pending_ping {
                        pending_ping = false;
                        "ping".to_string()
                    } else {
                        match phase {
                            Phase::Start => {
                                phase = Phase::History(from);
                                protocol::encode_historical_start(snapshot - from)
                            }
                            Phase::History(i) if i < snapshot => {
                                phase = Phase::History(i + 1);
                                sent_history += 1;
                                let b = &bars[i];
                                protocol::encode_bar(true, &shared.symbol_json, wall(b.close_time), b)
                            }
                            Phase::History(_) => {
                                phase = Phase::Live(snapshot);
                                shared.start_clock.notify_one();
                                protocol::encode_historical_end(snapshot - from)
                            }
                            Phase::Live(c) if c < published => {
                                phase = Phase::Live(c + 1);
                                sent_live += 1;
                                let b = &bars[c];
                                protocol::encode_bar(false, &shared.symbol_json, wall(b.close_time), b)
                            }
                            Phase::Live(_) => return Poll::Ready(Ok(())),
                        }
                    };
                    dirty = true;
                    if let Err(e) = tx.start_send_unpin(Message::text(text)) {
                        return Poll::Ready(Err(e));
                    }
                }
                Poll::Ready(Ok(()))
            }), if can_write => {
                if let Err(e) = r {
                    return (format!("disconnected: {e}"), sent_history, sent_live);
                }
            },
            _ = published_rx.changed(), if !can_write => {},
        }
    }
}
