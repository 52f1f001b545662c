//! What the tests that forge changes share: the seeded documents' ids, a path's object, and
//! one raw write with the document's actor.

use automerge::{Automerge, ObjId, ROOT, ReadDoc, Value, transaction::CommitOptions};
use model::VillageId;
use sync::DocumentId;

use super::TestServer;

/// Now, in milliseconds since the epoch (as the model's operations take it).
pub fn now_ms() -> i64 {
    super::now().as_millis() as i64
}

/// The seed's first village and its document.
pub fn village_of(server: &TestServer) -> (VillageId, DocumentId) {
    let v = &server.server.bootstrap().villages[0];
    (
        VillageId::new(v.id.clone()).unwrap(),
        DocumentId::from_url(&v.doc).unwrap(),
    )
}

/// The municipality's document.
pub fn municipality_of(server: &TestServer) -> DocumentId {
    DocumentId::from_url(&server.server.bootstrap().municipality).unwrap()
}

/// The object at `path` (map keys from the root).
pub fn obj(doc: &Automerge, path: &[&str]) -> ObjId {
    path.iter()
        .fold(ROOT, |o, key| match doc.get(&o, *key).unwrap() {
            Some((Value::Object(_), id)) => id,
            other => panic!("no object at {path:?} ({key}): {other:?}"),
        })
}

/// One raw write with the document's actor.
pub fn raw(am: &mut Automerge, write: impl FnOnce(&mut automerge::transaction::Transaction<'_>)) {
    let mut tx = am.transaction();
    write(&mut tx);
    tx.commit_with(CommitOptions::default().with_time(now_ms()));
}
