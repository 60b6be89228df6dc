//! The commands: argument definitions (`args`, which also drive `--help`), what each command
//! does, the inputs every command loads the same way, and what they print. Only `main.rs`
//! imports this layer.

pub mod args;
pub mod check;
pub mod commands;
pub mod demo;
pub mod desk;
pub mod doctor;
pub mod explain;
pub mod init;
pub mod inputs;
pub mod interrupt;
pub mod live;
pub mod nt8_install;
pub mod pace_report;
pub mod run_summary;
