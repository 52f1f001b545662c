//! [`InviteMaker`]: a form that makes a one-time invite link and shows it with a copy button
//! (an association's page, a broker's Ik).

use crate::i18n::t;
use crate::i18n::tr;
use crate::platform::http::failure_of;
use crate::platform::http::failure_text;
use wasm_bindgen::JsCast;

use crate::i18n::Text;
use crate::platform::http::Failure;
use crate::platform::http::field;
use crate::platform::http::object;
use crate::platform::http::request;
use crate::platform::language::use_lang;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;

/// A form that makes an invite link for `target` (one of `kinds`, chosen with radio buttons
/// when there are several) and shows it with a copy button. `children` are extra fields
/// before the button (the broker's village).
#[component]
pub fn InviteMaker(
    /// The heading's text.
    heading: Text,
    /// The roles to choose from (`kind` as the server names it, label); the first is chosen.
    kinds: &'static [(&'static str, Text)],
    /// The association or village the link is for.
    #[prop(into)]
    target: Signal<String>,
    /// Prefix of the form's element ids (unique on the page).
    id: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let lang = use_lang();
    let kind = RwSignal::new(kinds[0].0);
    let link = RwSignal::new(None::<String>);
    let copied = RwSignal::new(None::<Text>);
    let failure = RwSignal::new(None::<Failure>);
    let busy = RwSignal::new(false);
    let make = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        failure.set(None);
        copied.set(None);
        link.set(None);
        let body = object(&[
            ("kind", kind.get_untracked()),
            ("target", &target.get_untracked()),
        ]);
        spawn_local(async move {
            let answer = request("POST", "/api/invites", Some(body)).await;
            busy.try_set(false);
            match answer {
                Ok((201, body)) => {
                    let origin = web_sys::window()
                        .and_then(|w| w.location().origin().ok())
                        .unwrap_or_default();
                    let path = field(&body, "url").and_then(|u| u.as_string());
                    match path {
                        Some(path) => {
                            link.try_set(Some(format!("{origin}{path}")));
                        }
                        None => {
                            failure.try_set(Some(Failure::Code("invalid_invite".into())));
                        }
                    }
                }
                Ok((status, body)) => {
                    failure.try_set(Some(failure_of(status, &body)));
                }
                Err(f) => {
                    failure.try_set(Some(f));
                }
            }
        });
    };
    let (link_id, link_for) = (format!("{id}-link"), format!("{id}-link"));
    let copy = move |_| {
        let Some(text) = link.get_untracked() else {
            return;
        };
        let link_id = format!("{id}-link");
        spawn_local(async move {
            let done = copy_text(&text).await;
            if !done {
                // Leave the link selected, so copying it by hand is one step.
                select(&link_id);
            }
            copied.try_set(Some(if done {
                Text::InviteCopied
            } else {
                Text::InviteCopyFailed
            }));
        });
    };
    let radios = (kinds.len() > 1).then(|| {
        let name = format!("{id}-kind");
        view! {
            <fieldset class="choices">
                <legend>{tr(lang, Text::InviteAsLegend)}</legend>
                {kinds
                    .iter()
                    .map(|&(k, label)| {
                        view! {
                            <label class="choice">
                                <input type="radio" name=name.clone() value=k
                                    prop:checked=move || kind.get() == k
                                    on:change=move |_| kind.set(k) />
                                <span>{tr(lang, label)}</span>
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
        }
    });
    let (heading_id, labelled_by) = (format!("{id}-heading"), format!("{id}-heading"));
    view! {
        <section class="card" aria-labelledby=labelled_by data-testid="invite-maker">
            <h2 id=heading_id>{tr(lang, heading)}</h2>
            <p class="muted">{tr(lang, Text::InviteMakeIntro)}</p>
            <form class="form" on:submit=make novalidate>
                {radios}
                {children.map(|c| c())}
                <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>
                    {tr(lang, Text::InviteMakeButton)}
                </button>
            </form>
            <div class="field" hidden=move || link.with(Option::is_none)>
                <label for=link_for>{tr(lang, Text::InviteLinkLabel)}</label>
                <input id=link_id type="text" readonly data-testid="invite-link"
                    prop:value=move || link.get().unwrap_or_default() />
                <button type="button" on:click=copy>{tr(lang, Text::InviteCopy)}</button>
            </div>
            <p class="notice-line" role="status">{move || copied.get().map(|c| t(lang.get(), c))}</p>
            <p class="field-error" role="alert" data-testid="invite-maker-error">
                {move || failure.with(|f| f.as_ref().map(|f| failure_text(lang.get(), f)))}
            </p>
        </section>
    }
}

/// `navigator.clipboard.writeText(text)`; whether it worked (it needs a secure context and
/// the page's focus).
async fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = js_sys::Reflect::get(&window.navigator(), &"clipboard".into())
        .ok()
        .filter(|c| c.is_object());
    let Some(clipboard) = clipboard else {
        return false;
    };
    let Ok(write) = js_sys::Reflect::get(&clipboard, &"writeText".into())
        .and_then(|f| f.dyn_into::<js_sys::Function>())
    else {
        return false;
    };
    let Ok(promise) = write
        .call1(&clipboard, &JsValue::from_str(text))
        .and_then(|p| p.dyn_into::<js_sys::Promise>())
    else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// Focuses and selects the text of input `id`.
fn select(id: &str) {
    let input = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id));
    if let Some(input) = input {
        for method in ["focus", "select"] {
            if let Ok(f) = js_sys::Reflect::get(&input, &method.into())
                .and_then(|f| f.dyn_into::<js_sys::Function>())
            {
                let _ = f.call0(&input);
            }
        }
    }
}

/// The roles an association's admin may invite to.
pub const ASSOCIATION_KINDS: &[(&str, Text)] = &[
    ("association_member", Text::InviteAsMember),
    ("association_admin", Text::InviteAsAdmin),
];
