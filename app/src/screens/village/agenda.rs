//! The village's agenda: activities of the coming weeks with where, when and who organises
//! them, adding one, and signing up as a volunteer ("Ik help mee"). Past and cancelled
//! activities stay available, collapsed below.
//!
//! As on the board, cards are keyed by event id and read their event through a memo, so a
//! neighbour signing up changes the counts in place without moving the keyboard focus.

use crate::docs::me::Me;
use crate::docs::municipality_doc::Municipality;
use crate::docs::outcome::Notice;
use crate::docs::village_doc::EditError;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::platform::time::clock_time;
use crate::platform::time::iso_time;
use crate::platform::time::local_time;
use crate::platform::time::parse_local;
use crate::screens::village::context::Village;
use crate::screens::village::context::apply;
use crate::ui::author::Author;
use crate::ui::form::flag;
use crate::ui::form::focus;
use crate::ui::form::handler;
use crate::ui::form::text;
use crate::ui::form::text_error;

use leptos::{ev::SubmitEvent, prelude::*};
use model::{
    AssociationId, EventDraft, EventId, EventView, OpError, TimeWindow, VillageDoc, schema::limits,
};

/// How long past activities stay listed (collapsed).
const PAST_DAYS: i64 = 30;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// `/dorp/:village/agenda`: upcoming activities first, the form to add one, then the past.
#[component]
pub fn AgendaTab() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let lang = ctx.lang;
    let me = expect_context::<Me>().0;
    let municipality = expect_context::<Municipality>();
    let now = identity::now();
    let items = Memo::new(move |_| {
        let me = me.with(|u| u.id.as_str().to_owned());
        let mut items = ctx.read(|d| agenda_items(d, &me, now)).unwrap_or_default();
        // An association organises under its name from the municipality's directory (its id
        // until that document is here).
        if items.iter().any(|i| i.event.organiser.is_some()) {
            municipality.read(|m| {
                for item in &mut items {
                    if let Some(a) = item
                        .event
                        .organiser
                        .as_deref()
                        .and_then(|a| m.association(a))
                    {
                        item.organiser = Author::Named(a.name);
                    }
                }
            });
        }
        items
    });
    let ids = move |earlier: bool| {
        items.with(|v| {
            v.iter()
                .filter(|e| e.earlier() == earlier)
                .map(|e| e.event.id.clone())
                .collect::<Vec<_>>()
        })
    };
    let list = move |earlier: bool| {
        view! {
            <ul class="cards" data-testid=if earlier { "past-events" } else { "events" }>
                <For
                    each=move || ids(earlier)
                    key=String::clone
                    children=move |id| {
                        let item = Memo::new(move |_| {
                            items.with(|v| v.iter().find(|e| e.event.id == id).cloned())
                        });
                        view! { <EventCard item /> }
                    }
                />
            </ul>
        }
    };
    let earlier_count = move || ids(true).len();

    view! {
        <section aria-labelledby="agenda-heading">
            <h2 id="agenda-heading">
                {text(move || tf(lang.get(), Text::AgendaHeading, &[("village", &ctx.name.get())]))}
            </h2>
            <p class="muted">{tr(lang, Text::AgendaIntro)}</p>
            <p data-testid="no-events" hidden=flag(move || !ids(false).is_empty())>
                {tr(lang, Text::NoEvents)}
            </p>
            {list(false)}
            <EventForm />
            <details class="past-events" hidden=flag(move || earlier_count() == 0)>
                <summary>
                    {text(move || tf(lang.get(), Text::PastEvents, &[("count", &earlier_count().to_string())]))}
                </summary>
                {list(true)}
            </details>
        </section>
    }
}

/// An event as the agenda shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EventItem {
    event: EventView,
    /// Who organises it: an association, or its author.
    organiser: Author,
    /// The resident created it (and may cancel it).
    mine: bool,
    /// The resident signed up as a volunteer.
    signed_up: bool,
    /// Who signed up, for the organiser.
    volunteers: Vec<Author>,
    /// It has ended.
    past: bool,
}

impl EventItem {
    /// Listed under past and cancelled activities.
    fn earlier(&self) -> bool {
        self.past || self.event.cancelled
    }

    fn full(&self) -> bool {
        self.event.signed_up.len() as u64 >= self.event.volunteers_needed
    }
}

/// Visible events that have not ended (by start), then those of the last [`PAST_DAYS`] days
/// (latest first).
fn agenda_items(doc: &VillageDoc, me: &str, now: i64) -> Vec<EventItem> {
    let mut items: Vec<EventItem> = doc
        .events()
        .into_iter()
        .filter(|e| !e.hidden && e.when.end >= now - PAST_DAYS * DAY_MS)
        .map(|event| {
            let organiser = match &event.organiser {
                Some(a) => Author::Named(a.clone()),
                None => Author::of(doc, &event.author, me),
            };
            EventItem {
                organiser,
                mine: event.author == me,
                signed_up: event.signed_up.iter().any(|u| u == me),
                volunteers: event
                    .signed_up
                    .iter()
                    .map(|u| Author::of(doc, u, me))
                    .collect(),
                past: event.when.end < now,
                event,
            }
        })
        .collect();
    items.sort_by(|a, b| {
        let order = if a.earlier() {
            b.event.when.start.cmp(&a.event.when.start)
        } else {
            a.event.when.start.cmp(&b.event.when.start)
        };
        a.earlier()
            .cmp(&b.earlier())
            .then(order)
            .then_with(|| a.event.id.cmp(&b.event.id))
    });
    items
}

/// When an event is: its start, and its end when it has one (same day: the clock time only).
fn when_text(lang: Lang, when: TimeWindow) -> String {
    let start = local_time(lang, when.start, true);
    if when.end <= when.start {
        return start;
    }
    let end = if when.end - when.start < DAY_MS {
        clock_time(lang, when.end)
    } else {
        local_time(lang, when.end, true)
    };
    tf(lang, Text::TimeRange, &[("start", &start), ("end", &end)])
}

// The form's fields, indexes into its errors.
const TITLE: usize = 0;
const DATE: usize = 1;
const START: usize = 2;
const END: usize = 3;
const PLACE: usize = 4;
const DESCRIPTION: usize = 5;
const VOLUNTEERS: usize = 6;
const FIELD_IDS: [&str; 7] = [
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
fn EventForm() -> impl IntoView {
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
            <button type="submit" class="button">{tr(lang, Text::EventSubmit)}</button>
        </form>
    }
}

/// One activity: what, when, where, who organises it, the volunteers, and what the resident
/// can do: sign up or cancel their sign-up, and for its organiser, cancel it.
#[component]
fn EventCard(item: Memo<Option<EventItem>>) -> impl IntoView {
    let ctx = expect_context::<Village>();
    let lang = ctx.lang;
    let me = expect_context::<Me>().0;
    // An event's title, time, place and description do not change; its sign-ups do.
    let Some(first) = item.get_untracked() else {
        return ().into_any();
    };
    let event = first.event;
    let title_id = format!("event-{}-title", event.id);
    let when = event.when;
    let needed = event.volunteers_needed;
    let get = move |f: fn(&EventItem) -> bool| item.with(|i| i.as_ref().is_some_and(f));
    let confirming = RwSignal::new(false);

    // Runs `op` on this event and announces `done` (a text with the event's title).
    let strings = StoredValue::new((event.id.clone(), event.title.clone(), title_id.clone()));
    let title_id = move || strings.with_value(|s| s.2.clone());
    let act = move |op: fn(&mut VillageDoc, &model::User, &EventId, i64) -> Result<(), OpError>,
                    done: Text| {
        let (id, title, _) = strings.get_value();
        let Ok(event) = EventId::new(id) else {
            return;
        };
        let lang = lang.get_untracked();
        let user = me.get_untracked();
        let now = identity::now();
        apply(
            ctx,
            Box::new(move |d| op(d, &user, &event, now)),
            tf(lang, done, &[("title", &title)]),
            Box::new(move |e| {
                if !matches!(e, EditError::Op(OpError::EventFull)) {
                    return false;
                }
                ctx.notice.try_set(Some(Notice::Failed(
                    t(lang, Text::ErrorEventFull).to_owned(),
                )));
                true
            }),
        );
    };
    let sign_up = move |_: leptos::ev::MouseEvent| act(VillageDoc::sign_up, Text::SignedUpStatus);
    let cancel_sign_up = move |_: leptos::ev::MouseEvent| {
        act(VillageDoc::cancel_sign_up, Text::SignUpCancelledStatus)
    };
    let cancel_event = move |_: leptos::ev::MouseEvent| {
        confirming.set(false);
        act(VillageDoc::cancel_event, Text::EventCancelledStatus)
    };

    let organiser = first.organiser;
    let place = event.place.clone();
    let count_line = move || {
        let signed = item.with(|i| i.as_ref().map_or(0, |i| i.event.signed_up.len()));
        tf(
            lang.get(),
            Text::VolunteersCount,
            &[
                ("signed", &signed.to_string()),
                ("needed", &needed.to_string()),
            ],
        )
    };
    let volunteer_names = move || {
        let lang = lang.get();
        item.with(|i| {
            i.as_ref()
                .map(|i| {
                    i.volunteers
                        .iter()
                        .map(|a| a.name(lang, true))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default()
        })
    };

    let signed_up = flag(move || get(|i| i.signed_up));
    let full = flag(move || get(EventItem::full));
    let open = flag(move || !get(EventItem::earlier));
    view! {
        <li class="card event-card" data-testid="event" aria-labelledby=title_id()>
            <p class="badges">
                <span
                    class="badge status-withdrawn"
                    data-testid="event-cancelled"
                    hidden=flag(move || !get(|i| i.event.cancelled))
                >
                    {tr(lang, Text::EventCancelledBadge)}
                </span>
                <span
                    class="badge status-matched"
                    data-testid="event-full"
                    hidden=flag(move || needed == 0 || !full.get())
                >
                    {tr(lang, Text::EventFullBadge)}
                </span>
            </p>
            <h3 id=title_id()>{event.title.clone()}</h3>
            <p class="event-when">
                <time datetime=iso_time(when.start)>{text(move || when_text(lang.get(), when))}</time>
            </p>
            <p class="event-place" hidden=event.place.is_empty()>
                {text(move || tf(lang.get(), Text::EventPlace, &[("place", &place)]))}
            </p>
            <p class="muted">
                {text(move || tf(lang.get(), Text::OrganisedBy, &[("name", &organiser.name(lang.get(), true))]))}
            </p>
            <p class="post-body" hidden=event.description.is_empty()>{event.description.clone()}</p>
            <p class="volunteers" data-testid="volunteers" hidden=needed == 0>{text(count_line)}</p>
            <p
                class="muted"
                data-testid="volunteer-names"
                hidden=flag(move || !get(|i| i.mine && !i.volunteers.is_empty()))
            >
                {text(move || tf(lang.get(), Text::VolunteersNames, &[("names", &volunteer_names())]))}
            </p>
            <div class="actions" hidden=flag(move || !open.get())>
                <p class="done-line" hidden=flag(move || !signed_up.get())>{tr(lang, Text::SignedUpLine)}</p>
                <button
                    type="button"
                    class="button secondary"
                    aria-describedby=title_id()
                    hidden=flag(move || !signed_up.get())
                    on:click=handler(cancel_sign_up)
                >
                    {tr(lang, Text::CancelSignUp)}
                </button>
                <p class="done-line" hidden=flag(move || signed_up.get() || needed == 0 || !full.get())>
                    {tr(lang, Text::EventFullLine)}
                </p>
                <button
                    type="button"
                    class="button"
                    aria-describedby=title_id()
                    hidden=flag(move || signed_up.get() || needed == 0 || full.get())
                    on:click=handler(sign_up)
                >
                    {tr(lang, Text::SignUp)}
                </button>
                <button
                    type="button"
                    class="button secondary"
                    aria-expanded=text(move || confirming.get().to_string())
                    aria-describedby=title_id()
                    hidden=flag(move || !get(|i| i.mine))
                    on:click=handler(move |_: leptos::ev::MouseEvent| confirming.update(|c| *c = !*c))
                >
                    {tr(lang, Text::CancelEvent)}
                </button>
            </div>
            <div
                class="confirm"
                role="group"
                aria-labelledby=format!("{}-confirm", title_id())
                hidden=flag(move || !open.get() || !confirming.get())
            >
                <p id=format!("{}-confirm", title_id())>
                    {text(move || {
                        strings.with_value(|s| tf(lang.get(), Text::ConfirmCancelEvent, &[("title", &s.1)]))
                    })}
                </p>
                <button type="button" class="button danger" on:click=handler(cancel_event)>
                    {tr(lang, Text::ConfirmCancelYes)}
                </button>
            </div>
        </li>
    }
    .into_any()
}
