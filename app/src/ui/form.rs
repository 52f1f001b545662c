//! Form helpers every screen uses: reactive texts, flags and handlers of one type each (wasm
//! size), field errors worded as the model words them, focus, and the filter and checkbox widgets.

use crate::i18n::tr;

use crate::docs::outcome::edit_error_text;
use crate::docs::village_doc::EditError;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::platform::language::use_lang;
use leptos::prelude::*;
use model::OpError;

/// The message next to a text field the model would refuse, as the model would word it
/// (checked here first so the resident sees it next to the field at once).
pub(crate) fn text_error(
    lang: Lang,
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
) -> Option<String> {
    let len = value.chars().count();
    let e = if required && value.trim().is_empty() {
        OpError::EmptyText { field }
    } else if len > max {
        OpError::TextTooLong { field, max, len }
    } else {
        return None;
    };
    Some(edit_error_text(lang, &EditError::Op(e)))
}

/// A reactive text. Every reactive text and attribute of the board and the agenda goes through
/// this one type (and every flag through [`flag`], every event handler through [`handler`]), so
/// their rendering code is compiled once instead of once per closure (wasm size matters).
pub(crate) fn text(f: impl Fn() -> String + Send + Sync + 'static) -> Signal<String> {
    Signal::derive(f)
}

/// A reactive flag, e.g. for `hidden`; see [`text`].
pub(crate) fn flag(f: impl Fn() -> bool + Send + Sync + 'static) -> Signal<bool> {
    Signal::derive(f)
}

/// `aria-invalid` of a field with this error.
pub(crate) fn invalid(error: RwSignal<Option<String>>) -> Signal<String> {
    text(move || error.with(Option::is_some).to_string())
}

/// An event handler of one type per event; see [`text`].
pub(crate) fn handler<E>(f: impl FnMut(E) + 'static) -> Box<dyn FnMut(E)> {
    Box::new(f)
}

/// Moves the keyboard focus to the element with `id` (the first field with an error).
pub(crate) fn focus(id: &str) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(el) = document()
        .get_element_by_id(id)
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// A `<select>` of "all" plus `options`, bound to `value` (empty means all).
#[component]
pub fn FilterSelect(
    id: &'static str,
    label: Text,
    all: Text,
    #[prop(into)] options: Signal<Vec<(String, String)>>,
    value: RwSignal<String>,
) -> impl IntoView {
    let lang = use_lang();
    view! {
        <div class="field">
            <label for=id>{tr(lang, label)}</label>
            <select id=id data-testid=id on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="" selected=move || value.with(String::is_empty)>{tr(lang, all)}</option>
                <For
                    each=move || options.get()
                    key=|o| o.clone()
                    children=move |(v, name)| {
                        let selected = {
                            let v = v.clone();
                            move || value.with(|x| *x == v)
                        };
                        view! { <option value=v selected=selected>{name}</option> }
                    }
                />
            </select>
        </div>
    }
}

/// A checkbox per option `(id, name)`, bound to the ids in `chosen` (in the order ticked).
#[component]
pub fn CheckboxChoices(
    /// The options, `(id, name)`.
    #[prop(into)]
    options: Signal<Vec<(String, String)>>,
    /// The ids ticked.
    chosen: RwSignal<Vec<String>>,
) -> impl IntoView {
    view! {
        <For
            each=move || options.get()
            key=|o| o.0.clone()
            children=move |(id, name)| {
                let checked = {
                    let id = id.clone();
                    move || chosen.with(|c| c.contains(&id))
                };
                view! {
                    <label class="choice">
                        <input
                            type="checkbox"
                            value=id.clone()
                            prop:checked=checked
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                chosen.update(|c| {
                                    c.retain(|x| *x != id);
                                    if on {
                                        c.push(id.clone());
                                    }
                                });
                            }
                        />
                        <span>{name}</span>
                    </label>
                }
            }
        />
    }
}

/// The field a model refusal is about (an empty or too long text) and its message, for a form
/// that shows it next to that field; `None` for any other refusal.
pub fn field_error(lang: Lang, e: &EditError) -> Option<(&'static str, String)> {
    match e {
        EditError::Op(OpError::EmptyText { field })
        | EditError::Op(OpError::TextTooLong { field, .. }) => {
            Some((*field, edit_error_text(lang, e)))
        }
        _ => None,
    }
}

/// A labelled one-line input with its error below it, `aria-invalid` while it has one.
#[component]
pub fn TextField(
    /// The input's id (its error's is `<id>-error`); also its `data-testid`.
    id: String,
    label: Text,
    value: RwSignal<String>,
    error: RwSignal<Option<String>>,
    /// The input's `type`.
    kind: &'static str,
    /// The most characters the model takes.
    max: usize,
) -> impl IntoView {
    let lang = use_lang();
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id.clone()>{tr(lang, label)}</label>
            <input
                id=id.clone()
                type=kind
                data-testid=id
                maxlength=max.to_string()
                aria-describedby=error_id.clone()
                aria-invalid=move || error.with(Option::is_some).to_string()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <p class="field-error" id=error_id>{move || error.get()}</p>
        </div>
    }
}
