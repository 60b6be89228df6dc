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
