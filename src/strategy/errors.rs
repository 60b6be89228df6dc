//! Where a script failed: Rhai errors turned into `file:line:column` with a trader's message,
//! and the re-run that finds the line of a runaway script (Rhai reports its limits without one).

use super::sandbox::{EngineParts, ScriptLimits};
use super::StrategyError;
use rhai::{CallFnOptions, Dynamic, Engine, EvalAltResult, Position, Scope, AST};
use std::cell::RefCell;
use std::rc::Rc;

pub(super) fn place(file: &str, pos: Position, message: String) -> StrategyError {
    StrategyError {
        file: file.to_string(),
        line: pos.line(),
        column: pos.position(),
        message,
    }
}

/// Turns a Rhai runtime error into a located one (innermost position: the script line that
/// failed, not the call site in the host).
pub fn runtime_error(file: &str, err: &EvalAltResult, limits: &ScriptLimits) -> StrategyError {
    let inner = err.unwrap_inner();
    // The innermost error names what went wrong. Its position is the failing script line, but
    // some errors (the operation limit) carry none: take the innermost frame that has one.
    let mut pos = Position::NONE;
    let mut frame = err;
    loop {
        if !frame.position().is_none() {
            pos = frame.position();
        }
        match frame {
            EvalAltResult::ErrorInFunctionCall(.., next, _)
            | EvalAltResult::ErrorInModule(_, next, _) => frame = next,
            _ => break,
        }
    }
    let message = match inner {
        EvalAltResult::ErrorTooManyOperations(_) => {
            format!(
                "script stopped after {} operations (runaway loop?): this bar gets no signal",
                limits.max_operations
            )
        }
        EvalAltResult::ErrorTerminated(token, _) if token.is_int() => {
            let charged = token.as_int().unwrap_or(0);
            let host = if charged > 0 {
                format!(", {charged} of them charged to host functions (engine.script_max_operations; docs/script-limits.md)")
            } else {
                String::new()
            };
            format!(
                "script stopped after {} operations (runaway loop?){host}: this bar gets no signal",
                limits.max_operations
            )
        }
        EvalAltResult::ErrorTerminated(..) => {
            format!(
                "script stopped after {} ms, its time per call in a live run (engine.script_max_call_ms): this bar gets no signal",
                limits.max_call_time.as_millis()
            )
        }
        other => {
            // Rhai's message without its own " (line x, position y)" suffix: we print the place first.
            let s = other.to_string();
            match s.rfind(" (line ") {
                Some(i) if s.ends_with(')') => s[..i].to_string(),
                _ => s,
            }
        }
    };
    place(file, pos, message)
}

/// Finds the line of a runaway script. Rhai reports its limits without a position, so
/// the one failed call is run again on a second engine whose debugger hook records the position
/// of every step; the last one before the limit is the loop. Built on first use only: normal
/// calls never pay for it.
pub struct RunawayLocator {
    parts: EngineParts,
    engine: RefCell<Option<(Engine, Rc<std::cell::Cell<Position>>)>>,
}

impl RunawayLocator {
    pub(super) fn new(parts: EngineParts) -> Self {
        RunawayLocator {
            parts,
            engine: RefCell::new(None),
        }
    }

    pub(super) fn locate(
        &self,
        ast: &AST,
        args: impl rhai::FuncArgs,
        state: &mut Dynamic,
        stopped_by_time: bool,
    ) -> Position {
        let mut slot = self.engine.borrow_mut();
        let (engine, last) = slot.get_or_insert_with(|| {
            let mut e = self.parts.build();
            let last = Rc::new(std::cell::Cell::new(Position::NONE));
            let seen = last.clone();
            let clock = self.parts.clock.clone();
            #[allow(deprecated)] // "not deprecated, but volatile" per Rhai; pinned by our tests
            e.register_debugger(
                |_, dbg| dbg,
                move |_, event, _, _, pos| {
                    // Steps only: unwinding after the limit reports the function's end.
                    if matches!(event, rhai::debugger::DebuggerEvent::Step) && !pos.is_none() {
                        seen.set(pos);
                    }
                    // Each step is slow here (a native call like `contains` steps through every
                    // comparison): read the clock on every step (live runs; offline the
                    // operation budget stops the re-run where it stopped the call).
                    if clock.expired() {
                        return Err("time budget spent".into());
                    }
                    Ok(rhai::debugger::DebuggerCommand::StepInto)
                },
            );
            (e, last)
        });
        last.set(Position::NONE);
        let options = CallFnOptions::new().bind_this_ptr(state);
        // A call stopped by operations stops again at the same step (the count is the same).
        // A live call stopped by its time gets half its time again: the step reached then is in
        // the same loop, and the call and its re-run stay within 1.5× the budget in all.
        let budget = if stopped_by_time {
            self.parts.clock.budget() / 2
        } else {
            self.parts.clock.budget()
        };
        let _ = self.parts.clock.time_for(budget, || {
            engine.call_fn_with_options::<Dynamic>(options, &mut Scope::new(), ast, "on_bar", args)
        });
        last.get()
    }
}
