//! What the municipality asks the villages (meedenken), and what it did with the answers.
//! Residents respond once while a question is open; the village's broker opens questions and
//! publishes outcomes.

use crate::docs::me::Me;
use crate::docs::municipality_doc::Municipality;
use crate::docs::outcome::Notice;
use crate::docs::outcome::edit_error_text;
use crate::docs::village_doc::EditError;
use crate::docs::villages::village_name;
use crate::docs::villages::village_names;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::platform::time::format_date;
use crate::ui::form::FilterSelect;
use crate::ui::notice::MuniLoading;
use crate::ui::notice::NoticeLines;
use crate::ui::notice::muni_loaded;
use crate::ui::text::paragraphs;

use leptos::prelude::*;
use model::{
    ConsultationDraft, ConsultationId, ConsultationResponseId, ConsultationStatus,
    ConsultationView, OpError, VillageId, end_of_day, schema::limits,
};

/// `/meedenken`: the questions to the resident's village (or another, or all), newest
/// deadline last; open ones first.
#[component]
pub fn ConsultationsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let muni = expect_context::<Municipality>();
    let me = expect_context::<Me>();
    let village = RwSignal::new(state.village.get_untracked().unwrap_or_default());
    let villages = Memo::new(move |_| muni.read(village_names).unwrap_or_default());
    let notice = RwSignal::new(None::<Notice>);
    let items = Memo::new(move |_| {
        let now = identity::now();
        let chosen = village.get();
        muni.read(|m| {
            // Open ones first; each village's closing soonest first.
            let (mut open, closed): (Vec<ConsultationView>, Vec<_>) = m
                .villages()
                .into_iter()
                .filter(|v| chosen.is_empty() || v.id == chosen)
                .flat_map(|v| m.consultations_for(&v.id, now))
                .partition(|c| c.status == ConsultationStatus::Open);
            open.extend(closed);
            open
        })
        .unwrap_or_default()
    });
    let heading = move || {
        let chosen = village.get();
        if chosen.is_empty() {
            t(lang.get(), Text::ConsultationsAll).to_owned()
        } else {
            let name = villages.with(|vs| village_name(vs, &chosen));
            tf(lang.get(), Text::ConsultationsIn, &[("village", &name)])
        }
    };
    let broker_here = move || {
        let chosen = village.get();
        me.0.with(|u| u.roles.broker_of.iter().any(|v| v.as_str() == chosen))
    };

    view! {
        <h1>{tr(lang, Text::ConsultationsHeading)}</h1>
        <p class="muted">{tr(lang, Text::ConsultationsIntro)}</p>
        <Show when=move || muni_loaded(muni) fallback=MuniLoading>
            <form class="card form filters" on:submit=|ev| ev.prevent_default()>
                <FilterSelect id="consultation-village" label=Text::FilterVillage all=Text::AllVillages options=villages value=village />
            </form>
            <h2 data-testid="consultations-heading">{heading}</h2>
            <NoticeLines notice />
            <Show when=broker_here>
                <NewConsultation village notice villages />
            </Show>
            <Show when=move || items.with(Vec::is_empty)>
                <p data-testid="no-consultations">{tr(lang, Text::NoConsultations)}</p>
            </Show>
            <ul class="cards" data-testid="consultations">
                <For
                    each=move || items.get()
                    key=|c| (c.id.clone(), c.status, c.responses.len())
                    children=move |c| {
                        let name = villages.with(|vs| village_name(vs, &c.village));
                        view! { <ConsultationCard c village_name=name notice /> }
                    }
                />
            </ul>
        </Show>
    }
}

/// One question: what, until when, responding, and the outcome.
#[component]
fn ConsultationCard(
    c: ConsultationView,
    village_name: String,
    notice: RwSignal<Option<Notice>>,
) -> impl IntoView {
    let lang = use_lang();
    let me = expect_context::<Me>();
    let my_id = me.0.with_untracked(|u| u.id.as_str().to_owned());
    let broker =
        me.0.with_untracked(|u| u.roles.broker_of.iter().any(|v| v.as_str() == c.village));
    let title_id = format!("consultation-{}-title", c.id);
    let status = c.status;
    let last_day = c.closes_at - 1;
    let dated = move || {
        let date = format_date(lang.get(), last_day);
        let text = if status == ConsultationStatus::Open {
            Text::OpenUntil
        } else {
            Text::ClosedOn
        };
        tf(lang.get(), text, &[("date", &date)])
    };
    let count = c.responses.len().to_string();
    let mine = c
        .responses
        .iter()
        .find(|r| r.author == my_id && r.on_behalf_of.is_none())
        .map(|r| r.body.clone());
    let responses = c.responses.clone();

    let respond = match (status, mine) {
        (_, Some(body)) => Some(
            view! {
                <section class="your-response" data-testid="your-response">
                    <h4>{tr(lang, Text::YouResponded)}</h4>
                    <blockquote>{body}</blockquote>
                </section>
            }
            .into_any(),
        ),
        (ConsultationStatus::Open, None) => {
            Some(view! { <ResponseForm id=c.id.clone() notice /> }.into_any())
        }
        _ => None,
    };
    let outcome = match (status, c.outcome.clone()) {
        (ConsultationStatus::Reported, Some(body)) => view! {
            <section class="outcome" data-testid="outcome">
                <h4>{tr(lang, Text::OutcomeHeading)}</h4>
                {paragraphs(&body)}
            </section>
        }
        .into_any(),
        (ConsultationStatus::Closed, _) if broker => {
            view! { <OutcomeForm id=c.id.clone() notice /> }.into_any()
        }
        (ConsultationStatus::Closed, _) => {
            view! { <p class="muted" data-testid="outcome-pending">{tr(lang, Text::OutcomePending)}</p> }
                .into_any()
        }
        _ => ().into_any(),
    };

    let labelled = title_id.clone();
    view! {
        <li class="card" data-testid="consultation" aria-labelledby=labelled>
            <p class="badges">
                <span class=format!("badge consultation-{}", status.as_str()) data-testid="consultation-status">
                    {tr(lang, match status {
                        ConsultationStatus::Open => Text::ConsOpen,
                        ConsultationStatus::Closed => Text::ConsClosed,
                        ConsultationStatus::Reported => Text::ConsReported,
                    })}
                </span>
                <span class="badge muted-badge">{village_name}</span>
            </p>
            <h3 id=title_id>{c.question.clone()}</h3>
            {paragraphs(&c.explanation)}
            <p class="muted">{dated}" · "{move || tf(lang.get(), Text::ResponseCount, &[("count", &count)])}</p>
            {respond}
            {outcome}
            {(broker && !responses.is_empty()).then(|| view! {
                <details class="responses-list">
                    <summary>{tr(lang, Text::ResponsesList)}</summary>
                    <ul>
                        {responses.into_iter().map(|r| view! { <li>{r.body}</li> }).collect_view()}
                    </ul>
                </details>
            })}
        </li>
    }
}

/// A labelled textarea with its error beneath, for the forms below.
fn text_area(
    id: String,
    label: Signal<&'static str>,
    hint: Option<Signal<&'static str>>,
    value: RwSignal<String>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = if hint.is_some() {
        format!("{hint_id} {error_id}")
    } else {
        error_id.clone()
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            <textarea
                id=id.clone()
                data-testid=id
                rows="3"
                maxlength=limits::BODY.to_string()
                aria-describedby=described
                aria-invalid=move || error.with(Option::is_some).to_string()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            ></textarea>
            <p class="field-error" id=error_id>{move || error.get()}</p>
        </div>
    }
}

/// Field errors (empty, too long) go next to the field; the rest to the notice.
fn show_field_error(
    lang: crate::i18n::Lang,
    error: RwSignal<Option<String>>,
) -> impl FnOnce(&EditError) -> bool + 'static {
    move |e| match e {
        EditError::Op(OpError::EmptyText { .. } | OpError::TextTooLong { .. }) => {
            error.try_set(Some(edit_error_text(lang, e)));
            true
        }
        _ => false,
    }
}

/// A resident's response to an open question.
#[component]
fn ResponseForm(id: String, notice: RwSignal<Option<Notice>>) -> impl IntoView {
    let lang = use_lang();
    let muni = expect_context::<Municipality>();
    let me = expect_context::<Me>();
    let body = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let field = format!("response-{id}");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let Ok(consultation) = ConsultationId::new(id.clone()) else {
            return;
        };
        let user = me.0.get_untracked();
        let response = ConsultationResponseId::from_random(identity::random_bytes());
        let text = body.get_untracked();
        let now = identity::now();
        let lang = lang.get_untracked();
        muni.apply(
            move |m| m.respond_to_consultation(&user, &consultation, &response, &text, None, now),
            t(lang, Text::ResponseSent).to_owned(),
            notice,
            show_field_error(lang, error),
        );
    };
    view! {
        <form class="form" on:submit=submit novalidate data-testid="response-form">
            {text_area(field, tr(lang, Text::YourResponseLabel), Some(tr(lang, Text::YourResponseHint)), body, error)}
            <button type="submit" class="button">{tr(lang, Text::SendResponse)}</button>
        </form>
    }
}

/// The broker reports what the municipality did with the responses.
#[component]
fn OutcomeForm(id: String, notice: RwSignal<Option<Notice>>) -> impl IntoView {
    let lang = use_lang();
    let muni = expect_context::<Municipality>();
    let me = expect_context::<Me>();
    let body = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let field = format!("outcome-{id}");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let Ok(consultation) = ConsultationId::new(id.clone()) else {
            return;
        };
        let user = me.0.get_untracked();
        let text = body.get_untracked();
        let now = identity::now();
        let lang = lang.get_untracked();
        muni.apply(
            move |m| m.publish_outcome(&user, &consultation, &text, now),
            t(lang, Text::OutcomePublished).to_owned(),
            notice,
            show_field_error(lang, error),
        );
    };
    view! {
        <form class="form" on:submit=submit novalidate data-testid="outcome-form">
            {text_area(field, tr(lang, Text::OutcomeLabel), None, body, error)}
            <button type="submit" class="button">{tr(lang, Text::PublishOutcome)}</button>
        </form>
    }
}

/// The broker asks the village a new question.
#[component]
fn NewConsultation(
    village: RwSignal<String>,
    notice: RwSignal<Option<Notice>>,
    villages: Memo<Vec<(String, String)>>,
) -> impl IntoView {
    let lang = use_lang();
    let muni = expect_context::<Municipality>();
    let me = expect_context::<Me>();
    let question = RwSignal::new(String::new());
    let explanation = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let errors: [RwSignal<Option<String>>; 3] = std::array::from_fn(|_| RwSignal::new(None));
    let pending = RwSignal::new(false);
    let name = move || villages.with(|vs| village_name(vs, &village.get()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        for e in &errors {
            e.set(None);
        }
        let lang_now = lang.get_untracked();
        let now = identity::now();
        let closes_at = match end_of_day(&date.get_untracked()) {
            Some(at) if at > now => at,
            _ => {
                errors[2].set(Some(t(lang_now, Text::ErrorClosingDate).to_owned()));
                return;
            }
        };
        let Ok(v) = VillageId::new(village.get_untracked()) else {
            return;
        };
        let draft = ConsultationDraft {
            village: v,
            question: question.get_untracked(),
            explanation: explanation.get_untracked(),
            closes_at,
        };
        let user = me.0.get_untracked();
        let id = ConsultationId::from_random(identity::random_bytes());
        let done = tf(lang_now, Text::ConsultationOpened, &[("village", &name())]);
        pending.set(true);
        muni.apply(
            move |m| m.open_consultation(&user, &id, &draft, now),
            done,
            notice,
            move |e| {
                let slot = match e {
                    EditError::Op(
                        OpError::EmptyText { field } | OpError::TextTooLong { field, .. },
                    ) if *field == "question" => 0,
                    EditError::Op(OpError::EmptyText { .. } | OpError::TextTooLong { .. }) => 1,
                    EditError::Op(OpError::OutOfRange { .. }) => {
                        errors[2].try_set(Some(t(lang_now, Text::ErrorClosingDate).to_owned()));
                        return true;
                    }
                    _ => return false,
                };
                errors[slot].try_set(Some(edit_error_text(lang_now, e)));
                true
            },
        );
    };
    // Empty the form once this question is out (not on another form's outcome).
    Effect::new(move || {
        let outcome = notice.get();
        if !pending.get_untracked() || outcome.is_none() {
            return;
        }
        pending.set(false);
        if matches!(outcome, Some(Notice::Done(_))) {
            question.set(String::new());
            explanation.set(String::new());
            date.set(String::new());
        }
    });
    view! {
        <details class="card" data-testid="new-consultation">
            <summary>{move || tf(lang.get(), Text::NewConsultationHeading, &[("village", &name())])}</summary>
            <p class="muted">{move || tf(lang.get(), Text::BrokerOf, &[("village", &name())])}</p>
            <form class="form" on:submit=submit novalidate>
                <div class="field">
                    <label for="consultation-question">{tr(lang, Text::QuestionLabel)}</label>
                    <input
                        id="consultation-question"
                        type="text"
                        maxlength=(limits::TITLE * 2).to_string()
                        aria-describedby="consultation-question-error"
                        aria-invalid=move || errors[0].with(Option::is_some).to_string()
                        prop:value=move || question.get()
                        on:input=move |ev| question.set(event_target_value(&ev))
                    />
                    <p class="field-error" id="consultation-question-error">{move || errors[0].get()}</p>
                </div>
                {text_area("consultation-explanation".into(), tr(lang, Text::ExplanationLabel), None, explanation, errors[1])}
                <div class="field">
                    <label for="consultation-date">{tr(lang, Text::ClosingDateLabel)}</label>
                    <input
                        id="consultation-date"
                        type="date"
                        aria-describedby="consultation-date-error"
                        aria-invalid=move || errors[2].with(Option::is_some).to_string()
                        prop:value=move || date.get()
                        on:input=move |ev| date.set(event_target_value(&ev))
                    />
                    <p class="field-error" id="consultation-date-error">{move || errors[2].get()}</p>
                </div>
                <button type="submit" class="button">{tr(lang, Text::OpenConsultation)}</button>
            </form>
        </details>
    }
}
