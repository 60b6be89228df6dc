//! **Total commissions** = the sum over trades of commission per contract per side × 2 sides ×
//! contracts: what the broker took. Already subtracted from every trade's net P&L. 0 without
//! trades.

pub fn total_commissions(commission_per_contract_side: f64, contracts: &[u32]) -> f64 {
    // Start from +0.0: an empty f64 sum is -0.0, which prints as "-$0.00".
    contracts.iter().fold(0.0, |sum, c| {
        sum + 2.0 * commission_per_contract_side * *c as f64
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let cases: [(f64, &[u32], f64); 4] = [
            (2.25, &[], 0.0),
            (2.25, &[1], 4.5),
            (2.25, &[3, 3, 1], 31.5),
            (0.0, &[5], 0.0),
        ];
        for (per_side, contracts, want) in cases {
            let got = super::total_commissions(per_side, contracts);
            assert_eq!(got, want, "{per_side} {contracts:?}");
            assert!(got.is_sign_positive(), "never -0.00");
        }
    }
}
