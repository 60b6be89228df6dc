//! The shadow book in a status line (`vrev run`, `replay --pace`): the open shadow position
//! (side, entry, contracts) and today's realized shadow P&L, as a trader glances at them.

use crate::host::engine::Engine;
use crate::market::format::money;

/// `open BUY 3 @ 6101.00 | today's shadow P&L -$150.00` (`open: none` when flat; a position
/// still waiting for its entry bar shows `entry pending`). "Today" is the CME trading day of the
/// last bar.
pub fn describe(engine: &Engine) -> String {
    let book = engine.book();
    let open: Vec<String> = book
        .open_trades()
        .iter()
        .map(|t| match t.entry_price {
            Some(p) => format!("{} {} @ {p:.2}", t.side.as_str(), t.contracts),
            None => format!("{} {} entry pending", t.side.as_str(), t.contracts),
        })
        .collect();
    let open = if open.is_empty() {
        "open: none".to_string()
    } else {
        format!("open {}", open.join(", "))
    };
    let today = engine
        .last_bar_time()
        .map(|t| engine.clock().stamp(t).trading_day)
        .map_or(0.0, |day| book.realized_on(day));
    format!("{open} | today's shadow P&L {}", money(today))
}
