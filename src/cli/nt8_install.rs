//! `vrev nt8 install`: the two NinjaScript files, built into the binary, copied into
//! NinjaTrader's `Documents\NinjaTrader 8\bin\Custom\...` (`docs/install.md`).
//!
//! What is here is also what `vrev doctor` checks with: where the Documents folder is, the
//! hashes of every version of the files vrev shipped ([`SHIPPED_HASHES`]), the state of an
//! installed file, and the old system's files ([`old_system_files`]).
//!
//! NinjaTrader compiles every `.cs` under `bin\Custom` into one assembly: a second copy of a
//! class (a backup named `*.cs`) breaks every script, so a backup never stays there.

use crate::cli::args::Nt8InstallArgs;
use crate::config::Config;
use anyhow::{anyhow, bail, Context as _, Result};
use std::path::{Path, PathBuf};

/// One NinjaScript file vrev ships.
#[derive(Clone, Copy, Debug)]
pub struct Shipped {
    /// Folder under `bin/Custom` (`Indicators`, `Strategies`).
    pub folder: &'static str,
    pub name: &'static str,
    /// The class it defines (a second file defining it breaks NinjaTrader's compile).
    pub class: &'static str,
    pub text: &'static str,
}

/// The files `vrev nt8 install` writes, as this vrev was built with them.
pub const FILES: [Shipped; 2] = [
    Shipped {
        folder: "Indicators",
        name: "VrevPublisher.cs",
        class: "VrevPublisher",
        text: include_str!("../../nt8/Indicators/VrevPublisher.cs"),
    },
    Shipped {
        folder: "Strategies",
        name: "VrevAutoTrader.cs",
        class: "VrevAutoTrader",
        text: include_str!("../../nt8/Strategies/VrevAutoTrader.cs"),
    },
];

/// SHA-256 ([`text_hash`]) of every version of the files vrev has shipped, with the commit that
/// first had it. Recovered from the repository's history (`git log --all --full-history --
/// nt8/`); the test `the_embedded_files_are_in_the_table_of_shipped_hashes` fails until a
/// changed `.cs` gets its line here, so an install can always tell a file vrev wrote from one a
/// user edited.
pub const SHIPPED_HASHES: &[(&str, &str, &str)] = &[
    (
        "VrevPublisher.cs",
        "06fb7628640c4b351b48cfab64b7d3595dcb6d66b1bb49586951dd69cc105607",
        "1f43072 of 2026-11-24",
    ),
    (
        "VrevPublisher.cs",
        "cfc1b43ddb3d0c5f8c4d21a5cea3feed2dd7b390921fa784d12c08f70f67c929",
        "0bb51cf of 2026-12-07",
    ),
    (
        "VrevAutoTrader.cs",
        "9d92357be3f84d1a9e0dde1918d39b817677e1a0655a2408e673a37367df24d8",
        "1f43072 of 2026-11-24",
    ),
    (
        "VrevAutoTrader.cs",
        "68c3c0ef839080e9cdac24154d5b3b7e34b32e0f73fb2aa3ea3e69d02ff747f5",
        "4875d95 of 2026-11-30",
    ),
    (
        "VrevAutoTrader.cs",
        "7834dc7267644351225211aacf78c8181fcf5f4656151d03a9b2f03ad554cd2a",
        "204c2d2 of 2026-11-30",
    ),
    (
        "VrevAutoTrader.cs",
        "2efa0dd8f9c0d472289751edf009fc87161c8f3ec43716406ec96f9a7be2628e",
        "cd1c12b of 2026-12-07",
    ),
    (
        "VrevAutoTrader.cs",
        "1ff9d6bd7c349444301ead1e52c74cf44657dcc3105b3a47fe1ec256d021c96b",
        "82feb83 of 2026-12-07",
    ),
    (
        "VrevAutoTrader.cs",
        "6dcaaa866b0c83f721fc70cf4e3d64c2ba9d67de3e68c4442d3a11fb4d38ecc2",
        "5872bd0 of 2026-12-07",
    ),
    (
        "VrevAutoTrader.cs",
        "514e8e07ccec4c4c4a44e92531c8bed948573590929bcf62a819634374c6fb1d",
        "a84460b of 2026-12-07",
    ),
];

/// SHA-256 (hex) of a file's text with a leading UTF-8 byte-order mark dropped and CRLF read as
/// LF: a copy that went through a Windows checkout (`core.autocrlf`) or an editor that saves
/// CRLF is still the version vrev shipped.
pub fn text_hash(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut h = Sha256::new();
    let mut start = 0;
    for (i, w) in bytes.windows(2).enumerate() {
        if w == b"\r\n" {
            h.update(&bytes[start..i]);
            start = i + 1;
        }
    }
    h.update(&bytes[start..]);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The vrev version that shipped a file with this hash, if any.
pub fn shipped_version(name: &str, hash: &str) -> Option<&'static str> {
    SHIPPED_HASHES
        .iter()
        .find(|(n, h, _)| *n == name && *h == hash)
        .map(|(_, _, v)| *v)
}

/// What is installed where a shipped file goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Installed {
    Missing,
    /// This vrev's file.
    Current,
    /// An earlier version vrev shipped (`since`: the commit that first had it).
    Older {
        since: &'static str,
    },
    /// A text no vrev version shipped: changed by hand.
    Edited {
        hash: String,
    },
    /// Not a regular file, or unreadable.
    Unreadable(String),
}

/// The state of `path` against the shipped file `f`.
pub fn installed_state(path: &Path, f: &Shipped) -> Installed {
    if let Some(kind) = crate::market::safe_write::special_kind(path) {
        return Installed::Unreadable(format!("is {kind}"));
    }
    match std::fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Installed::Missing,
        Err(e) => Installed::Unreadable(e.to_string()),
        Ok(bytes) => {
            let hash = text_hash(&bytes);
            if hash == text_hash(f.text.as_bytes()) {
                Installed::Current
            } else if let Some(since) = shipped_version(f.name, &hash) {
                Installed::Older { since }
            } else {
                Installed::Edited { hash }
            }
        }
    }
}

/// `DOCUMENTS/NinjaTrader 8`.
pub fn nt8_dir(documents: &Path) -> PathBuf {
    documents.join("NinjaTrader 8")
}

/// `DOCUMENTS/NinjaTrader 8/bin/Custom`: NinjaTrader compiles every `.cs` below it.
pub fn custom_dir(documents: &Path) -> PathBuf {
    nt8_dir(documents).join("bin").join("Custom")
}

/// Where a shipped file goes.
pub fn target(documents: &Path, f: &Shipped) -> PathBuf {
    custom_dir(documents).join(f.folder).join(f.name)
}

/// The user's Documents folder as NinjaTrader finds it: on Windows `%USERPROFILE%\Documents`,
/// or `%OneDrive%\Documents` when only that one holds a `NinjaTrader 8` folder (OneDrive's
/// folder redirection); elsewhere `$HOME/Documents`. None without those variables.
pub fn default_documents() -> Option<PathBuf> {
    let home_var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(home) = std::env::var_os(home_var).filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(home).join("Documents"));
    }
    if cfg!(windows) {
        if let Some(od) = std::env::var_os("OneDrive").filter(|v| !v.is_empty()) {
            candidates.push(PathBuf::from(od).join("Documents"));
        }
    }
    candidates
        .iter()
        .find(|c| nt8_dir(c).is_dir())
        .or(candidates.first())
        .cloned()
}

/// The Documents folder a command uses and where that choice came from: `--documents`, else
/// `[nt8] documents_dir` of the config, else [`default_documents`].
pub fn documents_dir(flag: Option<&Path>, cfg: Option<&Config>) -> Result<(PathBuf, String)> {
    if let Some(d) = flag {
        return Ok((d.to_path_buf(), "--documents".into()));
    }
    if let Some((cfg, nt8)) = cfg.and_then(|c| c.nt8.as_ref().map(|n| (c, n))) {
        return Ok((
            cfg.resolve(&nt8.documents_dir),
            format!("[nt8] documents_dir of {}", cfg.source.display()),
        ));
    }
    let home_var = if cfg!(windows) {
        "%USERPROFILE%"
    } else {
        "$HOME"
    };
    default_documents()
        .map(|d| (d, format!("the user's Documents folder ({home_var})")))
        .ok_or_else(|| {
            anyhow!("cannot tell where the Documents folder is ({home_var} is not set): pass --documents DIR, or set [nt8] documents_dir in config.toml")
        })
}

/// A file under `bin/Custom` that is in the way of vrev.
#[derive(Clone, Debug, PartialEq)]
pub struct InTheWay {
    pub path: PathBuf,
    pub why: String,
}

/// Largest `.cs` file read when looking for the old system's files.
const MAX_SCAN_BYTES: u64 = 8 << 20;

/// The old system's NinjaScript files and second copies of vrev's classes under `custom` (every
/// `.cs` below it, vrev's own two files excepted):
/// - a file that mentions `vreversal_` (its signal files, `vreversal_*.txt`, or the Enhanced
///   trader's `enhanced_vreversal_v*.txt`), or is named like `VReversal*`: an old auto-trader,
///   which would enter every vrev signal a second time;
/// - a file that mentions port 6789 and the bar frames (`historical_bar`) or a WebSocket: the
///   old publisher, which holds vrev's port;
/// - a file defining `class VrevPublisher` or `class VrevAutoTrader`: a second copy, which
///   stops NinjaTrader compiling anything.
pub fn in_the_way(custom: &Path) -> Vec<InTheWay> {
    let own: Vec<PathBuf> = FILES
        .iter()
        .map(|f| custom.join(f.folder).join(f.name))
        .collect();
    let mut found = Vec::new();
    let mut stack = vec![(custom.to_path_buf(), 0u32)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                if depth < 8 {
                    stack.push((path, depth + 1));
                }
                continue;
            }
            let name = e.file_name().to_string_lossy().to_string();
            if !kind.is_file() || !name.to_ascii_lowercase().ends_with(".cs") || own.contains(&path)
            {
                continue;
            }
            let text = match e.metadata() {
                Ok(m) if m.len() <= MAX_SCAN_BYTES => std::fs::read(&path)
                    .map(|b| String::from_utf8_lossy(&b).to_string())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            if let Some(why) = why_in_the_way(&name, &text) {
                found.push(InTheWay { path, why });
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// Why a `.cs` file named `name` with this text is in the way, if it is.
pub fn why_in_the_way(name: &str, text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    for f in &FILES {
        if text.contains(&format!("class {}", f.class)) {
            return Some(format!(
                "a second copy of vrev's {} (class {}): NinjaTrader compiles every .cs under bin\\Custom, and two copies of a class stop it compiling anything. Delete it",
                f.name, f.class
            ));
        }
    }
    if lower.contains("enhanced_vreversal") {
        return Some("the old system's Enhanced auto-trader (reads enhanced_vreversal_v*.txt): left enabled next to VrevAutoTrader it enters vrev's signals a second time if a profile writes that prefix. Disable it (remove it from its chart or delete the file)".into());
    }
    if lower.contains("vreversal_") || name.to_ascii_lowercase().starts_with("vreversal") {
        return Some("the old system's auto-trader (reads every vreversal_*.txt): left enabled next to VrevAutoTrader it enters each vrev signal a second time. Disable it (remove it from its chart or delete the file)".into());
    }
    if text.contains("6789") && (lower.contains("historical_bar") || lower.contains("websocket")) {
        return Some("the old system's bar publisher (port 6789): it holds the port VrevPublisher listens on. Remove it from its chart (or delete the file), or give VrevPublisher and [feed] url another port".into());
    }
    None
}

/// UTC time as it goes into a backup's name: `20251207T081500Z`.
fn stamp_now() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

/// The config `nt8 install` reads `[nt8] documents_dir` from: `--config`, else `config.toml`
/// when there is one.
fn optional_config(flag: &Option<PathBuf>) -> Result<Option<Config>> {
    match flag {
        Some(p) => Ok(Some(Config::load(p).map_err(|e| anyhow!("{e}"))?)),
        None => {
            let p = Path::new("config.toml");
            if p.exists() {
                Ok(Some(Config::load(p).map_err(|e| anyhow!("{e}"))?))
            } else {
                Ok(None)
            }
        }
    }
}

/// `vrev nt8 install [--documents DIR] [--force]`.
pub fn run(a: &Nt8InstallArgs) -> Result<()> {
    let cfg = optional_config(&a.config)?;
    let (docs, from) = documents_dir(a.documents.as_deref(), cfg.as_ref())?;
    if !docs.is_dir() {
        bail!(
            "{}: no such folder (the Documents folder, from {from}): pass --documents DIR, or set [nt8] documents_dir in config.toml",
            docs.display()
        );
    }
    crate::outln!("Documents folder: {} (from {from})", docs.display());
    if !nt8_dir(&docs).is_dir() {
        crate::outln!(
            "note: {} did not exist: is NinjaTrader 8 installed for this user, and is this its Documents folder? Creating it.",
            nt8_dir(&docs).display()
        );
    }
    let custom = custom_dir(&docs);
    let mut written = 0usize;
    let mut refused: Vec<String> = Vec::new();
    for f in &FILES {
        let dest = target(&docs, f);
        let shown = format!("{}/{}", f.folder, f.name);
        let dir = custom.join(f.folder);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
        let state = installed_state(&dest, f);
        match &state {
            Installed::Current => {
                crate::outln!("current    {shown}: already this vrev's version");
                continue;
            }
            Installed::Unreadable(why) => {
                refused.push(format!("{}: {why}", dest.display()));
                crate::outln!("refused    {}: {why}", dest.display());
                continue;
            }
            Installed::Edited { hash } if !a.force => {
                let msg = format!(
                    "{}: changed since vrev wrote it (SHA-256 {}…, a text no vrev version shipped): not replaced. Keep your changes elsewhere, or run again with --force (the file is then kept as a backup outside bin\\Custom)",
                    dest.display(),
                    &hash[..12]
                );
                crate::outln!("refused    {msg}");
                refused.push(msg);
                continue;
            }
            Installed::Edited { .. } => {
                let backup_dir = nt8_dir(&docs).join("vrev-backup").join(f.folder);
                std::fs::create_dir_all(&backup_dir).with_context(|| {
                    format!("{}: cannot create the backup folder", backup_dir.display())
                })?;
                let backup = backup_dir.join(format!("{}.{}.bak", f.name, stamp_now()));
                let old = std::fs::read(&dest)
                    .with_context(|| format!("{}: cannot read", dest.display()))?;
                crate::market::safe_write::write_path(&backup, &old)
                    .with_context(|| format!("{}: cannot write the backup", backup.display()))?;
                crate::outln!(
                    "backup     {shown}: your edited file is kept as {} (not a .cs, outside bin\\Custom: NinjaTrader does not compile it)",
                    backup.display()
                );
            }
            Installed::Missing | Installed::Older { .. } => {}
        }
        crate::market::safe_write::write_file(&dir, f.name, f.text.as_bytes(), true)
            .with_context(|| format!("{}: cannot write", dest.display()))?;
        written += 1;
        match state {
            Installed::Missing => crate::outln!("installed  {shown} → {}", dest.display()),
            Installed::Older { since } => crate::outln!(
                "updated    {shown} (was the version of {since}) → {}",
                dest.display()
            ),
            _ => crate::outln!("replaced   {shown} (--force) → {}", dest.display()),
        }
    }
    let in_way = in_the_way(&custom);
    for w in &in_way {
        crate::outln!("warning    {}: {}", w.path.display(), w.why);
    }
    if written > 0 {
        let signals = cfg
            .as_ref()
            .map(|c| c.resolve(&c.engine.signals_dir).display().to_string())
            .unwrap_or_else(|| "engine.signals_dir of your config.toml".into());
        crate::outln!(
            "\nNext, in NinjaTrader 8:
  1. New → NinjaScript Editor, open VrevAutoTrader (Strategies) and press F5 to compile.
     NinjaTrader compiles every .cs in bin\\Custom: the status bar must show no errors.
  2. On an ES 1-minute chart: Indicators… → VrevPublisher → Add. The NinjaScript Output window
     shows `VrevPublisher 6789: listening on ws://127.0.0.1:6789`.
  3. Strategies… → VrevAutoTrader on the same instrument: choose the account (Sim101 first),
     check that Signals folder is {signals}, tick Enabled.
  4. Then `vrev doctor`, and `vrev run`."
        );
    }
    if !refused.is_empty() {
        bail!(
            "{} file(s) not installed: {}",
            refused.len(),
            refused.join("; ")
        );
    }
    if written == 0 {
        crate::outln!("nothing to do: both files are current");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_files_are_in_the_table_of_shipped_hashes() {
        for f in &FILES {
            let h = text_hash(f.text.as_bytes());
            assert!(
                shipped_version(f.name, &h).is_some(),
                "{}: its SHA-256 {h} is not in SHIPPED_HASHES (src/cli/nt8_install.rs): add the line (\"{}\", \"{h}\", \"<commit> of <date>\") so that installs recognise this version",
                f.name,
                f.name
            );
        }
        // Every name in the table is a shipped file, and no hash is listed twice.
        for (n, h, _) in SHIPPED_HASHES {
            assert!(FILES.iter().any(|f| f.name == *n), "{n}");
            assert_eq!(h.len(), 64, "{n} {h}");
            assert_eq!(
                SHIPPED_HASHES.iter().filter(|(_, h2, _)| h2 == h).count(),
                1
            );
        }
    }

    #[test]
    fn the_hash_reads_crlf_and_a_byte_order_mark_as_the_same_text() {
        let lf = text_hash(b"a\nb\r\nc\n");
        assert_eq!(lf, text_hash(b"a\nb\nc\n"));
        assert_eq!(lf, text_hash(b"\xEF\xBB\xBFa\r\nb\r\nc\r\n"));
        assert_ne!(lf, text_hash(b"a\nb\nc"));
        assert_ne!(lf, text_hash(b"a\rb\nc\n"));
        // The empty text's well-known SHA-256.
        assert_eq!(
            text_hash(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(text_hash(b"\r\n"), text_hash(b"\n"));
    }

    #[test]
    fn old_system_files_and_second_copies_are_told_apart_from_other_scripts() {
        let cases = [
            (
                "VReversalAutoTrader.cs",
                "string f = \"vreversal_*.txt\";",
                Some("every vreversal_"),
            ),
            (
                "Mine.cs",
                "prefix = \"enhanced_vreversal_v\";",
                Some("Enhanced"),
            ),
            ("VReversalThing.cs", "class X {}", Some("every vreversal_")),
            (
                "Pub.cs",
                "int port = 6789; // WebSocket server",
                Some("publisher (port 6789)"),
            ),
            (
                "Pub.cs",
                "Send(\"historical_bar\"); Port = 6789;",
                Some("publisher"),
            ),
            (
                "Copy.cs",
                "public class VrevAutoTrader : Strategy",
                Some("second copy"),
            ),
            (
                "Mine.cs",
                "public class MyIndicator : Indicator { int p = 6789; }",
                None,
            ),
            ("Sma.cs", "class SMA {}", None),
        ];
        for (name, text, want) in cases {
            let got = why_in_the_way(name, text);
            match want {
                None => assert_eq!(got, None, "{name}: {text}"),
                Some(w) => assert!(
                    got.as_deref().is_some_and(|g| g.contains(w)),
                    "{name}: {got:?}"
                ),
            }
        }
    }
}
