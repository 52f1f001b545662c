//! What the UI shows about the repo and its documents ([`RepoStatus`], [`DocStatus`]), and why
//! a document could not be opened ([`RepoError`]).

use sync::BadDocumentId;

use crate::StorageError;

/// What the UI shows about all open documents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoStatus {
    /// Connected to the server (handshake done).
    pub online: bool,
    /// Changes survive a reload: false where IndexedDB is unavailable and documents live in
    /// memory only.
    pub persistent: bool,
    /// Open documents with changes not yet stored on this device.
    pub unsaved: usize,
    /// Changes (over all open documents) the server is not known to have yet.
    pub waiting: usize,
    /// The last storage failure, until a write succeeds again.
    pub storage_error: Option<StorageError>,
}

impl RepoStatus {
    /// Every change is stored on this device.
    pub fn saved(&self) -> bool {
        self.persistent && self.unsaved == 0
    }

    /// The server has every change.
    pub fn synced(&self) -> bool {
        self.waiting == 0
    }
}

/// What the UI shows about one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocStatus {
    /// Every change is stored on this device.
    pub saved: bool,
    /// Changes the server is not known to have yet.
    pub waiting: usize,
    /// Neither this device nor the server has the document.
    pub unavailable: bool,
}

/// Why a document could not be opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    #[error(transparent)]
    BadUrl(#[from] BadDocumentId),
    #[error(transparent)]
    Storage(#[from] StorageError),
}
