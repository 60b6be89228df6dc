//! The shipped scripts propose exactly what the native reference of DESIGN §9 proposes, on every
//! bar of long synthetic series and (when `../shared/data` is present) of the real 2021–2022 ES
//! data.

mod common;
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use vrev::market::bar::{Bar, BarSeries};
use vrev::market::synth::{generate, SynthOptions};
use vrev::strategy::native::{NativeKind, NativeStrategy, VParams};
use vrev::strategy::script::{merge_params, ScriptHost, ScriptLimits, ScriptStrategy};
use vrev::strategy::{Proposal, Strategy};

/// A script compiled and bound to `params` over a fresh series.
fn bound(
    path: &Path,
    source: &str,
    params: &toml::Table,
) -> Result<(Rc<RefCell<BarSeries>>, ScriptStrategy), String> {
    let series = Rc::new(RefCell::new(BarSeries::with_capacity(1 << 12)));
    let host = ScriptHost::new(series.clone(), ScriptLimits::default());
    let compiled = Rc::new(
        host.compile_source(path, source)
            .map_err(|e| e.to_string())?,
    );
    let merged = merge_params(&compiled, params)?;
    let strategy = host.bind(compiled, merged).map_err(|e| e.to_string())?;
    Ok((series, strategy))
}

/// Runs script and reference side by side over `bars`, on every bar; returns the number of
/// proposals (all equal, or the test fails at the first difference).
fn compare(bars: &[Bar], script: &str, kind: NativeKind, params: &toml::Table) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("strategies")
        .join(script);
    let source = std::fs::read_to_string(&path).unwrap();
    let (series, mut scripted) = bound(&path, &source, params).unwrap();
    let mut native =
        NativeStrategy::new(series.clone(), kind, VParams::from_table(params).unwrap());
    let (mut a, mut b): (Vec<Proposal>, Vec<Proposal>) = (vec![], vec![]);
    let mut total = 0;
    for bar in bars {
        let t = series.borrow_mut().push(bar);
        a.clear();
        b.clear();
        scripted.on_bar(t, &mut a).unwrap();
        native.on_bar(t, &mut b).unwrap();
        assert_eq!(
            a, b,
            "{script} and the reference differ at bar {t} (close time {})",
            bar.close_time
        );
        total += a.len();
    }
    total
}

fn table(s: &str) -> toml::Table {
    toml::from_str(s).unwrap()
}

#[test]
fn vreversal_script_matches_the_reference_on_long_synthetic_series() {
    let mut proposals = 0;
    for (seed, vol) in [(1, 2), (2, 3), (3, 4), (4, 1)] {
        let bars = generate(&SynthOptions {
            seed,
            days: 6,
            volatility_ticks: vol,
            ..Default::default()
        });
        proposals += compare(
            &bars,
            "vreversal.rhai",
            NativeKind::LongOnly,
            &toml::Table::new(),
        );
        proposals += compare(
            &bars,
            "vreversal.rhai",
            NativeKind::LongOnly,
            &table("drop_threshold = 2.5\npullback_tolerance = 0.5\ndrop_window = 8"),
        );
    }
    assert!(
        proposals > 500,
        "the series must exercise the pattern, got {proposals}"
    );
}

#[test]
fn bidirectional_script_matches_the_reference_both_ways() {
    let mut proposals = 0;
    for (seed, vol) in [(5, 2), (6, 3), (7, 4)] {
        let bars = generate(&SynthOptions {
            seed,
            days: 5,
            volatility_ticks: vol,
            ..Default::default()
        });
        proposals += compare(
            &bars,
            "bidirectional.rhai",
            NativeKind::Bidirectional,
            &toml::Table::new(),
        );
        proposals += compare(
            &bars,
            "bidirectional.rhai",
            NativeKind::Bidirectional,
            &table("rise_threshold = 3.0\nbreakout_window = 10"),
        );
    }
    assert!(proposals > 500, "got {proposals}");
}

#[test]
fn vreversal_script_matches_the_reference_on_every_real_bar_needs_real_data() {
    let Some(path) = common::real_data() else {
        common::skip("../shared/data/es-1m-2021-2022.nt.txt.gz is not present");
        return;
    };
    let file = vrev::market::barfile::read_file(&path, &Default::default()).unwrap();
    assert_eq!(file.bars.len(), 707_388);
    let n = compare(
        &file.bars,
        "vreversal.rhai",
        NativeKind::LongOnly,
        &toml::Table::new(),
    );
    assert!(n > 10_000, "got {n}");
    eprintln!("{n} proposals, identical on all {} bars", file.bars.len());
}

#[test]
fn the_readme_script_examples_compile_bind_and_run() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```rhai\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(
        blocks.len() >= 2,
        "the README shows at least a plain and a scan script"
    );
    let bars = generate(&SynthOptions {
        days: 2,
        ..Default::default()
    });
    for (n, src) in blocks.iter().enumerate() {
        let name = format!("readme_{n}.rhai");
        let (series, mut s) = bound(Path::new(&name), src, &toml::Table::new())
            .unwrap_or_else(|e| panic!("README example {n}: {e}"));
        let mut out = vec![];
        for bar in &bars {
            let t = series.borrow_mut().push(bar);
            if t >= 60 {
                s.on_bar(t, &mut out)
                    .unwrap_or_else(|e| panic!("README example {n}: {e}"));
            }
        }
        assert!(
            !out.is_empty(),
            "README example {n} never proposes anything on synthetic V patterns"
        );
    }
}
