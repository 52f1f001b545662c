//! [`PlanEditor`]: the plan as a textarea several people type into at once.

use crate::docs::me::Me;
use crate::docs::outcome::edit_error_text;
use crate::docs::village_doc;
use crate::i18n::Text;
use crate::i18n::tr;
use crate::platform::identity;
use crate::screens::village::context::Village;

use crate::docs::plan_text::*;
use automerge::ReadDoc;
use leptos::{prelude::*, task::spawn_local};
use model::{InitiativeId, schema::limits};
/// The plan as an editable textarea that others may be typing into at the same time.
///
/// - Every input event becomes an `edit_plan` at once (a splice in the Automerge text), stored
///   on the device and sent; nothing waits in the textarea for long.
/// - A change from elsewhere rewrites the textarea only when it still shows what was last
///   agreed with the document ([`Shown`]): otherwise the writer's newest keystrokes are on
///   their way in and the rewrite follows them. The selection is carried over with cursors
///   taken at the heads the writer saw.
#[component]
pub(crate) fn PlanEditor(initiative: Memo<String>) -> impl IntoView {
    let ctx = expect_context::<Village>();
    let me = expect_context::<Me>();
    let lang = ctx.lang;
    let area = NodeRef::<leptos::html::Textarea>::new();
    let shown = StoredValue::new_local(Shown::default());
    let error = RwSignal::new(None::<String>);

    // Show the document's plan, keeping the writer's place.
    let reconcile = move || {
        let Some(el) = area.get_untracked() else {
            return;
        };
        let id = initiative.get_untracked();
        ctx.doc.with(|am| {
            let Some(text) = plan_obj(am, &id) else {
                return;
            };
            let plan = am.text(&text).unwrap_or_default();
            shown.update_value(|s| {
                if s.composing || el.value() != s.text {
                    return;
                }
                if plan != s.text {
                    let focused = document()
                        .active_element()
                        .is_some_and(|a| a.is_same_node(Some(&el)));
                    let selection = (
                        el.selection_start().ok().flatten(),
                        el.selection_end().ok().flatten(),
                    );
                    el.set_value(&plan);
                    if let (true, (Some(start), Some(end))) = (focused, selection) {
                        let map = |u| {
                            let i = char_index(&s.text, u);
                            let p = map_caret(am, &text, &s.heads, i).unwrap_or(i);
                            utf16_index(&plan, p.min(plan.chars().count()))
                        };
                        let (start, end) = (map(start), map(end));
                        let _ = el.set_selection_range(start, end.max(start));
                    }
                    s.text = plan;
                }
                s.heads = am.get_heads();
            });
        });
    };
    Effect::new(move || {
        ctx.doc.version.track();
        area.track();
        reconcile();
    });

    let on_input = move |_| {
        let (Some(el), Some(handle)) = (area.get_untracked(), ctx.doc.handle.get_untracked())
        else {
            return;
        };
        let Ok(id) = InitiativeId::new(initiative.get_untracked()) else {
            return;
        };
        let value = el.value();
        let user = me.0.get_untracked();
        let now = identity::now();
        spawn_local(async move {
            // `shown` moves with the document in the same step: the next keystroke may arrive
            // before this edit is stored, and must be diffed against this one, not an older one.
            let written = handle
                .change(|am| {
                    village_doc::gate()?;
                    let heads = shown.with_value(|s| write_plan(am, s, &user, &id, &value, now))?;
                    shown.update_value(|s| {
                        s.text = value;
                        s.heads = heads;
                    });
                    Ok(())
                })
                .await;
            match written {
                Ok(Ok(())) => {
                    error.try_set(None);
                }
                Ok(Err(e)) => {
                    error.try_set(Some(edit_error_text(lang.get_untracked(), &e)));
                }
                // A storage failure keeps the edit in memory and shows in the status bar.
                Err(_) => {}
            }
        });
    };

    view! {
        <label for="plan-editor" class="visually-hidden">{tr(lang, Text::PlanLabel)}</label>
        <p class="hint" id="plan-live">{tr(lang, Text::PlanLive)}</p>
        <textarea
            id="plan-editor"
            class="plan-editor"
            data-testid="plan-editor"
            node_ref=area
            rows="10"
            maxlength=limits::BODY.to_string()
            aria-describedby="plan-live plan-editors plan-error"
            aria-invalid=move || error.with(Option::is_some).to_string()
            on:input=on_input
            on:compositionstart=move |_| shown.update_value(|s| s.composing = true)
            on:compositionend=move |_| {
                shown.update_value(|s| s.composing = false);
                reconcile();
            }
        ></textarea>
        <p class="field-error" id="plan-error" role="alert">{move || error.get()}</p>
    }
}
