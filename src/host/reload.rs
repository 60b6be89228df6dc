//! Edit while running (issue 5): watches the strategy scripts and `config.toml`, and hands each
//! new version to the engine thread, which applies it between two bars
//! ([`Engine::reload_script`], [`Engine::reload_config`]).
//!
//! Editors save in different ways — truncate and write in place, write a temporary file and
//! rename it over the original (vim, VS Code), several saves in a row — so the watcher:
//! - watches the *folders* (a rename replaces the file a file-watch would follow), non-recursively;
//! - waits until a file has been quiet for [`DEBOUNCE`] before reading it, so a half-written file
//!   is not read while it is still being written;
//! - skips an empty file (a save in progress) and a content-identical save (same hash as the
//!   version last handed over), so neither triggers a reload.

use crate::config::Config;
use crate::host::engine::Engine;
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// Quiet time after the last change to a file before it is read.
pub const DEBOUNCE: Duration = Duration::from_millis(60);

/// A new version of a watched file, read in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Script {
        path: PathBuf,
        text: String,
    },
    Config {
        path: PathBuf,
        text: String,
    },
    /// A script version the gate refused (e.g. a scenario failed), with the reason.
    Refused {
        path: PathBuf,
        text: String,
        error: String,
    },
}

/// Longest compile of a new script version accepted on the watcher's thread. Only a version that
/// compiled here in time is handed to the engine, whose thread compiles the same text between two
/// bars: this bounds what a reload can cost the bar loop.
pub const MAX_COMPILE_TIME: Duration = Duration::from_millis(100);

/// Compiles a new script version off the bar loop, on the watcher's own script host: a version
/// that does not compile, whose top-level code fails or runs too long, that is too big
/// ([`crate::strategy::script::MAX_SCRIPT_BYTES`]) or too slow to compile never reaches the
/// engine's thread.
pub fn preflight(path: &Path, text: &str) -> Result<(), String> {
    use crate::strategy::script::{ScriptHost, ScriptLimits};
    let series = std::rc::Rc::new(std::cell::RefCell::new(
        crate::market::bar::BarSeries::with_capacity(128),
    ));
    let host = ScriptHost::new(series, ScriptLimits::default());
    let started = Instant::now();
    host.compile_source(path, text).map_err(|e| e.to_string())?;
    let took = started.elapsed();
    if took > MAX_COMPILE_TIME {
        return Err(format!(
            "{}: took {} ms to compile (at most {} ms, so that a reload never holds up the bars): make the script smaller",
            path.display(),
            took.as_millis(),
            MAX_COMPILE_TIME.as_millis()
        ));
    }
    Ok(())
}

/// A check a new script version must pass before it is handed to the engine, run on the
/// watcher's thread so the bars never wait for it: `Err(reason)` refuses the version.
pub type Gate = Box<dyn Fn(&Path, &str) -> Result<(), String> + Send>;

/// Watches the files and queues their new versions for the engine thread.
pub struct Reloader {
    changes: Receiver<Change>,
    config_path: PathBuf,
    sets: Vec<String>,
    _watcher: notify::RecommendedWatcher,
}

fn hash(text: &str) -> String {
    crate::strategy::content_hash(text.as_bytes())
}

/// Absolute, normalized form used to compare paths from the watcher with config paths.
fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

impl Reloader {
    /// Starts watching `config_path`, the folder of every script the config names, and the
    /// `strategies/` folder beside the config. `sets` are the `--set` overrides to re-apply to
    /// every new config version.
    pub fn watch(
        config_path: &Path,
        cfg: &Config,
        sets: Vec<String>,
        gate: Option<Gate>,
    ) -> anyhow::Result<Reloader> {
        let config_path = canonical(config_path);
        let config_dir = config_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let mut dirs = vec![config_dir.clone()];
        let strategies = config_dir.join("strategies");
        if strategies.is_dir() {
            dirs.push(canonical(&strategies));
        }
        for p in cfg
            .profile
            .values()
            .filter(|p| !p.strategy.starts_with("builtin:"))
        {
            if let Some(d) = canonical(&cfg.resolve(Path::new(&p.strategy))).parent() {
                if d.is_dir() && !dirs.iter().any(|x| x == d) {
                    dirs.push(d.to_path_buf());
                }
            }
        }
        // What each watched file held when watching began: a save of the same text is no change.
        let mut known: HashMap<PathBuf, String> = HashMap::new();
        for d in &dirs {
            for e in std::fs::read_dir(d)?.flatten() {
                let p = e.path();
                if is_watched(&p, &config_path) {
                    if let Ok(t) = std::fs::read_to_string(&p) {
                        known.insert(canonical(&p), hash(&t));
                    }
                }
            }
        }
        let (raw_tx, raw_rx) = channel::<PathBuf>();
        let mut watcher =
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                if let Ok(ev) = res {
                    if matches!(ev.kind, EventKind::Create(_) | EventKind::Modify(_)) {
                        for p in ev.paths {
                            let _ = raw_tx.send(p);
                        }
                    }
                }
            })?;
        for d in &dirs {
            watcher.watch(d, RecursiveMode::NonRecursive)?;
        }
        let (tx, rx) = channel::<Change>();
        let cfg_path = config_path.clone();
        std::thread::Builder::new()
            .name("vrev-reload".into())
            .spawn(move || debounce(raw_rx, tx, cfg_path, known, gate))?;
        Ok(Reloader {
            changes: rx,
            config_path,
            sets,
            _watcher: watcher,
        })
    }

    /// Applies every queued change to `engine` (call between two bars; never blocks). Returns
    /// how many changes were handled.
    pub fn apply(&mut self, engine: &mut Engine) -> usize {
        let mut n = 0;
        while let Ok(change) = self.changes.try_recv() {
            n += 1;
            match change {
                Change::Script { path, text } => {
                    engine.reload_script(&path, &text);
                }
                Change::Refused { path, text, error } => {
                    let shown = std::env::current_dir()
                        .ok()
                        .and_then(|d| path.strip_prefix(d).ok().map(Path::to_path_buf))
                        .unwrap_or(path);
                    engine.reload_refused(&shown, &text, error);
                }
                Change::Config { path, text } => {
                    // Scripts are named relative to the config as the user wrote it.
                    let shown = if path == self.config_path {
                        engine.config().source.clone()
                    } else {
                        path.clone()
                    };
                    match Config::from_text(&text, &shown)
                        .and_then(|mut c| c.apply_overrides(&self.sets).map(|_| c))
                    {
                        Ok(cfg) => {
                            engine.reload_config(cfg, &text);
                        }
                        Err(e) => engine.reload_refused(&shown, &text, e.to_string()),
                    }
                }
            }
        }
        n
    }
}

fn is_watched(p: &Path, config_path: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if name.starts_with('.') {
        return false;
    }
    p.extension().is_some_and(|e| e == "rhai")
        || canonical(p) == config_path
        || p.file_name() == config_path.file_name()
            && p.parent().map(canonical) == config_path.parent().map(Path::to_path_buf)
}

/// The debounce thread: collects raw events, reads each file once it has been quiet, and
/// forwards new, non-empty content.
fn debounce(
    raw: Receiver<PathBuf>,
    out: Sender<Change>,
    config_path: PathBuf,
    mut known: HashMap<PathBuf, String>,
    gate: Option<Gate>,
) {
    let mut pending: HashMap<PathBuf, Instant> = HashMap::new();
    loop {
        match raw.recv_timeout(Duration::from_millis(10)) {
            Ok(p) => {
                if is_watched(&p, &config_path) {
                    pending.insert(canonical(&p), Instant::now());
                }
                continue;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = Instant::now();
        let ready: Vec<PathBuf> = pending
            .iter()
            .filter(|(_, t)| now.duration_since(**t) >= DEBOUNCE)
            .map(|(p, _)| p.clone())
            .collect();
        for p in ready {
            pending.remove(&p);
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            }; // renamed away or unreadable: wait for the next event
            if text.trim().is_empty() {
                continue; // a save in progress; the write that fills it sends another event
            }
            let h = hash(&text);
            if known.get(&p) == Some(&h) {
                continue; // content-identical save
            }
            known.insert(p.clone(), h);
            let change = if p == config_path {
                Change::Config { path: p, text }
            } else if let Err(error) = preflight(&p, &text) {
                Change::Refused {
                    path: p,
                    text,
                    error,
                }
            } else {
                match gate.as_ref().map(|g| g(&p, &text)) {
                    Some(Err(error)) => Change::Refused {
                        path: p,
                        text,
                        error,
                    },
                    _ => Change::Script { path: p, text },
                }
            };
            if out.send(change).is_err() {
                return;
            }
        }
    }
}
