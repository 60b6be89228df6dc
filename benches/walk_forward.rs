//! Walk-forward speed, side by side in one run on the real 2021–2022 file: a 4×4 grid
//! walk-forward in monthly folds (train=6M,test=1M, rolling; then anchored) vs the plain 4×4
//! sweep over the whole file, both on all cores with the bars read once — target: walk-forward
//! ≤ 3× the sweep.
//!
//!     cargo bench --bench walk_forward          (VREV_BENCH_FILE=... for another file)

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vrev::backtest::sweep::{self, SortBy};
use vrev::backtest::walk_forward::{self, Setup};
use vrev::config::Config;
use vrev::host::engine::EngineOptions;
use vrev::market::barfile::{read_file, ReadOptions};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = std::env::var_os("VREV_BENCH_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/data/es-1m-2021-2022.nt.txt.gz"));
    if !file.exists() {
        println!(
            "walk_forward bench skipped: {} not found (set VREV_BENCH_FILE)",
            file.display()
        );
        return;
    }
    let cfg = Config::load(&root.join("config.toml")).expect("config");
    let bars = read_file(&file, &ReadOptions::default())
        .expect("bars")
        .bars;
    let axes = vec![
        sweep::parse_axis("profile.production.params.drop_threshold=3,4,5,6").expect("axis"),
        sweep::parse_axis("profile.production.stop_pct=0.05,0.1,0.15,0.2").expect("axis"),
    ];
    let grid = sweep::cells(&axes);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let opts = EngineOptions::default();
    let setup = Setup {
        base: &cfg,
        opts: &opts,
        axes: &axes,
        grid: &grid,
        sort: SortBy::NetPnl,
        threads,
        monte_carlo: None,
    };
    let rolling_spec = walk_forward::parse_spec("train=6M,test=1M").expect("spec");
    let anchored_spec = walk_forward::parse_spec("train=6M,test=1M,anchored").expect("spec");
    // Alternated rounds, best of each: a busy machine slows all three alike.
    let (mut sweep_time, mut rolling, mut anchored) = (Duration::MAX, Duration::MAX, Duration::MAX);
    let mut folds = 0;
    for _ in 0..3 {
        let t = Instant::now();
        drop(sweep::run_grid(&cfg, &opts, &bars, &grid, threads, &|| {}));
        sweep_time = sweep_time.min(t.elapsed());
        for (spec, best) in [
            (&rolling_spec, &mut rolling),
            (&anchored_spec, &mut anchored),
        ] {
            let t = Instant::now();
            folds = walk_forward::walk_forward(&setup, spec, &bars, &|| {})
                .expect("walk-forward")
                .folds
                .len();
            *best = (*best).min(t.elapsed());
        }
    }
    println!(
        "walk_forward bench: 4x4 = {} cells on {} bars, {threads} threads (best of 3 alternated rounds)",
        grid.len(),
        bars.len()
    );
    println!(
        "  plain sweep                          {:>7.3} s",
        sweep_time.as_secs_f64()
    );
    println!(
        "  walk-forward train=6M,test=1M        {:>7.3} s  ({folds} folds)",
        rolling.as_secs_f64()
    );
    println!(
        "  walk-forward ... anchored            {:>7.3} s",
        anchored.as_secs_f64()
    );
    println!(
        "  walk-forward / sweep: {:.2}x rolling, {:.2}x anchored  (target <= 3x)",
        rolling.as_secs_f64() / sweep_time.as_secs_f64(),
        anchored.as_secs_f64() / sweep_time.as_secs_f64()
    );
}
