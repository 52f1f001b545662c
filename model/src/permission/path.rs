//! Where a permission is asked: an [`Action`] at a [`Path`] in a document.

use std::fmt;

use automerge::ObjId;

use crate::read::Reader;

/// What an operation does at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Put a value or object where there was none.
    Create,
    /// Overwrite a value, or edit anything inside an existing object.
    Change,
    /// Remove a value or object.
    Delete,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Create => "create",
            Action::Change => "change",
            Action::Delete => "delete",
        })
    }
}

/// A location in a document: map keys from the root, e.g. `help_posts/p1/responses/r1`.
///
/// A path resolved by the validator also remembers the object ids along the way, so facts about
/// objects that are deleted or lost a conflict can still be looked up.
#[derive(Clone, Default)]
pub struct Path {
    pub(super) segs: Vec<String>,
    /// `objs[i]` is the object at `segs[..=i]`, where known.
    objs: Vec<ObjId>,
}

impl Path {
    /// The root of a document.
    pub fn root() -> Path {
        Path::default()
    }

    /// A path from its segments.
    pub fn new<I, S>(segs: I) -> Path
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Path {
            segs: segs.into_iter().map(Into::into).collect(),
            objs: Vec::new(),
        }
    }

    /// Parses `a/b/c`.
    pub fn parse(s: &str) -> Path {
        Path::new(s.split('/').filter(|s| !s.is_empty()))
    }

    /// The segments.
    pub fn segments(&self) -> &[String] {
        &self.segs
    }

    /// Number of segments.
    pub fn len(&self) -> usize {
        self.segs.len()
    }

    /// Whether this is the root.
    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }

    /// This path with one more segment.
    pub fn child(&self, seg: impl Into<String>) -> Path {
        let mut p = self.clone();
        p.segs.push(seg.into());
        p
    }

    /// This path with one more segment, naming the object there (`None` when the objects along
    /// this path are not known).
    pub(crate) fn child_obj(&self, seg: impl Into<String>, obj: ObjId) -> Option<Path> {
        if self.objs.len() != self.segs.len() {
            return None;
        }
        let mut p = self.child(seg);
        p.objs.push(obj);
        Some(p)
    }

    pub(crate) fn with_objs(segs: Vec<String>, objs: Vec<ObjId>) -> Path {
        Path { segs, objs }
    }

    /// The object at the first `depth` segments, looked up by id where known.
    pub(crate) fn obj_at(&self, doc: &Reader<'_>, depth: usize) -> Option<ObjId> {
        if depth == 0 {
            return Some(ObjId::Root);
        }
        if depth <= self.objs.len() {
            return Some(self.objs[depth - 1].clone());
        }
        let mut obj = ObjId::Root;
        for seg in self.segs.get(..depth)? {
            obj = doc.obj(&obj, seg)?;
        }
        Some(obj)
    }
}

impl PartialEq for Path {
    fn eq(&self, other: &Path) -> bool {
        self.segs == other.segs
    }
}

impl Eq for Path {}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segs.is_empty() {
            return f.write_str("/");
        }
        f.write_str(&self.segs.join("/"))
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({self})")
    }
}
