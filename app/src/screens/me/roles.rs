//! The resident's roles on `/ik`, and a broker's invite for a fellow broker.

use crate::i18n::tr;
use crate::ui::invite_maker::InviteMaker;

use crate::docs::me::Me;
use crate::docs::municipality_doc::Municipality;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::platform::app_state::AppState;
use crate::platform::language::use_lang;
use leptos::prelude::*;

/// On Ik: the resident's roles beyond resident (municipality admin, area broker, association
/// admin or member), and for a broker (or a municipality admin) a way to invite an area broker.
#[component]
pub fn MyRoles() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let me = expect_context::<Me>();
    let muni = expect_context::<Municipality>();
    let roles = Memo::new(move |_| {
        me.0.with(|u| {
            let r = &u.roles;
            let mut lines = Vec::new();
            if r.municipality_admin {
                lines.push(t(lang.get(), Text::RoleMunicipalityAdmin).to_owned());
            }
            for v in &r.broker_of {
                let name = state.village_name(v.as_str());
                lines.push(tf(lang.get(), Text::RoleBrokerOf, &[("name", &name)]));
            }
            for a in &r.admin_of {
                let name = muni.association_name(a.as_str());
                lines.push(tf(lang.get(), Text::RoleAdminOf, &[("name", &name)]));
            }
            for a in r.member_of.iter().filter(|a| !r.admin_of.contains(*a)) {
                let name = muni.association_name(a.as_str());
                lines.push(tf(lang.get(), Text::RoleMemberOf, &[("name", &name)]));
            }
            lines
        })
    });
    // The villages the resident may invite a broker for: their own as broker, all as admin.
    let villages = Memo::new(move |_| {
        let (admin, broker_of) = me.0.with(|u| {
            let r = &u.roles;
            (
                r.municipality_admin,
                r.broker_of
                    .iter()
                    .map(|v| v.as_str().to_owned())
                    .collect::<Vec<_>>(),
            )
        });
        state.bootstrap.with(|b| {
            b.as_ref()
                .map(|b| {
                    b.villages
                        .iter()
                        .filter(|v| admin || broker_of.contains(&v.id))
                        .map(|v| (v.id.clone(), v.name.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let chosen = RwSignal::new(String::new());
    let target = Signal::derive(move || {
        let c = chosen.get();
        if c.is_empty() {
            villages.with(|v| v.first().map(|v| v.0.clone()).unwrap_or_default())
        } else {
            c
        }
    });
    view! {
        <Show when=move || roles.with(|r| !r.is_empty())>
            <section class="card" aria-labelledby="me-roles" data-testid="my-roles">
                <h2 id="me-roles">{tr(lang, Text::RolesHeading)}</h2>
                <ul>
                    {move || roles.get().into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                </ul>
            </section>
        </Show>
        <Show when=move || villages.with(|v| !v.is_empty())>
            <InviteMaker heading=Text::InviteBrokerHeading kinds=&[("broker", Text::InviteBrokerHeading)]
                target id="broker-invite">
                <div class="field">
                    <label for="broker-invite-village">{tr(lang, Text::FilterVillage)}</label>
                    <select id="broker-invite-village" on:change=move |ev| chosen.set(event_target_value(&ev))>
                        {move || {
                            let current = target.get();
                            villages
                                .get()
                                .into_iter()
                                .map(|(id, name)| {
                                    let selected = id == current;
                                    view! { <option value=id selected=selected>{name}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                </div>
            </InviteMaker>
        </Show>
    }
}
