//! Which strategy runs when (DESIGN §8): each session window names a profile, each profile a
//! strategy bound to its parameters. Owns building that line-up from a config, and changing it
//! while the engine runs — a new config (windows remapped, profiles edited) or a new version of
//! a script — always all at once, between two bars, and only when everything new checks out.

use crate::config::{Config, ConfigError, Direction, Profile};
use crate::host::engine_error::EngineError;
use crate::market::bar::BarSeries;
use crate::market::price::Side;
use crate::market::time::{EtStamp, SessionWindow};
use crate::strategy::native::{NativeStrategy, VParams};
use crate::strategy::script::{merge_params, CompiledScript, ScriptHost, ScriptLimits};
use crate::strategy::{Proposal, Strategy, StrategyError};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// A profile with its strategy instance.
pub struct Slot {
    pub profile_name: String,
    pub profile: Profile,
    pub direction: Direction,
    pub strategy: Box<dyn Strategy>,
    /// The script: (canonical path, path as the config spells it); `None` for native references.
    pub script: Option<(PathBuf, PathBuf)>,
}

/// Absolute form of a path, to recognise a file whatever way it is named.
fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A window and the slot that runs in it.
pub struct WindowSlot {
    pub name: String,
    pub window: SessionWindow,
    pub slot: usize,
}

/// What a script reload changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptReload {
    pub file: String,
    pub old_hash: Option<String>,
    pub new_hash: String,
    /// Profiles now running the new version.
    pub profiles: Vec<String>,
    /// `kept` or `reset (why)` per profile, for scripts with `this` state.
    pub state: String,
}

/// The line-up and what it is built from.
pub struct Sessions {
    pub slots: Vec<Slot>,
    pub windows: Vec<WindowSlot>,
    pub every_bar: Vec<usize>,
    host: ScriptHost,
    series: Rc<RefCell<BarSeries>>,
    scripts: HashMap<PathBuf, Rc<CompiledScript>>,
    pub cfg: Config,
    forced_profile: Option<String>,
    only_side: Option<Side>,
    /// Every slot is called on every bar (`EngineOptions::call_every_bar`), kept across reloads.
    every_slot_every_bar: bool,
    /// Runtime overrides window → profile (the live desk's `p` key): in force until the engine
    /// stops, over the config's choice, never written to the config file.
    overrides: std::collections::BTreeMap<String, String>,
}

fn narrow(d: Direction, only: Option<Side>) -> Direction {
    match (d, only) {
        (d, None) => d,
        (Direction::Neither, _) => Direction::Neither,
        (Direction::Both | Direction::Long, Some(Side::Buy)) => Direction::Long,
        (Direction::Both | Direction::Short, Some(Side::Sell)) => Direction::Short,
        // The profile does not trade the requested side at all: nothing passes rule 2.
        (Direction::Long, Some(Side::Sell)) | (Direction::Short, Some(Side::Buy)) => {
            Direction::Neither
        }
    }
}

/// A located config error for a profile's params (or the profile itself).
fn located(cfg: &Config, profile: &str, message: String) -> EngineError {
    let param = message.split('`').nth(1).unwrap_or("");
    let mut place = cfg.place_of(&["profile", profile, "params", param]);
    if place.line.is_none() {
        place = cfg.place_of(&["profile", profile, "params"]);
    }
    if place.line.is_none() {
        place = cfg.place_of(&["profile", profile]);
    }
    place.message = format!("profile.{profile}.params: {message}");
    EngineError::Config(place)
}

/// A profile whose script file does not exist: "not found" at the config line that names it,
/// with the path as the config writes it (not a compile error of a file that is not there).
pub fn missing_script(cfg: &Config, profile: &str) -> Option<crate::config::ConfigError> {
    let spec = &cfg.profile.get(profile)?.strategy;
    // Builtins (native references and twins) are checked by the config's validation.
    if spec.starts_with("builtin:") {
        return None;
    }
    let path = cfg.resolve(Path::new(spec));
    if path.is_file() {
        return None;
    }
    let mut place = cfg.place_of(&["profile", profile, "strategy"]);
    let looked = if path.as_path() == Path::new(spec) {
        String::new()
    } else {
        format!(" (looked for {})", path.display())
    };
    place.message = format!(
        "profile.{profile}.strategy: script `{spec}` not found{looked}; paths are relative to the config file"
    );
    Some(place)
}

impl Sessions {
    pub fn build(
        cfg: &Config,
        forced_profile: Option<String>,
        only_side: Option<Side>,
        series: Rc<RefCell<BarSeries>>,
        wall_clock: bool,
    ) -> Result<Sessions, EngineError> {
        // Offline runs bound a call by operations only, so that the machine's load plays no
        // part in their output; live runs by wall time too (docs/script-limits.md).
        let limits = ScriptLimits {
            max_operations: cfg.engine.script_max_operations,
            max_call_time: std::time::Duration::from_millis(cfg.engine.script_max_call_ms),
            wall_clock,
            ..ScriptLimits::default()
        };
        let day_start = cfg.engine.trading_day_start_minute();
        let host = ScriptHost::with_day_start(series.clone(), limits, day_start);
        let mut s = Sessions {
            slots: Vec::new(),
            windows: Vec::new(),
            every_bar: Vec::new(),
            host,
            series,
            scripts: HashMap::new(),
            cfg: cfg.clone(),
            forced_profile,
            only_side,
            every_slot_every_bar: false,
            overrides: std::collections::BTreeMap::new(),
        };
        let (slots, windows) = s.lineup(cfg, &mut [], None)?;
        s.install(slots, windows);
        Ok(s)
    }

    /// The script host's registry records what the scripts read (a backtest report).
    pub fn record_series(&self) {
        self.host.record_series();
    }

    /// The series reads that follow are slot `slot`'s profile's.
    pub fn set_series_reader(&self, slot: usize) {
        self.host.set_series_reader(&self.slots[slot].profile_name);
    }

    /// See [`ScriptHost::record_series_around`].
    pub fn record_series_around(&self, before: usize, after: usize) {
        self.host.record_series_around(before, after);
    }

    /// See [`ScriptHost::finish_series_record`].
    pub fn finish_series_record(
        &self,
    ) -> Option<crate::strategy::indicators::record::SeriesRecord> {
        self.host.finish_series_record()
    }

    /// Index of the window containing `stamp`, if any.
    pub fn active(&self, stamp: &EtStamp) -> Option<usize> {
        self.windows.iter().position(|w| w.window.contains(stamp))
    }

    /// Which profile runs each window: (window, profile, strategy version).
    pub fn window_profiles(&self) -> Vec<(String, String, String)> {
        self.windows
            .iter()
            .map(|w| {
                (
                    w.name.clone(),
                    self.slots[w.slot].profile_name.clone(),
                    self.slots[w.slot].strategy.version().to_string(),
                )
            })
            .collect()
    }

    /// The runtime overrides in force (window → profile), see [`Sessions::override_profile`].
    pub fn overrides(&self) -> &std::collections::BTreeMap<String, String> {
        &self.overrides
    }

    /// Runs `profile` in `window` from the next bar on, until the engine stops (the live
    /// desk's `p` key); the config file is not touched and a config reload keeps the override
    /// while the profile exists. The new line-up is built like a reload's: unchanged profiles
    /// keep their strategy and state, a new one is tried on the latest bars first; on any error
    /// nothing changes. Returns the profile the window ran before.
    pub fn override_profile(
        &mut self,
        window: &str,
        profile: &str,
        newest_bar: Option<usize>,
    ) -> Result<String, String> {
        if let Some(p) = &self.forced_profile {
            return Err(format!(
                "--profile {p} runs in every window: restart without it to switch a window's profile"
            ));
        }
        let Some(before) = self
            .windows
            .iter()
            .find(|w| w.name == window)
            .map(|w| self.slots[w.slot].profile_name.clone())
        else {
            return Err(format!("no window `{window}` in the config"));
        };
        if !self.cfg.profile.contains_key(profile) {
            return Err(format!(
                "no profile `{profile}` in the config (defined: {})",
                self.cfg
                    .profile
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let previous = self
            .overrides
            .insert(window.to_string(), profile.to_string());
        let mut old: Vec<Option<Slot>> = std::mem::take(&mut self.slots)
            .into_iter()
            .map(Some)
            .collect();
        let cfg = self.cfg.clone();
        match self.lineup(&cfg, &mut old, newest_bar) {
            Ok((slots, windows)) => {
                self.install(slots, windows);
                Ok(before)
            }
            Err(e) => {
                self.slots = old
                    .into_iter()
                    .map(|s| s.expect("untouched on error"))
                    .collect();
                match previous {
                    Some(p) => self.overrides.insert(window.to_string(), p),
                    None => self.overrides.remove(window),
                };
                Err(e.to_string())
            }
        }
    }

    /// From now on every slot is called on every bar, inside its windows or not.
    pub fn call_every_slot_on_every_bar(&mut self) {
        self.every_slot_every_bar = true;
        let (slots, windows) = (
            std::mem::take(&mut self.slots),
            std::mem::take(&mut self.windows),
        );
        self.install(slots, windows);
    }

    fn install(&mut self, slots: Vec<Slot>, windows: Vec<WindowSlot>) {
        let all = self.every_slot_every_bar;
        self.every_bar = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| all || s.strategy.call_on_every_bar())
            .map(|(i, _)| i)
            .collect();
        self.slots = slots;
        self.windows = windows;
    }

    /// Builds slots and windows for `cfg`. Unchanged slots (same profile name and settings) are
    /// taken from `old` so their strategy and state carry over; new ones are built and tried on
    /// the bars up to `newest_bar` first. On any error nothing in `old` is touched.
    fn lineup(
        &mut self,
        cfg: &Config,
        old: &mut [Option<Slot>],
        newest_bar: Option<usize>,
    ) -> Result<(Vec<Slot>, Vec<WindowSlot>), EngineError> {
        enum Source {
            Old(usize),
            New(Box<Slot>),
        }
        if let Some(p) = self
            .forced_profile
            .as_ref()
            .filter(|p| !cfg.profile.contains_key(*p))
        {
            return Err(EngineError::Config(ConfigError {
                file: cfg.source.display().to_string(),
                line: None,
                column: None,
                message: format!(
                    "--profile {p}: unknown profile (defined: {})",
                    cfg.profile.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            }));
        }
        let mut plan: Vec<(String, Source)> = Vec::new();
        let mut windows = Vec::new();
        let first = self.series.borrow().first_available();
        for (name, window, profile) in cfg.windows() {
            // A runtime override counts only while its profile exists (a reload may remove it).
            let overridden = self
                .overrides
                .get(&name)
                .filter(|p| cfg.profile.contains_key(*p))
                .cloned();
            let profile = self
                .forced_profile
                .clone()
                .or(overridden)
                .unwrap_or(profile);
            let slot = match plan.iter().position(|(p, _)| *p == profile) {
                Some(i) => i,
                None => {
                    let prof = &cfg.profile[&profile];
                    let kept = old.iter().position(|s| {
                        s.as_ref()
                            .is_some_and(|s| s.profile_name == profile && &s.profile == prof)
                    });
                    let source = match kept {
                        Some(i) => Source::Old(i),
                        None => {
                            let mut slot = self.new_slot(cfg, &profile)?;
                            Self::trial(slot.strategy.as_mut(), newest_bar, first)
                                .map_err(EngineError::Script)?;
                            Source::New(Box::new(slot))
                        }
                    };
                    plan.push((profile, source));
                    plan.len() - 1
                }
            };
            windows.push(WindowSlot { name, window, slot });
        }
        let slots = plan
            .into_iter()
            .map(|(_, source)| match source {
                Source::Old(i) => old[i].take().expect("each old slot is planned once"),
                Source::New(slot) => *slot,
            })
            .collect();
        Ok((slots, windows))
    }

    fn compiled(&mut self, path: &Path) -> Result<Rc<CompiledScript>, StrategyError> {
        let key = canonical(path);
        if let Some(s) = self.scripts.get(&key) {
            return Ok(s.clone());
        }
        let s = Rc::new(self.host.compile_file(path)?);
        self.scripts.insert(key, s.clone());
        Ok(s)
    }

    fn new_slot(&mut self, cfg: &Config, profile_name: &str) -> Result<Slot, EngineError> {
        let prof = cfg.profile[profile_name].clone();
        let direction = narrow(prof.direction, self.only_side);
        if let Some(kind) = NativeStrategy::kind_from_spec(&prof.strategy) {
            let params =
                VParams::from_table(&prof.params).map_err(|m| located(cfg, profile_name, m))?;
            let strategy = Box::new(NativeStrategy::new(self.series.clone(), kind, params));
            return Ok(Slot {
                profile_name: profile_name.into(),
                profile: prof,
                direction,
                strategy,
                script: None,
            });
        }
        if let Some(twin) = crate::strategy::twins::build(
            &prof.strategy,
            self.series.clone(),
            &prof.params,
            cfg.engine.trading_day_start_minute(),
        ) {
            return Ok(Slot {
                profile_name: profile_name.into(),
                profile: prof,
                direction,
                strategy: twin.map_err(|m| located(cfg, profile_name, m))?,
                script: None,
            });
        }
        if let Some(place) = missing_script(cfg, profile_name) {
            return Err(EngineError::Config(place));
        }
        let path = cfg.resolve(Path::new(&prof.strategy));
        let script = self.compiled(&path).map_err(EngineError::Script)?;
        let params =
            merge_params(&script, &prof.params).map_err(|m| located(cfg, profile_name, m))?;
        let strategy = Box::new(
            self.host
                .bind(script, params)
                .map_err(EngineError::Script)?,
        );
        Ok(Slot {
            profile_name: profile_name.into(),
            profile: prof,
            direction,
            strategy,
            script: Some((canonical(&path), path)),
        })
    }

    /// Runs a new strategy on the bars up to `t` without keeping anything, so a version that
    /// fails at run time (a type error, an unknown parameter) never goes live.
    fn trial(
        strategy: &mut dyn Strategy,
        t: Option<usize>,
        first: usize,
    ) -> Result<(), StrategyError> {
        let Some(t) = t else { return Ok(()) };
        let state = strategy.state();
        let mut scratch: Vec<Proposal> = Vec::new();
        let mut result = Ok(());
        for i in t.saturating_sub(TRIAL_BARS - 1).max(first)..=t {
            result = strategy.on_bar(i, &mut scratch);
            if result.is_err() {
                break;
            }
            scratch.clear();
        }
        // The trial leaves no trace in the strategy's state.
        if let Some(s) = state {
            strategy.set_state(s);
        }
        result
    }

    /// A new version of the script at `path` (its full text). All profiles using it switch
    /// together, or none does.
    pub fn reload_script(
        &mut self,
        path: &Path,
        source: &str,
        newest_bar: Option<usize>,
    ) -> Result<ScriptReload, StrategyError> {
        let key = canonical(path);
        let old_hash = self.scripts.get(&key).map(|s| s.version.hash.clone());
        // Name the file as the config does, so errors read `strategies/x.rhai:3:5`.
        let shown = self
            .slots
            .iter()
            .filter_map(|s| s.script.as_ref())
            .find(|(c, _)| *c == key)
            .map(|(_, shown)| shown.clone())
            .unwrap_or_else(|| path.to_path_buf());
        let compiled = Rc::new(self.host.compile_source(&shown, source)?);
        let file = shown.display().to_string();
        let first = self.series.borrow().first_available();
        let mut replacements: Vec<(usize, Box<dyn Strategy>, String)> = Vec::new();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if slot.script.as_ref().map(|(c, _)| c) != Some(&key) {
                continue;
            }
            let params =
                merge_params(&compiled, &slot.profile.params).map_err(|m| StrategyError {
                    file: self.cfg.source.display().to_string(),
                    line: None,
                    column: None,
                    message: format!("profile.{}.params: {m}", slot.profile_name),
                })?;
            let mut fresh = self.host.bind(compiled.clone(), params)?;
            Self::trial(&mut fresh, newest_bar, first)?;
            // State: kept only when the new version asks for it and declares the same shape.
            let old_state = slot.strategy.state();
            let state_note = match (compiled.keep_state_on_reload, old_state) {
                (true, Some(old)) if fresh.state_shape_matches(&old) => {
                    fresh.set_state(old);
                    "kept".to_string()
                }
                (true, Some(_)) => "reset (the state's shape changed)".to_string(),
                (false, Some(old)) if old.as_map_ref().map(|m| !m.is_empty()).unwrap_or(false) => {
                    "reset (KEEP_STATE_ON_RELOAD is not set)".to_string()
                }
                _ => "none".to_string(),
            };
            replacements.push((
                i,
                Box::new(fresh),
                format!("{}: {state_note}", slot.profile_name),
            ));
        }
        self.scripts.insert(key, compiled.clone());
        let profiles: Vec<String> = replacements
            .iter()
            .map(|(i, _, _)| self.slots[*i].profile_name.clone())
            .collect();
        let state = replacements
            .iter()
            .map(|(_, _, n)| n.clone())
            .collect::<Vec<_>>()
            .join("; ");
        for (i, strategy, _) in replacements {
            self.slots[i].strategy = strategy;
        }
        let (slots, windows) = (
            std::mem::take(&mut self.slots),
            std::mem::take(&mut self.windows),
        );
        self.install(slots, windows);
        Ok(ScriptReload {
            file,
            old_hash,
            new_hash: compiled.version.hash.clone(),
            profiles,
            state,
        })
    }

    /// A new config: windows, their profiles and the profiles' settings take effect at the next
    /// bar; profiles whose definition did not change keep their strategy (and its state).
    /// Settings that need a restart (instrument, engine paths, costs) are reported, not applied.
    pub fn reload_config(
        &mut self,
        cfg: Config,
        newest_bar: Option<usize>,
    ) -> Result<Vec<String>, EngineError> {
        let mut old: Vec<Option<Slot>> = std::mem::take(&mut self.slots)
            .into_iter()
            .map(Some)
            .collect();
        match self.lineup(&cfg, &mut old, newest_bar) {
            Ok((slots, windows)) => {
                let mut notes = Vec::new();
                let gone: Vec<(String, String)> = self
                    .overrides
                    .iter()
                    .filter(|(_, p)| !cfg.profile.contains_key(*p))
                    .map(|(w, p)| (w.clone(), p.clone()))
                    .collect();
                for (w, p) in gone {
                    self.overrides.remove(&w);
                    notes.push(format!(
                        "the runtime override {w}={p} is dropped: profile `{p}` is no longer defined"
                    ));
                }
                if cfg.instrument != self.cfg.instrument
                    || cfg.engine != self.cfg.engine
                    || cfg.backtest != self.cfg.backtest
                    || cfg.feed != self.cfg.feed
                {
                    notes.push("changes to [instrument], [engine], [feed] or [backtest] take effect after a restart".to_string());
                }
                self.install(slots, windows);
                let restart_only = (
                    self.cfg.instrument.clone(),
                    self.cfg.engine.clone(),
                    self.cfg.feed.clone(),
                    self.cfg.backtest.clone(),
                );
                self.cfg = Config {
                    instrument: restart_only.0,
                    engine: restart_only.1,
                    feed: restart_only.2,
                    backtest: restart_only.3,
                    ..cfg
                };
                Ok(notes)
            }
            Err(e) => {
                // Nothing was taken: put the running line-up back exactly as it was.
                self.slots = old
                    .into_iter()
                    .map(|s| s.expect("untouched on error"))
                    .collect();
                Err(e)
            }
        }
    }
}

/// Bars a new version is tried on before it goes live.
const TRIAL_BARS: usize = 30;
