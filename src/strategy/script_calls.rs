//! What a script's code refers to, found without running it: calls to functions that exist
//! nowhere (`hihg(t)`), and where a proposal key is written. `vrev check` uses it so that a
//! misspelled helper is found even on a path the synthetic series never reaches.
//!
//! How: Rhai's `internals` API (on with the `debugging` feature this crate uses) walks the
//! compiled AST (`AST::walk`) and lists every function the engine knows
//! (`Engine::collect_fn_metadata`: registered helpers and Rhai's standard packages). A call is
//! known when a function of that name takes that many arguments, counting the object of a
//! method call (`s.lowest_low("L", …)`) as the first one; the script's own functions count
//! too (as methods they bind `this` and take one argument less).
//!
//! Compile the AST for these with [`unoptimized`]: Rhai's optimizer folds a map of constants
//! (`#{ side: "LONG" }`) into one value, and the places of its keys with it.

use rhai::{ASTNode, Engine, Expr, Position, Stmt, AST};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

/// Rhai keywords that look like calls but are handled by the language itself, with any arity.
const KEYWORD_CALLS: [&str; 10] = [
    "print",
    "debug",
    "type_of",
    "eval",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_var",
    "is_def_fn",
];

/// An engine with every helper a script can call (bound to an empty series), to list them and
/// to compile scripts for these checks.
pub fn helper_engine() -> Engine {
    use crate::strategy::call_budget::{CallClock, ScriptLimits};
    use crate::strategy::sandbox::build_engine;
    let limits = ScriptLimits::default();
    let series = Rc::new(RefCell::new(crate::market::bar::BarSeries::with_capacity(
        8,
    )));
    let indicators = Rc::new(RefCell::new(crate::strategy::indicators::Indicators::new(
        8,
        18 * 60,
    )));
    build_engine(series, &indicators, &limits, &CallClock::new(&limits))
}

/// `engine` with the optimizer off, so that the AST it compiles keeps every expression where
/// the script wrote it.
pub fn unoptimized(mut engine: Engine) -> Engine {
    engine.set_optimization_level(rhai::OptimizationLevel::None);
    engine
}

/// A call to a function that does not exist with that many arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownCall {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// The functions a script may call: name → the argument counts it exists with.
pub struct KnownFunctions(HashMap<String, BTreeSet<usize>>);

impl KnownFunctions {
    /// Everything `engine` can call (helpers and standard packages).
    pub fn of_engine(engine: &Engine) -> Self {
        let mut known: HashMap<String, BTreeSet<usize>> = HashMap::new();
        for (name, n) in engine.collect_fn_metadata(
            None,
            |f| Some((f.metadata.name.to_string(), f.metadata.num_params)),
            true,
        ) {
            known.entry(name).or_default().insert(n);
        }
        KnownFunctions(known)
    }

    /// The argument counts `name` exists with, if it exists.
    pub fn arities(&self, name: &str) -> Option<&BTreeSet<usize>> {
        self.0.get(name)
    }

    /// The known name closest to `name` (for "did you mean"), if one is close.
    fn nearest(&self, name: &str, script_fns: &HashMap<String, BTreeSet<usize>>) -> Option<String> {
        self.0
            .keys()
            .chain(script_fns.keys())
            // Operators and getters (`+`, `get$x`) are no suggestion for a misspelled name.
            .filter(|k| k.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .map(|k| (strsim::damerau_levenshtein(name, k), k))
            .filter(|(d, k)| *d <= 2 && *d < k.len())
            .min()
            .map(|(_, k)| k.clone())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn counts(set: &BTreeSet<usize>) -> String {
    set.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Every call in `ast` (function bodies included) to a function that `known` and the script's
/// own functions do not have with that many arguments, in source order.
pub fn unknown_calls(ast: &AST, known: &KnownFunctions) -> Vec<UnknownCall> {
    let mut script_fns: HashMap<String, BTreeSet<usize>> = HashMap::new();
    for f in ast.iter_functions() {
        script_fns
            .entry(f.name.to_string())
            .or_default()
            .insert(f.params.len());
    }
    let mut found: Vec<(Position, String)> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        // A call standing alone as a statement is a `Stmt::FnCall`, not an expression.
        let (call, pos, method) = match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(x, pos))) => (x, *pos, false),
            Some(ASTNode::Expr(Expr::MethodCall(x, pos))) => (x, *pos, true),
            Some(ASTNode::Stmt(Stmt::FnCall(x, pos))) => (x, *pos, false),
            _ => return true,
        };
        // Operators (`a + b`, `!x`) are the language's own; qualified calls cannot occur (no
        // modules are allowed).
        if call.is_operator_call() || KEYWORD_CALLS.contains(&call.name.as_str()) {
            return true;
        }
        let name = call.name.as_str();
        let args = call.args.len();
        // A method call passes its object as the first argument of a native function; a
        // script function called as a method binds it to `this` instead.
        let native_args = if method { args + 1 } else { args };
        let native = known.arities(name);
        let script = script_fns.get(name);
        if native.is_some_and(|a| a.contains(&native_args))
            || script.is_some_and(|a| a.contains(&args))
        {
            return true;
        }
        let shown = if method { format!(".{name}") } else { name.to_string() };
        let message = match (native, script) {
            (None, None) => {
                let hint = known
                    .nearest(name, &script_fns)
                    .map(|n| format!(": did you mean `{n}`?"))
                    .unwrap_or_else(|| {
                        ": it is neither a vrev helper, a Rhai function nor a function of this script"
                            .into()
                    });
                format!("unknown function `{shown}`{hint}")
            }
            _ => {
                let mut all = BTreeSet::new();
                if let Some(a) = native {
                    all.extend(a.iter().map(|n| if method { n.saturating_sub(1) } else { *n }));
                }
                if let Some(a) = script {
                    all.extend(a.iter().copied());
                }
                format!(
                    "`{shown}` is called with {args} argument{}, but it takes {}",
                    plural(args),
                    counts(&all)
                )
            }
        };
        found.push((pos, message));
        true
    });
    found.sort_by_key(|(p, _)| (p.line(), p.position()));
    found.dedup();
    found
        .into_iter()
        .map(|(pos, message)| UnknownCall {
            line: pos.line(),
            column: pos.position(),
            message,
        })
        .collect()
}

/// A hint for Rhai's `Function not found: close (&str | ImmutableString | String)` when the
/// function does exist with that many arguments: then it is the arguments' types that are wrong.
pub fn wrong_type_hint(message: &str, known: &KnownFunctions) -> Option<String> {
    let rest = message.strip_prefix("Function not found: ")?;
    let (name, args) = rest.split_once(' ')?;
    let inside = args.strip_prefix('(')?.strip_suffix(')')?;
    let n = if inside.trim().is_empty() {
        0
    } else {
        inside.split(", ").count()
    };
    known.arities(name)?.contains(&n).then(|| {
        format!("`{name}` exists, but not for arguments of these types ({inside}): a value of the wrong type was passed")
    })
}

/// Where the script writes the map key `key` (`#{ side: … }`) in a map that also has one of
/// the keys `beside` (a proposal: `anchor_a`, `anchor_b`), in source order: the place a
/// proposal's bad value comes from when the error itself has no line.
pub fn map_key_places(ast: &AST, key: &str, beside: &[&str]) -> Vec<(usize, usize)> {
    let mut places = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Expr(Expr::Map(m, _))) = path.last() {
            if !m.0.iter().any(|(i, _)| beside.contains(&i.name.as_str())) {
                return true;
            }
            for (ident, _) in m.0.iter() {
                if ident.name == key {
                    if let (Some(l), Some(c)) = (ident.pos.line(), ident.pos.position()) {
                        places.push((l, c));
                    }
                }
            }
        }
        true
    });
    places.sort();
    places.dedup();
    places
}

/// Whether the script names `this` anywhere (any function: a method binds `this` too). One that
/// does not cannot change its state.
pub fn names_this(ast: &AST) -> bool {
    let mut found = false;
    ast.walk(&mut |path: &[ASTNode]| {
        found |= matches!(path.last(), Some(ASTNode::Expr(Expr::ThisPtr(_))));
        !found
    });
    found
}

/// Reads in `on_bar(t, p, v)` of a mark no scan of the script has: `v.Low` (or `v["Low"]`) where
/// the scans mark `origin, L, j, k`. `marks` are the names every scan marks, with `scan`. Found in
/// the code, so a misspelled mark is refused when the script is bound, before any bar, and not
/// only on the day the pattern first fires (`v` is a map: a missing key would read as `()`).
/// `v` is `on_bar`'s third parameter, whatever its name; an `on_bar` that declares a variable of
/// the same name (`let v`, `for v in`) is not checked, as its reads may be of that variable.
/// Each is (line, column, the name read), in source order.
pub fn unknown_mark_reads(ast: &AST, marks: &[&str]) -> Vec<(usize, usize, String)> {
    let place = |p: Position| (p.line().unwrap_or(0), p.position().unwrap_or(0));
    let Some((param, body)) = ast
        .iter_fn_def()
        .find(|f| f.name == "on_bar" && f.params.len() == 3)
        .map(|f| {
            let range = place(f.body.start_position())..=place(f.body.end_position());
            (f.params[2].to_string(), range)
        })
    else {
        return Vec::new();
    };
    // Functions do not nest, so on_bar's nodes are those within its body's span. (The AST has
    // no walk of one function, and `clone_functions_only_filtered` keeps every function when
    // the copy starts empty.)
    let in_on_bar = |p: Position| body.contains(&place(p));
    let is_param = |e: &Expr| matches!(e, Expr::Variable(x, ..) if x.1 == param.as_str());
    let mut shadowed = false;
    let mut found: Vec<(Position, String)> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::Var(x, _, pos)))
                if x.0.name == param.as_str() && in_on_bar(*pos) =>
            {
                shadowed = true
            }
            Some(ASTNode::Stmt(Stmt::For(x, pos)))
                if in_on_bar(*pos)
                    && (x.0.name == param.as_str()
                        || x.1.as_ref().is_some_and(|c| c.name == param.as_str())) =>
            {
                shadowed = true
            }
            Some(ASTNode::Expr(Expr::Dot(x, _, pos))) if is_param(&x.lhs) && in_on_bar(*pos) => {
                // `v.L` or the start of a chain `v.scan.len()`.
                let mut rhs = &x.rhs;
                while let Expr::Dot(inner, ..) | Expr::Index(inner, ..) = rhs {
                    rhs = &inner.lhs;
                }
                if let Expr::Property(p, _) = rhs {
                    found.push((*pos, p.2.to_string()));
                }
            }
            Some(ASTNode::Expr(Expr::Index(x, _, pos))) if is_param(&x.lhs) && in_on_bar(*pos) => {
                if let Expr::StringConstant(name, _) = &x.rhs {
                    found.push((*pos, name.to_string()));
                }
            }
            _ => {}
        }
        true
    });
    if shadowed {
        return Vec::new();
    }
    let mut unknown: Vec<(usize, usize, String)> = found
        .into_iter()
        .filter(|(_, name)| !marks.contains(&name.as_str()))
        .map(|(pos, name)| (pos.line().unwrap_or(0), pos.position().unwrap_or(0), name))
        .collect();
    unknown.sort();
    unknown.dedup();
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        unoptimized(helper_engine())
    }

    fn unknown(src: &str) -> Vec<String> {
        let e = engine();
        let ast = e.compile(src).unwrap();
        unknown_calls(&ast, &KnownFunctions::of_engine(&e))
            .into_iter()
            .map(|u| format!("{}:{} {}", u.line.unwrap(), u.column.unwrap(), u.message))
            .collect()
    }

    #[test]
    fn misspelled_and_misused_calls_are_found_on_any_path() {
        // (script, what must be reported; empty = nothing)
        let cases: [(&str, &[&str]); 8] = [
            ("fn on_bar(t, p) { high(t) }", &[]),
            (
                "fn on_bar(t, p) { if t > 1000000 { hihg(t) } }",
                &["1:36 unknown function `hihg`: did you mean `high`?"],
            ),
            (
                "fn on_bar(t, p) {\n  let x = 1;\n  x = frobnicate(x, 2);\n}",
                &["3:7 unknown function `frobnicate`: it is neither"],
            ),
            (
                "fn on_bar(t, p) { lowest_low(t) }",
                &["1:19 `lowest_low` is called with 1 argument, but it takes 2"],
            ),
            // The script's own functions, as plain calls and as methods binding `this`.
            (
                "fn helper(a) { a + 1 } fn bump() { this + 1 } fn on_bar(t, p) { let x = helper(t); x.bump(); }",
                &[],
            ),
            // Rhai's standard library, keywords, operators, strings, arrays, maps.
            (
                "fn on_bar(t, p) { let a = [1, 2]; a.push(3); let s = `${t}`; print(s.len()); debug(type_of(a)); let m = #{x: 1}; if !m.contains(\"x\") || 2 in a { return; } for i in range(0, 3) { a += i; } abs(-1.5).floor().to_int(); }",
                &[],
            ),
            // The scan builder and trace.
            (
                "fn scan(p) { origins(59, 2).level_at_high().lowest_low(\"L\", \"origin\", 0, 14).require_drop(\"L\", 4.0) } fn on_bar(t, p, v) { min(1, 2); max(1.0, 2.0); }",
                &[],
            ),
            (
                "fn scan(p) { origins(59, 2).lowest_lo(\"L\", \"origin\", 0, 14) } fn on_bar(t, p, v) {}",
                &["1:29 unknown function `.lowest_lo`: did you mean `lowest_low`?"],
            ),
        ];
        for (src, want) in cases {
            let got = unknown(src);
            assert_eq!(got.len(), want.len(), "{src}: {got:?}");
            for (g, w) in got.iter().zip(want.iter()) {
                assert!(g.starts_with(w), "{src}:\n got {g}\nwant {w}");
            }
        }
    }

    #[test]
    fn the_shipped_scripts_call_only_what_exists() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("strategies");
        let e = engine();
        let known = KnownFunctions::of_engine(&e);
        let mut n = 0;
        for entry in std::fs::read_dir(root).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "rhai") {
                let ast = e.compile(std::fs::read_to_string(&path).unwrap()).unwrap();
                assert_eq!(unknown_calls(&ast, &known), vec![], "{}", path.display());
                n += 1;
            }
        }
        assert!(n >= 2);
    }

    #[test]
    fn wrong_types_are_told_apart_from_unknown_functions() {
        let known = KnownFunctions::of_engine(&helper_engine());
        // (Rhai's message, hint expected)
        let cases = [
            (
                "Function not found: close (&str | ImmutableString | String)",
                true,
            ),
            ("Function not found: low (())", true),
            ("Function not found: close (i64, i64)", false),
            ("Function not found: hihg (i64)", false),
            ("Runtime error: boom", false),
        ];
        for (message, hint) in cases {
            assert_eq!(
                wrong_type_hint(message, &known).is_some(),
                hint,
                "{message}"
            );
        }
    }

    #[test]
    fn map_keys_are_located() {
        let e = engine();
        let ast = e
            .compile("fn params() { #{ side: 1 } }\nfn on_bar(t, p) {\n  if t > 3 { #{ side: \"LONG\", anchor_a: 1 } }\n  else { #{ entry: 1.0, side: \"BUY\", anchor_b: 2 } }\n}")
            .unwrap();
        let proposal = ["anchor_a", "anchor_b"];
        assert_eq!(
            map_key_places(&ast, "side", &proposal),
            vec![(3, 17), (4, 25)]
        );
        assert_eq!(map_key_places(&ast, "stop", &proposal), vec![]);
    }
}
