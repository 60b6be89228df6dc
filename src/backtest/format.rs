//! How money and rates read in terminal tables and the sweep and walk-forward pages: dollars with
//! thousands separators and a sign before the `$` (`-$1,234.50`), rates in percent.

/// `$1,234.50`, `-$12.00`.
pub fn money(v: f64) -> String {
    let s = format!("{:.2}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (n, c) in int.chars().enumerate() {
        if n > 0 && (int.len() - n) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    // -0.004 rounds to 0.00: no minus sign on a zero.
    let negative = v < 0.0 && s.bytes().any(|b| b.is_ascii_digit() && b != b'0');
    format!("{}${grouped}.{frac}", if negative { "-" } else { "" })
}

/// `57.1%`.
pub fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// `v` with `decimals`, or `—` when undefined.
pub fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map(f).unwrap_or_else(|| "—".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let cases = [
            (0.0, "$0.00"),
            (-0.004, "$0.00"),
            (12.5, "$12.50"),
            (-12.0, "-$12.00"),
            (999.999, "$1,000.00"),
            (1234567.891, "$1,234,567.89"),
            (-100000.0, "-$100,000.00"),
        ];
        for (v, want) in cases {
            assert_eq!(super::money(v), want, "{v}");
        }
        assert_eq!(super::pct(0.5714), "57.1%");
        assert_eq!(super::opt(None, super::pct), "—");
    }
}
