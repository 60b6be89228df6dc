//! `vrev run`: the feed client driving the engine. Bars go through `Engine::on_bar` inline, on
//! the runtime thread, as they arrive; signals are written by the engine as in `replay`.

use super::client::{Flow, Latencies, Sink};
use crate::host::engine::Engine;
use crate::market::bar::Bar;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

/// The engine as a feed sink.
pub struct EngineSink {
    pub engine: Engine,
    /// Frame arrival → signal file renamed into place, per signal.
    pub latency: Latencies,
    /// Stop once a bar closing at or after this time has been processed (the demo).
    pub stop_after: Option<i64>,
    /// Print one line per signal on stderr.
    pub announce: bool,
    /// Saved edits of the scripts and the config, applied between two bars (`vrev run`).
    pub reloader: Option<crate::host::reload::Reloader>,
    last: Option<i64>,
}

impl EngineSink {
    pub fn new(engine: Engine) -> Self {
        EngineSink {
            engine,
            latency: Latencies::default(),
            stop_after: None,
            announce: true,
            reloader: None,
            last: None,
        }
    }

    /// Signals admitted per window, in config order.
    pub fn signals_by_window(&self) -> Vec<(String, String, usize)> {
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &self.engine.signals {
            *by.entry(s.window.as_str()).or_default() += 1;
        }
        self.engine
            .window_profiles()
            .into_iter()
            .map(|(w, p, _)| {
                let n = by.get(w.as_str()).copied().unwrap_or(0);
                (w, p, n)
            })
            .collect()
    }
}

/// How a bar reaches the engine.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Feed {
    History,
    Live,
    /// A live frame of a history burst: warms up, never a signal.
    Burst,
}

impl Sink for EngineSink {
    fn bar(&mut self, bar: &Bar, history: bool, arrived: Instant) -> Flow {
        self.feed(
            bar,
            if history { Feed::History } else { Feed::Live },
            arrived,
        )
    }

    fn burst_bar(&mut self, bar: &Bar, arrived: Instant) -> Flow {
        self.feed(bar, Feed::Burst, arrived)
    }

    fn idle(&mut self) {
        if let Some(r) = &mut self.reloader {
            r.apply(&mut self.engine);
        }
        self.engine.poll_kill_switch();
    }

    fn rejected_bar(&mut self, bar: &Bar, _reason: &str) {
        // The engine refuses it again and journals it as `bar_rejected`.
        self.engine.on_bar(bar);
    }

    fn last_taken(&self) -> Option<i64> {
        self.engine.last_bar_time()
    }

    fn feed_event(&mut self, state: &str, detail: &str) {
        self.engine.journal_feed(state, detail);
    }

    fn status(&self) -> String {
        self.status_text()
    }
}

impl EngineSink {
    fn feed(&mut self, bar: &Bar, how: Feed, arrived: Instant) -> Flow {
        if let Some(r) = &mut self.reloader {
            // Between two bars: any saved edit takes effect for this bar.
            r.apply(&mut self.engine);
        }
        // Between two bars: the kill switch file may have been tripped by another program.
        self.engine.poll_kill_switch();
        let before = self.engine.signals.len();
        match how {
            Feed::History => self.engine.on_history_bar(bar),
            Feed::Live => self.engine.on_bar(bar),
            Feed::Burst => self.engine.on_burst_bar(bar),
        }
        let after = self.engine.signals.len();
        if after > before {
            // The files are in place once on_bar returns.
            let us = arrived.elapsed().as_micros() as u64;
            for _ in before..after {
                self.latency.push(us);
            }
            if self.announce {
                let mut lines = String::new();
                for s in &self.engine.signals[before..after] {
                    lines.push_str(&format!(
                        "signal: {} {} {} ({} / {}) entry {} stop {} target {} qty {} — written in {us} µs\n",
                        s.signal_time_et,
                        s.side.as_str(),
                        s.id,
                        s.window,
                        s.profile,
                        s.entry,
                        s.stop,
                        s.target,
                        s.quantity
                    ));
                }
                // One write: stderr is unbuffered.
                let _ = std::io::stderr().write_all(lines.as_bytes());
            }
        }
        self.last = Some(bar.close_time);
        if self.engine.faults.halted.is_some() {
            // The engine can no longer record what it writes: stop, loudly (DESIGN §14).
            return Flow::Stop;
        }
        match self.stop_after {
            Some(t) if bar.close_time >= t => Flow::Stop,
            _ => Flow::Continue,
        }
    }

    fn status_text(&self) -> String {
        let clock = self.engine.clock();
        let (last, today) = match self.last {
            Some(t) => {
                let day = clock.stamp(t).trading_day;
                let today = self
                    .engine
                    .signals
                    .iter()
                    .filter(|s| clock.stamp(s.signal_time).trading_day == day)
                    .count();
                (format!("{} ET", clock.stamp(t).format()), today)
            }
            None => ("none".into(), 0),
        };
        let profiles: Vec<String> = self
            .engine
            .window_profiles()
            .iter()
            .map(|(w, p, _)| format!("{w}={p}"))
            .collect();
        format!(
            "last bar {last} | signals today {today} (run {}) | {} | {} | latency {} ",
            self.engine.stats.signals,
            crate::host::shadow_status::describe(&self.engine),
            profiles.join(" "),
            match self.latency.percentiles() {
                Some((a, b)) => format!("p50 {a} µs p99 {b} µs"),
                None => "n/a".into(),
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_shows_the_open_shadow_position_and_todays_shadow_pnl() {
        let cfg = crate::config::Config::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml"),
        )
        .unwrap();
        let engine = Engine::new(&cfg, crate::host::engine::EngineOptions::default()).unwrap();
        let mut sink = EngineSink::new(engine);
        sink.announce = false;
        let bars = crate::market::synth::generate(&crate::market::synth::SynthOptions {
            days: 1,
            ..Default::default()
        });
        let flat = sink.status();
        assert!(
            flat.contains("| open: none | today's shadow P&L $0.00 |"),
            "{flat}"
        );
        let mut seen_open = false;
        for bar in &bars {
            sink.bar(bar, false, Instant::now());
            let status = sink.status();
            if let Some(t) = sink.engine.book().open_trades().first() {
                seen_open = true;
                let want = match t.entry_price {
                    Some(p) => format!("| open BUY 3 @ {p:.2} |"),
                    None => "| open BUY 3 entry pending |".to_string(),
                };
                assert!(status.contains(&want), "{status}");
            }
        }
        assert!(seen_open);
        let day = sink
            .engine
            .clock()
            .stamp(bars[bars.len() - 1].close_time)
            .trading_day;
        let pnl = sink.engine.book().realized_on(day);
        assert!(pnl != 0.0, "the synthetic day closes trades");
        let status = sink.status();
        assert!(
            status.contains(&format!(
                "today's shadow P&L {}",
                crate::market::format::money(pnl)
            )),
            "{status}"
        );
    }
}
