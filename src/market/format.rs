//! How numbers read in terminal tables, the report and the sweep and walk-forward pages: money
//! with thousands separators and the sign before the dollar (`-$1,234.50`, never `-$0.00`),
//! percentages, ratios, durations, aligned text tables and HTML escaping. One module, so every
//! output says the same amount the same way.

use std::fmt::Write as _;

pub fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| "—".into())
}

/// `-$1,234.50`; never `-$0.00`.
pub fn money(v: f64) -> String {
    let s = format!("{:.2}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let negative = v < 0.0 && s != "0.00";
    format!(
        "{}${}.{frac}",
        if negative { "-" } else { "" },
        thousands(int)
    )
}

/// `1,234,567` from the digits `1234567`.
pub fn thousands(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (n, c) in digits.chars().enumerate() {
        if n > 0 && (digits.len() - n).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// A count with thousands separators.
pub fn count(n: usize) -> String {
    thousands(&n.to_string())
}

pub fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// A ratio with two decimals; never `-0.00`.
pub fn num2(v: f64) -> String {
    let s = format!("{v:.2}");
    if s == "-0.00" {
        "0.00".into()
    } else {
        s
    }
}

/// Minutes as `25 min` or `3 h 05 min`.
pub fn minutes(m: f64) -> String {
    let m = m.round() as i64;
    if m < 60 {
        format!("{m} min")
    } else {
        format!("{} h {:02} min", m / 60, m % 60)
    }
}

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Rows of cells as an aligned text table: columns in `left` padded on the right, the others on
/// the left; each line indented by two spaces.
pub fn text_table(rows: &[Vec<String>], left: &[usize]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|v| v.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, v)| {
                if left.contains(&c) {
                    format!("{v:<w$}", w = widths[c])
                } else {
                    format!("{v:>w$}", w = widths[c])
                }
            })
            .collect();
        let _ = writeln!(out, "  {}", line.join("  ").trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn money_and_ratios_read_like_a_statement() {
        let cases = [
            (0.0, "$0.00"),
            (-0.0, "$0.00"),
            (-0.001, "$0.00"),
            (1234.5, "$1,234.50"),
            (-710802.0, "-$710,802.00"),
            (999.999, "$1,000.00"),
            (1_000_000.0, "$1,000,000.00"),
        ];
        for (v, want) in cases {
            assert_eq!(super::money(v), want, "{v}");
        }
        assert_eq!(super::num2(-0.0), "0.00");
        assert_eq!(super::num2(-0.001), "0.00");
        assert_eq!(super::num2(0.676), "0.68");
        assert_eq!(super::minutes(25.0), "25 min");
        assert_eq!(super::minutes(185.0), "3 h 05 min");
        assert_eq!(super::count(707388), "707,388");
        assert_eq!(super::money(-12.0), "-$12.00");
        assert_eq!(super::pct(0.5714), "57.1%");
        assert_eq!(super::opt(None, super::pct), "—");
        let rows = vec![
            vec!["cell".to_string(), "net".into()],
            vec!["a".to_string(), "$1.00".into()],
        ];
        assert_eq!(
            super::text_table(&rows, &[0]),
            "  cell    net\n  a     $1.00\n"
        );
    }
}
