//! The layer rule of `src/README.md`, checked on the source so it cannot rot: every `crate::`
//! path in a layer's code points at that layer or one below it, nothing but `main.rs` reaches
//! the commands (`cli`), and `src/`'s root holds only the crate files and `config.rs`.
//!
//! Unit-test modules (`#[cfg(test)] mod tests { … }` at a file's end) may look anywhere, as
//! `../shared/tools/module-cycles` also allows.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What each top-level module may import (itself always).
fn allowed(layer: &str) -> Option<&'static [&'static str]> {
    Some(match layer {
        "market" => &[],
        "config" => &["market"],
        "strategy" => &["market", "config"],
        "stats" => &[],
        "host" => &["market", "config", "strategy"],
        "feed" | "scenario" => &["market", "config", "strategy", "host"],
        "backtest" => &["market", "config", "strategy", "host", "stats"],
        "cli" => &[
            "market", "config", "strategy", "host", "stats", "feed", "scenario", "backtest",
        ],
        _ => return None,
    })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's text without its trailing unit-test module.
fn code(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// The top-level modules named by `crate::NAME` paths (macros such as `crate::outln!` are
/// `#[macro_export]`ed from `market::out` and count as `market`).
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `$crate::` in a macro body, or part of a longer name
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let is_macro = rest[name.len()..].starts_with('!');
        if is_macro {
            found.insert("market".to_string());
        } else if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

#[test]
fn every_import_points_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let layer = first.trim_end_matches(".rs").to_string();
        if layer == "main" || layer == "lib" {
            continue;
        }
        let Some(may) = allowed(&layer) else {
            problems.push(format!(
                "src/{}: `{layer}` is not a layer of src/README.md (add it to the table and here)",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        for name in imports(code(&text)) {
            if name != layer && !may.contains(&name.as_str()) {
                problems.push(format!(
                    "src/{}: `{layer}` imports `crate::{name}`, which is not below it",
                    rel.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_root_of_src_holds_only_the_crate_files_and_config() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut root: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    root.sort();
    assert_eq!(root, ["config.rs", "lib.rs", "main.rs"]);
}

/// `lib.rs` declares the layers and nothing else: no `pub use` keeps a moved module reachable
/// under its old path.
#[test]
fn lib_declares_the_layers_and_re_exports_nothing() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let items: Vec<&str> = lib
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .collect();
    assert_eq!(
        items,
        [
            "pub mod backtest;",
            "pub mod cli;",
            "pub mod config;",
            "pub mod feed;",
            "pub mod host;",
            "pub mod market;",
            "pub mod scenario;",
            "pub mod stats;",
            "pub mod strategy;",
        ]
    );
}

/// The checker itself: an upward import and a macro are told apart.
#[test]
fn the_checker_finds_paths_and_macros() {
    let found = imports(
        "use crate::host::engine::Engine;\ncrate::outln!(\"x\");\n$crate::market::out::out(s)",
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["host".to_string(), "market".to_string()]
    );
    assert_eq!(
        code("a\n#[cfg(test)]\nmod tests {\n crate::cli::x }"),
        "a\n"
    );
}
