//! The sync server as a library: [`Server::open`] prepares storage, [`Server::router`] is the
//! whole HTTP surface (tested without sockets), and [`Server::run`] serves it until shutdown.
//!
//! `GET /sync` speaks automerge-repo's protocol over a WebSocket ([`ws`] per connection, one
//! task per document in memory via the [`hub`]); every change is durable in storage before
//! anything acknowledging it is sent. Incoming changes pass a [`ChangeValidator`] first.

pub mod accounts;
mod bootstrap_api;
mod bootstrap_docs;
mod db;
mod doc_task;
mod hub;
mod inbound;
mod limits;
mod peer;
pub mod reports;
mod shutdown;
mod static_files;
pub mod storage;
pub mod trust;
mod validate;
mod ws;

use std::{future::Future, path::PathBuf, sync::Arc};

use axum::{Router, http::Request, routing::get};
use sync::{PeerId, PeerInfo, PeerMetadata, StorageId};
use tokio::sync::Semaphore;
use tower_http::{compression::CompressionLayer, trace::TraceLayer};

pub use accounts::{Accounts, Clock, SESSION_COOKIE};
pub use bootstrap_api::Bootstrap;
pub use limits::SyncLimits;
pub use trust::{Identities, TrustValidator};
pub use validate::{AcceptAll, Access, ChangeValidator, Incoming, Principal, Rejection};

use crate::{
    hub::Hub,
    shutdown::Lifecycle,
    storage::{DocumentStore, SqliteStorage},
};

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
    /// Limits of the `/sync` endpoint.
    pub limits: SyncLimits,
    /// The origins the app is served from (`https://dorpskracht.example`); the first is the
    /// public one: when it is https, session cookies are `Secure`. Browsers' WebSocket
    /// upgrades must come from one of them or from the server's own origin (the `Host` it is
    /// asked as); a page from elsewhere is refused (403).
    pub origins: Vec<String>,
    /// The accounts' clock (sessions, invites, rate limits): the system's, or a manual one in
    /// tests.
    pub clock: Clock,
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
    #[error("storage: {0}")]
    Storage(#[from] storage::StorageError),
    #[error("storage: {0}")]
    Document(#[from] storage::DocumentError),
}

/// Whether the server judges who is on each connection.
enum Trust {
    /// Everyone is anonymous; changes pass this validator.
    Off(Arc<dyn ChangeValidator>),
    /// Sessions, roles and actors come from the server's accounts.
    On,
}

/// Path segments that are followed by a secret token: the invite API's and the app's invite page.
const TOKEN_PATH_SEGMENTS: &[&str] = &["invites", "uitnodiging"];

/// `uri` for logs: the value of a `token` query parameter, and the path segment after `invites`
/// or `uitnodiging` (an invite token), are replaced by `[redacted]`.
pub fn redacted_uri(uri: &axum::http::Uri) -> String {
    let mut after_token_segment = false;
    let path: Vec<&str> = uri
        .path()
        .split('/')
        .map(|segment| {
            let secret = after_token_segment && !segment.is_empty();
            after_token_segment = TOKEN_PATH_SEGMENTS.contains(&segment);
            if secret { "[redacted]" } else { segment }
        })
        .collect();
    let path = path.join("/");
    let Some(query) = uri.query() else {
        return path;
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name == "token" => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// A server with its storage opened and the municipality seeded.
#[derive(Clone)]
pub struct Server {
    state: Arc<State>,
    dist: PathBuf,
}

struct State {
    bootstrap: Bootstrap,
    /// The server as a sync peer: its peer id and storage id.
    peer: PeerInfo,
    hub: Hub,
    limits: SyncLimits,
    lifecycle: Lifecycle,
    /// One permit per open WebSocket.
    connections: Arc<Semaphore>,
    /// Open WebSockets per IP address.
    ip_connections: Arc<ws::IpConnections>,
    /// Bytes queued for all connections and not yet written.
    queued_bytes: Arc<std::sync::atomic::AtomicUsize>,
    /// The connection each peer id is on, so a peer that joins again replaces its old one.
    peers: ws::PeerRegistry,
    /// When trust is on (the accounts): who each connection belongs to.
    identities: Option<Arc<dyn Identities>>,
    /// See [`Config::origins`].
    origins: Vec<String>,
    accounts: Accounts,
    /// Reports of items to the villages' brokers.
    reports: Arc<reports::ReportStore>,
    /// The municipality document, where the server writes role data.
    municipality_doc: sync::DocumentId,
    /// The actor id of the server's own changes (role data).
    server_actor: automerge::ActorId,
    /// The invites this start made for roles the seed names.
    seed_invites: Vec<accounts::SeedInvite>,
}

impl Server {
    /// Opens (or creates) the database in `config.data`, seeding the municipality on first start
    /// and creating the documents `/api/bootstrap` names if storage lacks them. Accepts every
    /// change ([`AcceptAll`]).
    pub async fn open(config: Config) -> Result<Self, Error> {
        Self::open_with_validator(config, Arc::new(AcceptAll)).await
    }

    /// [`Server::open`], with every incoming change judged by `validator` before it is stored
    /// or passed on.
    pub async fn open_with_validator(
        config: Config,
        validator: Arc<dyn ChangeValidator>,
    ) -> Result<Self, Error> {
        Self::open_inner(config, Trust::Off(validator)).await
    }

    /// [`Server::open`] with trust on: each WebSocket carries the user of its session (cookie
    /// `dk_session` or query `token`, resolved by the accounts) or is anonymous, and every
    /// document and change passes the [`TrustValidator`]: anonymous peers read the public
    /// documents and write nothing, private documents are served to their readers only, and a
    /// new change must come from its actor's owner and keep `model`'s rules.
    pub async fn open_trusting(config: Config) -> Result<Self, Error> {
        Self::open_inner(config, Trust::On).await
    }

    async fn open_inner(config: Config, trust: Trust) -> Result<Self, Error> {
        let Config {
            data,
            dist,
            seed,
            limits,
            origins,
            clock,
        } = config;
        let secure_cookies = origins.first().is_some_and(|o| o.starts_with("https://"));
        // SQLite calls block; keep them off the async workers.
        let (seed, municipality, storage, accounts, reports) =
            tokio::task::spawn_blocking(move || {
                let seed: model::MunicipalitySeed = toml::from_str(&seed)?;
                seed.validate()?;
                let mut db = db::Db::open(&data)?;
                let municipality = db.seed_if_empty(&seed)?;
                drop(db);
                let storage = SqliteStorage::open(&data)?;
                let accounts = Accounts::open(&data, clock, secure_cookies)?;
                let reports = reports::ReportStore::open(
                    &data.join(db::FILE_NAME),
                    municipality.villages.iter().map(|v| v.id.clone()).collect(),
                )?;
                Ok::<_, Error>((seed, municipality, storage, accounts, reports))
            })
            .await
            .map_err(|_| Error::TaskFailed)??;
        let municipality_doc = municipality.doc;
        let store = DocumentStore::new(Arc::new(storage));
        bootstrap_docs::create_missing(&store, &seed, &municipality).await?;
        let storage_id = store.storage_id().await?;
        let public = trust::public_documents(&municipality);
        let bootstrap = Bootstrap::from(municipality);
        let (validator, identities): (Arc<dyn ChangeValidator>, _) = match trust {
            Trust::Off(validator) => (validator, None),
            Trust::On => {
                let identities: Arc<dyn Identities> = Arc::new(accounts.clone());
                (
                    Arc::new(TrustValidator::new(identities.clone(), public)),
                    Some(identities),
                )
            }
        };
        tracing::info!(
            villages = bootstrap.villages.len(),
            "municipality {} ready",
            bootstrap.name
        );
        let lifecycle = Lifecycle::new();
        let peer = PeerInfo {
            peer_id: PeerId::new(format!("dorpskracht-server-{storage_id}")),
            metadata: PeerMetadata {
                storage_id: Some(StorageId::new(storage_id.clone())),
                is_ephemeral: false,
            },
        };
        let server_actor = accounts::roles::server_actor(&storage_id);
        // Nobody takes the ids the server writes as, nor a seeded broker's without its invite.
        accounts.reserve_ids(
            std::iter::once(seed.id.as_str())
                .chain(seed.brokers.iter().filter_map(|b| b.user.as_deref()))
                .filter_map(|id| model::UserId::new(id).ok()),
            [server_actor.clone()],
        );
        let seed_invites = accounts::roles::reconcile(
            &accounts,
            &store,
            municipality_doc,
            server_actor.clone(),
            &seed,
        )
        .await?;
        let hub = Hub::new(
            store,
            validator,
            limits.clone(),
            lifecycle.clone(),
            StorageId::new(storage_id),
        );
        Ok(Self {
            state: Arc::new(State {
                bootstrap,
                peer,
                hub,
                connections: Arc::new(Semaphore::new(limits.max_connections)),
                ip_connections: ws::IpConnections::new(limits.max_connections_per_ip),
                queued_bytes: Arc::default(),
                peers: ws::PeerRegistry::default(),
                identities,
                origins,
                limits,
                lifecycle,
                accounts,
                reports: Arc::new(reports),
                municipality_doc,
                server_actor,
                seed_invites,
            }),
            dist,
        })
    }

    /// Every route the server answers.
    pub fn router(&self) -> Router {
        Router::new()
            .nest(
                "/api",
                bootstrap_api::router()
                    .merge(accounts::http::router())
                    .with_state(self.state.clone())
                    .merge(reports::router(reports::ReportsApi {
                        store: self.state.reports.clone(),
                        // Reports need a signed-in resident, with or without trust on /sync.
                        identities: Arc::new(self.state.accounts.clone()),
                    })),
            )
            .route("/sync", get(ws::upgrade).with_state(self.state.clone()))
            .merge(static_files::router(&self.dist))
            .layer(CompressionLayer::new())
            .layer(
                TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                    // Never the raw URI: `/sync?token=` carries a session token.
                    tracing::debug_span!(
                        "request",
                        method = %request.method(),
                        uri = %redacted_uri(request.uri()),
                    )
                }),
            )
    }

    /// What `GET /api/bootstrap` answers: the municipality and its villages, with their documents.
    pub fn bootstrap(&self) -> &Bootstrap {
        &self.state.bootstrap
    }

    /// The accounts: sessions, roles and registered actors; the sync endpoint's
    /// [`trust::Identities`].
    pub fn accounts(&self) -> &Accounts {
        &self.state.accounts
    }

    /// Open WebSocket connections.
    pub fn open_connections(&self) -> usize {
        self.state.limits.max_connections - self.state.connections.available_permits()
    }

    /// Bytes queued for the WebSocket connections and not yet written to their sockets (what
    /// slow readers hold up; each connection's share is bounded by
    /// [`SyncLimits::outbound_queue_bytes`]).
    pub fn queued_outbound_bytes(&self) -> usize {
        self.state
            .queued_bytes
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// The invites this start made for the roles the seed names (each bound to the seed's
    /// user id), for the operator to hand to the brokers: `main` prints them.
    pub fn seed_invites(&self) -> &[accounts::SeedInvite] {
        &self.state.seed_invites
    }

    /// How many documents are in memory (they are unloaded when nobody has them open).
    pub fn documents_in_memory(&self) -> usize {
        self.state.hub.loaded()
    }

    /// Serves until `shutdown` resolves. Then it stops accepting, lets open HTTP requests
    /// finish, closes every WebSocket, waits until each document has stored what it received,
    /// and returns; storage is flushed when the last `Server` clone is dropped.
    pub async fn run(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let lifecycle = self.state.lifecycle.clone();
        let stopping = lifecycle.clone();
        let mut stopped = lifecycle.shutdown();
        let signal = tokio::spawn(async move {
            shutdown.await;
            stopping.begin_shutdown();
        });
        // The client's address reaches the handlers (sign-in rate limiting per IP).
        let app = self
            .router()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stopped.recv().await })
            .await
            .map_err(|source| Error::Io {
                what: "serving".into(),
                source,
            });
        // axum's graceful shutdown does not cover upgraded WebSockets: stop them ourselves.
        lifecycle.begin_shutdown();
        signal.abort();
        lifecycle.all_finished().await;
        tracing::info!("all connections closed and documents stored");
        served
    }
}
