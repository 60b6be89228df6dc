//! Live bars over WebSocket (DESIGN §11, `docs/protocol.md` §2, `docs/live.md`).
//!
//! - [`protocol`]: the frames of both publishers and their timestamps;
//! - [`client`]: connect, tell the publishers apart, resume, reconnect with backoff, ping/pong,
//!   hand each bar on once and in order, status line, silence report;
//! - [`run`]: the engine behind the client (`vrev run`);
//! - [`record`]: the CSV recorder behind the client (`vrev record`);
//! - [`server`]: the replay publisher (`vrev serve`);
//!
//! Everything runs on one current-thread tokio runtime: the engine is not `Send` and processes
//! each bar inline as it arrives.

pub mod admission;
pub mod client;
pub mod protocol;
pub mod record;
pub mod run;
pub mod server;

use crate::config::Config;
use anyhow::{anyhow, Context as _, Result};
use chrono_tz::Tz;
use client::ClientOptions;
use std::time::Duration;

/// The runtime every feed command uses.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Completes on Ctrl+C (and SIGTERM on Unix). Never completes if no handler can be installed.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = tokio::signal::ctrl_c();
        match term {
            Ok(mut term) => {
                tokio::select! {
                    r = int => if r.is_err() { std::future::pending::<()>().await },
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                if int.await.is_err() {
                    std::future::pending::<()>().await
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await
        }
    }
}

pub fn zone(name: &str, what: &str) -> Result<Tz> {
    name.parse()
        .map_err(|_| anyhow!("{what} {name}: unknown time zone (e.g. America/New_York)"))
}

pub fn seconds(s: f64) -> Option<Duration> {
    (s.is_finite() && s > 0.0).then(|| Duration::from_secs_f64(s))
}

/// Client options from the config: windows for the silence report, bar period, tick size.
pub fn client_options(cfg: &Config, url: &str, name: &'static str) -> Result<ClientOptions> {
    let mut o = ClientOptions::new(
        url,
        zone(&cfg.feed.legacy_time_zone, "feed.legacy_time_zone")?,
        name,
    );
    o.windows = cfg.windows().into_iter().map(|(n, w, _)| (n, w)).collect();
    o.bar_seconds = cfg.engine.bar_seconds;
    o.tick_size = Some(cfg.instrument.tick_size);
    o.token = feed_token(cfg.feed.token.as_deref());
    o.instrument = Some(cfg.instrument.symbol.clone());
    o.burst_gap = Some(client::burst_gap_for(cfg.engine.bar_seconds));
    Ok(o)
}

/// The shared feed token: `VREV_FEED_TOKEN` when set, else `configured` (`[feed] token`,
/// `--token`). Empty means none.
pub fn feed_token(configured: Option<&str>) -> Option<String> {
    std::env::var("VREV_FEED_TOKEN")
        .ok()
        .or_else(|| configured.map(str::to_string))
        .filter(|t| !t.is_empty())
}

pub fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, s / 60 % 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}
