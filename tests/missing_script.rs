//! A profile whose script file does not exist is reported as "not found", with the path as the
//! config names it and the config line, by every engine command (issue 13).

mod common;
use common::*;

#[test]
fn a_missing_script_is_not_found_at_its_config_line_not_a_compile_error() {
    let p = Project::new();
    let cfg = std::fs::read_to_string(p.path("config.toml")).unwrap();
    let line = cfg
        .lines()
        .position(|l| l.contains("strategies/vreversal.rhai"))
        .unwrap()
        + 1;
    p.write(
        "config.toml",
        &cfg.replace("strategies/vreversal.rhai", "strategies/vreversl.rhai"),
    );
    assert!(p
        .vrev(&["synth", "--out", "bars.txt", "--days", "1"])
        .status
        .success());
    for args in [
        vec!["replay", "bars.txt"],
        vec!["backtest", "bars.txt"],
        vec!["run", "--url", "ws://127.0.0.1:9"],
    ] {
        let o = p.vrev(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&format!("config.toml:{line}:")),
            "{args:?}: the config line: {err}"
        );
        assert!(
            err.contains("`strategies/vreversl.rhai` not found"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("does not compile"), "{args:?}: {err}");
        assert!(!err.contains("os error"), "{args:?}: {err}");
    }
    // `vrev check` says the same (on stdout, with its other verdicts), not "does not compile".
    let o = p.vrev(&["check"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!("config.toml:{line}:")),
        "check: {out}"
    );
    assert!(
        out.contains("`strategies/vreversl.rhai` not found"),
        "check: {out}"
    );
    assert!(!out.contains("os error"), "check: {out}");
}
