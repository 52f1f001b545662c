//! The read layer: small helpers that read one value of a map object, [`Fields`] (every field
//! of one object in a single scan) and [`Reader`] (a document as it is now or as it was at some
//! heads). A leaf: it knows Automerge, not the documents' schema, so every other module may use it.

use automerge::{Automerge, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value};

/// The object at `obj[key]`, if that is an object.
pub(crate) fn get_obj(d: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<ObjId> {
    match d.get(obj, key) {
        Ok(Some((Value::Object(_), id))) => Some(id),
        _ => None,
    }
}

/// The string at `obj[key]` (a text object reads as its text).
pub(crate) fn get_str(d: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<String> {
    match d.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        Ok(Some((Value::Object(ObjType::Text), id))) => d.text(&id).ok(),
        _ => None,
    }
}

/// The integer or timestamp at `obj[key]`.
pub(crate) fn get_i64(d: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<i64> {
    match d.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Int(v) | ScalarValue::Timestamp(v) => Some(*v),
            ScalarValue::Uint(v) => i64::try_from(*v).ok(),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `obj[key]` is `true` (absent or anything else is `false`).
pub(crate) fn get_bool(d: &impl ReadDoc, obj: &ObjId, key: &str) -> bool {
    matches!(d.get(obj, key), Ok(Some((Value::Scalar(s), _))) if matches!(s.as_ref(), ScalarValue::Boolean(true)))
}

/// Whether `obj` has `key` at all.
pub(crate) fn has_key(d: &impl ReadDoc, obj: &ObjId, key: &str) -> bool {
    matches!(d.get(obj, key), Ok(Some(_)))
}

/// The keys of `obj`, sorted.
pub(crate) fn keys(d: &impl ReadDoc, obj: &ObjId) -> Vec<String> {
    d.keys(obj).collect()
}

/// All fields of one map object, read in a single scan. Reading a dozen fields with `get` costs
/// a dozen seeks into the op set; this costs one, which is what keeps views of a large village
/// fast (see `benches/village.rs`).
pub(crate) struct Fields<'a> {
    items: Vec<automerge::iter::MapRangeItem<'a>>,
}

impl<'a> Fields<'a> {
    pub(crate) fn read(d: &'a Automerge, obj: &ObjId) -> Fields<'a> {
        Fields {
            items: d.map_range(obj, ..).collect(),
        }
    }

    fn item(&self, key: &str) -> Option<&automerge::iter::MapRangeItem<'a>> {
        self.items.iter().find(|i| i.key == key)
    }

    pub(crate) fn str(&self, key: &str) -> Option<String> {
        match &self.item(key)?.value {
            automerge::ValueRef::Scalar(automerge::ScalarValueRef::Str(s)) => Some(s.to_string()),
            _ => None,
        }
    }

    /// A string field, or empty.
    pub(crate) fn string(&self, key: &str) -> String {
        self.str(key).unwrap_or_default()
    }

    pub(crate) fn i64(&self, key: &str) -> Option<i64> {
        match &self.item(key)?.value {
            automerge::ValueRef::Scalar(
                automerge::ScalarValueRef::Int(v) | automerge::ScalarValueRef::Timestamp(v),
            ) => Some(*v),
            automerge::ValueRef::Scalar(automerge::ScalarValueRef::Uint(v)) => {
                i64::try_from(*v).ok()
            }
            _ => None,
        }
    }

    pub(crate) fn bool(&self, key: &str) -> bool {
        matches!(
            self.item(key).map(|i| &i.value),
            Some(automerge::ValueRef::Scalar(
                automerge::ScalarValueRef::Boolean(true)
            ))
        )
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.item(key).is_some()
    }

    pub(crate) fn obj(&self, key: &str) -> Option<ObjId> {
        let item = self.item(key)?;
        matches!(item.value, automerge::ValueRef::Object(_)).then(|| item.id())
    }
}

/// Reads a document either as it is now or as it was at some heads. The validator judges each
/// change in the document *before* it; given the document *after* a batch (as the server holds
/// it), reading at the earlier heads is cheap (`get_at` costs ~2× `get`) where rebuilding the
/// earlier document (`fork_at`) costs ~0.5 s for a large village.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    pub(crate) doc: &'a Automerge,
    pub(crate) heads: Option<&'a [ChangeHash]>,
}

impl<'a> Reader<'a> {
    pub(crate) fn now(doc: &'a Automerge) -> Reader<'a> {
        Reader { doc, heads: None }
    }

    fn get(&self, obj: &ObjId, key: &str) -> Option<(Value<'a>, ObjId)> {
        match self.heads {
            Some(h) => self.doc.get_at(obj, key, h),
            None => self.doc.get(obj, key),
        }
        .ok()
        .flatten()
    }

    pub(crate) fn obj(&self, obj: &ObjId, key: &str) -> Option<ObjId> {
        match self.get(obj, key) {
            Some((Value::Object(_), id)) => Some(id),
            _ => None,
        }
    }

    pub(crate) fn str(&self, obj: &ObjId, key: &str) -> Option<String> {
        match self.get(obj, key)? {
            (Value::Scalar(s), _) => match s.as_ref() {
                ScalarValue::Str(s) => Some(s.to_string()),
                _ => None,
            },
            (Value::Object(ObjType::Text), id) => match self.heads {
                Some(h) => self.doc.text_at(&id, h).ok(),
                None => self.doc.text(&id).ok(),
            },
            _ => None,
        }
    }

    pub(crate) fn int(&self, obj: &ObjId, key: &str) -> Option<i64> {
        match self.get(obj, key)? {
            (Value::Scalar(s), _) => match s.as_ref() {
                ScalarValue::Int(v) | ScalarValue::Timestamp(v) => Some(*v),
                ScalarValue::Uint(v) => i64::try_from(*v).ok(),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether `obj[key]` is `true`.
    pub(crate) fn flag(&self, obj: &ObjId, key: &str) -> bool {
        matches!(
            self.get(obj, key),
            Some((Value::Scalar(s), _)) if matches!(s.as_ref(), ScalarValue::Boolean(true))
        )
    }

    /// The text object `obj`'s length in bytes (UTF-8), or `None` if it is not one here.
    pub(crate) fn text_bytes(&self, obj: &ObjId) -> Option<usize> {
        match self.heads {
            Some(h) => self.doc.text_at(obj, h),
            None => self.doc.text(obj),
        }
        .ok()
        .map(|t| t.len())
    }

    pub(crate) fn has(&self, obj: &ObjId, key: &str) -> bool {
        self.get(obj, key).is_some()
    }

    /// Every value at `obj[key]`: the visible one and those it is in conflict with (values
    /// written concurrently that lost). Empty when the key is absent (never written, or deleted).
    pub(crate) fn all(&self, obj: &ObjId, key: &str) -> Vec<(Value<'a>, ObjId)> {
        match self.heads {
            Some(h) => self.doc.get_all_at(obj, key, h),
            None => self.doc.get_all(obj, key),
        }
        .unwrap_or_default()
    }

    /// The keys of `obj`, sorted.
    pub(crate) fn keys(&self, obj: &ObjId) -> Vec<String> {
        match self.heads {
            Some(h) => self.doc.keys_at(obj, h).collect(),
            None => self.doc.keys(obj).collect(),
        }
    }

    /// The (parent, key) pairs from the root down to `obj`. An object's parent and key never
    /// change (they are fixed by the op that made it), so this reads the whole document, where
    /// every object has a parent; `parents_at` would panic on an object not yet made at those
    /// heads. Callers check visibility themselves ([`Reader::made_in`]).
    pub(crate) fn parents(&self, obj: &ObjId) -> Option<Vec<(ObjId, automerge::Prop)>> {
        Some(self.doc.parents(obj).ok()?.path())
    }

    /// The change that made `obj`.
    pub(crate) fn made_in(&self, obj: &ObjId) -> Option<ChangeHash> {
        self.doc.hash_for_opid(obj)
    }
}
