//! Scripted scenarios (`vrev test`): small TOML files that pin what a pattern and the host rules
//! do, the way unit tests pin code. A scenario is a replay with expectations (DESIGN §3): its
//! bars go through the same `Engine::on_bar` as live trading, in memory.
//!
//! - [`format`]: the file (TOML), its checks and places for errors.
//! - [`steps`]: the `bars` block — explicit bars and steps (`flat`, `drop`, `v_reversal`, ...).
//! - [`runner`]: the scenario's config and the engine run.
//! - [`report`]: expectations versus outcome, and the failure tables.
//!
//! The format reference for traders is `docs/scenarios.md`.

pub mod format;
pub mod report;
pub mod runner;
pub mod source;
pub mod steps;

use crate::config::Config;
use crate::strategy::script_failures::ScriptFailures;
use format::{ScenarioError, Source};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where scenarios live when no path is given.
pub const DEFAULT_DIR: &str = "tests/scenarios";

/// What `vrev test` runs.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Scenario files or folders (folders: every `*.toml` below, in name order); none means
    /// [`DEFAULT_DIR`].
    pub paths: Vec<PathBuf>,
    /// Only scenarios whose name contains this text (case-insensitive).
    pub filter: Option<String>,
    /// The config the scenarios start from.
    pub config: PathBuf,
    /// Script errors do not fail a scenario (`--allow-script-errors`); they are still summed up.
    pub allow_script_errors: bool,
}

/// Totals of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
}

/// `vrev test`: prints one line per scenario and `N passed, M failed`; an error (exit 1) when
/// any scenario failed, any file is broken, or nothing ran.
pub fn run_command(mut opts: RunOptions) -> anyhow::Result<()> {
    if opts.paths.is_empty() {
        opts.paths = vec![PathBuf::from(DEFAULT_DIR)];
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failures = ScriptFailures::default();
    let summary = run(&opts, &mut out, &mut failures)?;
    out.flush()?;
    let scripts = failures.end_of_run(opts.allow_script_errors);
    if summary.failed > 0 {
        anyhow::bail!(
            "{} of {} scenarios failed",
            summary.failed,
            summary.failed + summary.passed
        );
    }
    if summary.passed == 0 {
        match &opts.filter {
            Some(f) => anyhow::bail!("no scenario name contains `{f}`"),
            None => anyhow::bail!("no scenario found"),
        }
    }
    scripts
}

/// A scenario file to run, or a path that could not be used.
enum Found {
    File(PathBuf),
    Missing(PathBuf),
}

fn discover(paths: &[PathBuf]) -> Vec<Found> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|e| e == "toml") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut found = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files = Vec::new();
            match walk(p, &mut files) {
                Ok(()) => found.extend(files.into_iter().map(Found::File)),
                Err(_) => found.push(Found::Missing(p.clone())),
            }
        } else if p.is_file() {
            found.push(Found::File(p.clone()));
        } else {
            found.push(Found::Missing(p.clone()));
        }
    }
    found
}

/// How one scenario file ended.
struct FileResult {
    /// The scenario's name, or the file when the name could not be read.
    label: String,
    /// One-line problems (first is the headline); empty = passed.
    problems: Vec<String>,
    details: String,
}

/// Runs every scenario under `opts.paths`, writing the report to `out` and adding the script
/// errors of every scenario to `failures`. Errors only when the config cannot be loaded; failed
/// scenarios are counted in the summary.
pub fn run(
    opts: &RunOptions,
    out: &mut dyn Write,
    failures: &mut ScriptFailures,
) -> anyhow::Result<Summary> {
    let base = Config::load(&opts.config).map_err(|e| {
        anyhow::anyhow!(
            "{e}\n(vrev test starts every scenario from this config: run it in the project folder or pass --config)"
        )
    })?;
    let filter = opts.filter.as_ref().map(|f| f.to_lowercase());
    let mut summary = Summary::default();
    let mut names: HashMap<String, String> = HashMap::new();
    for found in discover(&opts.paths) {
        let result = match found {
            Found::Missing(p) => Some(FileResult {
                label: p.display().to_string(),
                problems: vec![format!("{}: no such scenario file or folder", p.display())],
                details: String::new(),
            }),
            Found::File(p) => run_file(&p, &base, filter.as_deref(), &mut names, opts, failures),
        };
        let Some(r) = result else { continue };
        if r.problems.is_empty() {
            summary.passed += 1;
            writeln!(out, "test {} ... ok", r.label)?;
        } else {
            summary.failed += 1;
            writeln!(out, "test {} ... FAILED", r.label)?;
            for line in r.problems.iter().flat_map(|p| p.lines()) {
                writeln!(out, "    {line}")?;
            }
            for line in r.details.lines() {
                writeln!(out, "    {line}")?;
            }
        }
    }
    writeln!(out)?;
    writeln!(out, "{} passed, {} failed", summary.passed, summary.failed)?;
    Ok(summary)
}

/// Reads, checks and runs one file. `None` when the filter skips it. A file without a readable
/// name (broken TOML, no `name`) is reported whatever the filter.
fn run_file(
    path: &Path,
    base: &Config,
    filter: Option<&str>,
    names: &mut HashMap<String, String>,
    opts: &RunOptions,
    failures: &mut ScriptFailures,
) -> Option<FileResult> {
    let file = path.display().to_string();
    let broken = |e: ScenarioError| FileResult {
        label: file.clone(),
        problems: vec![e.to_string()],
        details: String::new(),
    };
    let text = match crate::market::input_file::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                return Some(broken(ScenarioError {
                    file: file.clone(),
                    line: None,
                    column: None,
                    message: "not UTF-8 text".into(),
                }))
            }
        },
        Err(e) => {
            return Some(broken(ScenarioError {
                file: file.clone(),
                line: None,
                column: None,
                message: format!("cannot read: {e}"),
            }))
        }
    };
    let src = Source::new(file.clone(), text);
    let raw = match format::parse_raw(&src) {
        Ok(r) => r,
        Err(e) => {
            // Valid TOML with a wrong key still has a name: filter and label by it.
            let name = toml::from_str::<toml::Table>(&src.text)
                .ok()
                .and_then(|t| t.get("name")?.as_str().map(|s| s.trim().to_string()))
                .filter(|n| !n.is_empty());
            return match name {
                Some(n) if filter.is_some_and(|f| !n.to_lowercase().contains(f)) => None,
                Some(n) => Some(FileResult {
                    label: n,
                    problems: vec![e.to_string()],
                    details: String::new(),
                }),
                None => Some(broken(e)),
            };
        }
    };
    let name = raw.name.get_ref().trim().to_string();
    if let Some(f) = filter {
        if !name.to_lowercase().contains(f) {
            return None;
        }
    }
    let here = format!("{file}:{}", src.place(raw.name.span().start).line);
    let label = if name.is_empty() {
        file.clone()
    } else {
        name.clone()
    };
    let fail = |problems: Vec<String>, details: String| {
        Some(FileResult {
            label: label.clone(),
            problems,
            details,
        })
    };
    if let Some(first) = names.get(&name) {
        // Labelled by its file: the name is the other scenario's.
        let message = format!(
            "{here}: the name is already used by {first}: names must be unique (they are what --filter and the report show)"
        );
        return Some(FileResult {
            label: file.clone(),
            problems: vec![message],
            details: String::new(),
        });
    }
    names.insert(name.clone(), here.clone());
    let scenario = match format::build(&src, &raw, base.instrument.tick_size) {
        Ok(s) => s,
        Err(e) => return fail(vec![e.to_string()], String::new()),
    };
    let mut outcome = match runner::run(base, &scenario) {
        Ok(o) => o,
        Err(runner::RunError::Scenario(e)) => return fail(vec![e.to_string()], String::new()),
        Err(runner::RunError::Engine(e)) => {
            return fail(
                vec![format!("{here}: the engine did not start: {e}")],
                String::new(),
            )
        }
    };
    failures.merge(&outcome.script_failures);
    if opts.allow_script_errors {
        outcome.script_errors.clear();
    }
    let verdict = report::check(&scenario, &outcome);
    if verdict.passed() {
        return fail(Vec::new(), String::new());
    }
    let mut problems = vec![format!("{here}: {} problem(s):", verdict.problems.len())];
    problems.extend(verdict.problems.iter().map(|p| format!("  {p}")));
    fail(problems, verdict.details)
}

/// One scenario file, read and checked, with the config it runs with (`vrev test FILE
/// --explain`).
pub fn load_one(path: &Path, base: &Config) -> Result<(Config, format::Scenario), ScenarioError> {
    let file = path.display().to_string();
    let text = crate::market::input_file::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        line: None,
        column: None,
        message: format!("cannot read: {e}"),
    })?;
    let src = Source::new(file, text);
    let raw = format::parse_raw(&src)?;
    let scenario = format::build(&src, &raw, base.instrument.tick_size)?;
    let cfg = runner::scenario_config(base, &scenario)?;
    Ok((cfg, scenario))
}

/// The reload gate (`[reload] gate = "scenarios"`): runs every scenario under `dir` whose
/// profiles use `script`, with `script`'s text replaced by `candidate`. `Ok(n)` when all `n`
/// pass; otherwise the failing scenarios, named, with their first problem. Scenario files that
/// do not parse are skipped here (`vrev test` reports them).
pub fn gate(
    config_path: &Path,
    dir: &Path,
    script: &Path,
    candidate: &str,
) -> Result<usize, String> {
    let base = Config::load(config_path).map_err(|e| format!("scenario gate: {e}"))?;
    let target = std::fs::canonicalize(script)
        .map_err(|e| format!("scenario gate: {}: {e}", script.display()))?;
    // The candidate goes outside every watched folder, under the script's own name, in a folder
    // with a random name that only this user can enter (never a predictable path in a shared
    // temp dir); it is removed when `tmp` is dropped.
    let tmp = tempfile::Builder::new()
        .prefix("vrev-gate-")
        .tempdir()
        .map_err(|e| format!("scenario gate: a temporary folder: {e}"))?;
    let file = tmp.path().join(script.file_name().unwrap_or_default());
    crate::market::safe_write::write_file(
        tmp.path(),
        &script.file_name().unwrap_or_default().to_string_lossy(),
        candidate.as_bytes(),
        false,
    )
    .map_err(|e| format!("scenario gate: {}: {e}", tmp.path().display()))?;
    let mut passed = 0;
    let mut failed = Vec::new();
    for found in discover(&[dir.to_path_buf()]) {
        let Found::File(path) = found else { continue };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let src = Source::new(path.display().to_string(), text);
        let Ok(raw) = format::parse_raw(&src) else {
            continue;
        };
        let Ok(sc) = format::build(&src, &raw, base.instrument.tick_size) else {
            continue;
        };
        let name = raw.name.get_ref().trim().to_string();
        match runner::run_substituted(&base, &sc, &target, &file) {
            Ok(None) => {}
            Ok(Some(outcome)) => {
                let verdict = report::check(&sc, &outcome);
                if verdict.passed() {
                    passed += 1;
                } else {
                    failed.push(format!(
                        "`{name}` ({}): {}",
                        path.display(),
                        verdict.problems.first().cloned().unwrap_or_default()
                    ));
                }
            }
            Err(runner::RunError::Scenario(e)) => failed.push(format!("`{name}`: {e}")),
            // The candidate does not compile or bind: the engine's own reload check refuses it
            // with the script's real file:line:column, so the gate steps aside.
            Err(runner::RunError::Engine(_)) => {}
        }
    }
    drop(tmp);
    if failed.is_empty() {
        Ok(passed)
    } else {
        Err(format!(
            "refused by the scenario gate: {} of {} scenario(s) using {} failed: {}",
            failed.len(),
            failed.len() + passed,
            script.display(),
            failed.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    /// The gate once wrote the candidate to `$TMPDIR/vrev-gate-<pid>-<n>/<script>`: a folder
    /// made there in advance with a link under the script's name redirected the edit.
    #[cfg(unix)]
    #[test]
    fn the_gate_never_writes_through_a_folder_planted_at_the_old_predictable_path() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let mut planted = Vec::new();
        for n in 0..4 {
            let d = std::env::temp_dir().join(format!("vrev-gate-{}-{n}", std::process::id()));
            if std::fs::create_dir(&d).is_ok() {
                std::os::unix::fs::symlink(&victim, d.join("vreversal.rhai")).unwrap();
                planted.push(d);
            }
        }
        let scenarios = tempfile::tempdir().unwrap();
        let r = super::gate(
            &root.join("config.toml"),
            scenarios.path(),
            &root.join("strategies/vreversal.rhai"),
            "// the candidate\n",
        );
        for d in &planted {
            let _ = std::fs::remove_dir_all(d);
        }
        assert_eq!(r, Ok(0));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }
}
