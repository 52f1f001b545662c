//! `sync-server`: serves the built app, answers its API and stores the documents.
//!
//! Run it with `cargo xtask run`, which builds the app first; `sync-server --help` lists the flags.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::Parser;
use sync_server::{Config, SyncLimits};
use tracing_subscriber::EnvFilter;

/// Serves the Dorpskracht app and syncs its documents between residents' devices.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Address to listen on; port 0 picks a free port (the chosen one is printed).
    #[arg(long, env = "DORPSKRACHT_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Folder for the server's data: the SQLite database `dorpskracht.sqlite3`. Created if missing.
    #[arg(long, env = "DORPSKRACHT_DATA", default_value = "data")]
    data: PathBuf,
    /// Folder with the built app (Trunk's `dist/`) to serve.
    #[arg(long, env = "DORPSKRACHT_DIST", default_value = "dist")]
    dist: PathBuf,
    /// Municipality seed (TOML) read on the first start, when the database is still empty.
    /// Defaults to Oude IJsselstreek, built into the binary.
    #[arg(long, env = "DORPSKRACHT_SEED")]
    seed: Option<PathBuf>,
    /// Origins (`https://dorpskracht.example`) whose pages may open `/sync`, besides the
    /// server's own. Repeat the flag or separate them with commas.
    #[arg(long = "origin", env = "DORPSKRACHT_ORIGINS", value_delimiter = ',')]
    origins: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let cli = Cli::parse();
    match serve(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("sync-server: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(cli: Cli) -> Result<(), sync_server::Error> {
    let seed = match &cli.seed {
        Some(path) => std::fs::read_to_string(path).map_err(|source| sync_server::Error::Io {
            what: format!("reading seed {}", path.display()),
            source,
        })?,
        None => sync_server::DEFAULT_SEED.to_owned(),
    };
    let config = Config {
        data: cli.data,
        dist: cli.dist,
        seed,
        limits: SyncLimits::default(),
        origins: cli.origins,
    };
    let listener = tokio::net::TcpListener::bind(cli.addr)
        .await
        .map_err(|source| sync_server::Error::Io {
            what: format!("listening on {}", cli.addr),
            source,
        })?;
    // TODO(accounts): once the accounts store implements `sync_server::Identities`, open it
    // here and start with trust on by default: `Server::open_with_identities(config, accounts)`
    // (anonymous peers read public documents only; changes are checked against `model`'s
    // rules and actor registrations). Until then the binary trusts every peer, as
    // automerge-repo's own server does.
    let server = sync_server::Server::open(config).await?;
    let addr = listener
        .local_addr()
        .map_err(|source| sync_server::Error::Io {
            what: "reading the bound address".into(),
            source,
        })?;
    // The one line a person (and the test harness) reads to know where the app is.
    println!("Dorpskracht: http://{addr}/");
    server.run(listener, shutdown_signal()).await
}

/// Resolves on Ctrl-C or SIGTERM, so the server can finish what it is writing.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
