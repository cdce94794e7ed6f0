//! The `voltgate` binary: parse the command line, load the config, run.

use std::process::ExitCode;

use clap::Parser;
use voltgate::cli::{self, Cli};
use voltgate::config::Config;

/// mimalloc rather than glibc's malloc: a node makes and frees small buffers (frames, rows,
/// JSON) on every worker thread for tens of thousands of connections, and with mimalloc it
/// stored a fifth more meter values a second at 10,000 chargers (BENCHMARKS.md, issue 21).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("voltgate: {e}");
            return ExitCode::from(2);
        }
    };
    voltgate::telemetry::init(&config.log);
    match cli::run(cli.command, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("voltgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}
