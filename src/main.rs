//! The `torrentql` command: parses the CLI, loads the configuration, sets
//! up logging, and calls into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use torrentql::app::Backend;
use torrentql::auth::{ADMIN_ROLE, Authenticator, SecretSource};
use torrentql::config::Config;
use torrentql::http::serve;
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
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Mint a token signed with the configured (or generated) secret.
    Token {
        /// Who the token is for (its `sub`).
        #[arg(long)]
        subject: String,
        /// How long it is valid, e.g. 12h or 30d. Default: `auth.token_ttl`.
        #[arg(long, value_parser = humantime::parse_duration)]
        ttl: Option<std::time::Duration>,
        /// A role to grant; repeat for several. Default: admin.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Schema = cli.command {
        print!("{}", torrentql::graphql::sdl());
        return ExitCode::SUCCESS;
    }
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
        Command::Schema => unreachable!("handled before loading the configuration"),
        Command::Token {
            subject,
            ttl,
            roles,
        } => {
            let roles = if roles.is_empty() {
                vec![ADMIN_ROLE.to_owned()]
            } else {
                roles
            };
            let issued = Authenticator::from_config(&config.auth, &config.server.data_dir)
                .and_then(|(auth, _)| auth.issue(&subject, &roles, ttl));
            match issued {
                Ok((token, _)) => {
                    println!("{token}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("cannot mint a token: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve => {
            torrentql::memory::tune_allocator();
            init_tracing();
            let mut config = config;
            fit_connections_to_open_files(&mut config);
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

/// Raises the open-file limit as far as it goes and, when it still leaves
/// too few for `server.max_connections` (and the files and upstream
/// sockets torrentql needs besides), lowers the bound to fit: past the
/// limit `accept` fails, and connections wait unseen in the backlog.
fn fit_connections_to_open_files(config: &mut Config) {
    /// Descriptors kept for everything but client connections.
    const RESERVED: usize = 64;
    let Some(limit) = torrentql::http::connections::raise_open_file_limit()
        .and_then(|limit| usize::try_from(limit).ok())
    else {
        return;
    };
    let fits = limit.saturating_sub(RESERVED).max(1);
    if config.server.max_connections > fits {
        tracing::warn!(
            open_file_limit = limit,
            configured = config.server.max_connections,
            max_connections = fits,
            "the open-file limit leaves room for fewer connections than server.max_connections"
        );
        config.server.max_connections = fits;
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
    let address = listener.local_addr()?;
    tracing::info!(
        %address,
        ui = %format!("http://{address}/"),
        playground = %format!("http://{address}/graphql"),
        qbittorrent = %backend.state.torrents.qbittorrent().base_url(),
        "torrentql is listening"
    );
    if backend.secret_source == SecretSource::Generated {
        print_welcome(&backend, address)?;
    }
    serve(listener, backend.state.clone(), shutdown_signal()).await;
    tracing::info!("shutting down");
    backend.stop().await;
    Ok(())
}

/// With a generated secret nobody has a token yet: print one, on stdout
/// (never into the log), with the UI's and the playground's addresses.
fn print_welcome(backend: &Backend, address: std::net::SocketAddr) -> anyhow::Result<()> {
    let auth = &backend.state.auth;
    let (token, expires_at) = auth.issue("admin", &[ADMIN_ROLE.to_owned()], None)?;
    println!(
        "\ntorrentql is ready.\n  Web UI:      http://{address}/\n  Playground:  http://{address}/graphql\n  Admin token: {token}\n  (valid until {expires_at}; `torrentql token --subject NAME` mints more)\n"
    );
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
