//! The host: everything that must never go wrong between a bar and a signal file. The engine
//! (`Engine::on_bar`: book → clock → strategy → rules → sinks), the window → profile line-up,
//! proposal checks and host rules, the shadow book and fill model, signal files, the ledger,
//! the journal, write faults, the state lock and hot reload. It imports `market`, `config` and
//! `strategy`, never the commands above it.

pub mod book;
pub mod engine;
pub mod engine_error;
pub mod faults;
pub mod fresh_ledger;
pub mod journal;
pub mod kill_switch;
pub mod ledger;
pub mod proposal_check;
pub mod reload;
pub mod rules;
pub mod sessions;
pub mod shadow_status;
pub mod signal;
pub mod state_lock;
