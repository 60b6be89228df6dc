//! Host rules (DESIGN §6): the admission of a proposal, in the fixed order. The first rule that
//! fails names the rejection; the engine journals it. No rule lives anywhere else.

use crate::config::{Direction, Profile};
use crate::market::price::{bracket, round_stop, Bracket, Side};
use crate::strategy::Proposal;

/// Why a proposal was refused, in rule order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    Window,
    Direction,
    Confidence,
    Duplicate,
    DailyLimit,
    DailyLoss,
    OpenPositions,
    Stop,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Window => "window",
            RejectReason::Direction => "direction",
            RejectReason::Confidence => "confidence",
            RejectReason::Duplicate => "duplicate",
            RejectReason::DailyLimit => "daily_limit",
            RejectReason::DailyLoss => "daily_loss",
            RejectReason::OpenPositions => "open_positions",
            RejectReason::Stop => "stop",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    pub reason: RejectReason,
    pub detail: String,
}

fn reject(reason: RejectReason, detail: String) -> Result<Bracket, Rejection> {
    Err(Rejection { reason, detail })
}

/// Whether the ID has been emitted before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    Never,
    /// Emitted earlier in this run: a true duplicate.
    ThisRun,
    /// In the ledger from an earlier run (a restart replaying the same bars): not written again,
    /// but it still counts, exactly as in the uninterrupted run.
    EarlierRun,
}

/// Everything the rules look at besides the proposal.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    pub profile_name: &'a str,
    pub profile: &'a Profile,
    /// The profile's direction, narrowed by `--buy-only` / `--sell-only`.
    pub direction: Direction,
    /// Rule 1: the bar is inside a Mon–Fri window whose profile is this one.
    pub in_window: bool,
    pub window_note: &'a str,
    pub seen: Seen,
    /// Signals this profile admitted on the signal bar's trading day.
    pub admitted_today: u32,
    /// Net realized shadow P&L of trades that exited today (all profiles: one account).
    pub realized_today: f64,
    /// Open shadow trades, pending entries included (all profiles: one account).
    pub open_positions: usize,
    pub tick_size: f64,
}

/// `0.90` for 0.9, `0.701` for 0.701: two decimals unless that would hide a digit.
fn show_threshold(v: f64) -> String {
    let two = format!("{v:.2}");
    if two.parse::<f64>() == Ok(v) {
        two
    } else {
        v.to_string()
    }
}

/// Runs rules 1–8 in order. On success returns the stop and target (rule 8).
pub fn admit(p: &Proposal, cx: &Context) -> Result<Bracket, Rejection> {
    let prof = cx.profile;
    if !cx.in_window {
        return reject(
            RejectReason::Window,
            format!(
                "bar is outside every window of profile `{}` ({})",
                cx.profile_name, cx.window_note
            ),
        );
    }
    if !cx.direction.allows(p.side) {
        return reject(
            RejectReason::Direction,
            format!(
                "profile `{}` trades {:?}, not {}",
                cx.profile_name,
                cx.direction,
                p.side.as_str()
            )
            .to_lowercase(),
        );
    }
    if let Some(c) = p.confidence {
        // Exact (DESIGN §10a): c/100 is the double nearest the decimal c/100, exactly as the
        // config's `0.70` is the double nearest 0.70, so 70 passes 0.70 and fails 0.701.
        // Rounding the threshold to hundredths would let 0.70 pass 0.701.
        if (c as f64 / 100.0) < prof.min_confidence {
            return reject(
                RejectReason::Confidence,
                format!(
                    "confidence {}.{:02} < min_confidence {}",
                    c / 100,
                    c % 100,
                    show_threshold(prof.min_confidence)
                ),
            );
        }
    }
    if cx.seen == Seen::ThisRun {
        return reject(
            RejectReason::Duplicate,
            "this signal ID was already emitted".into(),
        );
    }
    if cx.admitted_today >= prof.max_daily_signals {
        return reject(
            RejectReason::DailyLimit,
            format!(
                "{} signals already admitted today (max_daily_signals {})",
                cx.admitted_today, prof.max_daily_signals
            ),
        );
    }
    if let Some(limit) = prof.max_daily_loss {
        if cx.realized_today <= -limit {
            return reject(
                RejectReason::DailyLoss,
                format!(
                    "today's realized P&L {:.2} has reached −max_daily_loss {:.2}",
                    cx.realized_today, limit
                ),
            );
        }
    }
    if cx.open_positions >= prof.max_open_positions as usize {
        return reject(
            RejectReason::OpenPositions,
            format!(
                "{} open position(s) (max_open_positions {})",
                cx.open_positions, prof.max_open_positions
            ),
        );
    }
    let Some(mut b) = bracket(
        p.side,
        p.entry,
        prof.stop_pct,
        prof.target_points,
        cx.tick_size,
    ) else {
        return reject(
            RejectReason::Stop,
            format!("cannot compute a stop from entry {}", p.entry),
        );
    };
    if let Some(tighter) = p.stop {
        let Some(s) = round_stop(p.side, tighter, cx.tick_size) else {
            return reject(
                RejectReason::Stop,
                format!("proposed stop {tighter} is not a number"),
            );
        };
        let wider = match p.side {
            Side::Buy => s < b.stop,
            Side::Sell => s > b.stop,
        };
        if wider {
            return reject(
                RejectReason::Stop,
                format!(
                    "proposed stop {s} is wider than the profile's {} (stop_pct {})",
                    b.stop, prof.stop_pct
                ),
            );
        }
        b.stop = s;
    }
    let ordered = match p.side {
        Side::Buy => b.stop < p.entry && p.entry < b.target,
        Side::Sell => b.target < p.entry && p.entry < b.stop,
    };
    if !ordered {
        return reject(
            RejectReason::Stop,
            format!(
                "stop {} / entry {} / target {} are not on the right sides for {}",
                b.stop,
                p.entry,
                b.target,
                p.side.as_str()
            ),
        );
    }
    Ok(b)
}

/// One rule's verdict on a proposal, for `vrev explain`.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleVerdict {
    pub rule: RejectReason,
    pub passed: bool,
    /// What the rule compared (passed) or why it refused.
    pub detail: String,
}

/// A proposal the engine put to the rules, with every rule's verdict (kept only when asked:
/// `EngineOptions::keep_rule_verdicts`, for `vrev explain`).
#[derive(Clone, Debug, PartialEq)]
pub struct Considered {
    /// Close of the signal bar, UTC seconds.
    pub bar_time: i64,
    pub signal_id: String,
    pub profile: String,
    /// The window of the signal bar (empty outside every window).
    pub window: String,
    pub proposal: Proposal,
    pub verdicts: Vec<RuleVerdict>,
    /// The stop and target rule 8 gives it (whatever the other rules say), if any.
    pub bracket: Option<Bracket>,
}

/// Rule 8 on its own: the stop and target [`admit`] would give `p` if every earlier rule
/// passed, or its refusal.
pub fn stop_and_target(p: &Proposal, cx: &Context) -> Result<Bracket, Rejection> {
    let unlimited = Profile {
        max_daily_signals: u32::MAX,
        max_daily_loss: None,
        max_open_positions: u32::MAX,
        ..cx.profile.clone()
    };
    let open = Context {
        profile: &unlimited,
        in_window: true,
        direction: crate::config::Direction::Both,
        seen: Seen::Never,
        admitted_today: 0,
        realized_today: 0.0,
        open_positions: 0,
        ..cx.clone()
    };
    let no_confidence = Proposal {
        confidence: None,
        ..p.clone()
    };
    admit(&no_confidence, &open)
}

/// Every rule's verdict on `p`, in the order of [`admit`], each judged on its own (a later rule
/// is judged even when an earlier one refuses): what a trader reads to see *all* that stood in
/// the way. The first refusal here is always [`admit`]'s rejection; `admit` stays the only
/// decision (tested below on many contexts).
pub fn every_rule(p: &Proposal, cx: &Context) -> Vec<RuleVerdict> {
    let prof = cx.profile;
    let verdict = |rule, passed, detail: String| RuleVerdict {
        rule,
        passed,
        detail,
    };
    let mut v = Vec::with_capacity(8);
    v.push(if cx.in_window {
        verdict(
            RejectReason::Window,
            true,
            format!(
                "the bar is inside a window of profile `{}`",
                cx.profile_name
            ),
        )
    } else {
        verdict(
            RejectReason::Window,
            false,
            format!(
                "bar is outside every window of profile `{}` ({})",
                cx.profile_name, cx.window_note
            ),
        )
    });
    let side_ok = cx.direction.allows(p.side);
    v.push(verdict(
        RejectReason::Direction,
        side_ok,
        format!(
            "profile `{}` trades {:?}{} {}",
            cx.profile_name,
            cx.direction,
            if side_ok { ", which includes" } else { ", not" },
            p.side.as_str()
        )
        .to_lowercase(),
    ));
    v.push(match p.confidence {
        None => verdict(RejectReason::Confidence, true, "no confidence given".into()),
        Some(c) => {
            let ok = (c as f64 / 100.0) >= prof.min_confidence;
            verdict(
                RejectReason::Confidence,
                ok,
                format!(
                    "confidence {}.{:02} {} min_confidence {}",
                    c / 100,
                    c % 100,
                    if ok { ">=" } else { "<" },
                    show_threshold(prof.min_confidence)
                ),
            )
        }
    });
    v.push(match cx.seen {
        Seen::ThisRun => verdict(
            RejectReason::Duplicate,
            false,
            "this signal ID was already emitted".into(),
        ),
        Seen::EarlierRun => verdict(
            RejectReason::Duplicate,
            true,
            "emitted before this run (ledger): not written again, but counted".into(),
        ),
        Seen::Never => verdict(RejectReason::Duplicate, true, "a new signal ID".into()),
    });
    let limit_ok = cx.admitted_today < prof.max_daily_signals;
    v.push(verdict(
        RejectReason::DailyLimit,
        limit_ok,
        format!(
            "{} signals already admitted today (max_daily_signals {})",
            cx.admitted_today, prof.max_daily_signals
        ),
    ));
    v.push(match prof.max_daily_loss {
        None => verdict(
            RejectReason::DailyLoss,
            true,
            format!(
                "today's realized P&L {:.2}; no max_daily_loss",
                cx.realized_today
            ),
        ),
        Some(limit) => {
            let ok = cx.realized_today > -limit;
            verdict(
                RejectReason::DailyLoss,
                ok,
                format!(
                    "today's realized P&L {:.2} {} −max_daily_loss {:.2}",
                    cx.realized_today,
                    if ok { "is above" } else { "has reached" },
                    limit
                ),
            )
        }
    });
    let open_ok = cx.open_positions < prof.max_open_positions as usize;
    v.push(verdict(
        RejectReason::OpenPositions,
        open_ok,
        format!(
            "{} open position(s) (max_open_positions {})",
            cx.open_positions, prof.max_open_positions
        ),
    ));
    v.push(match stop_and_target(p, cx) {
        Ok(b) => verdict(
            RejectReason::Stop,
            true,
            format!("stop {} / entry {} / target {}", b.stop, p.entry, b.target),
        ),
        Err(r) => verdict(RejectReason::Stop, false, r.detail),
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Profile;

    fn profile() -> Profile {
        Profile {
            strategy: "builtin:vreversal".into(),
            direction: Direction::Long,
            contracts: 3,
            stop_pct: 0.1,
            target_points: 3.0,
            max_hold_minutes: 25,
            max_daily_signals: 20,
            min_confidence: 0.70,
            max_open_positions: 1,
            max_daily_loss: Some(500.0),
            signal_prefix: "vreversal_".into(),
            params: Default::default(),
        }
    }
    fn proposal(side: Side, conf: Option<u32>) -> Proposal {
        Proposal {
            side,
            entry: 4125.0,
            anchor_a: 4130.0,
            anchor_b: 4120.0,
            confidence: conf,
            stop: None,
            pattern: None,
            extra: vec![],
        }
    }

    /// Every rule open: in a window, nothing emitted, no count, no loss, no position.
    fn open_context(prof: &Profile) -> Context<'_> {
        Context {
            profile_name: "production",
            profile: prof,
            direction: Direction::Long,
            in_window: true,
            window_note: "",
            seen: Seen::Never,
            admitted_today: 0,
            realized_today: 0.0,
            open_positions: 0,
            tick_size: 0.25,
        }
    }

    #[test]
    fn min_confidence_is_compared_exactly_not_rounded_to_hundredths() {
        // (min_confidence, proposal's confidence in hundredths, admitted)
        let cases = [
            (0.70, 70, true),
            (0.701, 70, false),
            (0.701, 71, true),
            (0.699, 70, true),
            (0.0, 0, true),
            (1.0, 100, true),
            (1.0, 99, false),
            (0.29, 29, true),
            (0.57, 57, true),
            (0.58, 57, false),
        ];
        for (min, conf, admitted) in cases {
            let prof = Profile {
                min_confidence: min,
                ..profile()
            };
            let got = admit(&proposal(Side::Buy, Some(conf)), &open_context(&prof));
            assert_eq!(
                got.is_ok(),
                admitted,
                "min {min}, confidence {conf}: {got:?}"
            );
        }
    }

    #[test]
    fn rules_in_order_with_their_reasons() {
        let prof = profile();
        let base = open_context(&prof);
        let p = proposal(Side::Buy, Some(70));
        assert_eq!(
            admit(&p, &base).unwrap(),
            Bracket {
                stop: 4120.75,
                target: 4128.0
            }
        );
        // (what changes, expected reason) — each case also breaks every later rule, so the
        // first failing rule must be the one reported.
        let everything_bad = Context {
            seen: Seen::ThisRun,
            admitted_today: 20,
            realized_today: -500.0,
            open_positions: 1,
            ..base.clone()
        };
        let cases: Vec<(Context, Proposal, RejectReason)> = vec![
            (
                Context {
                    in_window: false,
                    ..everything_bad.clone()
                },
                proposal(Side::Sell, Some(10)),
                RejectReason::Window,
            ),
            (
                everything_bad.clone(),
                proposal(Side::Sell, Some(10)),
                RejectReason::Direction,
            ),
            (
                everything_bad.clone(),
                proposal(Side::Buy, Some(69)),
                RejectReason::Confidence,
            ),
            (
                everything_bad.clone(),
                proposal(Side::Buy, Some(70)),
                RejectReason::Duplicate,
            ),
            (
                Context {
                    seen: Seen::EarlierRun,
                    ..everything_bad.clone()
                },
                p.clone(),
                RejectReason::DailyLimit,
            ),
            (
                Context {
                    admitted_today: 19,
                    ..everything_bad.clone()
                }
                .with_seen(Seen::Never),
                p.clone(),
                RejectReason::DailyLoss,
            ),
            (
                Context {
                    realized_today: -499.75,
                    ..base.clone()
                }
                .with_open(1),
                p.clone(),
                RejectReason::OpenPositions,
            ),
            (
                base.clone(),
                Proposal {
                    stop: Some(4110.0),
                    ..p.clone()
                },
                RejectReason::Stop,
            ),
        ];
        for (cx, prop, reason) in cases {
            assert_eq!(admit(&prop, &cx).unwrap_err().reason, reason);
        }
        // A tighter stop is kept (rounded to the tick); no confidence given is not a rejection.
        assert_eq!(
            admit(
                &Proposal {
                    stop: Some(4122.1),
                    ..p.clone()
                },
                &base
            )
            .unwrap()
            .stop,
            4122.0
        );
        assert!(admit(&proposal(Side::Buy, None), &base).is_ok());
    }

    #[test]
    fn every_rule_agrees_with_admit_and_judges_each_rule_on_its_own() {
        let prof = profile();
        let mut rng = crate::market::synth::Rng::new(7);
        let mut refusals = 0;
        for _ in 0..5000 {
            let cx = Context {
                in_window: rng.range(0, 5) > 0,
                direction: [Direction::Long, Direction::Short, Direction::Both]
                    [rng.range(0, 2) as usize],
                seen: [Seen::Never, Seen::ThisRun, Seen::EarlierRun][rng.range(0, 2) as usize],
                admitted_today: rng.range(18, 21) as u32,
                realized_today: -(rng.range(0, 3) as f64) * 250.0,
                open_positions: rng.range(0, 1) as usize,
                ..open_context(&prof)
            };
            let p = Proposal {
                side: if rng.range(0, 1) == 0 {
                    Side::Buy
                } else {
                    Side::Sell
                },
                stop: [None, Some(4110.0), Some(4122.1), Some(4130.0)][rng.range(0, 3) as usize],
                ..proposal(
                    Side::Buy,
                    [None, Some(60), Some(70), Some(95)][rng.range(0, 3) as usize],
                )
            };
            let all = every_rule(&p, &cx);
            assert_eq!(all.len(), 8);
            let order: Vec<RejectReason> = all.iter().map(|v| v.rule).collect();
            assert_eq!(
                order,
                [
                    RejectReason::Window,
                    RejectReason::Direction,
                    RejectReason::Confidence,
                    RejectReason::Duplicate,
                    RejectReason::DailyLimit,
                    RejectReason::DailyLoss,
                    RejectReason::OpenPositions,
                    RejectReason::Stop
                ]
            );
            let first = all.iter().find(|v| !v.passed);
            match admit(&p, &cx) {
                Ok(_) => assert!(first.is_none(), "{cx:?} {p:?}: {all:?}"),
                Err(r) => {
                    refusals += 1;
                    let f = first.unwrap_or_else(|| panic!("{cx:?} {p:?}: admit refused {r:?}"));
                    assert_eq!((f.rule, &f.detail), (r.reason, &r.detail), "{cx:?} {p:?}");
                }
            }
        }
        assert!(refusals > 1000 && refusals < 5000, "{refusals}");
        // A refusal by an early rule does not hide the later ones.
        let prof = profile();
        let cx = Context {
            in_window: false,
            open_positions: 1,
            ..open_context(&prof)
        };
        let all = every_rule(&proposal(Side::Buy, Some(70)), &cx);
        let refused: Vec<&str> = all
            .iter()
            .filter(|v| !v.passed)
            .map(|v| v.rule.as_str())
            .collect();
        assert_eq!(refused, ["window", "open_positions"]);
    }

    impl<'a> Context<'a> {
        fn with_seen(self, seen: Seen) -> Self {
            Context { seen, ..self }
        }
        fn with_open(self, open_positions: usize) -> Self {
            Context {
                open_positions,
                ..self
            }
        }
    }
}
