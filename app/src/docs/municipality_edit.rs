//! [`Municipality`]'s edits: running an operation on the municipality document and announcing
//! its outcome.

use crate::docs::municipality_doc;
use crate::docs::municipality_doc::Municipality;
use crate::docs::outcome::Notice;
use crate::docs::outcome::error_text;
use crate::docs::village_doc;
use crate::docs::village_doc::EditError;
use crate::i18n::Text;
use crate::i18n::t;
use crate::platform::language::use_lang;
use leptos::prelude::*;
use leptos::task::spawn_local;
use model::MunicipalityDoc;
use model::OpError;

impl Municipality {
    /// Runs a model operation on the municipality document and announces the outcome in
    /// `notice`; field errors go to `on_error` (return `true` when it showed them).
    pub fn apply(
        self,
        op: impl FnOnce(&mut MunicipalityDoc) -> Result<(), OpError> + 'static,
        done: String,
        notice: RwSignal<Option<Notice>>,
        on_error: impl FnOnce(&EditError) -> bool + 'static,
    ) {
        // One compiled copy of the asynchronous part for every caller (wasm size).
        self.apply_boxed(Box::new(op), done, notice, Box::new(on_error));
    }

    #[allow(clippy::type_complexity)]
    fn apply_boxed(
        self,
        op: Box<dyn FnOnce(&mut MunicipalityDoc) -> Result<(), OpError>>,
        done: String,
        notice: RwSignal<Option<Notice>>,
        on_error: Box<dyn FnOnce(&EditError) -> bool>,
    ) {
        let lang = use_lang();
        notice.set(None);
        let Some(handle) = self.0.handle.get_untracked() else {
            notice.set(Some(Notice::Failed(
                t(lang.get_untracked(), Text::MuniNotLoaded).to_owned(),
            )));
            return;
        };
        spawn_local(async move {
            // A storage failure keeps the edit in memory and shows in the status bar.
            let result = handle
                .change(|am| village_doc::gate().and_then(|()| municipality_doc::edit(am, op)))
                .await
                .unwrap_or(Ok(()));
            let next = match result {
                Ok(()) => Notice::Done(done),
                Err(e) if on_error(&e) => return,
                Err(e) => Notice::Failed(error_text(lang.get_untracked(), &e)),
            };
            notice.try_set(Some(next));
        });
    }
}
