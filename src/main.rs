//! The `torrentql` command: parses the CLI, loads the configuration, sets
//! up logging, and calls into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use torrentql::app::{Backend, serve};
use torrentql::config::Config;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(version, about = "A GraphQL API for qBittorrent and Jellyfin")]
struct Cli {
    /// Configuration file (TOML). Default: ./torrentql.toml when present.
    #[arg(long, global = true, env = "TORRENTQL_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (starts a managed qbittorrent-nox when no
    /// qbittorrent.url is configured).
    Serve,
    /// Load and validate the configuration, print it with secrets masked,
    /// and exit non-zero listing every problem.
    CheckConfig,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::CheckConfig => {
            println!("# configuration is valid; secrets are masked\n");
            print!("{}", config.to_masked_toml());
            ExitCode::SUCCESS
        }
        Command::Serve => {
            init_tracing();
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(error) => {
                    eprintln!("cannot start the async runtime: {error}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(run_server(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!("{error:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Logs to stderr; `TORRENTQL_LOG` (or `RUST_LOG`) sets the filter.
fn init_tracing() {
    let filter = EnvFilter::try_from_env("TORRENTQL_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn run_server(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let backend = Backend::start(&config).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        qbittorrent = %backend.state.torrents.qbittorrent().base_url(),
        "torrentql is listening"
    );
    serve(listener, backend.state.clone(), shutdown_signal()).await?;
    tracing::info!("shutting down");
    backend.stop().await;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                let _ = interrupt.await;
                return;
            }
        };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}
