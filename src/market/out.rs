//! Printing that never takes the engine down (DESIGN §14). `println!` panics when stdout is a
//! closed pipe (`vrev run | head`); these macros drop what cannot be printed instead: the journal
//! and the signal files are the record, the terminal is only a view of it.

use std::io::Write;

/// Writes `text` to stdout; a closed or broken stdout is ignored.
pub fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes()).and_then(|_| o.flush());
}

/// Writes `text` and a newline to stderr in one call; a closed or broken stderr is ignored.
pub fn err(text: &str) {
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// `println!` that ignores a closed stdout.
#[macro_export]
macro_rules! outln {
    () => { $crate::market::out::out("\n") };
    ($($arg:tt)*) => {{
        let mut s = format!($($arg)*);
        s.push('\n');
        $crate::market::out::out(&s)
    }};
}

/// `print!` that ignores a closed stdout.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::market::out::out(&format!($($arg)*)) };
}

/// `eprintln!` that ignores a closed stderr.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => { $crate::market::out::err(&format!($($arg)*)) };
}
