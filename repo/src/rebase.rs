//! Recovering a document after the server refused some of its changes.
//!
//! The server stored none of the refused message's changes, so the device's copy has changes the
//! server will never take. [`rebase`] rebuilds the document from what the server is known to
//! have, then puts the device's later changes back on top, oldest first:
//!
//! - a change that does not depend on a left-out one is applied as it was (same hash: the server
//!   may well have it already);
//! - a change that depends on a left-out one cannot be applied as it was, so its operations are
//!   made again as a new change by this device's actor — a value put under the same key of the
//!   same object, a character inserted after the same character, an element deleted (if it is
//!   still there; if not, it is gone already). Where the object or the place it wrote to came from a left-out change, it cannot
//!   be made again and is left out too;
//! - whatever stays must pass `keep` (the app's own rules, the same the server applies), judged
//!   on the rebuilt document.
//!
//! The change the server named is left out; so is everything `keep` refuses. Nothing is lost on
//! the device: the caller keeps the left-out changes' bytes (see `Repo`'s recovery).

use std::collections::{HashMap, HashSet};

use automerge::{
    ActorId, Automerge, AutomergeError, Change, ChangeHash, Cursor, ObjId, ObjType, ROOT, ReadDoc,
    ScalarValue,
    legacy::{ElementId, Key, ObjectId, OpId, OpType},
    transaction::{CommitOptions, Transactable, Transaction},
};

/// The document rebuilt after a refusal.
pub(crate) struct Rebased {
    pub doc: Automerge,
    /// Changes kept as they were.
    pub kept: usize,
    /// Changes made again as new operations.
    pub replayed: usize,
    /// Changes left out: named by the server, refused by `keep`, or impossible to make again.
    pub dropped: Vec<Change>,
}

/// Rebuilds `doc` from `base` (heads the server has) with the changes after it, as described in
/// the module's documentation. Replayed changes are made as `actor`. `keep(doc, before)` judges
/// the changes `doc` has beyond the heads `before` (one change at a time).
pub(crate) fn rebase(
    doc: &Automerge,
    base: &[ChangeHash],
    refused: Option<ChangeHash>,
    actor: &ActorId,
    mut keep: impl FnMut(&Automerge, &[ChangeHash]) -> bool,
) -> Result<Rebased, AutomergeError> {
    let pending = doc.get_changes(base);
    let mut out = doc.fork_at(base)?;
    out.set_actor(actor.clone());
    let mut replayed_ids = ReplayedIds::default();
    // Changes of `doc` that `out` does not have as they were.
    let mut absent: HashSet<ChangeHash> = HashSet::new();
    let mut rebased = Rebased {
        doc: Automerge::new(),
        kept: 0,
        replayed: 0,
        dropped: Vec::new(),
    };
    for change in pending {
        let hash = change.hash();
        if Some(hash) == refused {
            absent.insert(hash);
            rebased.dropped.push(change);
            continue;
        }
        let before = out.get_heads();
        let as_it_was = change.deps().iter().all(|d| !absent.contains(d));
        let applied = if as_it_was {
            out.apply_changes([change.clone()]).is_ok()
        } else {
            absent.insert(hash);
            replay(&change, &mut out, &mut replayed_ids).is_ok()
        };
        if applied && out.get_heads() == before {
            // Nothing left to do (it only deleted what is gone already).
            continue;
        }
        if applied && keep(&out, &before) {
            if as_it_was {
                rebased.kept += 1;
            } else {
                rebased.replayed += 1;
            }
            continue;
        }
        if applied {
            // Take it out again: automerge has no undo, so go back to the heads before it.
            out = out.fork_at(&before)?;
            out.set_actor(actor.clone());
        }
        absent.insert(hash);
        rebased.dropped.push(change);
    }
    rebased.doc = out;
    Ok(rebased)
}

/// What replayed changes made, by the id their operation had in the original change: objects,
/// and elements of lists and texts (as cursors), so later operations on them find them.
#[derive(Default)]
struct ReplayedIds {
    objects: HashMap<OpId, ObjId>,
    elements: HashMap<OpId, Cursor>,
}

/// Why a change could not be made again.
#[derive(Debug)]
enum ReplayError {
    /// It writes into an object, or next to an element, that a left-out change made.
    Gone,
    /// Marks, or text elements of more than one character: the app makes none.
    Unsupported,
}

impl From<AutomergeError> for ReplayError {
    fn from(_: AutomergeError) -> Self {
        ReplayError::Gone
    }
}

/// Makes `change`'s operations again in one new change on `target` (nothing if it fails).
fn replay(
    change: &Change,
    target: &mut Automerge,
    ids: &mut ReplayedIds,
) -> Result<(), ReplayError> {
    let expanded = change.decode();
    let start = expanded.start_op.get();
    let op_id = |i: usize| OpId(start + i as u64, expanded.actor_id.clone());
    // The objects it writes into that it did not make itself, found before the transaction
    // borrows the document (`import` reads `counter@actor` ids).
    let made: HashSet<OpId> = (0..expanded.operations.len()).map(op_id).collect();
    let mut objects: HashMap<OpId, ObjId> = HashMap::new();
    for op in &expanded.operations {
        if let ObjectId::Id(id) = &op.obj
            && !made.contains(id)
            && !ids.objects.contains_key(id)
            && !objects.contains_key(id)
        {
            let (obj, _) = target.import(&format!("{}@{}", id.counter(), id.actor()))?;
            objects.insert(id.clone(), obj);
        }
    }
    let mut tx = target.transaction();
    let result = (|| {
        for (i, op) in expanded.operations.iter().enumerate() {
            let obj = match &op.obj {
                ObjectId::Root => ROOT,
                ObjectId::Id(id) => ids
                    .objects
                    .get(id)
                    .or_else(|| objects.get(id))
                    .cloned()
                    .ok_or(ReplayError::Gone)?,
            };
            replay_op(&mut tx, &obj, op_id(i), &op.key, op.insert, &op.action, ids)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            tx.commit_with(CommitOptions::default().with_time(expanded.time));
            Ok(())
        }
        Err(e) => {
            tx.rollback();
            Err(e)
        }
    }
}

fn replay_op(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    id: OpId,
    key: &Key,
    insert: bool,
    action: &OpType,
    ids: &mut ReplayedIds,
) -> Result<(), ReplayError> {
    let is_text = tx.object_type(obj)? == ObjType::Text;
    match (key, insert) {
        (Key::Map(key), _) => {
            let key = key.as_str();
            match action {
                OpType::Make(kind) => {
                    let new = tx.put_object(obj, key, *kind)?;
                    ids.objects.insert(id, new);
                }
                OpType::Put(value) => tx.put(obj, key, value.clone())?,
                OpType::Delete => {
                    if tx.get(obj, key)?.is_some() {
                        tx.delete(obj, key)?;
                    }
                }
                OpType::Increment(by) => tx.increment(obj, key, *by)?,
                OpType::MarkBegin(_) | OpType::MarkEnd(_) => return Err(ReplayError::Unsupported),
            }
        }
        (Key::Seq(after), true) => {
            let index = match after {
                ElementId::Head => 0,
                ElementId::Id(element) => {
                    let (index, visible) = position(tx, obj, element, ids)?;
                    if visible { index + 1 } else { index }
                }
            };
            match action {
                OpType::Put(ScalarValue::Str(s)) if is_text => {
                    if s.chars().count() != 1 {
                        return Err(ReplayError::Unsupported);
                    }
                    tx.splice_text(obj, index, 0, s)?;
                }
                OpType::Put(value) if !is_text => tx.insert(obj, index, value.clone())?,
                OpType::Make(kind) if !is_text => {
                    let new = tx.insert_object(obj, index, *kind)?;
                    ids.objects.insert(id.clone(), new);
                }
                _ => return Err(ReplayError::Unsupported),
            }
            ids.elements.insert(id, tx.get_cursor(obj, index, None)?);
        }
        (Key::Seq(at), false) => {
            let ElementId::Id(element) = at else {
                return Err(ReplayError::Unsupported);
            };
            let found = position(tx, obj, element, ids);
            let index = match (found, action) {
                (Ok((index, true)), _) => index,
                // Deleting what is not there (deleted meanwhile, or made by a left-out change)
                // is done already.
                (_, OpType::Delete) => return Ok(()),
                (Ok((_, false)), _) => return Ok(()),
                (Err(e), _) => return Err(e),
            };
            match action {
                OpType::Delete if is_text => tx.splice_text(obj, index, 1, "")?,
                OpType::Delete => tx.delete(obj, index)?,
                OpType::Put(value) if !is_text => tx.put(obj, index, value.clone())?,
                OpType::Make(kind) if !is_text => {
                    let new = tx.put_object(obj, index, *kind)?;
                    ids.objects.insert(id, new);
                }
                OpType::Increment(by) if !is_text => tx.increment(obj, index, *by)?,
                _ => return Err(ReplayError::Unsupported),
            }
        }
    }
    Ok(())
}

/// Where the element the original operation `element` made is in `obj` now, and whether it is
/// still there (if not, the index is where it would be).
fn position(
    doc: &impl ReadDoc,
    obj: &ObjId,
    element: &OpId,
    ids: &ReplayedIds,
) -> Result<(usize, bool), ReplayError> {
    let cursor = match ids.elements.get(element) {
        Some(cursor) => cursor.clone(),
        None => Cursor::try_from(format!("{}@{}", element.counter(), element.actor()))?,
    };
    let index = doc.get_cursor_position(obj, &cursor, None)?;
    let visible = index < doc.length(obj) && doc.get_cursor(obj, index, None)? == cursor;
    Ok((index, visible))
}

#[cfg(test)]
mod tests {
    use super::*;

    use automerge::{ReadDoc, transaction::Transactable};

    fn actor(n: u8) -> ActorId {
        ActorId::from([n; 16])
    }

    fn edit(doc: &mut Automerge, f: impl FnOnce(&mut Transaction<'_>)) -> ChangeHash {
        let mut tx = doc.transaction();
        f(&mut tx);
        tx.commit().0.expect("a change")
    }

    fn text_of(doc: &Automerge, key: &str) -> String {
        let (_, text) = doc.get(ROOT, key).unwrap().unwrap();
        doc.text(&text).unwrap()
    }

    fn string(doc: &Automerge, obj: &ObjId, key: &str) -> Option<String> {
        match doc.get(obj, key).unwrap() {
            Some((automerge::Value::Scalar(s), _)) => s.as_str().map(str::to_owned),
            _ => None,
        }
    }

    /// The server has `base`; the device then made a forbidden edit and, on top of it, edits
    /// of its own things.
    fn device() -> (Automerge, Vec<ChangeHash>) {
        let mut doc = Automerge::new();
        doc.set_actor(actor(1));
        edit(&mut doc, |tx| {
            let posts = tx.put_object(ROOT, "posts", ObjType::Map).unwrap();
            let anna = tx.put_object(&posts, "anna", ObjType::Map).unwrap();
            tx.put(&anna, "title", "Anna's post").unwrap();
            let plan = tx.put_object(ROOT, "plan", ObjType::Text).unwrap();
            tx.splice_text(&plan, 0, 0, "ac").unwrap();
        });
        let base = doc.get_heads();
        doc.set_actor(actor(2));
        (doc, base)
    }

    fn posts(doc: &Automerge) -> ObjId {
        doc.get(ROOT, "posts").unwrap().unwrap().1
    }

    #[test]
    fn later_edits_are_made_again_without_the_refused_one() {
        let (mut doc, base) = device();
        let posts = posts(&doc);
        let anna = doc.get(&posts, "anna").unwrap().unwrap().1;
        let plan = doc.get(ROOT, "plan").unwrap().unwrap().1;
        // Refused: Bert edits Anna's title.
        let forbidden = edit(&mut doc, |tx| {
            tx.put(&anna, "title", "Bert was here").unwrap()
        });
        // Then, on top of it: his own post with a nested object, and a letter in the plan
        // typed after a letter he typed himself.
        edit(&mut doc, |tx| {
            let bert = tx.put_object(&posts, "bert", ObjType::Map).unwrap();
            tx.put(&bert, "title", "Bert's post").unwrap();
            let tags = tx.put_object(&bert, "tags", ObjType::List).unwrap();
            tx.insert(&tags, 0, "garden").unwrap();
            tx.splice_text(&plan, 1, 0, "b").unwrap();
        });
        edit(&mut doc, |tx| tx.splice_text(&plan, 2, 0, "B").unwrap());
        assert_eq!(text_of(&doc, "plan"), "abBc");

        let rebased = rebase(&doc, &base, Some(forbidden), &actor(3), |_, _| true).unwrap();
        let out = &rebased.doc;
        assert_eq!(rebased.dropped.len(), 1);
        assert_eq!(rebased.dropped[0].hash(), forbidden);
        assert_eq!((rebased.kept, rebased.replayed), (0, 2));
        assert_eq!(string(out, &anna, "title").as_deref(), Some("Anna's post"));
        let bert = out.get(&posts, "bert").unwrap().unwrap().1;
        assert_eq!(string(out, &bert, "title").as_deref(), Some("Bert's post"));
        let tags = out.get(&bert, "tags").unwrap().unwrap().1;
        assert_eq!(out.length(&tags), 1);
        assert_eq!(text_of(out, "plan"), "abBc");
        assert!(out.get_change_by_hash(&forbidden).is_none());
        // Made as this device's actor, on top of the server's heads.
        for change in out.get_changes(&base) {
            assert_eq!(change.actor_id(), &actor(3));
        }
    }

    #[test]
    fn edits_that_do_not_depend_on_the_refused_one_keep_their_hash() {
        let (doc, base) = device();
        // A fork the server never saw, concurrent to the refused change: made on another
        // branch, then merged.
        let mut other = doc.fork();
        other.set_actor(actor(4));
        let posts = posts(&doc);
        let independent = edit(&mut other, |tx| tx.put(&posts, "note", "kept").unwrap());
        let mut doc = doc;
        let forbidden = edit(&mut doc, |tx| tx.put(ROOT, "role", "broker").unwrap());
        doc.merge(&mut other).unwrap();

        let rebased = rebase(&doc, &base, Some(forbidden), &actor(3), |_, _| true).unwrap();
        assert!(rebased.doc.get_change_by_hash(&independent).is_some());
        assert_eq!(rebased.kept, 1);
        assert_eq!(string(&rebased.doc, &ROOT, "role"), None);
    }

    #[test]
    fn keep_is_asked_and_what_it_refuses_stays_out_with_what_needs_it() {
        let (mut doc, base) = device();
        let posts = posts(&doc);
        let forbidden = edit(&mut doc, |tx| tx.put(ROOT, "role", "broker").unwrap());
        let made = edit(&mut doc, |tx| {
            let bert = tx.put_object(&posts, "bert", ObjType::Map).unwrap();
            tx.put(&bert, "title", "Bert's post").unwrap();
        });
        // A third edit writes into the object the second made.
        edit(&mut doc, |tx| {
            let bert = tx.get(&posts, "bert").unwrap().unwrap().1;
            tx.put(&bert, "title", "Bert's better post").unwrap();
        });
        // The server named nothing; the app's rules refuse the role.
        let rebased = rebase(&doc, &base, None, &actor(3), |doc, before| {
            doc.get_changes(before).iter().all(|c| {
                c.decode()
                    .operations
                    .iter()
                    .all(|op| op.key != Key::Map("role".into()))
            })
        })
        .unwrap();
        let dropped: Vec<ChangeHash> = rebased.dropped.iter().map(Change::hash).collect();
        assert_eq!(dropped, vec![forbidden]);
        assert_eq!(rebased.replayed, 2);
        let bert = rebased.doc.get(&posts, "bert").unwrap().unwrap().1;
        assert_eq!(
            string(&rebased.doc, &bert, "title").as_deref(),
            Some("Bert's better post")
        );
        assert!(rebased.doc.get_change_by_hash(&made).is_none());
    }

    #[test]
    fn a_change_into_an_object_only_a_refused_change_made_cannot_be_made_again() {
        let (mut doc, base) = device();
        let posts = posts(&doc);
        let forbidden = edit(&mut doc, |tx| {
            let fake = tx.put_object(&posts, "fake", ObjType::Map).unwrap();
            tx.put(&fake, "title", "x").unwrap();
        });
        let into_it = edit(&mut doc, |tx| {
            let fake = tx.get(&posts, "fake").unwrap().unwrap().1;
            tx.put(&fake, "title", "y").unwrap();
            tx.put(&posts, "other", "fine").unwrap();
        });
        let rebased = rebase(&doc, &base, Some(forbidden), &actor(3), |_, _| true).unwrap();
        let dropped: Vec<ChangeHash> = rebased.dropped.iter().map(Change::hash).collect();
        assert_eq!(dropped, vec![forbidden, into_it]);
        assert_eq!(rebased.doc.get_heads(), base);
    }

    #[test]
    fn deleting_what_is_gone_already_is_nothing_to_replay() {
        let (mut doc, base) = device();
        let plan = doc.get(ROOT, "plan").unwrap().unwrap().1;
        // The refused change typed "x"; the next deleted it and one of the base's letters.
        let forbidden = edit(&mut doc, |tx| tx.splice_text(&plan, 1, 0, "x").unwrap());
        edit(&mut doc, |tx| tx.splice_text(&plan, 0, 3, "").unwrap());
        let rebased = rebase(&doc, &base, Some(forbidden), &actor(3), |_, _| true).unwrap();
        // "x" never arrived here: deleting it is done already; the base's letters go.
        assert_eq!(rebased.dropped.len(), 1);
        assert_eq!(rebased.replayed, 1);
        assert_eq!(text_of(&rebased.doc, "plan"), "");
    }
}
