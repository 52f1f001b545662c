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
use std::fmt;

use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{Automerge, Change, ChangeHash, ObjId, Prop, ReadDoc, ScalarValue};

use crate::permission::{Action, DenyReason, Path, find_rule, may_in};
use crate::read::Reader;
use crate::schema::{DocKind, MODERATION_LOG};

mod shapes;
mod state;
mod values;

use crate::user::User;
use shapes::{Tally, TextEdit, texts_after};
use state::NewAnswer;

/// The first thing wrong with a batch of changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("change {change}, op {op}: `{path}`: {reason}")]
pub struct Violation {
    /// The offending change.
    pub change: ChangeHash,
    /// Index of the op within the change.
    pub op: usize,
    /// Where it writes.
    pub path: Path,
    /// What is wrong.
    pub reason: ViolationReason,
}

/// What is wrong in a [`Violation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViolationReason {
    /// The permission table refuses it.
    Denied(DenyReason),
    /// A value breaks a schema rule.
    BadValue(&'static str),
    /// The op targets an object this document does not have.
    UnknownObject,
    /// The change depends on changes the document does not have.
    MissingDependencies,
    /// Automerge could not apply the change.
    Malformed(String),
}

impl fmt::Display for ViolationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViolationReason::Denied(r) => write!(f, "denied: {r}"),
            ViolationReason::BadValue(why) => write!(f, "bad value: {why}"),
            ViolationReason::UnknownObject => f.write_str("unknown object"),
            ViolationReason::MissingDependencies => f.write_str("missing dependencies"),
            ViolationReason::Malformed(e) => write!(f, "malformed: {e}"),
        }
    }
}

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
        let texts = judge
            .change(change)
            .map_err(|(op, path, reason)| fail(op, path, reason))?;
        if i + 1 < changes.len() || !texts.is_empty() {
            let next = scratch.get_or_insert_with(|| doc.clone());
            next.apply_changes([change.clone()])
                .map_err(|e| fail(0, Path::root(), ViolationReason::Malformed(e.to_string())))?;
            texts_after(&Reader::now(next), &texts)
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
        let texts = judge.change(change).map_err(violation)?;
        unseen.remove(&hash);
        heads.retain(|h| !change.deps().contains(h));
        heads.push(hash);
        if !texts.is_empty() {
            let now_state = Reader {
                doc: after,
                heads: Some(&heads),
            };
            texts_after(&now_state, &texts).map_err(violation)?;
        }
    }
    Ok(())
}

type Fail = (usize, Path, ViolationReason);

/// What a map key holds before a write to it ([`Judge::overwritten`]).
#[derive(Default)]
struct Existing {
    /// Whether it holds any value.
    any: bool,
    /// The objects among its values.
    objects: Vec<ObjId>,
    /// The scalars among its values.
    scalars: Vec<ScalarValue>,
}

struct Judge<'a> {
    doc: Reader<'a>,
    /// In `validate_incoming`: the batch's changes not yet judged (not in the state read).
    unseen: Option<&'a HashSet<ChangeHash>>,
    kind: DocKind,
    user: &'a User,
    now: i64,
}

impl Judge<'_> {
    /// Judges one change; returns the texts it edits, to be measured after it
    /// ([`texts_after`]).
    fn change(&self, change: &Change) -> Result<Vec<TextEdit>, Fail> {
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
                        &id_str(&op_id),
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
                        &id_str(&op_id),
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
        Ok(tally.texts)
    }

    /// What `key` of the object at `obj_path` holds in the document before the change.
    ///
    /// Only the first write of a key is a create. An op with an empty `pred` names no value it
    /// replaces, yet Automerge keeps it *beside* any value the key already holds, as a conflict,
    /// and may show it instead (the winner is chosen by op id, which the sender picks). So an
    /// object or scalar put where the document already holds one is judged as replacing every
    /// value there (delete and create for an object, change for a scalar), by the rules for
    /// those values, whatever `pred` says: a resident cannot "create" over another's post. An
    /// honest edit names the values it saw in `pred` and is judged the same way, so it is
    /// unaffected; an honest offline create of a key someone else filled meanwhile is refused,
    /// as the first write won.
    fn overwritten(&self, obj_path: &Path, key: &str) -> Existing {
        let Some(obj) = obj_path.obj_at(&self.doc, obj_path.len()) else {
            return Existing::default();
        };
        let values = self.doc.all(&obj, key);
        let mut existing = Existing {
            any: !values.is_empty(),
            ..Existing::default()
        };
        for (v, id) in values {
            match v {
                automerge::Value::Object(_) => existing.objects.push(id),
                automerge::Value::Scalar(s) => existing.scalars.push(s.into_owned()),
            }
        }
        existing
    }

    /// Whether a write with an empty `pred` at a key that already holds values is still judged
    /// as a create: the cases in which honest devices, offline, both make the first write of a
    /// key and the later one takes nothing from anybody.
    ///
    /// * A scalar that every existing value already is (the same resident filling the same need
    ///   on two devices): nothing changes.
    /// * A write-once key (a rule that lets someone create there and nobody change it: status
    ///   stamps such as `done_at`, a moderation log) where no value is anybody's object (only
    ///   scalars, or containers that hold objects and no fields of their own): the sender must
    ///   still be allowed to create it, and either stamp means the same status.
    ///
    /// Anything else (an object with fields, a different filler, a field) is a replacement.
    fn honest_second_create(&self, path: &Path, action: &OpType, existing: &Existing) -> bool {
        if let OpType::Put(new) = action
            && existing.objects.is_empty()
            && existing.scalars.iter().all(|v| v == new)
        {
            return true;
        }
        let write_once = find_rule(self.kind, path).is_some_and(|(rule, depth)| {
            depth == path.len() && rule.change.is_empty() && !rule.create.is_empty()
        });
        write_once
            && matches!(action, OpType::Put(_) | OpType::Make(_))
            && existing.objects.iter().all(|o| {
                // A container (a moderation log): it holds objects only, nobody's fields.
                self.doc
                    .keys(o)
                    .iter()
                    .all(|k| self.doc.obj(o, k).is_some())
            })
    }

    /// The path of an object that exists in the document before the change.
    fn resolve(&self, id: &OpId) -> Option<Path> {
        let s = format!("{}@{}", id.0, id.1.to_hex_string());
        let (obj, _) = self.doc.doc.import(&s).ok()?;
        let chain = self.doc.parents(&obj)?;
        // Reading an earlier state (`validate_incoming`): every object on the way must already
        // exist then. A change may name an object made by a concurrent change it does not
        // depend on; in that change's own past the object does not exist.
        if let Some(unseen) = self.unseen {
            let visible = |o: &ObjId| {
                *o == ObjId::Root || self.doc.made_in(o).is_some_and(|h| !unseen.contains(&h))
            };
            if !visible(&obj) || !chain.iter().all(|(o, _)| visible(o)) {
                return None;
            }
        }
        let mut segs = Vec::with_capacity(chain.len());
        let mut objs = Vec::with_capacity(chain.len());
        for (i, (_, prop)) in chain.iter().enumerate() {
            match prop {
                Prop::Map(k) => segs.push(k.clone()),
                // Lists are not part of the schema; name the element by its index.
                Prop::Seq(n) => segs.push(n.to_string()),
            }
            objs.push(
                chain
                    .get(i + 1)
                    .map(|(o, _)| o.clone())
                    .unwrap_or(obj.clone()),
            );
        }
        Some(Path::with_objs(segs, objs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ObjId, ObjType};

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
