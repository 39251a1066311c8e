//! The `llmcap` binary: parses the command line and reports errors. Exit status:
//! 0 on success, 1 when a run fails, 2 on bad input or usage.

mod cli;

use clap::Parser;

fn main() {
    // clap prints usage errors itself and exits with 2 (0 for --help/--version).
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(()) => {}
        Err(f) => {
            // A closed pipe (e.g. `llmcap validate x.toml | head -1`) is not an error.
            if f.error
                .chain()
                .filter_map(|c| c.downcast_ref::<std::io::Error>())
                .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                std::process::exit(0);
            }
            // On a terminal the message wraps at 100 columns like every other line; in a
            // pipe or a log it stays on one line, so a search finds it whole.
            cli::problem(&format!("Error: {:#}", f.error));
            std::process::exit(f.code);
        }
    }
}
