//! The board's first page as a view stored next to the village's document
//! ([`crate::repo::DocHandle::store_view`]), per resident (it marks the posts they responded
//! to). Written a moment after each time the app stored the document (whichever tab or screen
//! keeps it open), and once after opening it when the stored view is not of the stored chunks;
//! read in the same IndexedDB read as the chunks, and painted before the document loads.
//! Nothing is ever written to the document from it.
//!
//! # How it is stored and read
//! Paint before the document has loaded: next to a village's document, in the same IndexedDB
//! store under `[docId, "view", "help-board.<layout>.<user>"]` (a kind automerge-repo's loaders
//! skip), the app keeps the help board's first page per resident (this module), recorded with
//! the keys of the chunks it was computed from. It is written a second after each time the app
//! stored the document (any tab of the village, or a followed village the Ik screen keeps open;
//! `DocHandle::on_saved`, `DocHandle::store_view`, only while everything is stored) and once
//! after opening when the stored one is not of the stored chunks. `Repo::find_with_view` reads
//! chunks and views in one read and hands the view out before loading the document; the village
//! page paints it read-only and lets the browser draw it, then loads. Chunk keys name their
//! content, so when the stored chunks are the view's, the view is the document's state exactly;
//! otherwise (another tab or a sync stored more since) it is the resident's last visit and says
//! "bijwerken…". Either way the live board replaces it, and nothing is ever written to a document
//! from a view.

use crate::docs::help_board::PAGE;
use crate::platform::identity;
use crate::repo::DocHandle;
use leptos::task::spawn_local;

use std::{cell::RefCell, collections::BTreeSet, rc::Rc};

use sync::DocumentId;

use super::*;

/// How long after the last store the view is written: a burst of changes (a sync, typing
/// posts) makes one view, computed when the app is idle.
const DELAY_MS: i32 = 1_000;

/// The view's name for `user`; the number changes with the layout below, so a view of an
/// older layout is not read.
pub fn name(user: &str) -> String {
    format!("help-board.1.{user}")
}

thread_local! {
    static KEPT: RefCell<BTreeSet<DocumentId>> = const { RefCell::new(BTreeSet::new()) };
}

/// Keeps the view of the village document `handle` up to date for as long as the app runs
/// (once per document, however many screens hold it).
pub fn keep(handle: DocHandle) {
    if !KEPT.with_borrow_mut(|kept| kept.insert(handle.id())) {
        return;
    }
    let pending = Rc::new(std::cell::Cell::new(0u64));
    let schedule = {
        let handle = handle.clone();
        move || {
            let turn = pending.get() + 1;
            pending.set(turn);
            let (handle, pending) = (handle.clone(), pending.clone());
            spawn_local(async move {
                crate::platform::browser::sleep(DELAY_MS).await;
                if pending.get() == turn {
                    write(&handle).await;
                }
            });
        }
    };
    let user = identity::current_user().id.as_str().to_owned();
    if !handle.has_current_view(&name(&user)) {
        schedule();
    }
    handle.on_saved(schedule).detach();
}

async fn write(handle: &DocHandle) {
    let me = identity::current_user().id.as_str().to_owned();
    // A failure leaves the older view, which then reads as not exact.
    let _ = handle
        .store_view(&name(&me), |am| {
            village_doc::read(am, |d| {
                crate::docs::help_board::encode(&crate::docs::help_board::help_board(
                    d, &me, None, PAGE,
                ))
            })
        })
        .await;
}
