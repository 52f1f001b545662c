//! The permission table as data: [`RULES`], one [`Rule`] per path pattern, each listing [`Who`]
//! may create, change and delete there.

use crate::schema::DocKind;

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

/// The permission table.
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
