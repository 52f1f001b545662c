//! Shape rules: every value written at a map key must be one [`crate::shape::SHAPES`] allows
//! there (type, bytes, enum value, key), a collection takes no entries beyond its limit, and an
//! edit by position is only ever a text edit, whose result is measured after the change.

use std::collections::{HashMap, HashSet};

use automerge::legacy::OpType;
use automerge::{ObjType, ScalarValue};

use super::{Judge, ViolationReason};
use crate::permission::Path;
use crate::read::Reader;
use crate::shape::{Shape, key_ok, shape_of};

/// What one change did that is judged across its ops.
#[derive(Default)]
pub(super) struct Tally {
    /// New keys per collection (its path's segments).
    pub(super) new_keys: HashMap<Vec<String>, HashSet<String>>,
    /// Text objects the change edits: judged on the document after it.
    pub(super) texts: Vec<TextEdit>,
    /// Objects whose time window the change writes: judged on the document after it.
    pub(super) windows: Vec<WindowEdit>,
}

impl Tally {
    /// What is judged on the document after the change.
    pub(super) fn later(self) -> Later {
        Later {
            texts: self.texts,
            windows: self.windows,
        }
    }
}

/// What a change's ops leave to be judged on the document after it ([`judge_after`]).
#[derive(Default)]
pub(super) struct Later {
    texts: Vec<TextEdit>,
    windows: Vec<WindowEdit>,
}

impl Later {
    pub(super) fn is_empty(&self) -> bool {
        self.texts.is_empty() && self.windows.is_empty()
    }
}

/// An object whose start or end a change writes: the end may not lie before the start.
pub(super) struct WindowEdit {
    op: usize,
    path: Path,
    /// The object's id, as Automerge prints it.
    id: String,
    /// Its start and end fields.
    keys: (&'static str, &'static str),
}

/// The start and end fields of the object holding the field at `path`, if it is one of them.
fn window_keys(segs: &[String]) -> Option<(&'static str, &'static str)> {
    let last = segs.last()?.as_str();
    let first = segs.first()?.as_str();
    match (first, segs.len(), last) {
        ("help_posts", 3, "when_start" | "when_end") => Some(("when_start", "when_end")),
        ("events", 3, "start" | "end") => Some(("start", "end")),
        ("volunteers", 5, "start" | "end") if segs[2] == "availability" => Some(("start", "end")),
        _ => None,
    }
}

/// A text object edited by a change: its size is judged after the change.
#[derive(Debug, Clone)]
pub(crate) struct TextEdit {
    /// The first op that edits it.
    pub(crate) op: usize,
    /// Where it is.
    pub(crate) path: Path,
    /// Its object id, as Automerge prints it (`counter@actor`).
    pub(crate) id: String,
    /// Its size before the change (0 for a new one).
    pub(crate) before: usize,
    /// Its limit.
    pub(crate) max: usize,
}

fn scalar_ok(shape: Shape, v: &ScalarValue) -> Result<(), &'static str> {
    let int = match v {
        ScalarValue::Int(n) | ScalarValue::Timestamp(n) => Some(*n),
        ScalarValue::Uint(n) => i64::try_from(*n).ok(),
        _ => None,
    };
    let text = match v {
        ScalarValue::Str(s) => Some(s.as_str()),
        _ => None,
    };
    let ok = match shape {
        Shape::Text(max) | Shape::Required(max) => match text {
            Some(s) if s.len() > max => return Err("the text is longer than its limit (in bytes)"),
            Some(s) if matches!(shape, Shape::Required(_)) && s.trim().is_empty() => {
                return Err("a required text is not empty");
            }
            t => t.is_some(),
        },
        Shape::Enum(valid) => text.is_some_and(valid),
        Shape::Int => int.is_some(),
        Shape::IntIn(lo, hi) => int.is_some_and(|n| (lo..=hi).contains(&n)),
        Shape::Bool => matches!(v, ScalarValue::Boolean(_)),
        Shape::Id => text.is_some_and(|s| crate::ids::check_id(s).is_ok()),
        Shape::OptId => text.is_some_and(|s| s.is_empty() || crate::ids::check_id(s).is_ok()),
        Shape::Free => match text {
            Some(s) => s.len() <= crate::schema::limits::LINE,
            None => matches!(
                v,
                ScalarValue::Int(_)
                    | ScalarValue::Uint(_)
                    | ScalarValue::Timestamp(_)
                    | ScalarValue::Boolean(_)
            ),
        },
        Shape::Map(_) | Shape::Object | Shape::TextObject(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err("the value is not of the field's type (or not one of its values)")
    }
}

impl Judge<'_> {
    /// Judges a write at map key `path` (its last segment). `fresh`: the key held nothing
    /// before (a new entry, where its collection has a limit). `new_parent`: the collection
    /// was made by this change. `op_id`, `target_id`: the op's and its object's ids as
    /// Automerge prints them.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn shape(
        &self,
        op: usize,
        path: &Path,
        action: &OpType,
        fresh: bool,
        new_parent: bool,
        (op_id, target_id): (&str, &str),
        tally: &mut Tally,
    ) -> Result<(), ViolationReason> {
        let bad = ViolationReason::BadValue;
        let segs = path.segments();
        if matches!(action, OpType::Delete) {
            return match shape_of(self.kind, segs) {
                Some((Shape::Required(_), _)) => Err(bad("a required text is not removed")),
                _ => Ok(()),
            };
        }
        let Some((shape, key_rule)) = shape_of(self.kind, segs) else {
            return Err(bad("the schema has no such field"));
        };
        let key = segs.last().map(String::as_str).unwrap_or_default();
        if !key_ok(key_rule, key) {
            return Err(bad("not a valid key here"));
        }
        match (shape, action) {
            (Shape::Map(_) | Shape::Object, OpType::Make(ObjType::Map)) => {}
            (Shape::Free, OpType::Make(ObjType::Map)) => {}
            (Shape::TextObject(max), OpType::Make(ObjType::Text)) => tally.texts.push(TextEdit {
                op,
                path: path.clone(),
                id: op_id.to_owned(),
                before: 0,
                max,
            }),
            (_, OpType::Put(v)) => scalar_ok(shape, v).map_err(bad)?,
            _ => return Err(bad("the value is not of the field's type")),
        }
        if let Some(keys) = window_keys(segs)
            && !tally.windows.iter().any(|w| w.id == target_id)
        {
            tally.windows.push(WindowEdit {
                op,
                path: path.clone(),
                id: target_id.to_owned(),
                keys,
            });
        }
        if fresh && let Some((_, parent)) = segs.split_last() {
            self.room(path, parent, key, new_parent, tally)?;
        }
        Ok(())
    }

    /// Refuses a new entry in a collection already holding as many as its limit allows.
    fn room(
        &self,
        path: &Path,
        parent: &[String],
        key: &str,
        new_parent: bool,
        tally: &mut Tally,
    ) -> Result<(), ViolationReason> {
        let Some((Shape::Map(max), _)) = shape_of(self.kind, parent) else {
            return Ok(());
        };
        let added = tally.new_keys.entry(parent.to_vec()).or_default();
        added.insert(key.to_owned());
        let had = if new_parent {
            0
        } else {
            path.obj_at(&self.doc, parent.len())
                .map_or(0, |o| self.doc.keys(&o).len())
        };
        if had + added.len() > max {
            return Err(ViolationReason::BadValue(
                "the collection is full: it holds as many entries as its limit allows",
            ));
        }
        Ok(())
    }

    /// Judges an op that edits `target` by position: only text is, and its size is judged
    /// after the change. `target_id`: the object's id as Automerge prints it.
    pub(super) fn seq_edit(
        &self,
        op: usize,
        target: &Path,
        target_id: &str,
        is_new: bool,
        action: &OpType,
        tally: &mut Tally,
    ) -> Result<(), ViolationReason> {
        let bad = ViolationReason::BadValue;
        let Some((Shape::TextObject(max), _)) = shape_of(self.kind, target.segments()) else {
            return Err(bad("only a text is edited by position"));
        };
        if !matches!(action, OpType::Put(ScalarValue::Str(_)) | OpType::Delete) {
            return Err(bad("a text holds characters only"));
        }
        if tally.texts.iter().any(|t| t.id == target_id) {
            return Ok(());
        }
        let before = if is_new {
            0
        } else {
            target
                .obj_at(&self.doc, target.len())
                .and_then(|o| self.doc.text_bytes(&o))
                .unwrap_or(0)
        };
        tally.texts.push(TextEdit {
            op,
            path: target.clone(),
            id: target_id.to_owned(),
            before,
            max,
        });
        Ok(())
    }
}

/// Judges what a change left for later, read in `after` (the document right after it): a text
/// may not grow beyond its limit (one already over it, after concurrent edits merged, may
/// still shrink), and a time window may not end before it starts (as the app's forms check).
pub(super) fn judge_after(
    after: &Reader<'_>,
    later: &Later,
) -> Result<(), (usize, Path, ViolationReason)> {
    for w in &later.windows {
        let Ok((o, _)) = after.doc.import(&w.id) else {
            continue;
        };
        if let (Some(start), Some(end)) = (after.int(&o, w.keys.0), after.int(&o, w.keys.1))
            && end < start
        {
            return Err((
                w.op,
                w.path.clone(),
                ViolationReason::BadValue("the end lies before the start"),
            ));
        }
    }
    for t in &later.texts {
        let size = after
            .doc
            .import(&t.id)
            .ok()
            .and_then(|(o, _)| after.text_bytes(&o))
            .unwrap_or(0);
        if size > t.max && size > t.before {
            return Err((
                t.op,
                t.path.clone(),
                ViolationReason::BadValue("the text is longer than its limit (in bytes)"),
            ));
        }
    }
    Ok(())
}
