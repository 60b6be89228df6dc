//! Ctrl+C (SIGINT, and SIGTERM on Unix): a flag set by a small watcher thread, checked between
//! bars (`replay --pace`, `backtest`), cells (`--sweep`, `--walk-forward`) and samples
//! (`--monte-carlo`), so the run stops at its next step and prints what it completed; then the
//! process exits with [`EXIT_CODE`]. The flag is also [`crate::market::stop`], which the
//! backtest loops and the report writer (`safe_write::Batch`) read.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The conventional exit code of a process stopped by SIGINT (128 + 2).
pub const EXIT_CODE: i32 = 130;

/// The run stopped at the user's request; `main` exits with [`EXIT_CODE`].
#[derive(Debug, thiserror::Error)]
#[error("interrupted (Ctrl+C) after {done} of {total} {unit}{note}")]
pub struct Interrupted {
    pub done: usize,
    pub total: usize,
    /// What was counted: `bars`, `sweep cells`, `walk-forward runs (cell x block)`.
    pub unit: &'static str,
    /// What that means for the outputs (`; no report written`), or empty.
    pub note: String,
}

/// A flag raised by Ctrl+C. Once installed, Ctrl+C no longer kills the process.
#[derive(Clone)]
pub struct CtrlC(Arc<AtomicBool>);

impl CtrlC {
    /// Installs the handler; returns once it is in place (a signal before that would kill the
    /// process as usual). `None` if no handler could be installed.
    pub fn install() -> Option<CtrlC> {
        let flag = Arc::new(AtomicBool::new(false));
        let raised = flag.clone();
        let (ready, installed) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("ctrl-c".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(_) => {
                        let _ = ready.send(false);
                        return;
                    }
                };
                rt.block_on(async move {
                    #[cfg(unix)]
                    {
                        use tokio::signal::unix::{signal, SignalKind};
                        let (Ok(mut int), Ok(mut term)) = (
                            signal(SignalKind::interrupt()),
                            signal(SignalKind::terminate()),
                        ) else {
                            let _ = ready.send(false);
                            return;
                        };
                        let _ = ready.send(true);
                        tokio::select! {
                            _ = int.recv() => {},
                            _ = term.recv() => {},
                        }
                    }
                    #[cfg(not(unix))]
                    {
                        let _ = ready.send(true);
                        if tokio::signal::ctrl_c().await.is_err() {
                            return;
                        }
                    }
                    raised.store(true, Ordering::SeqCst);
                    crate::market::stop::raise();
                });
            })
            .ok()?;
        installed.recv().ok()?.then_some(CtrlC(flag))
    }

    pub fn raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps up to `d`, waking early (within 50 ms) when Ctrl+C is pressed.
    pub fn sleep(&self, d: std::time::Duration) {
        let until = std::time::Instant::now() + d;
        while !self.raised() {
            let now = std::time::Instant::now();
            if now >= until {
                return;
            }
            std::thread::sleep((until - now).min(std::time::Duration::from_millis(50)));
        }
    }
}
