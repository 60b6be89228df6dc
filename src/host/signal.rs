//! Signals (DESIGN §7): the deterministic ID, the `KEY=VALUE` file NinjaTrader reads, and the
//! atomic write (temporary file in the same directory, flushed, then renamed). The exact format
//! is fixed in `docs/protocol.md` and pinned by `tests/fixtures/signals/`.

use crate::market::price::{format_price, Side};
use crate::strategy::ExtraValue;
use std::path::{Path, PathBuf};

/// The exit plan a signal carries beyond stop, target and max hold (the trade-plan issue).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct ExitPlan {
    /// Points beyond the entry fill a close must reach to move the stop to the entry fill.
    pub breakeven_points: Option<f64>,
    /// Points the stop trails behind the best close since entry.
    pub trail_points: Option<f64>,
    /// The profile's `flat_by` on the signal's trading day, UTC seconds.
    pub flat_by: Option<i64>,
}

impl ExitPlan {
    pub fn is_empty(&self) -> bool {
        *self == ExitPlan::default()
    }
}

/// An admitted signal, everything the file says.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Signal {
    pub id: String,
    pub side: Side,
    pub entry: f64,
    pub stop: f64,
    pub target: f64,
    pub quantity: u32,
    pub max_hold_minutes: u32,
    /// Signal bar close, UTC seconds.
    pub signal_time: i64,
    /// `yyyy-MM-dd HH:mm:ss` ET.
    pub signal_time_et: String,
    /// UTC seconds.
    pub expires: i64,
    pub instrument: String,
    pub profile: String,
    /// `file@hash`
    pub strategy: String,
    pub pattern: String,
    /// Hundredths.
    pub confidence: Option<u32>,
    pub extra: Vec<(String, ExtraValue)>,
    /// Breakeven, trailing and flat-by (protocol 2); empty for a plain signal.
    #[serde(skip)]
    pub plan: ExitPlan,
    /// `flat_by` as ET wall time `yyyy-MM-dd HH:mm:ss` (when the plan has one).
    #[serde(skip)]
    pub flat_by_et: Option<String>,
    /// File name prefix (`vreversal_`).
    #[serde(skip)]
    pub prefix: String,
    /// Decimals of the instrument's prices.
    #[serde(skip)]
    pub decimals: usize,
    /// Session window of the signal bar (not in the file).
    #[serde(skip)]
    pub window: String,
}

/// `YYYYMMDD_HHMMSS_A_B` for a BUY, `YYYYMMDD_HHMMSS_A_B_SELL` for a SELL: ET close time of
/// the signal bar and the two anchors. The side is part of the ID so that a BUY and a SELL on the
/// same bar with the same anchors never share an ID (nor a file name, which would overwrite one
/// with the other). BUY IDs keep the older detector's form.
pub fn signal_id(
    et_stamp: &str,
    side: Side,
    anchor_a: f64,
    anchor_b: f64,
    decimals: usize,
) -> String {
    let suffix = match side {
        Side::Buy => "",
        Side::Sell => SELL_SUFFIX,
    };
    format!(
        "{et_stamp}_{}_{}{suffix}",
        format_price(anchor_a, decimals),
        format_price(anchor_b, decimals)
    )
}

/// The end of every SELL signal's ID.
pub const SELL_SUFFIX: &str = "_SELL";

/// First line of every signal file.
pub const HEADER: &str = "# vrev signal v1 (KEY=VALUE, '.' decimals, times in UTC unless _ET)";

/// First line of a signal file with an exit plan (`PROTOCOL=2`).
pub const HEADER_V2: &str = "# vrev signal v2 (KEY=VALUE, '.' decimals, times in UTC unless _ET)";

/// First line of an exit file.
pub const EXIT_HEADER: &str = "# vrev exit v2 (KEY=VALUE, '.' decimals, times in UTC)";

/// The protocol version of files with an exit plan and of exit files (`docs/protocol.md` §1a).
pub const PROTOCOL_EXIT_PLAN: u32 = 2;

/// A script's exit of an open trade, the file `VrevAutoTrader` acts on (`docs/protocol.md` §1b).
#[derive(Clone, Debug, PartialEq)]
pub struct ExitSignal {
    pub signal_id: String,
    /// The signal's file name prefix.
    pub prefix: String,
    pub reason: String,
    /// Close of the bar the script asked on, UTC seconds.
    pub time: i64,
    /// UTC seconds.
    pub expires: i64,
}

impl ExitSignal {
    /// The signal's file name with `.exit` for `.txt` (the old system's traders read every
    /// `vreversal_*.txt`; none reads an `.exit`).
    pub fn file_name(&self) -> String {
        format!("{}{}.exit", self.prefix, self.signal_id)
    }

    /// The ledger entry that keeps it from being written twice.
    pub fn ledger_id(&self) -> String {
        format!("exit:{}", self.signal_id)
    }

    pub fn render(&self) -> String {
        format!(
            "{EXIT_HEADER}\nACTION=EXIT\nSIGNAL_ID={}\nREASON={}\nSIGNAL_TIME={}\nEXPIRES={}\nPROTOCOL={PROTOCOL_EXIT_PLAN}\n",
            self.signal_id,
            self.reason,
            crate::market::time::format_utc(self.time),
            crate::market::time::format_utc(self.expires)
        )
    }
}

impl Signal {
    pub fn file_name(&self) -> String {
        format!("{}{}.txt", self.prefix, self.id)
    }

    /// The file's exact content.
    pub fn render(&self) -> String {
        let d = self.decimals;
        let mut s = String::with_capacity(512);
        let mut kv = |k: &str, v: &str| {
            s.push_str(k);
            s.push('=');
            s.push_str(v);
            s.push('\n');
        };
        kv("SIGNAL_ID", &self.id);
        kv("ACTION", self.side.as_str());
        kv("ENTRY_PRICE", &format_price(self.entry, d));
        kv("STOP_LOSS", &format_price(self.stop, d));
        kv("TAKE_PROFIT", &format_price(self.target, d));
        kv("QUANTITY", &self.quantity.to_string());
        kv("MAX_HOLD_MINUTES", &self.max_hold_minutes.to_string());
        kv(
            "SIGNAL_TIME",
            &crate::market::time::format_utc(self.signal_time),
        );
        kv("SIGNAL_TIME_ET", &self.signal_time_et);
        kv("EXPIRES", &crate::market::time::format_utc(self.expires));
        kv("INSTRUMENT", &self.instrument);
        kv("PROFILE", &self.profile);
        kv("STRATEGY", &self.strategy);
        kv("PATTERN_TYPE", &self.pattern);
        // Only with a value: an empty `CONFIDENCE=` made the older auto-trader retry forever.
        if let Some(c) = self.confidence {
            kv("CONFIDENCE", &format!("{}.{:02}", c / 100, c % 100));
        }
        // Extra keys were checked when proposed (`proposal_check`): single-line, not a host key,
        // no two alike in upper case. The filter stays as a last line of defence.
        for (k, v) in &self.extra {
            let key = k.to_ascii_uppercase();
            if !RESERVED.contains(&key.as_str()) {
                kv(&key, &v.to_string());
            }
        }
        if self.plan.is_empty() {
            return format!("{HEADER}\n{s}");
        }
        if let Some(p) = self.plan.breakeven_points {
            kv("BREAKEVEN_AT_POINTS", &format_price(p, d));
        }
        if let Some(p) = self.plan.trail_points {
            kv("TRAIL_POINTS", &format_price(p, d));
        }
        if let Some(t) = &self.flat_by_et {
            kv("FLAT_BY_ET", t);
        }
        kv("PROTOCOL", &PROTOCOL_EXIT_PLAN.to_string());
        format!("{HEADER_V2}\n{s}")
    }
}

/// Keys the host writes; a script's extra value cannot replace them.
pub const RESERVED: [&str; 19] = [
    "SIGNAL_ID",
    "ACTION",
    "ENTRY_PRICE",
    "STOP_LOSS",
    "TAKE_PROFIT",
    "QUANTITY",
    "MAX_HOLD_MINUTES",
    "SIGNAL_TIME",
    "SIGNAL_TIME_ET",
    "EXPIRES",
    "INSTRUMENT",
    "PROFILE",
    "STRATEGY",
    "PATTERN_TYPE",
    "CONFIDENCE",
    "BREAKEVEN_AT_POINTS",
    "TRAIL_POINTS",
    "FLAT_BY_ET",
    "PROTOCOL",
];

/// Why `key` cannot be an extra key of the signal file: letters, digits and `_`, at most 64, not
/// a key the host writes (compared in upper case, as written). `None` when it can.
pub fn extra_key_problem(key: &str) -> Option<String> {
    if key.is_empty()
        || key.len() > 64
        || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Some("must be 1 to 64 letters, digits and `_`".into());
    }
    let upper = key.to_ascii_uppercase();
    if RESERVED.contains(&upper.as_str()) {
        return Some(format!("`{upper}` is a key the host writes itself"));
    }
    None
}

/// Writes `content` to `dir/name` atomically: a reader sees either no file or the whole file.
/// The temporary file is created (never followed) under an unpredictable hidden name
/// (`.<name>.<random>.vrev-tmp`), and a link or non-regular file at `dir/name` is refused
/// ([`crate::market::safe_write`]).
pub fn write_atomic(
    dir: &Path,
    name: &str,
    content: &[u8],
    fsync: bool,
) -> std::io::Result<PathBuf> {
    crate::market::safe_write::write_file(dir, name, content, fsync)
}

/// Reads `SIGNAL_ID` from a signal file's text.
pub fn read_signal_id(text: &str) -> Option<&str> {
    text.lines()
        .find_map(|l| l.strip_prefix("SIGNAL_ID="))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn fixture_signal() -> Signal {
        Signal {
            id: signal_id("20250213_135900", Side::Buy, 6107.25, 6091.5, 2),
            side: Side::Buy,
            entry: 6107.0,
            stop: 6101.0,
            target: 6110.0,
            quantity: 3,
            max_hold_minutes: 25,
            signal_time: 1739473140,
            signal_time_et: "2025-02-13 13:59:00".into(),
            expires: 1739473140 + 90,
            instrument: "ES".into(),
            profile: "production".into(),
            strategy: "vreversal.rhai@3f2a9c01d4e5".into(),
            pattern: "v_reversal".into(),
            confidence: Some(80),
            extra: vec![("drop".into(), ExtraValue::Float(15.75))],
            prefix: "vreversal_".into(),
            decimals: 2,
            window: "afternoon".into(),
            plan: Default::default(),
            flat_by_et: None,
        }
    }

    #[test]
    fn renders_the_shared_fixture_byte_for_byte() {
        let s = fixture_signal();
        assert_eq!(s.id, "20250213_135900_6107.25_6091.50");
        assert_eq!(
            s.file_name(),
            "vreversal_20250213_135900_6107.25_6091.50.txt"
        );
        let fixture = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/signals/vreversal_20250213_135900_6107.25_6091.50.txt"
        ))
        .unwrap();
        assert_eq!(s.render(), fixture);
    }

    #[test]
    fn no_confidence_and_text_extras_render_like_the_fixture() {
        let s = Signal {
            id: "20251103_030500_5850.50_5846.00".into(),
            entry: 5850.0,
            stop: 5844.25,
            target: 5853.0,
            quantity: 2,
            max_hold_minutes: 15,
            signal_time: 1762157100,
            signal_time_et: "2025-11-03 03:05:00".into(),
            expires: 1762157190,
            instrument: "MES".into(),
            profile: "conservative".into(),
            strategy: "custom.rhai@ffffffffffff".into(),
            pattern: "custom".into(),
            confidence: None,
            extra: vec![
                (
                    "note".into(),
                    ExtraValue::Text("first hour; retest held".into()),
                ),
                ("strong".into(), ExtraValue::Bool(true)),
            ],
            ..fixture_signal()
        };
        let fixture = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/signals/vreversal_20251103_030500_5850.50_5846.00.txt"
        ))
        .unwrap();
        assert_eq!(s.render(), fixture);
    }

    #[test]
    fn a_sell_with_integer_extras_renders_like_the_fixture() {
        let s = Signal {
            id: signal_id("20250714_095000", Side::Sell, 6290.0, 6301.25, 2),
            side: Side::Sell,
            entry: 6290.25,
            stop: 6296.5,
            target: 6287.25,
            quantity: 1,
            signal_time: 1752501000,
            signal_time_et: "2025-07-14 09:50:00".into(),
            expires: 1752501090,
            profile: "bidirectional".into(),
            strategy: "bidirectional.rhai@0a1b2c3d4e5f".into(),
            pattern: "v_reversal_short".into(),
            confidence: Some(70),
            extra: vec![
                ("rise".into(), ExtraValue::Float(11.25)),
                ("break_bars".into(), ExtraValue::Int(4)),
            ],
            ..fixture_signal()
        };
        let fixture = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/signals/vreversal_20250714_095000_6290.00_6301.25_SELL.txt"
        ))
        .unwrap();
        assert_eq!(s.render(), fixture);
        assert_eq!(
            s.file_name(),
            "vreversal_20250714_095000_6290.00_6301.25_SELL.txt"
        );
    }

    #[test]
    fn a_buy_and_a_sell_with_the_same_anchors_never_share_an_id() {
        let buy = signal_id("20250714_095000", Side::Buy, 6290.0, 6290.0, 2);
        let sell = signal_id("20250714_095000", Side::Sell, 6290.0, 6290.0, 2);
        assert_eq!(buy, "20250714_095000_6290.00_6290.00");
        assert_eq!(sell, "20250714_095000_6290.00_6290.00_SELL");
    }

    #[test]
    fn confidence_is_written_only_when_it_has_a_value() {
        let with = fixture_signal().render();
        assert_eq!(with.matches("\nCONFIDENCE=0.80\n").count(), 1);
        let without = Signal {
            confidence: None,
            ..fixture_signal()
        }
        .render();
        assert!(!without.contains("CONFIDENCE"), "{without}");
    }

    #[test]
    fn atomic_write_leaves_no_temp_file_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let s = fixture_signal();
        let path = write_atomic(dir.path(), &s.file_name(), s.render().as_bytes(), true).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![s.file_name()]);
        assert_eq!(
            read_signal_id(&std::fs::read_to_string(path).unwrap()),
            Some(s.id.as_str())
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_never_redirects_the_signal_write() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim.txt");
        std::fs::write(&victim, "keep").unwrap();
        let s = fixture_signal();
        // The temporary name of the old code, and the final name itself.
        std::os::unix::fs::symlink(&victim, dir.path().join(format!(".{}.tmp", s.file_name())))
            .unwrap();
        write_atomic(dir.path(), &s.file_name(), s.render().as_bytes(), false).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        let other = Signal {
            id: "20250213_140000_1_2".into(),
            ..fixture_signal()
        };
        std::os::unix::fs::symlink(&victim, dir.path().join(other.file_name())).unwrap();
        let e = write_atomic(dir.path(), &other.file_name(), b"x", false).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }

    #[test]
    fn extras_cannot_overwrite_host_keys() {
        let s = Signal {
            extra: vec![("stop_loss".into(), ExtraValue::Float(1.0))],
            ..fixture_signal()
        };
        assert_eq!(s.render().matches("STOP_LOSS=").count(), 1);
    }
}
