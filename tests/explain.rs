//! `vrev explain`: why a pattern did or did not fire at one bar, from the real binary on bar
//! files where a signal fires and where an origin fails a step.

mod common;
use common::*;

/// A project whose `bars.txt` holds the textbook long V of DESIGN §7 (origin high `h`, low
/// `h - drop`, retest bar closing 2025-02-13 13:59 ET) and 40 quiet bars after it, rising
/// slowly so that a BUY reaches its target.
fn project_with_v(h: f64, drop: f64) -> Project {
    let p = Project::new();
    let mut bars = long_v(et("2025-02-13 13:59"), h, drop, 20);
    let last = *bars.last().unwrap();
    for k in 1..=40 {
        let c = last.close + 0.25 * k as f64;
        bars.push(bar(
            last.close_time + 60 * k,
            c - 0.25,
            c + 0.25,
            c - 0.5,
            c,
            300.0,
        ));
    }
    write_nt(&p.path("bars.txt"), &bars);
    p
}

fn explain(p: &Project, extra: &[&str]) -> (std::process::Output, String) {
    let out = p.vrev(&[&["explain", "bars.txt"][..], extra].concat());
    let o = stdout(&out);
    (out, o)
}

fn line_with<'a>(o: &'a str, start: &str) -> &'a str {
    o.lines()
        .find(|l| l.trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with {start:?}:\n{o}"))
}

#[test]
fn a_signal_bar_shows_window_scan_rules_and_the_shadow_trade() {
    let p = project_with_v(6107.25, 15.75);
    let (out, o) = explain(&p, &["--at", "2025-02-13 13:59"]);
    assert!(out.status.success(), "{o}{}", stderr(&out));
    assert!(o.starts_with("bar 2025-02-13 13:59 ET (2025-02-13T18:59:00Z): open 6109 high 6109.25 low 6107.5 close 6108.25"), "{o}");
    assert!(
        o.contains("window: afternoon (13:30–15:00 ET), profile `production`, strategy strategies/vreversal.rhai"),
        "{o}"
    );
    assert!(o.contains("script called: yes"), "{o}");
    // The V's origin (11 bars before the retest) is the oldest passing origin.
    assert!(
        o.contains("the oldest passing origin, 13:48, is the match"),
        "{o}"
    );
    assert!(
        line_with(&o, "origin 13:48 high 6107.25")
            .ends_with("passes every step (L 13:52, j 13:56, k 13:59)"),
        "{o}"
    );
    assert!(
        o.contains("proposal: BUY entry 6108.25 anchors 6107.25 / 6091.5 confidence 1.00 → ID 20250213_135900_6107.25_6091.50"),
        "{o}"
    );
    // Every rule, in order, each with its verdict.
    let rules: Vec<&str> = o
        .lines()
        .filter(|l| {
            l.starts_with("  ")
                && l.trim_start()
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit())
        })
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "window",
            "direction",
            "confidence",
            "duplicate",
            "daily_limit",
            "daily_loss",
            "open_positions",
            "stop"
        ],
        "{o}"
    );
    assert!(!o.contains("REFUSE"), "{o}");
    assert!(
        o.contains("→ ADMITTED: signal 20250213_135900_6107.25_6091.50"),
        "{o}"
    );
    // Entry at the next bar's open + 1 tick, target 6108.25 + 3 reached later in the file.
    let trade = line_with(&o, "shadow trade BUY 20250213_135900_6107.25_6091.50");
    assert!(trade.contains("stop 6102.25 target 6111.25"), "{trade}");
    assert!(
        trade.contains("entry 2025-02-13 13:59 ET at 6108.5"),
        "{trade}"
    );
    assert!(trade.contains("(target), P&L $"), "{trade}");
}

#[test]
fn an_origin_that_fails_a_step_says_which_and_by_how_much() {
    // The V drops 15.75 points; with a 16-point threshold its origin fails the drop step.
    let p = project_with_v(6107.25, 15.75);
    let (out, o) = explain(
        &p,
        &[
            "--at",
            "2025-02-13 13:59",
            "--set",
            "profile.production.params.drop_threshold=16",
        ],
    );
    assert!(out.status.success(), "{o}{}", stderr(&out));
    assert!(
        line_with(&o, "origin 13:48 high 6107.25").ends_with(
            "drop 15.75 < 16.00 needed (L 13:52, low 6091.5) [step 2: drop from the origin's high to L's low >= 16]"
        ),
        "{o}"
    );
    // Every candidate is listed with its own figures.
    assert!(
        line_with(&o, "origin 13:53 high 6103.75")
            .contains("drop 12.00 < 16.00 needed (L 13:53, low 6091.75)"),
        "{o}"
    );
    assert!(
        o.contains("none passes every step: on_bar was not called for it"),
        "{o}"
    );
    assert!(o.contains("proposals: none"), "{o}");
    assert!(!o.contains("shadow trade"), "{o}");
}

#[test]
fn a_refused_proposal_shows_every_rule_and_the_trade_it_would_have_been() {
    let p = project_with_v(6107.25, 15.75);
    let (out, o) = explain(
        &p,
        &[
            "--at",
            "2025-02-13 13:59",
            "--set",
            "profile.production.direction=\"short\"",
        ],
    );
    assert!(out.status.success(), "{o}{}", stderr(&out));
    assert!(
        line_with(&o, "2 direction").contains("REFUSE profile `production` trades short, not buy"),
        "{o}"
    );
    // Later rules are still judged.
    assert!(line_with(&o, "8 stop").contains("pass"), "{o}");
    assert!(
        o.contains("→ REFUSED (direction: profile `production` trades short, not buy)"),
        "{o}"
    );
    let would = line_with(&o, "had BUY 20250213_135900_6107.25_6091.50 been admitted");
    assert!(would.contains("(target), P&L $"), "{would}");
}

#[test]
fn trace_lines_of_the_bar_show_with_their_place() {
    let p = project_with_v(6107.25, 15.75);
    let script = std::fs::read_to_string(p.path("strategies/vreversal.rhai"))
        .unwrap()
        .replacen(
            "    let drop = H - low(v.L);\n",
            "    let drop = H - low(v.L);\n    trace(`drop ${drop} from origin ${v.origin}`);\n",
            1,
        );
    assert!(script.contains("trace("));
    p.write("strategies/vreversal.rhai", &script);
    let (out, o) = explain(&p, &["--at", "2025-02-13 13:59"]);
    assert!(out.status.success(), "{o}{}", stderr(&out));
    let trace = line_with(&o, "strategies/vreversal.rhai:41:");
    assert!(trace.ends_with(": drop 15.75 from origin 20"), "{trace}");
    // Elsewhere a trace is a debug log line only: a replay prints nothing of it.
    let out = p.vrev(&["replay", "bars.txt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("drop 15.75"), "{}", stderr(&out));
}

#[test]
fn outside_the_windows_and_missing_bars_are_said_plainly() {
    let p = project_with_v(6107.25, 15.75);
    let bars = long_v(et("2025-02-13 12:10"), 6107.25, 15.75, 5);
    write_nt(&p.path("noon.txt"), &bars);
    let out = p.vrev(&["explain", "noon.txt", "--at", "2025-02-13 12:10"]);
    let o = stdout(&out);
    assert!(out.status.success(), "{o}");
    assert!(
        o.contains("window: outside every window (12:10 ET): the script is not called"),
        "{o}"
    );
    assert!(o.contains("script called: no"), "{o}");

    let (out, _) = explain(&p, &["--at", "2025-02-13 14:45"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no bar closes at 2025-02-13 14:45 ET in the file; the nearest bar(s) close at 2025-02-13 14:39 ET (before)"),
        "{}",
        stderr(&out)
    );
    let (out, _) = explain(&p, &["--at", "2025-02-13 13:20"]);
    assert!(
        stderr(&out).contains("close at 2025-02-13 13:28 ET (after)"),
        "{}",
        stderr(&out)
    );
    let (out, _) = explain(&p, &["--at", "13:59"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("expected the bar's close in ET as \"YYYY-MM-DD HH:MM\""),
        "{}",
        stderr(&out)
    );
}

/// Issue 19: `--at "… 09:45:30"` said "no bar closes at 09:45 … nearest bar closes at 09:45".
#[test]
fn an_at_with_seconds_names_the_seconds_and_says_bars_close_on_minutes() {
    let p = project_with_v(6107.25, 15.75);
    let (out, _) = explain(&p, &["--at", "2025-02-13 13:59:30"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no bar closes at 2025-02-13 13:59:30 ET in the file; the nearest bar(s) close at 2025-02-13 13:59 ET (before) and 2025-02-13 14:00 ET (after)"),
        "{err}"
    );
    assert!(err.contains("bars close on whole minutes"), "{err}");
}

/// Issue 22: for a bar where the script was called and proposed nothing, explain named neither
/// the `return` that ended the call nor the values on the way.
#[test]
fn a_call_without_a_proposal_names_its_return_and_the_ifs_on_the_way() {
    let p = project_with_v(6107.25, 15.75);
    let config = std::fs::read_to_string(p.path("config.toml")).unwrap();
    p.write(
        "config.toml",
        &format!(
            "{config}\n[profile.probe]\nstrategy = \"strategies/probe.rhai\"\ndirection = \"both\"\ncontracts = 1\nstop_pct = 0.1\ntarget_points = 4.0\nmax_hold_minutes = 60\nmax_daily_signals = 20\nmin_confidence = 0.0\n"
        ),
    );
    let probe = |limit: &str| {
        format!(
            "fn on_bar(t, p) {{
    let range = high(t) - low(t);
    trace(range);
    if range > {limit} && close(t) > 0.0 {{
        return;
    }}
    if close(t) < 0.0 {{
        return #{{ side: \"BUY\", anchor_a: 1.0, anchor_b: 2.0 }};
    }}
    let unused = 1;
}}
"
        )
    };
    p.write("strategies/probe.rhai", &probe("0.0"));
    let (out, o) = explain(&p, &["--at", "2025-02-13 13:59", "--profile", "probe"]);
    assert!(out.status.success(), "{o}{}", stderr(&out));
    assert!(o.contains("path of on_bar (strategies/probe.rhai):"), "{o}");
    let cond = line_with(
        &o,
        "strategies/probe.rhai:4:5  if range > 0.0 && close(t) > 0.0 {",
    );
    assert!(cond.contains("→ true"), "{cond}");
    assert!(cond.contains(" > 0.0, "), "the compared values: {cond}");
    assert!(
        o.contains("ended by the `return` at strategies/probe.rhai:5:9: return;"),
        "{o}"
    );
    // The trace line is printed once: the recorded second run's trace is not kept.
    assert_eq!(o.matches("strategies/probe.rhai:3:5:").count(), 1, "{o}");
    assert!(o.contains("proposals: none"), "{o}");

    // A limit no bar's range reaches: both ifs false, the call runs to the end of on_bar.
    p.write("strategies/probe.rhai", &probe("1000.0"));
    let (out, o) = explain(&p, &["--at", "2025-02-13 13:59", "--profile", "probe"]);
    assert!(out.status.success(), "{o}{}", stderr(&out));
    assert!(
        line_with(&o, "strategies/probe.rhai:4:5  if range > 1000.0").contains("→ false"),
        "{o}"
    );
    assert!(
        line_with(&o, "strategies/probe.rhai:7:5  if close(t) < 0.0 {").contains("→ false"),
        "{o}"
    );
    assert!(
        o.contains("ended at the end of on_bar (its last statement run: strategies/probe.rhai:10: let unused = 1;)"),
        "{o}"
    );
}
