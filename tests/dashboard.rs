//! The full-screen `vrev run` (issue 21): the frame drawn with ratatui's `TestBackend` from known
//! states, the engine side fed real bars, the keys, and the real binary in a pseudo-terminal
//! against a real `vrev serve` on loopback, with `h`, `r` and `q` pressed.

mod common;
use common::*;

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vrev::cli::desk::dashboard::state::{
    DeskState, EventLine, FeedPane, NextWindow, Nt8Pane, OpenRow, PositionPane, TodayPane,
    WindowRow,
};
use vrev::cli::desk::dashboard::term::{on_key, Action};
use vrev::cli::desk::dashboard::{draw::draw, next_window, Command, DeskSink, Published};
use vrev::cli::desk::reconcile::{Costs, Model, ModelSignal, ShadowTrade};
use vrev::market::price::Side;

/// The frame as text, one line per row.
fn screen(s: &DeskState, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(f, s)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

const NOW: i64 = 1_765_000_000;

fn known_state() -> DeskState {
    DeskState {
        now: NOW,
        url: "ws://127.0.0.1:9000".into(),
        feed: FeedPane {
            connected: Some("vrev 1, ESZ6".into()),
            connected_for: 125,
            bars_today: 412,
            bars_run: 1440,
            last_bar: Some(NOW - 23),
            latency: Some((850, 2100)),
            latency_count: 3,
            reconnects: 1,
            refused: 0,
            refused_detail: String::new(),
        },
        windows: vec![
            WindowRow {
                name: "morning".into(),
                hours: "09:30-11:30".into(),
                profile: "orb".into(),
                configured: Some("production".into()),
                open: true,
            },
            WindowRow {
                name: "afternoon".into(),
                hours: "13:00-15:30".into(),
                profile: "production".into(),
                configured: None,
                open: false,
            },
        ],
        next_window: Some(NextWindow {
            name: "afternoon".into(),
            profile: "production".into(),
            starts: NOW + 3900,
        }),
        kill_switch: None,
        today: TodayPane {
            day: Some(date("2025-12-08")),
            signals: 2,
            refusals: vec![("kill_switch".into(), 2), ("expired".into(), 1)],
            events: (0..12)
                .map(|i| EventLine {
                    time: format!("10:{i:02}:00"),
                    kind: if i % 2 == 0 { "signal" } else { "refusal" },
                    text: format!("event number {i}"),
                })
                .skip(2)
                .collect(),
        },
        position: PositionPane {
            open: vec![OpenRow {
                signal_id: "20251208_101500_6090.00_6100.00".into(),
                profile: "orb".into(),
                side: "BUY",
                contracts: 3,
                entry: Some(6100.0),
                stop: 6100.0,
                initial_stop: 6095.0,
                stop_rule: "breakeven",
                target: 6110.0,
                open_pnl: Some(150.0),
                last_price: Some(6101.0),
            }],
            today_pnl: -37.5,
            closed_today: 1,
        },
        nt8: Nt8Pane::NotConfigured,
        message: None,
        choosing: None,
        profiles: vec!["orb".into(), "production".into()],
    }
}

#[test]
fn the_position_pane_shows_the_stop_as_moved_the_target_and_open_pnl() {
    let text = screen(&known_state(), 140, 44);
    assert!(text.contains("BUY 3 @ 6100.00"), "{text}");
    assert!(
        text.contains("stop 6100.00 (breakeven; was 6095.00) · target 6110.00"),
        "{text}"
    );
    assert!(text.contains("open P&L $150.00 at 6101.00"), "{text}");
    assert!(
        text.contains("today's shadow P&L -$37.50 (1 closed)"),
        "{text}"
    );
    let mut flat = known_state();
    flat.position.open.clear();
    let text = screen(&flat, 140, 44);
    assert!(text.contains("flat: no open shadow position"), "{text}");
}

#[test]
fn the_today_pane_counts_refusals_by_reason_and_lists_the_last_ten_events() {
    let text = screen(&known_state(), 140, 44);
    assert!(
        text.contains("signals 2 · refusals 3"),
        "refusal total: {text}"
    );
    assert!(
        text.contains("by reason: kill_switch 2, expired 1"),
        "{text}"
    );
    for i in 2..12 {
        assert!(text.contains(&format!("event number {i}")), "{i}: {text}");
    }
    assert!(!text.contains("event number 1 "), "{text}");
}

#[test]
fn the_windows_pane_shows_overrides_and_counts_down_to_the_next_window() {
    let text = screen(&known_state(), 140, 44);
    assert!(
        text.contains("morning    09:30-11:30 ET  orb (override; config: production)"),
        "{text}"
    );
    assert!(
        text.contains("next: afternoon (production) opens in 1h 05m"),
        "{text}"
    );
    let mut later = known_state();
    later.now = NOW + 3900 - 42;
    let text = screen(&later, 140, 44);
    assert!(text.contains("opens in 42 s"), "{text}");
    assert!(text.contains("open now: morning"), "{text}");
}

#[test]
fn the_feed_pane_and_the_kill_switch_banner() {
    let mut s = known_state();
    let text = screen(&s, 140, 44);
    assert!(
        text.contains("connected · vrev 1, ESZ6 · for 2m 05s"),
        "{text}"
    );
    assert!(text.contains("bars today 412 (this run 1440)"), "{text}");
    assert!(text.contains("23 s ago"), "{text}");
    assert!(
        text.contains("frame→file p50 850 µs · p99 2100 µs (n=3)"),
        "{text}"
    );
    assert!(text.contains("reconnects 1 · refused frames 0"), "{text}");
    assert!(text.contains("accepting signals"), "{text}");
    s.feed.connected = None;
    s.kill_switch = Some("halted by vrev halt at 2025-12-08 15:00:00".into());
    let text = screen(&s, 140, 44);
    assert!(text.contains("DISCONNECTED (reconnecting)"), "{text}");
    assert!(text.contains("KILL SWITCH ON"), "{text}");
}

#[test]
fn the_nt8_pane_says_how_to_set_nt8_when_it_is_absent() {
    let text = screen(&known_state(), 140, 44);
    assert!(text.contains("[nt8] is not set"), "{text}");
    assert!(
        text.contains("documents_dir = 'C:\\Users\\me\\Documents'"),
        "{text}"
    );
}

fn model() -> Model {
    let sig = |id: &str, side: Side, entry: f64| ModelSignal {
        signal_id: id.into(),
        side,
        bar_time: "2025-12-08T15:15:00Z".into(),
        entry,
        stop: entry - 5.0,
        target: entry + 10.0,
        quantity: 3,
        profile: "production".into(),
    };
    let mut m = Model::default();
    m.signals
        .push(sig("20251208_101500_6090.00_6100.00", Side::Buy, 6100.0));
    m.signals
        .push(sig("20251208_103000_6091.00_6101.00", Side::Buy, 6101.0));
    m.shadows.insert(
        "20251208_101500_6090.00_6100.00".into(),
        ShadowTrade {
            entry: 6100.25,
            exit: 6110.0,
            reason: "target".into(),
        },
    );
    m.shadows.insert(
        "20251208_103000_6091.00_6101.00".into(),
        ShadowTrade {
            entry: 6101.25,
            exit: 6095.75,
            reason: "stop".into(),
        },
    );
    m
}

#[test]
fn the_nt8_pane_shows_todays_real_trades_with_the_difference_to_the_shadow() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("trades_Sim101.csv");
    std::fs::write(
        &log,
        "signal_id,side,quantity,entry_time_utc,entry_price,exit_time_utc,exit_price,exit_reason,points,pnl\n\
         20251208_101500_6090.00_6100.00,BUY,3,2025-12-08T15:16:00Z,6100.25,2025-12-08T15:40:00Z,6110.00,target,9.75,1462.50\n\
         20251208_103000_6091.00_6101.00,BUY,3,2025-12-08T15:31:00Z,6101.50,2025-12-08T15:50:00Z,6095.50,stop,-6.00,-900.00\n\
         20251208_110000_1.00_2.00,SELL,1,2025-12-08T16:01:00Z,6120.00,2025-12-08T16:09:00Z,6118.00,target,2.00,100.00\n\
         20251205_101500_6090.00_6100.00,BUY,3,2025-12-05T15:16:00Z,6100.25,2025-12-05T15:40:00Z,6110.00,target,9.75,1462.50\n",
    )
    .unwrap();
    let costs = Costs {
        tick_size: 0.25,
        point_value: 50.0,
        slippage_ticks: 1.0,
    };
    let clock = vrev::market::time::MarketClock::exchange();
    let pane = Nt8Pane::load(&log, &model(), costs, Some(date("2025-12-08")), &clock);
    let Nt8Pane::Trades(t) = &pane else {
        panic!("{pane:?}")
    };
    assert_eq!(t.in_file, 4);
    assert_eq!(t.rows.len(), 3, "the trade of 2025-12-05 is not today's");
    let mut s = known_state();
    s.nt8 = pane.clone();
    let text = screen(&s, 140, 44);
    // The words of the pane's row of a trade.
    let row = |id: &str| -> Vec<String> {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("│{id}")))
            .unwrap_or_else(|| panic!("{id}: {text}"));
        line.trim_matches(|c| c == '│' || c == ' ')
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    // As modelled: no difference.
    assert_eq!(
        row("20251208_101500_6090.00_6100.00"),
        [
            "20251208_101500_6090.00_6100.00",
            "BUY",
            "3",
            "target",
            "$1,462.50",
            "$1,462.50",
            "$0.00",
            "0/0"
        ]
    );
    // One tick worse on the entry, one on the exit: 2 ticks × 3 contracts × $12.50.
    assert_eq!(
        row("20251208_103000_6091.00_6101.00"),
        [
            "20251208_103000_6091.00_6101.00",
            "BUY",
            "3",
            "stop",
            "-$900.00",
            "-$825.00",
            "-$75.00",
            "1/1"
        ]
    );
    assert!(text.contains("no vrev signal"), "{text}");
    assert!(
        text.contains("total: live $562.50 vs shadow $637.50 · difference -$75.00"),
        "{text}"
    );
    // Configured, no trade yet.
    let none = Nt8Pane::load(
        &dir.path().join("trades_Other.csv"),
        &model(),
        costs,
        None,
        &clock,
    );
    s.nt8 = none;
    let text = screen(&s, 140, 44);
    assert!(text.contains("no real trade yet"), "{text}");
    assert!(text.contains("trades_Other.csv does not exist"), "{text}");
}

#[test]
fn the_next_window_is_found_from_the_wall_clock_over_weekends() {
    let clock = vrev::market::time::MarketClock::exchange();
    let w = |s: u32, e: u32| vrev::market::time::SessionWindow {
        start_minute: s,
        end_minute: e,
    };
    let windows = vec![
        ("morning".to_string(), w(570, 690), "production".to_string()),
        ("afternoon".to_string(), w(780, 930), "orb".to_string()),
    ];
    // Monday 2025-12-08 10:00 ET: inside morning; next is the afternoon at 13:00.
    let now = et("2025-12-08 10:00");
    let n = next_window(&windows, now, &clock).unwrap();
    assert_eq!(
        (n.name.as_str(), n.starts),
        ("afternoon", et("2025-12-08 13:00"))
    );
    // Friday 14:00 ET: next is Monday's morning.
    let n = next_window(&windows, et("2025-12-12 14:00"), &clock).unwrap();
    assert_eq!(
        (n.name.as_str(), n.starts),
        ("morning", et("2025-12-15 09:30"))
    );
    assert_eq!(n.profile, "production");
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

#[test]
fn the_keys_h_r_q_and_the_profile_chooser() {
    let s = known_state();
    let mut ch = None;
    assert_eq!(
        on_key(key(KeyCode::Char('h')), &s, &mut ch),
        Action::Send(Command::Halt)
    );
    assert_eq!(
        on_key(key(KeyCode::Char('r')), &s, &mut ch),
        Action::Send(Command::Resume)
    );
    assert_eq!(on_key(key(KeyCode::Char('q')), &s, &mut ch), Action::Quit);
    assert_eq!(
        on_key(
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
            &s,
            &mut ch
        ),
        Action::Quit,
        "Ctrl+C in raw mode is a key: the same stop"
    );
    // p: the first window, at its current profile (orb); Down → production; Enter applies.
    assert_eq!(on_key(key(KeyCode::Char('p')), &s, &mut ch), Action::Redraw);
    assert_eq!(ch.as_ref().map(|c| (c.window, c.profile)), Some((0, 0)));
    let mut shown = s.clone();
    shown.choosing = ch.clone();
    assert!(screen(&shown, 140, 44).contains("Enter apply · Esc cancel"));
    on_key(key(KeyCode::Down), &s, &mut ch);
    let mut shown = s.clone();
    shown.choosing = ch.clone();
    assert!(screen(&shown, 140, 44).contains("→ production?"));
    assert_eq!(
        on_key(key(KeyCode::Enter), &s, &mut ch),
        Action::Send(Command::SwitchProfile {
            window: "morning".into(),
            profile: "production".into()
        })
    );
    assert!(ch.is_none());
    // Esc cancels; Right goes to the next window at its own profile.
    on_key(key(KeyCode::Char('p')), &s, &mut ch);
    on_key(key(KeyCode::Right), &s, &mut ch);
    assert_eq!(ch.as_ref().map(|c| (c.window, c.profile)), Some((1, 1)));
    assert_eq!(on_key(key(KeyCode::Esc), &s, &mut ch), Action::Redraw);
    assert!(ch.is_none());
}

/// The engine side with a real engine on a synthetic day: what it publishes agrees with the
/// engine, and the keys' commands take effect between bars and are journaled.
#[test]
fn the_engine_side_publishes_what_the_engine_did_and_applies_the_keys() {
    let p = Project::new();
    let cfg = vrev::config::Config::load(&p.path("config.toml")).unwrap();
    let engine = vrev::host::engine::Engine::new(
        &cfg,
        vrev::host::engine::EngineOptions {
            outputs: vrev::host::engine::Outputs::Files,
            keep_events: true,
            mode: "run".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let mut inner = vrev::feed::run::EngineSink::new(engine);
    inner.announce = false;
    let (tx, rx) = tokio::sync::watch::channel(Published::default());
    let (cmd_tx, cmd_rx) = std::sync::mpsc::channel();
    let mut desk = DeskSink::new(inner, "ws://127.0.0.1:1", tx, cmd_rx);
    let bars = vrev::market::synth::generate(&vrev::market::synth::SynthOptions {
        days: 1,
        ..Default::default()
    });
    use vrev::feed::client::Sink;
    for (i, bar) in bars.iter().enumerate() {
        if i == 10 {
            cmd_tx
                .send(Command::SwitchProfile {
                    window: "overnight".into(),
                    profile: "bidirectional".into(),
                })
                .unwrap();
        }
        if i == 11 {
            cmd_tx
                .send(Command::SwitchProfile {
                    window: "overnight".into(),
                    profile: "production".into(),
                })
                .unwrap();
        }
        desk.bar(bar, false, Instant::now());
        let st = rx.borrow().state.clone();
        assert_eq!(
            st.position.open.len(),
            desk.inner.engine.book().open_count()
        );
        for o in &st.position.open {
            let book = desk.inner.engine.book();
            let t = book
                .open_trades()
                .iter()
                .find(|t| t.signal_id == o.signal_id)
                .unwrap();
            assert_eq!(
                (o.stop, o.initial_stop, o.target),
                (t.stop, t.initial_stop, t.target)
            );
            assert_eq!(o.entry, t.entry_price);
        }
    }
    desk.idle();
    let st = rx.borrow().state.clone();
    let e = &desk.inner.engine;
    assert_eq!(
        st.today.signals,
        e.signals.len() as u64,
        "one synthetic day"
    );
    assert_eq!(st.feed.bars_run, bars.len() as u64);
    assert_eq!(st.feed.bars_today, bars.len() as u64);
    let day = e.last_trading_day().unwrap();
    assert_eq!(st.position.today_pnl, e.book().realized_on(day));
    let refused: u64 = st.today.refusals.iter().map(|(_, n)| n).sum();
    assert_eq!(refused, e.stats.rejections);
    // The switch back to production was applied and journaled.
    let journal = std::fs::read_to_string(p.path("state/journal.jsonl")).unwrap();
    let desk_lines: Vec<&str> = journal
        .lines()
        .filter(|l| l.contains("\"event\":\"desk\""))
        .collect();
    assert_eq!(desk_lines.len(), 2, "{journal}");
    assert!(desk_lines[0].contains("window overnight: profile production -> bidirectional"));
    assert!(desk_lines[0].contains("runtime override until restart"));
    assert!(desk_lines[1].contains("bidirectional -> production"));
    // h / r between bars: the file and the journal; the state shows it.
    cmd_tx.send(Command::Halt).unwrap();
    desk.idle();
    assert!(p.path("state/HALT").exists());
    let st = rx.borrow().state.clone();
    assert!(st
        .kill_switch
        .as_deref()
        .unwrap()
        .contains("the dashboard's h key"));
    assert!(st
        .message
        .as_deref()
        .unwrap()
        .starts_with("h: kill switch ON"));
    assert!(st.today.events.iter().any(|e| e.kind == "halt"));
    cmd_tx.send(Command::Resume).unwrap();
    desk.idle();
    assert!(!p.path("state/HALT").exists());
    assert!(rx.borrow().state.kill_switch.is_none());
    // An unknown profile is refused with its reason, journaled, and nothing changes.
    cmd_tx
        .send(Command::SwitchProfile {
            window: "morning".into(),
            profile: "nope".into(),
        })
        .unwrap();
    desk.idle();
    let st = rx.borrow().state.clone();
    assert!(
        st.message.as_deref().unwrap().contains("no profile `nope`"),
        "{:?}",
        st.message
    );
    let journal = std::fs::read_to_string(p.path("state/journal.jsonl")).unwrap();
    assert!(journal.contains("switch_profile_refused"));
    assert!(journal.contains("\"event\":\"kill_switch\",\"on\":true"));
    assert!(journal.contains("\"event\":\"kill_switch\",\"on\":false"));
}

// ------------------------------------------------------------------------------------------
// The real binary in a pseudo-terminal.

/// A child in a pseudo-terminal whose screen is kept by a VT100 parser.
struct Pty {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    fn spawn(dir: &std::path::Path, args: &[&str]) -> Pty {
        let pty = portable_pty::native_pty_system()
            .openpty(portable_pty::PtySize {
                rows: 44,
                cols: 140,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = portable_pty::CommandBuilder::new(env!("CARGO_BIN_EXE_vrev"));
        cmd.args(args);
        cmd.cwd(dir);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("NO_COLOR");
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(44).unwrap(),
            std::num::NonZeroU16::new(140).unwrap(),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (p2, r2) = (parser.clone(), raw.clone());
        std::thread::spawn(move || {
            let _master = pty.master;
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        p2.lock().unwrap().process(&buf[..n]);
                        r2.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                }
            }
        });
        Pty {
            child,
            writer,
            parser,
            raw,
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn wait_screen(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "vrev exited ({status:?}) before {what}:\n{s}\n{}",
                    String::from_utf8_lossy(&self.raw.lock().unwrap())
                );
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn press(&mut self, k: &str) {
        self.writer.write_all(k.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }
}

#[test]
fn run_on_a_terminal_is_a_dashboard_and_h_r_q_halt_resume_and_quit() {
    let p = Project::new();
    let o = p.vrev(&["synth", "--out", "bars.txt", "--days", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let n_bars = std::fs::read_to_string(p.path("bars.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_vrev"))
        .args([
            "serve",
            "bars.txt",
            "--port",
            &port,
            "--history",
            "700",
            "--speed",
            "max",
        ])
        .current_dir(p.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = format!("ws://127.0.0.1:{port}");
    let mut run = Pty::spawn(p.dir.path(), &["run", "--url", &url, "--playback"]);
    let all = format!("(this run {n_bars})");
    // A frame arrives in pieces: wait until everything expected is on the screen at once.
    let expected = [
        all.as_str(),
        "Feed",
        "Windows",
        "Today",
        "Position (shadow)",
        "NinjaTrader",
        "connected · vrev 1",
        "accepting signals",
        "[nt8] is not set",
        "frame→file p50",
        "next: ",
    ];
    run.wait_screen("every bar and every pane on the dashboard", |s| {
        expected.iter().all(|e| s.contains(e))
    });
    let signals = p.signal_files().len();
    assert!(signals > 0, "the live part of the day signals");

    run.press("h");
    run.wait_screen("the kill switch on screen", |s| {
        s.contains("KILL SWITCH ON") && s.contains("h: kill switch ON")
    });
    assert!(p.path("state/HALT").exists());
    run.press("r");
    run.wait_screen("the kill switch off on screen", |s| {
        s.contains("accepting signals")
            && s.contains("r: kill switch off")
            && !s.contains("KILL SWITCH ON")
    });
    assert!(!p.path("state/HALT").exists());

    run.press("q");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = run.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "q did not stop vrev run:\n{}",
            run.screen()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    // The terminal is given back (main screen, cooked mode), then the summary as on Ctrl+C.
    std::thread::sleep(Duration::from_millis(200));
    let raw = String::from_utf8_lossy(&run.raw.lock().unwrap()).to_string();
    assert!(
        raw.contains("\x1b[?1049h"),
        "the alternate screen was entered"
    );
    assert!(raw.contains("\x1b[?1049l"), "and left");
    let after = raw.rsplit("\x1b[?1049l").next().unwrap();
    assert!(after.contains("run: stopped after"), "{after}");
    assert!(
        after.contains(&format!("signals: {signals} written")),
        "{after}"
    );
    let _ = serve.kill();
    let _ = serve.wait();

    let j = p.journal();
    let kinds = |k: &str| j.iter().filter(|e| e["event"] == k).collect::<Vec<_>>();
    let desk: Vec<String> = kinds("desk")
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(desk, ["halt", "resume", "quit"], "{j:?}");
    let ks: Vec<bool> = kinds("kill_switch")
        .iter()
        .map(|e| e["on"].as_bool().unwrap())
        .collect();
    assert_eq!(ks, [true, false]);
    assert!(kinds("kill_switch")[0]["detail"]
        .as_str()
        .unwrap()
        .contains("the dashboard's h key"));
    let stopped = kinds("feed");
    assert_eq!(stopped.last().unwrap()["state"], "stopped");
}

#[test]
fn a_profile_override_lasts_across_config_reloads_until_its_profile_is_gone() {
    let p = Project::new();
    let cfg = vrev::config::Config::load(&p.path("config.toml")).unwrap();
    let mut e = vrev::host::engine::Engine::new(
        &cfg,
        vrev::host::engine::EngineOptions {
            keep_events: true,
            ..Default::default()
        },
    )
    .unwrap();
    let morning = |e: &vrev::host::engine::Engine| {
        e.window_profiles()
            .into_iter()
            .find(|(w, _, _)| w == "morning")
            .unwrap()
            .1
    };
    assert_eq!(morning(&e), "production");
    let done = e.switch_profile("morning", "orb", "a test").unwrap();
    assert!(done.contains("production -> orb"), "{done}");
    assert_eq!(morning(&e), "orb");
    assert_eq!(e.profile_overrides().get("morning").unwrap(), "orb");
    let text = std::fs::read_to_string(p.path("config.toml")).unwrap();
    assert!(e.reload_config(cfg.clone(), &text));
    assert_eq!(morning(&e), "orb", "kept across a reload");
    assert_eq!(
        std::fs::read_to_string(p.path("config.toml")).unwrap(),
        text,
        "the config file is not edited"
    );
    // The same config without [profile.orb]: the override goes, the config's profile returns.
    let start = text.find("[profile.orb]").unwrap();
    let end = start + 1 + text[start + 1..].find("\n[profile.").unwrap();
    let without = format!("{}{}", &text[..start], &text[end + 1..]);
    p.write("config.toml", &without);
    let cfg2 = vrev::config::Config::load(&p.path("config.toml")).unwrap();
    assert!(e.reload_config(cfg2, &without));
    assert_eq!(morning(&e), "production");
    assert!(e.profile_overrides().is_empty());
    let notes = e
        .events
        .iter()
        .rev()
        .find_map(|ev| match ev {
            vrev::host::journal::Event::Reload { notes, .. } => Some(notes.clone()),
            _ => None,
        })
        .unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("runtime override morning=orb is dropped")),
        "{notes:?}"
    );
    // Unknown window, and --profile forcing every window.
    assert!(e
        .switch_profile("nowhere", "production", "a test")
        .unwrap_err()
        .contains("no window `nowhere`"));
    let forced = vrev::host::engine::Engine::new(
        &cfg,
        vrev::host::engine::EngineOptions {
            forced_profile: Some("production".into()),
            ..Default::default()
        },
    );
    let err = forced
        .unwrap()
        .switch_profile("morning", "orb", "a test")
        .unwrap_err();
    assert!(
        err.contains("--profile production runs in every window"),
        "{err}"
    );
}
