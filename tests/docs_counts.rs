//! Counts the README and `docs/` state come from the tree (issue 22, item 5): a number a page
//! gives for something the repository ships fails this test when the tree changes and the page
//! does not. Each number is read from the page by a fixed pattern, and the pattern must match,
//! so a reworded sentence fails here too instead of going unchecked.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every `*.toml` below `dir`, at any depth (what `vrev test` runs by default).
fn count_toml(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            n += count_toml(&p);
        } else if p.extension().is_some_and(|x| x == "toml") {
            n += 1;
        }
    }
    n
}

/// The number just before `suffix` in `text`, on the first occurrence of `suffix` that follows
/// a number; panics naming `page` when there is none.
fn number_before(text: &str, suffix: &str, page: &str) -> usize {
    let mut found = None;
    for (at, _) in text.match_indices(suffix) {
        let digits: String = text[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if !digits.is_empty() {
            found = Some(digits.parse().unwrap());
            break;
        }
    }
    found.unwrap_or_else(|| {
        panic!("{page}: no number before {suffix:?} (the pattern this test reads)")
    })
}

fn shipped_scenarios() -> usize {
    count_toml(&root().join("tests/scenarios"))
}

#[test]
fn the_readme_states_how_many_scenarios_ship() {
    let stated = number_before(&read("README.md"), " shipped scenarios", "README.md");
    assert_eq!(
        stated,
        shipped_scenarios(),
        "README.md says \"The {stated} shipped scenarios\"; tests/scenarios/ holds {} *.toml files",
        shipped_scenarios()
    );
}

#[test]
fn the_scenarios_page_shows_the_count_vrev_test_prints() {
    // The example output of `vrev test` (every shipped scenario passing).
    let stated = number_before(
        &read("docs/scenarios.md"),
        " passed, 0 failed",
        "docs/scenarios.md",
    );
    assert_eq!(
        stated,
        shipped_scenarios(),
        "docs/scenarios.md shows \"{stated} passed, 0 failed\"; tests/scenarios/ holds {} *.toml files",
        shipped_scenarios()
    );
}

#[test]
fn the_readme_does_not_say_walk_forward_skips_the_script_error_check() {
    // tests/script_failures.rs: a walk-forward with script errors in its cells fails.
    let readme = read("README.md")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        !readme.contains("`--walk-forward` does not check"),
        "README.md still says --walk-forward does not check script errors; it does"
    );
}

#[test]
fn the_docs_state_how_many_series_functions_scripts_have() {
    let names = vrev::strategy::series_fns::names();
    for page in ["README.md", "docs/indicators.md"] {
        let stated = number_before(&read(page), " series functions", page);
        assert_eq!(
            stated,
            names.len(),
            "{page} says \"{stated} series functions\"; src/strategy/series_fns.rs registers {}: {names:?}",
            names.len()
        );
    }
    // names() sees every function only if each is registered through `reg!`.
    let source = read("src/strategy/series_fns.rs");
    assert_eq!(
        source.matches("register_fn(").count(),
        1,
        "src/strategy/series_fns.rs registers a function without `reg!`: names() misses it"
    );
    // And each of them is in the tables of docs/indicators.md.
    let doc = read("docs/indicators.md");
    for name in &names {
        assert!(
            doc.contains(&format!("`{name}(")),
            "docs/indicators.md shows no `{name}(...)`, a function src/strategy/series_fns.rs registers"
        );
    }
}

/// Files directly in `dir` whose name ends with `ext`.
fn count_files(dir: &Path, ext: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter(|e| {
            let p = e.as_ref().unwrap().path();
            p.is_file() && p.extension().is_some_and(|x| x == ext)
        })
        .count()
}

#[test]
fn the_readme_states_how_many_test_suites_cargo_test_runs() {
    // `cargo test` runs one binary per file in tests/, the library's and the binary's unit
    // tests, and the doc-tests (Cargo.toml sets no `autotests`, `test = false` or [[test]]).
    let files = count_files(&root().join("tests"), "rs");
    let suites = files + 3;
    let readme = read("README.md");
    for (suffix, want) in [(" test suites", suites), (" files in `tests/`", files)] {
        let stated = number_before(&readme, suffix, "README.md");
        assert_eq!(
            stated, want,
            "README.md says \"{stated}{suffix}\"; the tree gives {want} ({files} files in tests/)"
        );
    }
    let cargo = read("Cargo.toml");
    assert!(
        !cargo.contains("autotests") && !cargo.contains("[[test]]"),
        "Cargo.toml changes which tests cargo builds: count them again"
    );
}
