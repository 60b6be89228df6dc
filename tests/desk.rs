//! The live desk (issue 21) with the real binary: the kill switch file and `vrev halt` /
//! `vrev resume`, and `vrev reconcile` of a hand-made trade log against a real replay's journal.

mod common;
use common::*;

fn one_day_of_bars(p: &Project) {
    let o = p.vrev(&["synth", "--out", "bars.txt", "--days", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn events<'a>(j: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    j.iter().filter(|e| e["event"] == kind).collect()
}

#[test]
fn halt_refuses_every_new_entry_as_kill_switch_and_resume_admits_them_again() {
    let p = Project::new();
    one_day_of_bars(&p);
    let h = p.vrev(&["halt"]);
    assert!(h.status.success(), "{}", stderr(&h));
    assert!(stdout(&h).contains("kill switch ON"), "{}", stdout(&h));
    assert!(p.path("state/HALT").exists());

    let o = p.vrev(&["replay", "bars.txt"]);
    assert!(
        o.status.success(),
        "not the fault state: exit 0\n{}",
        stderr(&o)
    );
    let out = stdout(&o);
    assert!(p.signal_files().is_empty(), "{out}");
    assert!(out.contains("kill_switch"), "{out}");
    let j = p.journal();
    let on = events(&j, "kill_switch");
    assert_eq!(on.len(), 1, "journaled once, at start");
    assert_eq!(on[0]["on"], true);
    assert!(on[0]["detail"].as_str().unwrap().contains("vrev halt"));
    let refused: Vec<_> = events(&j, "rejected")
        .into_iter()
        .filter(|e| e["reason"] == "kill_switch")
        .collect();
    assert!(!refused.is_empty());
    assert!(events(&j, "signal").is_empty());
    assert!(events(&j, "halted").is_empty(), "not the fault state");

    let r = p.vrev(&["resume"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(stdout(&r).contains("kill switch off"), "{}", stdout(&r));
    assert!(!p.path("state/HALT").exists());
    let again = p.vrev(&["resume"]);
    assert!(stdout(&again).contains("was not on"), "{}", stdout(&again));

    let o = p.vrev(&["replay", "bars.txt", "--fresh"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(p.signal_files().len(), 3, "{}", stdout(&o));
    // Each kill_switch refusal was a signal the free run writes.
    assert!(refused.len() >= 3, "{}", refused.len());
}

#[test]
fn halt_and_resume_respect_the_state_folder() {
    let p = Project::new();
    let h = p.vrev(&["halt", "--state", "other"]);
    assert!(h.status.success(), "{}", stderr(&h));
    assert!(p.path("other/HALT").exists());
    assert!(!p.path("state/HALT").exists());
    // A config whose state folder is elsewhere.
    let cfg = std::fs::read_to_string(p.path("config.toml"))
        .unwrap()
        .replace("state_dir = \"state\"", "state_dir = \"st3\"");
    p.write("c2.toml", &cfg);
    let h = p.vrev(&["halt", "--config", "c2.toml"]);
    assert!(h.status.success(), "{}", stderr(&h));
    assert!(p.path("st3/HALT").exists());
    let r = p.vrev(&["resume", "--state", "other"]);
    assert!(r.status.success());
    assert!(!p.path("other/HALT").exists());
    assert!(p.path("st3/HALT").exists());
    // A broken config is named.
    p.write("bad.toml", "[engine]\nstate_dir = 3\n");
    let b = p.vrev(&["halt", "--config", "bad.toml"]);
    assert!(!b.status.success());
    assert!(stderr(&b).contains("bad.toml:2:"), "{}", stderr(&b));
}

/// A replay's signals and shadow trades, as (signal_id, side, shadow entry, shadow exit, reason,
/// stop, target).
struct Shadow {
    id: String,
    side: String,
    entry: f64,
    exit: f64,
    reason: String,
}

fn replay_shadows(p: &Project) -> Vec<Shadow> {
    one_day_of_bars(p);
    let o = p.vrev(&["replay", "bars.txt"]);
    assert!(o.status.success(), "{}", stderr(&o));
    events(&p.journal(), "trade_closed")
        .into_iter()
        .map(|e| Shadow {
            id: e["signal_id"].as_str().unwrap().into(),
            side: e["side"].as_str().unwrap().into(),
            entry: e["entry"].as_f64().unwrap(),
            exit: e["exit"].as_f64().unwrap(),
            reason: e["reason"].as_str().unwrap().into(),
        })
        .collect()
}

const HEADER: &str =
    "signal_id,side,quantity,entry_time_utc,entry_price,exit_time_utc,exit_price,exit_reason,points,pnl";

fn line(id: &str, side: &str, entry: f64, exit: f64, reason: &str) -> String {
    let sign = if side == "BUY" { 1.0 } else { -1.0 };
    let points = sign * (exit - entry);
    format!(
        "{id},{side},3,2025-02-10T15:00:00Z,{entry:.2},2025-02-10T15:10:00Z,{exit:.2},{reason},{points:.2},{:.2}",
        points * 3.0 * 50.0
    )
}

#[test]
fn reconcile_shows_the_configured_slippage_for_fills_as_modelled_and_finds_missing_and_extra_trades(
) {
    let p = Project::new();
    let shadows = replay_shadows(&p);
    assert!(shadows.len() >= 3, "the synthetic day closes three trades");
    let (a, b) = (&shadows[0], &shadows[1]);
    let tick = 0.25;
    let sign = |s: &Shadow| if s.side == "BUY" { 1.0 } else { -1.0 };
    // a: filled exactly as modelled. b: 2 ticks worse on entry than the model's fill (3 against
    // the raw open), exit 1 tick worse than the model's, and a stop_gap on the live side where
    // the shadow says... whatever it says (reason compared after stop_gap → stop).
    let b_exit = b.exit - sign(b) * tick;
    let csv = [
        HEADER.to_string(),
        line(&a.id, &a.side, a.entry, a.exit, &a.reason),
        line(
            &b.id,
            &b.side,
            b.entry + sign(b) * 2.0 * tick,
            b_exit,
            "stop_gap",
        ),
        line("20250210_100000_1.00_2.00", "BUY", 6000.0, 6001.0, "target"),
    ]
    .join("\n")
        + "\n";
    p.write("nt/trades_Sim101.csv", &csv);
    let c = &shadows[2];
    p.write(
        "nt/processed_Sim101.txt",
        &format!("{}\tprice_moved\t2025-02-10\t2025-02-10T15:00:00Z\n", c.id),
    );
    let o = p.vrev(&[
        "reconcile",
        "--trades",
        "nt/trades_Sim101.csv",
        "--report",
        "rep",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("reconcile: 2 real trade(s) matched"), "{out}");
    assert!(out.contains("1 trade(s) without a vrev signal"), "{out}");
    assert!(
        out.contains(&format!("{}  auto-trader: price_moved", c.id))
            || out.contains("auto-trader: price_moved"),
        "{out}"
    );
    assert!(out.contains("20250210_100000_1.00_2.00"), "{out}");

    let report = std::fs::read_to_string(p.path("rep/reconcile.csv")).unwrap();
    assert!(report.starts_with("# vrev: "), "{report}");
    assert!(
        report.contains("# trades: nt/trades_Sim101.csv @"),
        "{report}"
    );
    let rows: Vec<Vec<String>> = report
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    let row = |id: &str| rows.iter().find(|r| r[1] == id).unwrap().clone();
    let ra = row(&a.id);
    assert_eq!(ra[0], "matched");
    assert_eq!(ra[6], "1", "entry as modelled: the configured 1 tick");
    let modelled_exit = if a.reason == "target" { "0" } else { "1" };
    assert_eq!(ra[9], modelled_exit, "exit as modelled ({})", a.reason);
    assert_eq!(ra[12], "false");
    let rb = row(&b.id);
    assert_eq!(rb[6], "3", "2 ticks worse than the model's fill");
    let want_b_exit = if b.reason == "target" { "1" } else { "2" };
    assert_eq!(
        rb[9], want_b_exit,
        "1 tick worse than the model ({})",
        b.reason
    );
    let b_stop = b.reason == "stop" || b.reason == "stop_gap";
    assert_eq!(rb[12], (!b_stop).to_string(), "stop_gap counts as stop");
    let rc = row(&c.id);
    assert_eq!(rc[0], "never_traded");
    assert_eq!(rc[15], "price_moved");
    assert_eq!(row("20250210_100000_1.00_2.00")[0], "no_signal");
    let html = std::fs::read_to_string(p.path("rep/reconcile.html")).unwrap();
    assert!(
        html.contains("nt/trades_Sim101.csv @"),
        "identity in the page"
    );
}

#[test]
fn reconcile_names_the_place_of_a_bad_trade_line() {
    let p = Project::new();
    p.write("state/journal.jsonl", "");
    p.write(
        "trades_Sim101.csv",
        &format!("{HEADER}\nX,BUY,3,t,6000.00,t,abc,target,0,0\n"),
    );
    let o = p.vrev(&["reconcile", "--trades", "trades_Sim101.csv"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("trades_Sim101.csv:2: exit_price `abc` is not a number"),
        "{}",
        stderr(&o)
    );
    p.write("trades_Sim101.csv", "signal_id,side\n");
    let o = p.vrev(&["reconcile", "--trades", "trades_Sim101.csv"]);
    assert!(
        stderr(&o).contains("trades_Sim101.csv:1: no `quantity` column"),
        "{}",
        stderr(&o)
    );
    p.write("trades_Sim101.csv", &format!("{HEADER}\n"));
    p.write("state/journal.jsonl", "{\"event\":\"signal\"\n{}\n");
    let o = p.vrev(&["reconcile", "--trades", "trades_Sim101.csv"]);
    assert!(
        stderr(&o).contains("journal.jsonl:1: not a journal line"),
        "{}",
        stderr(&o)
    );
}
