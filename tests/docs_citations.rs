//! What a clone can read (issue 13): every DESIGN section the CLI's messages cite is in a
//! `docs/` page the message names, and the README's headline table says where it came from.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_design_section_the_cli_cites_is_in_the_docs_page_it_names() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut cited = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") || !line.contains("DESIGN §") {
                continue;
            }
            // Only text a user sees: the citation inside a string literal.
            let Some(lit) = line.split('"').nth(1).filter(|l| l.contains("DESIGN §")) else {
                continue;
            };
            cited += 1;
            let place = format!("{}:{}", f.display(), n + 1);
            let page = lit
                .split_whitespace()
                .find(|w| w.starts_with("docs/"))
                .map(|w| w.trim_end_matches([')', ':', ',', ';']))
                .unwrap_or_else(|| panic!("{place}: `{lit}` cites DESIGN without a docs/ page"));
            let doc = std::fs::read_to_string(root.join(page))
                .unwrap_or_else(|_| panic!("{place}: {page} does not exist"));
            let section = lit
                .split("DESIGN §")
                .nth(1)
                .unwrap()
                .split(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap();
            assert!(
                doc.contains(&format!("## §{section}."))
                    || doc.contains(&format!("DESIGN §{section})")),
                "{place}: {page} does not state DESIGN §{section}"
            );
        }
    }
    assert!(cited > 0, "the fill assumptions cite DESIGN §10");
    let faults = std::fs::read_to_string(root.join("docs/faults.md")).unwrap();
    assert!(faults.lines().next().unwrap().contains("(DESIGN §14)"));
}

#[test]
fn the_headline_table_says_where_it_came_from() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("## The honest result").unwrap();
    let section = &readme[start..start + readme[start..].find("\n## ").unwrap()];
    for needed in [
        "vrev backtest ../shared/data/es-1m-2021-2022.nt.txt.gz",
        "run on 20",
        "commit `fa8bcc2`",
        "sha256",
        "A clone does not have this file",
        "Historical Data → Export",
    ] {
        assert!(
            section.contains(needed),
            "headline section lacks `{needed}`"
        );
    }
}
