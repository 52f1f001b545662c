//! What the initiative screens share: association names, who may do what, the views of an
//! initiative and its needs, and running an operation with a report of what came of it.

use crate::docs::municipality_doc::Municipality;
use crate::docs::outcome::Notice;
use crate::docs::outcome::edit_error_text;
use crate::docs::village_doc;
use crate::docs::village_doc::EditError;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::screens::village::context::Village;

use leptos::{prelude::*, task::spawn_local};
use model::{InitiativeStatus, InitiativeView, OpError, User, VillageDoc};

/// Association id → name, from the municipality document (one read for a whole screen).
pub(crate) fn association_names() -> Memo<Vec<(String, String)>> {
    let municipality = expect_context::<Municipality>();
    Memo::new(move |_| {
        municipality
            .read(|m| {
                m.associations()
                    .into_iter()
                    .map(|a| (a.id, a.name))
                    .collect()
            })
            .unwrap_or_default()
    })
}

pub(crate) fn name_of(names: &[(String, String)], id: &str) -> String {
    names
        .iter()
        .find(|(a, _)| a == id)
        .map_or_else(|| id.to_owned(), |(_, n)| n.clone())
}

/// A resident as others see them: "you", their display name, or "a neighbour".
pub(crate) fn person(lang: Lang, me: &str, id: &str, name: Option<&str>) -> String {
    match name {
        _ if id == me => t(lang, Text::You).to_owned(),
        Some(name) => name.to_owned(),
        None => t(lang, Text::ANeighbour).to_owned(),
    }
}

pub(crate) fn admin_of(user: &User, association: &str) -> bool {
    user.roles
        .admin_of
        .iter()
        .any(|a| a.as_str() == association)
}

/// The initiative's author or an admin of its lead association: starts and completes it.
pub(crate) fn leads(user: &User, author: &str, lead: Option<&str>) -> bool {
    author == user.id.as_str() || lead.is_some_and(|l| admin_of(user, l))
}

/// Who may edit the plan, add needs and post updates (the model's rule for those paths).
pub(crate) fn may_edit(user: &User, author: &str, lead: Option<&str>, partners: &[String]) -> bool {
    leads(user, author, lead) || partners.iter().any(|p| admin_of(user, p))
}

/// A need as a screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct NeedItem {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) filled_by: Option<String>,
    /// The filler's display name, if they set one.
    pub(crate) filler_name: Option<String>,
}

pub(crate) fn need_items(doc: &VillageDoc, i: &InitiativeView) -> Vec<NeedItem> {
    i.needs
        .iter()
        .map(|n| NeedItem {
            id: n.id.clone(),
            title: n.title.clone(),
            filler_name: n.filled_by.as_deref().and_then(|u| doc.display_name(u)),
            filled_by: n.filled_by.clone(),
        })
        .collect()
}

/// Runs `op` on the village document like [`Village::apply`]; a field error goes to `report`
/// (to show next to the field), success empties the field (`report(None)`) and is announced.
pub(crate) fn apply_with_report(
    ctx: Village,
    op: impl FnOnce(&mut VillageDoc) -> Result<(), OpError> + 'static,
    done: String,
    report: Box<dyn FnOnce(Option<String>)>,
) {
    let Some(handle) = ctx.doc.handle.get_untracked() else {
        return;
    };
    let lang = ctx.lang.get_untracked();
    ctx.notice.set(None);
    spawn_local(async move {
        // A storage failure keeps the edit in memory and shows in the status bar.
        let result = handle
            .change(|am| village_doc::gate().and_then(|()| village_doc::edit(am, op)))
            .await
            .unwrap_or(Ok(()));
        let notice = match result {
            Ok(()) => {
                report(None);
                Notice::Done(done)
            }
            Err(e @ EditError::Op(OpError::EmptyText { .. } | OpError::TextTooLong { .. })) => {
                report(Some(edit_error_text(lang, &e)));
                return;
            }
            Err(e) => Notice::Failed(edit_error_text(lang, &e)),
        };
        ctx.notice.try_set(Some(notice));
    });
}

// ---- the tab ----------------------------------------------------------------------------------

/// An initiative as the tab's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Item {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) status: InitiativeStatus,
    pub(crate) author: String,
    pub(crate) author_name: Option<String>,
    pub(crate) lead: Option<String>,
    pub(crate) partners: Vec<String>,
    pub(crate) needs: Vec<NeedItem>,
}

pub(crate) fn items(doc: &VillageDoc) -> Vec<Item> {
    let mut list: Vec<InitiativeView> = doc
        .initiatives()
        .into_iter()
        .filter(|i| !i.hidden)
        .collect();
    let rank = |s: InitiativeStatus| match s {
        InitiativeStatus::Running => 0,
        InitiativeStatus::Idea => 1,
        InitiativeStatus::Done => 2,
    };
    list.sort_by(|a, b| {
        (rank(a.status), b.created_at, &a.id).cmp(&(rank(b.status), a.created_at, &b.id))
    });
    list.into_iter()
        .map(|i| Item {
            needs: need_items(doc, &i),
            author_name: doc.display_name(&i.author),
            id: i.id,
            title: i.title,
            status: i.status,
            author: i.author,
            lead: i.lead_association,
            partners: i.partners,
        })
        .collect()
}
