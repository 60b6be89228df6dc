//! One-minute bars and the in-memory bar history the strategies read.
//!
//! A [`Bar`] is stamped with its **close** time in UTC (DESIGN §4). The [`BarSeries`] keeps the
//! most recent bars in a fixed ring, struct-of-arrays, addressed by an absolute index that counts
//! every bar pushed since the engine started (oldest first). Scripts and native helpers read it in
//! place: nothing is copied per call, and an index past the current bar does not exist, so no
//! helper can look ahead.

/// One bar. `close_time` is seconds since the Unix epoch (UTC) of the bar's close.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    pub close_time: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl Bar {
    /// Why this bar cannot be used, if it cannot (non-finite or non-positive prices, high below
    /// low, open/close outside the range, negative volume).
    pub fn invalid_reason(&self) -> Option<&'static str> {
        let prices = [self.open, self.high, self.low, self.close];
        if prices.iter().any(|p| !p.is_finite()) || !self.volume.is_finite() {
            return Some("price or volume is not a finite number");
        }
        if prices.iter().any(|p| *p <= 0.0) {
            return Some("price is zero or negative");
        }
        if self.volume < 0.0 {
            return Some("volume is negative");
        }
        if self.high < self.low {
            return Some("high is below low");
        }
        if self.open > self.high
            || self.open < self.low
            || self.close > self.high
            || self.close < self.low
        {
            return Some("open or close lies outside the bar's high-low range");
        }
        None
    }
}

/// Default number of bars kept in memory: about 91 days of one-minute bars. Enough for any
/// look-back a one-minute pattern needs, bounded whatever the length of the input.
pub const DEFAULT_HISTORY_BARS: usize = 1 << 17;

/// The recent bar history, addressed by absolute index (0 = first bar ever pushed).
#[derive(Debug)]
pub struct BarSeries {
    mask: usize,
    len: usize,
    close_time: Vec<i64>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

impl BarSeries {
    /// A series that keeps at least `capacity` bars (rounded up to a power of two).
    pub fn with_capacity(capacity: usize) -> Self {
        let cap = capacity.max(64).next_power_of_two();
        BarSeries {
            mask: cap - 1,
            len: 0,
            close_time: vec![0; cap],
            open: vec![0.0; cap],
            high: vec![0.0; cap],
            low: vec![0.0; cap],
            close: vec![0.0; cap],
            volume: vec![0.0; cap],
        }
    }

    /// Number of bars kept in memory at most.
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// Appends a bar and returns its absolute index.
    pub fn push(&mut self, bar: &Bar) -> usize {
        let t = self.len;
        let s = t & self.mask;
        self.close_time[s] = bar.close_time;
        self.open[s] = bar.open;
        self.high[s] = bar.high;
        self.low[s] = bar.low;
        self.close[s] = bar.close;
        self.volume[s] = bar.volume;
        self.len += 1;
        t
    }

    /// Number of bars pushed so far (the next bar's index).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Index of the most recent bar, if any.
    pub fn last(&self) -> Option<usize> {
        self.len.checked_sub(1)
    }

    /// Oldest index still in memory.
    pub fn first_available(&self) -> usize {
        self.len.saturating_sub(self.capacity())
    }

    /// Whether bar `i` exists and is still in memory.
    #[inline]
    pub fn contains(&self, i: i64) -> bool {
        i >= self.first_available() as i64 && i < self.len as i64
    }

    #[inline]
    fn slot(&self, i: usize) -> usize {
        debug_assert!(self.contains(i as i64));
        i & self.mask
    }

    #[inline]
    pub fn high(&self, i: usize) -> f64 {
        self.high[self.slot(i)]
    }
    #[inline]
    pub fn low(&self, i: usize) -> f64 {
        self.low[self.slot(i)]
    }
    #[inline]
    pub fn open(&self, i: usize) -> f64 {
        self.open[self.slot(i)]
    }
    #[inline]
    pub fn close(&self, i: usize) -> f64 {
        self.close[self.slot(i)]
    }
    #[inline]
    pub fn volume(&self, i: usize) -> f64 {
        self.volume[self.slot(i)]
    }
    #[inline]
    pub fn close_time(&self, i: usize) -> i64 {
        self.close_time[self.slot(i)]
    }

    pub fn bar(&self, i: usize) -> Bar {
        Bar {
            close_time: self.close_time(i),
            open: self.open(i),
            high: self.high(i),
            low: self.low(i),
            close: self.close(i),
            volume: self.volume(i),
        }
    }

    /// Clamps the inclusive range `from..=to` to the bars that exist; `None` when empty.
    #[inline]
    pub fn clamp(&self, from: i64, to: i64) -> Option<(usize, usize)> {
        let lo = from.max(self.first_available() as i64);
        let hi = to.min(self.len as i64 - 1);
        (lo <= hi).then_some((lo as usize, hi as usize))
    }

    /// Index of the first bar with the lowest low in `from..=to` (clamped).
    pub fn lowest_low(&self, from: i64, to: i64) -> Option<usize> {
        let (lo, hi) = self.clamp(from, to)?;
        let mut best = lo;
        let mut best_low = self.low(lo);
        for i in lo + 1..=hi {
            let l = self.low(i);
            if l < best_low {
                best = i;
                best_low = l;
            }
        }
        Some(best)
    }

    /// Index of the first bar with the highest high in `from..=to` (clamped).
    pub fn highest_high(&self, from: i64, to: i64) -> Option<usize> {
        let (lo, hi) = self.clamp(from, to)?;
        let mut best = lo;
        let mut best_high = self.high(lo);
        for i in lo + 1..=hi {
            let h = self.high(i);
            if h > best_high {
                best = i;
                best_high = h;
            }
        }
        Some(best)
    }

    /// First bar in `from..=to` whose high is strictly above `level`.
    pub fn first_high_above(&self, from: i64, to: i64, level: f64) -> Option<usize> {
        let (lo, hi) = self.clamp(from, to)?;
        (lo..=hi).find(|&i| self.high(i) > level)
    }

    /// First bar in `from..=to` whose low is strictly below `level`.
    pub fn first_low_below(&self, from: i64, to: i64, level: f64) -> Option<usize> {
        let (lo, hi) = self.clamp(from, to)?;
        (lo..=hi).find(|&i| self.low(i) < level)
    }

    /// First bar in `from..=to` whose close is strictly above `level`.
    pub fn first_close_above(&self, from: i64, to: i64, level: f64) -> Option<usize> {
        let (lo, hi) = self.clamp(from, to)?;
        (lo..=hi).find(|&i| self.close(i) > level)
    }

    /// First bar in `from..=to` whose close is strictly below `level`.
    pub fn first_close_below(&self, from: i64, to: i64, level: f64) -> Option<usize> {
        let (lo, hi) = self.clamp(from, to)?;
        (lo..=hi).find(|&i| self.close(i) < level)
    }

    /// Number of bars in `from..=to` whose close is strictly above `level`.
    pub fn count_closes_above(&self, from: i64, to: i64, level: f64) -> usize {
        self.clamp(from, to).map_or(0, |(lo, hi)| {
            (lo..=hi).filter(|&i| self.close(i) > level).count()
        })
    }

    /// Number of bars in `from..=to` whose close is strictly below `level`.
    pub fn count_closes_below(&self, from: i64, to: i64, level: f64) -> usize {
        self.clamp(from, to).map_or(0, |(lo, hi)| {
            (lo..=hi).filter(|&i| self.close(i) < level).count()
        })
    }

    /// First bar in `from..=to` that pulls back to `level` from above and holds it: its low is
    /// within `tolerance` of the level and its close is at least `level - tolerance`.
    pub fn first_pullback_to(
        &self,
        from: i64,
        to: i64,
        level: f64,
        tolerance: f64,
    ) -> Option<usize> {
        let (lo, hi) = self.clamp(from, to)?;
        (lo..=hi).find(|&i| {
            (self.low(i) - level).abs() <= tolerance && self.close(i) >= level - tolerance
        })
    }

    /// First bar in `from..=to` that rallies back to `level` from below and is held under it: its
    /// high is within `tolerance` of the level and its close is at most `level + tolerance`.
    pub fn first_rally_to(&self, from: i64, to: i64, level: f64, tolerance: f64) -> Option<usize> {
        let (lo, hi) = self.clamp(from, to)?;
        (lo..=hi).find(|&i| {
            (self.high(i) - level).abs() <= tolerance && self.close(i) <= level + tolerance
        })
    }

    /// Calls `f` with each bar in `from..=to` (oldest first) whose high lies within `tolerance` of
    /// `price`.
    pub fn each_high_near(
        &self,
        from: i64,
        to: i64,
        price: f64,
        tolerance: f64,
        mut f: impl FnMut(usize),
    ) {
        if let Some((lo, hi)) = self.clamp(from, to) {
            for i in lo..=hi {
                if (self.high(i) - price).abs() <= tolerance {
                    f(i)
                }
            }
        }
    }

    /// Calls `f` with each bar in `from..=to` (oldest first) whose low lies within `tolerance` of
    /// `price`.
    pub fn each_low_near(
        &self,
        from: i64,
        to: i64,
        price: f64,
        tolerance: f64,
        mut f: impl FnMut(usize),
    ) {
        if let Some((lo, hi)) = self.clamp(from, to) {
            for i in lo..=hi {
                if (self.low(i) - price).abs() <= tolerance {
                    f(i)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(t: i64, h: f64, l: f64) -> Bar {
        Bar {
            close_time: t,
            open: l,
            high: h,
            low: l,
            close: h,
            volume: 1.0,
        }
    }

    #[test]
    fn ring_keeps_absolute_indices_and_forgets_the_oldest() {
        let mut s = BarSeries::with_capacity(64);
        for i in 0..100 {
            assert_eq!(s.push(&bar(i, 10.0 + i as f64, 5.0)), i as usize);
        }
        assert_eq!(s.first_available(), 36);
        assert!(!s.contains(35));
        assert!(s.contains(36) && s.contains(99) && !s.contains(100));
        assert_eq!(s.high(99), 109.0);
        assert_eq!(s.clamp(0, 200), Some((36, 99)));
    }

    #[test]
    fn range_helpers_take_the_first_on_ties_and_clamp() {
        let mut s = BarSeries::with_capacity(64);
        for (i, (h, l)) in [(10.0, 5.0), (12.0, 4.0), (12.0, 4.0), (11.0, 6.0)]
            .iter()
            .enumerate()
        {
            s.push(&bar(i as i64, *h, *l));
        }
        assert_eq!(s.lowest_low(-5, 10), Some(1));
        assert_eq!(s.highest_high(0, 3), Some(1));
        assert_eq!(s.first_high_above(0, 3, 11.0), Some(1));
        assert_eq!(s.first_high_above(0, 3, 12.0), None);
        assert_eq!(s.first_low_below(2, 3, 4.5), Some(2));
        assert_eq!(s.lowest_low(3, 2), None);
        let mut near = vec![];
        s.each_high_near(0, 3, 11.5, 0.5, |i| near.push(i));
        assert_eq!(near, vec![1, 2, 3]);
    }

    #[test]
    fn invalid_bars_are_named() {
        let ok = Bar {
            close_time: 0,
            open: 2.0,
            high: 3.0,
            low: 1.0,
            close: 2.0,
            volume: 0.0,
        };
        assert_eq!(ok.invalid_reason(), None);
        assert!(Bar { high: 0.5, ..ok }.invalid_reason().is_some());
        assert!(Bar {
            open: f64::NAN,
            ..ok
        }
        .invalid_reason()
        .is_some());
        assert!(Bar { low: -1.0, ..ok }.invalid_reason().is_some());
        assert!(Bar { volume: -1.0, ..ok }.invalid_reason().is_some());
    }
}
