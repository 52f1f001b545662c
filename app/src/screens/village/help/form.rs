//! Asking for or offering help: the form on the help tab.

use crate::docs::outcome::Notice;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::screens::village::context::Village;
use crate::ui::form::field_error;
use crate::ui::labels::help_category_text;
use leptos::prelude::*;

use model::{HelpCategory, HelpDraft, HelpKind, HelpPostId, schema::limits};

/// An `<option>` per kind of help, `selected` where `is` says so.
pub(crate) fn category_options(
    lang: RwSignal<Lang>,
    is: impl Fn(HelpCategory) -> bool + Copy + Send + Sync + 'static,
) -> impl IntoView {
    HelpCategory::ALL
        .iter()
        .map(|&c| {
            view! {
                <option value=c.as_str() selected=move || is(c)>
                    {tr(lang, help_category_text(c))}
                </option>
            }
        })
        .collect_view()
}

/// Posting a help request or offer, with validation messages next to the fields.
#[component]
pub(crate) fn HelpForm() -> impl IntoView {
    let lang = use_lang();
    let ctx = expect_context::<Village>();
    let kind = RwSignal::new(HelpKind::Request);
    let title = RwSignal::new(String::new());
    let category = RwSignal::new(HelpCategory::Shopping);
    let description = RwSignal::new(String::new());
    let title_error = RwSignal::new(None::<String>);
    let description_error = RwSignal::new(None::<String>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        title_error.set(None);
        description_error.set(None);
        let draft = HelpDraft {
            category: category.get_untracked(),
            title: title.get_untracked(),
            description: description.get_untracked(),
            when: None,
        };
        let kind = kind.get_untracked();
        let user = identity::current_user();
        let id = HelpPostId::from_random(identity::random_bytes());
        let now = identity::now();
        let lang_now = lang.get_untracked();
        let done = tf(
            lang_now,
            Text::Posted,
            &[("village", &ctx.name.get_untracked())],
        );
        ctx.notice.set(None);
        ctx.apply(
            move |d| match kind {
                HelpKind::Request => d.post_help_request(&user, &id, &draft, now),
                HelpKind::Offer => d.post_help_offer(&user, &id, &draft, now),
            },
            done,
            move |e| {
                let Some((field, text)) = field_error(lang_now, e) else {
                    return false;
                };
                match field {
                    "title" => title_error.try_set(Some(text)),
                    _ => description_error.try_set(Some(text)),
                };
                true
            },
        );
        // The form empties only once the post is in: see the effect below.
    };
    // Clear the form after a successful post.
    Effect::new(move || {
        if matches!(ctx.notice.get(), Some(Notice::Done(_))) {
            title.set(String::new());
            description.set(String::new());
        }
    });

    let kind_radio = move |value: HelpKind, label: Text| {
        view! {
            <label class="choice">
                <input
                    type="radio"
                    name="help-kind"
                    prop:checked=move || kind.get() == value
                    on:change=move |_| kind.set(value)
                />
                <span>{tr(lang, label)}</span>
            </label>
        }
    };

    view! {
        <form class="card form" on:submit=submit novalidate data-testid="help-form">
            <h3>{tr(lang, Text::NewHelpPost)}</h3>
            <fieldset class="choices">
                <legend>{tr(lang, Text::KindQuestion)}</legend>
                {kind_radio(HelpKind::Request, Text::KindRequest)}
                {kind_radio(HelpKind::Offer, Text::KindOffer)}
            </fieldset>
            <div class="field">
                <label for="help-title">{tr(lang, Text::TitleLabel)}</label>
                <p class="hint" id="help-title-hint">{tr(lang, Text::TitleHint)}</p>
                <input
                    id="help-title"
                    type="text"
                    required
                    maxlength=limits::TITLE.to_string()
                    aria-describedby="help-title-hint help-title-error"
                    aria-invalid=move || title_error.with(Option::is_some).to_string()
                    prop:value=move || title.get()
                    on:input=move |ev| title.set(event_target_value(&ev))
                />
                <p class="field-error" id="help-title-error">{move || title_error.get()}</p>
            </div>
            <div class="field">
                <label for="help-category">{tr(lang, Text::CategoryLabel)}</label>
                <select
                    id="help-category"
                    on:change=move |ev| {
                        if let Ok(c) = event_target_value(&ev).parse() {
                            category.set(c);
                        }
                    }
                >
                    {category_options(lang, move |c| category.get() == c)}
                </select>
            </div>
            <div class="field">
                <label for="help-description">{tr(lang, Text::DescriptionLabel)}</label>
                <textarea
                    id="help-description"
                    rows="3"
                    maxlength=limits::BODY.to_string()
                    aria-describedby="help-description-error"
                    aria-invalid=move || description_error.with(Option::is_some).to_string()
                    prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))
                ></textarea>
                <p class="field-error" id="help-description-error">{move || description_error.get()}</p>
            </div>
            <button type="submit" class="button">{tr(lang, Text::Submit)}</button>
        </form>
    }
}
