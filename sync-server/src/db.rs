//! The server's SQLite database: one file in the data folder, in WAL mode, with its schema
//! versioned by `PRAGMA user_version`.

use std::path::Path;

use model::MunicipalitySeed;
use rusqlite::{Connection, OptionalExtension, params};
use sync::DocumentId;

use crate::Error;

/// The database file's name inside the data folder.
pub const FILE_NAME: &str = "dorpskracht.sqlite3";

/// Schema migrations, applied in order; `user_version` counts how many have run.
/// Never edit one that has shipped: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the municipality and its villages, each with the id of its Automerge document.
    "CREATE TABLE municipality (
         id     TEXT PRIMARY KEY,
         name   TEXT NOT NULL,
         doc_id TEXT NOT NULL UNIQUE
     );
     CREATE TABLE village (
         id         TEXT PRIMARY KEY,
         name       TEXT NOT NULL,
         position   INTEGER NOT NULL,
         neighbours TEXT NOT NULL,
         doc_id     TEXT NOT NULL UNIQUE
     );",
    // 2: documents and sync states, in automerge-repo's storage layout (see storage/). The key
    // is its parts, each followed by a NUL byte, so a prefix of parts is a range of keys.
    "CREATE TABLE storage_entry (
         key  BLOB PRIMARY KEY,
         data BLOB NOT NULL
     );",
    // 3: accounts (see accounts/). Secrets are stored only as hashes: passwords as argon2id
    // PHC strings, session and invite tokens as SHA-256. Times are ms since the Unix epoch.
    // `role.user_id` has no foreign key: a seed may name brokers before they have accounts.
    "CREATE TABLE account (
         user_id       TEXT PRIMARY KEY,
         email         TEXT NOT NULL UNIQUE,
         display_name  TEXT NOT NULL,
         password_hash TEXT NOT NULL,
         created_at    INTEGER NOT NULL
     );
     CREATE TABLE session (
         token_hash BLOB PRIMARY KEY,
         user_id    TEXT NOT NULL REFERENCES account (user_id) ON DELETE CASCADE,
         created_at INTEGER NOT NULL,
         expires_at INTEGER NOT NULL
     );
     CREATE INDEX session_by_user ON session (user_id);
     CREATE INDEX session_by_expiry ON session (expires_at);
     CREATE TABLE actor (
         actor_id   BLOB PRIMARY KEY,
         user_id    TEXT NOT NULL REFERENCES account (user_id) ON DELETE CASCADE,
         created_at INTEGER NOT NULL
     );
     CREATE TABLE role (
         user_id    TEXT NOT NULL,
         kind       TEXT NOT NULL,
         target     TEXT NOT NULL,
         granted_at INTEGER NOT NULL,
         PRIMARY KEY (user_id, kind, target)
     );
     CREATE TABLE invite (
         token_hash  BLOB PRIMARY KEY,
         kind        TEXT NOT NULL,
         target      TEXT NOT NULL,
         created_by  TEXT NOT NULL,
         created_at  INTEGER NOT NULL,
         expires_at  INTEGER NOT NULL,
         accepted_by TEXT,
         accepted_at INTEGER
     );",
    // 4: reports of posts and responses for the village's broker (see reports.rs).
    REPORTS_MIGRATION,
    // 5: roles taken away (see accounts/), so the start's reconciliation neither grants a
    // revoked role again (from the seed or the municipality document) nor leaves it in the
    // document. Granting the role again deletes the row.
    "CREATE TABLE role_revocation (
         user_id    TEXT NOT NULL,
         kind       TEXT NOT NULL,
         target     TEXT NOT NULL,
         revoked_by TEXT NOT NULL,
         revoked_at INTEGER NOT NULL,
         PRIMARY KEY (user_id, kind, target)
     );",
    // 6: rate limits (see accounts/limit.rs), so they hold across restarts.
    RATE_EVENT_MIGRATION,
    // 7: invites bound to one user id (see accounts/seeded.rs): the seed's brokers' ids are
    // taken only with the invite the server made for them. NULL: anyone may accept it.
    "ALTER TABLE invite ADD COLUMN for_user TEXT;
     CREATE INDEX invite_for_user ON invite (for_user) WHERE for_user IS NOT NULL;",
];

/// The rate limits' events (accounts/limit.rs), migration 6: one row per failed sign-in or
/// sign-up (or one in progress), by key (`sign-in:account:<email>`, `sign-in:ip:<address>`,
/// `sign-up:ip:<address>`); `at` in ms since the Unix epoch. Rows older than the longest
/// window are deleted as new ones come.
pub(crate) const RATE_EVENT_MIGRATION: &str = "CREATE TABLE rate_event (
         id  INTEGER PRIMARY KEY,
         key TEXT NOT NULL,
         at  INTEGER NOT NULL
     );
     CREATE INDEX rate_event_by_key ON rate_event (key, at);
     CREATE INDEX rate_event_by_time ON rate_event (at);";

/// The table of reports (reports.rs), migration 4. It is kept here with the others, so that
/// the database owns its schema and imports none of its users.
pub(crate) const REPORTS_MIGRATION: &str = "CREATE TABLE report (
         id          INTEGER PRIMARY KEY,
         village     TEXT NOT NULL,
         target      TEXT NOT NULL,
         reason      TEXT NOT NULL,
         reporter    TEXT NOT NULL,
         created_at  INTEGER NOT NULL,
         resolution  TEXT,
         resolved_by TEXT,
         resolved_at INTEGER
     );
     CREATE INDEX report_open ON report (village, resolution, id);
     CREATE UNIQUE INDEX report_once ON report (reporter, village, target) WHERE resolution IS NULL;";

pub struct Db {
    conn: Connection,
}

/// The municipality as stored: names and document ids.
#[derive(Debug, Clone)]
pub struct Municipality {
    pub name: String,
    pub doc: DocumentId,
    pub villages: Vec<Village>,
}

#[derive(Debug, Clone)]
pub struct Village {
    pub id: String,
    pub name: String,
    pub doc: DocumentId,
}

impl Db {
    /// Opens the database in `data`, creating the folder and file if needed, and migrates it.
    pub fn open(data: &Path) -> Result<Self, Error> {
        private_files(data)?;
        let mut conn = Connection::open(data.join(FILE_NAME))?;
        // WAL lets readers run beside the writer; FULL makes each commit durable (fsync) before
        // it returns, so nothing the server acknowledged is lost when the machine dies.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Self { conn })
    }

    /// The connection, for a part of the server that keeps its own (the accounts).
    pub fn into_connection(self) -> Connection {
        self.conn
    }

    /// Stores the municipality from `seed` if the database has none yet, giving it and each
    /// village a new document id; returns what is stored (the seed is ignored on later starts,
    /// so ids stay stable).
    pub fn seed_if_empty(&mut self, seed: &MunicipalitySeed) -> Result<Municipality, Error> {
        let tx = self.conn.transaction()?;
        let exists: Option<String> = tx
            .query_row("SELECT id FROM municipality LIMIT 1", [], |r| r.get(0))
            .optional()?;
        if exists.is_none() {
            tx.execute(
                "INSERT INTO municipality (id, name, doc_id) VALUES (?1, ?2, ?3)",
                params![seed.id, seed.name, new_document_id()?.to_string()],
            )?;
            for (position, village) in seed.villages.iter().enumerate() {
                tx.execute(
                    "INSERT INTO village (id, name, position, neighbours, doc_id)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        village.id,
                        village.name,
                        position as i64,
                        village.neighbours.join(","),
                        new_document_id()?.to_string()
                    ],
                )?;
            }
            tracing::info!("seeded municipality {}", seed.name);
        }
        tx.commit()?;
        self.municipality()
    }

    fn municipality(&self) -> Result<Municipality, Error> {
        let (name, doc) =
            self.conn
                .query_row("SELECT name, doc_id FROM municipality LIMIT 1", [], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?;
        let mut stmt = self
            .conn
            .prepare("SELECT id, name, doc_id FROM village ORDER BY position")?;
        let villages = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .map(|row| {
                let (id, name, doc) = row?;
                Ok(Village {
                    id,
                    name,
                    doc: parse_stored_id(&doc)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Municipality {
            name,
            doc: parse_stored_id(&doc)?,
            villages,
        })
    }
}

/// Creates the data folder readable by the server's user only (0700) and the database file,
/// with its WAL and shared-memory files, readable and writable by it only (0600): they hold
/// password hashes, session hashes and every private conversation. SQLite gives the `-wal` and
/// `-shm` files the database file's mode; existing files are narrowed to 0600 too.
fn private_files(data: &Path) -> Result<(), Error> {
    let io = |what: String| move |source| Error::Io { what, source };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        if !data.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(data)
                .map_err(io(format!("creating data folder {}", data.display())))?;
        } else if std::fs::metadata(data).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
            tracing::warn!(
                "data folder {} is open to other users; 0700 is advised",
                data.display()
            );
        }
        let file = data.join(FILE_NAME);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&file)
            .map_err(io(format!("creating {}", file.display())))?;
        for suffix in ["", "-wal", "-shm"] {
            let path = data.join(format!("{FILE_NAME}{suffix}"));
            if path.exists() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .map_err(io(format!("narrowing {}", path.display())))?;
            }
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(data)
        .map_err(io(format!("creating data folder {}", data.display())))?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), Error> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn new_document_id() -> Result<DocumentId, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Error::Io {
        what: "drawing a random document id".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(DocumentId::from_bytes(bytes))
}

fn parse_stored_id(text: &str) -> Result<DocumentId, Error> {
    text.parse().map_err(|e: sync::BadDocumentId| {
        Error::Database(rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            Box::new(e),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> MunicipalitySeed {
        toml::from_str(crate::DEFAULT_SEED).unwrap()
    }

    #[test]
    fn seeds_once_and_keeps_document_ids_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = Db::open(dir.path())
            .unwrap()
            .seed_if_empty(&seed())
            .unwrap();
        assert_eq!(first.villages.len(), 16);
        assert_eq!(first.villages[0].name, "Bontebrug");

        let mut other = seed();
        other.name = "Somewhere else".into();
        let again = Db::open(dir.path()).unwrap().seed_if_empty(&other).unwrap();
        assert_eq!(again.name, "Oude IJsselstreek");
        assert_eq!(again.doc, first.doc);
        let ids = |m: &Municipality| m.villages.iter().map(|v| v.doc).collect::<Vec<_>>();
        assert_eq!(ids(&again), ids(&first));
    }

    #[test]
    fn every_document_id_is_distinct() {
        let dir = tempfile::tempdir().unwrap();
        let m = Db::open(dir.path())
            .unwrap()
            .seed_if_empty(&seed())
            .unwrap();
        let mut ids: Vec<_> = m.villages.iter().map(|v| v.doc).collect();
        ids.push(m.doc);
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}
