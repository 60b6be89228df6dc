//! vrev: a Rust host that feeds one-minute bars to Rhai pattern scripts and turns what they
//! propose into NinjaTrader 8 signal files. See `src/README.md` for the module map.

pub mod backtest;
pub mod bar;
pub mod barfile;
pub mod book;
pub mod cli;
pub mod commands;
pub mod config;
pub mod engine;
pub mod engine_error;
pub mod faults;
pub mod feed;
pub mod fresh_ledger;
pub mod inputs;
pub mod interrupt;
pub mod journal;
pub mod ledger;
pub mod out;
pub mod pace_report;
pub mod plausibility;
pub mod price;
pub mod proposal_check;
pub mod reload;
pub mod rules;
pub mod run_summary;
pub mod scan;
pub mod scenario;
pub mod sessions;
pub mod shadow_status;
pub mod signal;
pub mod state_lock;
pub mod stats;
pub mod strategy;
pub mod synth;
pub mod time;
