//! **Average hold** = mean time in the market per trade, in minutes, from the entry time (the
//! open of the entry bar) to the exit bar's close. Undefined (`None`) without trades that
//! entered.

pub fn average_hold_minutes(holds: &[f64]) -> Option<f64> {
    super::mean(holds)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let cases: [(&[f64], Option<f64>); 4] = [
            (&[], None),
            (&[25.0], Some(25.0)),
            (&[1.0, 2.0, 6.0], Some(3.0)),
            (&[0.0, 0.0], Some(0.0)),
        ];
        for (holds, want) in cases {
            assert_eq!(super::average_hold_minutes(holds), want, "{holds:?}");
        }
    }
}
