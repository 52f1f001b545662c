//! The document types, their life cycle (create, load, save, fork, merge, migrate), and
//! small read/write helpers the rest of the crate builds on.

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{
    ActorId, Automerge, Change, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value,
};

use crate::MunicipalitySeed;
use crate::error::{OpError, SchemaError};
use crate::ids::{UserId, VillageId};
use crate::ops_village::new_object;
use crate::schema::{DocKind, KEY_KIND, KEY_SCHEMA_VERSION, SCHEMA_VERSION};
use crate::user::User;
use crate::validate::{Violation, validate_changes};

/// One step of the migration path: brings a document from version `i` to `i + 1`, as ordinary
/// Automerge operations. Index `i` of [`MIGRATIONS`] migrates from version `i`.
pub type Migration = fn(&mut Transaction<'_>, DocKind) -> Result<(), automerge::AutomergeError>;

/// The migration path, oldest first. Version 0 is a document without `schema_version` (e.g. a
/// bare `repo.create()` of an automerge-repo client): it gets its kind and root maps.
pub static MIGRATIONS: &[Migration] = &[migrate_0_to_1];

fn migrate_0_to_1(
    tx: &mut Transaction<'_>,
    kind: DocKind,
) -> Result<(), automerge::AutomergeError> {
    tx.put(ObjId::Root, KEY_KIND, kind.as_str())?;
    for key in kind.root_maps() {
        if get_obj(tx, &ObjId::Root, key).is_none() {
            tx.put_object(ObjId::Root, *key, ObjType::Map)?;
        }
    }
    Ok(())
}

/// The schema version stored in `doc` (0 when absent).
pub fn schema_version_of(doc: &impl ReadDoc) -> u64 {
    match doc.get(ObjId::Root, KEY_SCHEMA_VERSION) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Uint(v) => *v,
            ScalarValue::Int(v) => (*v).max(0) as u64,
            _ => 0,
        },
        _ => 0,
    }
}

/// Runs the migrations `doc` still needs, each as one change, and returns the version it had.
///
/// Migrations are run by the server only (it owns the root keys), and once per document; its
/// changes then sync to every device. Apps open documents of an older version read-only and
/// wait for the migrated copy; a document of a newer version is refused with
/// [`SchemaError::NewerVersion`] so an old app never damages it.
pub fn migrate(doc: &mut Automerge, kind: DocKind, now: i64) -> Result<u64, SchemaError> {
    let found = schema_version_of(doc);
    if found > SCHEMA_VERSION {
        return Err(SchemaError::NewerVersion {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found >= 1 {
        check_kind(doc, kind)?;
    }
    for (from, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let mut tx = doc.transaction();
        step(&mut tx, kind)
            .and_then(|_| tx.put(ObjId::Root, KEY_SCHEMA_VERSION, (from + 1) as u64))
            .map_err(|e| SchemaError::Load(e.to_string()))?;
        tx.commit_with(
            CommitOptions::default()
                .with_time(now)
                .with_message(format!("migrate schema {from} -> {}", from + 1)),
        );
    }
    Ok(found)
}

fn check_kind(doc: &Automerge, kind: DocKind) -> Result<(), SchemaError> {
    let found = get_str(doc, &ObjId::Root, KEY_KIND);
    if found.as_deref().and_then(DocKind::parse) == Some(kind) {
        Ok(())
    } else {
        Err(SchemaError::WrongKind {
            expected: kind.as_str(),
            found,
        })
    }
}

macro_rules! document {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            pub(crate) am: Automerge,
        }

        impl $name {
            /// The kind of document this type holds.
            pub const KIND: DocKind = $kind;

            /// Loads saved bytes (see [`Self::from_automerge`] for what is checked).
            pub fn load(bytes: &[u8]) -> Result<Self, SchemaError> {
                let am = Automerge::load(bytes).map_err(|e| SchemaError::Load(e.to_string()))?;
                Self::from_automerge(am)
            }

            /// Wraps an Automerge document after checking its kind and that it is not of a
            /// newer schema. An older one is accepted (read it; write after [`Self::migrate`]).
            pub fn from_automerge(am: Automerge) -> Result<Self, SchemaError> {
                let found = schema_version_of(&am);
                if found > SCHEMA_VERSION {
                    return Err(SchemaError::NewerVersion { found, supported: SCHEMA_VERSION });
                }
                if found > 0 {
                    check_kind(&am, Self::KIND)?;
                }
                Ok(Self { am })
            }

            /// Reads `am` as this kind of document without copying it: `f` sees it wrapped,
            /// and it is handed back in every case, with `f`'s result, or `None` when
            /// [`Self::from_automerge`] would refuse it.
            pub fn lend<R>(am: Automerge, f: impl FnOnce(&Self) -> R) -> (Automerge, Option<R>) {
                let found = schema_version_of(&am);
                if found > SCHEMA_VERSION || (found > 0 && check_kind(&am, Self::KIND).is_err()) {
                    return (am, None);
                }
                let doc = Self { am };
                let result = f(&doc);
                (doc.am, Some(result))
            }

            /// Migrates an older document to [`SCHEMA_VERSION`]; returns the version it had.
            pub fn migrate(&mut self, now: i64) -> Result<u64, SchemaError> {
                migrate(&mut self.am, Self::KIND, now)
            }

            /// The schema version stored in the document.
            pub fn schema_version(&self) -> u64 {
                schema_version_of(&self.am)
            }

            /// The underlying Automerge document (for sync and storage).
            pub fn automerge(&self) -> &Automerge {
                &self.am
            }

            /// Gives up the wrapper.
            pub fn into_automerge(self) -> Automerge {
                self.am
            }

            /// The whole document, compacted.
            pub fn save(&self) -> Vec<u8> {
                self.am.save()
            }

            /// Sets the actor id this device writes with (registered to its user on the server).
            pub fn set_actor(&mut self, actor: ActorId) {
                self.am.set_actor(actor);
            }

            /// A copy that writes with another actor, e.g. a second device going offline.
            pub fn fork(&self, actor: ActorId) -> Self {
                Self { am: self.am.fork().with_actor(actor) }
            }

            /// Takes in everything `other` has that this document lacks.
            pub fn merge(&mut self, other: &mut Self) -> Result<(), OpError> {
                self.am.merge(&mut other.am)?;
                Ok(())
            }

            /// The current heads.
            pub fn heads(&self) -> Vec<ChangeHash> {
                self.am.get_heads()
            }

            /// The changes made since `heads`, in an order they can be applied in.
            pub fn changes_since(&self, heads: &[ChangeHash]) -> Vec<Change> {
                self.am.get_changes(heads)
            }

            /// Applies changes (after [`Self::validate_changes`] on the server).
            pub fn apply_changes(&mut self, changes: Vec<Change>) -> Result<(), OpError> {
                self.am.apply_changes(changes)?;
                Ok(())
            }

            /// Judges every op of `changes`, sent by `author`, against the permission table
            /// and the schema's value rules; see [`crate::validate_changes`].
            pub fn validate_changes(
                &self,
                author: &User,
                changes: &[Change],
                now: i64,
            ) -> Result<(), Violation> {
                validate_changes(&self.am, Self::KIND, author, changes, now)
            }

            pub(crate) fn writable(&self) -> Result<(), OpError> {
                let found = self.schema_version();
                if found == SCHEMA_VERSION {
                    Ok(())
                } else {
                    Err(OpError::OutdatedSchema { found, expected: SCHEMA_VERSION })
                }
            }

            /// Runs `f` in one transaction committed at `now`; rolls back if it fails.
            pub(crate) fn write<T>(
                &mut self,
                now: i64,
                f: impl FnOnce(&mut Transaction<'_>) -> Result<T, automerge::AutomergeError>,
            ) -> Result<T, OpError> {
                let mut tx = self.am.transaction();
                match f(&mut tx) {
                    Ok(v) => {
                        tx.commit_with(CommitOptions::default().with_time(now));
                        Ok(v)
                    }
                    Err(e) => {
                        tx.rollback();
                        Err(e.into())
                    }
                }
            }

            /// A root collection (always present in a migrated document).
            pub(crate) fn root_map(&self, key: &str) -> Result<ObjId, OpError> {
                get_obj(&self.am, &ObjId::Root, key).ok_or_else(|| OpError::OutdatedSchema {
                    found: self.schema_version(),
                    expected: SCHEMA_VERSION,
                })
            }
        }
    };
}

document!(
    /// One village's document: help posts, initiatives, events, board, volunteer profiles.
    VillageDoc,
    DocKind::Village
);
document!(
    /// The municipality's document: villages, associations, news, consultations, knowledge.
    MunicipalityDoc,
    DocKind::Municipality
);
document!(
    /// A private conversation: participants and messages. Readable only by its participants.
    ConversationDoc,
    DocKind::Conversation
);
document!(
    /// A resident's inbox: which conversations they take part in. See [`crate::InboxDoc::new`].
    InboxDoc,
    DocKind::Inbox
);

impl VillageDoc {
    /// A new, empty village document (created once, by the server).
    pub fn new(village: &VillageId, actor: ActorId, now: i64) -> VillageDoc {
        let mut am = Automerge::new().with_actor(actor);
        migrate(&mut am, DocKind::Village, now).expect("a new document migrates");
        let mut doc = VillageDoc { am };
        doc.write(now, |tx| {
            tx.put(ObjId::Root, "village_id", village.as_str())
        })
        .expect("writing the root of a new document");
        doc
    }

    /// The village this document is about.
    pub fn village_id(&self) -> Option<VillageId> {
        get_str(&self.am, &ObjId::Root, "village_id").and_then(|s| VillageId::new(s).ok())
    }
}

impl MunicipalityDoc {
    /// A new municipality document from its seed (created once, by the server).
    pub fn new(seed: &MunicipalitySeed, actor: ActorId, now: i64) -> MunicipalityDoc {
        let mut am = Automerge::new().with_actor(actor);
        migrate(&mut am, DocKind::Municipality, now).expect("a new document migrates");
        let mut doc = MunicipalityDoc { am };
        doc.write(now, |tx| {
            tx.put(ObjId::Root, "municipality_id", seed.id.as_str())?;
            tx.put(ObjId::Root, "name", seed.name.as_str())?;
            let villages = get_obj(tx, &ObjId::Root, "villages").expect("migrated");
            for v in &seed.villages {
                let obj = tx.put_object(&villages, v.id.as_str(), ObjType::Map)?;
                tx.put(&obj, "id", v.id.as_str())?;
                tx.put(&obj, "name", v.name.as_str())?;
                tx.put(&obj, "created_at", now)?;
                let n = tx.put_object(&obj, "neighbours", ObjType::Map)?;
                for nb in &v.neighbours {
                    tx.put(&n, nb.as_str(), true)?;
                }
                let brokers = tx.put_object(&obj, "brokers", ObjType::Map)?;
                let contacts = tx.put_object(&obj, "broker_contacts", ObjType::Map)?;
                for (n, b) in seed.brokers.iter().enumerate() {
                    if !b.villages.contains(&v.id) {
                        continue;
                    }
                    if let Some(user) = &b.user {
                        tx.put(&brokers, user.as_str(), true)?;
                    }
                    let c = tx.put_object(&contacts, n.to_string().as_str(), ObjType::Map)?;
                    tx.put(&c, "name", b.name.trim())?;
                    for (key, value) in
                        [("email", &b.email), ("phone", &b.phone), ("note", &b.note)]
                    {
                        tx.put(&c, key, value.as_deref().unwrap_or_default().trim())?;
                    }
                }
            }
            // What the municipality already has: its knowledge pages and running consultations.
            let author = seed.id.as_str();
            let knowledge = get_obj(tx, &ObjId::Root, "knowledge").expect("migrated");
            for k in &seed.knowledge {
                let o = new_object(tx, &knowledge, k.id.as_str(), author, now)?;
                tx.put(&o, "title", k.title.trim())?;
                tx.put(&o, "body", k.body.trim())?;
                tx.put(&o, "village", k.village.as_deref().unwrap_or_default())?;
            }
            let consultations = get_obj(tx, &ObjId::Root, "consultations").expect("migrated");
            for c in &seed.consultations {
                let o = new_object(tx, &consultations, c.id.as_str(), author, now)?;
                tx.put(&o, "village", c.village.as_str())?;
                tx.put(&o, "question", c.question.trim())?;
                tx.put(&o, "explanation", c.explanation.trim())?;
                tx.put(&o, "closes_at", c.closes_at().unwrap_or(now))?;
                tx.put_object(&o, "responses", ObjType::Map)?;
                if let Some(outcome) = &c.outcome {
                    let out = tx.put_object(&o, "outcome", ObjType::Map)?;
                    tx.put(&out, "author", author)?;
                    tx.put(&out, "created_at", now)?;
                    tx.put(&out, "body", outcome.trim())?;
                }
            }
            Ok(())
        })
        .expect("writing the root of a new document");
        doc
    }
}

impl ConversationDoc {
    /// A new conversation between `creator` and `others`.
    pub fn new(creator: &User, others: &[UserId], actor: ActorId, now: i64) -> ConversationDoc {
        Self::create(creator, others, "", actor, now)
    }

    /// A new conversation between `creator` and `others` about `subject` (at most a title's
    /// length; empty for none). The subject is written once, with the participants, and no
    /// rule lets anyone change it afterwards.
    pub fn with_subject(
        creator: &User,
        others: &[UserId],
        subject: &str,
        actor: ActorId,
        now: i64,
    ) -> Result<ConversationDoc, OpError> {
        crate::schema::check_text("subject", subject, crate::schema::limits::TITLE, false)?;
        Ok(Self::create(creator, others, subject.trim(), actor, now))
    }

    fn create(
        creator: &User,
        others: &[UserId],
        subject: &str,
        actor: ActorId,
        now: i64,
    ) -> ConversationDoc {
        let mut am = Automerge::new().with_actor(actor);
        migrate(&mut am, DocKind::Conversation, now).expect("a new document migrates");
        let mut doc = ConversationDoc { am };
        doc.write(now, |tx| {
            let p = get_obj(tx, &ObjId::Root, "participants").expect("migrated");
            for u in std::iter::once(&creator.id).chain(others) {
                let obj = tx.put_object(&p, u.as_str(), ObjType::Map)?;
                tx.put(&obj, "added_by", creator.id.as_str())?;
                tx.put(&obj, "created_at", now)?;
            }
            if !subject.is_empty() {
                tx.put(ObjId::Root, "subject", subject)?;
            }
            Ok(())
        })
        .expect("writing the root of a new document");
        doc
    }
}

// ---- read helpers -------------------------------------------------------------------------

pub(crate) fn get_obj(d: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<ObjId> {
    match d.get(obj, key) {
        Ok(Some((Value::Object(_), id))) => Some(id),
        _ => None,
    }
}

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

pub(crate) fn get_bool(d: &impl ReadDoc, obj: &ObjId, key: &str) -> bool {
    matches!(d.get(obj, key), Ok(Some((Value::Scalar(s), _))) if matches!(s.as_ref(), ScalarValue::Boolean(true)))
}

pub(crate) fn has_key(d: &impl ReadDoc, obj: &ObjId, key: &str) -> bool {
    matches!(d.get(obj, key), Ok(Some(_)))
}

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

    pub(crate) fn has(&self, obj: &ObjId, key: &str) -> bool {
        self.get(obj, key).is_some()
    }

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
