//! The `northstar` binary: parse the command line, set up logging, run, map errors
//! to exit codes (0 ok, 1 runtime error, 2 usage error).

use std::process::ExitCode;

use clap::Parser;
use northstar::cli::Cli;
use northstar::error::ErrorKind;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(northstar::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let err = anyhow::Error::from(e);
            eprintln!("error: {err:#}");
            let code = match err
                .downcast_ref::<northstar::error::Error>()
                .map(|e| e.kind())
            {
                Some(ErrorKind::Usage) => 2,
                _ => 1,
            };
            ExitCode::from(code)
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "warn,northstar=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("NORTHSTAR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
