//! What went wrong writing the engine's outputs (DESIGN §14), and the one rule that follows.
//!
//! - A signal whose file was renamed into place exists for NinjaTrader: it is counted toward
//!   every limit and opens its shadow trade, whatever happens afterwards.
//! - A signal whose file could not be written (full or read-only signal folder) never reached
//!   NinjaTrader: it is not counted, its temporary file is removed, and it is reported on stderr,
//!   in the journal (when the journal still works) and in the run's exit code. The next signal is
//!   tried again: a folder that has room again takes it.
//! - A failure to record state (the ledger line of a signal in place, a journal line) means the
//!   engine can no longer account for what it writes: it **halts** — every later proposal is
//!   refused as `halted`, no signal file is written any more — and says so on stderr and in its
//!   exit code. `vrev run` stops.
//!
//! Every mode exits 0 only when [`Faults::is_clean`].

/// Write failures seen during a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Signals admitted by the rules whose file could not be written: (signal ID, error).
    pub unwritten_signals: Vec<(String, String)>,
    /// The first failure to record state; from then on nothing is admitted.
    pub halted: Option<String>,
}

impl Faults {
    /// Nothing failed: every admitted signal was written and every state write succeeded.
    pub fn is_clean(&self) -> bool {
        self.unwritten_signals.is_empty() && self.halted.is_none()
    }

    /// The run's closing error when something failed (what the exit code stands for).
    pub fn exit_error(&self) -> Option<String> {
        if self.is_clean() {
            return None;
        }
        let mut parts = Vec::new();
        if !self.unwritten_signals.is_empty() {
            let (id, err) = &self.unwritten_signals[0];
            parts.push(format!(
                "{} signal file(s) could not be written (first: {id}: {err})",
                self.unwritten_signals.len()
            ));
        }
        if let Some(why) = &self.halted {
            parts.push(format!(
                "state could not be recorded ({why}); no signal was admitted after that"
            ));
        }
        Some(parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_run_without_failures_is_clean() {
        // (unwritten signals, halted, clean, fragment of the closing error)
        let cases: [(usize, Option<&str>, bool, &str); 4] = [
            (0, None, true, ""),
            (2, None, false, "2 signal file(s) could not be written"),
            (
                0,
                Some("ledger: disk full"),
                false,
                "state could not be recorded",
            ),
            (1, Some("journal: disk full"), false, "1 signal file(s)"),
        ];
        for (n, halted, clean, want) in cases {
            let f = Faults {
                unwritten_signals: (0..n).map(|i| (format!("id{i}"), "full".into())).collect(),
                halted: halted.map(String::from),
            };
            assert_eq!(f.is_clean(), clean, "{f:?}");
            assert_eq!(f.exit_error().is_none(), clean);
            assert!(f.exit_error().unwrap_or_default().contains(want), "{f:?}");
        }
    }
}
