//! The live desk (issue 21): the kill switch commands (`switch`), reconciliation of the
//! auto-trader's real trades with vrev's signals (`reconcile`).

pub mod reconcile;
pub mod switch;
