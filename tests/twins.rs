//! The indicator strategies (`orb.rhai`, `vwap_reversion.rhai`, `ema_pullback.rhai`) propose
//! exactly what their native twins propose, called on every bar of synthetic series and (when
//! `../shared/data` is present) of the real 2021–2022 ES data.

mod common;
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use vrev::market::bar::{Bar, BarSeries};
use vrev::market::price::Side;
use vrev::market::synth::{generate, SynthOptions};
use vrev::strategy::script::{merge_params, ScriptHost, ScriptLimits};
use vrev::strategy::{twins, Proposal, Strategy};

/// Proposals of script and twin side by side on every bar; (BUY, SELL) counts, or the test
/// fails at the first difference.
fn compare(bars: &[Bar], name: &str, params: &str) -> (usize, usize) {
    let params: toml::Table = toml::from_str(params).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("strategies")
        .join(format!("{name}.rhai"));
    let series = Rc::new(RefCell::new(BarSeries::with_capacity(1 << 17)));
    let host = ScriptHost::new(series.clone(), ScriptLimits::default());
    let compiled = Rc::new(host.compile_file(&path).unwrap());
    let merged = merge_params(&compiled, &params).unwrap();
    let mut script = host.bind(compiled, merged).unwrap();
    let mut twin = twins::build(&format!("builtin:{name}"), series.clone(), &params, 18 * 60)
        .expect("a twin")
        .unwrap();
    let (mut a, mut b): (Vec<Proposal>, Vec<Proposal>) = (vec![], vec![]);
    let (mut buys, mut sells) = (0, 0);
    for bar in bars {
        let t = series.borrow_mut().push(bar);
        a.clear();
        b.clear();
        script.on_bar(t, &mut a).unwrap();
        twin.on_bar(t, &mut b).unwrap();
        assert_eq!(
            a, b,
            "{name}.rhai and its twin differ at bar {t} (close time {})",
            bar.close_time
        );
        buys += a.iter().filter(|p| p.side == Side::Buy).count();
        sells += a.iter().filter(|p| p.side == Side::Sell).count();
    }
    (buys, sells)
}

fn synthetic() -> Vec<Vec<Bar>> {
    [(11, 2), (12, 3), (13, 4)]
        .iter()
        .map(|&(seed, vol)| {
            generate(&SynthOptions {
                seed,
                days: 8,
                volatility_ticks: vol,
                ..Default::default()
            })
        })
        .collect()
}

#[test]
fn each_indicator_strategy_matches_its_twin_on_synthetic_series_both_ways() {
    // (strategy, a second set of params)
    let cases = [
        (
            "orb",
            "range_end = \"10:00\"\nmin_range = 1.0\nmax_range = 40.0",
        ),
        (
            "vwap_reversion",
            "stretch_atr = 1.0\nrsi_low = 40.0\nrsi_high = 60.0\natr_len = 5",
        ),
        (
            "ema_pullback",
            "fast = 5\nslow = 13\nmin_trend_bars = 4\ntolerance = 0.5",
        ),
    ];
    for (name, other) in cases {
        let (mut buys, mut sells) = (0, 0);
        for bars in synthetic() {
            for params in ["", other] {
                let (b, s) = compare(&bars, name, params);
                buys += b;
                sells += s;
            }
        }
        assert!(
            buys >= 5 && sells >= 5,
            "{name}: the series must exercise both sides, got {buys} BUY and {sells} SELL"
        );
        eprintln!("{name}: {buys} BUY and {sells} SELL proposals, identical");
    }
}

#[test]
fn each_indicator_strategy_matches_its_twin_on_every_real_bar_when_the_data_is_present() {
    let Some(path) = common::real_data() else {
        eprintln!("SKIPPED: ../shared/data/es-1m-2021-2022.nt.txt.gz is not present");
        return;
    };
    let file = vrev::market::barfile::read_file(&path, &Default::default()).unwrap();
    for name in ["orb", "vwap_reversion", "ema_pullback"] {
        let (b, s) = compare(&file.bars, name, "");
        assert!(b > 100 && s > 100, "{name}: {b} BUY, {s} SELL");
        eprintln!(
            "{name}: {b} BUY and {s} SELL proposals, identical on all {} bars",
            file.bars.len()
        );
    }
}

#[test]
fn a_twin_refuses_parameters_its_script_does_not_know() {
    let series = Rc::new(RefCell::new(BarSeries::with_capacity(64)));
    let params: toml::Table = toml::from_str("range_ned = \"10:00\"").unwrap();
    let err = twins::build("builtin:orb", series, &params, 18 * 60)
        .unwrap()
        .err()
        .unwrap();
    assert!(err.contains("unknown parameter `range_ned`"), "{err}");
}
