//! What a key holds before a write to it, and when a write over it is still a create: the
//! rules against replacing another's object by "creating" it again.

use automerge::ScalarValue;
use automerge::legacy::{OpId, OpType};
use automerge::{ObjId, Prop};

use super::Judge;
use crate::permission::{Path, find_rule};

/// What a map key holds before a write to it ([`Judge::overwritten`]).
#[derive(Default)]
pub(super) struct Existing {
    /// Whether it holds any value.
    pub(super) any: bool,
    /// The objects among its values.
    pub(super) objects: Vec<ObjId>,
    /// The scalars among its values.
    pub(super) scalars: Vec<ScalarValue>,
}

impl Judge<'_> {
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
    pub(super) fn overwritten(&self, obj_path: &Path, key: &str) -> Existing {
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
    pub(super) fn honest_second_create(
        &self,
        path: &Path,
        action: &OpType,
        existing: &Existing,
    ) -> bool {
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
    pub(super) fn resolve(&self, id: &OpId) -> Option<Path> {
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
