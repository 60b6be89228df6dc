//! Host rules (DESIGN §6): the admission of a proposal, in the fixed order. The first rule that
//! fails names the rejection; the engine journals it. No rule lives anywhere else.

use crate::config::{Direction, Profile};
use crate::market::price::{bracket, to_decimal, Side};
use crate::strategy::Proposal;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

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
    /// Rule 8 could not compute a stop at all (an entry that is not a price).
    Stop,
    /// Rule 8, the trade plan: the signal bar is at or after the profile's `flat_by`.
    FlatBy,
    /// The stop is not below a BUY's entry (above a SELL's).
    StopWrongSide,
    /// The stop is farther from the entry than `max_stop_points` (or, without it, than the
    /// profile's `stop_pct` stop).
    StopTooWide,
    /// The target is not above a BUY's entry (below a SELL's).
    TargetWrongSide,
    /// Target distance / stop distance is below `min_reward_risk`.
    RewardRisk,
    /// More contracts than `max_contracts`, or more dollars at risk than `max_risk`.
    RiskTooLarge,
    /// The size came to zero contracts (risk sizing with a stop too wide for the risk).
    SizeZero,
}

impl RejectReason {
    /// Every reason, in rule order.
    pub const ALL: [RejectReason; 15] = [
        RejectReason::Window,
        RejectReason::Direction,
        RejectReason::Confidence,
        RejectReason::Duplicate,
        RejectReason::DailyLimit,
        RejectReason::DailyLoss,
        RejectReason::OpenPositions,
        RejectReason::Stop,
        RejectReason::FlatBy,
        RejectReason::StopWrongSide,
        RejectReason::StopTooWide,
        RejectReason::TargetWrongSide,
        RejectReason::RewardRisk,
        RejectReason::RiskTooLarge,
        RejectReason::SizeZero,
    ];

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
            RejectReason::FlatBy => "flat_by",
            RejectReason::StopWrongSide => "stop_wrong_side",
            RejectReason::StopTooWide => "stop_too_wide",
            RejectReason::TargetWrongSide => "target_wrong_side",
            RejectReason::RewardRisk => "reward_risk",
            RejectReason::RiskTooLarge => "risk_too_large",
            RejectReason::SizeZero => "size_zero",
        }
    }

    /// Refusals of rule 8 (the trade plan): `stop` and every reason after it.
    pub fn is_plan(self) -> bool {
        Self::ALL[7..].contains(&self)
    }
}

/// What rule 8 gives an admitted proposal: its whole trade plan, on the tick grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    pub stop: f64,
    pub target: f64,
    pub contracts: u32,
    /// Points beyond the entry fill a close must reach to move the stop to the entry fill.
    pub breakeven_points: Option<f64>,
    /// Points the stop trails behind the best close since entry.
    pub trail_points: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    pub reason: RejectReason,
    pub detail: String,
}

fn reject<T>(reason: RejectReason, detail: String) -> Result<T, Rejection> {
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
    /// Dollars per point per contract (risk sizing, `max_risk`).
    pub point_value: f64,
    /// Close of the signal bar, UTC seconds.
    pub signal_time: i64,
    /// The profile's `flat_by` on the signal bar's trading day, UTC seconds.
    pub flat_by: Option<i64>,
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

/// Runs rules 1–8 in order. On success returns the trade plan (rule 8).
pub fn admit(p: &Proposal, cx: &Context) -> Result<Plan, Rejection> {
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
    plan(p, cx)
}

/// Rounds `price` to the tick: `down` toward lower prices, else up (never to the nearest).
fn to_tick(price: Decimal, tick: Decimal, down: bool) -> Decimal {
    let strategy = if down {
        RoundingStrategy::ToNegativeInfinity
    } else {
        RoundingStrategy::ToPositiveInfinity
    };
    (price / tick).round_dp_with_strategy(0, strategy) * tick
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

/// Rule 8, the trade plan (the trade-plan issue). The script may give the stop, the target (a
/// price or `target_r` × R), the size (`contracts`, or `risk` dollars) and an exit plan; the
/// profile bounds all of it. Prices the script gives round conservatively, stops away from the
/// entry and targets toward it; the profile's own `stop_pct` / `target_points` keep DESIGN
/// §10a's rounding (nearest tick, ties away from the entry). R is measured on the rounded stop.
/// A profile with none of the new keys and a script that gives none of them get exactly the
/// old rule: stop from `stop_pct` (a script stop may only tighten it), target from
/// `target_points`, size `contracts`.
fn plan(p: &Proposal, cx: &Context) -> Result<Plan, Rejection> {
    let prof = cx.profile;
    if let Some(flat_by) = cx.flat_by {
        if cx.signal_time >= flat_by {
            return reject(
                RejectReason::FlatBy,
                format!(
                    "the signal bar closes at or after the profile's flat_by {}: no new trade",
                    prof.flat_by.as_deref().unwrap_or("")
                ),
            );
        }
    }
    let (Some(b), Some(entry), Some(tick)) = (
        bracket(
            p.side,
            p.entry,
            prof.stop_pct,
            prof.target_points,
            cx.tick_size,
        ),
        to_decimal(p.entry),
        to_decimal(cx.tick_size),
    ) else {
        return reject(
            RejectReason::Stop,
            format!("cannot compute a stop from entry {}", p.entry),
        );
    };
    let buy = p.side == Side::Buy;
    let profile_stop = to_decimal(b.stop).unwrap_or(entry);
    let stop = match p.stop.and_then(to_decimal) {
        // Away from the entry: down for a BUY, up for a SELL.
        Some(s) => to_tick(s, tick, buy),
        None if p.stop.is_some() => {
            return reject(
                RejectReason::Stop,
                format!("proposed stop {:?} is not a number", p.stop),
            )
        }
        None => profile_stop,
    };
    if p.stop.is_none() && ((buy && stop >= entry) || (!buy && stop <= entry)) {
        // The profile's own stop_pct rounded onto (or past) the entry: today's rule and words.
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
    if (buy && stop >= entry) || (!buy && stop <= entry) {
        return reject(
            RejectReason::StopWrongSide,
            format!(
                "stop {} is not {} the entry {} of a {}",
                f(stop),
                if buy { "below" } else { "above" },
                p.entry,
                p.side.as_str()
            ),
        );
    }
    let r = (entry - stop).abs();
    match prof.max_stop_points.and_then(to_decimal) {
        Some(max) if r > max => {
            return reject(
                RejectReason::StopTooWide,
                format!(
                    "stop {} is {} points from entry {}, wider than max_stop_points {}",
                    f(stop),
                    f(r),
                    p.entry,
                    f(max)
                ),
            )
        }
        Some(_) => {}
        None if (buy && stop < profile_stop) || (!buy && stop > profile_stop) => {
            return reject(
                RejectReason::StopTooWide,
                format!(
                    "proposed stop {} is wider than the profile's {} (stop_pct {}; set max_stop_points to allow wider stops)",
                    f(stop),
                    b.stop,
                    prof.stop_pct
                ),
            )
        }
        None => {}
    }
    // Toward the entry: down for a BUY's target (above it), up for a SELL's.
    let toward_entry = |price: Decimal| to_tick(price, tick, buy);
    let target = if let Some(t) = p.plan.target {
        match to_decimal(t) {
            Some(t) => toward_entry(t),
            None => {
                return reject(
                    RejectReason::TargetWrongSide,
                    format!("proposed target {t} is not a number"),
                )
            }
        }
    } else if let Some(mult) = p.plan.target_r.or(prof.target_r).and_then(to_decimal) {
        let distance = mult * r;
        toward_entry(if buy {
            entry + distance
        } else {
            entry - distance
        })
    } else {
        to_decimal(b.target).unwrap_or(entry)
    };
    if (buy && target <= entry) || (!buy && target >= entry) {
        return reject(
            RejectReason::TargetWrongSide,
            format!(
                "target {} is not {} the entry {} of a {}",
                f(target),
                if buy { "above" } else { "below" },
                p.entry,
                p.side.as_str()
            ),
        );
    }
    let reward = (target - entry).abs();
    if let Some(min) = prof.min_reward_risk.and_then(to_decimal) {
        if reward < min * r {
            return reject(
                RejectReason::RewardRisk,
                format!(
                    "reward/risk {:.2} ({} / {} points) is below min_reward_risk {}",
                    f(reward / r),
                    f(reward),
                    f(r),
                    f(min)
                ),
            );
        }
    }
    let point_value = to_decimal(cx.point_value).unwrap_or(Decimal::ZERO);
    let per_contract = r * point_value;
    let max_contracts = prof.max_contracts.unwrap_or(prof.contracts);
    let contracts = if let Some(n) = p.plan.contracts {
        if n > max_contracts {
            return reject(
                RejectReason::RiskTooLarge,
                format!("{n} contracts is more than max_contracts {max_contracts}"),
            );
        }
        n
    } else if let Some(risk) = p.plan.risk {
        if let Some(max) = prof.max_risk {
            if risk > max {
                return reject(
                    RejectReason::RiskTooLarge,
                    format!("risk ${risk:.2} is more than max_risk ${max:.2}"),
                );
            }
        }
        let n = to_decimal(risk)
            .filter(|_| per_contract > Decimal::ZERO)
            .and_then(|risk| (risk / per_contract).floor().to_u32())
            .unwrap_or(0);
        if n == 0 {
            return reject(
                RejectReason::SizeZero,
                format!(
                    "risk ${risk:.2} buys no contract at a stop {} points away (${:.2} per contract)",
                    f(r),
                    f(per_contract)
                ),
            );
        }
        // Risk sizing is the host's computation: it stops at the profile's largest size.
        n.min(max_contracts)
    } else {
        prof.contracts
    };
    if let Some(max) = prof.max_risk {
        let risk = f(per_contract) * contracts as f64;
        if risk > max {
            return reject(
                RejectReason::RiskTooLarge,
                format!(
                    "{contracts} contracts × {} points × ${} = ${risk:.2} at risk, more than max_risk ${max:.2}",
                    f(r),
                    cx.point_value
                ),
            );
        }
    }
    // Exit-plan distances: whole ticks, rounded up (a breakeven needs at least that much; a
    // trailing stop sits at least that far from the close).
    let up = |d: Decimal| f(to_tick(d, tick, false).max(tick));
    Ok(Plan {
        stop: f(stop),
        target: f(target),
        contracts,
        breakeven_points: p
            .plan
            .breakeven_at_r
            .and_then(to_decimal)
            .map(|m| up(m * r)),
        trail_points: p.plan.trail_points.and_then(to_decimal).map(up),
    })
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
    /// The plan rule 8 gives it (whatever the other rules say), if any.
    pub plan: Option<Plan>,
}

/// Rule 8 on its own: the plan [`admit`] would give `p` if every earlier rule passed, or its
/// refusal.
pub fn stop_and_target(p: &Proposal, cx: &Context) -> Result<Plan, Rejection> {
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
            format!(
                "stop {} / entry {} / target {}, {} contract(s){}{}",
                b.stop,
                p.entry,
                b.target,
                b.contracts,
                b.breakeven_points
                    .map(|x| format!(", breakeven at +{x} points"))
                    .unwrap_or_default(),
                b.trail_points
                    .map(|x| format!(", trailing {x} points"))
                    .unwrap_or_default()
            ),
        ),
        Err(r) => verdict(r.reason, false, r.detail),
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
            max_stop_points: None,
            max_contracts: None,
            max_risk: None,
            min_reward_risk: None,
            target_r: None,
            flat_by: None,
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
            plan: Default::default(),
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
            point_value: 50.0,
            signal_time: 0,
            flat_by: None,
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
            Plan {
                stop: 4120.75,
                target: 4128.0,
                contracts: 3,
                breakeven_points: None,
                trail_points: None,
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
                RejectReason::StopTooWide,
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
            let mut order: Vec<RejectReason> = all.iter().map(|v| v.rule).collect();
            // Rule 8's verdict names the plan's refusal when it refuses.
            assert!(order[7].is_plan(), "{:?}", order[7]);
            order[7] = RejectReason::Stop;
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
