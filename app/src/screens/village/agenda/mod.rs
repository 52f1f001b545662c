//! The village's agenda: activities of the coming weeks with where, when and who organises
//! them, adding one, and signing up as a volunteer ("Ik help mee"). Past and cancelled
//! activities stay available, collapsed below.
//!
//! As on the board, cards are keyed by event id and read their event through a memo, so a
//! neighbour signing up changes the counts in place without moving the keyboard focus.

mod card;
mod form;

use card::EventCard;
use form::EventForm;

use crate::docs::me::Me;
use crate::docs::municipality_doc::Municipality;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::platform::time::clock_time;
use crate::platform::time::local_time;
use crate::screens::village::context::Village;
use crate::ui::author::Author;
use crate::ui::form::flag;
use crate::ui::form::text;

use leptos::prelude::*;
use model::{EventView, TimeWindow, VillageDoc};

/// How long past activities stay listed (collapsed).
pub(crate) const PAST_DAYS: i64 = 30;
pub(crate) const DAY_MS: i64 = 24 * 3600 * 1000;

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
pub(crate) struct EventItem {
    pub(crate) event: EventView,
    /// Who organises it: an association, or its author.
    pub(crate) organiser: Author,
    /// The resident created it (and may cancel it).
    pub(crate) mine: bool,
    /// The resident signed up as a volunteer.
    pub(crate) signed_up: bool,
    /// Who signed up, for the organiser.
    pub(crate) volunteers: Vec<Author>,
    /// It has ended.
    pub(crate) past: bool,
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
pub(crate) fn agenda_items(doc: &VillageDoc, me: &str, now: i64) -> Vec<EventItem> {
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
pub(crate) fn when_text(lang: Lang, when: TimeWindow) -> String {
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
