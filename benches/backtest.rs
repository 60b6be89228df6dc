//! Backtest speed, measured side by side in one run on the real 2021–2022 file:
//! 1. `vrev backtest FILE --report DIR` vs `vrev replay FILE` (the real binary, as a user runs
//!    them; replay writes every signal file) — target: backtest ≤ 1.2× replay;
//!    also in memory: the engine alone vs engine + statistics + report files, and the report
//!    alone (statistics, trades.csv, daily.csv, report.html) — target: < 0.5 s extra and a
//!    report.html under 20 MB.
//! 2. A 4×4 sweep run in parallel on all cores vs the same 16 cells one after another —
//!    target: parallel wall time ≤ 0.65× sequential.
//!
//!     cargo bench --bench backtest          (VREV_BENCH_FILE=... for another file)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use vrev::backtest::{report, run, sweep};
use vrev::config::Config;
use vrev::host::engine::EngineOptions;
use vrev::market::barfile::{read_file, ReadOptions};

fn time(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn best_of(n: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..n).map(|_| f()).min().unwrap_or_default()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = std::env::var_os("VREV_BENCH_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/data/es-1m-2021-2022.nt.txt.gz"));
    if !file.exists() {
        println!(
            "backtest bench skipped: {} not found (set VREV_BENCH_FILE)",
            file.display()
        );
        return;
    }
    let file = file.canonicalize().expect("bench file path");
    // The release binary this bench was built with.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let bin = target.join("release/vrev");
    let status = Command::new("cargo")
        .args(["build", "--release", "--quiet"])
        .current_dir(root)
        .status()
        .expect("cargo");
    assert!(status.success() && bin.exists(), "release build of vrev");

    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(root.join("config.toml"), dir.path().join("config.toml")).expect("config");
    let run_cmd = |args: &[&str]| {
        let out = Command::new(&bin)
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("vrev");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let strategies = root.join("strategies");
    let _ = std::os::unix::fs::symlink(&strategies, dir.path().join("strategies"));
    let f = file.to_str().expect("utf-8 path");
    let replay = best_of(3, || {
        let _ = std::fs::remove_dir_all(dir.path().join("signals"));
        let _ = std::fs::remove_dir_all(dir.path().join("state"));
        time(|| run_cmd(&["replay", f]))
    });
    let backtest = best_of(3, || {
        time(|| run_cmd(&["backtest", f, "--report", "report"]))
    });
    println!("backtest bench: {} (best of 3 each)", file.display());
    println!(
        "  vrev replay (signal files)          {:>7.3} s",
        replay.as_secs_f64()
    );
    println!(
        "  vrev backtest --report             {:>7.3} s",
        backtest.as_secs_f64()
    );
    println!(
        "  backtest / replay: {:.2}x  (target <= 1.2x)",
        backtest.as_secs_f64() / replay.as_secs_f64()
    );

    let cfg = Config::load(&root.join("config.toml")).expect("config");
    let bars = read_file(&file, &ReadOptions::default())
        .expect("bars")
        .bars;
    let engine_only = best_of(3, || {
        time(|| drop(run(&cfg, EngineOptions::default(), &bars, |_| {}).expect("run")))
    });
    let with_report = best_of(3, || {
        time(|| {
            // What --report runs: the series the scripts read are recorded for the overlays.
            let opts = vrev::backtest::report_options(EngineOptions::default());
            let bt = run(&cfg, opts, &bars, |_| {}).expect("run");
            let s = bt.summary();
            report::write_dir(&dir.path().join("r2"), &bt, &bars, &s, None, "bench")
                .expect("report");
        })
    });
    println!(
        "  in memory: engine {:.3} s, engine + statistics + report files {:.3} s ({:.2}x)",
        engine_only.as_secs_f64(),
        with_report.as_secs_f64(),
        with_report.as_secs_f64() / engine_only.as_secs_f64()
    );
    // The report alone, on the trades of one run: what --report adds to a backtest.
    let bt = run(&cfg, EngineOptions::default(), &bars, |_| {}).expect("run");
    let report_only = best_of(3, || {
        time(|| {
            let s = bt.summary();
            report::write_dir(&dir.path().join("r3"), &bt, &bars, &s, None, "bench")
                .expect("report");
        })
    });
    let html = std::fs::metadata(dir.path().join("r3/report.html"))
        .expect("report.html")
        .len();
    println!(
        "  report over the backtest ({} trades): {:.3} s extra  (target < 0.5 s)",
        bt.trades.len(),
        report_only.as_secs_f64()
    );
    println!(
        "  report.html: {:.1} MB  (target < 20 MB)",
        html as f64 / (1 << 20) as f64
    );

    let axes = vec![
        sweep::parse_axis("profile.production.params.drop_threshold=3,4,5,6").expect("axis"),
        sweep::parse_axis("profile.production.stop_pct=0.05,0.1,0.15,0.2").expect("axis"),
    ];
    let grid = sweep::cells(&axes);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let opts = EngineOptions::default();
    let sequential = time(|| drop(sweep::run_grid(&cfg, &opts, &bars, &grid, 1, &|| {})));
    let parallel = time(|| drop(sweep::run_grid(&cfg, &opts, &bars, &grid, cores, &|| {})));
    println!(
        "sweep bench: 4x4 = {} cells on {} bars",
        grid.len(),
        bars.len()
    );
    println!("  one after another  {:>7.3} s", sequential.as_secs_f64());
    println!(
        "  parallel ({cores} threads) {:>7.3} s",
        parallel.as_secs_f64()
    );
    println!(
        "  parallel / sequential: {:.2}x  (target <= 0.65x)",
        parallel.as_secs_f64() / sequential.as_secs_f64()
    );
}
