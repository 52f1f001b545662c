//! Every typed operation's changes pass the server's validator for their author, and the same
//! changes sent by another user (a forged equivalent) are refused.

mod common;

use common::*;
use model::automerge::{Change, ChangeHash};
use model::*;

trait Doc: Clone {
    fn heads(&self) -> Vec<ChangeHash>;
    fn since(&self, heads: &[ChangeHash]) -> Vec<Change>;
    fn judge(&self, user: &User, changes: &[Change]) -> Result<(), Violation>;
}

macro_rules! doc {
    ($t:ty) => {
        impl Doc for $t {
            fn heads(&self) -> Vec<ChangeHash> {
                <$t>::heads(self)
            }
            fn since(&self, heads: &[ChangeHash]) -> Vec<Change> {
                self.changes_since(heads)
            }
            fn judge(&self, user: &User, changes: &[Change]) -> Result<(), Violation> {
                judge_both(self.automerge(), <$t>::KIND, user, changes, LATER)
            }
        }
    };
}
doc!(VillageDoc);
doc!(MunicipalityDoc);
doc!(ConversationDoc);

const T: i64 = NOW + 10;
const LATER: i64 = NOW + 30 * DAY;

/// Runs `op` as `author` on a copy of `base`; its changes must pass for `author` and fail for
/// `forger`.
fn honest_and_forged<D: Doc>(
    name: &str,
    base: &D,
    author: &User,
    forger: &User,
    op: impl FnOnce(&mut D, &User) -> Result<(), OpError>,
) {
    let mut doc = base.clone();
    let heads = doc.heads();
    op(&mut doc, author).unwrap_or_else(|e| panic!("{name}: the operation failed: {e}"));
    let changes = doc.since(&heads);
    assert!(!changes.is_empty(), "{name}: no change written");
    assert_eq!(
        base.judge(author, &changes),
        Ok(()),
        "{name}: refused for its author"
    );
    assert!(
        base.judge(forger, &changes).is_err(),
        "{name}: accepted when forged by {}",
        forger.id
    );
}

fn i1() -> InitiativeId {
    InitiativeId::new("i1").unwrap()
}
fn e1() -> EventId {
    EventId::new("e1").unwrap()
}
fn b1() -> BoardPostId {
    BoardPostId::new("b1").unwrap()
}
fn fanfare() -> AssociationId {
    AssociationId::new("fanfare").unwrap()
}

/// Anna's request p1 with Bert's response r1, the fanfare's initiative i1 with need n1,
/// Anna's event e1 for three volunteers, Anna's board post b1.
fn busy_village() -> VillageDoc {
    let mut d = village_with_request();
    d.create_initiative(
        &fanfare_admin(),
        &i1(),
        &InitiativeDraft {
            title: "Speeltuin".into(),
            plan: "Plan".into(),
            lead_association: Some(fanfare()),
        },
        NOW,
    )
    .unwrap();
    d.add_need(
        &fanfare_admin(),
        &i1(),
        &NeedId::new("n1").unwrap(),
        "Verf",
        NOW,
    )
    .unwrap();
    let when = TimeWindow {
        start: NOW + 7 * DAY,
        end: NOW + 8 * DAY,
    };
    d.create_event(
        &anna(),
        &e1(),
        &EventDraft {
            title: "Feest".into(),
            description: String::new(),
            when,
            place: "Plein".into(),
            volunteers_needed: 3,
            organiser: None,
        },
        NOW,
    )
    .unwrap();
    d.post(&anna(), &b1(), "Hallo dorp", NOW).unwrap();
    d
}

#[test]
fn village_operations() {
    let v = busy_village();
    let ok = |r: Result<(), OpError>| r;
    honest_and_forged("post_help_request", &v, &anna(), &bert(), |d, u| {
        d.post_help_request(u, &pid("p2"), &help("Tuin", HelpCategory::Garden), T)
    });
    honest_and_forged("post_help_offer", &v, &bert(), &anna(), |d, u| {
        d.post_help_offer(u, &pid("o1"), &help("Rijden", HelpCategory::Transport), T)
    });
    honest_and_forged("edit_help_post", &v, &anna(), &bert(), |d, u| {
        d.edit_help_post(
            u,
            &pid("p1"),
            &help("Boodschappen!", HelpCategory::Shopping),
            T,
        )
    });
    honest_and_forged("respond", &v, &carla(), &bert(), |d, u| {
        d.respond(u, &pid("p1"), &rid("r2"), "Ik ook", T)
    });
    honest_and_forged("accept_response", &v, &anna(), &bert(), |d, u| {
        d.accept_response(u, &pid("p1"), &rid("r1"), T)
    });
    let mut matched = v.clone();
    matched
        .accept_response(&anna(), &pid("p1"), &rid("r1"), T)
        .unwrap();
    honest_and_forged("mark_done", &matched, &anna(), &bert(), |d, u| {
        d.mark_done(u, &pid("p1"), T)
    });
    honest_and_forged("withdraw", &v, &anna(), &bert(), |d, u| {
        d.withdraw(u, &pid("p1"), T)
    });
    honest_and_forged("withdraw by broker", &v, &broker(), &carla(), |d, u| {
        d.withdraw(u, &pid("p1"), T)
    });
    honest_and_forged("hide_for_moderation", &v, &broker(), &anna(), |d, u| {
        d.hide_for_moderation(
            u,
            &ModerationTarget::Response(pid("p1"), rid("r1")),
            true,
            "spam",
            T,
        )
    });
    honest_and_forged(
        "create_initiative",
        &v,
        &fanfare_admin(),
        &sports_admin(),
        |d, u| {
            d.create_initiative(
                u,
                &InitiativeId::new("i2").unwrap(),
                &InitiativeDraft {
                    title: "Kermis".into(),
                    plan: String::new(),
                    lead_association: Some(fanfare()),
                },
                T,
            )
        },
    );
    honest_and_forged(
        "join_initiative_as_partner",
        &v,
        &sports_admin(),
        &fanfare_admin(),
        |d, u| d.join_initiative_as_partner(u, &i1(), &AssociationId::new("vv-ulft").unwrap(), T),
    );
    honest_and_forged("edit_plan", &v, &fanfare_admin(), &anna(), |d, u| {
        d.edit_plan(u, &i1(), "Plan B", T)
    });
    honest_and_forged("add_need", &v, &fanfare_admin(), &anna(), |d, u| {
        d.add_need(u, &i1(), &NeedId::new("n2").unwrap(), "Kwasten", T)
    });
    honest_and_forged("fill_need", &v, &anna(), &bert(), |d, u| {
        d.fill_need(u, &i1(), &NeedId::new("n1").unwrap(), T)
    });
    honest_and_forged("post_update", &v, &fanfare_admin(), &anna(), |d, u| {
        d.post_update(u, &i1(), &UpdateId::new("u1").unwrap(), "Begonnen", T)
    });
    honest_and_forged("start_initiative", &v, &fanfare_admin(), &anna(), |d, u| {
        d.start_initiative(u, &i1(), T)
    });
    let mut running = v.clone();
    running
        .start_initiative(&fanfare_admin(), &i1(), T)
        .unwrap();
    honest_and_forged(
        "complete_initiative",
        &running,
        &fanfare_admin(),
        &anna(),
        |d, u| d.complete_initiative(u, &i1(), T),
    );
    honest_and_forged("create_event", &v, &anna(), &bert(), |d, u| {
        let when = TimeWindow {
            start: NOW + DAY,
            end: NOW + DAY + HOUR,
        };
        d.create_event(
            u,
            &EventId::new("e2").unwrap(),
            &EventDraft {
                title: "Klaverjassen".into(),
                description: String::new(),
                when,
                place: String::new(),
                volunteers_needed: 0,
                organiser: None,
            },
            T,
        )
    });
    honest_and_forged("cancel_event", &v, &anna(), &bert(), |d, u| {
        d.cancel_event(u, &e1(), T)
    });
    honest_and_forged("cancel_event by broker", &v, &broker(), &carla(), |d, u| {
        d.cancel_event(u, &e1(), T)
    });
    honest_and_forged("sign_up", &v, &bert(), &carla(), |d, u| {
        d.sign_up(u, &e1(), T)
    });
    let mut signed = v.clone();
    signed.sign_up(&bert(), &e1(), T).unwrap();
    honest_and_forged("cancel_sign_up", &signed, &bert(), &carla(), |d, u| {
        d.cancel_sign_up(u, &e1(), T)
    });
    honest_and_forged("post", &v, &anna(), &bert(), |d, u| {
        d.post(
            u,
            &BoardPostId::new("b2").unwrap(),
            "Wie leent een ladder?",
            T,
        )
    });
    honest_and_forged("comment", &v, &bert(), &carla(), |d, u| {
        d.comment(u, &b1(), &CommentId::new("c1").unwrap(), "Ik!", T)
    });
    honest_and_forged("react", &v, &bert(), &carla(), |d, u| {
        d.react(u, &b1(), Some(Reaction::Thanks), T)
    });
    let mut reacted = v.clone();
    reacted
        .react(&bert(), &b1(), Some(Reaction::Like), T)
        .unwrap();
    honest_and_forged("react (remove)", &reacted, &bert(), &carla(), |d, u| {
        ok(d.react(u, &b1(), None, T))
    });
    honest_and_forged("set_volunteer_profile", &v, &bert(), &carla(), |d, u| {
        d.set_volunteer_profile(
            u,
            &VolunteerProfile {
                display_name: String::new(),
                categories: vec![HelpCategory::Garden],
                villages: vec![],
                availability: vec![],
            },
            T,
        )
    });
    honest_and_forged("name_new_profile", &v, &bert(), &carla(), |d, u| {
        d.name_new_profile(u, "Bert", T).map(|_| ())
    });
    let mut profiled = v.clone();
    profiled
        .set_volunteer_profile(&bert(), &VolunteerProfile::default(), T)
        .unwrap();
    honest_and_forged(
        "set_volunteer_profile (replace)",
        &profiled,
        &bert(),
        &carla(),
        |d, u| {
            d.set_volunteer_profile(
                u,
                &VolunteerProfile {
                    display_name: String::new(),
                    categories: vec![HelpCategory::Pets],
                    villages: vec![],
                    availability: vec![],
                },
                T + 1,
            )
        },
    );
}

fn draft() -> AssociationDraft {
    AssociationDraft {
        name: "Fanfare".into(),
        category: AssociationCategory::Music,
        villages: vec![ulft()],
        description: "Muziek".into(),
        contacts: vec![(ContactChannel::Phone, "0315-000000".into())],
        website: String::new(),
    }
}

#[test]
fn municipality_operations() {
    let mut m = municipality();
    m.register_association(&fanfare_admin(), &fanfare(), &draft(), NOW)
        .unwrap();
    let cid = ConsultationId::new("c1").unwrap();
    let consult = ConsultationDraft {
        village: ulft(),
        question: "Bankje?".into(),
        explanation: String::new(),
        closes_at: NOW + DAY,
    };
    let mut other_broker = resident("otto");
    other_broker
        .roles
        .broker_of
        .insert(VillageId::new("varsseveld").unwrap());
    let art = ArticleDraft {
        title: "Titel".into(),
        body: "Tekst".into(),
        village: Some(ulft()),
    };

    honest_and_forged("register_association", &m, &anna(), &bert(), |d, u| {
        d.register_association(u, &AssociationId::new("club").unwrap(), &draft(), T)
    });
    honest_and_forged(
        "edit_association",
        &m,
        &fanfare_admin(),
        &sports_admin(),
        |d, u| d.edit_association(u, &fanfare(), &draft(), T),
    );
    honest_and_forged("publish_news", &m, &broker(), &anna(), |d, u| {
        d.publish_news(u, &NewsId::new("n1").unwrap(), &art, T)
    });
    honest_and_forged(
        "write_knowledge_page",
        &m,
        &muni_admin(),
        &anna(),
        |d, u| d.write_knowledge_page(u, &KnowledgeId::new("k1").unwrap(), &art, T),
    );
    honest_and_forged("open_consultation", &m, &broker(), &other_broker, |d, u| {
        d.open_consultation(u, &cid, &consult, T)
    });
    // Answers are judged while the consultation is still open at the server's clock (`LATER`);
    // the outcome once it closed.
    let mut open = m.clone();
    let still_open = ConsultationDraft {
        closes_at: LATER + DAY,
        ..consult.clone()
    };
    open.open_consultation(&broker(), &cid, &still_open, T)
        .unwrap();
    let mut closed = m.clone();
    closed
        .open_consultation(&broker(), &cid, &consult, T)
        .unwrap();
    honest_and_forged(
        "respond_to_consultation",
        &open,
        &anna(),
        &bert(),
        |d, u| {
            d.respond_to_consultation(
                u,
                &cid,
                &ConsultationResponseId::new("r1").unwrap(),
                "Bij de kerk",
                None,
                T,
            )
        },
    );
    honest_and_forged(
        "respond_to_consultation on behalf",
        &open,
        &fanfare_admin(),
        &sports_admin(),
        |d, u| {
            d.respond_to_consultation(
                u,
                &cid,
                &ConsultationResponseId::new("r1").unwrap(),
                "Namens de fanfare",
                Some(&fanfare()),
                T,
            )
        },
    );
    honest_and_forged("publish_outcome", &closed, &broker(), &anna(), |d, u| {
        d.publish_outcome(u, &cid, "Het wordt de kerk", NOW + 2 * DAY)
    });
}

#[test]
fn conversation_operations() {
    let c = ConversationDoc::new(&anna(), &[uid("bert")], actor(3), NOW);
    honest_and_forged("send_message", &c, &anna(), &carla(), |d, u| {
        d.send_message(u, &MessageId::new("m1").unwrap(), "Hoi", T)
    });
    honest_and_forged("add_participant", &c, &anna(), &carla(), |d, u| {
        d.add_participant(u, &uid("carla"), T)
    });
}
