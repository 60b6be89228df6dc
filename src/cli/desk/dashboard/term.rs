//! The drawing side of the dashboard: a thread that owns the terminal (raw mode, alternate
//! screen), redraws from the newest published state at least once a second and within 50 ms of
//! a new one, reads the keys and sends their commands to the engine side. It never waits on the
//! engine: it reads a `watch` value and sends on an unbounded `mpsc`.

use super::draw::draw;
use super::state::{DeskState, Nt8Pane, ProfileChoice};
use super::{Command, Published};
use crate::cli::desk::reconcile::{self, Costs, Model};
use crate::market::time::MarketClock;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the NinjaTrader pane reads from.
pub struct Nt8Setup {
    /// `trades_<account>.csv` (from `[nt8]`), `None` without the section.
    pub trade_log: Option<PathBuf>,
    /// The run's journal: signals of earlier runs today are read from it once, at start.
    pub journal: PathBuf,
    pub costs: Costs,
    /// The CME trading day rolls at the config's `trading_day_start`.
    pub clock: MarketClock,
}

/// What a key does on the drawing side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Send(Command),
    Quit,
    /// Only the screen changes (the profile chooser).
    Redraw,
    None,
}

/// The keys, as a function of the key and what is on screen (tested without a terminal).
/// `choosing` is the profile chooser's state, kept by the drawing side.
pub fn on_key(key: KeyEvent, s: &DeskState, choosing: &mut Option<ProfileChoice>) -> Action {
    if key.kind == KeyEventKind::Release {
        return Action::None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        // Raw mode turns Ctrl+C into a key: the same stop as the signal.
        return Action::Quit;
    }
    let current = |w: usize| -> usize {
        s.windows
            .get(w)
            .and_then(|w| s.profiles.iter().position(|p| *p == w.profile))
            .unwrap_or(0)
    };
    if let Some(ch) = choosing.as_mut() {
        let (nw, np) = (s.windows.len().max(1), s.profiles.len().max(1));
        match key.code {
            KeyCode::Esc | KeyCode::Char('p') => *choosing = None,
            KeyCode::Left | KeyCode::BackTab => {
                ch.window = (ch.window + nw - 1) % nw;
                ch.profile = current(ch.window);
            }
            KeyCode::Right | KeyCode::Tab => {
                ch.window = (ch.window + 1) % nw;
                ch.profile = current(ch.window);
            }
            KeyCode::Up => ch.profile = (ch.profile + np - 1) % np,
            KeyCode::Down => ch.profile = (ch.profile + 1) % np,
            KeyCode::Enter => {
                let c = choosing.take().expect("choosing");
                return match (s.windows.get(c.window), s.profiles.get(c.profile)) {
                    (Some(w), Some(p)) => Action::Send(Command::SwitchProfile {
                        window: w.name.clone(),
                        profile: p.clone(),
                    }),
                    _ => Action::Redraw,
                };
            }
            KeyCode::Char('q') => return Action::Quit,
            _ => return Action::None,
        }
        return Action::Redraw;
    }
    match key.code {
        KeyCode::Char('h') | KeyCode::Char('H') => Action::Send(Command::Halt),
        KeyCode::Char('r') | KeyCode::Char('R') => Action::Send(Command::Resume),
        KeyCode::Char('p') | KeyCode::Char('P') if !s.windows.is_empty() => {
            *choosing = Some(ProfileChoice {
                window: 0,
                profile: current(0),
            });
            Action::Redraw
        }
        KeyCode::Char('q') | KeyCode::Char('Q') => Action::Quit,
        _ => Action::None,
    }
}

/// This run's model over the journal's (signals of earlier runs of the day).
fn merged(seed: &Model, live: &Model) -> Model {
    let mut m = seed.clone();
    for s in &live.signals {
        match m.signals.iter_mut().find(|x| x.signal_id == s.signal_id) {
            Some(x) => *x = s.clone(),
            None => m.signals.push(s.clone()),
        }
    }
    m.shadows
        .extend(live.shadows.iter().map(|(k, v)| (k.clone(), v.clone())));
    m
}

/// Where the keys' effects go.
pub struct Keys {
    pub commands: std::sync::mpsc::Sender<Command>,
    pub quit: Arc<tokio::sync::Notify>,
    pub quit_pressed: Arc<AtomicBool>,
}

/// The drawing loop, on any ratatui backend (the terminal; a `TestBackend` in the benchmark):
/// until `stop`, redraws within 50 ms of a new published state and at least once a second,
/// reloads the trade log every 2 s, and hands each key to [`on_key`]. `next_event` waits up to
/// the given time for a terminal event (crossterm's poll and read on a terminal).
pub fn draw_loop<B: ratatui::backend::Backend>(
    terminal: &mut ratatui::Terminal<B>,
    mut rx: tokio::sync::watch::Receiver<Published>,
    keys: Option<Keys>,
    nt8: Nt8Setup,
    stop: &AtomicBool,
    mut next_event: impl FnMut(Duration) -> std::io::Result<Option<Event>>,
) -> std::io::Result<()> {
    let mut published = rx.borrow_and_update().clone();
    let mut choosing: Option<ProfileChoice> = None;
    let mut local: Option<String> = None;
    let mut seed: Option<Model> = None;
    let mut nt8_pane = Nt8Pane::NotConfigured;
    let mut nt8_at: Option<Instant> = None;
    let mut drawn_at = Instant::now() - Duration::from_secs(10);
    let mut dirty = true;
    while !stop.load(Ordering::Relaxed) {
        if rx.has_changed().unwrap_or(false) {
            published = rx.borrow_and_update().clone();
            if published.state.message.is_some() {
                local = None;
            }
            dirty = true;
        }
        // The trade log: every 2 s, read here, never on the bar loop.
        if nt8_at.is_none_or(|t| t.elapsed() >= Duration::from_secs(2)) {
            nt8_at = Some(Instant::now());
            nt8_pane = match &nt8.trade_log {
                None => Nt8Pane::NotConfigured,
                Some(path) => {
                    let seed = seed.get_or_insert_with(|| {
                        reconcile::read_journal(&nt8.journal).unwrap_or_default()
                    });
                    let model = merged(seed, &published.model);
                    let day = published.state.today.day.or_else(|| {
                        Some(nt8.clock.stamp(chrono::Utc::now().timestamp()).trading_day)
                    });
                    Nt8Pane::load(path, &model, nt8.costs, day, &nt8.clock)
                }
            };
            dirty = true;
        }
        if dirty || drawn_at.elapsed() >= Duration::from_secs(1) {
            let mut s: DeskState = published.state.clone();
            s.now = chrono::Utc::now().timestamp();
            s.choosing = choosing.clone();
            s.nt8 = nt8_pane.clone();
            if local.is_some() {
                s.message = local.clone();
            }
            terminal
                .draw(|f| draw(f, &s))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            drawn_at = Instant::now();
            dirty = false;
        }
        let Some(ev) = next_event(Duration::from_millis(50))? else {
            continue;
        };
        // A resize, focus or mouse event only redraws.
        dirty = true;
        let (Event::Key(key), Some(k)) = (ev, keys.as_ref()) else {
            continue;
        };
        match on_key(key, &published.state, &mut choosing) {
            Action::Send(c) => {
                local = Some(match &c {
                    Command::Halt => "h: turning the kill switch on…".into(),
                    Command::Resume => "r: turning the kill switch off…".into(),
                    Command::SwitchProfile { window, profile } => {
                        format!("p: switching {window} to {profile}…")
                    }
                });
                let _ = k.commands.send(c);
            }
            Action::Quit => {
                local = Some("q: stopping (as Ctrl+C)…".into());
                k.quit_pressed.store(true, Ordering::SeqCst);
                k.quit.notify_one();
            }
            Action::Redraw | Action::None => {}
        }
    }
    Ok(())
}

/// The running drawing thread.
pub struct Screen {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Screen {
    /// Takes the terminal (raw mode, alternate screen, a panic hook that gives it back) and
    /// starts drawing. `quit` is notified on `q` / Ctrl+C; `quit_pressed` tells who stopped.
    pub fn start(
        rx: tokio::sync::watch::Receiver<Published>,
        commands: std::sync::mpsc::Sender<Command>,
        quit: Arc<tokio::sync::Notify>,
        quit_pressed: Arc<AtomicBool>,
        nt8: Nt8Setup,
    ) -> std::io::Result<Screen> {
        let mut terminal = ratatui::try_init()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let handle = std::thread::Builder::new()
            .name("vrev-dashboard".into())
            .spawn(move || -> std::io::Result<()> {
                let keys = Keys {
                    commands,
                    quit,
                    quit_pressed,
                };
                draw_loop(&mut terminal, rx, Some(keys), nt8, &stopping, |wait| {
                    if event::poll(wait)? {
                        Ok(Some(event::read()?))
                    } else {
                        Ok(None)
                    }
                })
            });
        match handle {
            Ok(h) => Ok(Screen {
                stop,
                handle: Some(h),
            }),
            Err(e) => {
                ratatui::restore();
                Err(e)
            }
        }
    }

    /// Stops drawing and gives the terminal back (cooked mode, main screen).
    pub fn stop(mut self) -> std::io::Result<()> {
        self.finish()
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        let r = match self.handle.take() {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the dashboard thread panicked"))),
            None => Ok(()),
        };
        ratatui::restore();
        r
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        if self.handle.is_some() {
            let _ = self.finish();
        }
    }
}

/// While the dashboard owns the terminal, what vrev writes to stderr (warnings, errors) would
/// scribble over the screen: it goes to a file instead, and stderr comes back on drop.
pub struct StderrAside {
    #[cfg(unix)]
    saved: Option<i32>,
    pub path: PathBuf,
}

impl StderrAside {
    /// Sends stderr to `path` (appended) when it is the terminal; otherwise leaves it alone.
    pub fn to(path: PathBuf) -> StderrAside {
        #[cfg(unix)]
        {
            use std::io::IsTerminal;
            use std::os::fd::IntoRawFd;
            if !std::io::stderr().is_terminal() {
                return StderrAside { saved: None, path };
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path);
            let Ok(file) = file else {
                return StderrAside { saved: None, path };
            };
            let fd = file.into_raw_fd();
            // SAFETY: plain descriptor calls on descriptors this process owns.
            let saved = unsafe {
                let saved = libc::dup(2);
                if saved >= 0 && libc::dup2(fd, 2) >= 0 {
                    Some(saved)
                } else {
                    if saved >= 0 {
                        libc::close(saved);
                    }
                    None
                }
            };
            unsafe {
                libc::close(fd);
            }
            StderrAside { saved, path }
        }
        #[cfg(not(unix))]
        {
            StderrAside { path }
        }
    }

    /// Whether stderr was sent to the file.
    pub fn active(&self) -> bool {
        #[cfg(unix)]
        {
            self.saved.is_some()
        }
        #[cfg(not(unix))]
        {
            false
        }
    }
}

impl Drop for StderrAside {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(saved) = self.saved.take() {
            // SAFETY: `saved` is the duplicate of the original stderr made in `to`.
            unsafe {
                libc::dup2(saved, 2);
                libc::close(saved);
            }
        }
    }
}
