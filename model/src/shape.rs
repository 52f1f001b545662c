//! The shape of every value a client may write, as data: [`SHAPES`] lists, per document kind,
//! a path pattern (`*` matches one segment) and what may be stored there: a text of at most so
//! many bytes, one of an enum's values, an integer, a boolean, an id, a map with at most so
//! many entries, an object, or an Automerge text of at most so many bytes. [`shape_of`] finds
//! the one pattern that matches a whole path.
//!
//! The validator ([`crate::validate_changes`]) asks it for every op that writes at a map key,
//! on creation and on every edit alike, so the server keeps the limits the app's forms keep:
//! a field the table does not list is refused, a value of the wrong type is refused, a text
//! over its limit is refused, a collection full to its limit takes no more entries. Moderated
//! objects (see [`MODERATED`]) also hold `hidden` and a moderation log.

use crate::ids::MAX_ID_LEN;
use crate::schema::{
    AssociationCategory, ContactChannel, DocKind, HelpCategory, HelpKind, Reaction, limits,
};

/// What may be stored at a path.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A string of at most this many bytes.
    Text(usize),
    /// A string of at most this many bytes that is not blank, and is never removed (a title, a
    /// body: what the app's forms require).
    Required(usize),
    /// A string that is one of an enum's values.
    Enum(fn(&str) -> bool),
    /// An integer (or timestamp).
    Int,
    /// An integer within a range.
    IntIn(i64, i64),
    /// A boolean.
    Bool,
    /// An id ([`crate::UserId`] and its siblings: 1 to 64 ASCII letters, digits, `-`, `_`).
    Id,
    /// An id, or empty for none (`lead_association`, `organiser`, `on_behalf_of`, `village`).
    OptId,
    /// A map of entries (keyed by id), at most this many.
    Map(usize),
    /// An object with fields.
    Object,
    /// An Automerge text of at most this many bytes (edited by position, e.g. the plan).
    TextObject(usize),
    /// Anything the server or a municipality admin writes (maps and scalars, strings of at most
    /// [`limits::LINE`] bytes): the villages' own data.
    Free,
}

/// What the key of a collection entry (the last segment, where the pattern has `*`) may be.
#[derive(Debug, Clone, Copy)]
pub enum KeyRule {
    /// An id.
    Id,
    /// One of an enum's values.
    Enum(fn(&str) -> bool),
}

/// One row of [`SHAPES`].
#[derive(Debug, Clone, Copy)]
pub struct ShapeRule {
    /// The document kind.
    pub kind: DocKind,
    /// Segments separated by `/`; `*` matches any one segment.
    pub pattern: &'static str,
    /// What may be stored there.
    pub shape: Shape,
    /// What a `*` last segment may be.
    pub key: KeyRule,
}

fn help_kind(s: &str) -> bool {
    s.parse::<HelpKind>().is_ok()
}
fn help_category(s: &str) -> bool {
    s.parse::<HelpCategory>().is_ok()
}
fn association_category(s: &str) -> bool {
    s.parse::<AssociationCategory>().is_ok()
}
fn contact_channel(s: &str) -> bool {
    s.parse::<ContactChannel>().is_ok()
}
fn reaction(s: &str) -> bool {
    Reaction::parse(s).is_some()
}
fn moderation_action(s: &str) -> bool {
    matches!(s, "hide" | "show")
}

use DocKind::{Conversation as C, Inbox as I, Municipality as M, Village as V};
use Shape::*;

const fn at(kind: DocKind, pattern: &'static str, shape: Shape) -> ShapeRule {
    ShapeRule {
        kind,
        pattern,
        shape,
        key: KeyRule::Id,
    }
}

const fn keyed(
    kind: DocKind,
    pattern: &'static str,
    shape: Shape,
    key: fn(&str) -> bool,
) -> ShapeRule {
    ShapeRule {
        kind,
        pattern,
        shape,
        key: KeyRule::Enum(key),
    }
}

/// The objects a broker may hide: each also holds `hidden` (a boolean) and `moderation` (a log
/// of at most [`limits::MAX_MODERATION_ENTRIES`] entries with `author`, `created_at`, `action`
/// and `reason`).
pub const MODERATED: &[&str] = &[
    "help_posts/*",
    "help_posts/*/responses/*",
    "initiatives/*",
    "events/*",
    "board/*",
    "board/*/comments/*",
];

/// Every value a client may write, per document kind. Every object also holds `author` (an
/// id), `created_at` and `updated_at` (integers), except where it says otherwise.
pub static SHAPES: &[ShapeRule] = &[
    // Village: help posts and responses.
    at(V, "help_posts/*", Object),
    at(V, "help_posts/*/kind", Enum(help_kind)),
    at(V, "help_posts/*/category", Enum(help_category)),
    at(V, "help_posts/*/title", Required(limits::TITLE)),
    at(V, "help_posts/*/description", Text(limits::BODY)),
    at(V, "help_posts/*/when_start", Int),
    at(V, "help_posts/*/when_end", Int),
    at(V, "help_posts/*/responses", Map(limits::MAX_RESPONSES)),
    at(V, "help_posts/*/accepted_response", Id),
    at(V, "help_posts/*/matched_at", Int),
    at(V, "help_posts/*/done_at", Int),
    at(V, "help_posts/*/withdrawn_at", Int),
    at(V, "help_posts/*/responses/*", Object),
    at(
        V,
        "help_posts/*/responses/*/message",
        Required(limits::SHORT_BODY),
    ),
    // Village: initiatives.
    at(V, "initiatives/*", Object),
    at(V, "initiatives/*/title", Required(limits::TITLE)),
    at(V, "initiatives/*/lead_association", OptId),
    at(V, "initiatives/*/plan", TextObject(limits::BODY)),
    at(V, "initiatives/*/partners", Map(limits::MAX_PARTNERS)),
    at(V, "initiatives/*/needs", Map(limits::MAX_NEEDS)),
    at(V, "initiatives/*/updates", Map(limits::MAX_UPDATES)),
    at(V, "initiatives/*/started_at", Int),
    at(V, "initiatives/*/done_at", Int),
    at(V, "initiatives/*/partners/*", Object),
    at(V, "initiatives/*/partners/*/added_by", Id),
    at(V, "initiatives/*/needs/*", Object),
    at(V, "initiatives/*/needs/*/title", Required(limits::TITLE)),
    at(V, "initiatives/*/needs/*/filled_by", OptId),
    at(V, "initiatives/*/updates/*", Object),
    at(V, "initiatives/*/updates/*/body", Required(limits::BODY)),
    // Village: events.
    at(V, "events/*", Object),
    at(V, "events/*/title", Required(limits::TITLE)),
    at(V, "events/*/description", Text(limits::BODY)),
    at(V, "events/*/start", Int),
    at(V, "events/*/end", Int),
    at(V, "events/*/place", Text(limits::LINE)),
    at(
        V,
        "events/*/volunteers_needed",
        IntIn(0, limits::MAX_VOLUNTEERS as i64),
    ),
    at(V, "events/*/organiser", OptId),
    at(V, "events/*/signups", Map(limits::MAX_VOLUNTEERS as usize)),
    at(V, "events/*/cancelled_at", Int),
    at(V, "events/*/signups/*", Object),
    // Village: board.
    at(V, "board/*", Object),
    at(V, "board/*/body", Required(limits::BODY)),
    at(V, "board/*/comments", Map(limits::MAX_COMMENTS)),
    at(V, "board/*/reactions", Map(limits::MAX_REACTIONS)),
    at(V, "board/*/comments/*", Object),
    at(V, "board/*/comments/*/body", Required(limits::SHORT_BODY)),
    at(V, "board/*/reactions/*", Enum(reaction)),
    // Village: volunteer profiles.
    at(V, "volunteers/*", Object),
    at(V, "volunteers/*/display_name", Text(limits::TITLE)),
    at(V, "volunteers/*/categories", Map(HelpCategory::ALL.len())),
    keyed(V, "volunteers/*/categories/*", Bool, help_category),
    at(
        V,
        "volunteers/*/villages",
        Map(limits::MAX_PROFILE_VILLAGES),
    ),
    at(V, "volunteers/*/villages/*", Bool),
    at(
        V,
        "volunteers/*/availability",
        Map(limits::MAX_AVAILABILITY),
    ),
    at(V, "volunteers/*/availability/*", Object),
    at(V, "volunteers/*/availability/*/start", Int),
    at(V, "volunteers/*/availability/*/end", Int),
    // Municipality. Villages are the municipality admin's (and the seed's).
    at(M, "villages/*", Free),
    at(M, "associations/*", Object),
    at(M, "associations/*/name", Required(limits::TITLE)),
    at(M, "associations/*/category", Enum(association_category)),
    at(M, "associations/*/description", Text(limits::BODY)),
    at(M, "associations/*/website", Text(limits::LINE)),
    at(
        M,
        "associations/*/villages",
        Map(limits::MAX_ASSOCIATION_VILLAGES),
    ),
    at(M, "associations/*/villages/*", Bool),
    at(M, "associations/*/contacts", Map(ContactChannel::ALL.len())),
    keyed(
        M,
        "associations/*/contacts/*",
        Text(limits::LINE),
        contact_channel,
    ),
    at(M, "associations/*/admins", Map(limits::MAX_ROLE_ENTRIES)),
    at(M, "associations/*/admins/*", Bool),
    at(M, "associations/*/members", Map(limits::MAX_ROLE_ENTRIES)),
    at(M, "associations/*/members/*", Bool),
    at(M, "news/*", Object),
    at(M, "news/*/title", Required(limits::TITLE)),
    at(M, "news/*/body", Required(limits::BODY)),
    at(M, "news/*/village", OptId),
    at(M, "knowledge/*", Object),
    at(M, "knowledge/*/title", Required(limits::TITLE)),
    at(M, "knowledge/*/body", Required(limits::BODY)),
    at(M, "knowledge/*/village", OptId),
    at(M, "consultations/*", Object),
    at(M, "consultations/*/village", Id),
    at(M, "consultations/*/question", Required(limits::QUESTION)),
    at(M, "consultations/*/explanation", Text(limits::BODY)),
    at(M, "consultations/*/closes_at", Int),
    at(
        M,
        "consultations/*/responses",
        Map(limits::MAX_CONSULTATION_RESPONSES),
    ),
    at(M, "consultations/*/outcome", Object),
    at(M, "consultations/*/outcome/body", Required(limits::BODY)),
    at(M, "consultations/*/responses/*", Object),
    at(
        M,
        "consultations/*/responses/*/body",
        Required(limits::BODY),
    ),
    at(M, "consultations/*/responses/*/on_behalf_of", OptId),
    // Conversation.
    at(C, "participants", Map(limits::MAX_PARTICIPANTS)),
    at(C, "participants/*", Object),
    at(C, "participants/*/added_by", Id),
    at(C, "messages/*", Object),
    at(C, "messages/*/body", Required(limits::SHORT_BODY)),
    // Inbox.
    at(I, "entries", Map(limits::MAX_INBOX_ENTRIES)),
    at(I, "entries/*", Object),
    at(I, "read/*", Int),
];

/// The fields every object holds (see [`SHAPES`]).
/// (`id` repeats the key in objects written before the key alone named them.)
const OBJECT_FIELDS: &[(&str, Shape)] = &[
    ("id", Id),
    ("author", Id),
    ("created_at", Int),
    ("updated_at", Int),
];

/// The fields of a moderation log entry.
const LOG_FIELDS: &[(&str, Shape)] = &[
    ("author", Id),
    ("created_at", Int),
    ("action", Enum(moderation_action)),
    ("reason", Text(limits::SHORT_BODY)),
];

fn matches(pattern: &str, segs: &[String]) -> bool {
    let mut n = 0;
    for (p, s) in pattern.split('/').zip(segs) {
        if p != "*" && p != s {
            return false;
        }
        n += 1;
    }
    n == segs.len() && pattern.split('/').count() == n
}

fn rule(kind: DocKind, segs: &[String]) -> Option<&'static ShapeRule> {
    SHAPES
        .iter()
        .find(|r| r.kind == kind && matches(r.pattern, segs))
}

fn is_object(kind: DocKind, segs: &[String]) -> bool {
    rule(kind, segs).is_some_and(|r| matches!(r.shape, Object))
}

fn is_moderated(kind: DocKind, segs: &[String]) -> bool {
    kind == DocKind::Village && MODERATED.iter().any(|p| matches(p, segs))
}

/// The shape of the value at `segs` in a document of `kind`, with the rule for its key; `None`
/// when nothing may be stored there.
pub fn shape_of(kind: DocKind, segs: &[String]) -> Option<(Shape, KeyRule)> {
    if let Some(r) = rule(kind, segs) {
        return Some((r.shape, r.key));
    }
    let (last, parent) = segs.split_last()?;
    // Anything inside the villages' own data.
    if kind == DocKind::Municipality && segs.len() > 2 && segs[0] == "villages" {
        return Some((Free, KeyRule::Id));
    }
    let field = |fields: &[(&str, Shape)]| {
        fields
            .iter()
            .find(|(f, _)| f == last)
            .map(|(_, s)| (*s, KeyRule::Id))
    };
    if is_object(kind, parent) {
        if let Some(found) = field(OBJECT_FIELDS) {
            return Some(found);
        }
        if is_moderated(kind, parent) {
            match last.as_str() {
                "hidden" => return Some((Bool, KeyRule::Id)),
                "moderation" => return Some((Map(limits::MAX_MODERATION_ENTRIES), KeyRule::Id)),
                _ => {}
            }
        }
        return None;
    }
    // A moderation log and its entries.
    if let [object @ .., log, _entry] = segs
        && log == "moderation"
        && is_moderated(kind, object)
    {
        return Some((Object, KeyRule::Enum(moderation_key)));
    }
    if let [object @ .., log, _entry, _field] = segs
        && log == "moderation"
        && is_moderated(kind, object)
    {
        return field(LOG_FIELDS);
    }
    None
}

/// A moderation entry's key: id characters, at most a zero-padded time, `-` and an id long
/// (the app writes `<time>-<broker>`).
fn moderation_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 20 + 1 + MAX_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `s` may be a key under [`KeyRule`] `rule`.
pub(crate) fn key_ok(rule: KeyRule, s: &str) -> bool {
    match rule {
        KeyRule::Id => crate::ids::check_id(s).is_ok(),
        KeyRule::Enum(f) => f(s),
    }
}
