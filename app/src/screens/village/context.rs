//! [`Village`]: what a village's tabs share (the open document, its id and name, the last
//! outcome to announce), and running an operation on the document.

use crate::docs::live_doc::LiveDoc;
use crate::docs::outcome::Notice;
use crate::docs::outcome::edit_error_text;
use crate::docs::village_doc;
use crate::docs::village_doc::EditError;
use crate::i18n::Lang;
use crate::repo::StoredView;
use leptos::prelude::*;
use leptos::task::spawn_local;
use model::OpError;
use model::VillageDoc;

/// What the village's tabs share: the open document, its id and name, and the last outcome
/// to announce.
#[derive(Clone, Copy)]
pub struct Village {
    pub doc: LiveDoc,
    /// The village's id (the URL's `:village`).
    pub id: Signal<String>,
    pub name: Signal<String>,
    /// The last outcome to announce (role="status") or error (role="alert").
    pub notice: RwSignal<Option<Notice>>,
    pub lang: RwSignal<Lang>,
    /// The help board's first page stored next to the document (see [`help::view`]), as read
    /// before the document loaded.
    pub preview: RwSignal<Option<StoredView>>,
}

impl Village {
    /// Runs a model operation on the document; `Ok` says what to announce. Field errors are
    /// handed to `on_error` so forms can show them next to the field.
    pub fn apply(
        self,
        op: impl FnOnce(&mut VillageDoc) -> Result<(), OpError> + 'static,
        done: String,
        on_error: impl FnOnce(&EditError) -> bool + 'static,
    ) {
        let Some(handle) = self.doc.handle.get_untracked() else {
            return;
        };
        let lang = self.lang;
        spawn_local(async move {
            // A storage failure keeps the edit in memory and shows in the status bar.
            let result = match handle
                .change(|am| village_doc::gate().and_then(|()| village_doc::edit(am, op)))
                .await
            {
                Ok(result) => result,
                Err(_) => Ok(()),
            };
            let notice = match result {
                Ok(()) => Notice::Done(done),
                Err(e) if on_error(&e) => return,
                Err(e) => Notice::Failed(edit_error_text(lang.get_untracked(), &e)),
            };
            self.notice.try_set(Some(notice));
        });
    }

    /// Reads the village's views (tracked); `None` until the document has arrived.
    pub fn read<R>(&self, f: impl FnOnce(&VillageDoc) -> R) -> Option<R> {
        self.doc.lend(|am| village_doc::read(am, f)).flatten()
    }
}

/// A board or agenda operation, boxed.
pub(crate) type Op = Box<dyn FnOnce(&mut VillageDoc) -> Result<(), OpError>>;

/// [`Village::apply`] with one type for every board and agenda operation and error handler,
/// so its (large, async) code is compiled once instead of once per call site (wasm size).
pub(crate) fn apply(
    ctx: Village,
    op: Op,
    done: String,
    on_error: Box<dyn FnOnce(&EditError) -> bool>,
) {
    ctx.apply(op, done, on_error);
}
