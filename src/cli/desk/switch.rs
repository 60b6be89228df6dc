//! `vrev halt` / `vrev resume`: the kill switch file from a second terminal or another program
//! ([`crate::host::kill_switch`]). A running engine notices it between bars.

use crate::cli::args::SwitchArgs;
use crate::config::Config;
use crate::host::kill_switch;
use anyhow::{anyhow, Result};
use std::path::PathBuf;

/// The state folder: `--state`, else the config's `engine.state_dir`.
fn state_dir(a: &SwitchArgs) -> Result<PathBuf> {
    match &a.state {
        Some(d) => Ok(d.clone()),
        None => {
            let cfg = Config::load(&a.config).map_err(|e| anyhow!("{e}"))?;
            Ok(cfg.resolve(&cfg.engine.state_dir))
        }
    }
}

pub fn halt(a: SwitchArgs) -> Result<()> {
    let dir = state_dir(&a)?;
    let file = kill_switch::path(&dir);
    let was_on = kill_switch::trip(&dir, "vrev halt")
        .map_err(|e| anyhow!("{}: cannot write the kill switch: {e}", file.display()))?;
    if was_on {
        crate::outln!(
            "halt: the kill switch was already on ({}): {}",
            file.display(),
            kill_switch::note(&file)
        );
    } else {
        crate::outln!(
            "halt: kill switch ON ({}): an engine on this state folder refuses every new entry as kill_switch from its next bar; open trades and exits go on. `vrev resume` turns it off.",
            file.display()
        );
    }
    Ok(())
}

pub fn resume(a: SwitchArgs) -> Result<()> {
    let dir = state_dir(&a)?;
    let file = kill_switch::path(&dir);
    let was_on = kill_switch::release(&dir)
        .map_err(|e| anyhow!("{}: cannot remove the kill switch: {e}", file.display()))?;
    if was_on {
        crate::outln!(
            "resume: kill switch off ({} removed): new entries are admitted again",
            file.display()
        );
    } else {
        crate::outln!(
            "resume: the kill switch was not on ({} does not exist)",
            file.display()
        );
    }
    Ok(())
}
