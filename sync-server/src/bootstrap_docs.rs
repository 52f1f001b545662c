//! The documents `/api/bootstrap` names exist in storage from the first start on, so a client
//! that `find`s one gets a document rather than `doc-unavailable`.

use automerge::{ActorId, Automerge};
use model::{MunicipalityDoc, MunicipalitySeed, VillageDoc, VillageId};
use sync::DocumentId;

use crate::{
    Error, db,
    storage::{DocumentStore, StorageKey, WriteOp},
};

/// Writes, in one durable write, a new municipality or village document (`model`'s initial
/// content) for each one the database names that storage has no chunks of.
pub(crate) async fn create_missing(
    store: &DocumentStore,
    seed: &MunicipalitySeed,
    municipality: &db::Municipality,
) -> Result<(), Error> {
    let now = crate::doc_task::now().as_millis() as i64;
    let mut ops = Vec::new();
    if !exists(store, municipality.doc).await? {
        let doc = MunicipalityDoc::new(seed, ActorId::random(), now);
        ops.push(snapshot(municipality.doc, doc.automerge()));
    }
    for village in &municipality.villages {
        if exists(store, village.doc).await? {
            continue;
        }
        let Ok(id) = VillageId::new(village.id.clone()) else {
            // The seed was validated when stored; an id the model refuses is a bug upstream.
            tracing::error!(village = village.id, "village id is not a valid model id");
            continue;
        };
        let doc = VillageDoc::new(&id, ActorId::random(), now);
        ops.push(snapshot(village.doc, doc.automerge()));
    }
    if !ops.is_empty() {
        tracing::info!(documents = ops.len(), "creating the bootstrap documents");
        store.storage().write(ops).await?;
    }
    Ok(())
}

async fn exists(store: &DocumentStore, doc: DocumentId) -> Result<bool, Error> {
    let storage = store.storage();
    Ok(!storage
        .load_range(StorageKey::incrementals(doc))
        .await?
        .is_empty()
        || !storage
            .load_range(StorageKey::snapshots(doc))
            .await?
            .is_empty())
}

/// A whole document as a snapshot chunk, keyed by its heads as automerge-repo does.
fn snapshot(id: DocumentId, doc: &Automerge) -> WriteOp {
    WriteOp::Put {
        key: StorageKey::snapshot(id, &doc.get_heads()),
        data: doc.save(),
    }
}
