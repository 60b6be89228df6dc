//! How numbers read in terminal tables, the report and the sweep and walk-forward pages: money
//! with thousands separators and the sign before the dollar (`-$1,234.50`, never `-$0.00`),
//! percentages, ratios, durations, aligned text tables, HTML escaping and CSV text cells. One
//! module, so every output says the same amount the same way.

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

/// A fraction as a percentage with one decimal (`57.1%`). A share that is not zero but would
/// round to `0.0%` reads `< 0.1%`, and one short of whole that would round to `100.0%` reads
/// `> 99.9%` (issue 22: exposure of 34 trades showed "0.0 %").
pub fn pct(v: f64) -> String {
    if v > 0.0 && v < 0.0005 {
        return "< 0.1%".into();
    }
    if (0.9995..1.0).contains(&v) {
        return "> 99.9%".into();
    }
    format!("{:.1}%", v * 100.0)
}

/// One text cell of a CSV file vrev writes (names, patterns, reasons, values, messages), the one
/// rule every CSV writer uses:
/// - a cell a spreadsheet would run as a formula (first character `=`, `+`, `-`, `@`, tab or
///   carriage return; OWASP "CSV injection") gets a `'` in front, so it reads as text;
///   a cell that is a plain number (`-463.50`, `+2`, `1e-3`) is a number, not a formula, and is
///   left as it is;
/// - a cell holding a comma, quote or line break is quoted (RFC 4180), quotes doubled.
///
/// Numbers vrev formats itself (P&L, prices) are written as they are, never through here.
pub fn csv_text(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(s);
    let s = if formula {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Digits with an optional sign, point and exponent, and nothing else (no `inf`, no `NaN`).
fn is_plain_number(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
        && s.chars().any(|c| c.is_ascii_digit())
        && s.parse::<f64>().is_ok_and(f64::is_finite)
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

/// A size in bytes as `512 B`, `3.6 KB`, `34.4 GB` (powers of 1,000).
pub fn bytes(b: f64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut v = b.max(0.0);
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// A rough duration in seconds as `0.4 s`, `12 s`, `3.5 min`, `2.1 h`, `4.0 days`.
pub fn duration_secs(s: f64) -> String {
    let s = s.max(0.0);
    if s < 10.0 {
        format!("{s:.1} s")
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86_400.0)
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
        assert_eq!(super::pct(0.0), "0.0%");
        assert_eq!(super::bytes(68_719_476_720.0), "68.7 GB");
        assert_eq!(super::bytes(512.0), "512 B");
        assert_eq!(super::duration_secs(0.42), "0.4 s");
        assert_eq!(super::duration_secs(9000.0), "2.5 h");
        assert_eq!(super::pct(1.0), "100.0%");
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

    /// Issue 22: the exposure of a run with 34 trades on a 2-year file showed "0.0 %", as if
    /// no bar had a position open.
    #[test]
    fn a_percentage_under_0_1_reads_less_than_0_1_not_zero() {
        assert_eq!(super::pct(0.0004), "< 0.1%");
        assert_eq!(super::pct(0.000_001), "< 0.1%");
        assert_eq!(super::pct(0.0005), "0.1%");
        assert_eq!(super::pct(0.9996), "> 99.9%");
        assert_eq!(super::pct(0.9994), "99.9%");
    }

    /// Issue 19: trades.csv and sweep.csv cells could begin with `=`, `+`, `-` or `@` from
    /// user-controlled names and values (CSV formula injection).
    #[test]
    fn csv_formula_injection_is_neutralised_and_numbers_stay_numbers() {
        let cases = [
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\rcmd", "\"'\rcmd\""),
            ("--set x: bad", "'--set x: bad"),
            ("-inf", "'-inf"),
            ("-463.50", "-463.50"),
            ("+2", "+2"),
            ("-1e-3", "-1e-3"),
            ("morning", "morning"),
            ("a,b", "\"a,b\""),
            ("", ""),
        ];
        for (cell, want) in cases {
            assert_eq!(super::csv_text(cell), want, "{cell:?}");
        }
    }
}
