//! Backup and restore of a data folder: `sync-server backup --data DIR --to FILE` and
//! `sync-server restore --from FILE --data DIR`.
//!
//! The data folder's state is one SQLite database (`dorpskracht.sqlite3`: documents, accounts,
//! sessions). [`backup`] copies it with SQLite's online backup API while the server runs: in
//! one step, under one read transaction, so the copy is the database as of one commit (every
//! change the server had acknowledged when the step began, and no half of any later one); WAL
//! lets the server keep writing meanwhile. The copy is written to `FILE.partial` (mode 0600:
//! it holds password hashes and session tokens), switched out of WAL so that it is one
//! self-contained file, checked with `PRAGMA quick_check`, fsynced, and only then renamed to
//! `FILE`: a `FILE` that exists is a whole backup.
//!
//! [`restore`] puts a backup into a data folder that has no database yet (it never overwrites
//! one), mode 0600 in a folder of mode 0700; the server started on it takes it up as it is.
//! Copying the backup file by hand to `DIR/dorpskracht.sqlite3` is equivalent.

use std::{
    fs::{self, File, OpenOptions},
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use rusqlite::{Connection, OpenFlags, backup::StepResult};

use crate::db::FILE_NAME;

/// The database's file name in a data folder.
pub const DATABASE_FILE: &str = FILE_NAME;

/// How long a backup waits for a lock the server holds (a checkpoint) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// What a finished backup copied.
#[derive(Debug, Clone, Copy)]
pub struct Copied {
    pub bytes: u64,
    pub took: Duration,
}

/// Why a backup or restore failed; nothing was written at the destination then.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Sqlite {
        what: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{0} has no database ({FILE_NAME})")]
    NoDatabase(PathBuf),
    #[error("{0} already has a database; restore into a fresh data folder")]
    DataNotEmpty(PathBuf),
    #[error("{path} fails SQLite's check: {problem}")]
    Damaged { path: PathBuf, problem: String },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

fn sql(what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Sqlite { what, source }
}

/// Copies the database of the data folder `data` to `to` while a server may be using it.
pub fn backup(data: &Path, to: &Path) -> Result<Copied, BackupError> {
    let started = Instant::now();
    let source_path = data.join(FILE_NAME);
    if !source_path.is_file() {
        return Err(BackupError::NoDatabase(data.to_owned()));
    }
    // Read-write without create: a read-only connection could not join the WAL's shared
    // memory if the server is not running. Nothing is written to the source.
    let source = Connection::open_with_flags(
        &source_path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql(format!("opening {}", source_path.display())))?;
    source
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(sql("setting the busy timeout"))?;

    let partial = partial_path(to);
    let _ = fs::remove_file(&partial);
    create_private(&partial)?;
    let copied = (|| {
        let mut dest =
            Connection::open(&partial).map_err(sql(format!("opening {}", partial.display())))?;
        {
            let copy = rusqlite::backup::Backup::new(&source, &mut dest)
                .map_err(sql("starting the backup"))?;
            // All pages in one step: one read transaction, so one consistent snapshot (a
            // stepwise copy restarts whenever the server commits, which under load is forever).
            loop {
                match copy.step(-1).map_err(sql("copying the database"))? {
                    StepResult::Done => break,
                    StepResult::More => {}
                    // A lock held by a checkpoint; the busy timeout has already waited.
                    StepResult::Busy | StepResult::Locked => {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    _ => {}
                }
            }
        }
        // One self-contained file: no WAL beside it. The server turns WAL back on at start.
        let mode: String = dest
            .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
            .map_err(sql("leaving WAL mode"))?;
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(BackupError::Damaged {
                path: partial.clone(),
                problem: format!("journal mode stayed {mode}"),
            });
        }
        check(&dest, &partial)?;
        dest.close()
            .map_err(|(_, e)| sql("closing the backup")(e))?;
        File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(io(format!("syncing {}", partial.display())))?;
        fs::rename(&partial, to).map_err(io(format!("renaming to {}", to.display())))?;
        sync_parent(to)?;
        let bytes = fs::metadata(to)
            .map_err(io(format!("reading {}", to.display())))?
            .len();
        Ok(Copied {
            bytes,
            took: started.elapsed(),
        })
    })();
    if copied.is_err() {
        let _ = fs::remove_file(&partial);
    }
    copied
}

/// Puts the backup `from` into the data folder `data`, which must not have a database yet.
pub fn restore(from: &Path, data: &Path) -> Result<Copied, BackupError> {
    let started = Instant::now();
    let target = data.join(FILE_NAME);
    for existing in [
        target.clone(),
        data.join(format!("{FILE_NAME}-wal")),
        data.join(format!("{FILE_NAME}-journal")),
    ] {
        if existing.exists() {
            return Err(BackupError::DataNotEmpty(data.to_owned()));
        }
    }
    {
        let backup = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql(format!("opening {}", from.display())))?;
        check(&backup, from)?;
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data)
        .map_err(io(format!("creating {}", data.display())))?;
    let partial = partial_path(&target);
    let _ = fs::remove_file(&partial);
    let copied = (|| {
        let mut out = create_private(&partial)?;
        let mut input = File::open(from).map_err(io(format!("opening {}", from.display())))?;
        let bytes = std::io::copy(&mut input, &mut out)
            .map_err(io(format!("copying to {}", partial.display())))?;
        out.sync_all()
            .map_err(io(format!("syncing {}", partial.display())))?;
        fs::rename(&partial, &target).map_err(io(format!("renaming to {}", target.display())))?;
        sync_parent(&target)?;
        Ok(Copied {
            bytes,
            took: started.elapsed(),
        })
    })();
    if copied.is_err() {
        let _ = fs::remove_file(&partial);
    }
    copied
}

fn check(conn: &Connection, path: &Path) -> Result<(), BackupError> {
    let problem: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(sql(format!("checking {}", path.display())))?;
    if problem == "ok" {
        Ok(())
    } else {
        Err(BackupError::Damaged {
            path: path.to_owned(),
            problem,
        })
    }
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// A new, empty file only its owner may read; SQLite gives the journals it makes beside a
/// database the database's mode.
fn create_private(path: &Path) -> Result<File, BackupError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(format!("creating {}", path.display())))
}

fn sync_parent(path: &Path) -> Result<(), BackupError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(io(format!("syncing {}", parent.display())))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::storage::{SqliteStorage, Storage, StorageKey};

    fn key(parts: &[&str]) -> StorageKey {
        StorageKey::new(parts.iter().copied()).unwrap()
    }

    #[tokio::test]
    async fn a_backup_restores_into_a_fresh_folder_and_never_over_a_database() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let storage = SqliteStorage::open(&data).unwrap();
        storage.put(key(&["a"]), vec![1, 2, 3]).await.unwrap();
        let file = dir.path().join("backup.sqlite3");
        let copied = backup(&data, &file).unwrap();
        assert!(copied.bytes > 0);
        assert_eq!(file.metadata().unwrap().permissions().mode() & 0o777, 0o600);
        assert!(!partial_path(&file).exists());
        // Written after the backup: not in it.
        storage.put(key(&["b"]), vec![4]).await.unwrap();

        assert!(matches!(
            restore(&file, &data),
            Err(BackupError::DataNotEmpty(_))
        ));
        let fresh = dir.path().join("fresh");
        restore(&file, &fresh).unwrap();
        let target = fresh.join(FILE_NAME);
        assert_eq!(
            target.metadata().unwrap().permissions().mode() & 0o777,
            0o600
        );
        let restored = SqliteStorage::open(&fresh).unwrap();
        assert_eq!(
            restored.load(key(&["a"])).await.unwrap(),
            Some(vec![1, 2, 3])
        );
        assert_eq!(restored.load(key(&["b"])).await.unwrap(), None);
    }

    #[test]
    fn nothing_to_back_up_or_a_damaged_backup_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("backup.sqlite3");
        assert!(matches!(
            backup(&dir.path().join("none"), &file),
            Err(BackupError::NoDatabase(_))
        ));
        assert!(!file.exists());
        fs::write(&file, b"not a database at all, just some bytes").unwrap();
        assert!(restore(&file, &dir.path().join("fresh")).is_err());
        assert!(!dir.path().join("fresh").join(FILE_NAME).exists());
    }
}
