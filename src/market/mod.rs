//! The lowest layer: what the market sends and how it reads. Bars and their history, bar files,
//! tick prices, exchange time and trading days, plausibility of a bar, synthetic data, and how
//! numbers and lines are printed. It imports nothing of the other layers.

pub mod bar;
pub mod barfile;
pub mod format;
pub mod input_file;
pub mod out;
pub mod plausibility;
pub mod price;
pub mod safe_write;
pub mod stop;
pub mod synth;
pub mod time;
