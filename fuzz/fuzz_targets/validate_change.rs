//! The change validator against a seeded village document.
//!
//! A random user (resident, author of the seed's posts, the village's broker, an association's
//! admin, a municipality admin, a broker elsewhere, or a stranger) on a random actor makes a
//! sequence of changes: raw Automerge ops at paths drawn from the document as it is and from
//! the schema's names (collections, ids, field names), with values of every scalar type, mixed
//! with the app's own typed operations (`model` ops) with arbitrary text. Then the validator
//! the server calls, [`model::validate_incoming`] (on the document with the changes applied),
//! judges them, and so does [`model::validate_changes`] (on the document before them):
//!
//! - neither panics, and both give the same verdict;
//! - changes made only by the app's own operations, all of which succeeded, are accepted;
//! - an accepted change keeps the model's invariants: the document still loads as a
//!   `VillageDoc` of the current schema and of the same village, every view reads it without
//!   panicking, no pre-existing entity's (entry of a collection of objects: a post, a
//!   response, …) `id`, `author` or `created_at` changed, and every new entity's `author` is
//!   the sender and its `created_at` not in the future.
//!
//! `DORPSKRACHT_FUZZ_STRICT=1` adds what the model does not hold yet (fuzz/regressions/
//! validate_change/README.md); `DORPSKRACHT_FUZZ_SHOW=1` prints an input's changes.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use automerge::{
    ActorId, Automerge, ObjId, ObjType, ReadDoc, ScalarValue, Value,
    transaction::{CommitOptions, Transactable},
};
use dorpskracht_fuzz::{CLOCK_SKEW_MS, NOW, USER_IDS, actor_of, users, village};
use libfuzzer_sys::fuzz_target;
use model::{
    AssociationId, BoardPostId, CommentId, DocKind, EventDraft, EventId, HelpCategory, HelpDraft,
    HelpPostId, InitiativeDraft, InitiativeId, ModerationTarget, NeedId, Reaction, ResponseId,
    SCHEMA_VERSION, TimeWindow, UpdateId, User, UserId, VillageDoc, VillageId, VolunteerProfile,
    schema_version_of, validate_changes, validate_incoming,
};

/// The seeded village, made once.
fn seed() -> &'static Automerge {
    static SEED: OnceLock<Automerge> = OnceLock::new();
    SEED.get_or_init(village)
}

/// Names the schema uses: field names, collection names, ids of the seed and users.
const NAMES: &[&str] = &[
    "author",
    "created_at",
    "updated_at",
    "id",
    "kind",
    "category",
    "title",
    "description",
    "when_start",
    "when_end",
    "responses",
    "message",
    "accepted_response",
    "matched_at",
    "done_at",
    "withdrawn_at",
    "hidden",
    "moderation",
    "action",
    "reason",
    "body",
    "comments",
    "reactions",
    "plan",
    "partners",
    "needs",
    "filled_by",
    "updates",
    "started_at",
    "lead_association",
    "start",
    "end",
    "place",
    "volunteers_needed",
    "organiser",
    "signups",
    "cancelled_at",
    "display_name",
    "categories",
    "villages",
    "availability",
    "schema_version",
    "village_id",
    "outcome",
    "help_posts",
    "initiatives",
    "events",
    "board",
    "volunteers",
    "p1",
    "p2",
    "p3",
    "p9",
    "r1",
    "r3",
    "r9",
    "b1",
    "c1",
    "e1",
    "i1",
    "n1",
    "u1",
    "anna",
    "bert",
    "carla",
    "dirk",
    "eva",
    "fenna",
    "ulft",
    "korfbal",
    "fanfare",
];

/// Strings the schema stores: enum values, ids, users.
const STRINGS: &[&str] = &[
    "request",
    "offer",
    "shopping",
    "transport",
    "other",
    "like",
    "heart",
    "thanks",
    "hide",
    "show",
    "village",
    "municipality",
    "r1",
    "r3",
    "r9",
    "anna",
    "bert",
    "carla",
    "dirk",
    "eva",
    "korfbal",
    "fanfare",
    "ulft",
    "",
];

#[derive(Arbitrary, Debug)]
enum UserPick {
    Known(u8),
    Stranger(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    user: UserPick,
    actor: u8,
    ops: Vec<Op>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Put {
        obj: Vec<u8>,
        key: Key,
        value: Val,
    },
    PutObject {
        obj: Vec<u8>,
        key: Key,
        ty: ObjKind,
    },
    Delete {
        obj: Vec<u8>,
        key: Key,
    },
    Increment {
        obj: Vec<u8>,
        key: Key,
        by: i64,
    },
    /// Into a list or text: insert `value`, or splice `text` in a text.
    Insert {
        obj: Vec<u8>,
        index: u16,
        value: Val,
    },
    Splice {
        obj: Vec<u8>,
        pos: u16,
        delete: i8,
        text: String,
    },
    /// Ends the change; the next op starts another.
    Commit,
    Model(ModelOp),
}

#[derive(Arbitrary, Debug)]
enum ObjKind {
    Map,
    List,
    Text,
}

#[derive(Arbitrary, Debug)]
enum Key {
    /// One of the object's own keys (or list index).
    Existing(u8),
    Name(u8),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Time {
    Now,
    /// Minutes from now.
    Offset(i32),
    Raw(i64),
}

impl Time {
    fn ms(&self) -> i64 {
        match self {
            Time::Now => NOW,
            Time::Offset(m) => NOW + i64::from(*m) * 60_000,
            Time::Raw(t) => *t,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Val {
    Str(u8),
    RawStr(String),
    Int(Time),
    Uint(u64),
    F64(f64),
    Bool(bool),
    Null,
    Counter(i64),
    Timestamp(Time),
    Bytes(Vec<u8>),
    /// A value of a type from a future automerge.
    Unknown(u8, Vec<u8>),
}

impl Val {
    fn scalar(&self) -> ScalarValue {
        match self {
            Val::Str(i) => ScalarValue::Str(pick(STRINGS, *i).into()),
            Val::RawStr(s) => ScalarValue::Str(s.as_str().into()),
            Val::Int(t) => ScalarValue::Int(t.ms()),
            Val::Uint(u) => ScalarValue::Uint(*u),
            Val::F64(f) => ScalarValue::F64(*f),
            Val::Bool(b) => ScalarValue::Boolean(*b),
            Val::Null => ScalarValue::Null,
            Val::Counter(c) => ScalarValue::counter(*c),
            Val::Timestamp(t) => ScalarValue::Timestamp(t.ms()),
            Val::Bytes(b) => ScalarValue::Bytes(b.clone()),
            // The type code shares a byte with the length (4 bits each, automerge's value
            // metadata) and 0 to 9 are the known types: 10 to 15 are the unknown ones a
            // future automerge could send. (A code of 16 or more, which no encoder writes,
            // corrupts the change automerge builds: a misuse of its API, not a finding.)
            Val::Unknown(type_code, bytes) => ScalarValue::Unknown {
                type_code: 10 + type_code % 6,
                bytes: bytes.clone(),
            },
        }
    }
}

/// The app's own operations; ids are picked from [`IDS`] (so they hit the seed's objects),
/// texts are arbitrary.
#[derive(Arbitrary, Debug)]
enum ModelOp {
    PostHelp {
        offer: bool,
        id: u8,
        category: u8,
        title: String,
        description: String,
        when: Option<(Time, Time)>,
    },
    EditHelp {
        id: u8,
        category: u8,
        title: String,
        description: String,
    },
    Respond {
        post: u8,
        id: u8,
        message: String,
    },
    Accept {
        post: u8,
        response: u8,
    },
    MarkDone(u8),
    Withdraw(u8),
    Post {
        id: u8,
        body: String,
    },
    Comment {
        post: u8,
        id: u8,
        body: String,
    },
    React {
        post: u8,
        reaction: Option<u8>,
    },
    CreateEvent {
        id: u8,
        title: String,
        place: String,
        start: Time,
        end: Time,
        volunteers: u16,
        organiser: Option<u8>,
    },
    CancelEvent(u8),
    SignUp(u8),
    CancelSignUp(u8),
    CreateInitiative {
        id: u8,
        title: String,
        plan: String,
        lead: Option<u8>,
    },
    JoinAsPartner {
        initiative: u8,
        association: u8,
    },
    EditPlan {
        initiative: u8,
        plan: String,
    },
    AddNeed {
        initiative: u8,
        id: u8,
        title: String,
    },
    FillNeed {
        initiative: u8,
        need: u8,
    },
    PostUpdate {
        initiative: u8,
        id: u8,
        body: String,
    },
    Start(u8),
    Complete(u8),
    Moderate {
        target: u8,
        a: u8,
        b: u8,
        hidden: bool,
        reason: String,
    },
    Profile {
        name: String,
        categories: Vec<u8>,
        availability: Vec<(Time, Time)>,
    },
}

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

/// Ids the app's operations are given: the seed's, users', and fresh ones. The app makes ids
/// from random bytes (`from_random`), so never one that is also a field or collection name
/// (raw ops still write at those: [`NAMES`]); an id such as `signups` is refused by the
/// validator although the operation accepts it (fuzz/regressions/validate_change/).
const IDS: &[&str] = &[
    "p1",
    "p2",
    "p3",
    "p9",
    "r1",
    "r3",
    "r9",
    "b1",
    "c1",
    "e1",
    "i1",
    "n1",
    "u1",
    "anna",
    "bert",
    "carla",
    "dirk",
    "eva",
    "fenna",
    "ulft",
    "korfbal",
    "fanfare",
    "0f3a9c2e5b7d41a6",
];

/// An id of type `T` from [`IDS`], or with [`strict`] from [`NAMES`] (every one a valid id).
fn id<T>(i: u8, new: impl Fn(String) -> Result<T, model::BadId>) -> T {
    let ids = if strict() { NAMES } else { IDS };
    new(pick(ids, i).to_owned()).expect("every name is a valid id")
}

/// `DORPSKRACHT_FUZZ_STRICT=1`: also check what the model is known not to hold yet (see
/// fuzz/regressions/validate_change/README.md): the schema's shape ([`strict_schema`]), and
/// the app's operations given ids that are also field names.
fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("DORPSKRACHT_FUZZ_STRICT").is_some())
}

impl ModelOp {
    /// Runs the operation; whether it succeeded.
    fn run(&self, doc: &mut VillageDoc, u: &User) -> bool {
        let cat = |i: u8| HelpCategory::ALL[usize::from(i) % HelpCategory::ALL.len()];
        let assoc = |i: u8| id(i, AssociationId::new);
        let window = |(s, e): &(Time, Time)| TimeWindow {
            start: s.ms(),
            end: e.ms(),
        };
        let result = match self {
            ModelOp::PostHelp {
                offer,
                id: i,
                category,
                title,
                description,
                when,
            } => {
                let draft = HelpDraft {
                    category: cat(*category),
                    title: title.clone(),
                    description: description.clone(),
                    when: when.as_ref().map(window),
                };
                let post = id(*i, HelpPostId::new);
                if *offer {
                    doc.post_help_offer(u, &post, &draft, NOW)
                } else {
                    doc.post_help_request(u, &post, &draft, NOW)
                }
            }
            ModelOp::EditHelp {
                id: i,
                category,
                title,
                description,
            } => {
                let draft = HelpDraft {
                    category: cat(*category),
                    title: title.clone(),
                    description: description.clone(),
                    when: None,
                };
                doc.edit_help_post(u, &id(*i, HelpPostId::new), &draft, NOW)
            }
            ModelOp::Respond {
                post,
                id: i,
                message,
            } => doc.respond(
                u,
                &id(*post, HelpPostId::new),
                &id(*i, ResponseId::new),
                message,
                NOW,
            ),
            ModelOp::Accept { post, response } => doc.accept_response(
                u,
                &id(*post, HelpPostId::new),
                &id(*response, ResponseId::new),
                NOW,
            ),
            ModelOp::MarkDone(p) => doc.mark_done(u, &id(*p, HelpPostId::new), NOW),
            ModelOp::Withdraw(p) => doc.withdraw(u, &id(*p, HelpPostId::new), NOW),
            ModelOp::Post { id: i, body } => doc.post(u, &id(*i, BoardPostId::new), body, NOW),
            ModelOp::Comment { post, id: i, body } => doc.comment(
                u,
                &id(*post, BoardPostId::new),
                &id(*i, CommentId::new),
                body,
                NOW,
            ),
            ModelOp::React { post, reaction } => doc.react(
                u,
                &id(*post, BoardPostId::new),
                reaction.map(|r| Reaction::ALL[usize::from(r) % Reaction::ALL.len()]),
                NOW,
            ),
            ModelOp::CreateEvent {
                id: i,
                title,
                place,
                start,
                end,
                volunteers,
                organiser,
            } => {
                let draft = EventDraft {
                    title: title.clone(),
                    description: String::new(),
                    when: TimeWindow {
                        start: start.ms(),
                        end: end.ms(),
                    },
                    place: place.clone(),
                    volunteers_needed: u64::from(*volunteers),
                    organiser: organiser.map(assoc),
                };
                doc.create_event(u, &id(*i, EventId::new), &draft, NOW)
            }
            ModelOp::CancelEvent(e) => doc.cancel_event(u, &id(*e, EventId::new), NOW),
            ModelOp::SignUp(e) => doc.sign_up(u, &id(*e, EventId::new), NOW),
            ModelOp::CancelSignUp(e) => doc.cancel_sign_up(u, &id(*e, EventId::new), NOW),
            ModelOp::CreateInitiative {
                id: i,
                title,
                plan,
                lead,
            } => {
                let draft = InitiativeDraft {
                    title: title.clone(),
                    plan: plan.clone(),
                    lead_association: lead.map(assoc),
                };
                doc.create_initiative(u, &id(*i, InitiativeId::new), &draft, NOW)
            }
            ModelOp::JoinAsPartner {
                initiative,
                association,
            } => doc.join_initiative_as_partner(
                u,
                &id(*initiative, InitiativeId::new),
                &assoc(*association),
                NOW,
            ),
            ModelOp::EditPlan { initiative, plan } => {
                doc.edit_plan(u, &id(*initiative, InitiativeId::new), plan, NOW)
            }
            ModelOp::AddNeed {
                initiative,
                id: i,
                title,
            } => doc.add_need(
                u,
                &id(*initiative, InitiativeId::new),
                &id(*i, NeedId::new),
                title,
                NOW,
            ),
            ModelOp::FillNeed { initiative, need } => doc.fill_need(
                u,
                &id(*initiative, InitiativeId::new),
                &id(*need, NeedId::new),
                NOW,
            ),
            ModelOp::PostUpdate {
                initiative,
                id: i,
                body,
            } => doc.post_update(
                u,
                &id(*initiative, InitiativeId::new),
                &id(*i, UpdateId::new),
                body,
                NOW,
            ),
            ModelOp::Start(i) => doc.start_initiative(u, &id(*i, InitiativeId::new), NOW),
            ModelOp::Complete(i) => doc.complete_initiative(u, &id(*i, InitiativeId::new), NOW),
            ModelOp::Moderate {
                target,
                a,
                b,
                hidden,
                reason,
            } => {
                let target = match target % 6 {
                    0 => ModerationTarget::HelpPost(id(*a, HelpPostId::new)),
                    1 => {
                        ModerationTarget::Response(id(*a, HelpPostId::new), id(*b, ResponseId::new))
                    }
                    2 => ModerationTarget::Initiative(id(*a, InitiativeId::new)),
                    3 => ModerationTarget::Event(id(*a, EventId::new)),
                    4 => ModerationTarget::BoardPost(id(*a, BoardPostId::new)),
                    _ => {
                        ModerationTarget::Comment(id(*a, BoardPostId::new), id(*b, CommentId::new))
                    }
                };
                doc.hide_for_moderation(u, &target, *hidden, reason, NOW)
            }
            ModelOp::Profile {
                name,
                categories,
                availability,
            } => {
                let profile = VolunteerProfile {
                    display_name: name.clone(),
                    categories: categories.iter().map(|c| cat(*c)).collect(),
                    villages: vec![VillageId::new("ulft").unwrap()],
                    availability: availability.iter().map(window).collect(),
                };
                doc.set_volunteer_profile(u, &profile, NOW)
            }
        };
        result.is_ok()
    }
}

/// The object reached from the root by `choices`: each picks one of the current object's
/// children that is an object; the walk stops where there is none.
fn walk(doc: &Automerge, choices: &[u8]) -> ObjId {
    let mut obj = ObjId::Root;
    for &c in choices.iter().take(6) {
        let children: Vec<ObjId> = match doc.object_type(&obj) {
            Ok(ObjType::Map | ObjType::Table) => doc
                .map_range(&obj, ..)
                .filter_map(|item| match item.value {
                    automerge::ValueRef::Object(_) => Some(item.id()),
                    _ => None,
                })
                .collect(),
            Ok(ObjType::List) => doc
                .list_range(&obj, ..)
                .filter_map(|item| match item.value {
                    automerge::ValueRef::Object(_) => Some(item.id()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        if children.is_empty() {
            break;
        }
        obj = children[usize::from(c) % children.len()].clone();
    }
    obj
}

/// Where in `obj` a write goes: a map key, or a list index.
enum Prop {
    Key(String),
    Index(usize),
}

fn prop(doc: &Automerge, obj: &ObjId, key: &Key) -> Prop {
    match doc.object_type(obj) {
        Ok(ObjType::List | ObjType::Text) => {
            let len = doc.length(obj);
            let i = match key {
                Key::Existing(i) | Key::Name(i) => usize::from(*i),
                Key::Raw(s) => s.len(),
            };
            Prop::Index(if len == 0 { 0 } else { i % len })
        }
        _ => Prop::Key(match key {
            Key::Existing(i) => {
                let keys: Vec<String> = doc.keys(obj).collect();
                if keys.is_empty() {
                    pick(NAMES, *i).to_owned()
                } else {
                    keys[usize::from(*i) % keys.len()].clone()
                }
            }
            Key::Name(i) => pick(NAMES, *i).to_owned(),
            Key::Raw(s) => s.clone(),
        }),
    }
}

/// Applies raw ops in one transaction (errors Automerge raises, e.g. a put into text, are
/// ignored: the op is simply not made).
fn raw_ops(doc: &mut Automerge, ops: &[&Op]) {
    let snapshot = doc.clone();
    let mut tx = doc.transaction();
    for op in ops {
        let _ = match op {
            Op::Put { obj, key, value } => {
                let o = walk(&snapshot, obj);
                match prop(&snapshot, &o, key) {
                    Prop::Key(k) => tx.put(&o, k, value.scalar()),
                    Prop::Index(i) if i < tx.length(&o) => tx.put(&o, i, value.scalar()),
                    Prop::Index(_) => Ok(()),
                }
            }
            Op::PutObject { obj, key, ty } => {
                let o = walk(&snapshot, obj);
                let ty = match ty {
                    ObjKind::Map => ObjType::Map,
                    ObjKind::List => ObjType::List,
                    ObjKind::Text => ObjType::Text,
                };
                match prop(&snapshot, &o, key) {
                    Prop::Key(k) => tx.put_object(&o, k, ty).map(drop),
                    Prop::Index(i) if i < tx.length(&o) => tx.put_object(&o, i, ty).map(drop),
                    Prop::Index(_) => Ok(()),
                }
            }
            Op::Delete { obj, key } => {
                let o = walk(&snapshot, obj);
                match prop(&snapshot, &o, key) {
                    Prop::Key(k) => tx.delete(&o, k),
                    Prop::Index(i) if i < tx.length(&o) => tx.delete(&o, i),
                    Prop::Index(_) => Ok(()),
                }
            }
            Op::Increment { obj, key, by } => {
                let o = walk(&snapshot, obj);
                match prop(&snapshot, &o, key) {
                    Prop::Key(k) => tx.increment(&o, k, *by),
                    Prop::Index(i) if i < tx.length(&o) => tx.increment(&o, i, *by),
                    Prop::Index(_) => Ok(()),
                }
            }
            Op::Insert { obj, index, value } => {
                let o = walk(&snapshot, obj);
                let len = tx.length(&o);
                let at = usize::from(*index) % (len + 1);
                match snapshot.object_type(&o) {
                    Ok(ObjType::List) => tx.insert(&o, at, value.scalar()),
                    Ok(ObjType::Text) => tx.splice_text(&o, at, 0, "x"),
                    _ => Ok(()),
                }
            }
            Op::Splice {
                obj,
                pos,
                delete,
                text,
            } => {
                let o = walk(&snapshot, obj);
                let len = tx.length(&o);
                let at = usize::from(*pos) % (len + 1);
                let del = isize::from(*delete).clamp(-(at as isize), (len - at) as isize);
                match snapshot.object_type(&o) {
                    Ok(ObjType::Text) => tx.splice_text(&o, at, del, text),
                    _ => Ok(()),
                }
            }
            Op::Commit | Op::Model(_) => Ok(()),
        };
    }
    tx.commit_with(CommitOptions::default().with_time(NOW));
}

fuzz_target!(
    init: {
        // `cargo xtask fuzz --write-seeds`: this binary also writes the seed corpus.
        if let Some(dir) = std::env::var_os("DORPSKRACHT_FUZZ_WRITE_SEEDS") {
            dorpskracht_fuzz::write_seeds(std::path::Path::new(&dir)).expect("writing the seeds");
            std::process::exit(0);
        }
    },
    |input: Input| {
    let seed = seed();
    let all = users();
    let sender = match &input.user {
        UserPick::Known(i) => all[usize::from(*i) % all.len()].clone(),
        UserPick::Stranger(s) => match UserId::new(s.as_str()) {
            Ok(id) => User::resident(id),
            Err(_) => return,
        },
    };
    let actor = match input.actor % 4 {
        // The sender's own actor, another user's, the server's, or a fresh one.
        0 => actor_of(sender.id.as_str()),
        1 => actor_of(pick(USER_IDS, input.actor / 4)),
        2 => ActorId::from(b"server".to_vec()),
        _ => ActorId::from(vec![input.actor; 16]),
    };
    let mut doc = seed.fork().with_actor(actor);
    let before = seed.get_heads();

    // Make the changes: runs of raw ops in one transaction each, model ops on their own.
    let mut only_model_ops = true;
    let mut run: Vec<&Op> = Vec::new();
    for op in input.ops.iter().take(64) {
        match op {
            Op::Commit => {
                raw_ops(&mut doc, &run);
                run.clear();
            }
            Op::Model(model_op) => {
                raw_ops(&mut doc, &run);
                run.clear();
                let (am, village) = VillageDoc::lend(doc, |_| ());
                doc = am;
                if village.is_some() {
                    let mut village = VillageDoc::from_automerge(doc).expect("lend said it loads");
                    only_model_ops &= model_op.run(&mut village, &sender);
                    doc = village.into_automerge();
                } else {
                    only_model_ops = false;
                }
            }
            raw => {
                only_model_ops = false;
                run.push(raw);
            }
        }
    }
    raw_ops(&mut doc, &run);
    let changes = doc.get_changes(&before);
    if changes.is_empty() {
        return;
    }
    // To see what an input does: its changes, op by op.
    if std::env::var_os("DORPSKRACHT_FUZZ_SHOW").is_some() {
        for change in &changes {
            eprintln!("{:#?}", change.decode());
        }
    }

    // The server's judgement, and the same from the document before the changes.
    let incoming = validate_incoming(&doc, &before, DocKind::Village, &sender, NOW);
    let alone = validate_changes(seed, DocKind::Village, &sender, &changes, NOW);
    assert_eq!(
        incoming.is_ok(),
        alone.is_ok(),
        "validate_incoming and validate_changes disagree: {incoming:?} / {alone:?}"
    );
    if only_model_ops {
        assert!(
            incoming.is_ok(),
            "the app's own operations, all successful, were refused: {incoming:?}"
        );
    }
    if incoming.is_ok() {
        check_invariants(seed, &doc, &sender);
    }
}
);

/// The collections whose entries are entities (objects with `author` and `created_at`).
const OBJECT_COLLECTIONS: &[&str] = &[
    "help_posts",
    "initiatives",
    "events",
    "board",
    "volunteers",
    "responses",
    "comments",
    "needs",
    "updates",
    "moderation",
];

/// With [`strict`]: a new entry of a collection of objects (a post, a response, a comment, …)
/// is a map with an `author` and a `created_at`, as the schema says (`model::schema`). The
/// validator does not enforce this (fuzz/regressions/validate_change/), so it is off by
/// default, to keep the fuzzer looking for other things.
fn strict_schema(before: &Automerge, after: &Automerge, obj: &ObjId) {
    if !strict() {
        return;
    }

    for item in after.map_range(obj, ..) {
        if !OBJECT_COLLECTIONS.contains(&item.key.as_ref()) {
            continue;
        }
        let Ok(Some((Value::Object(ObjType::Map), collection))) = after.get(obj, item.key.as_ref())
        else {
            continue;
        };
        for entry in after.map_range(&collection, ..) {
            let id = entry.key.as_ref();
            let old = before.get_all(&collection, id).unwrap_or_default();
            let entity = match after.get(&collection, id) {
                Ok(Some((Value::Object(ObjType::Map), entity))) => entity,
                Ok(Some((value, _))) if old.iter().any(|(v, _)| *v == value) => continue,
                other => panic!(
                    "{}/{id}: a new entry of a collection of objects is not a map: {other:?}",
                    item.key
                ),
            };
            if before.object_type(&entity).is_ok() {
                continue;
            }
            let author = after.get(&entity, "author").ok().flatten();
            let created = after.get(&entity, "created_at").ok().flatten();
            assert!(
                author.is_some() && created.is_some(),
                "{}/{id}: an object without author or created_at",
                item.key
            );
        }
    }
}

/// What an accepted change must leave intact (see the module docs).
fn check_invariants(before: &Automerge, after: &Automerge, sender: &User) {
    assert_eq!(
        schema_version_of(after),
        SCHEMA_VERSION,
        "schema version changed"
    );
    let village = VillageDoc::from_automerge(after.clone())
        .unwrap_or_else(|e| panic!("an accepted change left a document that does not load: {e}"));
    assert_eq!(
        village.village_id().as_ref().map(VillageId::as_str),
        Some("ulft"),
        "the village id changed"
    );
    for map in DocKind::Village.root_maps() {
        assert!(
            matches!(
                after.get(ObjId::Root, *map),
                Ok(Some((Value::Object(ObjType::Map), _)))
            ),
            "root collection {map} is gone or not a map"
        );
    }
    // Every view reads it.
    let _ = village.help_posts();
    let _ = village.open_requests();
    let _ = village.open_offers();
    let _ = village.help_page(None, 20);
    let _ = village.help_page(Some(HelpCategory::Shopping), 5);
    let _ = village.help_post("p1");
    let _ = village.initiatives();
    let _ = village.initiatives_needing_help();
    let _ = village.initiative("i1");
    let _ = village.events();
    let _ = village.upcoming_events(NOW, 4);
    let _ = village.event("e1");
    let _ = village.board();
    let _ = village.reaction_of("b1", "bert");
    let _ = village.display_name("bert");
    let _ = village.volunteer_profiles();
    let b1 = BoardPostId::new("b1").unwrap();
    let _ = village.moderation_log(&ModerationTarget::Comment(
        b1,
        CommentId::new("c1").unwrap(),
    ));

    // Objects: the pre-existing keep their immutable fields, the new are the sender's.
    // Each object with the key its parent has in the grandparent: an entity (a post, a
    // response, …) is an entry of one of the OBJECT_COLLECTIONS. Other maps (containers such as
    // `responses`, data such as a profile's `availability`) may hold any key, `author` too.
    let mut stack: Vec<(ObjId, String, bool)> = vec![(ObjId::Root, String::new(), false)];
    while let Some((obj, key, entity)) = stack.pop() {
        let is_map = matches!(after.object_type(&obj), Ok(ObjType::Map | ObjType::Table));
        if is_map {
            let existed = before.object_type(&obj).is_ok();
            strict_schema(before, after, &obj);
            for field in model::IMMUTABLE_FIELDS.iter().filter(|_| entity) {
                let now: Vec<_> = after
                    .get_all(&obj, *field)
                    .unwrap()
                    .into_iter()
                    .map(|(v, _)| v.into_owned())
                    .collect();
                if existed {
                    let then: Vec<_> = before
                        .get_all(&obj, *field)
                        .unwrap()
                        .into_iter()
                        .map(|(v, _)| v.into_owned())
                        .collect();
                    assert_eq!(then, now, "`{field}` of an existing object {obj} changed");
                } else if *field == "author" {
                    for v in &now {
                        assert_eq!(
                            v.as_str(),
                            Some(sender.id.as_str()),
                            "a new object {obj} names another author"
                        );
                    }
                } else if *field == "created_at" {
                    for v in &now {
                        if let Some(t) = v.as_i64() {
                            assert!(t <= NOW + CLOCK_SKEW_MS, "{obj} created in the future");
                        }
                    }
                }
            }
        }
        let entities = is_map && OBJECT_COLLECTIONS.contains(&key.as_str());
        if is_map {
            stack.extend(
                after
                    .map_range(&obj, ..)
                    .filter(|i| matches!(i.value, automerge::ValueRef::Object(_)))
                    .map(|i| (i.id(), i.key.to_string(), entities)),
            );
        } else if matches!(after.object_type(&obj), Ok(ObjType::List)) {
            stack.extend(
                after
                    .list_range(&obj, ..)
                    .filter(|i| matches!(i.value, automerge::ValueRef::Object(_)))
                    .map(|i| (i.id(), String::new(), false)),
            );
        }
    }
}
