//! The sync server as a library: [`Server::open`] prepares storage, [`Server::router`] is the
//! whole HTTP surface (tested without sockets), and [`Server::run`] serves it until shutdown.

mod api;
mod db;
mod static_files;
pub mod storage;

use std::{future::Future, path::PathBuf, sync::Arc};

use axum::Router;
use tower_http::{compression::CompressionLayer, trace::TraceLayer};

pub use api::Bootstrap;

/// The municipality a server seeds when none is configured: Oude IJsselstreek.
pub const DEFAULT_SEED: &str = include_str!("../seed/oude-ijsselstreek.toml");

/// What a server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Folder for the SQLite database.
    pub data: PathBuf,
    /// Folder with the built app.
    pub dist: PathBuf,
    /// The municipality seed (TOML text), used when the database is new.
    pub seed: String,
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("seed file is not valid TOML for a municipality: {0}")]
    SeedSyntax(#[from] toml::de::Error),
    #[error("seed file: {0}")]
    Seed(#[from] model::SeedError),
    #[error("the database task stopped unexpectedly")]
    TaskFailed,
}

/// A server with its storage opened and the municipality seeded.
#[derive(Clone)]
pub struct Server {
    state: Arc<State>,
    dist: PathBuf,
}

struct State {
    bootstrap: Bootstrap,
}

impl Server {
    /// Opens (or creates) the database in `config.data`, seeding the municipality on first start.
    pub async fn open(config: Config) -> Result<Self, Error> {
        let Config { data, dist, seed } = config;
        // SQLite calls block; keep them off the async workers.
        let bootstrap = tokio::task::spawn_blocking(move || -> Result<Bootstrap, Error> {
            let seed: model::MunicipalitySeed = toml::from_str(&seed)?;
            seed.validate()?;
            let mut db = db::Db::open(&data)?;
            let municipality = db.seed_if_empty(&seed)?;
            Ok(Bootstrap::from(municipality))
        })
        .await
        .map_err(|_| Error::TaskFailed)??;
        tracing::info!(
            villages = bootstrap.villages.len(),
            "municipality {} ready",
            bootstrap.name
        );
        Ok(Self {
            state: Arc::new(State { bootstrap }),
            dist,
        })
    }

    /// Every route the server answers.
    pub fn router(&self) -> Router {
        Router::new()
            .nest("/api", api::router().with_state(self.state.clone()))
            .merge(static_files::router(&self.dist))
            .layer(CompressionLayer::new())
            .layer(TraceLayer::new_for_http())
    }

    /// Serves until `shutdown` resolves, then lets open requests finish.
    pub async fn run(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| Error::Io {
                what: "serving".into(),
                source,
            })
    }
}
