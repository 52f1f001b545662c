//! What the soak checks in storage: after each kill, and at the end.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    sync::Arc,
};

use automerge::{Automerge, ReadDoc};
use sync::DocumentId;
use sync_server::storage::{DocumentStore, SqliteStorage, Storage, StorageKey};

use crate::{attacker, resident};

/// After a kill: every head a resident last heard from the server is in storage. Returns how
/// many heads it checked.
pub async fn check_after_kill(
    data: &Path,
    stats: &resident::Stats,
    kill: u32,
    violations: &mut Vec<String>,
) -> usize {
    let acknowledged = stats.acknowledged.lock().unwrap().clone();
    let stored = stored_documents(data, violations).await;
    let mut checked = 0;
    for (name, (doc, heads)) in acknowledged {
        for head in heads {
            checked += 1;
            if stored
                .get(&doc)
                .is_none_or(|d| d.get_change_by_hash(&head).is_none())
            {
                violations.push(format!(
                    "after kill {kill}: {name} was told of {head}, which is not in storage"
                ));
            }
        }
    }
    checked
}

/// Every document in storage.
pub async fn stored_documents(
    data: &Path,
    violations: &mut Vec<String>,
) -> HashMap<DocumentId, Automerge> {
    let path = data.to_owned();
    let storage = tokio::task::spawn_blocking(move || SqliteStorage::open(&path).unwrap())
        .await
        .unwrap();
    let ids: HashSet<DocumentId> = storage
        .load_range(StorageKey::new(Vec::<String>::new()).unwrap())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(key, _)| key.parts().first()?.parse().ok())
        .collect();
    let store = DocumentStore::new(Arc::new(storage));
    let mut docs = HashMap::new();
    for id in ids {
        match store.load_document(id).await {
            Ok(Some(doc)) => {
                docs.insert(id, doc);
            }
            Ok(None) => {}
            Err(e) => violations.push(format!("document {id} does not load: {e}")),
        }
    }
    docs
}

pub fn attacker_changes(doc: &Automerge) -> usize {
    doc.get_changes(&[])
        .iter()
        .filter(|c| c.actor_id().to_bytes().starts_with(attacker::ATTACKER))
        .count()
}
