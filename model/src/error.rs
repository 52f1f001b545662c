//! Errors of the typed operations and of opening documents, and [`check_text`], the text rule
//! every operation (and the seed) applies.

use crate::permission::Denied;

/// Why a typed operation refused to write. Nothing was written when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The permission table does not allow it.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// A required text field is empty or only whitespace.
    #[error("`{field}` must not be empty")]
    EmptyText {
        /// The field.
        field: &'static str,
    },
    /// A text field is over its limit.
    #[error("`{field}` has {len} bytes, at most {max} are allowed")]
    TextTooLong {
        /// The field.
        field: &'static str,
        /// The limit.
        max: usize,
        /// The length given.
        len: usize,
    },
    /// The object the operation is about does not exist.
    #[error("no {what} with id `{id}`")]
    NotFound {
        /// Kind of object.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// An object with this id already exists.
    #[error("a {what} with id `{id}` already exists")]
    AlreadyExists {
        /// Kind of object.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The object's status does not allow the operation (e.g. responding to a withdrawn request).
    #[error("the {what} is {status}, so this is not possible")]
    WrongStatus {
        /// Kind of object.
        what: &'static str,
        /// Its current status.
        status: &'static str,
    },
    /// The object is hidden by a moderator.
    #[error("the {what} is hidden by a moderator")]
    Hidden {
        /// Kind of object.
        what: &'static str,
    },
    /// Responding to, or signing up for, your own post or event.
    #[error("you cannot respond to your own post")]
    OwnPost,
    /// The user already responded to this help post.
    #[error("you already responded to this post")]
    AlreadyResponded,
    /// The user already signed up for this event.
    #[error("you already signed up for this event")]
    AlreadySignedUp,
    /// The user is not signed up for this event.
    #[error("you are not signed up for this event")]
    NotSignedUp,
    /// The event has as many volunteers as it asked for.
    #[error("the event needs no more volunteers")]
    EventFull,
    /// The need already has someone filling it.
    #[error("this need is already filled")]
    NeedAlreadyFilled,
    /// The association is already a partner (or the lead) of the initiative.
    #[error("the association already takes part in this initiative")]
    AlreadyPartner,
    /// A time window whose end lies before its start.
    #[error("the end ({end}) lies before the start ({start})")]
    BadTimeWindow {
        /// Start, ms since the epoch.
        start: i64,
        /// End, ms since the epoch.
        end: i64,
    },
    /// A number outside its range.
    #[error("`{field}` must be between {min} and {max}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// The consultation no longer takes responses.
    #[error("the consultation closed")]
    ConsultationClosed,
    /// The outcome of a consultation can only be published once it closed.
    #[error("the consultation is still open")]
    ConsultationStillOpen,
    /// A village that the municipality does not have.
    #[error("unknown village `{0}`")]
    UnknownVillage(String),
    /// The document needs [`crate::VillageDoc::migrate`] (or its siblings) before it can be written.
    #[error("the document has schema version {found}; this build writes {expected}")]
    OutdatedSchema {
        /// Version in the document.
        found: u64,
        /// [`crate::SCHEMA_VERSION`].
        expected: u64,
    },
    /// Automerge refused (only on a malformed document).
    #[error("automerge: {0}")]
    Automerge(String),
}

impl From<automerge::AutomergeError> for OpError {
    fn from(e: automerge::AutomergeError) -> Self {
        OpError::Automerge(e.to_string())
    }
}

/// Why bytes or an Automerge document are not a usable document of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The bytes are not an Automerge document.
    #[error("not an automerge document: {0}")]
    Load(String),
    /// The document is of another kind.
    #[error("expected a {expected} document, found {found:?}")]
    WrongKind {
        /// Kind expected.
        expected: &'static str,
        /// Kind found, if any.
        found: Option<String>,
    },
    /// Written by a newer build; this one must not touch it.
    #[error("the document has schema version {found}; this build knows up to {supported}")]
    NewerVersion {
        /// Version in the document.
        found: u64,
        /// [`crate::SCHEMA_VERSION`].
        supported: u64,
    },
}

/// Checks a text field: trimmed non-empty (when `required`) and at most `max` bytes (UTF-8), the
/// same measure the validator applies to every change.
pub(crate) fn check_text(
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<(), OpError> {
    if required && value.trim().is_empty() {
        return Err(OpError::EmptyText { field });
    }
    let len = value.len();
    if len > max {
        return Err(OpError::TextTooLong { field, max, len });
    }
    Ok(())
}
