//! The document types ([`VillageDoc`], [`MunicipalityDoc`], [`ConversationDoc`],
//! [`InboxDoc`]), their life cycle (create, load, save, fork, merge, migrate) and the write
//! primitives every typed operation is built from: [`new_object`] and, on each document type,
//! `writable`, `write`, `root_map`, `may`, `find`, `absent`, `child_map`, `create_child` (ask
//! the permission table, then write a new object; `write_child` is its writing half) and
//! `stamp` (ask, check, then write a status timestamp).
//!
//! The operations themselves live in `ops` (and `inbox`), the reads in `views`; both build on
//! this module, which depends on neither.

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{ActorId, Automerge, AutomergeError, Change, ChangeHash, ObjId, ObjType};

use crate::error::{OpError, SchemaError, check_text};
use crate::ids::{UserId, VillageId};
use crate::migration::{check_kind, migrate, schema_version_of};
use crate::permission::{Action, Path, may};
use crate::read::{get_obj, get_str, has_key};
use crate::schema::{DocKind, SCHEMA_VERSION, limits};
use crate::user::User;
use crate::validate::{Violation, validate_changes};

/// Creates the map `parent[id]` with the fields every object has: `author` and `created_at`.
pub(crate) fn new_object(
    tx: &mut Transaction<'_>,
    parent: &ObjId,
    id: &str,
    author: &str,
    now: i64,
) -> Result<ObjId, AutomergeError> {
    // The id is the object's key; it is not stored again inside (one op less per object,
    // which is most of what loading a large village costs).
    let obj = tx.put_object(parent, id, ObjType::Map)?;
    tx.put(&obj, "author", author)?;
    tx.put(&obj, "created_at", now)?;
    Ok(obj)
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
            /// and the schema's value rules; see [`validate_changes`].
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

            // The primitives below serve the typed operations; not every document kind has
            // operations that use every one of them.

            /// Asks the permission table whether `user` may do `action` at `path` (writing
            /// `value`, where the rule looks at it) in this document as it is now.
            pub(crate) fn may(
                &self,
                user: &User,
                action: Action,
                path: &Path,
                value: Option<&str>,
            ) -> Result<(), OpError> {
                may(user, Self::KIND, action, path, value, &self.am)?;
                Ok(())
            }

            /// The object `root/id`, or `NotFound`.
            #[allow(dead_code, reason = "not every document kind uses it")]
            pub(crate) fn find(
                &self,
                root: &str,
                id: &str,
                what: &'static str,
            ) -> Result<ObjId, OpError> {
                get_obj(&self.am, &self.root_map(root)?, id)
                    .ok_or_else(|| OpError::NotFound { what, id: id.to_owned() })
            }

            /// `AlreadyExists` when `parent` has `id`.
            #[allow(dead_code, reason = "not every document kind uses it")]
            pub(crate) fn absent(
                &self,
                parent: &ObjId,
                id: &str,
                what: &'static str,
            ) -> Result<(), OpError> {
                if has_key(&self.am, parent, id) {
                    Err(OpError::AlreadyExists { what, id: id.to_owned() })
                } else {
                    Ok(())
                }
            }

            /// The map `obj[key]` (an object's collection of children, such as a post's
            /// responses), or `NotFound { what, id: owner }`.
            #[allow(dead_code, reason = "not every document kind uses it")]
            pub(crate) fn child_map(
                &self,
                obj: &ObjId,
                key: &str,
                what: &'static str,
                owner: &str,
            ) -> Result<ObjId, OpError> {
                get_obj(&self.am, obj, key)
                    .ok_or_else(|| OpError::NotFound { what, id: owner.to_owned() })
            }

            /// Creates a child object for `user`: asks the permission table for
            /// [`Action::Create`] at `path`, whose last segment is the new object's key in
            /// `parent`, then writes it in one change with `author`, `created_at` and what
            /// `fill` adds. Callers check their preconditions (such as [`Self::absent`]) first.
            pub(crate) fn create_child(
                &mut self,
                user: &User,
                parent: &ObjId,
                path: &Path,
                now: i64,
                fill: impl FnOnce(&mut Transaction<'_>, &ObjId) -> Result<(), AutomergeError>,
            ) -> Result<(), OpError> {
                self.may(user, Action::Create, path, None)?;
                self.write_child(user, parent, path, now, fill)
            }

            /// Writes a status stamp for `user`: asks the permission table for
            /// [`Action::Create`] at `path`, whose last segment is the field of `obj`, checks
            /// `precondition` on the document as it is, then writes `now` there. Stamps are
            /// written once, so a merge can only move a status forward.
            #[allow(dead_code, reason = "not every document kind uses it")]
            pub(crate) fn stamp(
                &mut self,
                user: &User,
                obj: &ObjId,
                path: &Path,
                now: i64,
                precondition: impl FnOnce(&Automerge) -> Result<(), OpError>,
            ) -> Result<(), OpError> {
                self.may(user, Action::Create, path, None)?;
                precondition(&self.am)?;
                let key = path.segments().last().map_or("", String::as_str);
                self.write(now, |tx| tx.put(obj, key, now))
            }

            /// The writing half of [`Self::create_child`], for the operations that check
            /// something between asking the permission table and writing.
            pub(crate) fn write_child(
                &mut self,
                user: &User,
                parent: &ObjId,
                path: &Path,
                now: i64,
                fill: impl FnOnce(&mut Transaction<'_>, &ObjId) -> Result<(), AutomergeError>,
            ) -> Result<(), OpError> {
                let key = path.segments().last().map_or("", String::as_str);
                self.write(now, |tx| {
                    let o = new_object(tx, parent, key, user.id.as_str(), now)?;
                    fill(tx, &o)
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
    /// A resident's inbox: which conversations they take part in. See [`InboxDoc::new`].
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
        check_text("subject", subject, limits::TITLE, false)?;
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
