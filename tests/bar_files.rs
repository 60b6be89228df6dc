//! Bar files as traders have them (issue 13): CSV read by column name in the common layouts, the
//! older Python client's CSV detected, tick rows skipped and counted. The same day of bars in
//! every layout must give exactly the signal files of the NinjaTrader export.

mod common;
use chrono::{DateTime, Utc};
use common::*;
use vrev::market::bar::Bar;
use vrev::market::time::MarketClock;

/// One synthetic trading day (three signals) as a NinjaTrader export, and its bars.
fn day(p: &Project) -> Vec<Bar> {
    let o = p.vrev(&["synth", "--out", "bars.txt", "--days", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    vrev::market::barfile::read_file(
        &p.path("bars.txt"),
        &vrev::market::barfile::ReadOptions::default(),
    )
    .unwrap()
    .bars
}

fn utc(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap()
}

/// ET wall time of a close.
fn et_wall(t: i64) -> chrono::NaiveDateTime {
    let s = MarketClock::exchange().stamp(t);
    s.date
        .and_hms_opt(s.minute_of_day / 60, s.minute_of_day % 60, s.second)
        .unwrap()
}

/// Replays `file` into its own state and signal folders; returns (signal file name, content)
/// pairs, and stdout.
fn replay(p: &Project, file: &str, extra: &[&str]) -> (Vec<(String, String)>, String) {
    let sig = format!("sig-{file}");
    let st = format!("st-{file}");
    let mut args = vec![
        "replay",
        file,
        "--signals",
        &sig,
        "--state",
        &st,
        "--journal",
        "j.jsonl",
    ];
    args.extend_from_slice(extra);
    let o = p.vrev(&args);
    assert!(o.status.success(), "{file}: {}", stderr(&o));
    let mut files: Vec<(String, String)> = std::fs::read_dir(p.path(&sig))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != SIGNALS_LOCK)
        .map(|e| {
            let e = e.unwrap();
            let text = std::fs::read_to_string(e.path()).unwrap();
            (e.file_name().into_string().unwrap(), text)
        })
        .collect();
    files.sort();
    (files, stdout(&o))
}

#[test]
fn every_common_csv_layout_gives_the_signals_of_the_ninjatrader_export() {
    let p = Project::new();
    let bars = day(&p);
    let (want, _) = replay(&p, "bars.txt", &[]);
    assert_eq!(want.len(), 3);

    type Layout = (&'static str, &'static str, fn(&Bar) -> String);
    let layouts: [Layout; 8] = [
        ("iso_z.csv", "timestamp,open,high,low,close,volume", |b| {
            format!(
                "{},{},{},{},{},{}",
                utc(b.close_time).format("%Y-%m-%dT%H:%M:%SZ"),
                b.open,
                b.high,
                b.low,
                b.close,
                b.volume
            )
        }),
        (
            "space_offset.csv",
            "Timestamp,Open,High,Low,Close,Volume",
            |b| {
                let w = et_wall(b.close_time);
                let off = (w.and_utc().timestamp() - b.close_time) / 3600;
                format!(
                    "{}{:+03}:00,{},{},{},{},{}",
                    w.format("%Y-%m-%d %H:%M:%S"),
                    off,
                    b.open,
                    b.high,
                    b.low,
                    b.close,
                    b.volume
                )
            },
        ),
        (
            "fraction_naive.csv",
            "datetime,open,high,low,close,volume",
            |b| {
                format!(
                    "{}.000,{},{},{},{},{}",
                    et_wall(b.close_time).format("%Y-%m-%dT%H:%M:%S"),
                    b.open,
                    b.high,
                    b.low,
                    b.close,
                    b.volume
                )
            },
        ),
        (
            "date_time_hhmm.csv",
            "Date,Time,Open,High,Low,Close,Volume",
            |b| {
                let w = et_wall(b.close_time);
                format!(
                    "{},{},{},{},{},{},{}",
                    w.format("%Y-%m-%d"),
                    w.format("%H:%M"),
                    b.open,
                    b.high,
                    b.low,
                    b.close,
                    b.volume
                )
            },
        ),
        (
            "date_time_hhmmss.csv",
            "Date,Time,Open,High,Low,Close,Volume",
            |b| {
                let w = et_wall(b.close_time);
                format!(
                    "{},{},{},{},{},{},{}",
                    w.format("%Y-%m-%d"),
                    w.format("%H:%M:%S"),
                    b.open,
                    b.high,
                    b.low,
                    b.close,
                    b.volume
                )
            },
        ),
        ("us_date.csv", "Date,Time,Open,High,Low,Close,Volume", |b| {
            let w = et_wall(b.close_time);
            format!(
                "{},{},{},{},{},{},{}",
                w.format("%m/%d/%Y"),
                w.format("%H:%M"),
                b.open,
                b.high,
                b.low,
                b.close,
                b.volume
            )
        }),
        // Any order, extra columns ignored, quoted fields, CRLF line ends.
        (
            "reordered_extra.csv",
            "symbol,Volume,Close,Low,High,Open,TIME,Date,OpenInterest",
            |b| {
                let w = et_wall(b.close_time);
                format!(
                    "\"ES 03-25\",{},{},{},{},{},{},{},17\r",
                    b.volume,
                    b.close,
                    b.low,
                    b.high,
                    b.open,
                    w.format("%H:%M:%S"),
                    w.format("%Y-%m-%d")
                )
            },
        ),
        (
            "vrev_record.csv",
            "timestamp,open,high,low,close,volume",
            |b| {
                format!(
                    "{},{},{},{},{},{}",
                    utc(b.close_time).format("%Y-%m-%dT%H:%M:%S+00:00"),
                    b.open,
                    b.high,
                    b.low,
                    b.close,
                    b.volume
                )
            },
        ),
    ];
    for (name, header, row) in layouts {
        let mut text = format!("{header}\n");
        for b in &bars {
            text.push_str(&row(b));
            text.push('\n');
        }
        p.write(name, &text);
        let (got, out) = replay(&p, name, &[]);
        assert_eq!(got, want, "{name}: {out}");
        assert!(
            out.contains(&format!("bars: {}", bars.len())),
            "{name}: {out}"
        );
        assert!(
            !out.contains("file rows:"),
            "{name}: nothing re-sorted or skipped: {out}"
        );
    }
}

#[test]
fn csv_errors_name_the_file_the_line_and_the_column() {
    let p = Project::new();
    let cases = [
        (
            "Date,Time,Open,High,Low,Close,Volume\n2025-02-13,13:58,1,2,1,2,3\n2025-02-13,13:59,1,x,1,2,3\n",
            "bad.csv:3: `high` is not a number: `x`",
        ),
        (
            "timestamp,open,high,low,close\n2025-02-13T18:59:00Z,1,2,1,2\n",
            "bad.csv:1: CSV header has no `volume` column; found `timestamp,open,high,low,close`",
        ),
        (
            "symbol,open,high,low,close,volume\nES,1,2,1,2,3\n",
            "bad.csv:1: CSV header has no time column",
        ),
        (
            "Date,Time,Open,High,Low,Close,Volume\n2025-02-31,13:59,1,2,1,2,3\n",
            "bad.csv:2: date `2025-02-31` is not",
        ),
        (
            "timestamp,open,high,low,close,volume\n2025-02-13T18:59:00Z,1,2,1,2,3\n2025-02-13T19:00:00Z,1,2,1\n",
            "bad.csv:3: missing field `close`",
        ),
        ("hello;world\n", "bad.csv:1: unknown bar file format"),
    ];
    for (text, want) in cases {
        p.write("bad.csv", text);
        let o = p.vrev(&["replay", "bad.csv"]);
        assert_eq!(o.status.code(), Some(1), "{want}");
        assert!(stderr(&o).contains(want), "want `{want}` in {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"));
    }
}

/// The older Python client's CSV: ET wall time marked `+00:00`, tick rows among the bars, rows
/// in arrival order (a late bar after the next one).
fn python_client_csv(bars: &[Bar]) -> (String, usize) {
    let mut text = String::from("timestamp,open,high,low,close,volume\n");
    let mut ticks = 0;
    let row = |b: &Bar| {
        format!(
            "{}+00:00,{},{},{},{},{}\n",
            et_wall(b.close_time).format("%Y-%m-%d %H:%M:%S"),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume
        )
    };
    let mut k = 0;
    while k < bars.len() {
        let b = &bars[k];
        if k % 100 == 50 && k + 1 < bars.len() {
            // Arrival order: the next bar came first.
            text.push_str(&row(&bars[k + 1]));
            text.push_str(&row(b));
            k += 2;
            continue;
        }
        text.push_str(&row(b));
        if k % 200 == 7 {
            // A trade between two bars: a price without OHLC, and a row at :12 seconds.
            let w = et_wall(b.close_time) + chrono::Duration::seconds(12);
            text.push_str(&format!("{}+00:00,,,,,2\n", w.format("%Y-%m-%d %H:%M:%S")));
            text.push_str(&format!(
                "{}+00:00,{},{},{},{},1\n",
                w.format("%Y-%m-%d %H:%M:%S"),
                b.close,
                b.close,
                b.close,
                b.close
            ));
            ticks += 2;
        }
        k += 1;
    }
    (text, ticks)
}

#[test]
fn the_older_python_clients_csv_is_refused_with_the_fix_then_read_both_ways() {
    let p = Project::new();
    let bars = day(&p);
    let (want, _) = replay(&p, "bars.txt", &[]);
    let (text, ticks) = python_client_csv(&bars);
    assert!(ticks > 0);
    p.write("client.csv", &text);

    // Without a word on its offsets: refused at its first row, both fixes named.
    let o = p.vrev(&["replay", "client.csv"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("client.csv:2: "), "{err}");
    assert!(err.contains("older vrev Python client"), "{err}");
    assert!(err.contains("--ignore-offset"), "{err}");
    assert!(err.contains("--exact-offset"), "{err}");
    let o = p.vrev(&["backtest", "client.csv"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--ignore-offset"), "{}", stderr(&o));

    // --ignore-offset: New York time, the signals of the export; ticks and re-sorts counted.
    let (got, out) = replay(&p, "client.csv", &["--ignore-offset"]);
    assert_eq!(got, want, "{out}");
    let reordered = bars.len().div_ceil(100);
    let note = format!(
        "file rows: {reordered} out of time order (re-sorted), 0 repeating an earlier close time (dropped), {ticks} tick rows, not one-minute bars (skipped)"
    );
    assert!(out.contains(&note), "want `{note}` in {out}");
    let o = p.vrev(&["backtest", "client.csv", "--ignore-offset"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains(&note), "{}", stderr(&o));

    // --exact-offset: taken as UTC, every bar 5 hours earlier in ET.
    let o = p.vrev(&[
        "replay",
        "client.csv",
        "--exact-offset",
        "--signals",
        "sig-x",
        "--state",
        "st-x",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let first = MarketClock::exchange().stamp(bars[0].close_time);
    let shifted = MarketClock::exchange().stamp(bars[0].close_time - 5 * 3600);
    let out = stdout(&o);
    assert!(
        out.contains(&format!("({} ..", shifted.trading_day))
            || first.trading_day == shifted.trading_day,
        "{out}"
    );
    let jx: Vec<String> = std::fs::read_dir(p.path("sig-x"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != SIGNALS_LOCK)
        .collect();
    let names: Vec<&String> = want.iter().map(|(n, _)| n).collect();
    assert!(
        jx.iter().all(|n| !names.contains(&n)),
        "5 h off: other signal IDs, {jx:?}"
    );
}

#[test]
fn a_file_of_ticks_only_says_so() {
    let p = Project::new();
    p.write(
        "ticks.csv",
        "timestamp,price,volume,open,high,low,close\n2025-02-13T18:59:12Z,6100.25,1,,,,\n2025-02-13T18:59:13Z,6100.5,2,,,,\n",
    );
    let o = p.vrev(&["replay", "ticks.csv"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "ticks.csv: no bars found: all 2 data rows are tick rows (no open/high/low/close)"
        ),
        "{}",
        stderr(&o)
    );
}

/// Issue 19: `vrev replay /dev/zero` spun forever without a word; a FIFO blocked in `open`.
#[cfg(unix)]
#[test]
fn replay_of_dev_zero_or_a_fifo_is_refused_at_once() {
    let p = Project::new();
    let fifo = p.path("bars.fifo");
    let have_fifo = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    let mut inputs = vec![("/dev/zero".to_string(), "a device")];
    if have_fifo {
        inputs.push((fifo.display().to_string(), "a FIFO"));
    }
    for (input, kind) in inputs {
        for cmd in ["replay", "backtest"] {
            let started = std::time::Instant::now();
            let o = p.vrev(&[cmd, &input]);
            assert!(!o.status.success(), "{cmd} {input}");
            let err = stderr(&o);
            assert!(
                err.contains(&input) && err.contains(kind) && err.contains("regular files"),
                "{cmd} {input}: {err}"
            );
            assert!(started.elapsed() < std::time::Duration::from_secs(30));
        }
    }
    // A config or a script that is not a regular file: the same rule.
    let o = p.vrev(&["check", "--config", "/dev/zero"]);
    assert!(!o.status.success());
    let said = format!("{}{}", stdout(&o), stderr(&o));
    assert!(said.contains("/dev/zero: cannot read: a device"), "{said}");
}
