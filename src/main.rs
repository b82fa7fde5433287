//! The `destination-hubspot` command line: `spec`, `check`, `write` (and
//! `discover`), speaking the Airbyte protocol on stdout. Errors become a
//! TRACE ERROR and a non-zero exit; `check` always answers with a status.
#![forbid(unsafe_code)]

use std::io::{self, BufReader, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use serde_json::json;

use destination_hubspot::catalog::Catalog;
use destination_hubspot::config::{self, Config};
use destination_hubspot::protocol::{FailureType, Output};
use destination_hubspot::{check, write};

#[derive(Parser)]
#[command(
    name = "destination-hubspot",
    version,
    about = "Airbyte destination: upserts contacts into HubSpot by email"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the connector's configuration schema as a SPEC message.
    #[command(after_help = "Example:\n  destination-hubspot spec")]
    Spec,
    /// Validate the config and prove the token works (scopes included).
    #[command(after_help = "Example:\n  destination-hubspot check --config secrets/config.json")]
    Check {
        /// Path to the JSON config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Describe the writable contacts object (DESTINATION_CATALOG), from the account's properties.
    #[command(
        after_help = "Example:\n  destination-hubspot discover --config secrets/config.json"
    )]
    Discover {
        /// Path to the JSON config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Read Airbyte messages on stdin and upsert contacts into HubSpot.
    #[command(
        after_help = "Example:\n  destination-hubspot write --config secrets/config.json \\\n      --catalog integration_tests/configured_catalog.json < integration_tests/messages.txt"
    )]
    Write {
        /// Path to the JSON config file.
        #[arg(long)]
        config: PathBuf,
        /// Path to the configured catalog.
        #[arg(long)]
        catalog: PathBuf,
        /// Print a progress line on stderr even when it is not a terminal
        /// (it is shown by default on a terminal).
        #[arg(long, conflicts_with = "no_progress")]
        progress: bool,
        /// Never print the progress line.
        #[arg(long)]
        no_progress: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Arc::new(Output::stdout());
    let code = run(cli.command, &out);
    // Every spooled line reaches stdout before the process exits.
    out.finish();
    code
}

fn run(command: Command, out: &Arc<Output>) -> ExitCode {
    match command {
        Command::Spec => {
            out.emit(&json!({"type": "SPEC", "spec": config::spec()}));
            ExitCode::SUCCESS
        }
        Command::Check { config } => {
            let status = match Config::load(&config) {
                Err(e) => json!({"status": "FAILED", "message": format!("{e:#}")}),
                Ok(config) => match check::check(&config) {
                    Ok(()) => {
                        json!({"status": "SUCCEEDED", "message": "the token works and has the scopes a sync needs"})
                    }
                    Err(message) => json!({"status": "FAILED", "message": message}),
                },
            };
            out.emit(&json!({"type": "CONNECTION_STATUS", "connectionStatus": status}));
            ExitCode::SUCCESS
        }
        Command::Discover { config } => {
            let config = match Config::load(&config) {
                Ok(c) => c,
                Err(e) => return fail(out, FailureType::Config, &format!("{e:#}")),
            };
            match destination_hubspot::discover::discover(&config) {
                Ok(catalog) => {
                    out.emit(
                        &json!({"type": "DESTINATION_CATALOG", "destination_catalog": catalog}),
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(out, e.failure, &e.message),
            }
        }
        Command::Write {
            config,
            catalog,
            progress,
            no_progress,
        } => {
            let config = match Config::load(&config) {
                Ok(c) => c,
                Err(e) => return fail(out, FailureType::Config, &format!("{e:#}")),
            };
            let catalog = match Catalog::load(&catalog) {
                Ok(c) => c,
                Err(e) => return fail(out, FailureType::Config, &format!("{e:#}")),
            };
            let stdin = BufReader::with_capacity(1 << 16, io::stdin().lock());
            match write::run(
                &config,
                &catalog,
                stdin,
                out.clone(),
                write::RunOptions {
                    progress: progress_mode(progress, no_progress),
                    ..write::RunOptions::default()
                },
            ) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => fail(out, e.failure, &e.message),
            }
        }
    }
}

/// `Some(terminal)` when the progress line is to be shown.
fn progress_mode(forced: bool, off: bool) -> Option<bool> {
    let terminal = io::stderr().is_terminal();
    match (forced, off) {
        (_, true) => None,
        (true, _) => Some(terminal),
        (false, false) => terminal.then_some(true),
    }
}

fn fail(out: &Output, failure: FailureType, message: &str) -> ExitCode {
    out.trace_error(failure, message, message);
    eprintln!("destination-hubspot: {message}");
    ExitCode::FAILURE
}
