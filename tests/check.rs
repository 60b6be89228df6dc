//! `vrev check` runs what it checks: each defect a trader can make in a script fails the check
//! with the script's place, found by running every profile on the synthetic series (or, for an
//! unknown function, by reading the code); a script that never proposes is a warning.

mod common;
use common::*;

/// The shipped config and scripts, with the production and conservative profiles running
/// `strategies/probe.rhai` (= `script`, with its own defaults); runs `vrev check` there.
fn check_with(script: &str) -> (std::process::Output, String) {
    let p = Project::new();
    p.write("strategies/probe.rhai", script);
    let config = std::fs::read_to_string(p.path("config.toml")).unwrap();
    let config: String = config
        .replace("strategies/vreversal.rhai", "strategies/probe.rhai")
        .lines()
        .filter(|l| !l.starts_with("params = "))
        .map(|l| format!("{l}\n"))
        .collect();
    p.write("config.toml", &config);
    let out = p.vrev(&["check"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    (out, text)
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("strategies")
            .join(name),
    )
    .unwrap()
}

#[test]
fn the_shipped_config_and_scripts_pass_and_every_profile_ran() {
    let p = Project::new();
    let out = p.vrev(&["check"]);
    let o = stdout(&out);
    assert!(out.status.success(), "{o}{}", stderr(&out));
    for profile in [
        "production",
        "conservative",
        "bidirectional",
        "buy_only",
        "sell_only",
        "orb",
        "vwap_reversion",
        "ema_pullback",
    ] {
        let line = o
            .lines()
            .find(|l| l.contains(&format!("profile `{profile}` ran on")))
            .unwrap_or_else(|| panic!("no line for {profile}:\n{o}"));
        assert!(line.starts_with("ok "), "{line}");
        assert!(line.contains("no script error"), "{line}");
        // Every bar of the series called the script, and the embedded Vs were proposed.
        let calls: u64 = line
            .split(": ")
            .nth(2)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(calls > 4000, "{line}");
        assert!(!line.contains(" 0 proposal"), "{line}");
    }
    assert!(!o.lines().any(|l| l.starts_with("error")), "{o}");
    assert!(!o.lines().any(|l| l.starts_with("warning")), "{o}");
}

/// (what is wrong, the script, the place and message that must be printed)
const DEFECTS: [(&str, &str, &str); 7] = [
    (
        "unknown function on a path the series never reaches",
        "fn on_bar(t, p) {\n    if close(t) > 1000000.0 {\n        return hihg(t);\n    }\n}\n",
        "strategies/probe.rhai:3:16: unknown function `hihg`: did you mean `high`?",
    ),
    (
        "wrong type",
        "fn on_bar(t, p) {\n    let c = close(\"x\");\n}\n",
        "strategies/probe.rhai:2:13: Function not found: close (&str | ImmutableString | String): `close` exists, but not for arguments of these types",
    ),
    (
        "invalid side",
        "fn on_bar(t, p) {\n    #{ side: \"LONG\", entry: close(t), anchor_a: high(t), anchor_b: low(t) }\n}\n",
        "strategies/probe.rhai:2:8: proposal `side` must be \"BUY\" or \"SELL\", found LONG",
    ),
    (
        "runaway loop",
        "fn on_bar(t, p) {\n    let n = 0;\n    loop { n += 1; }\n}\n",
        "strategies/probe.rhai:3:14: script stopped after 200000 operations (runaway loop?)",
    ),
    (
        "NaN entry",
        "fn on_bar(t, p) {\n    let x = sqrt(-1.0);\n    #{ side: \"BUY\", anchor_a: high(t),\n       entry: x, anchor_b: low(t) }\n}\n",
        "strategies/probe.rhai:4:8: proposal `entry` is not a finite number",
    ),
    (
        "absurd entry",
        "fn on_bar(t, p) {\n    #{ side: \"BUY\", entry: close(t) * 1000.0, anchor_a: high(t), anchor_b: low(t) }\n}\n",
        "strategies/probe.rhai:2:21: refused proposal: proposal `entry`",
    ),
    (
        "a mark the scan does not have",
        "",
        "strategies/probe.rhai:40:25: unknown mark `Low` (scan `scan` has: origin, L, j, k, scan)",
    ),
];

#[test]
fn each_script_defect_fails_with_its_place() {
    for (what, script, want) in DEFECTS {
        // The missing mark: the shipped V-reversal reading `v.Low` where it means `v.L` (line 40);
        // the scan result names the marks it has.
        let script = if script.is_empty() {
            shipped("vreversal.rhai").replacen("low(v.L);", "low(v.Low);", 1)
        } else {
            script.to_string()
        };
        let (out, text) = check_with(&script);
        assert_eq!(out.status.code(), Some(1), "{what}: must fail:\n{text}");
        let line = text
            .lines()
            .find(|l| l.starts_with("error   strategies/probe.rhai"))
            .unwrap_or_else(|| panic!("{what}: no error line:\n{text}"));
        assert!(line.contains(want), "{what}:\n got {line}\nwant {want}");
        // Every profile using the script is named with the bar where it failed, except for the
        // unknown function and the missing mark (found in the code before anything runs).
        if !what.starts_with("unknown function") && what != "a mark the scan does not have" {
            assert!(
                text.contains("(profile `production`, on synthetic bar 2025-02-"),
                "{what}:\n{text}"
            );
            assert!(
                text.contains("(profile `conservative`, on synthetic bar"),
                "{what}:\n{text}"
            );
        }
        assert!(text.contains("problem(s) found"), "{what}:\n{text}");
        // No second copy of the error from the engine's log.
        assert!(!text.contains("WARN"), "{what}:\n{text}");
    }
}

#[test]
fn a_script_that_never_proposes_is_a_warning_not_a_failure() {
    let (out, text) = check_with(
        "fn on_bar(t, p) {\n    if close(t) > 1000000.0 { #{ side: \"BUY\", anchor_a: high(t), anchor_b: low(t) } }\n}\n",
    );
    assert!(out.status.success(), "{text}");
    let warning = text
        .lines()
        .find(|l| l.starts_with("warning strategies/probe.rhai: profile `production`"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        warning.contains("proposed nothing in 4140 calls on 4140 synthetic bars"),
        "{warning}"
    );
}

#[test]
fn a_script_given_alone_runs_with_its_defaults() {
    let p = Project::new();
    p.write(
        "elsewhere/side.rhai",
        "fn params() { #{ side: \"LONG\" } }\nfn on_bar(t, p) {\n    #{ side: p.side, anchor_a: high(t), anchor_b: low(t) }\n}\n",
    );
    let out = p.vrev(&["check", "elsewhere/side.rhai"]);
    let o = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{o}");
    assert!(
        o.contains("error   elsewhere/side.rhai:3:8: proposal `side` must be \"BUY\" or \"SELL\", found LONG (with its default params"),
        "{o}"
    );
    let out = p.vrev(&["check", "strategies/vreversal.rhai"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(
            "strategies/vreversal.rhai: with its default params ran on 4140 synthetic bars"
        ),
        "{}",
        stdout(&out)
    );
}
