//! Permissions as data plus one function.
//!
//! [`RULES`] lists, per document kind, a path pattern (`*` matches one segment) and who may
//! create, change or delete there. [`may`] finds the deepest rule whose pattern is a prefix of
//! the path: if the path is the pattern itself the requested action is judged, if it lies deeper
//! (a field of the object) it counts as a change of that object. `id`, `author` and `created_at`
//! of an existing object can never be written. Paths outside every rule (the root keys, unknown
//! collections) are refused: only the server writes those, in migrations.

use std::fmt;

use automerge::{Automerge, ObjId};

use crate::read::Reader;
use crate::schema::DocKind;
use crate::user::User;

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
    segs: Vec<String>,
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

/// One way of being allowed. A rule lists several; any one suffices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Any signed-in resident.
    Anyone,
    /// The `author` of the object at the first n segments.
    Author(usize),
    /// The user whose id is the path's key at the rule's depth (`signups/<me>`).
    KeyIsSelf,
    /// The user named in field `.1` of the object at the first `.0` segments.
    FieldIsSelf(usize, &'static str),
    /// Anyone writing their own id where they saw no value, or over an empty one (filling a
    /// need).
    SelfWhenEmpty,
    /// The broker of this village document's village.
    Broker,
    /// The broker of the village named in field `.1` of the object at the first `.0` segments.
    BrokerOfField(usize, &'static str),
    /// The broker of any village.
    AnyBroker,
    /// An admin of the association whose id is segment n (1-based).
    AdminOfKey(usize),
    /// An admin of the association named in field `.1` of the object at the first `.0` segments.
    AdminOfField(usize, &'static str),
    /// An admin of a partner association of the initiative at the first n segments.
    PartnerAdmin(usize),
    /// A municipality admin.
    MunicipalityAdmin,
    /// A participant of this conversation.
    Participant,
    /// The owner of this inbox (the root's `owner` field).
    Owner,
}

/// Who may create, change and delete at paths matching `pattern`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The document kind the rule is for.
    pub kind: DocKind,
    /// Segments separated by `/`; `*` matches any one segment.
    pub pattern: &'static str,
    /// Who may create.
    pub create: &'static [Who],
    /// Who may change (including anything inside the object).
    pub change: &'static [Who],
    /// Who may delete.
    pub delete: &'static [Who],
}

const NOBODY: &[Who] = &[];

const fn rule(
    kind: DocKind,
    pattern: &'static str,
    create: &'static [Who],
    change: &'static [Who],
    delete: &'static [Who],
) -> Rule {
    Rule {
        kind,
        pattern,
        create,
        change,
        delete,
    }
}

/// A collection inside an object: created with it, never replaced or removed.
const fn container(kind: DocKind, pattern: &'static str) -> Rule {
    rule(kind, pattern, NOBODY, NOBODY, NOBODY)
}

/// A moderation log (and its entries): appended by the village's broker, never changed or removed.
const fn moderation_log(kind: DocKind, pattern: &'static str) -> Rule {
    rule(kind, pattern, MODERATE, NOBODY, NOBODY)
}

/// A write-once stamp (status timestamps): set once by `who`, never changed or removed.
const fn stamp(kind: DocKind, pattern: &'static str, who: &'static [Who]) -> Rule {
    rule(kind, pattern, who, NOBODY, NOBODY)
}

use DocKind::{Conversation as C, Inbox as I, Municipality as M, Village as V};
use Who::*;

const LEAD: Who = AdminOfField(2, "lead_association");
const MODERATE: &[Who] = &[Broker];

/// The permission table. Tested row by row in `tests/permissions.rs`.
pub static RULES: &[Rule] = &[
    // Village: help posts and responses.
    rule(
        V,
        "help_posts/*",
        &[Anyone],
        &[Author(2)],
        &[Author(2), Broker],
    ),
    container(V, "help_posts/*/responses"),
    rule(
        V,
        "help_posts/*/responses/*",
        &[Anyone],
        &[Author(4)],
        &[Author(4), Broker],
    ),
    rule(
        V,
        "help_posts/*/responses/*/hidden",
        MODERATE,
        MODERATE,
        MODERATE,
    ),
    moderation_log(V, "help_posts/*/responses/*/moderation"),
    moderation_log(V, "help_posts/*/responses/*/moderation/*"),
    stamp(V, "help_posts/*/accepted_response", &[Author(2)]),
    stamp(V, "help_posts/*/matched_at", &[Author(2)]),
    stamp(V, "help_posts/*/done_at", &[Author(2)]),
    stamp(V, "help_posts/*/withdrawn_at", &[Author(2), Broker]),
    rule(V, "help_posts/*/hidden", MODERATE, MODERATE, MODERATE),
    moderation_log(V, "help_posts/*/moderation"),
    moderation_log(V, "help_posts/*/moderation/*"),
    // Village: initiatives.
    rule(
        V,
        "initiatives/*",
        &[Anyone],
        &[Author(2), LEAD],
        &[Author(2), Broker],
    ),
    container(V, "initiatives/*/partners"),
    rule(
        V,
        "initiatives/*/partners/*",
        &[AdminOfKey(4)],
        NOBODY,
        &[AdminOfKey(4), Author(2), LEAD],
    ),
    rule(
        V,
        "initiatives/*/plan",
        &[Author(2), LEAD],
        &[Author(2), LEAD, PartnerAdmin(2)],
        NOBODY,
    ),
    container(V, "initiatives/*/needs"),
    rule(
        V,
        "initiatives/*/needs/*",
        &[Author(2), LEAD, PartnerAdmin(2)],
        &[Author(2), LEAD, PartnerAdmin(2)],
        &[Author(2), LEAD, PartnerAdmin(2)],
    ),
    rule(
        V,
        "initiatives/*/needs/*/filled_by",
        &[SelfWhenEmpty],
        &[SelfWhenEmpty],
        &[FieldIsSelf(4, "filled_by"), Author(2), LEAD],
    ),
    container(V, "initiatives/*/updates"),
    rule(
        V,
        "initiatives/*/updates/*",
        &[Author(2), LEAD, PartnerAdmin(2)],
        &[Author(4)],
        &[Author(4), Broker],
    ),
    stamp(V, "initiatives/*/started_at", &[Author(2), LEAD]),
    stamp(V, "initiatives/*/done_at", &[Author(2), LEAD]),
    rule(V, "initiatives/*/hidden", MODERATE, MODERATE, MODERATE),
    moderation_log(V, "initiatives/*/moderation"),
    moderation_log(V, "initiatives/*/moderation/*"),
    // Village: events.
    rule(V, "events/*", &[Anyone], &[Author(2)], &[Author(2), Broker]),
    container(V, "events/*/signups"),
    rule(
        V,
        "events/*/signups/*",
        &[KeyIsSelf],
        &[KeyIsSelf],
        &[KeyIsSelf, Author(2)],
    ),
    stamp(V, "events/*/cancelled_at", &[Author(2), Broker]),
    rule(V, "events/*/hidden", MODERATE, MODERATE, MODERATE),
    moderation_log(V, "events/*/moderation"),
    moderation_log(V, "events/*/moderation/*"),
    // Village: board.
    rule(V, "board/*", &[Anyone], &[Author(2)], &[Author(2), Broker]),
    container(V, "board/*/comments"),
    rule(
        V,
        "board/*/comments/*",
        &[Anyone],
        &[Author(4)],
        &[Author(4), Broker],
    ),
    rule(V, "board/*/comments/*/hidden", MODERATE, MODERATE, MODERATE),
    moderation_log(V, "board/*/comments/*/moderation"),
    moderation_log(V, "board/*/comments/*/moderation/*"),
    container(V, "board/*/reactions"),
    rule(
        V,
        "board/*/reactions/*",
        &[KeyIsSelf],
        &[KeyIsSelf],
        &[KeyIsSelf],
    ),
    rule(V, "board/*/hidden", MODERATE, MODERATE, MODERATE),
    moderation_log(V, "board/*/moderation"),
    moderation_log(V, "board/*/moderation/*"),
    // Village: volunteer profiles, one per resident, keyed by user id.
    rule(V, "volunteers/*", &[KeyIsSelf], &[KeyIsSelf], &[KeyIsSelf]),
    // Municipality.
    rule(
        M,
        "villages/*",
        &[MunicipalityAdmin],
        &[MunicipalityAdmin],
        &[MunicipalityAdmin],
    ),
    // Role data (brokers, association admins and members) is written by the server only, from
    // its accounts (`sync-server/src/accounts`). The one exception is in the validator: a new
    // association's creating change names its creator as its first admin.
    container(M, "villages/*/brokers"),
    rule(
        M,
        "associations/*",
        &[Anyone],
        &[AdminOfKey(2), MunicipalityAdmin],
        &[AdminOfKey(2), MunicipalityAdmin],
    ),
    container(M, "associations/*/admins"),
    container(M, "associations/*/members"),
    rule(
        M,
        "news/*",
        &[MunicipalityAdmin, AnyBroker],
        &[Author(2), MunicipalityAdmin],
        &[Author(2), MunicipalityAdmin],
    ),
    rule(
        M,
        "consultations/*",
        &[MunicipalityAdmin, AnyBroker],
        &[Author(2), MunicipalityAdmin, BrokerOfField(2, "village")],
        &[MunicipalityAdmin],
    ),
    stamp(M, "consultations/*/village", NOBODY),
    container(M, "consultations/*/responses"),
    rule(
        M,
        "consultations/*/responses/*",
        &[Anyone],
        &[Author(4)],
        &[Author(4), MunicipalityAdmin],
    ),
    rule(
        M,
        "consultations/*/outcome",
        &[MunicipalityAdmin, BrokerOfField(2, "village")],
        &[MunicipalityAdmin, BrokerOfField(2, "village")],
        NOBODY,
    ),
    rule(
        M,
        "knowledge/*",
        &[MunicipalityAdmin, AnyBroker],
        &[Author(2), MunicipalityAdmin],
        &[Author(2), MunicipalityAdmin],
    ),
    // Conversation.
    rule(C, "participants/*", &[Participant], NOBODY, &[KeyIsSelf]),
    rule(C, "messages/*", &[Participant], &[Author(2)], &[Author(2)]),
    // Inbox: anyone may add a conversation (an entry they author, never changed); only the
    // owner keeps read marks or removes entries. Only the owner may read it: the server's job.
    rule(I, "entries/*", &[Anyone], NOBODY, &[Owner]),
    rule(I, "read/*", &[Owner], &[Owner], &[Owner]),
];

/// Fields of every object that are written once, when the object is created.
pub const IMMUTABLE_FIELDS: &[&str] = &["id", "author", "created_at"];

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
                // A create (the writer saw no value) is fine even if a concurrent fill arrived
                // first: both are honest, and the merge keeps exactly one filler. Overwriting a
                // value the writer did see is only fine if that value is empty.
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
