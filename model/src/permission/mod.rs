//! Permissions as data plus one function.
//!
//! [`RULES`] lists, per document kind, a path pattern (`*` matches one segment) and who may
//! create, change or delete there. [`may`] finds the deepest rule whose pattern is a prefix of
//! the path: if the path is the pattern itself the requested action is judged, if it lies deeper
//! (a field of the object) it counts as a change of that object. `id`, `author` and `created_at`
//! of an existing object can never be written. Paths outside every rule (the root keys, unknown
//! collections) are refused: only the server writes those, in migrations.
//!
//! The table is in `rules`, paths and actions in `path`; this module judges.

mod path;
mod rules;

use std::fmt;

use automerge::{Automerge, ObjId};

pub use path::{Action, Path};
pub use rules::{IMMUTABLE_FIELDS, RULES, Rule, Who};

use crate::read::Reader;
use crate::schema::DocKind;
use crate::user::User;

/// Why [`may`] said no.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{user} may not {action} `{path}`: {reason}")]
pub struct Denied {
    /// Who asked.
    pub user: String,
    /// What they wanted to do.
    pub action: Action,
    /// Where.
    pub path: Path,
    /// Why not.
    pub reason: DenyReason,
}

/// The reason in a [`Denied`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyReason {
    /// No rule covers the path: it is outside the schema or only the server writes it.
    OutsideSchema,
    /// `id`, `author` and `created_at` never change once written.
    Immutable,
    /// A rule covers the path but none of its conditions holds for this user.
    NotAllowed {
        /// The pattern of the rule that applied.
        rule: &'static str,
    },
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenyReason::OutsideSchema => f.write_str("no rule allows writing there"),
            DenyReason::Immutable => f.write_str("the field never changes once written"),
            DenyReason::NotAllowed { rule } => write!(f, "rule `{rule}` does not allow it"),
        }
    }
}

/// May `user` do `action` at `path` in `doc` (a document of kind `kind`)? `value` is the string
/// being written, where there is one (needed for "fill with yourself" rules).
///
/// Facts such as "who is the author of this post" are read from `doc`, which must be the
/// document as it is *before* the write.
pub fn may(
    user: &User,
    kind: DocKind,
    action: Action,
    path: &Path,
    value: Option<&str>,
    doc: &Automerge,
) -> Result<(), Denied> {
    may_in(user, kind, action, path, value, &Reader::now(doc))
}

/// [`may`] reading the document through `doc` (now, or at earlier heads).
pub(crate) fn may_in(
    user: &User,
    kind: DocKind,
    action: Action,
    path: &Path,
    value: Option<&str>,
    doc: &Reader<'_>,
) -> Result<(), Denied> {
    let deny = |reason| Denied {
        user: user.id.to_string(),
        action,
        path: path.clone(),
        reason,
    };
    let Some((rule, depth)) = find_rule(kind, path) else {
        return Err(deny(DenyReason::OutsideSchema));
    };
    let action_here = if path.len() == depth {
        action
    } else {
        if path.len() == depth + 1 && IMMUTABLE_FIELDS.contains(&path.segs[depth].as_str()) {
            return Err(deny(DenyReason::Immutable));
        }
        Action::Change
    };
    let whos = match action_here {
        Action::Create => rule.create,
        Action::Change => rule.change,
        Action::Delete => rule.delete,
    };
    let ctx = Ctx {
        user,
        kind,
        action: action_here,
        path,
        depth,
        value,
        doc,
    };
    if whos.iter().any(|w| ctx.holds(*w)) {
        Ok(())
    } else {
        Err(deny(DenyReason::NotAllowed { rule: rule.pattern }))
    }
}

/// The deepest rule whose pattern is a prefix of `path`, with the pattern's length.
pub fn find_rule(kind: DocKind, path: &Path) -> Option<(&'static Rule, usize)> {
    let mut best: Option<(&'static Rule, usize)> = None;
    for r in RULES.iter().filter(|r| r.kind == kind) {
        let pat: Vec<&str> = r.pattern.split('/').collect();
        if pat.len() > path.len() || best.is_some_and(|(_, d)| d >= pat.len()) {
            continue;
        }
        if pat.iter().zip(&path.segs).all(|(p, s)| *p == "*" || p == s) {
            best = Some((r, pat.len()));
        }
    }
    best
}

struct Ctx<'a> {
    user: &'a User,
    kind: DocKind,
    action: Action,
    path: &'a Path,
    depth: usize,
    value: Option<&'a str>,
    doc: &'a Reader<'a>,
}

use Who::*;

impl Ctx<'_> {
    fn field(&self, depth: usize, field: &str) -> Option<String> {
        let obj = self.path.obj_at(self.doc, depth)?;
        self.doc.str(&obj, field)
    }

    fn me(&self) -> &str {
        self.user.id.as_str()
    }

    fn holds(&self, who: Who) -> bool {
        match who {
            Anyone => true,
            Author(d) => self.field(d, "author").as_deref() == Some(self.me()),
            KeyIsSelf => self.path.segs[self.depth - 1] == self.me(),
            FieldIsSelf(d, f) => self.field(d, f).as_deref() == Some(self.me()),
            SelfWhenEmpty => {
                // A create (nobody filled it yet, as the validator judges against the document
                // before the change) is fine. Overwriting a value is only fine if it is empty:
                // a fill that arrives after another was accepted is an overwrite, and refused.
                let key = &self.path.segs[self.depth - 1];
                let empty = || {
                    self.field(self.depth - 1, key)
                        .unwrap_or_default()
                        .is_empty()
                };
                self.path.len() == self.depth
                    && self.value == Some(self.me())
                    && (self.action == Action::Create || empty())
            }
            Broker => {
                self.kind == DocKind::Village
                    && self
                        .doc
                        .str(&ObjId::Root, "village_id")
                        .is_some_and(|v| self.user.is_broker_of_str(&v))
            }
            BrokerOfField(d, f) => self
                .field(d, f)
                .is_some_and(|v| self.user.is_broker_of_str(&v)),
            AnyBroker => !self.user.roles.broker_of.is_empty(),
            AdminOfKey(n) => self.user.is_admin_of_str(&self.path.segs[n - 1]),
            AdminOfField(d, f) => self
                .field(d, f)
                .is_some_and(|a| self.user.is_admin_of_str(&a)),
            PartnerAdmin(d) => self
                .path
                .obj_at(self.doc, d)
                .and_then(|o| self.doc.obj(&o, "partners"))
                .is_some_and(|p| {
                    self.doc
                        .keys(&p)
                        .iter()
                        .any(|a| self.user.is_admin_of_str(a))
                }),
            MunicipalityAdmin => self.user.roles.municipality_admin,
            Participant => self
                .doc
                .obj(&ObjId::Root, "participants")
                .is_some_and(|p| self.doc.has(&p, self.me())),
            Owner => {
                self.kind == DocKind::Inbox
                    && self.doc.str(&ObjId::Root, "owner").as_deref() == Some(self.me())
            }
        }
    }
}
