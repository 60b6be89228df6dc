//! Command-line arguments: every command and option is defined here, and this also drives
//! `--help`. The work itself is in `commands.rs`.

use crate::market::barfile::BarTime;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "vrev",
    version,
    about = "Rhai-scripted pattern engine that turns one-minute ES bars into NinjaTrader 8 signal files"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Push the bars of a file through the engine exactly as live bars, writing signal files,
    /// the journal and the ledger.
    Replay(ReplayArgs),
    /// Trade live: connect to a bar publisher (NinjaTrader's VrevPublisher or the older Python
    /// publisher), warm up on its history, evaluate live bars, write signal files.
    Run(RunArgs),
    /// Publish a bar file over WebSocket like NinjaTrader does: history on connect, then the
    /// rest as live bars at a chosen speed (both protocols; binds 127.0.0.1 by default).
    Serve(ServeArgs),
    /// Record a publisher's bars to CSV (UTC with offset, one row per bar, no duplicates).
    Record(RecordArgs),
    /// The whole live path on one machine without NinjaTrader: a synthetic day served in-process,
    /// the engine against it, signal files in a demo folder, and a summary.
    Demo(DemoArgs),
    /// Backtest on the same engine that trades live, with conservative fills; print statistics
    /// overall, per side and per window, followed by the fill assumptions.
    Backtest(BacktestArgs),
    /// Compile every strategy, check that every function it calls exists, validate the config,
    /// then run every profile that uses a script on a built-in synthetic series (the script
    /// called on every bar); print each problem as file:line:column. A script that never
    /// proposes anything is a warning.
    Check(CheckArgs),
    /// Explain one bar: the window and profile in force, whether the script was called, each
    /// scan candidate and the step it failed (by how much), the script's trace(...) lines, each
    /// proposal with every host rule's verdict, and the shadow trade's outcome.
    Explain(ExplainArgs),
    /// Run scripted scenarios: small files that pin what a pattern and the host rules do.
    /// Prints one line per scenario and `N passed, M failed`; exit 1 if any failed.
    Test(TestArgs),
    /// The kill switch: write state/HALT, so that every new entry of a running (or later)
    /// engine on that state folder is refused as `kill_switch`. Open trades, the shadow book
    /// and the exit code are untouched. `vrev resume` removes it.
    Halt(SwitchArgs),
    /// Turn the kill switch off: remove state/HALT; new entries are admitted again.
    Resume(SwitchArgs),
    /// Match the auto-trader's real trades (trades_<account>.csv) to vrev's signals and shadow
    /// trades by SIGNAL_ID: slippage per trade in ticks, exit-reason differences, signals never
    /// traded, trades without a signal, live vs shadow P&L.
    Reconcile(ReconcileArgs),
    /// Write deterministic synthetic bars (NinjaTrader export format) with a V-reversal in
    /// every default window, for trying vrev without market data.
    Synth(SynthArgs),
    /// Start a trading folder: write a starter config.toml and strategies/ into DIR (new or
    /// empty), with the signals folder the auto-trader reads by default.
    Init(InitArgs),
    /// NinjaTrader 8's side: `vrev nt8 install` copies the publisher and auto-trader into
    /// NinjaTrader's Documents folder.
    Nt8(Nt8Args),
    /// Check what breaks a live day: config and scripts, the signals and state folders, the
    /// feed and its instrument, the clock, NinjaTrader's files. One line each, `ok` or
    /// `problem` with what to do; exit 1 on any problem.
    Doctor(DoctorArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder to write into: new, or empty (default: the current folder).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// The Documents folder NinjaTrader uses (default: the user's; see docs/install.md). The
    /// config's signals folder is DIR/vrev/signals, the auto-trader's default, and
    /// `[nt8] documents_dir` is set to it.
    #[arg(long, value_name = "DIR")]
    pub documents: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Nt8Args {
    #[command(subcommand)]
    pub command: Nt8Command,
}

#[derive(Debug, Subcommand)]
pub enum Nt8Command {
    /// Copy VrevPublisher.cs and VrevAutoTrader.cs (built into this vrev) into
    /// DOCUMENTS/NinjaTrader 8/bin/Custom/Indicators and .../Strategies. A file vrev shipped
    /// before is replaced; a file changed by hand is refused without --force. Warns about the
    /// old system's files and prints the steps in NinjaTrader (F5).
    Install(Nt8InstallArgs),
}

#[derive(Debug, Args)]
pub struct Nt8InstallArgs {
    /// The Documents folder NinjaTrader uses (default: `[nt8] documents_dir` of the config,
    /// else the user's Documents folder).
    #[arg(long, value_name = "DIR")]
    pub documents: Option<PathBuf>,
    /// Replace files changed by hand too; each is first kept as
    /// DOCUMENTS/NinjaTrader 8/vrev-backup/<name>.cs.<UTC time>.bak (outside bin/Custom).
    #[arg(long)]
    pub force: bool,
    /// Config whose `[nt8] documents_dir` is the default (default: config.toml if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Config to check.
    #[arg(long, default_value = "config.toml")]
    pub config: PathBuf,
    /// The Documents folder NinjaTrader uses (default: `[nt8] documents_dir` of the config,
    /// else the user's Documents folder).
    #[arg(long, value_name = "DIR")]
    pub documents: Option<PathBuf>,
    /// Publisher to check (default: feed.url of the config).
    #[arg(long, value_name = "ws://HOST:PORT")]
    pub url: Option<String>,
    /// Seconds to wait for the publisher (connection, then its history).
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS", value_parser = seconds_arg)]
    pub timeout: f64,
    /// NinjaTrader Playback: the bars' data time is old by design, so the clock check is
    /// skipped.
    #[arg(long)]
    pub playback: bool,
}

/// Config and rule options shared by the engine commands.
#[derive(Debug, Args, Clone)]
pub struct EngineArgs {
    /// Config file.
    #[arg(long, default_value = "config.toml")]
    pub config: PathBuf,
    /// Run this profile in every window instead of each window's own.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Override one config value, e.g. --set profile.production.params.drop_threshold=5
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Admit only BUY signals (narrows every profile's direction).
    #[arg(long, conflicts_with = "sell_only")]
    pub buy_only: bool,
    /// Admit only SELL signals.
    #[arg(long)]
    pub sell_only: bool,
}

/// How to read bar files.
#[derive(Debug, Args, Clone)]
pub struct BarFileArgs {
    /// Zone of timestamps without an offset (NinjaTrader exports are in the PC's zone).
    #[arg(long, value_name = "ZONE", default_value = "America/New_York")]
    pub tz: String,
    /// Whether timestamps label the bar's close (NinjaTrader) or its start.
    #[arg(long, value_enum, default_value = "close")]
    pub bar_time: BarTime,
    /// Ignore UTC offsets in CSV timestamps and read them in --tz (the older Python client wrote
    /// NinjaTrader local time with a false `+00:00`; a file in its layout is refused without
    /// --ignore-offset or --exact-offset).
    #[arg(long, conflicts_with = "exact_offset")]
    pub ignore_offset: bool,
    /// Take UTC offsets in CSV timestamps as exact even in the older Python client's layout
    /// (`2025-02-13 13:59:00+00:00`), when they really are UTC.
    #[arg(long)]
    pub exact_offset: bool,
    /// Report and skip malformed lines instead of stopping at the first.
    #[arg(long)]
    pub skip_bad_lines: bool,
    /// First trading day to use (YYYY-MM-DD; trading days roll at 18:00 ET).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<chrono::NaiveDate>,
    /// Last trading day to use (inclusive).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<chrono::NaiveDate>,
}

/// Which state folder (ledger of emitted IDs + lock) a run uses.
#[derive(Debug, Args, Clone)]
pub struct StateArgs {
    /// State folder: the ledger of emitted signal IDs, the lock and (unless --journal is given)
    /// the journal, as DIR/journal.jsonl (default: engine.state_dir and engine.journal of the
    /// config). A new folder starts a new ledger and a new journal.
    #[arg(long = "state", value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Start with an empty ledger: the old ledger.txt is kept aside as
    /// ledger-<UTC time>.txt in the state folder. Signal files still in the signal folder count
    /// as emitted all the same: use an empty --signals folder to write every signal again.
    #[arg(long)]
    pub fresh: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Bar file(s): NinjaTrader export or CSV, plain or .gz. Several are merged in time order.
    #[arg(required = true, value_name = "BARS_FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub bars: BarFileArgs,
    /// Signal folder (default: engine.signals_dir of the config).
    #[arg(long, value_name = "DIR")]
    pub signals: Option<PathBuf>,
    /// Journal file (default: engine.journal of the config).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    #[command(flatten)]
    pub state: StateArgs,
    /// Practice mode: feed the bars at X times real time (60 = one one-minute bar per second)
    /// and take saved edits of the scripts and config.toml between bars, as `vrev run` does.
    /// Prints a line per signal and a status line about once a second; Ctrl+C stops between
    /// bars with the closing summary (exit code 130).
    #[arg(long, value_name = "X", value_parser = factor_arg)]
    pub pace: Option<f64>,
    /// Exit 0 even when script errors left bars without a signal (the loud summary of them is
    /// printed anyway, and each error is journaled).
    #[arg(long)]
    pub allow_script_errors: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Bar file(s): NinjaTrader export or CSV, plain or .gz. Several are merged in time order.
    #[arg(required = true, value_name = "BARS_FILE")]
    pub files: Vec<PathBuf>,
    /// The bar to explain: its close time in ET, as the journal's bar_time_et (the bar stamped
    /// 13:59 covers 13:58–13:59), e.g. --at "2025-02-13 13:59".
    #[arg(long, value_name = "YYYY-MM-DD HH:MM")]
    pub at: String,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub bars: BarFileArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scripts (.rhai) and configs (.toml) to check; default: the config and every script in
    /// strategies/ and referenced by it.
    #[arg(value_name = "SCRIPT_OR_CONFIG")]
    pub paths: Vec<PathBuf>,
    /// Config used to check parameters against scripts.
    #[arg(long, default_value = "config.toml")]
    pub config: PathBuf,
}

/// `vrev halt` / `vrev resume`.
#[derive(Debug, Args)]
pub struct SwitchArgs {
    /// Config whose engine.state_dir holds the switch (not read with --state).
    #[arg(long, default_value = "config.toml")]
    pub config: PathBuf,
    /// State folder of the engine to stop or resume (default: engine.state_dir of the config).
    #[arg(long = "state", value_name = "DIR")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The auto-trader's trade log (trades_<account>.csv in its state folder).
    #[arg(long, value_name = "FILE.csv")]
    pub trades: PathBuf,
    /// vrev's journal with the signals and shadow trades (default: engine.journal of the
    /// config).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// The auto-trader's processed list (processed_<account>.txt), for the reasons of signals
    /// never traded (default: beside --trades, same account).
    #[arg(long, value_name = "FILE")]
    pub processed: Option<PathBuf>,
    /// Config: tick size, point value and slippage of the model.
    #[arg(long, default_value = "config.toml")]
    pub config: PathBuf,
    /// Write reconcile.html and reconcile.csv here.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Output file (NinjaTrader export format).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Trading days to generate.
    #[arg(long, default_value_t = 5)]
    pub days: u32,
    /// Random seed (same seed, same bars).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// First trading day.
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2025-02-10")]
    pub start: chrono::NaiveDate,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Scenario files or folders (default: tests/scenarios/).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Run only the scenarios whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Config the scenarios start from (each scenario may change values).
    #[arg(long, default_value = "config.toml")]
    pub config: PathBuf,
    /// A script error in a scenario is not a failure of that scenario (the loud summary of
    /// them is printed anyway).
    #[arg(long)]
    pub allow_script_errors: bool,
    /// Explain one bar of one scenario FILE instead of running it: the bar closing at HH:MM ET
    /// ("YYYY-MM-DD HH:MM" when the scenario has several days), as `vrev explain` does.
    #[arg(long, value_name = "HH:MM")]
    pub explain: Option<String>,
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Bar file(s): NinjaTrader export or CSV, plain or .gz. Several are merged in time order.
    #[arg(required = true, value_name = "BARS_FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub bars: BarFileArgs,
    /// Write summary.json, trades.csv, daily.csv and report.html here (monte_carlo.json with
    /// --monte-carlo; sweep.csv and sweep.html with --sweep; walk_forward.csv, .json and .html
    /// with --walk-forward).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Print the summary as one JSON object on stdout (the sweep grid with --sweep, the folds
    /// with --walk-forward); cautions then go to stderr.
    #[arg(long)]
    pub json: bool,
    /// Sweep a config value over a list, e.g. --sweep profile.production.params.drop_threshold=3,4,5
    /// (repeat for a grid; cells run in parallel on all cores).
    #[arg(long = "sweep", value_name = "KEY=V1,V2,...")]
    pub sweeps: Vec<String>,
    /// Metric the sweep table is sorted by, best first.
    #[arg(long, value_enum, default_value = "net-pnl")]
    pub sort: crate::backtest::sweep::SortBy,
    /// Worker threads for a sweep (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Walk-forward over the --sweep grid: choose the best cell by --sort on each training span,
    /// trade it on the test span that follows, stitch the test spans; e.g.
    /// train=6M,test=1M[,step=1M][,anchored] (D trading days, M months, Y years; train and step
    /// whole multiples of test). Writes walk_forward.csv/.json/.html with --report.
    #[arg(long, value_name = "SPEC", requires = "sweeps")]
    pub walk_forward: Option<String>,
    /// Monte Carlo of the trade sequence: N resamples of the trades (with replacement); prints
    /// the 5th/50th/95th percentiles of final P&L and max drawdown (of the best cell in a sweep,
    /// of the stitched out-of-sample trades in a walk-forward).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub monte_carlo: Option<u32>,
    /// Seed of --monte-carlo: the same seed gives the same figures.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The most cells a --sweep grid may have; a larger grid is refused, with its estimate
    /// (cells x bars, rough time and memory), before it runs. Raise it when you mean it.
    #[arg(long, value_name = "N", default_value_t = crate::backtest::sweep::MAX_CELLS)]
    pub max_cells: usize,
    /// The most resamples --monte-carlo may draw; more are refused, with their memory, before
    /// the run. Raise it when you mean it.
    #[arg(long, value_name = "N", default_value_t = crate::backtest::monte_carlo::MAX_SAMPLES)]
    pub max_resamples: u64,
    /// Exit 0 even when script errors left bars without a signal (the loud summary of them is
    /// printed anyway, and each error is journaled).
    #[arg(long)]
    pub allow_script_errors: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Publisher to connect to (default: feed.url of the config).
    #[arg(long, value_name = "ws://HOST:PORT")]
    pub url: Option<String>,
    /// Signal folder (default: engine.signals_dir of the config).
    #[arg(long, value_name = "DIR")]
    pub signals: Option<PathBuf>,
    /// Journal file (default: engine.journal of the config).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    #[command(flatten)]
    pub state: StateArgs,
    /// Seconds between status lines on stderr (0 = none).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS", value_parser = seconds_arg)]
    pub status_every: f64,
    /// Report a feed without a bar for this many seconds while the clock is inside a window
    /// (0 = never).
    #[arg(long, default_value_t = 150.0, value_name = "SECONDS", value_parser = seconds_arg)]
    pub silent_after: f64,
    /// NinjaTrader Playback: live bars are old by design, so their signals are written however
    /// far behind the wall clock they are (the auto-trader checks EXPIRES against data time).
    /// Without it, a bar whose signal has already expired on the wall clock is history.
    #[arg(long)]
    pub playback: bool,
    /// Longest wait between reconnection attempts (the wait doubles from 0.25 s up to this).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS", value_parser = seconds_arg)]
    pub reconnect_max: f64,
    /// Status lines instead of the full-screen dashboard, even on a terminal (the dashboard is
    /// also off when stdout is not a terminal or TERM=dumb).
    #[arg(long)]
    pub plain: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Bar file to publish (NinjaTrader export or CSV, plain or .gz).
    #[arg(value_name = "BARS_FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub bars: BarFileArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    #[arg(long, default_value_t = 6789)]
    pub port: u16,
    /// Live pace: X times real time (60 = one one-minute bar per second) or `max`.
    #[arg(long, default_value = "1", value_name = "X|max")]
    pub speed: String,
    /// Bars sent as history on connect before the live ones (default: 1440).
    #[arg(long, value_name = "N")]
    pub history: Option<usize>,
    /// Speak the older Python publisher's protocol (no hello, local time with a false `Z`, text
    /// ping that must be answered within 20 s).
    #[arg(long)]
    pub legacy: bool,
    /// Instrument name sent in the messages.
    #[arg(long, default_value = "ES")]
    pub symbol: String,
    /// Zone of the legacy timestamps (with --legacy).
    #[arg(long, default_value = "America/New_York", value_name = "ZONE")]
    pub legacy_tz: String,
    /// Seconds between text `ping` messages.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS", value_parser = seconds_arg)]
    pub ping_every: f64,
    /// Drop a client that leaves a ping unanswered this long (default: 20 legacy, 30 vrev).
    #[arg(long, value_name = "SECONDS", value_parser = seconds_arg)]
    pub pong_timeout: Option<f64>,
    /// Drop a client that falls this many published bars behind (finite speeds).
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub max_behind: usize,
    /// Shared token a client must send (`?token=` or the `X-Vrev-Token` header);
    /// `VREV_FEED_TOKEN` overrides it. Default: none.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// A browser `Origin` allowed to connect (repeatable; `*` = any). Default: none.
    #[arg(long, value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,
    /// Connections held at once, in all.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub max_clients: usize,
    /// Connections held at once from one address (at least 4).
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub max_per_ip: usize,
    /// Seconds a client has to complete the WebSocket handshake.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS", value_parser = seconds_arg)]
    pub handshake_timeout: f64,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Publisher to connect to.
    #[arg(
        long,
        default_value = "ws://127.0.0.1:6789",
        value_name = "ws://HOST:PORT"
    )]
    pub url: String,
    /// Shared feed token to send (the publisher's `Token`); `VREV_FEED_TOKEN` overrides it.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// CSV file for the bars (appended to, after its last row, if it exists).
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,
    /// CSV file for ticks, if the publisher sends them.
    #[arg(long, value_name = "FILE.csv")]
    pub ticks: Option<PathBuf>,
    /// Zone of the legacy publisher's false-UTC timestamps.
    #[arg(long, default_value = "America/New_York", value_name = "ZONE")]
    pub legacy_tz: String,
    /// Seconds between status lines on stderr (0 = none).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS", value_parser = seconds_arg)]
    pub status_every: f64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the demo's bars, signals, journal and ledger (its signals/ and state/ are
    /// emptied first).
    #[arg(long, default_value = "demo", value_name = "DIR")]
    pub dir: PathBuf,
    /// Config to run (its windows and profiles; paths are redirected into --dir).
    #[arg(long, default_value = "config.toml")]
    pub config: PathBuf,
    /// Random seed of the synthetic day.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Longest duration a `SECONDS` flag accepts: 30 days.
pub const MAX_FLAG_SECONDS: f64 = 30.0 * 86_400.0;

use crate::feed::server::MAX_FACTOR;

/// A `SECONDS` flag: a finite number from 0 to [`MAX_FLAG_SECONDS`] (a huge value would overflow
/// the timer it sets).
pub fn seconds_arg(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !v.is_finite() || !(0.0..=MAX_FLAG_SECONDS).contains(&v) {
        return Err(format!(
            "{s} seconds: expected a number from 0 to {MAX_FLAG_SECONDS} (30 days)"
        ));
    }
    Ok(v)
}

/// A speed-up factor (`--pace`): finite, above 0, at most [`MAX_FACTOR`].
pub fn factor_arg(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number (60 = one one-minute bar per second)"))?;
    if !v.is_finite() || v <= 0.0 || v > MAX_FACTOR {
        return Err(format!(
            "{s}: expected a number above 0 and at most {MAX_FACTOR} (60 = one one-minute bar per second)"
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_and_factor_flags_refuse_what_would_overflow_a_timer() {
        // (text, seconds_arg accepts, factor_arg accepts)
        let cases = [
            ("10", true, true),
            ("0", true, false),
            ("0.25", true, true),
            ("-1", false, false),
            ("1e300", false, false),
            ("inf", false, false),
            ("NaN", false, false),
            ("2592000", true, false),
            ("2592001", false, false),
            ("1000000", true, true),
            ("1000001", true, false),
            ("ten", false, false),
        ];
        for (text, secs, factor) in cases {
            assert_eq!(seconds_arg(text).is_ok(), secs, "seconds {text}");
            assert_eq!(factor_arg(text).is_ok(), factor, "factor {text}");
        }
    }
}
