//! `vrev init [DIR]`: a trading folder for an installed `vrev`, which has no repository beside
//! it. Writes the shipped `config.toml` and the `strategies/*.rhai` it names (both built into
//! the binary), with the signals folder set to the one `VrevAutoTrader` reads by default
//! (`<Documents>\vrev\signals`) and `[nt8] documents_dir` to that Documents folder
//! (`docs/install.md`).

use crate::cli::args::InitArgs;
use anyhow::{bail, Context as _, Result};
use std::path::{Path, PathBuf};

/// The shipped config, as this vrev was built with it.
pub const CONFIG: &str = include_str!("../../config.toml");

/// The shipped scripts (every one `CONFIG` names; a test checks that none is missing).
pub const SCRIPTS: &[(&str, &str)] = &[
    (
        "bidirectional.rhai",
        include_str!("../../strategies/bidirectional.rhai"),
    ),
    (
        "ema_pullback.rhai",
        include_str!("../../strategies/ema_pullback.rhai"),
    ),
    ("orb.rhai", include_str!("../../strategies/orb.rhai")),
    (
        "vreversal.rhai",
        include_str!("../../strategies/vreversal.rhai"),
    ),
    (
        "vwap_pullback.rhai",
        include_str!("../../strategies/vwap_pullback.rhai"),
    ),
    (
        "vwap_reversion.rhai",
        include_str!("../../strategies/vwap_reversion.rhai"),
    ),
];

/// The line of [`CONFIG`] that names the signals folder.
const SIGNALS_LINE: &str = "signals_dir = \"signals\"";

/// `path` as a TOML string: single-quoted (a literal string: backslashes stay as they are)
/// unless it holds a `'` or a control character, then a basic string with escapes.
pub fn toml_path(path: &Path) -> String {
    let s = path.display().to_string();
    if s.contains('\'') || s.chars().any(char::is_control) {
        toml::Value::String(s).to_string()
    } else {
        format!("'{s}'")
    }
}

/// The signals folder the auto-trader reads by default: `<Documents>/vrev/signals`
/// (`VrevAutoTrader.cs`: `Path.Combine(MyDocuments, "vrev", "signals")`).
pub fn auto_trader_signals(documents: &Path) -> PathBuf {
    documents.join("vrev").join("signals")
}

/// The starter config: [`CONFIG`] with the signals folder of the auto-trader's default, and an
/// `[nt8]` section naming `documents`.
pub fn starter_config(documents: &Path) -> Result<String> {
    let signals = auto_trader_signals(documents);
    let mut out = String::with_capacity(CONFIG.len() + 512);
    out.push_str(&format!(
        "# Written by `vrev init` (vrev {}). Run `vrev check`, then `vrev doctor` before a live day.\n",
        env!("CARGO_PKG_VERSION")
    ));
    let mut replaced = 0;
    for line in CONFIG.lines() {
        if line.starts_with(SIGNALS_LINE) {
            out.push_str(&format!(
                "signals_dir = {}  # VrevAutoTrader's default Signals folder\n",
                toml_path(&signals)
            ));
            replaced += 1;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if replaced != 1 {
        bail!("the built-in config has {replaced} `{SIGNALS_LINE}` lines instead of one (a vrev bug: the starter config cannot set the signals folder)");
    }
    out.push_str(&format!(
        "
# NinjaTrader's side, for `vrev nt8 install`, `vrev doctor` and the desk's trade pane: the
# Documents folder NinjaTrader uses, and the account the auto-trader trades.
[nt8]
documents_dir = {}
account = \"Sim101\"
",
        toml_path(documents)
    ));
    Ok(out)
}

/// `vrev init [DIR] [--documents DIR]`.
pub fn run(a: &InitArgs) -> Result<()> {
    let dir = &a.dir;
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if let Some(first) = entries.next() {
                let first = first
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .unwrap_or_default();
                bail!(
                    "{}: not empty (it holds {first}{}): vrev init writes only into a new or empty folder, so that it never overwrites a config or script. Name a new folder, e.g. `vrev init trading`",
                    dir.display(),
                    if entries.next().is_some() { ", …" } else { "" }
                );
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => bail!("{}: cannot read the folder: {e}", dir.display()),
    }
    let documents = match &a.documents {
        Some(d) => d.clone(),
        None => crate::cli::nt8_install::documents_dir(None, None)?.0,
    };
    let documents = std::path::absolute(&documents).unwrap_or(documents);
    let text = starter_config(&documents)?;
    let strategies = dir.join("strategies");
    std::fs::create_dir_all(&strategies)
        .with_context(|| format!("{}: cannot create", strategies.display()))?;
    crate::market::safe_write::write_path(&dir.join("config.toml"), text.as_bytes())
        .with_context(|| format!("{}: cannot write", dir.join("config.toml").display()))?;
    for (name, script) in SCRIPTS {
        crate::market::safe_write::write_file(&strategies, name, script.as_bytes(), false)
            .with_context(|| format!("{}: cannot write", strategies.join(name).display()))?;
    }
    crate::outln!(
        "wrote {} and {} scripts in {}",
        dir.join("config.toml").display(),
        SCRIPTS.len(),
        strategies.display()
    );
    crate::outln!(
        "signals folder: {} (the auto-trader's default); Documents folder: {} ([nt8] documents_dir)",
        auto_trader_signals(&documents).display(),
        documents.display()
    );
    let cd = if dir == Path::new(".") {
        String::new()
    } else {
        format!("`cd {}`, then ", dir.display())
    };
    crate::outln!(
        "next: {cd}`vrev check` (config and scripts), `vrev demo` (the live path on a synthetic day), `vrev nt8 install` (NinjaTrader's files), `vrev doctor` (before a live day)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_the_shipped_config_names_is_built_in() {
        let cfg = crate::config::Config::from_text(CONFIG, Path::new("config.toml")).unwrap();
        for (name, p) in &cfg.profile {
            let file = p
                .strategy
                .strip_prefix("strategies/")
                .unwrap_or_else(|| panic!("profile {name}: {} is not in strategies/", p.strategy));
            assert!(
                SCRIPTS.iter().any(|(n, _)| *n == file),
                "profile {name} uses {file}, which src/cli/init.rs does not embed"
            );
        }
        // And every script of the repository's strategies/ folder is embedded, as it is now.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("strategies");
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().to_string();
            let (_, text) = SCRIPTS
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("strategies/{name} is not embedded"));
            assert_eq!(*text, std::fs::read_to_string(e.path()).unwrap());
        }
    }

    #[test]
    fn the_starter_config_loads_with_the_auto_traders_signals_folder_and_the_documents_folder() {
        for docs in [
            PathBuf::from("/home/me/Documents"),
            PathBuf::from(r"C:\Users\me\Documents"),
            PathBuf::from(r"C:\Users\O'Neil\Documents"),
        ] {
            let text = starter_config(&docs).unwrap();
            let cfg = crate::config::Config::from_text(&text, Path::new("/x/config.toml"))
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(cfg.engine.signals_dir, auto_trader_signals(&docs));
            assert_eq!(cfg.nt8.as_ref().unwrap().documents_dir, docs);
            assert_eq!(cfg.nt8.as_ref().unwrap().account, "Sim101");
            assert_eq!(cfg.engine.state_dir, Path::new("state"));
        }
        let text = starter_config(Path::new(r"C:\Users\me\Documents")).unwrap();
        assert!(
            text.contains(r"signals_dir = 'C:\Users\me\Documents/vrev/signals'")
                || text.contains(r"signals_dir = 'C:\Users\me\Documents\vrev\signals'"),
            "{text}"
        );
    }
}
