//! Adding an activity to the village's agenda.

use crate::docs::me::Me;
use crate::docs::municipality_doc::Municipality;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::platform::time::parse_local;
use crate::screens::village::context::Village;
use crate::screens::village::context::apply;
use crate::ui::form::flag;
use crate::ui::form::focus;
use crate::ui::form::handler;
use crate::ui::form::text;
use crate::ui::form::text_error;

use leptos::{ev::SubmitEvent, prelude::*};
use model::{AssociationId, EventDraft, EventId, TimeWindow, schema::limits};

// The form's fields, indexes into its errors.
pub(crate) const TITLE: usize = 0;
pub(crate) const DATE: usize = 1;
pub(crate) const START: usize = 2;
pub(crate) const END: usize = 3;
pub(crate) const PLACE: usize = 4;
pub(crate) const DESCRIPTION: usize = 5;
pub(crate) const VOLUNTEERS: usize = 6;
pub(crate) const FIELD_IDS: [&str; 7] = [
    "event-title",
    "event-date",
    "event-start",
    "event-end",
    "event-place",
    "event-description",
    "event-volunteers",
];

/// Adding an activity, with validation messages next to the fields.
#[component]
pub(crate) fn EventForm() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let lang = ctx.lang;
    let me = expect_context::<Me>().0;
    let municipality = expect_context::<Municipality>();
    let values: [RwSignal<String>; 7] = std::array::from_fn(|i| {
        RwSignal::new(if i == VOLUNTEERS {
            "0".into()
        } else {
            String::new()
        })
    });
    let errors = RwSignal::new([const { None::<String> }; 7]);
    let organiser = RwSignal::new(String::new());
    // The associations this resident may organise for.
    let associations = Memo::new(move |_| {
        let admin_of = me.with(|u| u.roles.admin_of.clone());
        admin_of
            .into_iter()
            .map(|a| {
                let name = municipality
                    .read(|m| m.association(a.as_str()).map(|a| a.name))
                    .flatten()
                    .unwrap_or_else(|| a.to_string());
                (a.to_string(), name)
            })
            .collect::<Vec<_>>()
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let lang_now = lang.get_untracked();
        let v: [String; 7] = std::array::from_fn(|i| values[i].get_untracked());
        let now = identity::now();
        let (e, start, end, needed) = check(lang_now, &v, now);
        let first_error = e.iter().position(Option::is_some);
        errors.set(e);
        if let Some(i) = first_error {
            focus(FIELD_IDS[i]);
            return;
        }
        let (Some(start), Some(end), Some(needed)) = (start, end, needed) else {
            return;
        };
        let organiser = organiser.get_untracked();
        let draft = EventDraft {
            title: v[TITLE].clone(),
            description: v[DESCRIPTION].clone(),
            when: TimeWindow { start, end },
            place: v[PLACE].clone(),
            volunteers_needed: needed,
            organiser: AssociationId::new(organiser).ok(),
        };
        let user = me.get_untracked();
        let id = EventId::from_random(identity::random_bytes());
        let done = tf(lang_now, Text::EventCreated, &[("title", v[TITLE].trim())]);
        ctx.notice.set(None);
        // Emptied now, given back if the event does not go in.
        for (i, value) in values.iter().enumerate() {
            value.set(if i == VOLUNTEERS {
                "0".into()
            } else {
                String::new()
            });
        }
        apply(
            ctx,
            Box::new(move |d| d.create_event(&user, &id, &draft, now)),
            done,
            Box::new(move |_| {
                for (value, typed) in values.iter().zip(v) {
                    value.try_set(typed);
                }
                false
            }),
        );
    };

    let field = move |i: usize, label: Text, hint: Option<Text>, kind: &'static str| {
        let id = FIELD_IDS[i];
        let hint_id = format!("{id}-hint");
        let error_id = format!("{id}-error");
        let described = if hint.is_some() {
            format!("{hint_id} {error_id}")
        } else {
            error_id.clone()
        };
        view! {
            <div class="field">
                <label for=id>{tr(lang, label)}</label>
                {hint.map(|h| view! { <p class="hint" id=hint_id>{tr(lang, h)}</p> })}
                <input
                    id=id
                    type=kind
                    required=matches!(i, TITLE | DATE | START)
                    min=(kind == "number").then_some("0")
                    max=(kind == "number").then(|| limits::MAX_VOLUNTEERS.to_string())
                    aria-describedby=described
                    aria-invalid=text(move || errors.with(|e| e[i].is_some()).to_string())
                    prop:value=values[i]
                    on:input=handler(move |ev: leptos::ev::Event| values[i].set(event_target_value(&ev)))
                />
                <p class="field-error" id=error_id>{text(move || errors.with(|e| e[i].clone().unwrap_or_default()))}</p>
            </div>
        }
    };

    view! {
        <form class="card form" on:submit=handler(submit) novalidate data-testid="event-form">
            <h3>{tr(lang, Text::NewEvent)}</h3>
            {field(TITLE, Text::EventTitleLabel, None, "text")}
            <div class="field-row">
                {field(DATE, Text::EventDateLabel, None, "date")}
                {field(START, Text::EventStartLabel, None, "time")}
                {field(END, Text::EventEndLabel, None, "time")}
            </div>
            {field(PLACE, Text::EventPlaceLabel, Some(Text::EventPlaceHint), "text")}
            <div class="field">
                <label for="event-description">{tr(lang, Text::DescriptionLabel)}</label>
                <textarea
                    id="event-description"
                    rows="3"
                    maxlength=limits::BODY.to_string()
                    aria-describedby="event-description-error"
                    aria-invalid=text(move || errors.with(|e| e[DESCRIPTION].is_some()).to_string())
                    prop:value=values[DESCRIPTION]
                    on:input=handler(move |ev: leptos::ev::Event| values[DESCRIPTION].set(event_target_value(&ev)))
                ></textarea>
                <p class="field-error" id="event-description-error">
                    {text(move || errors.with(|e| e[DESCRIPTION].clone().unwrap_or_default()))}
                </p>
            </div>
            {field(VOLUNTEERS, Text::VolunteersNeededLabel, Some(Text::VolunteersNeededHint), "number")}
            <OrganiserSelect associations organiser />
            <button type="submit" class="button">{tr(lang, Text::EventSubmit)}</button>
        </form>
    }
}

/// An error per field, and the start, end and volunteers needed where they are valid.
type Checked = ([Option<String>; 7], Option<i64>, Option<i64>, Option<u64>);

/// The form's values checked as the model would, before anything is written (errors in the
/// order of `FIELD_IDS`).
fn check(lang_now: Lang, v: &[String; 7], now: i64) -> Checked {
    let mut e = [const { None::<String> }; 7];
    let message = |text: Text| Some(t(lang_now, text).to_owned());
    e[TITLE] = text_error(lang_now, "title", &v[TITLE], limits::TITLE, true);
    e[PLACE] = text_error(lang_now, "place", &v[PLACE], limits::LINE, false);
    e[DESCRIPTION] = text_error(
        lang_now,
        "description",
        &v[DESCRIPTION],
        limits::BODY,
        false,
    );
    let start = parse_local(&v[DATE], &v[START]);
    if v[DATE].is_empty() {
        e[DATE] = message(Text::ErrorDate);
    } else if v[START].is_empty() {
        e[START] = message(Text::ErrorTime);
    } else if start.is_none() {
        e[DATE] = message(Text::ErrorDate);
    } else if start.is_some_and(|s| s < now) {
        e[START] = message(Text::ErrorPast);
    }
    let end = if v[END].is_empty() {
        start
    } else {
        parse_local(&v[DATE], &v[END])
    };
    if let (Some(s), Some(end)) = (start, end)
        && end < s
    {
        e[END] = message(Text::ErrorEndBeforeStart);
    }
    let needed = v[VOLUNTEERS]
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n <= limits::MAX_VOLUNTEERS);
    if needed.is_none() {
        e[VOLUNTEERS] = Some(tf(
            lang_now,
            Text::ErrorVolunteers,
            &[("max", &limits::MAX_VOLUNTEERS.to_string())],
        ));
    }
    (e, start, end, needed)
}

/// Who organises: the resident, or an association they administer.
#[component]
fn OrganiserSelect(
    associations: Memo<Vec<(String, String)>>,
    organiser: RwSignal<String>,
) -> impl IntoView {
    let lang = use_lang();
    view! {
        <div class="field" hidden=flag(move || associations.with(Vec::is_empty))>
                <label for="event-organiser">{tr(lang, Text::OrganiserLabel)}</label>
                <select
                    id="event-organiser"
                    on:change=handler(move |ev: leptos::ev::Event| organiser.set(event_target_value(&ev)))
                >
                    <option value="" selected=move || organiser.with(String::is_empty)>
                        {tr(lang, Text::OrganiserSelf)}
                    </option>
                    {move || {
                        associations
                            .get()
                            .into_iter()
                            .map(|(id, name)| {
                                let selected = id.clone();
                                view! {
                                    <option value=id selected=move || organiser.get() == selected>
                                        {name}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
        </div>
    }
}
