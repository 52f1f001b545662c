//! The form that registers an association or edits its profile.

use crate::docs::me::Me;
use crate::docs::municipality_doc::Municipality;
use crate::docs::outcome::Notice;
use crate::docs::outcome::edit_error_text;
use crate::docs::village_doc::EditError;
use crate::docs::villages::village_names;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::route::Page;
use crate::ui::form::CheckboxChoices;
use crate::ui::form::TextField;
use crate::ui::labels::association_category_text;
use crate::ui::notice::NoticeLines;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use model::{
    AssociationCategory, AssociationDraft, AssociationId, AssociationView, ContactChannel,
    MunicipalityDoc, OpError, VillageId, schema::limits,
};

/// A fresh, readable id for an association called `name` that is not taken yet.
pub(crate) fn new_association_id(m: &MunicipalityDoc, name: &str) -> AssociationId {
    let mut slug = String::new();
    for c in model::fold(name).chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(40).collect();
    match AssociationId::new(slug) {
        Ok(id) if m.association(id.as_str()).is_none() => id,
        _ => AssociationId::from_random(identity::random_bytes()),
    }
}

/// Registering an association (`existing` is `None`) or editing one's profile, with
/// validation messages next to the fields.
#[component]
pub(crate) fn AssociationForm(
    existing: Option<AssociationView>,
    notice: RwSignal<Option<Notice>>,
) -> impl IntoView {
    let lang = use_lang();
    let muni = expect_context::<Municipality>();
    let me = expect_context::<Me>();
    let navigate = use_navigate();
    let editing = existing.as_ref().map(|a| a.id.clone());
    let prefix = if editing.is_some() { "edit" } else { "new" };
    let a = existing.unwrap_or_else(|| {
        blank(
            expect_context::<AppState>()
                .village
                .get_untracked()
                .into_iter()
                .collect(),
        )
    });
    let contact = |channel: ContactChannel| {
        RwSignal::new(
            a.contacts
                .iter()
                .find(|(c, _)| c == channel.as_str())
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        )
    };
    let name = RwSignal::new(a.name.clone());
    let category = RwSignal::new(a.category);
    let chosen = RwSignal::new(a.villages.clone());
    let description = RwSignal::new(a.description.clone());
    let website = RwSignal::new(a.website.clone());
    let email = contact(ContactChannel::Email);
    let phone = contact(ContactChannel::Phone);
    let social = contact(ContactChannel::Social);
    // One error slot per field: name, villages, description, website, email, phone, social.
    let errors: [RwSignal<Option<String>>; 7] = std::array::from_fn(|_| RwSignal::new(None));
    let villages = Memo::new(move |_| muni.read(village_names).unwrap_or_default());
    // Once a registration is in, its page opens (the outcome is announced there).
    let registered = RwSignal::new(None::<String>);
    Effect::new(move || {
        if matches!(notice.get(), Some(Notice::Done(_)))
            && let Some(path) = registered.get_untracked()
        {
            registered.set(None);
            navigate(&path, Default::default());
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        for e in &errors {
            e.set(None);
        }
        let lang_now = lang.get_untracked();
        let contacts: Vec<(ContactChannel, String)> = [
            (ContactChannel::Email, email),
            (ContactChannel::Phone, phone),
            (ContactChannel::Social, social),
        ]
        .into_iter()
        .map(|(c, v)| (c, v.get_untracked().trim().to_owned()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
        if let Some((slot, text)) = contact_error(lang_now, &contacts) {
            errors[slot].set(Some(text));
            return;
        }
        let draft = AssociationDraft {
            name: name.get_untracked(),
            category: category.get_untracked(),
            villages: chosen
                .get_untracked()
                .into_iter()
                .filter_map(|v| VillageId::new(v).ok())
                .collect(),
            description: description.get_untracked(),
            contacts,
            website: website.get_untracked(),
        };
        let user = me.0.get_untracked();
        let now = identity::now();
        let on_error = move |e: &EditError| {
            field_of(lang_now, e)
                .map(|(slot, text)| errors[slot].try_set(Some(text)))
                .is_some()
        };
        match editing.clone() {
            Some(id) => {
                let Ok(id) = AssociationId::new(id) else {
                    return;
                };
                let done = t(lang_now, Text::ProfileSaved).to_owned();
                muni.apply(
                    move |m| m.edit_association(&user, &id, &draft, now),
                    done,
                    notice,
                    on_error,
                );
            }
            None => {
                let Some(id) = muni.read(|m| new_association_id(m, &draft.name)) else {
                    return;
                };
                let done = tf(lang_now, Text::Registered, &[("name", draft.name.trim())]);
                registered.set(Some(format!(
                    "{}?aangemeld=1",
                    Page::Association(id.to_string()).href()
                )));
                muni.apply(
                    move |m| m.register_association(&user, &id, &draft, now),
                    done,
                    notice,
                    on_error,
                );
            }
        }
    };

    let field_id = move |f: &str| format!("{prefix}-{f}");
    view! {
        <form class="form" on:submit=submit novalidate data-testid=format!("{prefix}-association-form")>
            <TextField id=field_id("name") label=Text::AssocNameLabel value=name error=errors[0] kind="text" max=limits::TITLE />
            <CategorySelect id=field_id("category") category />
            <fieldset
                class="choices village-choices"
                aria-describedby=field_id("villages-error")
                aria-invalid=move || errors[1].with(Option::is_some).to_string()
            >
                <legend>{tr(lang, Text::AssocVillagesLabel)}</legend>
                <CheckboxChoices options=villages chosen=chosen />
                <p class="field-error" id=field_id("villages-error")>{move || errors[1].get()}</p>
            </fieldset>
            <div class="field">
                <label for=field_id("description")>{tr(lang, Text::AssocDescriptionLabel)}</label>
                <textarea
                    id=field_id("description")
                    rows="4"
                    maxlength=limits::BODY.to_string()
                    aria-describedby=field_id("description-error")
                    aria-invalid=move || errors[2].with(Option::is_some).to_string()
                    prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))
                ></textarea>
                <p class="field-error" id=field_id("description-error")>{move || errors[2].get()}</p>
            </div>
            <fieldset class="choices">
                <legend>{tr(lang, Text::ContactLegend)}</legend>
                <TextField id=field_id("email") label=Text::ContactEmail value=email error=errors[4] kind="email" max=limits::LINE />
                <TextField id=field_id("phone") label=Text::ContactPhone value=phone error=errors[5] kind="tel" max=limits::LINE />
                <TextField id=field_id("website") label=Text::ContactWebsite value=website error=errors[3] kind="url" max=limits::LINE />
                <TextField id=field_id("social") label=Text::ContactSocial value=social error=errors[6] kind="text" max=limits::LINE />
            </fieldset>
            {(prefix == "new").then(|| view! { <NoticeLines notice /> })}
            <button type="submit" class="button">
                {tr(lang, if prefix == "edit" { Text::SaveProfile } else { Text::RegisterSubmit })}
            </button>
        </form>
    }
}

// ---- An association's page ----

/// Where the form shows a model refusal: its field's error slot (see `AssociationForm`'s
/// `errors`) and the text; `None` when no field shows it.
fn field_of(lang: Lang, e: &EditError) -> Option<(usize, String)> {
    match e {
        EditError::Op(OpError::OutOfRange {
            field: "villages", ..
        }) => Some((1, t(lang, Text::ErrorNoVillage).to_owned())),
        EditError::Op(OpError::EmptyText { field } | OpError::TextTooLong { field, .. }) => {
            let slot = match *field {
                "name" => 0,
                "description" => 2,
                "website" => 3,
                _ => return None,
            };
            Some((slot, edit_error_text(lang, e)))
        }
        _ => None,
    }
}

/// A contact detail the model would refuse as too long, with its field's error slot: the model
/// says "contact" for any channel, so the form finds which one to show it there.
fn contact_error(lang: Lang, contacts: &[(ContactChannel, String)]) -> Option<(usize, String)> {
    let (channel, value) = contacts
        .iter()
        .find(|(_, v)| v.chars().count() > limits::LINE)?;
    let slot = match channel {
        ContactChannel::Email => 4,
        ContactChannel::Phone => 5,
        _ => 6,
    };
    let len = value.chars().count();
    let e = EditError::Op(OpError::TextTooLong {
        field: "contact",
        max: limits::LINE,
        len,
    });
    Some((slot, edit_error_text(lang, &e)))
}

/// The association's kind.
#[component]
fn CategorySelect(id: String, category: RwSignal<AssociationCategory>) -> impl IntoView {
    let lang = use_lang();
    view! {
    <div class="field">
        <label for=id.clone()>{tr(lang, Text::AssocCategoryLabel)}</label>
        <select
            id=id
            on:change=move |ev| {
                if let Ok(c) = event_target_value(&ev).parse() {
                    category.set(c);
                }
            }
        >
            {AssociationCategory::ALL
                .iter()
                .map(|&c| view! {
                    <option value=c.as_str() selected=move || category.get() == c>
                        {tr(lang, association_category_text(c))}
                    </option>
                })
                .collect_view()}
        </select>
    </div>
    }
}

/// A new association's form: nothing filled in but the resident's village.
fn blank(villages: Vec<String>) -> AssociationView {
    AssociationView {
        id: String::new(),
        name: String::new(),
        category: AssociationCategory::Other,
        villages,
        description: String::new(),
        contacts: Vec::new(),
        website: String::new(),
        admins: Vec::new(),
    }
}
