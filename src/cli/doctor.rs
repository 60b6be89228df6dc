//! `vrev doctor`: what breaks a live day, checked before it starts (`docs/install.md`). Each
//! check prints a line `ok`, `problem` (with what to do), `note` or `skipped` (with why); any
//! problem makes the exit code 1.
//!
//! 1. the config loads and the scripts check (the `vrev check` code path);
//! 2. the signals and state folders are writable and not held by another engine (the state
//!    lock; a signals folder's `.vrev-lock` with its holder); the kill switch is off;
//! 3. the feed URL answers as a bar publisher, with the configured instrument (or what holds the
//!    port instead);
//! 4. the wall clock agrees with the newest bar's data time;
//! 5. NinjaTrader's folder is there, vrev's two files in it are this vrev's, and none of the old
//!    system's files is left.

use crate::cli::args::{CheckArgs, DoctorArgs};
use crate::cli::nt8_install::{self, Installed};
use crate::config::Config;
use crate::feed::protocol::{self, LegacyClock, Msg};
use anyhow::{bail, Result};
use chrono::{Datelike, Weekday};
use futures_util::{SinkExt, StreamExt};
use std::path::Path;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// The lines of a doctor run and the problems counted.
#[derive(Default)]
struct Report {
    problems: usize,
}

impl Report {
    fn ok(&mut self, m: impl AsRef<str>) {
        crate::outln!("ok      {}", m.as_ref());
    }
    fn problem(&mut self, m: impl AsRef<str>) {
        self.problems += 1;
        crate::outln!("problem {}", m.as_ref());
    }
    fn note(&mut self, m: impl AsRef<str>) {
        crate::outln!("note    {}", m.as_ref());
    }
    fn skipped(&mut self, m: impl AsRef<str>) {
        crate::outln!("skipped {}", m.as_ref());
    }
}

/// `vrev doctor`.
pub fn run(a: &DoctorArgs) -> Result<()> {
    if a.timeout <= 0.0 {
        bail!("--timeout {}: must be above 0 seconds", a.timeout);
    }
    let mut r = Report::default();
    // 1. Config and scripts: exactly what `vrev check` says (its own lines first).
    let checked = crate::cli::check::run(&CheckArgs {
        paths: Vec::new(),
        config: a.config.clone(),
    });
    let cfg = Config::load(&a.config).ok();
    match (&checked, &cfg) {
        (Ok(()), _) => r.ok(format!(
            "config and scripts: {} loads, every script checks",
            a.config.display()
        )),
        (Err(e), Some(_)) => r.problem(format!(
            "config and scripts: {e} (the `error` lines above): fix each, then run `vrev check`"
        )),
        (Err(_), None) => r.problem(format!(
            "config: {} does not load (the `error` line above): fix it, or write a starter one with `vrev init`",
            a.config.display()
        )),
    }
    match &cfg {
        Some(cfg) => {
            folders(&mut r, cfg);
            let newest = feed(&mut r, cfg, a);
            clock(&mut r, cfg, newest, a.playback);
        }
        None => r.skipped("signals and state folders, feed, clock: they need a config that loads"),
    }
    ninjatrader(&mut r, cfg.as_ref(), a.documents.as_deref());
    if r.problems > 0 {
        bail!(
            "doctor: {} problem(s), each with what to do on its `problem` line",
            r.problems
        );
    }
    crate::outln!("doctor: no problem found");
    Ok(())
}

/// Creates `dir` if missing and writes and removes a file in it. Some(error) if it cannot.
fn writable(dir: &Path) -> Result<bool, String> {
    let existed = dir.is_dir();
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create it: {e}"))?;
    let probe = crate::market::safe_write::write_file(dir, ".vrev-doctor", b"vrev doctor\n", false)
        .map_err(|e| format!("cannot write in it: {e}"))?;
    std::fs::remove_file(&probe).map_err(|e| format!("cannot remove a file in it: {e}"))?;
    Ok(!existed)
}

fn folders(r: &mut Report, cfg: &Config) {
    let signals = cfg.resolve(&cfg.engine.signals_dir);
    match writable(&signals) {
        Err(e) => r.problem(format!(
            "signals folder {}: {e}: give vrev a folder it may write (engine.signals_dir), the same as VrevAutoTrader's Signals folder",
            signals.display()
        )),
        Ok(created) => {
            let lock = signals.join(crate::host::state_lock::SIGNALS_LOCK_FILE);
            match held_by(&lock) {
                Some(Held::Now(holder)) => r.problem(format!(
                    "signals folder {}: in use by another vrev engine ({holder}): one engine per signals folder, or the auto-trader takes the signals of both. Stop it first, or give this one its own engine.signals_dir",
                    signals.display()
                )),
                Some(Held::Before(holder)) => r.ok(format!(
                    "signals folder {}: writable, no engine on it (the last one: {holder})",
                    signals.display()
                )),
                None => r.ok(format!(
                    "signals folder {}: writable{}, no engine on it",
                    signals.display(),
                    if created { " (created)" } else { "" }
                )),
            }
        }
    }
    let state = cfg.resolve(&cfg.engine.state_dir);
    match writable(&state) {
        Err(e) => r.problem(format!(
            "state folder {}: {e}: give vrev a folder it may write (engine.state_dir)",
            state.display()
        )),
        Ok(created) => match crate::host::state_lock::StateLock::acquire(&state, "doctor") {
            Err(e) => r.problem(format!("state folder: {e}")),
            Ok(lock) => {
                drop(lock);
                r.ok(format!(
                    "state folder {}: writable{}, no engine on it",
                    state.display(),
                    if created { " (created)" } else { "" }
                ));
            }
        },
    }
    let halt = crate::host::kill_switch::path(&state);
    if crate::host::kill_switch::is_on(&halt) {
        r.problem(format!(
            "kill switch on ({}: {}): an engine refuses every new entry. `vrev resume` turns it off",
            halt.display(),
            crate::host::kill_switch::note(&halt)
        ));
    }
}

enum Held {
    /// Held by a running engine: its text.
    Now(String),
    /// Left by an engine that has ended: its text.
    Before(String),
}

/// Whether an OS lock on `file` is held by another process, with the holder its text names.
/// None when there is no such file.
fn held_by(file: &Path) -> Option<Held> {
    let f = std::fs::File::open(file).ok()?;
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let holder = crate::host::state_lock::describe_holder(&text);
    match f.try_lock() {
        Err(std::fs::TryLockError::WouldBlock) => Some(Held::Now(holder)),
        _ => Some(Held::Before(holder)),
    }
}

/// What answered at the feed URL.
#[derive(Debug, PartialEq)]
pub enum FeedProbe {
    /// The request cannot be made as configured (a token that is not a valid header value):
    /// the engine would refuse it too.
    BadRequest(String),
    /// Nothing listens (connection refused).
    Refused(String),
    /// No TCP connection (timeout, unknown host, ...).
    Unreachable(String),
    /// A TCP server that does not answer a WebSocket handshake.
    NotWebSocket(String),
    /// A WebSocket that sent nothing in time.
    Silent,
    /// A WebSocket whose first frame is none of the publishers'.
    NotPublisher(String),
    Publisher(Seen),
}

/// What a publisher sent.
#[derive(Debug, Default, PartialEq)]
pub struct Seen {
    /// No `hello`: the old publisher's protocol.
    pub legacy: bool,
    /// vrev protocol version of the `hello`.
    pub protocol: Option<i64>,
    /// `hello`'s instrument, or the first bar's `symbol`.
    pub instrument: Option<String>,
    /// Close time (UTC seconds) of the newest bar received.
    pub newest: Option<i64>,
    pub bars: u64,
    /// `historical_end` arrived.
    pub history_done: bool,
}

/// Connects to `url`, reads the publisher's first frames until its history has ended or
/// `timeout` has passed, and says what answered.
pub async fn probe(
    url: &str,
    token: Option<&str>,
    timeout: Duration,
    legacy_tz: chrono_tz::Tz,
) -> FeedProbe {
    let deadline = tokio::time::Instant::now() + timeout;
    let (req, host, port) = match crate::feed::client::feed_request(url, token) {
        Ok(r) => r,
        Err(e @ crate::feed::client::FeedRequestError::Token) => {
            return FeedProbe::BadRequest(e.to_string())
        }
        Err(e) => return FeedProbe::Unreachable(e.to_string()),
    };
    let sock = match tokio::time::timeout_at(
        deadline,
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    {
        Err(_) => {
            return FeedProbe::Unreachable(format!(
                "no connection within {}",
                crate::feed::duration_text(timeout)
            ))
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return FeedProbe::Refused(e.to_string())
        }
        Ok(Err(e)) => return FeedProbe::Unreachable(e.to_string()),
        Ok(Ok(s)) => s,
    };
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20));
    let mut ws = match tokio::time::timeout_at(
        deadline,
        tokio_tungstenite::client_async_with_config(req, sock, Some(config)),
    )
    .await
    {
        Err(_) => {
            return FeedProbe::NotWebSocket(format!(
                "no WebSocket answer within {}",
                crate::feed::duration_text(timeout)
            ))
        }
        Ok(Err(e)) => return FeedProbe::NotWebSocket(e.to_string()),
        Ok(Ok((ws, _))) => ws,
    };
    let mut seen: Option<Seen> = None;
    let mut clock = LegacyClock::new(legacy_tz);
    loop {
        let frame = match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) | Ok(None) | Ok(Some(Err(_))) => break,
            Ok(Some(Ok(f))) => f,
        };
        let text = match frame {
            Message::Text(t) => t.to_string(),
            Message::Close(_) => break,
            _ => continue,
        };
        if text.trim() == "ping" {
            let _ = ws.send(Message::Text("pong".into())).await;
            continue;
        }
        let msg = protocol::parse(&text);
        let s = match (&mut seen, &msg) {
            (Some(s), _) => s,
            (None, Ok(Msg::Hello(h))) => {
                let _ = ws
                    .send(Message::Text(protocol::encode_subscribe(None).into()))
                    .await;
                seen = Some(Seen {
                    protocol: Some(h.protocol),
                    instrument: Some(h.instrument.clone()).filter(|i| !i.is_empty()),
                    ..Seen::default()
                });
                continue;
            }
            (None, Ok(Msg::Subscribe { .. })) | (None, Err(_)) => {
                return FeedProbe::NotPublisher(text.chars().take(80).collect())
            }
            (None, Ok(_)) => seen.insert(Seen {
                legacy: true,
                ..Seen::default()
            }),
        };
        match msg {
            Ok(Msg::Bar { bar, .. }) => {
                if s.instrument.is_none() {
                    s.instrument = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v.get("symbol").and_then(|x| x.as_str()).map(String::from))
                        .filter(|i| !i.is_empty());
                }
                let utc = if s.legacy {
                    clock.to_utc(bar.time.wall, s.newest).ok()
                } else {
                    Some(bar.time.utc())
                };
                if let Some(t) = utc {
                    s.newest = Some(s.newest.map_or(t, |n| n.max(t)));
                }
                s.bars += 1;
            }
            Ok(Msg::HistoricalEnd { .. }) => {
                s.history_done = true;
                break;
            }
            _ => {}
        }
    }
    let _ = ws.close(None).await;
    match seen {
        None => FeedProbe::Silent,
        Some(s) => FeedProbe::Publisher(s),
    }
}

/// An instrument's root: the text before the first space (`ES 03-25` → `ES`).
pub fn root(instrument: &str) -> &str {
    instrument.split(' ').next().unwrap_or(instrument)
}

/// The feed check; returns the newest bar's close time for the clock check.
fn feed(r: &mut Report, cfg: &Config, a: &DoctorArgs) -> Option<i64> {
    let url = a.url.clone().unwrap_or_else(|| cfg.feed.url.clone());
    let shown = crate::feed::admission::redact_url(&url);
    if let Err(e) = crate::feed::client::check_url(&url) {
        r.problem(format!("feed: {e}: set [feed] url to ws://HOST:PORT"));
        return None;
    }
    let tz = match crate::feed::zone(&cfg.feed.legacy_time_zone, "feed.legacy_time_zone") {
        Ok(tz) => tz,
        Err(e) => {
            r.problem(format!("feed: {e}"));
            return None;
        }
    };
    let token = crate::feed::feed_token(cfg.feed.token.as_deref());
    let timeout = Duration::from_secs_f64(a.timeout);
    let got = match crate::feed::runtime() {
        Ok(rt) => rt.block_on(probe(&url, token.as_deref(), timeout, tz)),
        Err(e) => {
            r.problem(format!("feed: {e:#}"));
            return None;
        }
    };
    let symbol = &cfg.instrument.symbol;
    match got {
        FeedProbe::BadRequest(e) => r.problem(format!(
            "feed {shown}: {e}: `vrev run` refuses it too; set [feed] token (or VREV_FEED_TOKEN) to VrevPublisher's Token, letters and digits"
        )),
        FeedProbe::Refused(e) => r.problem(format!(
            "feed {shown}: nothing listens there ({e}): add VrevPublisher to an {symbol} 1-minute chart in NinjaTrader (it listens once the chart's history has loaded), or set [feed] url to its port"
        )),
        FeedProbe::Unreachable(e) => r.problem(format!(
            "feed {shown}: cannot connect ({e}): check the host and port of [feed] url, and the firewall when the publisher is on another PC"
        )),
        FeedProbe::NotWebSocket(e) if e.contains("401") => r.problem(format!(
            "feed {shown}: the publisher refused the token ({e}): set [feed] token (or VREV_FEED_TOKEN) to VrevPublisher's Token"
        )),
        FeedProbe::NotWebSocket(e) => r.problem(format!(
            "feed {shown}: the port is held by something that is not a bar publisher ({e}): stop that program, or give VrevPublisher and [feed] url another port"
        )),
        FeedProbe::Silent => r.problem(format!(
            "feed {shown}: a WebSocket answers but sent nothing within {}: is the chart loaded? (VrevPublisher sends its hello at once)",
            crate::feed::duration_text(timeout)
        )),
        FeedProbe::NotPublisher(first) => r.problem(format!(
            "feed {shown}: a WebSocket answers, but neither VrevPublisher nor the old publisher (first frame: {first}): stop that program, or give VrevPublisher and [feed] url another port"
        )),
        FeedProbe::Publisher(s) => {
            let who = if s.legacy {
                "the old Python system's publisher (no hello)".to_string()
            } else {
                format!("VrevPublisher (vrev protocol {})", s.protocol.unwrap_or(0))
            };
            let bars = format!(
                "{} bar(s){}",
                s.bars,
                if s.history_done {
                    ""
                } else {
                    " before the timeout, history not finished"
                }
            );
            match (&s.instrument, s.protocol) {
                (_, Some(p)) if p != protocol::PROTOCOL => r.problem(format!(
                    "feed {shown}: {who} speaks protocol {p}; this vrev speaks {}: install the VrevPublisher of this vrev (`vrev nt8 install`)",
                    protocol::PROTOCOL
                )),
                (Some(i), _) if root(i) != root(symbol) => r.problem(format!(
                    "feed {shown}: {who} sends {i}, not {symbol} ([instrument] symbol): put VrevPublisher on an {symbol} chart, or point [feed] url at the publisher of that chart"
                )),
                (Some(i), _) => r.ok(format!("feed {shown}: {who}, {i}, {bars}")),
                (None, _) => {
                    r.ok(format!("feed {shown}: {who}, {bars}"));
                    r.note(format!(
                        "feed: the publisher does not name its instrument: make sure its chart is {symbol}"
                    ));
                }
            }
            if s.legacy {
                r.note("feed: this is the old publisher's protocol. vrev reads it, but NinjaTrader's VrevPublisher (true UTC times, resume after a reconnect, no history burst) is the one to use: remove the old publisher from its chart (both want port 6789), add VrevPublisher (docs/migrating.md)");
            }
            return s.newest;
        }
    }
    None
}

/// Whether CME Globex trades ES at this ET weekday and minute of the day: Sunday 18:00 to
/// Friday 17:00, with the daily break 17:00–18:00 (holidays not known here).
pub fn globex_open(weekday: Weekday, minute_of_day: u32) -> bool {
    let break_or_after = minute_of_day >= 17 * 60;
    let evening = minute_of_day >= 18 * 60;
    match weekday {
        Weekday::Sat => false,
        Weekday::Sun => evening,
        Weekday::Fri => !break_or_after,
        _ => !break_or_after || evening,
    }
}

fn clock(r: &mut Report, cfg: &Config, newest: Option<i64>, playback: bool) {
    let Some(newest) = newest else {
        r.skipped("clock: no bar from the feed, so nothing to compare the wall clock with: run `vrev doctor` again with the publisher up");
        return;
    };
    let shown = crate::market::time::format_utc(newest);
    if playback {
        r.skipped(format!(
            "clock: --playback: the data time is old by design (newest bar {shown})"
        ));
        return;
    }
    let now = chrono::Utc::now().timestamp();
    let ahead = newest - now;
    let age = |s: i64| crate::feed::duration_text(Duration::from_secs(s.unsigned_abs()));
    let future = crate::market::plausibility::MAX_FUTURE_SECONDS;
    if ahead > future {
        r.problem(format!(
            "clock: the newest bar closes at {shown}, {} ahead of this PC's clock: vrev refuses bars more than {} min in the future, so it would refuse every live bar. Set the clock (Windows: Settings → Time & language → Sync now), or the chart's time zone (VrevPublisher's Chart time zone id; [feed] legacy_time_zone for the old publisher)",
            age(ahead),
            future / 60
        ));
        return;
    }
    let lag = -ahead;
    let limit = cfg.engine.bar_seconds + cfg.engine.signal_ttl_seconds;
    if lag <= limit {
        r.ok(format!(
            "clock: the newest bar closes at {shown}, {} from this PC's clock",
            age(lag)
        ));
        return;
    }
    let now_et = crate::market::time::MarketClock::exchange().stamp(now);
    if globex_open(now_et.date.weekday(), now_et.minute_of_day) {
        r.problem(format!(
            "clock: the newest bar closes at {shown}, {} ago, while the market is open: a signal expires {} s after its bar, so none would be written. On NinjaTrader Playback use `vrev run --playback` (and `vrev doctor --playback`); otherwise the chart gets no live data (a holiday?), or this PC's clock or the chart's time zone is off",
            age(lag),
            cfg.engine.signal_ttl_seconds
        ));
    } else {
        r.ok(format!(
            "clock: the newest bar closes at {shown}, {} ago; the market is closed now (Globex: Sunday 18:00 to Friday 17:00 ET), so the clock is checked only while it is open",
            age(lag)
        ));
    }
}

fn ninjatrader(r: &mut Report, cfg: Option<&Config>, flag: Option<&Path>) {
    let (docs, from) = match nt8_install::documents_dir(flag, cfg) {
        Ok(d) => d,
        Err(e) => {
            r.problem(format!("NinjaTrader: {e}"));
            return;
        }
    };
    let custom = nt8_install::custom_dir(&docs);
    if !custom.is_dir() {
        r.problem(format!(
            "NinjaTrader: {} not found (Documents folder from {from}): is NinjaTrader 8 installed for this user? Otherwise set [nt8] documents_dir (or pass --documents) to the Documents folder that holds `NinjaTrader 8`",
            custom.display()
        ));
        return;
    }
    r.ok(format!("NinjaTrader: {} (from {from})", custom.display()));
    for f in &nt8_install::FILES {
        let path = nt8_install::target(&docs, f);
        let shown = format!("{}/{}", f.folder, f.name);
        match nt8_install::installed_state(&path, f) {
            Installed::Current => r.ok(format!("NinjaTrader: {shown} is this vrev's version")),
            Installed::Missing => r.problem(format!(
                "NinjaTrader: {shown} is not installed: run `vrev nt8 install`, then F5 in the NinjaScript Editor"
            )),
            Installed::Older { since } => r.problem(format!(
                "NinjaTrader: {shown} is an older version (of {since}): run `vrev nt8 install`, then F5 in the NinjaScript Editor"
            )),
            Installed::Edited { hash } => r.problem(format!(
                "NinjaTrader: {shown} was changed by hand (SHA-256 {}…, no vrev version shipped it): `vrev nt8 install --force` keeps it as a backup outside bin\\Custom and installs this vrev's",
                &hash[..12]
            )),
            Installed::Unreadable(e) => {
                r.problem(format!("NinjaTrader: {}: {e}", path.display()))
            }
        }
    }
    let in_way = nt8_install::in_the_way(&custom);
    for w in &in_way {
        r.problem(format!("NinjaTrader: {}: {}", w.path.display(), w.why));
    }
    if in_way.is_empty() {
        r.ok("NinjaTrader: no old-system file and no second copy of vrev's under bin/Custom");
    }
    if let Some(n) = cfg.and_then(|c| c.nt8.as_ref()) {
        // The auto-trader's side of `[nt8]`: its state folder, and the account's trade log the
        // desk and `vrev reconcile` read.
        let side = crate::config::Nt8 {
            documents_dir: docs.clone(),
            account: n.account.clone(),
        };
        let folder = side.state_folder();
        if folder.is_dir() {
            r.ok(format!(
                "NinjaTrader: VrevAutoTrader's state folder {} (account {}: {})",
                folder.display(),
                n.account,
                if side.trade_log().is_file() {
                    "trade log present"
                } else {
                    "no trade logged yet"
                }
            ));
        } else {
            r.note(format!(
                "NinjaTrader: {} does not exist yet: VrevAutoTrader creates it when first enabled; its trade log for account {} ([nt8] account) goes there",
                folder.display(),
                n.account
            ));
        }
    }
    if let Some(cfg) = cfg {
        let signals = cfg.resolve(&cfg.engine.signals_dir);
        let default = crate::cli::init::auto_trader_signals(&docs);
        if signals != default {
            r.note(format!(
                "NinjaTrader: VrevAutoTrader's Signals folder defaults to {}; vrev writes to {}: set the strategy's Signals folder to that",
                default.display(),
                signals.display()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctor_refuses_a_feed_token_the_engine_would_refuse() {
        // Regression: the probe dropped a token that is not a valid header value and connected
        // without it, while `vrev run` refuses it: doctor said the feed was fine (or only that
        // the publisher refused) for a day that could not start.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let got = rt.block_on(probe(
            &url,
            Some("bad\ntoken"),
            Duration::from_millis(500),
            chrono_tz::America::New_York,
        ));
        match got {
            FeedProbe::BadRequest(e) => assert!(e.contains("not a valid header value"), "{e}"),
            other => panic!("expected BadRequest, got {other:?}"),
        }
    }

    #[test]
    fn globex_trades_from_sunday_evening_to_friday_afternoon_with_a_daily_break() {
        let h = |x: u32, m: u32| x * 60 + m;
        let cases = [
            (Weekday::Sun, h(17, 59), false),
            (Weekday::Sun, h(18, 0), true),
            (Weekday::Mon, h(0, 0), true),
            (Weekday::Mon, h(16, 59), true),
            (Weekday::Mon, h(17, 0), false),
            (Weekday::Mon, h(17, 59), false),
            (Weekday::Mon, h(18, 0), true),
            (Weekday::Thu, h(23, 59), true),
            (Weekday::Fri, h(9, 30), true),
            (Weekday::Fri, h(17, 0), false),
            (Weekday::Fri, h(18, 30), false),
            (Weekday::Sat, h(12, 0), false),
        ];
        for (d, m, open) in cases {
            assert_eq!(globex_open(d, m), open, "{d:?} {m}");
        }
    }

    #[test]
    fn the_root_of_an_instrument_is_the_text_before_its_first_space() {
        assert_eq!(root("ES 03-25"), "ES");
        assert_eq!(root("ES"), "ES");
        assert_eq!(root("MES 03-25"), "MES");
        assert_ne!(root("es 03-25"), "ES");
    }
}
