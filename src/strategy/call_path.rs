//! The path one script call took, for `vrev explain` (`docs/explain.md`): every `if` of
//! `on_bar` evaluated on the way with its result and the values it compared, and what ended the
//! call (a `return` and its line, or the end of `on_bar`).
//!
//! Recording is off except while `explain` captures the bar it explains (a thread-local switch,
//! as [`super::trace`]'s capture). Then the call is run a second time, from the same `this` and
//! on the same bar, on a diagnostic engine whose Rhai debugger hook sees every statement. The
//! second run's writes to `this`, its proposals and its `trace` lines are thrown away, so what
//! the engine did is exactly what it did without the recording.

use super::sandbox::EngineParts;
use rhai::debugger::{DebuggerCommand, DebuggerEvent};
use rhai::{
    ASTFlags, ASTNode, CallFnOptions, Dynamic, Engine, EvalContext, Expr, Scope, Stmt, AST,
};
use std::cell::RefCell;
use std::rc::Rc;

/// Most `if`s kept per call: one in a loop must not fill the screen.
pub const MAX_CONDITIONS: usize = 200;

/// One `if` evaluated: where, what it gave, and the comparisons inside it with their values.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub line: usize,
    pub column: usize,
    /// The condition's value (`true`/`false`; anything else is a script error there).
    pub value: String,
    /// Each comparison in the condition with its two sides' values, e.g. `3.25 < 4.0`.
    pub compared: Vec<String>,
}

/// What ended the call.
#[derive(Clone, Debug, PartialEq)]
pub enum Ending {
    /// A `return` of `on_bar` itself (not of a function it called).
    Return { line: usize, column: usize },
    /// `on_bar` ran to its end; the line of the last statement it ran.
    End { last_line: Option<usize> },
}

/// The path of one call.
#[derive(Clone, Debug, PartialEq)]
pub struct CallPath {
    pub conditions: Vec<Condition>,
    /// `if`s past [`MAX_CONDITIONS`], evaluated but not kept.
    pub conditions_dropped: usize,
    pub ending: Ending,
}

thread_local! {
    static CAPTURE: RefCell<Option<Vec<CallPath>>> = const { RefCell::new(None) };
}

/// Starts recording the paths of this thread's script calls (dropping any earlier capture).
pub fn start_capture() {
    CAPTURE.with(|c| *c.borrow_mut() = Some(Vec::new()));
}

/// Ends the recording and returns the paths, one per call, in call order.
pub fn take_capture() -> Vec<CallPath> {
    CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default()
}

pub(super) fn capturing() -> bool {
    CAPTURE.with(|c| c.borrow().is_some())
}

fn push(path: CallPath) {
    CAPTURE.with(|c| {
        if let Some(paths) = c.borrow_mut().as_mut() {
            paths.push(path);
        }
    });
}

/// What the debugger hook collects during one recorded call.
#[derive(Default)]
struct Recording {
    /// Call level of `on_bar`'s own statements (the first step's).
    base_level: Option<usize>,
    conditions: Vec<Condition>,
    dropped: usize,
    ret: Option<(usize, usize)>,
    last_line: Option<usize>,
}

/// The diagnostic engine that records paths; built on first use only.
pub struct PathRecorder {
    parts: EngineParts,
    engine: RefCell<Option<(Engine, Rc<RefCell<Recording>>)>>,
}

/// `x OP y` with the values of both sides, for each comparison in `expr` (through `&&`, `||`).
fn comparisons(ctx: &mut EvalContext, expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::And(items, _) | Expr::Or(items, _) => {
            for e in items.iter() {
                comparisons(ctx, e, out);
            }
        }
        Expr::FnCall(call, _)
            if call.args.len() == 2
                && matches!(call.name.as_str(), "<" | "<=" | ">" | ">=" | "==" | "!=") =>
        {
            let mut side = |e: &Expr| match ctx.eval_expression_tree(&e.into()) {
                Ok(v) => v.to_string(),
                Err(_) => "(error)".into(),
            };
            let (a, b) = (side(&call.args[0]), side(&call.args[1]));
            out.push(format!("{a} {} {b}", call.name));
        }
        _ => {}
    }
}

impl PathRecorder {
    pub(super) fn new(parts: EngineParts) -> Self {
        PathRecorder {
            parts,
            engine: RefCell::new(None),
        }
    }

    /// Runs `on_bar` again with `args` from `state` (a copy: its writes are thrown away) and
    /// records its path (callers check [`capturing`] first, before copying the arguments); the
    /// trace lines of the second run are not kept.
    pub(super) fn record(&self, ast: &AST, args: impl rhai::FuncArgs, state: &Dynamic) {
        let mut slot = self.engine.borrow_mut();
        let (engine, rec) = slot.get_or_insert_with(|| {
            let mut e = self.parts.build();
            let rec = Rc::new(RefCell::new(Recording::default()));
            let seen = rec.clone();
            #[allow(deprecated)] // "not deprecated, but volatile" per Rhai; pinned by our tests
            e.register_debugger(
                |_, dbg| dbg,
                move |mut ctx, event, node, _, pos| {
                    if !matches!(event, DebuggerEvent::Step) {
                        return Ok(DebuggerCommand::StepInto);
                    }
                    let level = ctx.call_level();
                    let base = *seen.borrow_mut().base_level.get_or_insert(level);
                    let ASTNode::Stmt(stmt) = node else {
                        return Ok(DebuggerCommand::StepInto);
                    };
                    if level != base {
                        return Ok(DebuggerCommand::StepInto);
                    }
                    if let Some(line) = pos.line() {
                        seen.borrow_mut().last_line = Some(line);
                    }
                    match stmt {
                        Stmt::If(flow, at) => {
                            if seen.borrow().conditions.len() >= MAX_CONDITIONS {
                                seen.borrow_mut().dropped += 1;
                            } else {
                                // Evaluated again here for its value (conditions read values;
                                // the second evaluation is part of this thrown-away run).
                                let value = match ctx.eval_expression_tree(&(&flow.expr).into()) {
                                    Ok(v) => v.to_string(),
                                    Err(_) => "(error)".into(),
                                };
                                let mut compared = vec![];
                                comparisons(&mut ctx, &flow.expr, &mut compared);
                                seen.borrow_mut().conditions.push(Condition {
                                    line: at.line().unwrap_or(0),
                                    column: at.position().unwrap_or(0),
                                    value,
                                    compared,
                                });
                            }
                        }
                        Stmt::Return(_, flags, at) if !flags.contains(ASTFlags::BREAK) => {
                            seen.borrow_mut().ret =
                                Some((at.line().unwrap_or(0), at.position().unwrap_or(0)));
                        }
                        _ => {}
                    }
                    Ok(DebuggerCommand::StepInto)
                },
            );
            (e, rec)
        });
        *rec.borrow_mut() = Recording::default();
        let mut state = state.clone();
        let options = CallFnOptions::new().bind_this_ptr(&mut state);
        super::trace::paused(|| {
            let _ = self.parts.clock.time(|| {
                engine.call_fn_with_options::<Dynamic>(
                    options,
                    &mut Scope::new(),
                    ast,
                    "on_bar",
                    args,
                )
            });
        });
        let r = std::mem::take(&mut *rec.borrow_mut());
        push(CallPath {
            conditions: r.conditions,
            conditions_dropped: r.dropped,
            ending: match r.ret {
                Some((line, column)) => Ending::Return { line, column },
                None => Ending::End {
                    last_line: r.last_line,
                },
            },
        });
    }
}
