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
    no_huge_pages();
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

/// Transparent huge pages off for this process. mimalloc asks for them on its arenas, and a
/// 2 MiB page stays resident while any byte of it is in use: after a storm of 19,000
/// chargers the node held 1.4 KiB more per connection with them, and was no faster
/// (BENCHMARKS.md, issue 21, seventh step). Per process, so the database keeps its own choice;
/// mimalloc's own switch, `MIMALLOC_ALLOW_THP`, decides instead when it is set.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
        let rc = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        if rc != 0 {
            eprintln!(
                "voltgate: transparent huge pages stay on: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}
