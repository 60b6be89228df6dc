//! The `vrev` binary: parse arguments, run the command, turn errors into a message and exit 1.

use clap::Parser;

fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VREV_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,script=info"));
    // Colour only for a person at a terminal: never escape codes in pipes and files (NO_COLOR).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
    let cli = vrev::cli::args::Cli::parse();
    let result = vrev::cli::commands::run(cli);
    // A write cut short (Ctrl+C, an error) leaves no temporary file of this run behind.
    vrev::market::safe_write::remove_temp_files();
    if let Err(e) = result {
        vrev::errln!("error: {e:#}");
        let stopped = e
            .downcast_ref::<vrev::cli::interrupt::Interrupted>()
            .is_some();
        std::process::exit(if stopped {
            vrev::cli::interrupt::EXIT_CODE
        } else {
            1
        });
    }
}
