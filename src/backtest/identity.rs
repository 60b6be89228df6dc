//! What produced a backtest: vrev version, the config file and its hash, the `--set` overrides,
//! each window's profile with its settings after overrides and its script version, every data
//! file with its bar count, first/last bar and content hash, `--from/--to`, and the command
//! line that reproduces the run. Carried in summary.json, report.html and the terminal so two
//! reports can always be told apart.
//!
//! Nothing here depends on wall-clock time or on where the report is written: the same command
//! on the same files gives the same identity, byte for byte.

use super::WindowLineup;
use crate::config::Config;
use crate::market::bar::Bar;
use crate::market::format::count;
use crate::market::time::{format_utc, MarketClock};
use crate::strategy::content_hash;
use chrono::NaiveDate;
use serde::Serialize;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunIdentity {
    pub vrev_version: String,
    /// The command line as typed (program name shortened to `vrev`), shell-quoted.
    pub command: String,
    /// Config path as given, with the hash of its content.
    pub config: HashedFile,
    /// `--set KEY=VALUE` overrides in the order given.
    pub sets: Vec<String>,
    /// `--profile NAME`: one profile in every window.
    pub profile: Option<String>,
    /// `--buy-only` / `--sell-only`.
    pub only_side: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub windows: Vec<WindowIdentity>,
    pub data: Vec<DataFile>,
    /// The bars the engine saw (after `--from/--to`).
    pub bars_used: BarSpan,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HashedFile {
    pub path: String,
    /// First 12 hex digits of the SHA-256 of the file's bytes (as for scripts).
    pub hash: String,
}

/// One session window as it ran.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowIdentity {
    pub window: String,
    /// `HH:MM` ET, inclusive.
    pub start: String,
    /// `HH:MM` ET, exclusive.
    pub end: String,
    pub profile: String,
    /// `file@hash` of the script that ran.
    pub strategy: String,
    /// The profile's settings and parameters after `--set`.
    pub settings: serde_json::Value,
}

/// One bar file as read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataFile {
    pub path: String,
    pub hash: String,
    pub bytes: u64,
    /// Bars read from this file (before `--from/--to`).
    #[serde(flatten)]
    pub span: BarSpan,
}

/// How many bars and the close of the first and last (UTC and ET).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BarSpan {
    pub bars: usize,
    pub first_bar: Option<String>,
    pub first_bar_et: Option<String>,
    pub last_bar: Option<String>,
    pub last_bar_et: Option<String>,
}

impl BarSpan {
    pub fn of(bars: &[Bar]) -> BarSpan {
        Self::from_times(
            bars.len(),
            bars.first().map(|b| b.close_time),
            bars.last().map(|b| b.close_time),
        )
    }

    /// `bars` bars from the close `first` to the close `last` (UTC seconds).
    pub fn from_times(bars: usize, first: Option<i64>, last: Option<i64>) -> BarSpan {
        let clock = MarketClock::exchange();
        let et = |t: i64| clock.stamp(t).format();
        BarSpan {
            bars,
            first_bar: first.map(format_utc),
            first_bar_et: first.map(et),
            last_bar: last.map(format_utc),
            last_bar_et: last.map(et),
        }
    }

    /// `707388 bars, 2021-01-03 18:01:00 .. 2022-12-30 17:00:00 ET`
    pub fn describe(&self) -> String {
        match (&self.first_bar_et, &self.last_bar_et) {
            (Some(a), Some(b)) => format!("{} bars, {a} .. {b} ET", count(self.bars)),
            _ => format!("{} bars", count(self.bars)),
        }
    }
}

impl HashedFile {
    pub fn read(path: &Path) -> std::io::Result<(HashedFile, u64)> {
        let bytes = crate::market::input_file::read(path)?;
        Ok((
            HashedFile {
                path: path.display().to_string(),
                hash: content_hash(&bytes),
            },
            bytes.len() as u64,
        ))
    }
}

impl DataFile {
    /// `bars`: the bars read from this one file.
    pub fn read(path: &Path, bars: &[Bar]) -> std::io::Result<DataFile> {
        let (file, bytes) = HashedFile::read(path)?;
        Ok(DataFile {
            path: file.path,
            hash: file.hash,
            bytes,
            span: BarSpan::of(bars),
        })
    }
}

/// Each window of `lineup` with its times from `cfg` and its profile's settings.
pub fn windows(cfg: &Config, lineup: &[WindowLineup]) -> Vec<WindowIdentity> {
    lineup
        .iter()
        .map(|w| {
            let session = cfg.session.iter().find(|s| s.name == w.window);
            WindowIdentity {
                window: w.window.clone(),
                start: session.map(|s| s.start.clone()).unwrap_or_default(),
                end: session.map(|s| s.end.clone()).unwrap_or_default(),
                profile: w.profile.clone(),
                strategy: w.strategy.clone(),
                settings: cfg
                    .profile
                    .get(&w.profile)
                    .and_then(|p| serde_json::to_value(p).ok())
                    .unwrap_or(serde_json::Value::Null),
            }
        })
        .collect()
}

/// A path as a shared report shows it: relative to the config's folder `base` when it lies under
/// it (`bars.txt`, `data/es.txt`), otherwise its file name alone (the hash beside it says which
/// file). Never an absolute path, so no home folder or account name. `cwd` resolves a relative
/// `path`.
pub fn shareable_path(path: &Path, base: &Path, cwd: &Path) -> String {
    let abs = |p: &Path| {
        normalize(&if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        })
    };
    let (path_abs, base_abs) = (abs(path), abs(base));
    match path_abs.strip_prefix(&base_abs) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        Ok(_) => ".".into(),
        Err(_) => path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| ".".into()),
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system (links stay as named).
fn normalize(p: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The command line for a shared report: the program as `vrev`, and every argument that names
/// an existing file or folder, or is an absolute path, written relative to the config's folder
/// (`base`), from where the printed command is to be run; a path outside it is cut to its file
/// name. `--name=path` is handled too. The subcommand itself is never rewritten.
pub fn shareable_command(args: &[String], base: &Path, cwd: &Path) -> String {
    let fix = |a: &str| -> String {
        let p = Path::new(a);
        if a.is_empty() || a.starts_with('-') && !a.contains('=') {
            return a.to_string();
        }
        if let Some((flag, value)) = a.split_once('=').filter(|(f, _)| f.starts_with("--")) {
            let v = Path::new(value);
            if v.is_absolute() || cwd.join(v).exists() {
                return format!("{flag}={}", shareable_path(v, base, cwd));
            }
            return a.to_string();
        }
        if p.is_absolute() || a.starts_with('~') || cwd.join(p).exists() {
            shareable_path(p, base, cwd)
        } else {
            a.to_string()
        }
    };
    let words: Vec<String> = std::iter::once("vrev".to_string())
        .chain(args.iter().take(1).cloned())
        .chain(args.iter().skip(1).map(|a| fix(a)))
        .collect();
    shell_command(&words)
}

/// Quotes each argument for a POSIX shell when it needs it and joins them, so the printed
/// command can be pasted back.
pub fn shell_command(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-./=:,@+%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl RunIdentity {
    /// The settings lines a person reads (terminal and report), in order.
    pub fn lines(&self) -> Vec<(String, String)> {
        let mut l = vec![
            ("vrev".to_string(), self.vrev_version.clone()),
            ("command".into(), self.command.clone()),
            (
                "config".into(),
                format!("{} @{}", self.config.path, self.config.hash),
            ),
        ];
        if !self.sets.is_empty() {
            l.push(("--set".into(), self.sets.join("  ")));
        }
        if let Some(p) = &self.profile {
            l.push(("--profile".into(), p.clone()));
        }
        if let Some(s) = &self.only_side {
            l.push(("only side".into(), s.clone()));
        }
        if self.from.is_some() || self.to.is_some() {
            let d = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or("…".into());
            l.push((
                "days".into(),
                format!("--from {} --to {}", d(self.from), d(self.to)),
            ));
        }
        for w in &self.windows {
            l.push((
                format!("window {}", w.window),
                format!(
                    "{}–{} ET, profile {}, {}",
                    w.start, w.end, w.profile, w.strategy
                ),
            ));
        }
        for f in &self.data {
            l.push((
                "data".into(),
                format!("{} @{} ({})", f.path, f.hash, f.span.describe()),
            ));
        }
        l.push(("bars used".into(), self.bars_used.describe()));
        l
    }
}

impl RunIdentity {
    /// The identity as `# key: value` lines heading a CSV file (sweep.csv, walk_forward.csv;
    /// a reader skips them as comments, e.g. pandas `comment="#"`).
    pub fn csv_comment(&self) -> String {
        self.lines()
            .iter()
            .map(|(k, v)| format!("# {k}: {}\n", v.replace(['\n', '\r'], " ")))
            .collect()
    }

    /// The identity as a section of a sweep or walk-forward page: the command that reproduces
    /// it, then each line (self-contained HTML, escaped).
    pub fn html(&self) -> String {
        use crate::market::format::esc;
        let mut h = format!(
            "<h2>What produced this page</h2>\n<p>Re-run this command in the same folder to reproduce these files byte for byte:</p><pre class=\"cmd\">{}</pre>\n<table class=\"run\">",
            esc(&self.command)
        );
        for (k, v) in self.lines().iter().filter(|(k, _)| k != "command") {
            h.push_str(&format!(
                "<tr><td class=\"l\">{}</td><td class=\"l\"><code>{}</code></td></tr>",
                esc(k),
                esc(v)
            ));
        }
        h.push_str("</table>\n");
        h
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shared_paths_are_relative_to_the_config_folder_or_a_file_name() {
        use std::path::Path;
        let base = Path::new("/home/alice/vrev");
        let cwd = Path::new("/home/alice");
        let cases = [
            ("/home/alice/vrev/data/es.txt", "data/es.txt"),
            ("vrev/bars.txt", "bars.txt"),
            ("/home/alice/Downloads/es.txt", "es.txt"),
            ("../alice/vrev/./x.csv", "x.csv"),
        ];
        for (p, want) in cases {
            assert_eq!(super::shareable_path(Path::new(p), base, cwd), want, "{p}");
        }
        let args: Vec<String> = [
            "backtest",
            "/home/alice/Downloads/es.txt",
            "--report=/home/alice/vrev/r1",
            "--config",
            "/home/alice/vrev/config.toml",
            "--profile",
            "production",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let c = super::shareable_command(&args, base, cwd);
        assert_eq!(
            c,
            "vrev backtest es.txt --report=r1 --config config.toml --profile production"
        );
    }

    #[test]
    fn shell_quoting_keeps_plain_words_and_quotes_the_rest() {
        let cases: [(&[&str], &str); 4] = [
            (&["vrev", "backtest", "es.txt"], "vrev backtest es.txt"),
            (
                &["--set", "profile.production.params.drop_threshold=5"],
                "--set profile.production.params.drop_threshold=5",
            ),
            (&["my file.txt"], "'my file.txt'"),
            (&["it's", ""], r"'it'\''s' ''"),
        ];
        for (args, want) in cases {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            assert_eq!(super::shell_command(&args), want);
        }
    }
}
