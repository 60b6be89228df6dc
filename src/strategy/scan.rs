//! Declarative scans: a script states the search steps of its pattern with general building
//! blocks, the host runs them natively on every eligible bar, and the script's `on_bar` is called
//! only with what the scan found.
//!
//! Why: a Rhai loop over ~60 candidate origins costs ~10 µs per bar, about 6× the whole native
//! engine; the same steps run natively cost ~1 µs, and the script keeps the pattern readable.
//!
//! A scan looks at candidate *origin* bars `i` from `t − max_back` to `t − min_back` (oldest
//! first), each with a *level* (its high, low or close). Steps, in the order given:
//! - a **mark** finds one bar relative to the origin or to an earlier mark, in an inclusive range
//!   of offsets clamped at `t` (bars after `t` do not exist): lowest low, highest high, first high
//!   above the level, first low below it, first pullback to it, first rally to it;
//! - a **requirement** keeps the candidate only if it holds: the level minus a mark's low (a
//!   drop) or a mark's high minus the level (a rise) is at least some points, a mark is before
//!   this bar, or a mark is this bar.
//!
//! A mark that finds nothing drops the candidate. The first (oldest) candidate that passes every
//! step is the match. No allocation per bar.

use crate::market::bar::BarSeries;

/// Most marks one scan may set.
pub const MAX_MARKS: usize = 8;

/// The price of the origin bar a scan measures against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    High,
    Low,
    Close,
}

/// What a mark looks for in its range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Find {
    /// First bar with the lowest low.
    LowestLow,
    /// First bar with the highest high.
    HighestHigh,
    /// First bar whose high is strictly above the level.
    HighAboveLevel,
    /// First bar whose low is strictly below the level.
    LowBelowLevel,
    /// First bar whose low is within `tol` of the level and whose close is ≥ level − tol.
    PullbackToLevel { tol: f64 },
    /// First bar whose high is within `tol` of the level and whose close is ≤ level + tol.
    RallyToLevel { tol: f64 },
}

impl Level {
    /// The level of origin bar `i`.
    pub fn at(self, s: &BarSeries, i: usize) -> f64 {
        match self {
            Level::High => s.high(i),
            Level::Low => s.low(i),
            Level::Close => s.close(i),
        }
    }
}

impl Find {
    /// The bar this mark finds in `a..=b` (clamped), given the origin's level.
    pub fn search(self, s: &BarSeries, a: i64, b: i64, level: f64) -> Option<usize> {
        match self {
            Find::LowestLow => s.lowest_low(a, b),
            Find::HighestHigh => s.highest_high(a, b),
            Find::HighAboveLevel => s.first_high_above(a, b, level),
            Find::LowBelowLevel => s.first_low_below(a, b, level),
            Find::PullbackToLevel { tol } => s.first_pullback_to(a, b, level, tol),
            Find::RallyToLevel { tol } => s.first_rally_to(a, b, level, tol),
        }
    }
}

/// One step of a scan. Mark indices: 0 is the origin, 1.. the marks in the order they were set.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Mark {
        from: usize,
        lo: i64,
        hi: i64,
        find: Find,
    },
    /// level − low[mark] ≥ points
    DropAtLeast { mark: usize, points: f64 },
    /// high[mark] − level ≥ points
    RiseAtLeast { mark: usize, points: f64 },
    /// mark < t
    BeforeThisBar { mark: usize },
    /// mark = t
    IsThisBar { mark: usize },
}

/// A scan plan, built once per profile from the script's `scan(p)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Scan {
    /// Reported to `on_bar` as `found.scan`.
    pub name: String,
    pub max_back: i64,
    pub min_back: i64,
    pub level: Level,
    pub steps: Vec<Step>,
    /// Names of the marks, index 0 = "origin".
    pub marks: Vec<String>,
}

/// What a scan found at bar `t`: the origin and every mark (bar indices).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub marks: [usize; MAX_MARKS],
}

impl Scan {
    pub fn new(name: &str, max_back: i64, min_back: i64) -> Result<Scan, String> {
        if min_back < 0 || max_back < min_back {
            return Err(format!(
                "origins({max_back}, {min_back}): need 0 <= min_back <= max_back"
            ));
        }
        Ok(Scan {
            name: name.to_string(),
            max_back,
            min_back,
            level: Level::High,
            steps: Vec::new(),
            marks: vec!["origin".into()],
        })
    }

    /// Index of a mark by name.
    pub fn mark_index(&self, name: &str) -> Result<usize, String> {
        self.marks.iter().position(|m| m == name).ok_or_else(|| {
            format!(
                "no mark named `{name}` yet (marks so far: {})",
                self.marks.join(", ")
            )
        })
    }

    /// Adds a mark step; `from` names the origin or an earlier mark.
    pub fn add_mark(
        &mut self,
        name: &str,
        from: &str,
        lo: i64,
        hi: i64,
        find: Find,
    ) -> Result<(), String> {
        if self.marks.iter().any(|m| m == name) {
            return Err(format!("mark `{name}` is set twice"));
        }
        if self.marks.len() >= MAX_MARKS {
            return Err(format!("a scan has at most {} marks", MAX_MARKS - 1));
        }
        if lo > hi {
            return Err(format!("mark `{name}`: offsets {lo}..{hi} are empty"));
        }
        let from = self.mark_index(from)?;
        self.steps.push(Step::Mark { from, lo, hi, find });
        self.marks.push(name.to_string());
        Ok(())
    }

    pub fn add_requirement(&mut self, step: Step) {
        self.steps.push(step);
    }

    /// Runs the scan at bar `t` (the newest bar of `s`); the oldest passing origin wins.
    pub fn find(&self, s: &BarSeries, t: usize) -> Option<Found> {
        let mut reads = u64::MAX;
        self.find_within(s, t, &mut reads).unwrap_or(None)
    }

    /// [`Scan::find`] reading at most `*reads` bars (an origin's level, each bar a mark
    /// searches — clamped to the bars in memory — and each requirement count one): `*reads`
    /// is lowered by what it read; `Err(read)` when the budget ran out before the scan ended.
    /// The count depends on the bars only, never on the machine: scans are charged by it
    /// (`docs/script-limits.md`).
    pub fn find_within(
        &self,
        s: &BarSeries,
        t: usize,
        reads: &mut u64,
    ) -> Result<Option<Found>, u64> {
        // Most scans start with a mark searched from the origin and a requirement on it (the
        // V's lowest low and its drop from the high): their kinds are chosen here, once per bar,
        // so that they are compiled into the loop over the origins as in a hand-written scan,
        // not dispatched for each origin. Same steps, same order, same reads.
        let Some(&Step::Mark {
            from: 0,
            lo,
            hi,
            find,
        }) = self.steps.first()
        else {
            let lead: Option<Lead<SearchFn, KeepFn>> = None;
            return self.run(s, t, reads, |s, i| self.level.at(s, i), lead, &self.steps);
        };
        match (self.level, find, self.steps.get(1)) {
            (Level::High, Find::LowestLow, Some(&Step::DropAtLeast { mark: 1, points })) => {
                let lead = Lead {
                    lo,
                    hi,
                    search: |s: &BarSeries, a, b, _| s.lowest_low(a, b),
                    keep: Some(move |s: &BarSeries, level, k| !drop_short(level, s.low(k), points)),
                };
                self.run(s, t, reads, |s, i| s.high(i), Some(lead), &self.steps[2..])
            }
            (Level::Low, Find::HighestHigh, Some(&Step::RiseAtLeast { mark: 1, points })) => {
                let lead = Lead {
                    lo,
                    hi,
                    search: |s: &BarSeries, a, b, _| s.highest_high(a, b),
                    keep: Some(move |s: &BarSeries, level, k| {
                        !rise_short(s.high(k), level, points)
                    }),
                };
                self.run(s, t, reads, |s, i| s.low(i), Some(lead), &self.steps[2..])
            }
            _ => {
                let lead: Lead<_, KeepFn> = Lead {
                    lo,
                    hi,
                    search: |s: &BarSeries, a, b, level| find.search(s, a, b, level),
                    keep: None,
                };
                let level = self.level;
                self.run(
                    s,
                    t,
                    reads,
                    |s, i| level.at(s, i),
                    Some(lead),
                    &self.steps[1..],
                )
            }
        }
    }

    /// The scan with its first mark and requirement `lead` (when taken out of `steps`) and the
    /// other `steps`.
    fn run<L, F, K>(
        &self,
        s: &BarSeries,
        t: usize,
        reads: &mut u64,
        level_of: L,
        lead: Option<Lead<F, K>>,
        steps: &[Step],
    ) -> Result<Option<Found>, u64>
    where
        L: Fn(&BarSeries, usize) -> f64,
        F: Fn(&BarSeries, i64, i64, f64) -> Option<usize>,
        K: Fn(&BarSeries, f64, usize) -> bool,
    {
        let budget = *reads;
        // The reads are tallied, and the tally checked once each origin is done rather than at
        // every read (which cost about a tenth of the scan): the tally only grows, so a scan
        // over its budget is still stopped, at the end of the origin where it ran out, with the
        // same outcome.
        let mut used = 0u64;
        let t = t as i64;
        let first = (t - self.max_back).max(s.first_available() as i64);
        let mut marks = [0usize; MAX_MARKS];
        for i in first..=t - self.min_back {
            let iu = i as usize;
            marks[0] = iu;
            let level = level_of(s, iu);
            used += 1;
            let passed = match &lead {
                Some(lead) => {
                    lead.passes(s, i, t, level, &mut marks, &mut used)
                        && origin_passes(s, t, level, steps, 2, &mut marks, &mut used)
                }
                None => origin_passes(s, t, level, steps, 1, &mut marks, &mut used),
            };
            if used > budget {
                return Err(budget);
            }
            if passed {
                *reads = budget - used;
                return Ok(Some(Found { marks }));
            }
        }
        *reads = budget - used;
        Ok(None)
    }
}

type SearchFn = fn(&BarSeries, i64, i64, f64) -> Option<usize>;
type KeepFn = fn(&BarSeries, f64, usize) -> bool;

/// A scan's first mark, searched from the origin, and the requirement on it that follows.
struct Lead<F, K> {
    lo: i64,
    hi: i64,
    search: F,
    keep: Option<K>,
}

impl<F, K> Lead<F, K>
where
    F: Fn(&BarSeries, i64, i64, f64) -> Option<usize>,
    K: Fn(&BarSeries, f64, usize) -> bool,
{
    /// The first mark (into `marks[1]`) and its requirement, for origin `i`.
    #[inline(always)]
    fn passes(
        &self,
        s: &BarSeries,
        i: i64,
        t: i64,
        level: f64,
        marks: &mut [usize; MAX_MARKS],
        used: &mut u64,
    ) -> bool {
        *used += 1;
        let Some(k) = mark_bar(s, t, i, self.lo, self.hi, used, |a, b| {
            (self.search)(s, a, b, level)
        }) else {
            return false;
        };
        marks[1] = k;
        match &self.keep {
            Some(keep) => {
                *used += 1;
                keep(s, level, k)
            }
            None => true,
        }
    }
}

/// The bar a mark finds with `search` in the offsets `lo..=hi` from bar `base`, clamped at `t`;
/// the bars of the range in memory are added to `used`.
#[inline(always)]
fn mark_bar(
    s: &BarSeries,
    t: i64,
    base: i64,
    lo: i64,
    hi: i64,
    used: &mut u64,
    search: impl FnOnce(i64, i64) -> Option<usize>,
) -> Option<usize> {
    let (a, b) = (base + lo, (base + hi).min(t));
    if let Some((lo, hi)) = s.clamp(a, b) {
        *used += (hi - lo) as u64;
    }
    search(a, b)
}

/// A drop from `level` to `low` of less than `points` (fails `require_drop`).
#[inline(always)]
fn drop_short(level: f64, low: f64, points: f64) -> bool {
    level - low < points
}

/// A rise from `level` to `high` of less than `points` (fails `require_rise`).
#[inline(always)]
fn rise_short(high: f64, level: f64, points: f64) -> bool {
    high - level < points
}

/// Whether the origin in `marks[0]`, at `level`, passes `steps`, the next mark set being
/// `marks[n]`; sets the marks it finds and adds what it reads to `used`.
#[inline(always)]
fn origin_passes(
    s: &BarSeries,
    t: i64,
    level: f64,
    steps: &[Step],
    mut n: usize,
    marks: &mut [usize; MAX_MARKS],
    used: &mut u64,
) -> bool {
    for step in steps {
        *used += 1;
        match *step {
            Step::Mark { from, lo, hi, find } => {
                let base = marks[from] as i64;
                match mark_bar(s, t, base, lo, hi, used, |a, b| find.search(s, a, b, level)) {
                    Some(k) => marks[n] = k,
                    None => return false,
                }
                n += 1;
            }
            Step::DropAtLeast { mark, points } => {
                if drop_short(level, s.low(marks[mark]), points) {
                    return false;
                }
            }
            Step::RiseAtLeast { mark, points } => {
                if rise_short(s.high(marks[mark]), level, points) {
                    return false;
                }
            }
            Step::BeforeThisBar { mark } => {
                if marks[mark] as i64 >= t {
                    return false;
                }
            }
            Step::IsThisBar { mark } => {
                if marks[mark] as i64 != t {
                    return false;
                }
            }
        }
    }
    true
}

/// Why a candidate origin did not become the match (or that it passed), for `vrev explain`.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Every step held.
    Passed,
    /// A mark found no bar in the offsets `from..=to` (bar indices, `to` clamped at `t`; empty
    /// when `from > to`). `closest`: for a first-above/below search, the highest high (lowest
    /// low) there, to say by how much it missed.
    NoBar {
        mark: usize,
        from: i64,
        to: i64,
        closest: Option<f64>,
    },
    /// level − low[mark] (drop) or high[mark] − level (rise) was `got`, `need` was required.
    TooSmall { mark: usize, got: f64, need: f64 },
    /// The mark is this bar, but had to be before it.
    NotBeforeThisBar { mark: usize },
    /// The mark is an earlier bar, but had to be this one.
    NotThisBar { mark: usize },
}

/// One candidate origin at bar `t`, and how far it got.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub origin: usize,
    /// The origin's level (its high, low or close).
    pub level: f64,
    /// The bars the marks found before the candidate stopped (index 0 = origin), in mark order.
    pub marks: Vec<usize>,
    /// The step (index into [`Scan::steps`]) that failed, or `None` when every step held.
    pub failed_step: Option<usize>,
    pub outcome: Outcome,
}

impl Scan {
    /// Every candidate origin at bar `t` with the step it failed and by how much, oldest first:
    /// the same steps as [`Scan::find`] (whose first `Passed` candidate is its match), with the
    /// reasons kept. Slow and allocating; for explanations only, `find` stays the hot path.
    pub fn explain(&self, s: &BarSeries, t: usize) -> Vec<Candidate> {
        let t = t as i64;
        let first = (t - self.max_back).max(s.first_available() as i64);
        let mut out = Vec::new();
        for i in first..=t - self.min_back {
            let iu = i as usize;
            let level = self.level.at(s, iu);
            let mut marks = vec![iu];
            let mut result = (None, Outcome::Passed);
            for (k, step) in self.steps.iter().enumerate() {
                let failed = match *step {
                    Step::Mark { from, lo, hi, find } => {
                        let base = marks[from] as i64;
                        let (a, b) = (base + lo, (base + hi).min(t));
                        let hit = find.search(s, a, b, level);
                        match hit {
                            Some(m) => {
                                marks.push(m);
                                None
                            }
                            None => {
                                let closest = match find {
                                    Find::HighAboveLevel => s.highest_high(a, b).map(|m| s.high(m)),
                                    Find::LowBelowLevel => s.lowest_low(a, b).map(|m| s.low(m)),
                                    _ => None,
                                };
                                Some(Outcome::NoBar {
                                    mark: marks.len(),
                                    from: a,
                                    to: b,
                                    closest,
                                })
                            }
                        }
                    }
                    Step::DropAtLeast { mark, points } => {
                        let got = level - s.low(marks[mark]);
                        (got < points).then_some(Outcome::TooSmall {
                            mark,
                            got,
                            need: points,
                        })
                    }
                    Step::RiseAtLeast { mark, points } => {
                        let got = s.high(marks[mark]) - level;
                        (got < points).then_some(Outcome::TooSmall {
                            mark,
                            got,
                            need: points,
                        })
                    }
                    Step::BeforeThisBar { mark } => {
                        (marks[mark] as i64 >= t).then_some(Outcome::NotBeforeThisBar { mark })
                    }
                    Step::IsThisBar { mark } => {
                        (marks[mark] as i64 != t).then_some(Outcome::NotThisBar { mark })
                    }
                };
                if let Some(o) = failed {
                    result = (Some(k), o);
                    break;
                }
            }
            out.push(Candidate {
                origin: iu,
                level,
                marks,
                failed_step: result.0,
                outcome: result.1,
            });
        }
        out
    }

    /// A step in words: `L = lowest low of origin+0 .. origin+14`, `drop from the level to L's
    /// low >= 4`.
    pub fn describe_step(&self, k: usize) -> String {
        let Some(step) = self.steps.get(k) else {
            return String::new();
        };
        let name = |m: usize| {
            self.marks
                .get(m)
                .cloned()
                .unwrap_or_else(|| format!("#{m}"))
        };
        let level = match self.level {
            Level::High => "the origin's high",
            Level::Low => "the origin's low",
            Level::Close => "the origin's close",
        };
        // The mark this step sets: marks are set in step order, after the origin.
        let set_here = 1 + self.steps[..k]
            .iter()
            .filter(|s| matches!(s, Step::Mark { .. }))
            .count();
        match step {
            Step::Mark { from, lo, hi, find } => {
                let what = match find {
                    Find::LowestLow => "lowest low".to_string(),
                    Find::HighestHigh => "highest high".to_string(),
                    Find::HighAboveLevel => format!("first high above {level}"),
                    Find::LowBelowLevel => format!("first low below {level}"),
                    Find::PullbackToLevel { tol } => {
                        format!("first pullback to within {tol} of {level}")
                    }
                    Find::RallyToLevel { tol } => format!("first rally to within {tol} of {level}"),
                };
                format!(
                    "{} = {what} in {}+{lo} .. {}+{hi}",
                    name(set_here),
                    name(*from),
                    name(*from)
                )
            }
            Step::DropAtLeast { mark, points } => {
                format!("drop from {level} to {}'s low >= {points}", name(*mark))
            }
            Step::RiseAtLeast { mark, points } => {
                format!("rise from {level} to {}'s high >= {points}", name(*mark))
            }
            Step::BeforeThisBar { mark } => format!("{} before this bar", name(*mark)),
            Step::IsThisBar { mark } => format!("{} is this bar", name(*mark)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::native::{long_v, VParams};

    /// `days` of synthetic bars with a V-reversal in every default window.
    fn synth_days(days: u32) -> Vec<crate::market::bar::Bar> {
        crate::market::synth::generate(&crate::market::synth::SynthOptions {
            days,
            volatility_ticks: 3,
            ..Default::default()
        })
    }

    /// DESIGN §9 steps 1–4 as a scan.
    fn long_v_scan(p: &VParams) -> Scan {
        let mut s = Scan::new("long", p.lookback(), 2).unwrap();
        s.add_mark("L", "origin", 0, p.drop_window - 1, Find::LowestLow)
            .unwrap();
        s.add_requirement(Step::DropAtLeast {
            mark: 1,
            points: p.drop_threshold,
        });
        s.add_mark("j", "L", 1, p.breakout_window, Find::HighAboveLevel)
            .unwrap();
        s.add_requirement(Step::BeforeThisBar { mark: 2 });
        s.add_mark(
            "k",
            "j",
            1,
            p.pullback_window,
            Find::PullbackToLevel {
                tol: p.pullback_tolerance,
            },
        )
        .unwrap();
        s.add_requirement(Step::IsThisBar { mark: 3 });
        s
    }

    #[test]
    fn the_long_v_as_a_scan_finds_what_the_reference_finds() {
        let bars = synth_days(3);
        let mut s = BarSeries::with_capacity(4096);
        let p = VParams::default();
        let scan = long_v_scan(&p);
        let mut hits = 0;
        for b in &bars {
            let t = s.push(b);
            let a = scan
                .find(&s, t)
                .map(|f| (s.high(f.marks[0]), s.low(f.marks[1])));
            let r = long_v(&s, t, &p).map(|p| (p.anchor_a, p.anchor_b));
            assert_eq!(a, r, "bar {t}");
            hits += a.is_some() as usize;
        }
        assert!(hits > 20, "{hits}");
    }

    #[test]
    fn a_scan_is_charged_what_it_read_and_stopped_one_read_short_of_it() {
        // The reads are tallied and checked per origin: a budget of exactly what the scan read
        // must let it finish with the same result and nothing left, one read less must stop it.
        let bars = synth_days(2);
        let mut s = BarSeries::with_capacity(256);
        let scan = long_v_scan(&VParams::default());
        let (mut runs, mut hits) = (0, 0);
        for b in &bars {
            let t = s.push(b);
            let mut plenty = u64::MAX;
            let found = scan.find_within(&s, t, &mut plenty).unwrap();
            let read = u64::MAX - plenty;
            if read == 0 {
                continue; // no origin yet
            }
            // An origin's level, each step and each clamped range: never more than this.
            assert!(read <= 58 * (1 + 6 + 14 + 29 + 14), "bar {t}: {read}");
            let mut exact = read;
            assert_eq!(scan.find_within(&s, t, &mut exact), Ok(found), "bar {t}");
            assert_eq!(exact, 0, "bar {t}: charged what it read");
            let mut short = read - 1;
            assert_eq!(
                scan.find_within(&s, t, &mut short),
                Err(read - 1),
                "bar {t}"
            );
            runs += 1;
            hits += found.is_some() as usize;
        }
        assert!(runs > 1000 && hits > 5, "{runs} {hits}");
    }

    #[test]
    fn every_shape_of_scan_finds_what_explain_finds_origin_by_origin() {
        // find() compiles the common first mark and requirement into its loop (the long V: lowest
        // low and drop; the short V: highest high and rise) and runs any other scan step by
        // step; explain() walks every origin step by step. They must agree on every bar.
        let p = VParams::default();
        let mut short = Scan::new("short", p.lookback(), 2).unwrap();
        short.level = Level::Low;
        short
            .add_mark("H", "origin", 0, p.drop_window - 1, Find::HighestHigh)
            .unwrap();
        short.add_requirement(Step::RiseAtLeast {
            mark: 1,
            points: 4.0,
        });
        short
            .add_mark("j", "H", 1, p.breakout_window, Find::LowBelowLevel)
            .unwrap();
        short.add_requirement(Step::BeforeThisBar { mark: 2 });
        short
            .add_mark("k", "j", 1, 15, Find::RallyToLevel { tol: 1.0 })
            .unwrap();
        short.add_requirement(Step::IsThisBar { mark: 3 });
        // A first mark with no requirement after it, at the close.
        let mut close = Scan::new("close", 30, 1).unwrap();
        close.level = Level::Close;
        close
            .add_mark("up", "origin", 1, 10, Find::HighAboveLevel)
            .unwrap();
        close.add_requirement(Step::BeforeThisBar { mark: 1 });
        close
            .add_mark("back", "up", 1, 10, Find::LowBelowLevel)
            .unwrap();
        close.add_requirement(Step::IsThisBar { mark: 2 });
        // The V's first mark with its drop on another mark; and a scan of requirements only.
        let mut late_drop = Scan::new("late", 40, 2).unwrap();
        late_drop
            .add_mark("L", "origin", 0, 9, Find::LowestLow)
            .unwrap();
        late_drop
            .add_mark("j", "L", 1, 20, Find::HighAboveLevel)
            .unwrap();
        late_drop.add_requirement(Step::DropAtLeast {
            mark: 1,
            points: 3.0,
        });
        late_drop.add_requirement(Step::IsThisBar { mark: 2 });
        let mut bare = Scan::new("bare", 5, 0).unwrap();
        bare.add_requirement(Step::IsThisBar { mark: 0 });
        let scans = [long_v_scan(&p), short, close, late_drop, bare];
        let bars = synth_days(2);
        let mut s = BarSeries::with_capacity(4096);
        let mut hits = [0usize; 5];
        for b in &bars {
            let t = s.push(b);
            for (n, scan) in scans.iter().enumerate() {
                let by_steps = scan
                    .explain(&s, t)
                    .into_iter()
                    .find(|c| c.outcome == Outcome::Passed)
                    .map(|c| c.marks);
                let found = scan
                    .find(&s, t)
                    .map(|f| f.marks[..scan.marks.len()].to_vec());
                assert_eq!(found, by_steps, "scan {} bar {t}", scan.name);
                hits[n] += found.is_some() as usize;
            }
        }
        assert!(hits.iter().all(|&h| h > 5), "{hits:?}");
    }

    #[test]
    fn explain_agrees_with_find_and_says_why_each_origin_failed() {
        let bars = synth_days(2);
        let mut s = BarSeries::with_capacity(4096);
        let p = VParams::default();
        let scan = long_v_scan(&p);
        let mut kinds = std::collections::BTreeSet::new();
        for b in &bars {
            let t = s.push(b);
            let all = scan.explain(&s, t);
            let first_passed = all
                .iter()
                .find(|c| c.outcome == Outcome::Passed)
                .map(|c| c.marks.clone());
            assert_eq!(
                first_passed,
                scan.find(&s, t).map(|f| f.marks[..4].to_vec()),
                "bar {t}"
            );
            for c in &all {
                // Each failure is real: re-check it on the bars.
                match &c.outcome {
                    Outcome::TooSmall { mark, got, need } => {
                        assert!(got < need);
                        assert_eq!(*got, c.level - s.low(c.marks[*mark]));
                        kinds.insert("drop");
                    }
                    Outcome::NoBar {
                        from, to, closest, ..
                    } => {
                        if let Some(h) = closest {
                            assert!(*h <= c.level, "a high above the level was missed");
                        }
                        assert!(from > to || *to <= t as i64);
                        kinds.insert("nobar");
                    }
                    Outcome::NotBeforeThisBar { .. } => {
                        kinds.insert("before");
                    }
                    Outcome::NotThisBar { mark } => {
                        assert!(c.marks[*mark] < t);
                        kinds.insert("this");
                    }
                    Outcome::Passed => {
                        assert_eq!(c.failed_step, None);
                    }
                }
            }
        }
        assert_eq!(kinds.len(), 4, "{kinds:?}");
        assert_eq!(
            scan.describe_step(0),
            "L = lowest low in origin+0 .. origin+14"
        );
        assert_eq!(
            scan.describe_step(1),
            "drop from the origin's high to L's low >= 4"
        );
        assert_eq!(
            scan.describe_step(2),
            "j = first high above the origin's high in L+1 .. L+30"
        );
        assert_eq!(scan.describe_step(5), "k is this bar");
    }

    #[test]
    fn building_errors_name_the_problem() {
        let mut s = Scan::new("x", 10, 2).unwrap();
        assert!(s
            .add_mark("a", "nope", 0, 1, Find::LowestLow)
            .unwrap_err()
            .contains("no mark named `nope`"));
        s.add_mark("a", "origin", 0, 1, Find::LowestLow).unwrap();
        assert!(s
            .add_mark("a", "origin", 0, 1, Find::LowestLow)
            .unwrap_err()
            .contains("set twice"));
        assert!(s
            .add_mark("b", "a", 3, 1, Find::LowestLow)
            .unwrap_err()
            .contains("empty"));
        assert!(Scan::new("x", 1, 2).is_err());
    }
}
