//! `vrev replay` end to end with the real binary in temp folders: signal files, windows across
//! DST, host-rule rejections in the journal, broken scripts, bad inputs.

mod common;
use common::*;

fn file_map(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn textbook_long_v_at_1359_et_writes_the_exact_signal_file() {
    let p = Project::new();
    write_nt(
        &p.path("bars.txt"),
        &long_v(et("2025-02-13 13:59"), 6107.25, 15.75, 20),
    );
    let out = p.vrev(&["replay", "bars.txt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        p.signal_files(),
        vec!["vreversal_20250213_135900_6107.25_6091.50.txt"]
    );
    let text =
        std::fs::read_to_string(p.path("signals/vreversal_20250213_135900_6107.25_6091.50.txt"))
            .unwrap();
    let keys: Vec<String> = file_map(&text).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            "SIGNAL_ID",
            "ACTION",
            "ENTRY_PRICE",
            "STOP_LOSS",
            "TAKE_PROFIT",
            "QUANTITY",
            "MAX_HOLD_MINUTES",
            "SIGNAL_TIME",
            "SIGNAL_TIME_ET",
            "EXPIRES",
            "INSTRUMENT",
            "PROFILE",
            "STRATEGY",
            "PATTERN_TYPE",
            "CONFIDENCE",
            "DROP"
        ]
    );
    let v: std::collections::HashMap<_, _> = file_map(&text).into_iter().collect();
    assert_eq!(v["SIGNAL_ID"], "20250213_135900_6107.25_6091.50");
    assert_eq!(v["ACTION"], "BUY");
    // Entry = retest close 6108.25; stop 6108.25 × 0.999 = 6102.14175 → nearest tick 6102.25.
    assert_eq!(v["ENTRY_PRICE"], "6108.25");
    assert_eq!(v["STOP_LOSS"], "6102.25");
    assert_eq!(v["TAKE_PROFIT"], "6111.25");
    assert_eq!(v["QUANTITY"], "3");
    assert_eq!(v["MAX_HOLD_MINUTES"], "25");
    assert_eq!(v["SIGNAL_TIME"], "2025-02-13T18:59:00Z");
    assert_eq!(v["SIGNAL_TIME_ET"], "2025-02-13 13:59:00");
    assert_eq!(v["EXPIRES"], "2025-02-13T19:00:30Z");
    assert_eq!(v["INSTRUMENT"], "ES");
    assert_eq!(v["PROFILE"], "production");
    assert!(
        v["STRATEGY"].starts_with("vreversal.rhai@")
            && v["STRATEGY"].len() == "vreversal.rhai@".len() + 12
    );
    assert_eq!(v["PATTERN_TYPE"], "v_reversal");
    // 50 + 20 (drop ≥ 5) + 10 (breakout volume) + 10 (j − i = 8) + 10 (breakout 1.5 above)
    assert_eq!(v["CONFIDENCE"], "1.00");
    assert_eq!(v["DROP"], "15.75");
    // Only the final file: no temporary file left behind.
    assert!(std::fs::read_dir(p.path("signals"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .all(|n| n == SIGNALS_LOCK || !n.starts_with('.')));
}

#[test]
fn same_wall_clock_pattern_fires_in_the_right_window_across_the_2025_dst_changes() {
    let p = Project::new();
    // The week before and after each 2025 change (Mar 9, Nov 2): 13:59 fires (afternoon), 09:00
    // fires (window start is inclusive), 11:00 does not (end is exclusive), 10:59 fires.
    let days = ["2025-03-04", "2025-03-11", "2025-10-28", "2025-11-04"];
    let mut bars = Vec::new();
    let mut h = 6000.0;
    for d in days {
        for hhmm in ["09:00", "10:59", "11:00", "13:59"] {
            bars.extend(long_v(et(&format!("{d} {hhmm}")), h, 6.0, 30));
            h -= 40.0;
        }
    }
    write_nt(&p.path("bars.txt"), &bars);
    let out = p.vrev(&[
        "replay",
        "bars.txt",
        "--set",
        "profile.production.max_open_positions=10",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Vec<String> = p
        .signal_files()
        .iter()
        .map(|f| f[10..25].to_string())
        .collect();
    let mut want = Vec::new();
    for d in days {
        let d = d.replace('-', "");
        for t in ["090000", "105900", "135900"] {
            want.push(format!("{d}_{t}"));
        }
    }
    want.sort();
    assert_eq!(got, want);
    // UTC offsets: EST (−5) before March 9 and after November 2, EDT (−4) between.
    let times: Vec<String> = p
        .journal()
        .iter()
        .filter(|e| e["event"] == "signal" && e["window"] == "afternoon")
        .map(|e| e["bar_time"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        times,
        [
            "2025-03-04T18:59:00Z",
            "2025-03-11T17:59:00Z",
            "2025-10-28T17:59:00Z",
            "2025-11-04T18:59:00Z"
        ]
    );
}

#[test]
fn every_host_rule_rejection_is_journaled_with_its_reason() {
    let p = Project::new();
    // Two Vs 14 minutes apart in the morning: the second comes while the first trade is still
    // open (its prices stay between the first trade's stop 6294.75 and target 6304.00).
    let mut bars = long_v(et("2025-07-14 09:30"), 6300.0, 6.0, 30);
    bars.extend(long_v(et("2025-07-14 09:44"), 6301.25, 4.0, 2));
    write_nt(&p.path("bars.txt"), &bars);
    let reasons = |p: &Project| -> Vec<String> {
        p.journal()
            .iter()
            .filter(|e| e["event"] == "rejected")
            .map(|e| e["reason"].as_str().unwrap().to_string())
            .collect()
    };

    // (Bars of adjacent Vs form further, valid Vs of their own: counts are not pinned, reasons are.)
    let all = |r: &[String], reason: &str| !r.is_empty() && r.iter().all(|x| x == reason);
    let out = p.vrev(&["replay", "bars.txt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.signal_files().len(), 1);
    let first_run = reasons(&p);
    assert!(all(&first_run, "open_positions"), "{first_run:?}");

    // A re-run over the same bars: the first ID is in the ledger (not written again, but its
    // shadow trade is restored), so the second meets the same open position as before.
    let out = p.vrev(&["replay", "bars.txt", "--journal", "state/rerun.jsonl"]);
    assert!(out.status.success());
    let rerun: Vec<serde_json::Value> = std::fs::read_to_string(p.path("state/rerun.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rr: Vec<String> = rerun
        .iter()
        .filter(|e| e["event"] == "rejected")
        .map(|e| e["reason"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rr[0], "duplicate");
    assert_eq!(
        rr[1..],
        first_run[..],
        "the restored shadow trade blocks exactly as before"
    );
    assert_eq!(p.signal_files().len(), 1);

    let q = Project::new();
    write_nt(&q.path("bars.txt"), &bars);
    q.vrev(&["replay", "bars.txt", "--sell-only"]);
    assert!(all(&reasons(&q), "direction"), "{:?}", reasons(&q));
    assert!(q.signal_files().is_empty());

    let q = Project::new();
    write_nt(&q.path("bars.txt"), &bars);
    q.write(
        "strategies/vreversal.rhai",
        &std::fs::read_to_string(p.path("strategies/vreversal.rhai"))
            .unwrap()
            .replace("confidence: c / 100.0", "confidence: 0.65"),
    );
    q.vrev(&["replay", "bars.txt"]);
    assert!(all(&reasons(&q), "confidence"), "{:?}", reasons(&q));
    assert!(q.signal_files().is_empty());

    // A script that proposes the same pattern twice on one bar: the second is a duplicate.
    let q = Project::new();
    write_nt(&q.path("bars.txt"), &bars);
    let original = std::fs::read_to_string(p.path("strategies/vreversal.rhai")).unwrap();
    let twice = original
        .replace(
            "    #{\n        side: \"BUY\",",
            "    let s = #{\n        side: \"BUY\",",
        )
        .replace(
            "        extra: #{ drop: drop },\n    }\n}",
            "        extra: #{ drop: drop },\n    };\n    [s, s]\n}",
        );
    assert!(
        twice.contains("[s, s]") && twice.contains("let s = #{"),
        "the script edit must apply"
    );
    q.write("strategies/vreversal.rhai", &twice);
    let out = q.vrev(&["replay", "bars.txt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = reasons(&q);
    assert_eq!(r[0], "duplicate", "{r:?}");
    assert!(
        r[1..]
            .iter()
            .all(|x| x == "duplicate" || x == "open_positions"),
        "{r:?}"
    );
    assert_eq!(q.signal_files().len(), 1);
}

#[test]
fn the_21st_signal_of_a_trading_day_is_refused_by_the_production_profile() {
    let p = Project::new();
    let cfg = std::fs::read_to_string(p.path("config.toml")).unwrap();
    // One long window, the production profile, positions never blocking.
    let start = cfg.find("[[session]]").unwrap();
    let end = cfg.find("# The original system's parameters.").unwrap();
    let cfg = format!(
        "{}[[session]]\nname = \"day\"\nstart = \"00:00\"\nend = \"17:00\"\nprofile = \"production\"\n\n[[session]]\nname = \"evening\"\nstart = \"18:00\"\nend = \"23:59\"\nprofile = \"production\"\n\n{}",
        &cfg[..start],
        &cfg[end..]
    );
    p.write(
        "config.toml",
        &cfg.replace(
            "max_daily_signals = 20\nmin_confidence = 0.70\nparams",
            "max_daily_signals = 20\nmin_confidence = 0.70\nmax_open_positions = 100\nparams",
        ),
    );
    let mut bars = Vec::new();
    for n in 0..22 {
        bars.extend(long_v(
            et("2025-07-15 02:00") + 14 * 60 * n,
            6500.0 - 30.0 * n as f64,
            6.0,
            2,
        ));
    }
    // The next trading day starts at 18:00: a V at 20:00 the same evening is admitted again.
    bars.extend(long_v(et("2025-07-15 20:00"), 5700.0, 6.0, 2));
    write_nt(&p.path("bars.txt"), &bars);
    let out = p.vrev(&["replay", "bars.txt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let journal = p.journal();
    let limit: Vec<&serde_json::Value> = journal
        .iter()
        .filter(|e| e["reason"] == "daily_limit")
        .collect();
    assert_eq!(limit.len(), 2, "the 21st and 22nd of the day");
    assert!(limit[0]["detail"]
        .as_str()
        .unwrap()
        .contains("20 signals already admitted today"));
    // The ID carries the ET calendar date; the 20:00 V is on the 15th but in trading day 16.
    assert_eq!(p.signal_files().len(), 21);
    assert!(
        p.signal_files()
            .iter()
            .any(|f| f.contains("_20250715_200000_")),
        "the evening V belongs to the next trading day"
    );
}

#[test]
fn broken_scripts_are_located_and_the_engine_keeps_going() {
    let p = Project::new();
    p.write(
        "strategies/broken.rhai",
        r#"fn on_bar(t, p) {
    let m = et_minute(t);
    if m == 13 * 60 + 50 { loop { } }
    if m == 13 * 60 + 52 { throw "boom"; }
    if m == 13 * 60 + 54 { let x = [] * 2; }
    if m == 13 * 60 + 56 { return high(t + 1); }
    if m == 13 * 60 + 58 { return #{ side: "BUY", anchor_a: 5000.0, anchor_b: 4990.0 }; }
}
"#,
    );
    let bars: Vec<_> = (0..30)
        .map(|k| {
            bar(
                et("2025-02-13 13:40") + 60 * k,
                5000.0,
                5001.0,
                4999.0,
                5000.5,
                10.0,
            )
        })
        .collect();
    write_nt(&p.path("bars.txt"), &bars);
    let broken = [
        "--set",
        "profile.production.strategy=strategies/broken.rhai",
        "--set",
        "profile.production.params={}",
    ];
    let out = p.vrev(&[&["replay", "bars.txt"][..], &broken].concat());
    // The engine kept going to the last bar; the run then ends loudly, non-zero.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("SCRIPT ERRORS: 4 bars got no signal because the script failed: first at strategies/broken.rhai:3:"),
        "{}",
        stderr(&out)
    );
    let errors: Vec<String> = p
        .journal()
        .iter()
        .filter(|e| e["event"] == "script_error")
        .map(|e| e["error"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(
        errors[0].contains("strategies/broken.rhai:3:") && errors[0].contains("runaway"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("strategies/broken.rhai:4:") && errors[1].contains("boom"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].contains("strategies/broken.rhai:5:"),
        "{}",
        errors[2]
    );
    assert!(
        errors[3].contains("strategies/broken.rhai:6:") && errors[3].contains("cannot look ahead"),
        "{}",
        errors[3]
    );
    assert!(stderr(&out).contains("strategies/broken.rhai:3:"));
    // Bars after the errors were still evaluated: the 13:58 proposal became a signal.
    assert_eq!(
        p.signal_files(),
        vec!["vreversal_20250213_135800_5000.00_4990.00.txt"]
    );

    p.write(
        "strategies/broken.rhai",
        "fn on_bar(t, p) {\n    let x = ;\n}\n",
    );
    let out = p.vrev(&[&["replay", "bars.txt"][..], &broken].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("strategies/broken.rhai:2:13"),
        "{}",
        stderr(&out)
    );
    let out = p.vrev(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("strategies/broken.rhai:2:13"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn bad_inputs_get_located_errors_and_a_nonzero_exit_without_panics() {
    let p = Project::new();
    p.write(
        "bars.txt",
        "20250213 135900;1;2;1;2;3\n20250213 140000;1;2;1;2\n",
    );
    p.write(
        "bad.toml",
        &std::fs::read_to_string(p.path("config.toml"))
            .unwrap()
            .replace("contracts = 3", "contracts = -3"),
    );
    p.write(
        "badkey.toml",
        &std::fs::read_to_string(p.path("config.toml"))
            .unwrap()
            .replacen("max_hold_minutes = 25", "max_hold = 25", 1),
    );
    p.write(
        "badparam.toml",
        &std::fs::read_to_string(p.path("config.toml"))
            .unwrap()
            .replace(
                "drop_threshold = 4.0, drop_window",
                "drop_treshold = 4.0, drop_window",
            ),
    );
    std::fs::create_dir_all(p.path("adir")).unwrap();
    // (arguments, expected fragment of the error)
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["replay", "bars.txt"],
            "bars.txt:2: missing field `volume`",
        ),
        (vec!["replay", "missing.txt"], "missing.txt: cannot read"),
        (vec!["replay", "adir"], "adir: cannot read"),
        (
            vec!["replay", "bars.txt", "--config", "bad.toml"],
            "bad.toml:",
        ),
        (
            vec!["replay", "bars.txt", "--config", "badkey.toml"],
            "badkey.toml:",
        ),
        (
            vec!["replay", "bars.txt", "--config", "badparam.toml"],
            "unknown parameter `drop_treshold`",
        ),
        (
            vec!["replay", "bars.txt", "--profile", "nope"],
            "--profile nope: unknown profile",
        ),
        (
            vec![
                "replay",
                "bars.txt",
                "--set",
                "profile.production.stop_pct=-1",
            ],
            "--set profile.production.stop_pct=-1",
        ),
        (
            vec!["replay", "bars.txt", "--tz", "Mars/Olympus"],
            "--tz Mars/Olympus: unknown time zone",
        ),
        (vec!["check", "badparam.toml"], "badparam.toml:"),
    ];
    for (args, want) in cases {
        let out = p.vrev(&args);
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
        assert!(text.contains(want), "{args:?}: want `{want}` in:\n{text}");
        assert!(!text.contains("panicked"), "{args:?}: {text}");
    }
    // Line and column for TOML errors, on the offending key.
    let out = p.vrev(&["check", "badkey.toml"]);
    let line = stdout(&out)
        .lines()
        .find(|l| l.contains("badkey.toml"))
        .unwrap()
        .to_string();
    let expected_line = std::fs::read_to_string(p.path("badkey.toml"))
        .unwrap()
        .lines()
        .position(|l| l.starts_with("max_hold ="))
        .unwrap()
        + 1;
    assert!(
        line.contains(&format!(
            "badkey.toml:{expected_line}:1: unknown field `max_hold`"
        )),
        "{line}"
    );
    let out = p.vrev(&["check", "badparam.toml"]);
    assert!(
        stdout(&out).contains("profile.production.params: unknown parameter `drop_treshold`"),
        "{}",
        stdout(&out)
    );
    // --skip-bad-lines reports the line and keeps the rest.
    let out = p.vrev(&["replay", "bars.txt", "--skip-bad-lines"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains("skipped bars.txt:2: missing field `volume`"));
}

#[test]
fn from_and_to_select_trading_days_and_gzip_csv_reads_like_the_export() {
    let p = Project::new();
    let mut bars = Vec::new();
    for (n, d) in ["2025-07-14", "2025-07-15", "2025-07-16"]
        .iter()
        .enumerate()
    {
        bars.extend(long_v(
            et(&format!("{d} 13:59")),
            6300.0 + 50.0 * n as f64,
            6.0,
            30,
        ));
    }
    // The same bars as a gzip CSV with UTC offsets.
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for b in &bars {
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            vrev::market::time::format_utc(b.close_time),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume
        ));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, csv.as_bytes()).unwrap();
    std::fs::write(p.path("bars.csv.gz"), gz.finish().unwrap()).unwrap();
    let out = p.vrev(&[
        "replay",
        "bars.csv.gz",
        "--from",
        "2025-07-15",
        "--to",
        "2025-07-15",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        p.signal_files(),
        vec!["vreversal_20250715_135900_6350.00_6344.00.txt"]
    );
    assert!(
        stdout(&out).contains("over 1 trading days (2025-07-15 .. 2025-07-15)"),
        "{}",
        stdout(&out)
    );
}
