//! Field helpers shared by the bar file formats: numbers with the column named in the error, digits,
//! and quoting a field in a message without flooding it.

/// At most the first `n` characters of `s`.
pub fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A price or volume field; the error names the column (`high is not a number: x`).
pub fn number(field: Option<&str>, name: &str) -> Result<f64, String> {
    let s = field
        .ok_or_else(|| format!("missing field `{name}`"))?
        .trim();
    s.parse()
        .map_err(|_| format!("`{name}` is not a number: `{}`", truncate(s, 40)))
}
/// The value of a run of ASCII digits; `None` if any byte is not a digit.
pub fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}
