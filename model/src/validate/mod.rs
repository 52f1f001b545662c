//! The change validator: judges every op of every incoming change, not only the visible diff.
//!
//! A change that edits someone's post and then deletes it shows in `diff(before, after)` only as
//! the delete; a set-and-revert, or a write that loses a concurrent conflict, shows nothing. So
//! each change is decoded ([`Change::decode`]) and each op's target object is mapped to its
//! path in the document as it is *before* that change (objects the same change creates are
//! tracked as it goes). Then:
//!
//! * an op on an existing object is judged by [`crate::may`] (create only for the first write
//!   of a key: no predecessor *and* nothing at the key in the document before the change; delete
//!   for a delete; change otherwise; replacing an object needs delete permission too, judged
//!   for every object the key holds, conflicts included), plus value rules: status stamps are
//!   timestamps not in the future, an accepted response exists on its post. A write with an
//!   empty `pred` over an existing value is not a create: Automerge would keep it beside that
//!   value and might show it instead, so it is judged as replacing it;
//! * an op inside an object created by the same change is part of that creation, whose create
//!   permission was judged at its `make` op; its values must hold: `author` is the sender,
//!   `id` is the object's key, `created_at` is not in the future, status stamps, moderation
//!   flags and fillers are absent, associations named are ones the sender administers.
//!
//! Changes are judged in order and applied to a scratch fork one by one, so later changes see
//! earlier ones. The first violation is returned with the change, op index and path.

use std::collections::{HashMap, HashSet};

use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{Automerge, Change, ChangeHash, ReadDoc, ScalarValue};

use crate::permission::{Action, Path, may_in};
use crate::read::Reader;
use crate::schema::{DocKind, MODERATION_LOG};

mod existing;
mod shapes;
mod state;
mod values;
mod violation;

use existing::Existing;
pub use violation::{Violation, ViolationReason};

use crate::user::User;
use shapes::{Later, Tally, judge_after};
use state::NewAnswer;

/// Status stamps and other fields that must be absent when an object is created.
const NOT_AT_CREATION: &[&str] = &[
    "accepted_response",
    "matched_at",
    "done_at",
    "withdrawn_at",
    "started_at",
    "cancelled_at",
    "hidden",
    "filled_by",
    "outcome",
];

/// Fields holding a timestamp that may not lie in the future.
const TIMESTAMPS: &[&str] = &[
    "created_at",
    "updated_at",
    "matched_at",
    "done_at",
    "withdrawn_at",
    "started_at",
    "cancelled_at",
];

/// Judges `changes`, sent by `author`, against `doc` (the document before them). `now` bounds
/// timestamps (plus [`limits::CLOCK_SKEW_MS`]).
pub fn validate_changes(
    doc: &Automerge,
    kind: DocKind,
    author: &User,
    changes: &[Change],
    now: i64,
) -> Result<(), Violation> {
    // Judge against `doc` itself until a change has to be applied for the next one to see it;
    // only then copy the document (a single change, the common case, never copies).
    let mut scratch: Option<Automerge> = None;
    for (i, change) in changes.iter().enumerate() {
        let work = scratch.as_ref().unwrap_or(doc);
        let hash = change.hash();
        if work.get_change_by_hash(&hash).is_some() {
            continue;
        }
        let fail = |op, path: Path, reason| Violation {
            change: hash,
            op,
            path,
            reason,
        };
        if change
            .deps()
            .iter()
            .any(|d| work.get_change_by_hash(d).is_none())
        {
            return Err(fail(0, Path::root(), ViolationReason::MissingDependencies));
        }
        let judge = Judge {
            unseen: None,
            doc: Reader::now(work),
            kind,
            user: author,
            now,
        };
        let later = judge
            .change(change)
            .map_err(|(op, path, reason)| fail(op, path, reason))?;
        if i + 1 < changes.len() || !later.is_empty() {
            let next = scratch.get_or_insert_with(|| doc.clone());
            next.apply_changes([change.clone()])
                .map_err(|e| fail(0, Path::root(), ViolationReason::Malformed(e.to_string())))?;
            judge_after(&Reader::now(next), &later)
                .map_err(|(op, path, reason)| fail(op, path, reason))?;
        }
    }
    Ok(())
}

/// Judges the changes that took `after` from the heads `before` to its current heads, sent by
/// `author`: the server's case, which applies a peer's message to its copy first and asks
/// afterwards. Each change is judged in the document as it was just before that change, read
/// from `after` at the heads of that moment, so no copy of the document is made.
pub fn validate_incoming(
    after: &Automerge,
    before: &[ChangeHash],
    kind: DocKind,
    author: &User,
    now: i64,
) -> Result<(), Violation> {
    validate_incoming_changes(after, before, &after.get_changes(before), kind, author, now)
}

/// [`validate_incoming`] for `changes` alone (in causal order, all in `after`, none an ancestor
/// of `before`): for a server that applied several senders' messages in one go, so that
/// `after` also holds changes of others, concurrent with these. Each change is judged in the
/// state of `before` plus the changes before it in `changes`; the others' are not seen.
pub fn validate_incoming_changes(
    after: &Automerge,
    before: &[ChangeHash],
    changes: &[Change],
    kind: DocKind,
    author: &User,
    now: i64,
) -> Result<(), Violation> {
    let mut heads: Vec<ChangeHash> = before.to_vec();
    let mut unseen: HashSet<ChangeHash> = changes.iter().map(Change::hash).collect();
    for change in changes {
        let hash = change.hash();
        let judge = Judge {
            unseen: Some(&unseen),
            doc: Reader {
                doc: after,
                heads: Some(&heads),
            },
            kind,
            user: author,
            now,
        };
        let violation = |(op, path, reason)| Violation {
            change: hash,
            op,
            path,
            reason,
        };
        let later = judge.change(change).map_err(violation)?;
        unseen.remove(&hash);
        heads.retain(|h| !change.deps().contains(h));
        heads.push(hash);
        if !later.is_empty() {
            let now_state = Reader {
                doc: after,
                heads: Some(&heads),
            };
            judge_after(&now_state, &later).map_err(violation)?;
        }
    }
    Ok(())
}

type Fail = (usize, Path, ViolationReason);

struct Judge<'a> {
    doc: Reader<'a>,
    /// In `validate_incoming`: the batch's changes not yet judged (not in the state read).
    unseen: Option<&'a HashSet<ChangeHash>>,
    kind: DocKind,
    user: &'a User,
    now: i64,
}

impl Judge<'_> {
    /// Judges one change; returns what is judged on the document after it ([`judge_after`]).
    fn change(&self, change: &Change) -> Result<Later, Fail> {
        let exp = change.decode();
        let mut tally = Tally::default();
        // The document as the sender saw it (see `state`).
        let past = Reader {
            doc: self.doc.doc,
            heads: Some(change.deps()),
        };
        let mut answers: Vec<NewAnswer> = Vec::new();
        let start = exp.start_op.get();
        // Objects created by this change, by op id, with their paths.
        let mut created: HashMap<OpId, Path> = HashMap::new();
        // Moderation: each write of `hidden` (op index, object, hidden) needs a log entry
        // (object, hidden) appended by the same change: the audit trail of who hid what and why.
        let mut hidden_writes: Vec<(usize, Path, bool)> = Vec::new();
        let mut log_entries: Vec<(Vec<String>, bool)> = Vec::new();
        for (i, op) in exp.operations.iter().enumerate() {
            let op_id = OpId(start + i as u64, exp.actor_id.clone());
            let (target, is_new) = match &op.obj {
                ObjectId::Root => (Path::root(), false),
                ObjectId::Id(id) => match created.get(id) {
                    Some(p) => (p.clone(), true),
                    None => (
                        self.resolve(id).ok_or((
                            i,
                            Path::root(),
                            ViolationReason::UnknownObject,
                        ))?,
                        false,
                    ),
                },
            };
            let path = match &op.key {
                Key::Map(k) => target.child(k.to_string()),
                Key::Seq(_) => target.clone(),
            };
            let fail = |reason| (i, path.clone(), reason);
            let value = match &op.action {
                OpType::Put(ScalarValue::Str(s)) => Some(s.to_string()),
                _ => None,
            };
            let id_str = |id: &OpId| format!("{}@{}", id.0, id.1.to_hex_string());
            let target_id = match &op.obj {
                ObjectId::Root => "_root".to_owned(),
                ObjectId::Id(id) => id_str(id),
            };
            if is_new {
                if let Key::Map(k) = &op.key {
                    self.creation_value(&target, k, &op.action, value.as_deref())
                        .map_err(|why| fail(ViolationReason::BadValue(why)))?;
                    self.shape(
                        i,
                        &path,
                        &op.action,
                        true,
                        true,
                        (&id_str(&op_id), &target_id),
                        &mut tally,
                    )
                    .map_err(fail)?;
                    if k == "on_behalf_of"
                        && let Some(a) = answers.iter_mut().find(|a| a.path == target)
                    {
                        a.on_behalf_of = value.clone().unwrap_or_default();
                    }
                    let segs = target.segments();
                    if k == "action" && segs.len() >= 3 && segs[segs.len() - 2] == MODERATION_LOG {
                        log_entries.push((
                            segs[..segs.len() - 2].to_vec(),
                            value.as_deref() == Some("hide"),
                        ));
                    }
                } else {
                    self.seq_edit(i, &target, &target_id, true, &op.action, &mut tally)
                        .map_err(fail)?;
                }
            } else {
                let seq = matches!(op.key, Key::Seq(_));
                // What the key holds before the change: every value, the visible one and those
                // in conflict with it. A write there replaces them all as far as the rules go,
                // whatever its `pred` names (see [`Judge::overwritten`]).
                let existing = match &op.key {
                    Key::Map(k) if !matches!(op.action, OpType::Delete) => {
                        self.overwritten(&target, k)
                    }
                    _ => Existing::default(),
                };
                let creates = op.pred.is_empty()
                    && (!existing.any || self.honest_second_create(&path, &op.action, &existing));
                let actions: &[Action] = match (&op.action, seq) {
                    (_, true) => &[Action::Change],
                    (OpType::Delete, false) => &[Action::Delete],
                    (_, false) if creates => &[Action::Create],
                    (OpType::Make(_), false) => &[Action::Delete, Action::Create],
                    (_, false) if !existing.objects.is_empty() => &[Action::Delete, Action::Change],
                    (_, false) => &[Action::Change],
                };
                // Judged at the path as read by key (the visible value), and once more for each
                // object the key holds, so that facts such as its `author` are read from every
                // object this write would replace, not only from the one that shows.
                let mut paths = vec![path.clone()];
                if let Key::Map(k) = &op.key {
                    paths.extend(
                        existing
                            .objects
                            .iter()
                            .filter_map(|o| target.child_obj(k.to_string(), o.clone())),
                    );
                }
                for at in &paths {
                    for action in actions {
                        may_in(
                            self.user,
                            self.kind,
                            *action,
                            at,
                            value.as_deref(),
                            &self.doc,
                        )
                        .map_err(|d| fail(ViolationReason::Denied(d.reason)))?;
                    }
                }
                if let Key::Map(k) = &op.key {
                    self.shape(
                        i,
                        &path,
                        &op.action,
                        !existing.any,
                        false,
                        (&id_str(&op_id), &target_id),
                        &mut tally,
                    )
                    .map_err(fail)?;
                    if creates
                        && self.kind == DocKind::Municipality
                        && path.len() == 4
                        && path.segments()[0] == "consultations"
                        && target.segments().last().map(String::as_str) == Some("responses")
                    {
                        answers.push(NewAnswer {
                            op: i,
                            path: path.clone(),
                            on_behalf_of: String::new(),
                        });
                    }
                    let added = tally.new_keys.get(target.segments()).map_or(0, |keys| {
                        usize::from(keys.contains(k.as_str())) * keys.len()
                    });
                    self.state_rules(&past, &path, creates, added, false)
                        .map_err(|why| fail(ViolationReason::BadValue(why)))?;
                } else {
                    self.seq_edit(i, &target, &target_id, false, &op.action, &mut tally)
                        .map_err(fail)?;
                    self.state_rules(&past, &target, false, 0, true)
                        .map_err(|why| fail(ViolationReason::BadValue(why)))?;
                }
                if !seq {
                    self.existing_value(&path, &op.action, value.as_deref())
                        .map_err(|why| fail(ViolationReason::BadValue(why)))?;
                    if path.segments().last().map(String::as_str) == Some("hidden") {
                        let hidden = matches!(op.action, OpType::Put(ScalarValue::Boolean(true)));
                        hidden_writes.push((i, target.clone(), hidden));
                    }
                }
            }
            if let OpType::Make(_) = op.action {
                created.insert(op_id, path);
            }
        }
        for (i, object, hidden) in hidden_writes {
            if !log_entries
                .iter()
                .any(|(o, h)| o.as_slice() == object.segments() && *h == hidden)
            {
                return Err((
                    i,
                    object.child("hidden"),
                    ViolationReason::BadValue(
                        "hiding or showing is logged in the same change, with a reason",
                    ),
                ));
            }
        }
        self.new_answers(&answers)
            .map_err(|(i, path, why)| (i, path, ViolationReason::BadValue(why)))?;
        Ok(tally.later())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ObjId, ObjType, Prop};

    #[test]
    fn objects_keep_their_path_after_deletion() {
        // The validator relies on `parents()` working for objects that are no longer visible.
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        let a = tx.put_object(ObjId::Root, "a", ObjType::Map).unwrap();
        let b = tx.put_object(&a, "b", ObjType::Map).unwrap();
        tx.commit();
        let mut tx = doc.transaction();
        tx.delete(ObjId::Root, "a").unwrap();
        tx.commit();
        let path = doc.parents(&b).unwrap().path();
        let props: Vec<Prop> = path.into_iter().map(|(_, p)| p).collect();
        assert_eq!(props, vec![Prop::Map("a".into()), Prop::Map("b".into())]);
    }
}
