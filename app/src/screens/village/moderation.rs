//! Moderation in a village: a signed-in resident reports an item with a reason (kept privately
//! on the server, `POST /api/reports`); the village's area broker sees the open reports on the
//! tab `/dorp/:village/meldingen` and hides the item — with a reason that goes into the item's
//! moderation log in the village document, the audit trail every copy keeps — or dismisses the
//! report. Hidden items stay in the document's history but are not shown.

use crate::docs::me::Me;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::http::Failure;
use crate::platform::http::failure_of;
use crate::platform::http::failure_text;
use crate::platform::http::field;
use crate::platform::http::object;
use crate::platform::http::request;
use crate::platform::identity;
use crate::platform::session::Account;
use crate::route::{Page, VillageTab};
use crate::screens::village::context::Village;
use crate::ui::lazy::Lazy;
use crate::ui::lazy::Screen;

use js_sys::Array;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use model::{
    BoardPostId, CommentId, EventId, HelpPostId, InitiativeId, ModerationTarget, ResponseId, User,
    VillageDoc, VillageId,
};
use wasm_bindgen::{JsCast, JsValue};

/// Whether the resident is the broker of the village `id` names (tracked).
pub fn is_broker(id: Signal<String>, me: Memo<User>) -> Memo<bool> {
    Memo::new(move |_| VillageId::new(id.get()).is_ok_and(|v| me.with(|u| u.is_broker_of(&v))))
}

/// The path a report names, as the model's target.
fn target_of(path: &str) -> Option<ModerationTarget> {
    let segs: Vec<&str> = path.split('/').collect();
    Some(match segs.as_slice() {
        ["help_posts", p] => ModerationTarget::HelpPost(HelpPostId::new(*p).ok()?),
        ["help_posts", p, "responses", r] => {
            ModerationTarget::Response(HelpPostId::new(*p).ok()?, ResponseId::new(*r).ok()?)
        }
        ["board", b] => ModerationTarget::BoardPost(BoardPostId::new(*b).ok()?),
        ["board", b, "comments", c] => {
            ModerationTarget::Comment(BoardPostId::new(*b).ok()?, CommentId::new(*c).ok()?)
        }
        ["events", e] => ModerationTarget::Event(EventId::new(*e).ok()?),
        ["initiatives", i] => ModerationTarget::Initiative(InitiativeId::new(*i).ok()?),
        _ => return None,
    })
}

/// Hides `target` as the broker `user`, logging `reason`; announces the outcome.
fn hide(
    ctx: Village,
    user: User,
    target: ModerationTarget,
    reason: String,
    after: impl FnOnce() + 'static,
) {
    let lang = ctx.lang.get_untracked();
    let now = identity::now();
    let after = std::cell::Cell::new(Some(after));
    ctx.apply(
        move |d| {
            let r = d.hide_for_moderation(&user, &target, true, &reason, now);
            if r.is_ok()
                && let Some(after) = after.take()
            {
                after();
            }
            r
        },
        t(lang, Text::ModerateDone).to_owned(),
        |_| false,
    );
}

/// What the lazily loaded form under one item works on (a context, since a split screen takes
/// no props).
#[derive(Debug, Clone)]
struct Item {
    target: ModerationTarget,
    path: String,
    id: String,
    broker: Memo<bool>,
    open: RwSignal<bool>,
}

/// Under an item: for the village's broker a control to hide it with a reason; for a signed-in
/// resident one to report it; nothing for a reader who is not signed in. Only the summary is in
/// the core: the form is in the `moderation` split module ([`ModerateForm`]), fetched when the
/// control is first opened (like a lazy screen: offline, it is there once the service worker
/// holds it, see app/src/lazy.rs).
#[component]
pub fn Moderate(target: ModerationTarget, path: String, #[prop(into)] id: String) -> impl IntoView {
    let ctx = expect_context::<Village>();
    let me = expect_context::<Me>().0;
    let account = expect_context::<Account>();
    let lang = ctx.lang;
    let broker = is_broker(ctx.id, me);
    let shown = Memo::new(move |_| broker.get() || account.0.with(Option::is_some));
    let open = RwSignal::new(false);
    // Rendered at the first opening and kept, so a reason typed survives closing the control.
    let opened = RwSignal::new(false);
    let item = Item {
        target,
        path,
        id,
        broker,
        open,
    };
    view! {
        <details class="moderate" hidden=move || !shown.get()
            prop:open=move || open.get() on:toggle=move |ev| {
                if let Some(d) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok()) {
                    open.set(d.open());
                    if d.open() && !opened.get_untracked() {
                        opened.set(true);
                    }
                }
            }
            data-testid="moderate">
            <summary>{move || t(lang.get(), if broker.get() { Text::ModerateSummary } else { Text::ReportSummary })}</summary>
            {move || opened.get().then(|| view! {
                <leptos::context::Provider value=item.clone()>
                    <Lazy screen=Screen::ModerateForm />
                </leptos::context::Provider>
            })}
        </details>
    }
}

/// The form inside [`Moderate`]: the broker hides the item with a reason, a resident reports it.
#[component]
pub fn ModerateForm() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let me = expect_context::<Me>().0;
    let lang = ctx.lang;
    let Item {
        target,
        path,
        id,
        broker,
        open,
    } = expect_context::<Item>();
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let field_id = format!("moderate-{id}");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let lang_now = lang.get_untracked();
        let why = reason.get_untracked();
        if why.trim().is_empty() {
            error.set(Some(t(lang_now, Text::ModerateReasonMissing).to_owned()));
            return;
        }
        error.set(None);
        if broker.get_untracked() {
            hide(ctx, me.get_untracked(), target.clone(), why, move || {
                open.try_set(false);
            });
            return;
        }
        let (village, path) = (ctx.id.get_untracked(), path.clone());
        spawn_local(async move {
            let body = object(&[("village", &village), ("target", &path), ("reason", &why)]);
            let outcome = match request("POST", "/api/reports", Some(body)).await {
                Ok((status, _)) if (200..300).contains(&status) => Ok(()),
                Ok((status, body)) => Err(failure_of(status, &body)),
                Err(f) => Err(f),
            };
            match outcome {
                Ok(()) => {
                    reason.try_set(String::new());
                    open.try_set(false);
                    ctx.notice.try_set(Some(crate::docs::outcome::Notice::Done(
                        t(lang_now, Text::ReportSent).to_owned(),
                    )));
                }
                Err(Failure::Code(code)) if code == "already_reported" => {
                    error.try_set(Some(t(lang_now, Text::ReportAlready).to_owned()));
                }
                Err(f) => {
                    error.try_set(Some(failure_text(lang_now, &f).to_owned()));
                }
            }
        });
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            <label for=field_id.clone()>
                {move || t(lang.get(), if broker.get() { Text::ModerateReasonLabel } else { Text::ReportReasonLabel })}
            </label>
            <input id=field_id.clone() type="text" maxlength="2000"
                aria-describedby=format!("{field_id}-error")
                prop:value=move || reason.get()
                on:input=move |ev| reason.set(event_target_value(&ev)) />
            <p class="field-error" id=format!("{field_id}-error")>{move || error.get()}</p>
            <button type="submit">
                {move || t(lang.get(), if broker.get() { Text::ModerateButton } else { Text::ReportButton })}
            </button>
        </form>
    }
}

/// An open report as the broker's tab shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OpenReport {
    id: i64,
    target: String,
    reason: String,
    reporter: String,
}

fn reports_from(body: &JsValue) -> Vec<OpenReport> {
    let Some(list) = field(body, "reports").filter(Array::is_array) else {
        return Vec::new();
    };
    list.unchecked_into::<Array>()
        .iter()
        .filter_map(|r| {
            Some(OpenReport {
                id: field(&r, "id")?.as_f64()? as i64,
                target: field(&r, "target")?.as_string()?,
                reason: field(&r, "reason")?.as_string()?,
                reporter: field(&r, "reporter")?.as_string()?,
            })
        })
        .collect()
}

/// What a report is about, read from the village document: the item's title or text.
fn describe(doc: &VillageDoc, target: &str) -> Option<String> {
    let segs: Vec<&str> = target.split('/').collect();
    match segs.as_slice() {
        ["help_posts", p] => doc.help_post(p).map(|p| p.title),
        ["help_posts", p, "responses", r] => doc
            .help_post(p)?
            .responses
            .into_iter()
            .find(|x| x.id == *r)
            .map(|x| x.message),
        ["board", b] => doc.board().into_iter().find(|x| x.id == *b).map(|x| x.body),
        _ => None,
    }
}

/// `/dorp/:village/meldingen`: the open reports of the village, for its broker.
#[component]
pub fn ReportsTab() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let me = expect_context::<Me>().0;
    let lang = ctx.lang;
    let broker = is_broker(ctx.id, me);
    let reports = RwSignal::new(Vec::<OpenReport>::new());
    let failure = RwSignal::new(None::<Failure>);
    let loading = RwSignal::new(true);
    let load = move || {
        let village = ctx.id.get_untracked();
        spawn_local(async move {
            let url = format!("/api/reports?village={village}");
            match request("GET", &url, None).await {
                Ok((200, body)) => {
                    reports.try_set(reports_from(&body));
                    failure.try_set(None);
                }
                Ok((status, body)) => {
                    failure.try_set(Some(failure_of(status, &body)));
                }
                Err(f) => {
                    failure.try_set(Some(f));
                }
            }
            loading.try_set(false);
        });
    };
    load();
    let resolve = move |id: i64, hidden: bool| {
        spawn_local(async move {
            let body = object(&[("resolution", if hidden { "hidden" } else { "dismissed" })]);
            let url = format!("/api/reports/{id}/resolve");
            if let Ok((status, _)) = request("POST", &url, Some(body)).await
                && (200..300).contains(&status)
            {
                reports.try_update(|rs| rs.retain(|r| r.id != id));
            } else {
                failure.try_set(Some(Failure::Offline));
            }
        });
    };

    view! {
        <section aria-labelledby="reports-heading">
            <h2 id="reports-heading">{tr(lang, Text::ReportsHeading)}</h2>
            <p hidden=move || broker.get()>{tr(lang, Text::ReportsOnlyBroker)}</p>
            <p class="muted" role="status">
                {move || {
                    let n = reports.with(Vec::len);
                    (!loading.get()).then(|| tf(lang.get(), Text::ReportsCount, &[("count", &n.to_string())]))
                }}
            </p>
            <p class="field-error" role="alert">
                {move || failure.with(|f| f.as_ref().map(|f| failure_text(lang.get(), f)))}
            </p>
            <ul class="cards" data-testid="reports">
                <For
                    each=move || reports.get()
                    key=|r| r.id
                    children=move |r: OpenReport| {
                        let what = ctx.read(|d| describe(d, &r.target)).flatten();
                        let reporter = ctx
                            .read(|d| d.display_name(&r.reporter))
                            .flatten()
                            .unwrap_or_else(|| t(lang.get_untracked(), Text::ByNeighbourShort).to_owned());
                        let target = target_of(&r.target);
                        let (id, reason) = (r.id, r.reason.clone());
                        let hide_it = move |_| {
                            let Some(target) = target.clone() else { return };
                            hide(ctx, me.get_untracked(), target, reason.clone(), move || resolve(id, true));
                        };
                        view! {
                            <li class="card" data-testid="report">
                                <p><strong>{what.unwrap_or_else(|| r.target.clone())}</strong></p>
                                <p>{move || tf(lang.get(), Text::ReportBy, &[("name", &reporter), ("reason", &r.reason)])}</p>
                                <p class="actions">
                                    <button type="button" class="primary" on:click=hide_it>{tr(lang, Text::ModerateButton)}</button>
                                    " "
                                    <button type="button" on:click=move |_| resolve(id, false)>{tr(lang, Text::ReportDismiss)}</button>
                                </p>
                            </li>
                        }
                    }
                />
            </ul>
            <p><A href=move || Page::village(ctx.id.get(), VillageTab::Board).href()>{tr(lang, Text::TabBoard)}</A></p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_paths_name_model_targets() {
        assert!(matches!(
            target_of("board/b1"),
            Some(ModerationTarget::BoardPost(_))
        ));
        assert!(matches!(
            target_of("help_posts/p1/responses/r1"),
            Some(ModerationTarget::Response(..))
        ));
        assert_eq!(target_of("volunteers/u1"), None);
        assert_eq!(target_of("board"), None);
    }
}
