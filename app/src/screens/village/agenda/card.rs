//! One activity as a card: when, where, and signing up as a volunteer.

use crate::docs::me::Me;
use crate::docs::outcome::Notice;
use crate::docs::village_doc::EditError;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::platform::time::iso_time;
use crate::screens::village::context::Village;
use crate::screens::village::context::apply;
use crate::ui::form::flag;
use crate::ui::form::handler;
use crate::ui::form::text;

use super::{EventItem, when_text};
use leptos::prelude::*;
use model::{EventId, OpError, VillageDoc};

/// One activity: what, when, where, who organises it, the volunteers, and what the resident
/// can do: sign up or cancel their sign-up, and for its organiser, cancel it.
#[component]
pub(crate) fn EventCard(item: Memo<Option<EventItem>>) -> impl IntoView {
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
        count_text(lang.get(), signed, needed)
    };
    let volunteer_names = move || {
        item.with(|i| {
            i.as_ref()
                .map(|i| names_text(lang.get(), i))
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

/// "3 of 5 volunteers".
fn count_text(lang: Lang, signed: usize, needed: u64) -> String {
    tf(
        lang,
        Text::VolunteersCount,
        &[
            ("signed", &signed.to_string()),
            ("needed", &needed.to_string()),
        ],
    )
}

/// Who signed up, as the resident names them.
fn names_text(lang: Lang, item: &EventItem) -> String {
    item.volunteers
        .iter()
        .map(|a| a.name(lang, true))
        .collect::<Vec<_>>()
        .join(", ")
}
