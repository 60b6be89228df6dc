//! vrev: a Rust host that feeds one-minute bars to Rhai pattern scripts and turns what they
//! propose into NinjaTrader 8 signal files. See `src/README.md` for the layers and the module map.
//!
//! Layers, lowest first (each imports only those before it; `tests/layers.rs` checks it):
//! `market` → `config` → `strategy` → `host` → `feed` / `scenario` / `backtest` (with `stats`)
//! → `cli`.

pub mod backtest;
pub mod cli;
pub mod config;
pub mod feed;
pub mod host;
pub mod market;
pub mod scenario;
pub mod stats;
pub mod strategy;
