//! Schema versions and the migration path: [`MIGRATIONS`], [`migrate`] and
//! [`schema_version_of`]. Only the server migrates; see the crate docs.

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{Automerge, ObjId, ObjType, ReadDoc, ScalarValue, Value};

use crate::error::SchemaError;
use crate::read::{get_obj, get_str};
use crate::schema::{DocKind, KEY_KIND, KEY_SCHEMA_VERSION, SCHEMA_VERSION};

/// One step of the migration path: brings a document from version `i` to `i + 1`, as ordinary
/// Automerge operations. Index `i` of [`MIGRATIONS`] migrates from version `i`.
pub type Migration = fn(&mut Transaction<'_>, DocKind) -> Result<(), automerge::AutomergeError>;

/// The migration path, oldest first. Version 0 is a document without `schema_version` (e.g. a
/// bare `repo.create()` of an automerge-repo client): it gets its kind and root maps.
pub static MIGRATIONS: &[Migration] = &[migrate_0_to_1];

fn migrate_0_to_1(
    tx: &mut Transaction<'_>,
    kind: DocKind,
) -> Result<(), automerge::AutomergeError> {
    tx.put(ObjId::Root, KEY_KIND, kind.as_str())?;
    for key in kind.root_maps() {
        if get_obj(tx, &ObjId::Root, key).is_none() {
            tx.put_object(ObjId::Root, *key, ObjType::Map)?;
        }
    }
    Ok(())
}

/// The schema version stored in `doc` (0 when absent).
pub fn schema_version_of(doc: &impl ReadDoc) -> u64 {
    match doc.get(ObjId::Root, KEY_SCHEMA_VERSION) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Uint(v) => *v,
            ScalarValue::Int(v) => (*v).max(0) as u64,
            _ => 0,
        },
        _ => 0,
    }
}

/// Runs the migrations `doc` still needs, each as one change, and returns the version it had.
///
/// Migrations are run by the server only (it owns the root keys), and once per document; its
/// changes then sync to every device. Apps open documents of an older version read-only and
/// wait for the migrated copy; a document of a newer version is refused with
/// [`SchemaError::NewerVersion`] so an old app never damages it.
pub fn migrate(doc: &mut Automerge, kind: DocKind, now: i64) -> Result<u64, SchemaError> {
    let found = schema_version_of(doc);
    if found > SCHEMA_VERSION {
        return Err(SchemaError::NewerVersion {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found >= 1 {
        check_kind(doc, kind)?;
    }
    for (from, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let mut tx = doc.transaction();
        step(&mut tx, kind)
            .and_then(|_| tx.put(ObjId::Root, KEY_SCHEMA_VERSION, (from + 1) as u64))
            .map_err(|e| SchemaError::Load(e.to_string()))?;
        tx.commit_with(
            CommitOptions::default()
                .with_time(now)
                .with_message(format!("migrate schema {from} -> {}", from + 1)),
        );
    }
    Ok(found)
}

/// Whether `doc` says it is of `kind`.
pub(crate) fn check_kind(doc: &Automerge, kind: DocKind) -> Result<(), SchemaError> {
    let found = get_str(doc, &ObjId::Root, KEY_KIND);
    if found.as_deref().and_then(DocKind::parse) == Some(kind) {
        Ok(())
    } else {
        Err(SchemaError::WrongKind {
            expected: kind.as_str(),
            found,
        })
    }
}
