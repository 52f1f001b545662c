//! Whether a user id already names someone in the public documents, so sign-up can refuse to
//! hand it to a newcomer.
//!
//! A device proposes its local profile id at sign-up, so what the resident made before keeps
//! their name. But the rules give rights to whoever a document names: the `author` of an object
//! may edit it, the key of `volunteers/<id>`, `signups/<id>` or `reactions/<id>` is that
//! person's, a need's `filled_by` may be cleared by its filler. Content can name an id that has
//! no account: seed content (authored by the municipality's id) and anything stored while trust
//! was off. Signing up with such an id would take that content over, so it is refused.
//!
//! The check reads every public document (the municipality's and the villages') on its own task,
//! walking all maps once: sign-up is rare, and it needs no index kept up to date on every
//! accepted change. One check runs at a time ([`SCANS`]), so a burst of sign-ups holds up each
//! document's task for one walk at a time rather than piling walks onto it. Role lists (`brokers`, `admins`, `members`) are not looked at: roles come
//! from the accounts, and a seed naming a broker's user id means that id is theirs to claim.

use std::sync::{Arc, Mutex, PoisonError};

use automerge::{Automerge, ObjId, ObjType, ReadDoc, ScalarValueRef, ValueRef};
use model::UserId;
use sync::DocumentId;
use tokio::sync::Semaphore;

use super::error::AccountError;
use crate::hub::Hub;

/// Fields whose value is the user id of the person behind the object.
const PERSON_FIELDS: &[&str] = &["author", "filled_by", "added_by"];
/// Maps whose keys are user ids, each entry that person's.
const PERSON_MAPS: &[&str] = &["volunteers", "signups", "reactions", "participants"];

/// One check at a time in this process.
static SCANS: Semaphore = Semaphore::const_new(1);

/// Whether any of `docs` names `user` as the person behind something. Loads the documents
/// that are not in memory; a document that cannot be read fails the check.
pub(crate) async fn named_in(
    hub: &Hub,
    docs: &[DocumentId],
    user: &UserId,
) -> Result<bool, AccountError> {
    let _one_at_a_time = SCANS
        .acquire()
        .await
        .map_err(|_| AccountError::Internal("scans closed".into()))?;
    for &doc in docs {
        let found = Arc::new(Mutex::new(false));
        let (out, id) = (found.clone(), user.clone());
        hub.change(
            doc,
            Box::new(move |am: &mut Automerge| {
                *out.lock().unwrap_or_else(PoisonError::into_inner) = names(am, id.as_str());
                Ok(false)
            }),
        )
        .await
        .map_err(|e| AccountError::Internal(format!("reading a public document: {e}")))?;
        if *found.lock().unwrap_or_else(PoisonError::into_inner) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `am` names `user` in a [`PERSON_FIELDS`] value or as a [`PERSON_MAPS`] key, at any
/// depth. Lists and text are not part of the schema's people and are not entered.
pub(crate) fn names(am: &Automerge, user: &str) -> bool {
    let mut todo: Vec<(ObjId, bool)> = vec![(ObjId::Root, false)];
    while let Some((obj, keys_are_people)) = todo.pop() {
        for item in am.map_range(&obj, ..) {
            if keys_are_people && item.key == user {
                return true;
            }
            match &item.value {
                ValueRef::Object(ObjType::Map) => {
                    let people = PERSON_MAPS.contains(&item.key.as_ref());
                    todo.push((item.id(), people));
                }
                ValueRef::Scalar(ScalarValueRef::Str(s))
                    if s == user && PERSON_FIELDS.contains(&item.key.as_ref()) =>
                {
                    return true;
                }
                _ => {}
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use automerge::{ROOT, transaction::Transactable};

    use super::*;

    #[test]
    fn people_are_found_where_the_rules_give_them_rights_and_nowhere_else() {
        let mut am = Automerge::new();
        let mut tx = am.transaction();
        let posts = tx.put_object(ROOT, "help_posts", ObjType::Map).unwrap();
        let p = tx.put_object(&posts, "p1", ObjType::Map).unwrap();
        tx.put(&p, "author", "anna").unwrap();
        tx.put(&p, "title", "bert").unwrap();
        let events = tx.put_object(ROOT, "events", ObjType::Map).unwrap();
        let e = tx.put_object(&events, "e1", ObjType::Map).unwrap();
        let signups = tx.put_object(&e, "signups", ObjType::Map).unwrap();
        tx.put_object(&signups, "carla", ObjType::Map).unwrap();
        let needs = tx.put_object(&p, "needs", ObjType::Map).unwrap();
        let n = tx.put_object(&needs, "n1", ObjType::Map).unwrap();
        tx.put(&n, "filled_by", "dirk").unwrap();
        let brokers = tx.put_object(ROOT, "brokers", ObjType::Map).unwrap();
        tx.put(&brokers, "erik", true).unwrap();
        let text = tx.put_object(&p, "body", ObjType::Text).unwrap();
        tx.splice_text(&text, 0, 0, "fenna").unwrap();
        tx.commit();
        for named in ["anna", "carla", "dirk"] {
            assert!(names(&am, named), "{named}");
        }
        // A title, a role list, text and keys that merely look like ids name nobody.
        for nobody in ["bert", "erik", "fenna", "p1", "e1", "n1", "zoe"] {
            assert!(!names(&am, nobody), "{nobody}");
        }
    }
}
