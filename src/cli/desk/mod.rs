//! The live desk (issue 21): the kill switch commands (`switch`), reconciliation of the
//! auto-trader's real trades with vrev's signals (`reconcile`), the full-screen `vrev run`
//! (`dashboard`).

pub mod dashboard;
pub mod reconcile;
pub mod switch;
