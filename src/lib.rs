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
pub mod feed;
pub mod journal;
pub mod ledger;
pub mod price;
pub mod reload;
pub mod rules;
pub mod scan;
pub mod scenario;
pub mod sessions;
pub mod signal;
pub mod stats;
pub mod strategy;
pub mod synth;
pub mod time;
