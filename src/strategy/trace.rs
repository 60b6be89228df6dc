//! `trace(value)` for scripts: a line a trader adds to see a value while a pattern runs.
//! `vrev explain` captures the lines of the bar it explains and prints them with the script's
//! line; everywhere else a trace is a `tracing` debug line (`VREV_LOG=script=debug` shows them),
//! so a trace left in a script costs a function call and nothing else.
//!
//! The capture is thread-local: an engine lives on one thread (scripts share the bar history in
//! place), and explain switches it on around the one bar it explains.

use rhai::{Dynamic, Engine, NativeCallContext};
use std::cell::RefCell;

/// Most lines kept per capture: a trace in a loop must not fill memory.
pub const MAX_CAPTURED_LINES: usize = 1_000;

/// One `trace(...)` call: where in the script, and the value as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLine {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub text: String,
}

thread_local! {
    /// `Some` while a capture is on; the lines so far.
    static CAPTURE: RefCell<Option<Vec<TraceLine>>> = const { RefCell::new(None) };
}

/// Registers `trace(value)` (any value; returns nothing).
pub fn register(engine: &mut Engine) {
    engine.register_fn("trace", |ctx: NativeCallContext, value: Dynamic| {
        let pos = ctx.call_position();
        let captured = CAPTURE.with(|c| {
            let mut c = c.borrow_mut();
            let Some(lines) = c.as_mut() else {
                return false;
            };
            if lines.len() < MAX_CAPTURED_LINES {
                lines.push(TraceLine {
                    line: pos.line(),
                    column: pos.position(),
                    text: value.to_string(),
                });
            }
            true
        });
        if !captured {
            tracing::debug!(target: "script", "trace {}: {value}", pos);
        }
    });
}

/// Starts capturing the trace lines of this thread (dropping any earlier capture).
pub fn start_capture() {
    CAPTURE.with(|c| *c.borrow_mut() = Some(Vec::new()));
}

/// Runs `f` with the capture set aside: lines `f`'s script calls trace are not kept (a
/// diagnostic re-run of a call must not repeat them).
pub fn paused<T>(f: impl FnOnce() -> T) -> T {
    let saved = CAPTURE.with(|c| c.borrow_mut().take());
    let r = f();
    CAPTURE.with(|c| *c.borrow_mut() = saved);
    r
}

/// Ends the capture and returns its lines (empty when none was on).
pub fn take_capture() -> Vec<TraceLine> {
    CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_captured_only_while_on_and_with_their_place() {
        let mut e = Engine::new();
        register(&mut e);
        let script = "let x = 2;\ntrace(x * 3);\ntrace(\"done\");";
        e.run(script).unwrap();
        assert_eq!(take_capture(), vec![], "off: nothing kept");
        start_capture();
        e.run(script).unwrap();
        let lines = take_capture();
        assert_eq!(
            lines,
            vec![
                TraceLine {
                    line: Some(2),
                    column: Some(1),
                    text: "6".into()
                },
                TraceLine {
                    line: Some(3),
                    column: Some(1),
                    text: "done".into()
                },
            ]
        );
        start_capture();
        e.run("for i in 0..5000 { trace(i); }").unwrap();
        assert_eq!(take_capture().len(), MAX_CAPTURED_LINES);
    }
}
