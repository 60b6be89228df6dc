//! The `bars` block of a scenario: one line per explicit bar or per step, expanded into
//! one-minute bars, deterministically. `docs/scenarios.md` is the reference for traders; the
//! doc comment of each step below says exactly which bars it makes.
//!
//! Times are ET wall clock (the close of the bar, as NinjaTrader stamps it) and are converted to
//! UTC once, here, with the exchange clock. Steps then advance in real minutes (UTC), so a run of
//! bars across a DST change has no hole and no repeated instant: `01:59` is followed by `03:00`
//! on a spring-forward Sunday.
//!
//! Step prices are computed in integer ticks, so a shape never drifts off the tick grid.

use super::source::{ScenarioError, Source};
use crate::market::bar::Bar;
use crate::market::time::{parse_hhmm, MarketClock};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// Volume of every generated bar unless a step says otherwise.
pub const DEFAULT_VOLUME: f64 = 500.0;
/// Volume of a breakout bar (`breakout`, and the breakout bar of `v_reversal` / `inverted_v`):
/// above 1.2 × the default, so a textbook V earns the breakout-volume confidence point.
pub const BREAKOUT_VOLUME: f64 = 900.0;
/// Most bars one step may make (a typo like `flat 100000000 bars` must not eat the memory).
const MAX_STEP_BARS: i64 = 20_000;

/// One bar of a scenario and where it came from (for the bars table of a failure).
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioBar {
    pub bar: Bar,
    /// Line in the scenario file of the step or bar that made it.
    pub line: usize,
    /// What made it, e.g. `flat`, `v_reversal origin`, `v_reversal retest`.
    pub what: String,
}

/// One line of the bars block with its place in the file.
#[derive(Clone, Debug)]
pub struct BlockLine<'a> {
    pub text: &'a str,
    /// 1-based line in the file.
    pub line: usize,
    /// Byte offset of the line's first character in the file, when known exactly (it is not
    /// for basic strings with escapes); lets errors name the column.
    pub offset: Option<usize>,
}

/// A whitespace-separated word of a line and its byte offset in the line.
#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    text: &'a str,
    at: usize,
}

fn tokens(line: &str) -> Vec<Tok<'_>> {
    let code = line.split('#').next().unwrap_or("");
    let mut out = Vec::new();
    let mut start = None;
    for (i, ch) in code.char_indices() {
        if ch.is_whitespace() {
            if let Some(s) = start.take() {
                out.push(Tok {
                    text: &code[s..i],
                    at: s,
                });
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(Tok {
            text: &code[s..],
            at: s,
        });
    }
    out
}

fn is_date(s: &str) -> bool {
    s.len() == 10 && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

fn is_time(s: &str) -> bool {
    parse_hhmm(s).is_some()
}

/// Expands the bars block into bars, validating every line. `date` is the scenario's `date`
/// (the day of `HH:MM` times until a `date` line or a full `YYYY-MM-DD HH:MM` changes it).
pub fn expand(
    lines: &[BlockLine],
    date: NaiveDate,
    tick: f64,
    src: &Source,
) -> Result<Vec<ScenarioBar>, ScenarioError> {
    let mut x = Expander {
        src,
        clock: MarketClock::exchange(),
        tick,
        date,
        bars: Vec::new(),
    };
    for l in lines {
        let toks = tokens(l.text);
        if toks.is_empty() {
            continue;
        }
        let cx = LineCx {
            line: l,
            toks: &toks,
        };
        x.line(&cx)?;
    }
    if x.bars.is_empty() {
        return Err(src.error_at_line(
            lines.first().map(|l| l.line).unwrap_or(1),
            "the bars block makes no bar: write at least one step or bar",
        ));
    }
    Ok(x.bars)
}

/// The tokens of one line, for errors that point at a word.
struct LineCx<'a> {
    line: &'a BlockLine<'a>,
    toks: &'a [Tok<'a>],
}

impl LineCx<'_> {
    fn err(&self, src: &Source, tok: usize, message: impl Into<String>) -> ScenarioError {
        let at = self
            .toks
            .get(tok)
            .map(|t| t.at)
            .unwrap_or(self.line.text.len());
        match self.line.offset {
            Some(o) => src.error_at(o + at, message),
            None => src.error_at_line(self.line.line, message),
        }
    }
}

/// A price in whole ticks.
type Ticks = i64;

struct Expander<'s> {
    src: &'s Source,
    clock: MarketClock,
    tick: f64,
    date: NaiveDate,
    bars: Vec<ScenarioBar>,
}

/// Key-value words of a pattern step (`high 6107.25 low 6091.50 signal 13:59`).
struct Options<'a> {
    pairs: Vec<(usize, &'a str, usize)>, // (key token, key, value token)
}

impl Expander<'_> {
    fn last_time(&self) -> Option<i64> {
        self.bars.last().map(|b| b.bar.close_time)
    }

    fn et(&self, utc: i64) -> String {
        self.clock.stamp(utc).format()[..16].to_string()
    }

    fn line(&mut self, cx: &LineCx) -> Result<(), ScenarioError> {
        let t = cx.toks;
        // Leading time: `HH:MM` or `YYYY-MM-DD HH:MM`.
        let mut i = 0;
        let mut when: Option<(usize, NaiveDate, u32)> = None;
        if is_date(t[0].text) && t.get(1).is_some_and(|x| is_time(x.text)) {
            let d = NaiveDate::parse_from_str(t[0].text, "%Y-%m-%d").expect("checked");
            self.date = d;
            when = Some((1, d, parse_hhmm(t[1].text).expect("checked")));
            i = 2;
        } else if is_time(t[0].text) {
            when = Some((0, self.date, parse_hhmm(t[0].text).expect("checked")));
            i = 1;
        } else if t[0].text.contains(':') && t[0].text.len() <= 5 {
            return Err(cx.err(
                self.src,
                0,
                format!(
                    "`{}` is not a time: write HH:MM (24 h, ET), e.g. 09:30",
                    t[0].text
                ),
            ));
        }
        let Some(word) = t.get(i) else {
            return Err(cx.err(
                self.src,
                i,
                "a time must be followed by a bar (open high low close [volume]) or a step",
            ));
        };
        let first = match when {
            Some((tok, d, minute)) => Some(self.instant(cx, tok, d, minute)?),
            None => None,
        };
        if word.text.parse::<f64>().is_ok() {
            return self.explicit_bar(cx, i, first);
        }
        let rest = i + 1;
        match word.text {
            "date" => {
                if when.is_some() {
                    return Err(cx.err(self.src, 0, "`date` takes no time before it"));
                }
                let d = t.get(rest).filter(|x| is_date(x.text)).ok_or_else(|| {
                    cx.err(self.src, rest, "`date` needs a date: date YYYY-MM-DD")
                })?;
                self.date = NaiveDate::parse_from_str(d.text, "%Y-%m-%d").expect("checked");
                self.no_more(cx, rest + 1)
            }
            "flat" => self.flat(cx, rest, first),
            "drop" | "rally" => self.slope(cx, rest, first, word.text == "rally"),
            "breakout" | "breakdown" => self.breakout(cx, rest, first),
            "retest" => self.retest(cx, rest, first),
            "v_reversal" => self.pattern(cx, rest, first, false),
            "inverted_v" => self.pattern(cx, rest, first, true),
            other => Err(cx.err(
                self.src,
                i,
                format!(
                    "unknown step `{other}` (steps: flat, drop, rally, breakout, breakdown, retest, v_reversal, inverted_v, date; or a bar: open high low close [volume])"
                ),
            )),
        }
    }

    /// UTC of ET `date minute`, which must come after the previous bar.
    fn instant(
        &self,
        cx: &LineCx,
        tok: usize,
        date: NaiveDate,
        minute: u32,
    ) -> Result<i64, ScenarioError> {
        let naive = NaiveDateTime::new(
            date,
            NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).expect("valid HH:MM"),
        );
        let utc = self
            .clock
            .local_to_utc(naive, self.last_time())
            .map_err(|m| cx.err(self.src, tok, m))?;
        Ok(utc)
    }

    /// Close time of the first bar of a step: the line's time, or one minute after the last bar.
    fn start(&self, cx: &LineCx, first: Option<i64>) -> Result<i64, ScenarioError> {
        match (first, self.last_time()) {
            (Some(t), _) => Ok(t),
            (None, Some(last)) => Ok(last + 60),
            (None, None) => Err(cx.err(
                self.src,
                0,
                "the first bar needs a time: start the line with HH:MM, e.g. `13:30 flat 10 bars at 6100`",
            )),
        }
    }

    fn push(
        &mut self,
        cx: &LineCx,
        time: i64,
        ohlc: [f64; 4],
        volume: f64,
        what: &str,
    ) -> Result<(), ScenarioError> {
        if let Some(prev) = self.bars.last() {
            if time <= prev.bar.close_time {
                return Err(cx.err(
                    self.src,
                    0,
                    format!(
                        "this bar closes at {} ET, not after the previous bar ({} ET, line {}); use `date YYYY-MM-DD` or a full `YYYY-MM-DD HH:MM` to move to another day",
                        self.et(time),
                        self.et(prev.bar.close_time),
                        prev.line
                    ),
                ));
            }
        }
        let bar = Bar {
            close_time: time,
            open: ohlc[0],
            high: ohlc[1],
            low: ohlc[2],
            close: ohlc[3],
            volume,
        };
        if let Some(why) = bar.invalid_reason() {
            return Err(cx.err(
                self.src,
                0,
                format!(
                    "invalid bar at {} ET (open {} high {} low {} close {}): {why}",
                    self.et(time),
                    ohlc[0],
                    ohlc[1],
                    ohlc[2],
                    ohlc[3]
                ),
            ));
        }
        self.bars.push(ScenarioBar {
            bar,
            line: cx.line.line,
            what: what.to_string(),
        });
        Ok(())
    }

    fn push_ticks(
        &mut self,
        cx: &LineCx,
        time: i64,
        t: [Ticks; 4],
        volume: f64,
        what: &str,
    ) -> Result<(), ScenarioError> {
        let p = |x: Ticks| x as f64 * self.tick;
        self.push(cx, time, [p(t[0]), p(t[1]), p(t[2]), p(t[3])], volume, what)
    }

    fn number(&self, cx: &LineCx, tok: usize, what: &str) -> Result<f64, ScenarioError> {
        let t = cx
            .toks
            .get(tok)
            .ok_or_else(|| cx.err(self.src, tok, format!("missing {what}")))?;
        match t.text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(cx.err(
                self.src,
                tok,
                format!("{what}: `{}` is not a number", t.text),
            )),
        }
    }

    fn ticks(&self, cx: &LineCx, tok: usize, what: &str) -> Result<Ticks, ScenarioError> {
        let v = self.number(cx, tok, what)?;
        let n = v / self.tick;
        if (n - n.round()).abs() > 1e-6 || v <= 0.0 {
            return Err(cx.err(
                self.src,
                tok,
                format!(
                    "{what} {v} is not a positive multiple of the tick ({})",
                    self.tick
                ),
            ));
        }
        Ok(n.round() as Ticks)
    }

    fn count(&self, cx: &LineCx, tok: usize, what: &str) -> Result<i64, ScenarioError> {
        let t = cx
            .toks
            .get(tok)
            .ok_or_else(|| cx.err(self.src, tok, format!("missing {what}")))?;
        match t.text.parse::<i64>() {
            Ok(n) if (1..=MAX_STEP_BARS).contains(&n) => Ok(n),
            _ => Err(cx.err(
                self.src,
                tok,
                format!(
                    "{what}: `{}` is not a whole number of bars from 1 to {MAX_STEP_BARS}",
                    t.text
                ),
            )),
        }
    }

    /// The last close in ticks: steps that continue the price need it on the tick grid.
    fn last_close(&self, cx: &LineCx, word: usize) -> Result<Ticks, ScenarioError> {
        let Some(last) = self.bars.last() else {
            return Err(cx.err(
                self.src,
                word,
                "this step continues from the last close, but there is no bar yet: start with `flat N bars at PRICE`, a bar, or a v_reversal",
            ));
        };
        let n = last.bar.close / self.tick;
        if (n - n.round()).abs() > 1e-6 {
            return Err(cx.err(
                self.src,
                word,
                format!(
                    "the last close {} is not on the tick grid ({}), so this step cannot continue from it",
                    last.bar.close, self.tick
                ),
            ));
        }
        Ok(n.round() as Ticks)
    }

    fn no_more(&self, cx: &LineCx, tok: usize) -> Result<(), ScenarioError> {
        match cx.toks.get(tok) {
            None => Ok(()),
            Some(t) => Err(cx.err(
                self.src,
                tok,
                format!("unexpected `{}` at the end of the step", t.text),
            )),
        }
    }

    /// Optional trailing `volume V`.
    fn volume(&self, cx: &LineCx, tok: usize, default: f64) -> Result<(f64, usize), ScenarioError> {
        match cx.toks.get(tok) {
            Some(t) if t.text == "volume" => {
                let v = self.number(cx, tok + 1, "volume")?;
                if v < 0.0 {
                    return Err(cx.err(self.src, tok + 1, "volume must be zero or positive"));
                }
                Ok((v, tok + 2))
            }
            _ => Ok((default, tok)),
        }
    }

    /// `[time] OPEN HIGH LOW CLOSE [VOLUME]`: one bar exactly as written (no tick-grid check, so
    /// odd data can be pinned too). Volume defaults to 500.
    fn explicit_bar(
        &mut self,
        cx: &LineCx,
        i: usize,
        first: Option<i64>,
    ) -> Result<(), ScenarioError> {
        let names = ["open", "high", "low", "close"];
        let mut ohlc = [0.0; 4];
        for (k, name) in names.iter().enumerate() {
            ohlc[k] = self.number(cx, i + k, name)?;
        }
        let volume = if cx.toks.len() > i + 4 {
            self.number(cx, i + 4, "volume")?
        } else {
            DEFAULT_VOLUME
        };
        self.no_more(cx, i + 5)?;
        let time = self.start(cx, first)?;
        self.push(cx, time, ohlc, volume, "bar")
    }

    /// `flat N bars [at P] [volume V]` or `flat until HH:MM [at P] [volume V]`: quiet bars with
    /// open = close = P, high = P + 1 tick, low = P − 1 tick. P defaults to the last close.
    /// `until` makes bars up to and including the one closing at HH:MM (same day).
    fn flat(&mut self, cx: &LineCx, i: usize, first: Option<i64>) -> Result<(), ScenarioError> {
        let start = self.start(cx, first)?;
        let (n, mut k) = if cx.toks.get(i).map(|t| t.text) == Some("until") {
            let tok = cx
                .toks
                .get(i + 1)
                .filter(|t| is_time(t.text))
                .ok_or_else(|| cx.err(self.src, i + 1, "`flat until` needs a time HH:MM"))?;
            let end = self.instant(cx, i + 1, self.date, parse_hhmm(tok.text).expect("checked"))?;
            if end < start {
                return Err(cx.err(
                    self.src,
                    i + 1,
                    format!(
                        "`until {}` is before the first bar of this step ({} ET)",
                        tok.text,
                        self.et(start)
                    ),
                ));
            }
            ((end - start) / 60 + 1, i + 2)
        } else {
            let n = self.count(cx, i, "flat: number of bars")?;
            let mut k = i + 1;
            if matches!(cx.toks.get(k).map(|t| t.text), Some("bar" | "bars")) {
                k += 1;
            }
            (n, k)
        };
        if n > MAX_STEP_BARS {
            return Err(cx.err(
                self.src,
                i,
                format!("this step would make {n} bars (at most {MAX_STEP_BARS})"),
            ));
        }
        let level = if cx.toks.get(k).map(|t| t.text) == Some("at") {
            let p = self.ticks(cx, k + 1, "flat: price")?;
            k += 2;
            p
        } else {
            self.last_close(cx, i.saturating_sub(1))?
        };
        let (volume, k) = self.volume(cx, k, DEFAULT_VOLUME)?;
        self.no_more(cx, k)?;
        for b in 0..n {
            self.push_ticks(
                cx,
                start + 60 * b,
                [level, level + 1, level - 1, level],
                volume,
                "flat",
            )?;
        }
        Ok(())
    }

    /// `drop X over N bars` / `drop to P over N bars` (and `rally` upwards): N bars from the
    /// last close c0 to c0 ∓ X. Bar k closes at c0 ∓ X·k/N rounded to the tick (half a tick
    /// rounds towards the end price), the last exactly at the end price; each bar opens at the
    /// previous close and has no wick beyond its open and close (a drop's high is its open, its
    /// low its close).
    fn slope(
        &mut self,
        cx: &LineCx,
        i: usize,
        first: Option<i64>,
        up: bool,
    ) -> Result<(), ScenarioError> {
        let word = if up { "rally" } else { "drop" };
        let c0 = self.last_close(cx, i - 1)?;
        let (total, k) = if cx.toks.get(i).map(|t| t.text) == Some("to") {
            let end = self.ticks(cx, i + 1, &format!("{word} to: price"))?;
            let total = if up { end - c0 } else { c0 - end };
            if total <= 0 {
                return Err(cx.err(
                    self.src,
                    i + 1,
                    format!(
                        "`{word} to {}` does not go {} from the last close {}",
                        cx.toks[i + 1].text,
                        if up { "up" } else { "down" },
                        c0 as f64 * self.tick
                    ),
                ));
            }
            (total, i + 2)
        } else {
            (self.ticks(cx, i, &format!("{word}: points"))?, i + 1)
        };
        if cx.toks.get(k).map(|t| t.text) != Some("over") {
            return Err(cx.err(
                self.src,
                k,
                format!("expected `over N bars`, e.g. `{word} 5 over 6 bars`"),
            ));
        }
        let n = self.count(cx, k + 1, &format!("{word}: number of bars"))?;
        let mut k = k + 2;
        if matches!(cx.toks.get(k).map(|t| t.text), Some("bar" | "bars")) {
            k += 1;
        }
        let (volume, k) = self.volume(cx, k, DEFAULT_VOLUME)?;
        self.no_more(cx, k)?;
        let start = self.start(cx, first)?;
        let sign = if up { 1 } else { -1 };
        let mut prev = c0;
        for b in 1..=n {
            // round(total·b/n), halves away from zero: integer arithmetic, no float drift.
            let moved = (2 * total * b + n) / (2 * n);
            let close = c0 + sign * moved;
            let (hi, lo) = if up { (close, prev) } else { (prev, close) };
            self.push_ticks(
                cx,
                start + 60 * (b - 1),
                [prev, hi, lo, close],
                volume,
                word,
            )?;
            prev = close;
        }
        Ok(())
    }

    /// `breakout to P [volume V]` (also `breakdown to P`): one decisive bar from the last close
    /// to P. Up: open = last close, high = P, low = open, close = P − 1 tick (not below the
    /// open). Down: the mirror. Volume defaults to 900 (a breakout on volume).
    fn breakout(&mut self, cx: &LineCx, i: usize, first: Option<i64>) -> Result<(), ScenarioError> {
        let o = self.last_close(cx, i - 1)?;
        if cx.toks.get(i).map(|t| t.text) != Some("to") {
            return Err(cx.err(
                self.src,
                i,
                "expected `to PRICE`, e.g. `breakout to 6101.50`",
            ));
        }
        let p = self.ticks(cx, i + 1, "breakout: price")?;
        let (volume, k) = self.volume(cx, i + 2, BREAKOUT_VOLUME)?;
        self.no_more(cx, k)?;
        let bar = if p > o {
            [o, p, o, (p - 1).max(o)]
        } else if p < o {
            [o, o, p, (p + 1).min(o)]
        } else {
            return Err(cx.err(
                self.src,
                i + 1,
                "a breakout must move away from the last close",
            ));
        };
        let start = self.start(cx, first)?;
        self.push_ticks(cx, start, bar, volume, "breakout")
    }

    /// `retest P [close C] [volume V]`: one bar that comes back to P and closes at C (default:
    /// where it opened, the last close). open = last close, high = max(open, C, P),
    /// low = min(open, C, P): below the last close it is a long retest (its low is P), above it
    /// a short one (its high is P).
    fn retest(&mut self, cx: &LineCx, i: usize, first: Option<i64>) -> Result<(), ScenarioError> {
        let o = self.last_close(cx, i - 1)?;
        let p = self.ticks(cx, i, "retest: price")?;
        let mut k = i + 1;
        let c = if cx.toks.get(k).map(|t| t.text) == Some("close") {
            k += 2;
            self.ticks(cx, k - 1, "retest: close")?
        } else {
            o
        };
        let (volume, k) = self.volume(cx, k, DEFAULT_VOLUME)?;
        self.no_more(cx, k)?;
        let start = self.start(cx, first)?;
        self.push_ticks(
            cx,
            start,
            [o, o.max(c).max(p), o.min(c).min(p), c],
            volume,
            "retest",
        )
    }

    fn options<'a>(
        &self,
        cx: &'a LineCx,
        i: usize,
        allowed: &[&str],
        step: &str,
    ) -> Result<Options<'a>, ScenarioError> {
        let mut pairs: Vec<(usize, &str, usize)> = Vec::new();
        let mut k = i;
        while k < cx.toks.len() {
            let key = cx.toks[k].text;
            if !allowed.contains(&key) {
                return Err(cx.err(
                    self.src,
                    k,
                    format!(
                        "`{step}` has no option `{key}` (options: {})",
                        allowed.join(", ")
                    ),
                ));
            }
            if pairs.iter().any(|(_, kk, _)| *kk == key) {
                return Err(cx.err(self.src, k, format!("`{key}` is given twice")));
            }
            if k + 1 >= cx.toks.len() {
                return Err(cx.err(self.src, k + 1, format!("`{key}` needs a value")));
            }
            // `signal` may take a full date and time (two words).
            let value = k + 1;
            let width = if key == "signal"
                && is_date(cx.toks[value].text)
                && cx.toks.get(value + 1).is_some_and(|t| is_time(t.text))
            {
                2
            } else {
                1
            };
            pairs.push((k, key, value));
            k = value + width;
        }
        Ok(Options { pairs })
    }

    /// `v_reversal high H low L [breakout B] [retest R] [close C] [volume V] [signal HH:MM]` and
    /// its mirror `inverted_v low L high H [breakdown B] [retest R] [close C] ...`: the textbook
    /// V of DESIGN §9 in 12 bars, origin first and the retest (the signal bar) last, shaped so
    /// that with the default parameters exactly one bar — the retest — is a signal. See
    /// [`long_v_shape`] for the bars. `signal HH:MM` places the retest bar at that close (the
    /// origin closes 11 minutes earlier); without it the V starts at the line's time or right
    /// after the previous bar.
    fn pattern(
        &mut self,
        cx: &LineCx,
        i: usize,
        first: Option<i64>,
        short: bool,
    ) -> Result<(), ScenarioError> {
        let (step, origin_key, extreme_key, break_key) = if short {
            ("inverted_v", "low", "high", "breakdown")
        } else {
            ("v_reversal", "high", "low", "breakout")
        };
        let allowed = [
            origin_key,
            extreme_key,
            break_key,
            "retest",
            "close",
            "volume",
            "signal",
        ];
        let opts = self.options(cx, i, &allowed, step)?;
        let get = |key: &str| opts.pairs.iter().find(|(_, k, _)| *k == key).copied();
        let need = |key: &str| {
            get(key).ok_or_else(|| {
                cx.err(
                    self.src,
                    cx.toks.len(),
                    format!(
                        "`{step}` needs `{origin_key} PRICE {extreme_key} PRICE`, e.g. `{}`",
                        if short {
                            "inverted_v low 6290.00 high 6301.25"
                        } else {
                            "v_reversal high 6107.25 low 6091.50"
                        }
                    ),
                )
            })
        };
        let (_, _, ov) = need(origin_key)?;
        let (_, _, ev) = need(extreme_key)?;
        let origin = self.ticks(cx, ov, &format!("{step} {origin_key}"))?;
        let extreme = self.ticks(cx, ev, &format!("{step} {extreme_key}"))?;
        // Offsets in ticks measured away from the move: for a long V, price = origin + offset;
        // for an inverted V, price = origin − offset (and highs and lows swap).
        let off = |p: Ticks| if short { origin - p } else { p - origin };
        let depth = -off(extreme);
        if depth < 4 {
            return Err(cx.err(
                self.src,
                ev,
                format!(
                    "the {extreme_key} must be at least 4 ticks {} the {origin_key} (the shape needs room)",
                    if short { "above" } else { "below" }
                ),
            ));
        }
        let breakout = match get(break_key) {
            Some((_, _, v)) => {
                let b = off(self.ticks(cx, v, &format!("{step} {break_key}"))?);
                if b < 0 {
                    return Err(cx.err(
                        self.src,
                        v,
                        format!(
                            "the {break_key} may touch the {origin_key} but not stay {} it",
                            if short { "above" } else { "below" }
                        ),
                    ));
                }
                b
            }
            None => 6,
        };
        let retest = match get("retest") {
            Some((_, _, v)) => off(self.ticks(cx, v, &format!("{step} retest"))?),
            None => 1,
        };
        let close = match get("close") {
            Some((_, _, v)) => {
                let c = off(self.ticks(cx, v, &format!("{step} close"))?);
                if c < retest {
                    return Err(cx.err(
                        self.src,
                        v,
                        format!(
                            "the retest bar cannot close {} its retest price",
                            if short { "above" } else { "below" }
                        ),
                    ));
                }
                c
            }
            None => retest.max(4),
        };
        let volume = match get("volume") {
            Some((_, _, v)) => {
                let x = self.number(cx, v, "volume")?;
                if x < 0.0 {
                    return Err(cx.err(self.src, v, "volume must be zero or positive"));
                }
                x
            }
            None => BREAKOUT_VOLUME,
        };
        let start = match get("signal") {
            Some((k, _, v)) => {
                if first.is_some() {
                    return Err(cx.err(
                        self.src,
                        k,
                        "give either a time at the start of the line (the origin bar) or `signal HH:MM` (the retest bar), not both",
                    ));
                }
                let (date, tt) = if is_date(cx.toks[v].text) {
                    let d =
                        NaiveDate::parse_from_str(cx.toks[v].text, "%Y-%m-%d").expect("checked");
                    self.date = d;
                    (d, v + 1)
                } else {
                    (self.date, v)
                };
                let minute = parse_hhmm(cx.toks[tt].text).ok_or_else(|| {
                    cx.err(
                        self.src,
                        tt,
                        "`signal` needs a time HH:MM (the retest bar's close, ET)",
                    )
                })?;
                self.instant(cx, tt, date, minute)? - 11 * 60
            }
            None => self.start(cx, first)?,
        };
        let shape = long_v_shape(depth, breakout, retest, close);
        let names = [
            "origin", "decline", "decline", "decline", "low", "recovery", "recovery", "recovery",
            "breakout", "above", "above", "retest",
        ];
        for (n, (bar, name)) in shape.iter().zip(names).enumerate() {
            let [o, h, l, c] = *bar;
            let ticks = if short {
                [origin - o, origin - l, origin - h, origin - c]
            } else {
                [origin + o, origin + h, origin + l, origin + c]
            };
            let vol = if n == 8 { volume } else { DEFAULT_VOLUME };
            let what = format!("{step} {name}");
            self.push_ticks(cx, start + 60 * n as i64, ticks, vol, &what)?;
        }
        Ok(())
    }
}

/// The 12 bars of the textbook long V as `[open, high, low, close]` in ticks relative to the
/// origin high H (ES: 4 ticks = 1 point). `depth` = H − low (≥ 4), `breakout` = breakout high
/// − H (≥ 0), `retest` = retest low − H, `close` = retest close − H.
///
/// The same shape as the tests' `long_v` (known clean): bar 0 is the origin (high H); bars 1–3
/// fall to the low (bar 4); bars 5–7 recover with highs under H; bar 8 breaks above H on
/// volume; bars 9–10 hold more than the tolerance above H (no retest yet); bar 11 comes back to
/// H and holds: the retest. Why only bar 11 is a signal (with the default parameters): every
/// earlier bar's first retest, if any, is bar 11 too, so only the oldest origin (bar 0) is
/// reported there; the recovery bars' own drops are under 4 points (for depth < 16 ticks they
/// are one tick) or their first pullback never comes within 1 point; and the bars after the
/// breakout are too close to the top for a 4-point drop. Bars before a V should stay under its
/// low (they then can never be an origin: nothing after them drops below them).
pub fn long_v_shape(
    depth: Ticks,
    breakout: Ticks,
    retest: Ticks,
    close: Ticks,
) -> [[Ticks; 4]; 12] {
    let low = -depth;
    let d2 = -(depth / 2);
    let d3 = -(3 * depth / 4);
    let c5 = (-15).max(low + 1);
    let c6 = (-9).max(c5);
    let c7 = (-3).max(c6);
    let o11 = 7.max(retest);
    [
        [-2, 0, -3, -2],
        [-2, -1, d2, d2 + 1],
        [d2 + 1, d2 + 1, d3, d3 + 1],
        [d3 + 1, d3 + 1, low + 1, low + 2],
        [low + 2, low + 3, low, low + 2],
        [low + 2, (-14).max(low + 2), low + 1, c5],
        [c5, (-8).max(c5), c5, c6],
        [c6, (-2).max(c6), c6, c7],
        [c7, breakout.max(c7), (-6).max(low), (breakout - 1).max(c7)],
        [5, 10, 5, 9],
        [9, 11, 6, 7],
        [o11, 8.max(close).max(o11), retest, close],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Source {
        Source::new("s.toml", text)
    }

    fn run(block: &str) -> Result<Vec<ScenarioBar>, ScenarioError> {
        let s = src(block);
        let mut offset = 0;
        let lines: Vec<BlockLine> = block
            .split('\n')
            .enumerate()
            .map(|(n, l)| {
                let b = BlockLine {
                    text: l,
                    line: n + 1,
                    offset: Some(offset),
                };
                offset += l.len() + 1;
                b
            })
            .collect();
        expand(
            &lines,
            NaiveDate::from_ymd_opt(2025, 2, 13).unwrap(),
            0.25,
            &s,
        )
    }

    fn et(b: &ScenarioBar) -> String {
        MarketClock::exchange().stamp(b.bar.close_time).format()[11..16].to_string()
    }

    #[test]
    fn textbook_v_is_12_valid_bars_with_the_retest_at_the_signal_time() {
        let bars = run("v_reversal high 6107.25 low 6091.50 signal 13:59").unwrap();
        assert_eq!(bars.len(), 12);
        assert_eq!(et(&bars[0]), "13:48");
        assert_eq!(et(&bars[11]), "13:59");
        assert_eq!(bars[0].bar.high, 6107.25);
        let lowest = bars.iter().map(|b| b.bar.low).fold(f64::MAX, f64::min);
        assert_eq!(lowest, 6091.50);
        assert_eq!(bars[4].bar.low, 6091.50);
        assert_eq!(bars[8].bar.high, 6108.75);
        assert_eq!(bars[8].bar.volume, 900.0);
        assert_eq!((bars[11].bar.low, bars[11].bar.close), (6107.50, 6108.25));
        // Highs before the breakout stay under H.
        assert!(bars[1..8].iter().all(|b| b.bar.high < 6107.25));
    }

    #[test]
    fn every_depth_from_one_point_gives_valid_bars_both_ways() {
        for depth in 4..200 {
            for b in [0, 6, 20] {
                let s = long_v_shape(depth, b, 1, 4);
                for (n, [o, h, l, c]) in s.iter().enumerate() {
                    assert!(
                        l <= o && o <= h && l <= c && c <= h,
                        "depth {depth} bar {n}: {:?}",
                        s[n]
                    );
                }
                assert_eq!(s.iter().map(|x| x[2]).min(), Some(-depth), "depth {depth}");
                assert!(s[1..8].iter().all(|x| x[1] < 0), "depth {depth}");
            }
        }
        let bars = run("09:00 inverted_v low 6290.00 high 6301.25").unwrap();
        assert_eq!(bars[0].bar.low, 6290.0);
        assert_eq!(bars[4].bar.high, 6301.25);
        assert_eq!((bars[11].bar.high, bars[11].bar.close), (6289.75, 6289.0));
        assert_eq!(et(&bars[11]), "09:11");
    }

    #[test]
    fn slopes_move_exactly_and_evenly_on_the_tick_grid() {
        let bars =
            run("13:30 flat 2 bars at 6100\ndrop 5 over 6 bars\nrally to 6101.5 over 2").unwrap();
        assert_eq!(bars.len(), 10);
        let closes: Vec<f64> = bars.iter().map(|b| b.bar.close).collect();
        assert_eq!(
            closes,
            [6100.0, 6100.0, 6099.25, 6098.25, 6097.5, 6096.75, 6095.75, 6095.0, 6098.25, 6101.5]
        );
        assert_eq!((bars[2].bar.high, bars[2].bar.low), (6100.0, 6099.25));
        assert_eq!(et(&bars[9]), "13:39");
    }

    #[test]
    fn flat_until_breakout_and_retest() {
        let bars =
            run("13:30 flat until 13:34 at 6100\nbreakout to 6102\nretest 6100.25 close 6101")
                .unwrap();
        assert_eq!(bars.len(), 7);
        let b = &bars[5].bar;
        assert_eq!(
            (b.open, b.high, b.low, b.close, b.volume),
            (6100.0, 6102.0, 6100.0, 6101.75, 900.0)
        );
        let r = &bars[6].bar;
        assert_eq!(
            (r.open, r.high, r.low, r.close),
            (6101.75, 6101.75, 6100.25, 6101.0)
        );
    }

    #[test]
    fn steps_walk_through_the_spring_forward_gap_in_real_minutes() {
        let bars = run("2025-03-09 01:58 flat 3 bars at 6000").unwrap();
        let times: Vec<String> = bars.iter().map(et).collect();
        assert_eq!(times, ["01:58", "01:59", "03:00"]);
        let err = run("2025-03-09 02:30 flat 3 bars at 6000")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("s.toml:1:12: 2025-03-09 02:30:00 does not exist"),
            "{err}"
        );
    }

    #[test]
    fn errors_name_line_and_column_of_the_word() {
        let cases = [
            ("13:30 flat 10 bars at 6100\nwiggle 3", "s.toml:2:1: unknown step `wiggle`"),
            ("13:30 flat 10 bars at 6100.10", "s.toml:1:23: flat: price 6100.1 is not a positive multiple"),
            ("13:30 flat ten bars", "s.toml:1:12: flat: number of bars: `ten`"),
            ("flat 3 bars at 6100", "s.toml:1:1: the first bar needs a time"),
            ("13:30 flat 3 bars at 6100\n13:31 6100 6101 6099 6100", "s.toml:2:1: this bar closes at 2025-02-13 13:31 ET, not after the previous bar (2025-02-13 13:32 ET, line 1)"),
            ("13:30 6100 6099 6101 6100", "s.toml:1:1: invalid bar at 2025-02-13 13:30 ET (open 6100 high 6099 low 6101 close 6100): high is below low"),
            ("13:30 drop 5 over 6 bars", "s.toml:1:7: this step continues from the last close, but there is no bar yet"),
            ("13:30 flat 1 at 6100\ndrop 5 in 6 bars", "s.toml:2:8: expected `over N bars`"),
            ("v_reversal high 6107.25 low 6091.50 lo 3", "s.toml:1:37: `v_reversal` has no option `lo`"),
            ("v_reversal high 6107.25 signal 13:59", "s.toml:1:37: `v_reversal` needs `high PRICE low PRICE`"),
            ("v_reversal high 6107.25 low 6107.00 signal 13:59", "s.toml:1:29: the low must be at least 4 ticks below the high"),
            ("13:48 v_reversal high 6107.25 low 6091.50 signal 13:59", "s.toml:1:43: give either a time"),
            ("1:30 flat 3 bars at 6100", "s.toml:1:1: `1:30` is not a time"),
            ("13:30 flat 3 bars at 6100 please", "s.toml:1:27: unexpected `please`"),
        ];
        for (block, want) in cases {
            let got = run(block).unwrap_err().to_string();
            assert!(got.starts_with(want), "{block}:\n got  {got}\n want {want}");
        }
    }
}
