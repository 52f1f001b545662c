//! When the server refuses a change of the resident's (a role taken away while the device was
//! offline, an edit the rules do not allow): say so, and recover the document — the server's
//! copy with the resident's other edits on top, judged by the same rules the server applies
//! (see `repo::DocHandle::recover`).
//!
//! Refusals are rare, so the recovery's code (the rebuild and the model's validator) is a
//! split wasm module of its own, fetched when one happens (the server is reachable then).
//!
//! # The whole path
//! Recovering from a refused change (the device's rules and the server's can disagree: a role
//! taken away while the device was offline, an actor the server does not know): the client's
//! `Repo::on_refused` hears the server's `error` as a `sync::Refusal`; the app (`docs::sync_state`, the
//! `RefusedNotice` alert) shows it and calls `DocHandle::recover`, which (`repo/rebase.rs`)
//! rebuilds the document from the heads the server is known to have, leaves out the change the
//! server named, applies the device's other changes as they were where they do not build on a
//! left-out one, and otherwise makes them again as new operations by this page load's actor
//! (values under the same keys of the same objects, characters after the same characters, deletes
//! of what is still there), each judged by `model::validate_incoming` with the resident's roles
//! (`refusal::allowed_by_rules`). Storage then holds one snapshot of the rebuilt document in
//! place of every chunk, and each left-out change under `[docId, "refused", hash]` (a kind the
//! loaders skip), in the same transaction: what was typed is kept on the device, not shown and
//! not sent. From the refusal until the rebuild the document is paused (a reconnect syncs the
//! other documents, not it: the same changes would only be refused again); the rebuilt one then
//! syncs afresh on whatever connection is open. Each refusal leaves out at least the named
//! change, so a chain of them ends. Tested natively against the real server
//! (`app/tests/server_sync.rs`), in `repo/rebase.rs`'s unit tests, and end to end
//! (`tests/e2e/refused.spec.js`: an admin role revoked while offline).

use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::repo::Repo;

use automerge::{Automerge, ROOT, ReadDoc, Value};
use leptos::prelude::*;
use model::DocKind;
use sync::Refusal;

/// Recovers every document the server refuses changes to, and puts the refusal in `refused`
/// for [`RefusedNotice`].
pub(crate) fn watch(
    repo: &Repo,
    refused: RwSignal<Option<Refusal>>,
    me: StoredValue<Option<Memo<model::User>>>,
) {
    let recovering = repo.clone();
    repo.on_refused(move |refusal| {
        refused.try_set(Some(refusal.clone()));
        let (repo, refusal) = (recovering.clone(), refusal.clone());
        let user = me
            .try_get_value()
            .flatten()
            .map(|me| me.get_untracked())
            .unwrap_or_else(identity::current_user);
        leptos::task::spawn_local(async move {
            // Not recovered if the module cannot be fetched: the next connection is refused
            // again and tries again.
            let _ = recover(repo, refusal, user, js_sys::Date::now() as i64).await;
        });
    })
    .detach();
}

/// A module that could not be fetched.
#[derive(Debug)]
struct LoadError;

#[cfg(wasm_split)]
impl From<leptos::wasm_split::SplitLoaderError> for LoadError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        LoadError
    }
}

type Recovering = std::pin::Pin<Box<dyn Future<Output = ()>>>;

/// Rebuilds the refused document (in the `recovery` module when the wasm is split).
#[cfg_attr(
    wasm_split,
    leptos::wasm_split::wasm_split(recovery, wasm_split_path = ::leptos::wasm_split, fallible)
)]
fn start_recovery(
    repo: Repo,
    refusal: Refusal,
    user: model::User,
    now: i64,
) -> Result<Recovering, LoadError> {
    Ok(Box::pin(async move {
        let Some(handle) = repo.open_handle(refusal.document_id) else {
            return;
        };
        // A storage failure shows in the status bar; the rebuilt document is in memory.
        let _ = handle
            .recover(&refusal, |doc, before| {
                allowed_by_rules(doc, before, &user, now)
            })
            .await;
    }))
}

/// Whether the changes `doc` has beyond `before` keep the model's rules for `user` at time
/// `now` (milliseconds) — what the server checks before it takes them. For recovering after the
/// server refused a change: what the rules refuse is left out, the rest kept. A document whose
/// kind is unknown has no rules to judge by here.
fn allowed_by_rules(
    doc: &Automerge,
    before: &[automerge::ChangeHash],
    user: &model::User,
    now: i64,
) -> bool {
    let kind = match doc.get(ROOT, model::schema::KEY_KIND) {
        Ok(Some((Value::Scalar(s), _))) => s.as_str().and_then(DocKind::from_name),
        _ => None,
    };
    match kind {
        Some(kind) => model::validate_incoming(doc, before, kind, user, now).is_ok(),
        None => true,
    }
}

async fn recover(
    repo: Repo,
    refusal: Refusal,
    user: model::User,
    now: i64,
) -> Result<(), LoadError> {
    #[cfg(wasm_split)]
    let recovering = start_recovery(repo, refusal, user, now).await?;
    #[cfg(not(wasm_split))]
    let recovering = start_recovery(repo, refusal, user, now)?;
    recovering.await;
    Ok(())
}

/// Says, as an alert, that the server refused a change of the resident's and that it was
/// undone while their other changes stay; the server's own words are behind "details".
#[component]
pub(crate) fn RefusedNotice(refused: RwSignal<Option<Refusal>>) -> impl IntoView {
    let lang = use_lang();
    let message = move || {
        refused.with(|r| {
            r.as_ref().map(|r| {
                let gist = if r.reason.contains("sign in") || r.reason.contains("not registered") {
                    Text::RefusedSignIn
                } else {
                    Text::RefusedNotAllowed
                };
                (
                    tf(
                        lang.get(),
                        Text::Refused,
                        &[("reason", t(lang.get(), gist))],
                    ),
                    r.reason.clone(),
                )
            })
        })
    };
    view! {
        <div role="alert" data-testid="refused">
            {move || {
                message()
                    .map(|(text, reason)| {
                        view! {
                            <div class="error-line refused">
                                <p>{text}</p>
                                <details>
                                    <summary>{tr(lang, Text::RefusedDetails)}</summary>
                                    <p lang="en">{reason}</p>
                                </details>
                                <button
                                    type="button"
                                    data-testid="refused-dismiss"
                                    on:click=move |_| refused.set(None)
                                >
                                    {tr(lang, Text::Dismiss)}
                                </button>
                            </div>
                        }
                    })
            }}
        </div>
    }
}
