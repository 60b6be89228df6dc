//! Exact price arithmetic on the instrument's tick grid (DESIGN §10a "Prices").
//!
//! Bar prices arrive as `f64`; every price the host *computes* (stop, target) is done in exact
//! decimals: each `f64` is read as its shortest round-trip decimal (`4125.0` → `4125`, `0.1` →
//! `0.1`), so `4125.00 × (1 − 0.1/100) = 4120.875` exactly and the tie goes away from the entry
//! (4120.75), which plain `f64::round` gets wrong.

use rust_decimal::prelude::*;
use rust_decimal::RoundingStrategy;

/// The side of a trade or proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }
    /// +1 for BUY, −1 for SELL: the sign of a favourable price move.
    pub fn sign(self) -> f64 {
        match self {
            Side::Buy => 1.0,
            Side::Sell => -1.0,
        }
    }
}

/// Shortest round-trip decimal of a finite `f64`; `None` for NaN/∞ or out of range.
pub fn to_decimal(x: f64) -> Option<Decimal> {
    if !x.is_finite() {
        return None;
    }
    Decimal::from_str(&format!("{x}"))
        .ok()
        .or_else(|| Decimal::from_f64(x))
}

/// Rounds `price` to the nearest multiple of `tick`; an exact tie goes down when `ties_down`,
/// else up. Used with the tie pointing *away* from the entry: a BUY's stop ties down and its
/// target up; a SELL's the other way round.
pub fn round_to_tick(price: Decimal, tick: Decimal, ties_down: bool) -> Decimal {
    let ticks = price / tick;
    // Prices are positive, so "towards zero" is down and "away from zero" is up.
    let strategy = if ties_down {
        RoundingStrategy::MidpointTowardZero
    } else {
        RoundingStrategy::MidpointAwayFromZero
    };
    ticks.round_dp_with_strategy(0, strategy) * tick
}

/// Stop and target of a new trade (DESIGN §6 rule 8).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bracket {
    pub stop: f64,
    pub target: f64,
}

/// Computes `stop = entry × (1 ∓ stop_pct/100)` and `target = entry ± target_points`, each
/// rounded to the tick with ties away from the entry.
pub fn bracket(
    side: Side,
    entry: f64,
    stop_pct: f64,
    target_points: f64,
    tick: f64,
) -> Option<Bracket> {
    let e = to_decimal(entry)?;
    let pct = to_decimal(stop_pct)? / Decimal::ONE_HUNDRED;
    let pts = to_decimal(target_points)?;
    let tick = to_decimal(tick)?;
    let (stop, target) = match side {
        Side::Buy => (e * (Decimal::ONE - pct), e + pts),
        Side::Sell => (e * (Decimal::ONE + pct), e - pts),
    };
    Some(Bracket {
        stop: round_to_tick(stop, tick, side == Side::Buy).to_f64()?,
        target: round_to_tick(target, tick, side == Side::Sell).to_f64()?,
    })
}

/// Rounds a script-proposed stop to the tick, the tie going away from the entry.
pub fn round_stop(side: Side, stop: f64, tick: f64) -> Option<f64> {
    round_to_tick(to_decimal(stop)?, to_decimal(tick)?, side == Side::Buy).to_f64()
}

/// Number of decimals needed to print prices on this tick grid (0.25 → 2, 1 → 0, 0.03125 → 5).
pub fn price_decimals(tick: f64) -> usize {
    to_decimal(tick)
        .map(|d| d.normalize().scale() as usize)
        .unwrap_or(2)
}

/// Formats a price with exactly `decimals` decimals and `.` as separator.
pub fn format_price(price: f64, decimals: usize) -> String {
    match to_decimal(price) {
        Some(d) => format!(
            "{:.*}",
            decimals,
            d.round_dp_with_strategy(decimals as u32, RoundingStrategy::MidpointAwayFromZero)
        ),
        None => format!("{price}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracket_cases() {
        // (side, entry, stop_pct, target_points, expected stop, expected target)
        let cases = [
            (Side::Buy, 4125.00, 0.1, 3.0, 4120.75, 4128.00), // 4120.875 is a tie: away from entry
            (Side::Buy, 6107.00, 0.1, 3.0, 6101.00, 6110.00), // 6100.893 → nearest tick
            (Side::Sell, 4125.00, 0.1, 3.0, 4129.25, 4122.00), // 4129.125 tie: up, away from entry
            (Side::Sell, 6290.25, 0.1, 3.0, 6296.50, 6287.25),
            (Side::Buy, 5850.00, 0.1, 2.5, 5844.25, 5852.50),
            (Side::Buy, 4000.10, 0.0, 0.1, 4000.00, 4000.25), // off-grid entry, target tie-free
            (Side::Buy, 4000.125, 0.0, 0.0, 4000.00, 4000.25), // entry itself on a tie
        ];
        for (side, entry, pct, pts, stop, target) in cases {
            let b = bracket(side, entry, pct, pts, 0.25).unwrap();
            assert_eq!(
                (b.stop, b.target),
                (stop, target),
                "{side:?} {entry} {pct} {pts}"
            );
        }
    }

    #[test]
    fn f64_round_gets_the_tie_wrong_which_is_why_this_module_exists() {
        let naive = ((4125.0_f64 * (1.0 - 0.1 / 100.0)) / 0.25).round() * 0.25;
        assert_eq!(naive, 4121.0);
    }

    #[test]
    fn decimals_and_formatting() {
        assert_eq!(price_decimals(0.25), 2);
        assert_eq!(price_decimals(1.0), 0);
        assert_eq!(price_decimals(0.03125), 5);
        assert_eq!(format_price(6091.5, 2), "6091.50");
        assert_eq!(format_price(6107.25, 2), "6107.25");
        assert_eq!(format_price(4000.0, 0), "4000");
        assert!(bracket(Side::Buy, f64::NAN, 0.1, 3.0, 0.25).is_none());
    }
}
