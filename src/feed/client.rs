//! The feed client shared by `vrev run`, `vrev record` and `vrev demo` (DESIGN §11).
//!
//! One loop, forever until stopped: connect (capped exponential backoff between attempts), tell
//! the two publishers apart by the first frame (`hello` = vrev protocol: answer `subscribe`
//! with the last bar we have, so a reconnect gets only the gap; anything else = legacy: its
//! history is re-sent on every connect and its timestamps are local wall time), answer text
//! `ping` with `pong`, and hand each new bar, in time order and exactly once, to a [`Sink`].
//!
//! Bars already processed (close time ≤ the last one handed on) are skipped and counted; bars
//! that go backwards or repeat within one stream, malformed frames, unknown types, missing
//! fields, invalid prices and oversized frames are logged and counted and never stop the loop.
//! Live bars that arrive while a history batch is still coming are held (bounded) and handed on
//! after `historical_end`, so history and live interleaving never loses a bar.

use super::protocol::{self, FrameError, Hello, LegacyClock, Msg, WireBar, WireTick};
use crate::feed::admission::redact_url;
use crate::market::bar::Bar;
use crate::market::plausibility::MAX_FUTURE_SECONDS;
use crate::market::time::{MarketClock, SessionWindow};
use chrono_tz::Tz;
use futures_util::{FutureExt, SinkExt, StreamExt};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

/// How the client behaves. [`ClientOptions::new`] gives the defaults used by the commands.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub url: String,
    /// Shared feed token sent as the `X-Vrev-Token` header (never printed).
    pub token: Option<String>,
    /// Zone of the legacy publisher's false-UTC timestamps.
    pub legacy_tz: Tz,
    /// First wait before reconnecting; doubled after each failed attempt up to `reconnect_max`.
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// Text frames longer than this are skipped and counted as oversized.
    pub max_text: usize,
    /// Messages longer than this are refused by the WebSocket layer (the connection is then
    /// re-established).
    pub max_message: usize,
    /// Status line interval (None = no status lines).
    pub status_every: Option<Duration>,
    /// A feed without a bar for this long while the wall clock is inside a window is reported.
    pub silent_after: Duration,
    /// Session windows (name, window) for the silence report.
    pub windows: Vec<(String, SessionWindow)>,
    /// Nothing received for this long: send a WebSocket ping; nothing for twice this long:
    /// reconnect (a half-open connection never ends by itself).
    pub idle_timeout: Duration,
    /// Live bars held while a history batch is in progress, at most.
    pub held_live_max: usize,
    /// Expected bar period and tick size (a `hello` that disagrees is reported).
    pub bar_seconds: i64,
    pub tick_size: Option<f64>,
    /// No connection/status lines (benchmarks).
    pub quiet: bool,
    /// Refuse bars closing more than [`MAX_FUTURE_SECONDS`] after the wall clock. Default true;
    /// off for NinjaTrader Playback, whose data time has nothing to do with the wall clock.
    pub reject_future_bars: bool,
    /// Prefix of the log lines (`run`, `record`, `demo`).
    pub name: &'static str,
    /// The configured instrument (`[instrument] symbol`): a bar whose `symbol` has another root
    /// ([`protocol::same_instrument`]) is refused and counted (`wrong instrument`) and never
    /// reaches the sink. None = every symbol is taken (`vrev record`).
    pub instrument: Option<String>,
    /// Legacy publisher only: two live `bar` frames less than this apart are a burst of chart
    /// history (the older publisher sends a chart's history as live frames while NinjaTrader
    /// loads it, `docs/live.md`): handed on as [`Sink::burst_bar`], never as live bars. None =
    /// off. Default [`BURST_GAP`].
    pub burst_gap: Option<Duration>,
    /// Legacy publisher only: hold a live bar that comes after a pause for up to `burst_gap`,
    /// to see whether it is the first bar of a burst (`vrev run --playback`, where the wall
    /// clock cannot tell history from live). Default false: the first bar goes on at once.
    pub hold_burst_start: bool,
}

/// The default [`ClientOptions::burst_gap`]: one-minute bars 60 ms apart are 1000× real time,
/// twice NinjaTrader Playback's fastest speed (500×).
pub const BURST_GAP: Duration = Duration::from_millis(60);

/// The burst gap for bars of `bar_seconds`: a thousandth of the bar period (faster than 1000×
/// real time), [`BURST_GAP`] for non-time bars, between 5 ms and 1 s.
pub fn burst_gap_for(bar_seconds: i64) -> Duration {
    if bar_seconds <= 0 {
        return BURST_GAP;
    }
    Duration::from_millis(bar_seconds as u64)
        .clamp(Duration::from_millis(5), Duration::from_secs(1))
}

impl ClientOptions {
    pub fn new(url: &str, legacy_tz: Tz, name: &'static str) -> Self {
        ClientOptions {
            url: url.to_string(),
            token: None,
            legacy_tz,
            reconnect_min: Duration::from_millis(250),
            reconnect_max: Duration::from_secs(10),
            max_text: 64 * 1024,
            max_message: 1 << 20,
            status_every: None,
            silent_after: Duration::from_secs(150),
            windows: Vec::new(),
            idle_timeout: Duration::from_secs(45),
            held_live_max: 100_000,
            bar_seconds: 60,
            tick_size: None,
            quiet: false,
            reject_future_bars: true,
            name,
            instrument: None,
            burst_gap: Some(BURST_GAP),
            hold_burst_start: false,
        }
    }
}

/// Whether the client goes on after a bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// Which publisher a connection speaks.
#[derive(Clone, Debug, PartialEq)]
pub enum Protocol {
    Vrev(Hello),
    Legacy,
}

impl Protocol {
    pub fn describe(&self) -> String {
        match self {
            Protocol::Vrev(h) if h.instrument.is_empty() => format!("vrev {}", h.protocol),
            Protocol::Vrev(h) => format!("vrev {}, {}", h.protocol, h.instrument),
            Protocol::Legacy => "legacy".into(),
        }
    }
}

/// A last-trade update with its UTC time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tick {
    pub time: i64,
    pub price: f64,
    pub volume: f64,
}

/// What the client feeds. Everything is called on the runtime thread, synchronously.
pub trait Sink {
    /// A new bar: valid, strictly after every bar handed on before, never twice.
    fn bar(&mut self, bar: &Bar, history: bool, arrived: Instant) -> Flow;
    /// A new bar that came as a live frame in a burst judged to be chart history
    /// ([`ClientOptions::burst_gap`]): it may warm a strategy up but must never produce a
    /// signal. Default: handed on as a history bar.
    fn burst_bar(&mut self, bar: &Bar, arrived: Instant) -> Flow {
        self.bar(bar, true, arrived)
    }
    /// A bar whose values are invalid (NaN, non-positive, high < low, ...): already counted and
    /// logged by the client; the engine journals it.
    fn rejected_bar(&mut self, _bar: &Bar, _reason: &str) {}
    /// Close time of the newest bar the sink has taken for good, when it judges bars itself
    /// (the engine holds an implausible bar until the next one decides). Default: every bar
    /// handed over counts as taken.
    fn last_taken(&self) -> Option<i64> {
        None
    }
    fn tick(&mut self, _tick: &Tick) {}
    /// Feed events worth a journal line: `connected`, `disconnected`, `silent`.
    fn feed_event(&mut self, _state: &str, _detail: &str) {}
    /// Called about every 250 ms whatever the feed does (e.g. to apply saved edits promptly).
    fn idle(&mut self) {}
    /// The sink's part of the status line.
    fn status(&self) -> String {
        String::new()
    }
    /// The client's side of the feed (connection, counters): after every bar handed on and
    /// about every 250 ms (the live desk's Feed pane). Must return at once.
    fn feed_state(&mut self, _feed: &FeedView<'_>) {}
}

/// What the client knows of the feed, for [`Sink::feed_state`].
#[derive(Clone, Copy, Debug)]
pub struct FeedView<'a> {
    /// Since when connected, and the publisher (`vrev 1, ESZ6` / `legacy`); `None` while
    /// disconnected.
    pub connected: Option<(Instant, &'a str)>,
    pub counters: &'a FeedCounters,
}

/// Everything the client counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedCounters {
    pub connects: u64,
    pub disconnects: u64,
    pub failed_connects: u64,
    pub frames: u64,
    /// Bars handed to the sink.
    pub history_bars: u64,
    pub live_bars: u64,
    /// Live frames handed to the sink as chart history: bars of a burst faster than real time
    /// from the legacy publisher ([`ClientOptions::burst_gap`]); never a signal.
    pub history_burst: u64,
    /// Bursts seen.
    pub bursts: u64,
    /// Bars we already had (history re-sent after a reconnect): skipped silently.
    pub already_had: u64,
    /// Same close time as the previous bar of the same stream on the connection.
    pub duplicate: u64,
    /// Earlier than the previous bar of the same stream on the connection.
    pub out_of_order: u64,
    /// Not JSON, wrong value types, bad timestamps, binary frames.
    pub malformed: u64,
    pub unknown_type: u64,
    pub missing_field: u64,
    /// NaN, zero or negative prices, high < low, ...
    pub invalid_bar: u64,
    /// Closing further than [`MAX_FUTURE_SECONDS`] after the wall clock.
    pub future_bar: u64,
    /// Bars of another instrument than the configured one (root symbol): refused, never handed
    /// to the sink.
    pub wrong_instrument: u64,
    pub oversized: u64,
    pub ticks: u64,
    pub pings: u64,
}

impl FeedCounters {
    pub fn bars(&self) -> u64 {
        self.history_bars + self.live_bars + self.history_burst
    }
    /// Frames refused (logged and counted).
    pub fn bad_frames(&self) -> u64 {
        self.duplicate
            + self.out_of_order
            + self.malformed
            + self.unknown_type
            + self.missing_field
            + self.invalid_bar
            + self.future_bar
            + self.oversized
            + self.wrong_instrument
    }
    /// `bars N (history H, live L) · skipped: ...` as in the status line and the summary.
    pub fn describe(&self) -> String {
        format!(
            "bars {} (history {}, live {}, history burst {}) | already had {} | refused: duplicate {}, out of order {}, malformed {}, unknown type {}, missing field {}, invalid {}, in the future {}, oversized {}, wrong instrument {} | connects {}",
            self.bars(),
            self.history_bars,
            self.live_bars,
            self.history_burst,
            self.already_had,
            self.duplicate,
            self.out_of_order,
            self.malformed,
            self.unknown_type,
            self.missing_field,
            self.invalid_bar,
            self.future_bar,
            self.oversized,
            self.wrong_instrument,
            self.connects
        )
    }
}

type Ws = WebSocketStream<TcpStream>;

/// Why a connection ended.
enum End {
    Stop,
    Lost(String),
}

/// The client: state that survives reconnects.
pub struct Client<'a, S: Sink> {
    opts: ClientOptions,
    sink: &'a mut S,
    pub counters: FeedCounters,
    /// Close time of the last bar handed to the sink.
    last: Option<i64>,
    legacy: LegacyClock,
    exchange: MarketClock,
    complaints: u64,
    connected: Option<(Instant, String)>,
    last_bar_frame: Instant,
    last_frame: Instant,
    silent_reported: bool,
    next_status: Option<Instant>,
    idle_pinged: bool,
    /// When the last text `pong` was sent.
    last_pong: Option<Instant>,
    /// Root symbols of refused wrong-instrument bars already reported (at most
    /// [`WRONG_SYMBOLS_REPORTED`]): one log and journal line per root per run.
    wrong_symbols: Vec<String>,
}

/// How many different wrong root symbols get their own log and journal line in a run.
pub const WRONG_SYMBOLS_REPORTED: usize = 16;

/// How a bar is handed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    History,
    Live,
    /// A live frame of a history burst.
    Burst,
}

/// Text pings are answered at most this often: a publisher that floods pings gets at most 20
/// pongs a second (the legacy publisher pings every few seconds and wants a pong within 20 s).
pub const PONG_EVERY: Duration = Duration::from_millis(50);

/// Longest wait for one outgoing message before the connection is given up.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// One connection's state.
struct Conn {
    protocol: Option<Protocol>,
    in_history: bool,
    history_count: Option<u64>,
    history_received: u64,
    held: VecDeque<(WireBar, Instant)>,
    prev_history: Option<i64>,
    prev_live: Option<i64>,
    prev_tick: Option<i64>,
    got_frames: bool,
    /// When the previous live `bar` frame of the instrument arrived, and its timestamp (wall
    /// seconds as written), for the legacy burst rule.
    prev_live_frame: Option<(Instant, i64)>,
    /// A live bar after a pause, held up to the burst gap ([`ClientOptions::hold_burst_start`]).
    pending: Option<(WireBar, Instant)>,
    /// Bars of the burst in progress (0 = none).
    burst: u64,
}

impl Conn {
    fn new() -> Self {
        Conn {
            protocol: None,
            in_history: false,
            history_count: None,
            history_received: 0,
            held: VecDeque::new(),
            prev_history: None,
            prev_live: None,
            prev_tick: None,
            got_frames: false,
            prev_live_frame: None,
            pending: None,
            burst: 0,
        }
    }
}

/// Checks the URL once (a typo is an error, not a reason to retry forever).
pub fn check_url(url: &str) -> anyhow::Result<()> {
    let shown = redact_url(url);
    let req = url
        .into_client_request()
        .map_err(|e| anyhow::anyhow!("--url {shown}: {e}"))?;
    match req.uri().scheme_str() {
        Some("ws") => Ok(()),
        Some("wss") => anyhow::bail!(
            "--url {shown}: wss:// is not supported (the publishers listen on plain ws:// on the local network)"
        ),
        _ => anyhow::bail!("--url {shown}: expected ws://HOST:PORT"),
    }
}

/// The publisher's WebSocket request for `url`, with the feed token header, and the host and
/// port to dial. One place for the engine's client and `vrev doctor`, so the doctor checks what
/// the engine will send: a token that is not a valid header value is an error for both.
pub fn feed_request(url: &str, token: Option<&str>) -> Result<FeedRequest, FeedRequestError> {
    let mut req = url
        .into_client_request()
        .map_err(|e| FeedRequestError::Url(crate::feed::admission::redact_url(&e.to_string())))?;
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        let v = t.parse().map_err(|_| FeedRequestError::Token)?;
        req.headers_mut()
            .insert(crate::feed::admission::TOKEN_HEADER, v);
    }
    let host = req
        .uri()
        .host()
        .unwrap_or("127.0.0.1")
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = req.uri().port_u16().unwrap_or(80);
    Ok((req, host, port))
}

/// The request, the host and the port of [`feed_request`].
pub type FeedRequest = (
    tokio_tungstenite::tungstenite::handshake::client::Request,
    String,
    u16,
);

/// Why [`feed_request`] cannot make the request.
#[derive(Debug, thiserror::Error)]
pub enum FeedRequestError {
    #[error("{0}")]
    Url(String),
    #[error("the feed token is not a valid header value")]
    Token,
}

async fn connect(url: &str, token: Option<&str>, max_message: usize) -> Result<Ws, String> {
    let (req, host, port) = feed_request(url, token).map_err(|e| e.to_string())?;
    let sock = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| e.to_string())?;
    let _ = sock.set_nodelay(true);
    let cfg = WebSocketConfig::default()
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message))
        .max_write_buffer_size(1 << 20);
    let (ws, _) = tokio_tungstenite::client_async_with_config(req, sock, Some(cfg))
        .await
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

fn excerpt(text: &str) -> String {
    let mut s: String = text.chars().take(120).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

impl<'a, S: Sink> Client<'a, S> {
    /// `resume_after`: the last bar already recorded elsewhere (e.g. an existing CSV), or None.
    pub fn new(opts: ClientOptions, sink: &'a mut S, resume_after: Option<i64>) -> Self {
        let legacy = LegacyClock::new(opts.legacy_tz);
        Client {
            opts,
            sink,
            counters: FeedCounters::default(),
            last: resume_after,
            legacy,
            exchange: MarketClock::exchange(),
            complaints: 0,
            connected: None,
            last_bar_frame: Instant::now(),
            last_frame: Instant::now(),
            silent_reported: false,
            next_status: None,
            idle_pinged: false,
            last_pong: None,
            wrong_symbols: Vec::new(),
        }
    }

    /// The close time of the last bar handed to the sink.
    pub fn last_bar(&self) -> Option<i64> {
        self.last
    }

    fn say(&self, line: &str) {
        if !self.opts.quiet {
            crate::errln!("{}: {line}", self.opts.name);
        }
    }

    fn complain(&mut self, what: &str, frame: &str) {
        self.complaints += 1;
        let n = self.complaints;
        if n <= 50 || n.is_multiple_of(1000) {
            tracing::warn!(
                "feed: {what} (frame: {}) [{n} refused so far]",
                excerpt(frame)
            );
        }
        if n == 50 {
            tracing::warn!(
                "feed: further refused frames are counted, and logged only every 1000th (see the status line)"
            );
        }
    }

    /// Runs until `stop` completes or the sink says stop. Reconnects forever.
    pub async fn run<F: Future<Output = ()>>(&mut self, stop: F) {
        let stop = std::pin::pin!(stop);
        let mut stop: Pin<&mut F> = stop;
        let mut delay = self.opts.reconnect_min;
        let mut last_error = String::new();
        if let Some(every) = self.opts.status_every {
            self.next_status = Some(Instant::now() + every);
        }
        loop {
            let attempt = tokio::select! {
                biased;
                _ = stop.as_mut() => break,
                r = tokio::time::timeout(Duration::from_secs(5), connect(&self.opts.url, self.opts.token.as_deref(), self.opts.max_message)) => r,
            };
            let ws = match attempt {
                Ok(Ok(ws)) => Some(ws),
                Ok(Err(e)) => {
                    self.counters.failed_connects += 1;
                    if e != last_error || self.counters.failed_connects.is_multiple_of(30) {
                        self.say(&format!(
                            "cannot connect to {}: {e} (retrying, backoff up to {} s)",
                            redact_url(&self.opts.url),
                            self.opts.reconnect_max.as_secs_f64()
                        ));
                        last_error = e;
                    }
                    None
                }
                Err(_) => {
                    self.counters.failed_connects += 1;
                    self.say(&format!(
                        "connect to {} timed out (retrying)",
                        redact_url(&self.opts.url)
                    ));
                    None
                }
            };
            if let Some(ws) = ws {
                last_error.clear();
                self.counters.connects += 1;
                let mut conn = Conn::new();
                let end = self.session(ws, &mut conn, stop.as_mut()).await;
                // A live bar still held to see whether a burst follows: nothing followed.
                let released = self.release_pending(&mut conn);
                self.end_burst(&mut conn, "the connection ended");
                if conn.got_frames {
                    delay = self.opts.reconnect_min;
                }
                self.connected = None;
                match end {
                    End::Stop => break,
                    End::Lost(_) if released == Flow::Stop => break,
                    End::Lost(reason) => {
                        self.counters.disconnects += 1;
                        self.say(&format!(
                            "disconnected: {reason}; reconnecting in {:.2} s",
                            delay.as_secs_f64()
                        ));
                        self.sink.feed_event("disconnected", &reason);
                    }
                }
            }
            // Back off, still reporting status and silence.
            let until = tokio::time::Instant::now() + delay;
            let stopped = loop {
                tokio::select! {
                    biased;
                    _ = stop.as_mut() => break true,
                    _ = tokio::time::sleep_until(until) => break false,
                    _ = tokio::time::sleep(Duration::from_millis(250)) => self.periodic(),
                }
            };
            if stopped {
                break;
            }
            delay = (delay * 2).min(self.opts.reconnect_max);
        }
    }

    async fn session<F: Future<Output = ()>>(
        &mut self,
        mut ws: Ws,
        conn: &mut Conn,
        mut stop: Pin<&mut F>,
    ) -> End {
        self.connected = Some((Instant::now(), "connected".into()));
        self.last_frame = Instant::now();
        self.idle_pinged = false;
        let mut ticker = tokio::time::interval(Duration::from_millis(250));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let end = loop {
            let hold_until = match (&conn.pending, self.opts.burst_gap) {
                (Some((_, at)), Some(gap)) => Some(tokio::time::Instant::from_std(*at + gap)),
                _ => None,
            };
            let first = tokio::select! {
                biased;
                _ = stop.as_mut() => break End::Stop,
                m = ws.next() => m,
                _ = tokio::time::sleep_until(hold_until.unwrap_or_else(tokio::time::Instant::now)), if hold_until.is_some() => {
                    // No second bar within the gap: the held bar is live.
                    if self.release_pending(conn) == Flow::Stop {
                        break End::Stop;
                    }
                    continue;
                }
                _ = ticker.tick() => {
                    self.periodic();
                    if let Some(end) = self.idle_check(&mut ws).await {
                        break end;
                    }
                    continue;
                }
            };
            // Drain what is already buffered without going back through select!.
            let mut next = first;
            let mut handled = 0;
            let stop_now = loop {
                let item = match next {
                    None => break Some(End::Lost("connection closed".into())),
                    Some(Err(e)) => break Some(self.ws_error(e)),
                    Some(Ok(m)) => m,
                };
                match self.message(item, conn, &mut ws).await {
                    Ok(Flow::Continue) => {}
                    Ok(Flow::Stop) => break Some(End::Stop),
                    Err(end) => break Some(end),
                }
                handled += 1;
                if handled >= 512 {
                    break None;
                }
                match ws.next().now_or_never() {
                    Some(m) => next = m,
                    None => break None,
                }
            };
            if let Some(end) = stop_now {
                break end;
            }
        };
        if matches!(end, End::Stop) {
            // Say goodbye; never wait long for it.
            let _ = tokio::time::timeout(Duration::from_millis(500), ws.close(None)).await;
        }
        end
    }

    /// Sends one message, waiting at most [`SEND_TIMEOUT`]: a publisher that stops reading
    /// costs a reconnect, never a client stuck in a write (deaf to Ctrl+C and to bars).
    async fn send(&mut self, ws: &mut Ws, m: Message) -> Result<(), End> {
        match tokio::time::timeout(SEND_TIMEOUT, ws.send(m)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(self.ws_error(e)),
            Err(_) => Err(End::Lost(format!(
                "the publisher is not reading (a send waited {} s)",
                SEND_TIMEOUT.as_secs()
            ))),
        }
    }

    fn ws_error(&mut self, e: WsError) -> End {
        match e {
            WsError::Capacity(c) => {
                self.counters.oversized += 1;
                self.complain(&format!("oversized frame refused: {c}"), "");
                End::Lost(format!("oversized frame ({c})"))
            }
            WsError::ConnectionClosed | WsError::AlreadyClosed => {
                End::Lost("connection closed".into())
            }
            other => End::Lost(other.to_string()),
        }
    }

    async fn idle_check(&mut self, ws: &mut Ws) -> Option<End> {
        let idle = self.last_frame.elapsed();
        if idle >= self.opts.idle_timeout * 2 {
            return Some(End::Lost(format!(
                "nothing received for {} s (not even a ping)",
                idle.as_secs()
            )));
        }
        if idle >= self.opts.idle_timeout && !self.idle_pinged {
            self.idle_pinged = true;
            if let Err(end) = self.send(ws, Message::Ping(Default::default())).await {
                return Some(end);
            }
        }
        None
    }

    /// What the sink sees of the feed.
    fn publish_feed_state(&mut self) {
        let view = FeedView {
            connected: self.connected.as_ref().map(|(t, p)| (*t, p.as_str())),
            counters: &self.counters,
        };
        self.sink.feed_state(&view);
    }

    /// Status line, silence report.
    fn periodic(&mut self) {
        self.sink.idle();
        self.publish_feed_state();
        let now = Instant::now();
        if let (Some(at), Some(every)) = (self.next_status, self.opts.status_every) {
            if now >= at {
                self.next_status = Some(now + every);
                let line = self.status_line();
                self.say(&line);
            }
        }
        let silent = self.last_bar_frame.elapsed();
        if silent >= self.opts.silent_after && !self.silent_reported {
            let wall = self.exchange.stamp(chrono::Utc::now().timestamp());
            if let Some((name, _)) = self.opts.windows.iter().find(|(_, w)| w.contains(&wall)) {
                self.silent_reported = true;
                let last = self
                    .last
                    .map(|t| format!("last bar {} ET", self.exchange.stamp(t).format()))
                    .unwrap_or_else(|| "no bar yet".into());
                let state = if self.connected.is_some() {
                    "connected"
                } else {
                    "disconnected"
                };
                let detail = format!(
                    "no bar for {} s inside window `{name}` ({state}, {last})",
                    silent.as_secs()
                );
                tracing::warn!("feed silent: {detail}");
                self.sink.feed_event("silent", &detail);
            }
        }
    }

    /// The status line: connection, bars, what the sink adds (last bar ET, signals, profiles,
    /// latency), refused frames.
    pub fn status_line(&self) -> String {
        let conn = match &self.connected {
            Some((since, proto)) => format!("connected ({proto}) {} s", since.elapsed().as_secs()),
            None => "DISCONNECTED (reconnecting)".into(),
        };
        let c = &self.counters;
        let sink = self.sink.status();
        format!(
            "status: {conn} | bars {} (history {}, live {}, history burst {}) | {sink}| frames {}, already had {}, refused {} (wrong instrument {}) | reconnects {}",
            c.bars(),
            c.history_bars,
            c.live_bars,
            c.history_burst,
            c.frames,
            c.already_had,
            c.bad_frames(),
            c.wrong_instrument,
            c.connects.saturating_sub(1)
        )
    }

    async fn message(&mut self, m: Message, conn: &mut Conn, ws: &mut Ws) -> Result<Flow, End> {
        let arrived = Instant::now();
        self.last_frame = arrived;
        self.idle_pinged = false;
        conn.got_frames = true;
        self.counters.frames += 1;
        let text = match m {
            Message::Text(t) => t,
            Message::Binary(b) => {
                self.counters.malformed += 1;
                self.complain(
                    &format!("binary frame of {} bytes (expected JSON text)", b.len()),
                    "",
                );
                return Ok(Flow::Continue);
            }
            Message::Close(_) => return Err(End::Lost("closed by the publisher".into())),
            // RFC 6455 ping/pong are answered by the WebSocket layer.
            _ => return Ok(Flow::Continue),
        };
        let text = text.as_str();
        if text.len() > self.opts.max_text {
            self.counters.oversized += 1;
            self.complain(
                &format!(
                    "oversized frame of {} bytes skipped (limit {})",
                    text.len(),
                    self.opts.max_text
                ),
                text,
            );
            return Ok(Flow::Continue);
        }
        if text.trim() == "ping" {
            self.counters.pings += 1;
            // One pong per PONG_EVERY at most: a publisher that floods pings cannot keep the
            // client busy writing (the legacy publisher wants a pong within 20 s).
            if self.last_pong.is_none_or(|t| t.elapsed() >= PONG_EVERY) {
                self.last_pong = Some(Instant::now());
                self.send(ws, Message::text("pong")).await?;
            }
            return Ok(Flow::Continue);
        }
        let msg = match protocol::parse(text) {
            Ok(m) => m,
            Err(e) => {
                self.refuse(&e, text);
                if conn.protocol.is_none() {
                    conn.protocol = Some(Protocol::Legacy);
                    self.on_protocol(conn);
                }
                return Ok(Flow::Continue);
            }
        };
        if conn.protocol.is_none() {
            conn.protocol = Some(match &msg {
                Msg::Hello(h) => Protocol::Vrev(h.clone()),
                _ => Protocol::Legacy,
            });
            self.on_protocol(conn);
            if let Msg::Hello(h) = &msg {
                self.check_hello(h);
                let sub = protocol::encode_subscribe(self.last);
                self.send(ws, Message::text(sub)).await?;
                return Ok(Flow::Continue);
            }
        }
        Ok(self.dispatch(msg, conn, arrived, text))
    }

    fn on_protocol(&mut self, conn: &Conn) {
        let proto = conn
            .protocol
            .as_ref()
            .map(Protocol::describe)
            .unwrap_or_default();
        let resume = match (&conn.protocol, self.last) {
            (Some(Protocol::Vrev(_)), Some(t)) => {
                format!(", resuming after {}", protocol::utc_text(t))
            }
            (Some(Protocol::Legacy), Some(_)) => {
                ", legacy publisher: its re-sent history is skipped up to the last bar we have"
                    .into()
            }
            _ => String::new(),
        };
        self.say(&format!(
            "connected to {} ({proto}{resume})",
            redact_url(&self.opts.url)
        ));
        if let Some(c) = &mut self.connected {
            c.1 = proto.clone();
        }
        self.sink.feed_event(
            "connected",
            &format!("{} ({proto})", redact_url(&self.opts.url)),
        );
    }

    fn check_hello(&mut self, h: &Hello) {
        if h.protocol != protocol::PROTOCOL {
            tracing::warn!(
                "feed: publisher speaks protocol {} (this vrev speaks {}); going on",
                h.protocol,
                protocol::PROTOCOL
            );
        }
        if let Some(want) = self.opts.instrument.as_deref() {
            if !h.instrument.is_empty() && !protocol::same_instrument(&h.instrument, want) {
                let detail = format!(
                    "the publisher announces `{}`, the config trades `{want}` ([instrument] symbol): its bars will be refused as `wrong instrument`",
                    h.instrument.chars().take(40).collect::<String>()
                );
                tracing::warn!("feed: {detail}");
                self.say(&format!("WARNING: {detail}"));
            }
        }
        if h.bar_period_seconds != 0 && h.bar_period_seconds != self.opts.bar_seconds {
            tracing::warn!(
                "feed: publisher sends {}-second bars, the config expects {} s (engine.bar_seconds)",
                h.bar_period_seconds,
                self.opts.bar_seconds
            );
        }
        if h.bar_period_seconds == 0 {
            tracing::warn!(
                "feed: publisher sends non-time bars; windows and IDs use their close times"
            );
        }
        if let (Some(a), Some(b)) = (h.tick_size, self.opts.tick_size) {
            if (a - b).abs() > 1e-9 {
                tracing::warn!(
                    "feed: publisher's tick size {a} differs from instrument.tick_size {b}"
                );
            }
        }
    }

    fn refuse(&mut self, e: &FrameError, text: &str) {
        match e.kind() {
            "unknown type" => self.counters.unknown_type += 1,
            "missing field" => self.counters.missing_field += 1,
            _ => self.counters.malformed += 1,
        }
        self.complain(&e.to_string(), text);
    }

    fn dispatch(&mut self, msg: Msg, conn: &mut Conn, arrived: Instant, text: &str) -> Flow {
        match msg {
            Msg::Hello(_) => {
                // A second hello on the same connection: nothing to do.
                Flow::Continue
            }
            Msg::Subscribe { .. } => {
                self.counters.unknown_type += 1;
                self.complain("`subscribe` is a client message", text);
                Flow::Continue
            }
            Msg::HistoricalStart { count } => {
                if self.release_pending(conn) == Flow::Stop {
                    return Flow::Stop;
                }
                self.end_burst(conn, "a history batch started");
                conn.in_history = true;
                conn.history_count = count;
                conn.history_received = 0;
                conn.prev_history = None;
                Flow::Continue
            }
            Msg::HistoricalEnd { sent } => {
                let expected = sent.or(conn.history_count);
                if let Some(n) = expected {
                    if n != conn.history_received {
                        tracing::warn!(
                            "feed: history announced {n} bars, {} arrived",
                            conn.history_received
                        );
                    }
                }
                conn.in_history = false;
                self.say(&format!(
                    "history received: {} bars ({} new); last bar {}",
                    conn.history_received,
                    self.counters.history_bars,
                    self.last
                        .map(|t| format!("{} ET", self.exchange.stamp(t).format()))
                        .unwrap_or_else(|| "none".into())
                ));
                while let Some((bar, at)) = conn.held.pop_front() {
                    if self.bar(bar, Kind::Live, conn, at, "(live bar held during history)")
                        == Flow::Stop
                    {
                        return Flow::Stop;
                    }
                }
                Flow::Continue
            }
            Msg::Bar {
                history: true,
                bar,
                symbol,
            } => {
                conn.history_received += 1;
                if !self.instrument_ok(symbol.as_deref(), text) {
                    return Flow::Continue;
                }
                self.bar(bar, Kind::History, conn, arrived, text)
            }
            Msg::Bar {
                history: false,
                bar,
                symbol,
            } => {
                if !self.instrument_ok(symbol.as_deref(), text) {
                    return Flow::Continue;
                }
                if conn.in_history {
                    if conn.held.len() >= self.opts.held_live_max {
                        tracing::warn!(
                            "feed: {} live bars arrived during history; handing on the oldest now",
                            conn.held.len()
                        );
                        if let Some((b, at)) = conn.held.pop_front() {
                            if self.bar(b, Kind::Live, conn, at, "(live bar held during history)")
                                == Flow::Stop
                            {
                                return Flow::Stop;
                            }
                        }
                    }
                    conn.held.push_back((bar, arrived));
                    return Flow::Continue;
                }
                self.live_frame(bar, conn, arrived, text)
            }
            Msg::Tick(t) => {
                self.tick(t, conn, text);
                Flow::Continue
            }
        }
    }

    fn utc_of(&mut self, conn: &Conn, time: protocol::WireTime) -> Result<i64, String> {
        match conn.protocol {
            Some(Protocol::Vrev(_)) => Ok(time.utc()),
            _ => self.legacy.to_utc(time.wall, self.last),
        }
    }

    fn tick(&mut self, t: WireTick, conn: &mut Conn, text: &str) {
        let time = match self.utc_of(conn, t.time) {
            Ok(u) => u,
            Err(e) => {
                self.counters.malformed += 1;
                self.complain(&format!("tick: {e}"), text);
                return;
            }
        };
        if !t.price.is_finite() || t.price <= 0.0 || !t.volume.is_finite() || t.volume < 0.0 {
            self.counters.invalid_bar += 1;
            self.complain("tick with an invalid price or volume", text);
            return;
        }
        if conn.prev_tick.is_some_and(|p| time < p) {
            self.counters.out_of_order += 1;
            self.complain("tick earlier than the previous tick", text);
            return;
        }
        conn.prev_tick = Some(time);
        self.counters.ticks += 1;
        self.sink.tick(&Tick {
            time,
            price: t.price,
            volume: t.volume,
        });
    }

    /// Whether a bar frame's `symbol` is the configured instrument; a wrong one is counted, and
    /// reported once per root symbol and run (log line and journal), never handed on. A frame
    /// without `symbol` is taken: neither publisher sends one, and nothing tells what it is.
    fn instrument_ok(&mut self, symbol: Option<&str>, text: &str) -> bool {
        let (Some(symbol), Some(want)) = (symbol, self.opts.instrument.as_deref()) else {
            return true;
        };
        if protocol::same_instrument(symbol, want) {
            return true;
        }
        self.counters.wrong_instrument += 1;
        let root = protocol::root_symbol(symbol);
        if self.wrong_symbols.len() < WRONG_SYMBOLS_REPORTED
            && !self.wrong_symbols.iter().any(|r| r == root)
        {
            self.wrong_symbols.push(root.to_string());
            let shown: String = symbol.chars().take(40).collect();
            let detail = format!(
                "bar of `{shown}` refused: the config trades `{want}` ([instrument] symbol; the root, the text before the first space, must match). Every bar of `{}` is refused and counted (`wrong instrument` in the status line); only the first is logged. Is the publisher on the right chart? (frame: {})",
                protocol::root_symbol(&shown),
                excerpt(text)
            );
            tracing::warn!("feed: {detail}");
            self.say(&format!("WARNING: {detail}"));
            self.sink.feed_event("wrong_instrument", &detail);
        }
        false
    }

    /// A live `bar` frame outside a history batch. From the legacy publisher, the burst rule
    /// (`docs/live.md`): a frame less than the burst gap after the previous live frame, with a
    /// later timestamp (data time racing ahead of wall time), is chart history sent as live
    /// bars, and so is the previous one. A repeated or earlier timestamp never makes a burst (a
    /// publisher that sends a bar twice).
    fn live_frame(&mut self, bar: WireBar, conn: &mut Conn, arrived: Instant, text: &str) -> Flow {
        let gap = match (self.opts.burst_gap, &conn.protocol) {
            (Some(g), Some(Protocol::Legacy)) => g,
            _ => return self.bar(bar, Kind::Live, conn, arrived, text),
        };
        let time = bar.time.wall;
        let quick = conn
            .prev_live_frame
            .is_some_and(|(at, t)| arrived.saturating_duration_since(at) < gap && time > t);
        if conn.prev_live_frame.is_none_or(|(_, t)| time > t) {
            conn.prev_live_frame = Some((arrived, time));
        } else {
            // A repeat or a step back: refused further on; the burst clock stays where it was.
            return self.bar(bar, Kind::Live, conn, arrived, text);
        }
        if quick {
            if let Some((first, at)) = conn.pending.take() {
                // The held bar was the first of the burst.
                if self.burst_bar(first, conn, at, "(first bar of a burst)") == Flow::Stop {
                    return Flow::Stop;
                }
            }
            return self.burst_bar(bar, conn, arrived, text);
        }
        if self.release_pending(conn) == Flow::Stop {
            return Flow::Stop;
        }
        self.end_burst(conn, "a pause");
        if self.opts.hold_burst_start {
            conn.pending = Some((bar, arrived));
            return Flow::Continue;
        }
        self.bar(bar, Kind::Live, conn, arrived, text)
    }

    fn burst_bar(&mut self, bar: WireBar, conn: &mut Conn, arrived: Instant, text: &str) -> Flow {
        if conn.burst == 0 {
            self.counters.bursts += 1;
            let gap = self.opts.burst_gap.unwrap_or(BURST_GAP);
            let detail = format!(
                "live bars less than {} ms apart (faster than real time): chart history sent as live frames (the older publisher loading a chart?). They warm the strategies up and never produce a signal, until a pause of {} ms or more (docs/live.md)",
                gap.as_millis(),
                gap.as_millis()
            );
            self.say(&detail);
            self.sink.feed_event("history_burst", &detail);
        }
        conn.burst += 1;
        self.bar(bar, Kind::Burst, conn, arrived, text)
    }

    /// The end of a burst (a pause, a history batch, the connection's end): one line.
    fn end_burst(&mut self, conn: &mut Conn, why: &str) {
        if conn.burst > 0 {
            let detail = format!(
                "history burst ended ({why}): {} bars taken as chart history, no signal; the next live bars trade",
                conn.burst
            );
            self.say(&detail);
            self.sink.feed_event("history_burst_end", &detail);
            conn.burst = 0;
        }
    }

    /// Hands on the live bar held to see whether a burst follows, as live.
    fn release_pending(&mut self, conn: &mut Conn) -> Flow {
        match conn.pending.take() {
            Some((bar, at)) => self.bar(
                bar,
                Kind::Live,
                conn,
                at,
                "(live bar held for the burst rule)",
            ),
            None => Flow::Continue,
        }
    }

    fn bar(
        &mut self,
        wb: WireBar,
        kind: Kind,
        conn: &mut Conn,
        arrived: Instant,
        text: &str,
    ) -> Flow {
        let history = kind == Kind::History;
        self.last_bar_frame = Instant::now();
        self.silent_reported = false;
        let utc = match self.utc_of(conn, wb.time) {
            Ok(u) => u,
            Err(e) => {
                self.counters.malformed += 1;
                self.complain(&format!("bar timestamp: {e}"), text);
                return Flow::Continue;
            }
        };
        let bar = wb.to_bar(utc);
        if let Some(reason) = bar.invalid_reason() {
            self.counters.invalid_bar += 1;
            self.complain(&format!("invalid bar: {reason}"), text);
            self.sink.rejected_bar(&bar, reason);
            return Flow::Continue;
        }
        // Before the de-duplication below: one bar stamped in 2999 must not make every later
        // bar look "already had".
        let ahead = utc - chrono::Utc::now().timestamp();
        if self.opts.reject_future_bars && ahead > MAX_FUTURE_SECONDS {
            self.counters.future_bar += 1;
            let hint = if matches!(conn.protocol, Some(Protocol::Legacy)) {
                " (feed.legacy_time_zone wrong?)"
            } else {
                ""
            };
            self.complain(
                &format!(
                    "bar closes {ahead} s after the wall clock: it cannot have closed yet{hint}"
                ),
                text,
            );
            self.sink.rejected_bar(&bar, "closes in the future");
            return Flow::Continue;
        }
        let prev = if history {
            &mut conn.prev_history
        } else {
            &mut conn.prev_live
        };
        if let Some(p) = *prev {
            if utc == p {
                self.counters.duplicate += 1;
                self.complain("duplicate bar (same close time as the previous one)", text);
                return Flow::Continue;
            }
            if utc < p {
                self.counters.out_of_order += 1;
                self.complain("bar out of order (earlier than the previous one)", text);
                return Flow::Continue;
            }
        }
        *prev = Some(utc);
        if self.last.is_some_and(|l| utc <= l) {
            self.counters.already_had += 1;
            return Flow::Continue;
        }
        let flow = match kind {
            Kind::History => {
                self.counters.history_bars += 1;
                self.sink.bar(&bar, true, arrived)
            }
            Kind::Live => {
                self.counters.live_bars += 1;
                self.sink.bar(&bar, false, arrived)
            }
            Kind::Burst => {
                self.counters.history_burst += 1;
                self.sink.burst_bar(&bar, arrived)
            }
        };
        // The newest bar the sink has really taken: a bar it holds or refuses as implausible
        // must not make the bars after it look "already had", nor move a resume past them.
        self.last = self.sink.last_taken().or(Some(utc));
        self.publish_feed_state();
        flow
    }
}

/// Recent latencies (µs), bounded, with percentiles.
#[derive(Clone, Debug, Default)]
pub struct Latencies {
    recent: VecDeque<u64>,
    pub count: u64,
}

impl Latencies {
    const KEEP: usize = 4096;
    pub fn push(&mut self, us: u64) {
        if self.recent.len() == Self::KEEP {
            self.recent.pop_front();
        }
        self.recent.push_back(us);
        self.count += 1;
    }
    /// (p50, p99) of the recent values, in µs.
    pub fn percentiles(&self) -> Option<(u64, u64)> {
        if self.recent.is_empty() {
            return None;
        }
        let mut v: Vec<u64> = self.recent.iter().copied().collect();
        v.sort_unstable();
        let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
        Some((at(0.50), at(0.99)))
    }
    pub fn describe(&self) -> String {
        match self.percentiles() {
            Some((p50, p99)) => format!("p50 {p50} µs, p99 {p99} µs (n={})", self.count),
            None => "n/a (no signal yet)".into(),
        }
    }
}
