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
use destination_hubspot::hubspot::errors::HubSpotError;
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
        /// Check every record and look up which contacts exist, but write
        /// nothing and emit no state; report what would happen.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: write each planned create/update as a JSON line here.
        #[arg(long, value_name = "FILE", requires = "dry_run")]
        dry_run_plan: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Arc::new(Output::stdout());
    let code = match run(cli.command, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out.trace_error(e.failure, &e.message, &e.message);
            eprintln!("destination-hubspot: {}", e.message);
            ExitCode::FAILURE
        }
    };
    // Every spooled line reaches stdout before the process exits.
    out.finish();
    code
}

/// Runs one command; an `Err` becomes a TRACE ERROR and exit code 1.
fn run(command: Command, out: &Arc<Output>) -> Result<(), HubSpotError> {
    match command {
        Command::Spec => {
            out.emit(&json!({"type": "SPEC", "spec": config::spec()}));
        }
        Command::Check { config } => {
            let status = match Config::load(&config) {
                Err(e) => json!({"status": "FAILED", "message": format!("{e:#}")}),
                Ok(config) => {
                    // A typo'd key does nothing: say so, in the log and the answer.
                    let notes: String = config.warnings.iter().map(|w| format!("; {w}")).collect();
                    config
                        .warnings
                        .iter()
                        .for_each(|w| out.log("WARN", w.clone()));
                    match check::run(&config, out) {
                        Ok(()) => {
                            json!({"status": "SUCCEEDED", "message": format!("the token works and has the scopes a sync needs{notes}")})
                        }
                        Err(message) => {
                            json!({"status": "FAILED", "message": format!("{message}{notes}")})
                        }
                    }
                }
            };
            out.emit(&json!({"type": "CONNECTION_STATUS", "connectionStatus": status}));
        }
        Command::Discover { config } => {
            let config = Config::load(&config).map_err(config_error)?;
            let catalog = destination_hubspot::discover::discover(&config)?;
            out.emit(&json!({"type": "DESTINATION_CATALOG", "destination_catalog": catalog}));
        }
        Command::Write {
            config,
            catalog,
            progress,
            no_progress,
            dry_run,
            dry_run_plan,
        } => {
            let config = Config::load(&config).map_err(config_error)?;
            let catalog = Catalog::load(&catalog).map_err(config_error)?;
            let stdin = BufReader::with_capacity(64 * 1024, io::stdin());
            let options = write::RunOptions {
                progress: progress_mode(progress, no_progress),
                cancel_on_signals: true,
                dry_run,
                dry_run_plan,
                ..write::RunOptions::default()
            };
            write::run(&config, &catalog, stdin, out.clone(), options)?;
        }
    }
    Ok(())
}

/// A config or catalog file that does not load: the user must fix it.
fn config_error(e: anyhow::Error) -> HubSpotError {
    HubSpotError::new(FailureType::Config, format!("{e:#}"))
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
