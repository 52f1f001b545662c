//! `sync-server`: serves the built app, answers its API and stores the documents.
//!
//! Run it with `cargo xtask run`, which builds the app first; `sync-server --help` lists the flags.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use sync_server::{Clock, Config, SyncLimits, accounts::Password};
use tracing_subscriber::EnvFilter;

/// Serves the Dorpskracht app and syncs its documents between residents' devices.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Address to listen on; port 0 picks a free port (the chosen one is printed).
    #[arg(long, env = "DORPSKRACHT_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Folder for the server's data: the SQLite database `dorpskracht.sqlite3`. Created if missing.
    #[arg(long, env = "DORPSKRACHT_DATA", default_value = "data", global = true)]
    data: PathBuf,
    /// Folder with the built app (Trunk's `dist/`) to serve.
    #[arg(long, env = "DORPSKRACHT_DIST", default_value = "dist")]
    dist: PathBuf,
    /// Municipality seed (TOML) read on the first start, when the database is still empty.
    /// Defaults to Oude IJsselstreek, built into the binary.
    #[arg(long, env = "DORPSKRACHT_SEED")]
    seed: Option<PathBuf>,
    /// The origins the app is served from, e.g. `https://dorpskracht.example` (repeat the flag
    /// or separate with commas). The first is the public origin: if it is https, session
    /// cookies are `Secure`. WebSocket upgrades from browsers must come from one of them.
    #[arg(long = "origin", env = "DORPSKRACHT_ORIGINS", value_delimiter = ',')]
    origins: Vec<String>,
    /// `on`: each WebSocket is anonymous or signed in (session cookie or `?token=`); anonymous
    /// peers read the public documents and write nothing, private documents reach their
    /// readers only, and every new change must come from its actor's owner and keep the rules.
    /// `off`: every peer reads and writes everything, as automerge-repo's own server (for
    /// tests of the app before it signs in).
    #[arg(long, env = "DORPSKRACHT_TRUST", value_enum, default_value_t = Trust::On)]
    trust: Trust,
    /// The reverse proxy (or proxies: repeat or separate with commas) in front of the server,
    /// e.g. `127.0.0.1`. Only when a request's socket comes from one of them does its
    /// `X-Forwarded-For` name the client the rate limits count; otherwise the socket's address
    /// does (a header anyone can send is not believed).
    #[arg(
        long = "trusted-proxy",
        env = "DORPSKRACHT_TRUSTED_PROXY",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Trust {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage municipality admins.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Copies the database of `--data` to a backup file while the server runs (SQLite's online
    /// backup: the database as of one moment, every change acknowledged before it). The file
    /// is mode 0600 and appears only once complete.
    Backup {
        /// The backup file to write (replaced if it exists).
        #[arg(long)]
        to: PathBuf,
    },
    /// Puts a backup into `--data`, which must not have a database yet; then start the server
    /// on it. (Copying the file to `DIR/dorpskracht.sqlite3` by hand does the same.)
    Restore {
        /// The backup file to restore.
        #[arg(long)]
        from: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AdminAction {
    /// Creates an account that is municipality admin. The password is read from standard
    /// input (one line), never from the command line. Run it before starting the server (a
    /// running server learns of the new admin when it restarts).
    Create {
        /// The admin's e-mail address (their sign-in name).
        #[arg(long)]
        email: String,
        /// The name other residents see.
        #[arg(long)]
        display_name: String,
    },
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
    if let Some(Command::Admin {
        action: AdminAction::Create {
            email,
            display_name,
        },
    }) = &cli.command
    {
        return create_admin(&cli.data, email, display_name);
    }
    match &cli.command {
        Some(Command::Backup { to }) => {
            return copy(
                "backup",
                sync_server::storage::backup::backup(&cli.data, to),
                to,
            );
        }
        Some(Command::Restore { from }) => {
            let target = cli.data.join(sync_server::storage::backup::DATABASE_FILE);
            return copy(
                "restore",
                sync_server::storage::backup::restore(from, &cli.data),
                &target,
            );
        }
        _ => {}
    }
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
        clock: Clock::system(),
    };
    let listener = tokio::net::TcpListener::bind(cli.addr)
        .await
        .map_err(|source| sync_server::Error::Io {
            what: format!("listening on {}", cli.addr),
            source,
        })?;
    let server = match cli.trust {
        Trust::On => sync_server::Server::open_trusting(config).await?,
        Trust::Off => {
            tracing::warn!("trust is off: every peer may read and write every document");
            sync_server::Server::open(config).await?
        }
    };
    server.accounts().set_trusted_proxies(cli.trusted_proxies);
    let addr = listener
        .local_addr()
        .map_err(|source| sync_server::Error::Io {
            what: "reading the bound address".into(),
            source,
        })?;
    // Roles the seed names go to whoever holds these one-time invites (on standard output,
    // for the operator; never in the logs).
    for invite in server.seed_invites() {
        println!("{}", invite.line());
    }
    // The one line a person (and the test harness) reads to know where the app is.
    println!("Dorpskracht: http://{addr}/");
    server.run(listener, shutdown_signal()).await
}

/// `sync-server admin create`: the first municipality admin.
fn create_admin(data: &std::path::Path, email: &str, display_name: &str) -> ExitCode {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut line) {
        eprintln!("sync-server: reading the password from standard input: {e}");
        return ExitCode::FAILURE;
    }
    let password = Password::new(line.trim_end_matches(['\r', '\n']));
    let created = sync_server::Accounts::open(data, Clock::system(), false)
        .map_err(|e| e.to_string())
        .and_then(|accounts| {
            accounts
                .create_admin_blocking(email, display_name, &password)
                .map_err(|e| format!("{} ({e})", e.code()))
        });
    match created {
        Ok(id) => {
            println!("created municipality admin {id}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sync-server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Reports a backup or restore.
fn copy(
    what: &str,
    result: Result<sync_server::storage::backup::Copied, sync_server::storage::backup::BackupError>,
    to: &std::path::Path,
) -> ExitCode {
    match result {
        Ok(copied) => {
            println!(
                "{what}: wrote {} ({} bytes) in {} ms",
                to.display(),
                copied.bytes,
                copied.took.as_millis()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sync-server {what}: {e}");
            ExitCode::FAILURE
        }
    }
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
