//! Every typed operation: the happy path and each of its error paths.

mod common;

use common::*;
use model::automerge::Automerge;
use model::*;

fn denied(r: Result<(), OpError>) -> bool {
    matches!(r, Err(OpError::Denied(_)))
}

// ---- help posts ---------------------------------------------------------------------------

#[test]
fn post_help_request_shows_in_open_requests() {
    let mut d = village();
    let mut draft = help("Boodschappen", HelpCategory::Shopping);
    draft.when = Some(TimeWindow {
        start: NOW + DAY,
        end: NOW + DAY + HOUR,
    });
    d.post_help_request(&anna(), &pid("p1"), &draft, NOW)
        .unwrap();
    let open = d.open_requests();
    assert_eq!(open.len(), 1);
    let p = &open[0];
    assert_eq!(
        (p.id.as_str(), p.author.as_str(), p.kind),
        ("p1", "anna", HelpKind::Request)
    );
    assert_eq!(p.status, HelpStatus::Open);
    assert_eq!(p.when, draft.when);
    assert_eq!(p.created_at, NOW);
    assert!(d.open_offers().is_empty());
}

#[test]
fn post_help_offer_is_an_offer() {
    let mut d = village();
    d.post_help_offer(
        &bert(),
        &pid("o1"),
        &help("Ik rijd naar Doetinchem", HelpCategory::Transport),
        NOW,
    )
    .unwrap();
    assert_eq!(d.open_offers()[0].kind, HelpKind::Offer);
    assert!(d.open_requests().is_empty());
}

#[test]
fn post_help_rejects_bad_titles_windows_and_duplicates() {
    let mut d = village();
    let post = |d: &mut VillageDoc, draft: &HelpDraft| {
        d.post_help_request(&anna(), &pid("p1"), draft, NOW)
    };
    assert_eq!(
        post(&mut d, &help("", HelpCategory::Other)),
        Err(OpError::EmptyText { field: "title" })
    );
    assert_eq!(
        post(&mut d, &help("   ", HelpCategory::Other)),
        Err(OpError::EmptyText { field: "title" })
    );
    assert_eq!(
        post(&mut d, &help(&"x".repeat(121), HelpCategory::Other)),
        Err(OpError::TextTooLong {
            field: "title",
            max: 120,
            len: 121
        })
    );
    // The limit counts bytes (UTF-8), as the server's validator does: 60 `ë` are 120 bytes.
    assert!(post(&mut d.clone(), &help(&"ë".repeat(60), HelpCategory::Other)).is_ok());
    assert_eq!(
        post(&mut d.clone(), &help(&"ë".repeat(61), HelpCategory::Other)),
        Err(OpError::TextTooLong {
            field: "title",
            max: 120,
            len: 122
        })
    );
    let mut long = help("ok", HelpCategory::Other);
    long.description = "y".repeat(5001);
    assert!(matches!(
        post(&mut d, &long),
        Err(OpError::TextTooLong {
            field: "description",
            ..
        })
    ));
    let mut backwards = help("ok", HelpCategory::Other);
    backwards.when = Some(TimeWindow {
        start: NOW,
        end: NOW - 1,
    });
    assert_eq!(
        post(&mut d, &backwards),
        Err(OpError::BadTimeWindow {
            start: NOW,
            end: NOW - 1
        })
    );
    post(&mut d, &help("ok", HelpCategory::Other)).unwrap();
    assert!(matches!(
        post(&mut d, &help("again", HelpCategory::Other)),
        Err(OpError::AlreadyExists { .. })
    ));
    assert_eq!(d.help_posts().len(), 1);
}

#[test]
fn operations_refuse_a_document_that_needs_migration() {
    let mut d = VillageDoc::from_automerge(Automerge::new()).unwrap();
    assert_eq!(
        d.post_help_request(&anna(), &pid("p1"), &help("x", HelpCategory::Other), NOW),
        Err(OpError::OutdatedSchema {
            found: 0,
            expected: SCHEMA_VERSION
        })
    );
}

#[test]
fn edit_help_post_by_author_only_while_open() {
    let mut d = village_with_request();
    let mut draft = help("Boodschappen en apotheek", HelpCategory::Shopping);
    assert!(denied(d.edit_help_post(
        &bert(),
        &pid("p1"),
        &draft,
        NOW + 2
    )));
    d.edit_help_post(&anna(), &pid("p1"), &draft, NOW + 2)
        .unwrap();
    let p = d.help_post("p1").unwrap();
    assert_eq!(
        (p.title.as_str(), p.updated_at),
        ("Boodschappen en apotheek", NOW + 2)
    );
    draft.title.clear();
    assert_eq!(
        d.edit_help_post(&anna(), &pid("p1"), &draft, NOW),
        Err(OpError::EmptyText { field: "title" })
    );
    assert!(matches!(
        d.edit_help_post(&anna(), &pid("nope"), &help("x", HelpCategory::Other), NOW),
        Err(OpError::NotFound {
            what: "help post",
            ..
        })
    ));
    d.accept_response(&anna(), &pid("p1"), &rid("r1"), NOW + 3)
        .unwrap();
    assert_eq!(
        d.edit_help_post(
            &anna(),
            &pid("p1"),
            &help("x", HelpCategory::Other),
            NOW + 4
        ),
        Err(OpError::WrongStatus {
            what: "help post",
            status: "matched"
        })
    );
}

#[test]
fn respond_and_its_errors() {
    let mut d = village_with_request();
    let p = d.help_post("p1").unwrap();
    assert_eq!(p.response_count, 1);
    assert_eq!(p.responses[0].author, "bert");
    assert_eq!(
        d.respond(&anna(), &pid("p1"), &rid("r2"), "zelf", NOW),
        Err(OpError::OwnPost)
    );
    assert_eq!(
        d.respond(&bert(), &pid("p1"), &rid("r2"), "nog eens", NOW),
        Err(OpError::AlreadyResponded)
    );
    assert!(matches!(
        d.respond(&carla(), &pid("p1"), &rid("r1"), "x", NOW),
        Err(OpError::AlreadyExists { .. })
    ));
    assert_eq!(
        d.respond(&carla(), &pid("p1"), &rid("r2"), " ", NOW),
        Err(OpError::EmptyText { field: "message" })
    );
    assert!(matches!(
        d.respond(&carla(), &pid("p1"), &rid("r2"), &"z".repeat(2001), NOW),
        Err(OpError::TextTooLong {
            field: "message",
            ..
        })
    ));
    assert!(matches!(
        d.respond(&carla(), &pid("nope"), &rid("r2"), "x", NOW),
        Err(OpError::NotFound { .. })
    ));
    d.respond(&carla(), &pid("p1"), &rid("r2"), "Ik ook", NOW + 2)
        .unwrap();
    assert_eq!(d.help_post("p1").unwrap().response_count, 2);
}

#[test]
fn responding_to_a_withdrawn_or_hidden_request_fails() {
    let mut d = village_with_request();
    d.withdraw(&anna(), &pid("p1"), NOW + 2).unwrap();
    assert_eq!(
        d.respond(&carla(), &pid("p1"), &rid("r2"), "x", NOW + 3),
        Err(OpError::WrongStatus {
            what: "help post",
            status: "withdrawn"
        })
    );
    let mut d = village_with_request();
    d.hide_for_moderation(
        &broker(),
        &ModerationTarget::HelpPost(pid("p1")),
        true,
        "spam",
        NOW + 2,
    )
    .unwrap();
    assert_eq!(
        d.respond(&carla(), &pid("p1"), &rid("r2"), "x", NOW + 3),
        Err(OpError::Hidden { what: "help post" })
    );
}

#[test]
fn accept_response_matches_the_post() {
    let mut d = village_with_request();
    assert!(denied(d.accept_response(
        &bert(),
        &pid("p1"),
        &rid("r1"),
        NOW + 2
    )));
    assert!(matches!(
        d.accept_response(&anna(), &pid("p1"), &rid("r9"), NOW + 2),
        Err(OpError::NotFound {
            what: "response",
            ..
        })
    ));
    d.accept_response(&anna(), &pid("p1"), &rid("r1"), NOW + 2)
        .unwrap();
    let p = d.help_post("p1").unwrap();
    assert_eq!(
        (p.status, p.accepted_response.as_deref()),
        (HelpStatus::Matched, Some("r1"))
    );
    assert!(d.open_requests().is_empty());
    assert_eq!(
        d.accept_response(&anna(), &pid("p1"), &rid("r1"), NOW + 3),
        Err(OpError::WrongStatus {
            what: "help post",
            status: "matched"
        })
    );
    let mut w = village_with_request();
    w.withdraw(&anna(), &pid("p1"), NOW + 2).unwrap();
    assert!(matches!(
        w.accept_response(&anna(), &pid("p1"), &rid("r1"), NOW + 3),
        Err(OpError::WrongStatus { .. })
    ));
}

#[test]
fn mark_done_after_match_only() {
    let mut d = village_with_request();
    assert_eq!(
        d.mark_done(&anna(), &pid("p1"), NOW + 2),
        Err(OpError::WrongStatus {
            what: "help post",
            status: "open"
        })
    );
    d.accept_response(&anna(), &pid("p1"), &rid("r1"), NOW + 2)
        .unwrap();
    assert!(denied(d.mark_done(&bert(), &pid("p1"), NOW + 3)));
    assert!(matches!(
        d.mark_done(&anna(), &pid("zz"), NOW + 3),
        Err(OpError::NotFound { .. })
    ));
    d.mark_done(&anna(), &pid("p1"), NOW + 3).unwrap();
    assert_eq!(d.help_post("p1").unwrap().status, HelpStatus::Done);
    assert!(matches!(
        d.mark_done(&anna(), &pid("p1"), NOW + 4),
        Err(OpError::WrongStatus { status: "done", .. })
    ));
    assert!(matches!(
        d.withdraw(&anna(), &pid("p1"), NOW + 4),
        Err(OpError::WrongStatus { status: "done", .. })
    ));
}

#[test]
fn withdraw_by_author_or_broker() {
    let mut d = village_with_request();
    assert!(denied(d.withdraw(&bert(), &pid("p1"), NOW + 2)));
    d.clone().withdraw(&anna(), &pid("p1"), NOW + 2).unwrap();
    d.withdraw(&broker(), &pid("p1"), NOW + 2).unwrap();
    assert_eq!(d.help_post("p1").unwrap().status, HelpStatus::Withdrawn);
    assert!(matches!(
        d.withdraw(&anna(), &pid("p1"), NOW + 3),
        Err(OpError::WrongStatus {
            status: "withdrawn",
            ..
        })
    ));
    assert!(matches!(
        d.withdraw(&anna(), &pid("x"), NOW + 3),
        Err(OpError::NotFound { .. })
    ));
}

#[test]
fn hide_for_moderation_is_for_the_broker() {
    let mut d = village_with_request();
    let t = ModerationTarget::HelpPost(pid("p1"));
    assert!(denied(d.hide_for_moderation(
        &anna(),
        &t,
        true,
        "spam",
        NOW + 2
    )));
    // A broker of another village is not a broker here.
    let mut other = resident("otto");
    other
        .roles
        .broker_of
        .insert(VillageId::new("varsseveld").unwrap());
    assert!(denied(d.hide_for_moderation(
        &other,
        &t,
        true,
        "spam",
        NOW + 2
    )));
    d.hide_for_moderation(&broker(), &t, true, "spam", NOW + 2)
        .unwrap();
    assert!(d.open_requests().is_empty());
    d.hide_for_moderation(&broker(), &t, false, "spam", NOW + 3)
        .unwrap();
    assert_eq!(d.open_requests().len(), 1);
    d.hide_for_moderation(
        &broker(),
        &ModerationTarget::Response(pid("p1"), rid("r1")),
        true,
        "spam",
        NOW + 4,
    )
    .unwrap();
    assert!(d.help_post("p1").unwrap().responses[0].hidden);
    assert!(matches!(
        d.hide_for_moderation(
            &broker(),
            &ModerationTarget::Event(EventId::new("e").unwrap()),
            true,
            "spam",
            NOW
        ),
        Err(OpError::NotFound { .. })
    ));
}

// ---- initiatives --------------------------------------------------------------------------

fn iid(s: &str) -> InitiativeId {
    InitiativeId::new(s).unwrap()
}
fn nid(s: &str) -> NeedId {
    NeedId::new(s).unwrap()
}
fn fanfare() -> AssociationId {
    AssociationId::new("fanfare").unwrap()
}
fn vv() -> AssociationId {
    AssociationId::new("vv-ulft").unwrap()
}

fn initiative_draft(lead: Option<AssociationId>) -> InitiativeDraft {
    InitiativeDraft {
        title: "Speeltuin opknappen".into(),
        plan: "Eerst schuren".into(),
        lead_association: lead,
    }
}

/// Arie (fanfare admin) leads initiative `i1`.
fn village_with_initiative() -> VillageDoc {
    let mut d = village();
    d.create_initiative(
        &fanfare_admin(),
        &iid("i1"),
        &initiative_draft(Some(fanfare())),
        NOW,
    )
    .unwrap();
    d
}

#[test]
fn create_initiative_and_its_errors() {
    let d = village_with_initiative();
    let i = d.initiative("i1").unwrap();
    assert_eq!(
        (i.status, i.lead_association.as_deref(), i.plan.as_str()),
        (InitiativeStatus::Idea, Some("fanfare"), "Eerst schuren")
    );
    let mut d2 = d.clone();
    assert!(denied(d2.create_initiative(
        &anna(),
        &iid("i2"),
        &initiative_draft(Some(fanfare())),
        NOW
    )));
    d2.create_initiative(&anna(), &iid("i2"), &initiative_draft(None), NOW)
        .unwrap();
    assert!(matches!(
        d2.create_initiative(&anna(), &iid("i2"), &initiative_draft(None), NOW),
        Err(OpError::AlreadyExists { .. })
    ));
    let mut empty = initiative_draft(None);
    empty.title = String::new();
    assert_eq!(
        d2.create_initiative(&anna(), &iid("i3"), &empty, NOW),
        Err(OpError::EmptyText { field: "title" })
    );
}

#[test]
fn join_initiative_as_partner_and_its_errors() {
    let mut d = village_with_initiative();
    assert!(denied(d.join_initiative_as_partner(
        &anna(),
        &iid("i1"),
        &vv(),
        NOW + 1
    )));
    assert_eq!(
        d.join_initiative_as_partner(&fanfare_admin(), &iid("i1"), &fanfare(), NOW + 1),
        Err(OpError::AlreadyPartner)
    );
    d.join_initiative_as_partner(&sports_admin(), &iid("i1"), &vv(), NOW + 1)
        .unwrap();
    assert_eq!(d.initiative("i1").unwrap().partners, vec!["vv-ulft"]);
    assert_eq!(
        d.join_initiative_as_partner(&sports_admin(), &iid("i1"), &vv(), NOW + 2),
        Err(OpError::AlreadyPartner)
    );
    assert!(matches!(
        d.join_initiative_as_partner(&sports_admin(), &iid("zz"), &vv(), NOW),
        Err(OpError::NotFound { .. })
    ));
    // A partner's admin may add needs and edit the plan.
    d.add_need(&sports_admin(), &iid("i1"), &nid("n1"), "Kwasten", NOW + 3)
        .unwrap();
    d.edit_plan(
        &sports_admin(),
        &iid("i1"),
        "Eerst schuren, dan verven",
        NOW + 4,
    )
    .unwrap();
    assert_eq!(
        d.initiative("i1").unwrap().plan,
        "Eerst schuren, dan verven"
    );
}

#[test]
fn initiative_status_moves_idea_running_done() {
    let mut d = village_with_initiative();
    assert!(denied(d.start_initiative(&anna(), &iid("i1"), NOW + 1)));
    assert!(matches!(
        d.complete_initiative(&fanfare_admin(), &iid("i1"), NOW + 1),
        Err(OpError::WrongStatus { status: "idea", .. })
    ));
    d.start_initiative(&fanfare_admin(), &iid("i1"), NOW + 1)
        .unwrap();
    assert!(matches!(
        d.start_initiative(&fanfare_admin(), &iid("i1"), NOW + 2),
        Err(OpError::WrongStatus {
            status: "running",
            ..
        })
    ));
    d.complete_initiative(&fanfare_admin(), &iid("i1"), NOW + 2)
        .unwrap();
    assert_eq!(d.initiative("i1").unwrap().status, InitiativeStatus::Done);
    assert!(matches!(
        d.join_initiative_as_partner(&sports_admin(), &iid("i1"), &vv(), NOW + 3),
        Err(OpError::WrongStatus {
            what: "initiative",
            status: "done"
        })
    ));
    assert!(matches!(
        d.add_need(&fanfare_admin(), &iid("i1"), &nid("n"), "x", NOW),
        Err(OpError::WrongStatus { .. })
    ));
}

#[test]
fn needs_are_added_by_organisers_and_filled_once() {
    let mut d = village_with_initiative();
    assert!(denied(d.add_need(
        &anna(),
        &iid("i1"),
        &nid("n1"),
        "Aanhanger",
        NOW + 1
    )));
    assert_eq!(
        d.add_need(&fanfare_admin(), &iid("i1"), &nid("n1"), "", NOW + 1),
        Err(OpError::EmptyText { field: "title" })
    );
    d.add_need(
        &fanfare_admin(),
        &iid("i1"),
        &nid("n1"),
        "Aanhanger",
        NOW + 1,
    )
    .unwrap();
    assert!(matches!(
        d.add_need(&fanfare_admin(), &iid("i1"), &nid("n1"), "x", NOW),
        Err(OpError::AlreadyExists { .. })
    ));
    assert_eq!(d.initiatives_needing_help().len(), 1);
    d.fill_need(&anna(), &iid("i1"), &nid("n1"), NOW + 2)
        .unwrap();
    assert_eq!(
        d.fill_need(&bert(), &iid("i1"), &nid("n1"), NOW + 3),
        Err(OpError::NeedAlreadyFilled)
    );
    assert!(matches!(
        d.fill_need(&bert(), &iid("i1"), &nid("n9"), NOW + 3),
        Err(OpError::NotFound { what: "need", .. })
    ));
    assert_eq!(
        d.initiative("i1").unwrap().needs[0].filled_by.as_deref(),
        Some("anna")
    );
    assert!(d.initiatives_needing_help().is_empty());
}

#[test]
fn hidden_or_missing_initiatives_refuse_work() {
    let mut d = village_with_initiative();
    assert!(matches!(
        d.edit_plan(&fanfare_admin(), &iid("i1"), &"p".repeat(5001), NOW),
        Err(OpError::TextTooLong { field: "plan", .. })
    ));
    assert!(matches!(
        d.post_update(
            &fanfare_admin(),
            &iid("zz"),
            &UpdateId::new("u").unwrap(),
            "x",
            NOW
        ),
        Err(OpError::NotFound {
            what: "initiative",
            ..
        })
    ));
    assert!(matches!(
        d.start_initiative(&fanfare_admin(), &iid("zz"), NOW),
        Err(OpError::NotFound { .. })
    ));
    d.hide_for_moderation(
        &broker(),
        &ModerationTarget::Initiative(iid("i1")),
        true,
        "spam",
        NOW + 1,
    )
    .unwrap();
    assert_eq!(
        d.join_initiative_as_partner(&sports_admin(), &iid("i1"), &vv(), NOW + 2),
        Err(OpError::Hidden { what: "initiative" })
    );
    assert_eq!(
        d.fill_need(&anna(), &iid("i1"), &nid("n1"), NOW + 2),
        Err(OpError::Hidden { what: "initiative" })
    );
    assert!(d.initiatives_needing_help().is_empty());
}

#[test]
fn updates_and_plan_edits_by_organisers() {
    let mut d = village_with_initiative();
    let u = UpdateId::new("u1").unwrap();
    assert!(denied(d.post_update(
        &anna(),
        &iid("i1"),
        &u,
        "Nieuws",
        NOW + 1
    )));
    assert!(denied(d.edit_plan(
        &anna(),
        &iid("i1"),
        "weg ermee",
        NOW + 1
    )));
    assert_eq!(
        d.post_update(&fanfare_admin(), &iid("i1"), &u, "", NOW + 1),
        Err(OpError::EmptyText { field: "body" })
    );
    d.post_update(&fanfare_admin(), &iid("i1"), &u, "Verf is binnen", NOW + 1)
        .unwrap();
    assert!(matches!(
        d.post_update(&fanfare_admin(), &iid("i1"), &u, "x", NOW),
        Err(OpError::AlreadyExists { .. })
    ));
    assert_eq!(
        d.initiative("i1").unwrap().updates[0].body,
        "Verf is binnen"
    );
}

// ---- events -------------------------------------------------------------------------------

fn eid(s: &str) -> EventId {
    EventId::new(s).unwrap()
}

fn event_draft(needed: u64) -> EventDraft {
    EventDraft {
        title: "Dorpsfeest".into(),
        description: "Muziek en eten".into(),
        when: TimeWindow {
            start: NOW + 7 * DAY,
            end: NOW + 7 * DAY + 5 * HOUR,
        },
        place: "Marktplein".into(),
        volunteers_needed: needed,
        organiser: None,
    }
}

#[test]
fn create_event_and_its_errors() {
    let mut d = village();
    let mut bad = event_draft(2);
    bad.when.end = bad.when.start - 1;
    assert!(matches!(
        d.create_event(&anna(), &eid("e1"), &bad, NOW),
        Err(OpError::BadTimeWindow { .. })
    ));
    assert!(matches!(
        d.create_event(&anna(), &eid("e1"), &event_draft(1001), NOW),
        Err(OpError::OutOfRange { .. })
    ));
    let mut org = event_draft(2);
    org.organiser = Some(fanfare());
    assert!(denied(d.create_event(&anna(), &eid("e1"), &org, NOW)));
    d.create_event(&fanfare_admin(), &eid("e1"), &org, NOW)
        .unwrap();
    assert!(matches!(
        d.create_event(&anna(), &eid("e1"), &event_draft(2), NOW),
        Err(OpError::AlreadyExists { .. })
    ));
    assert_eq!(d.event("e1").unwrap().organiser.as_deref(), Some("fanfare"));
    assert_eq!(d.upcoming_events(NOW, 2).len(), 1);
    assert!(d.upcoming_events(NOW, 0).is_empty());
}

#[test]
fn sign_up_once_while_there_is_room() {
    let mut d = village();
    d.create_event(&anna(), &eid("e1"), &event_draft(1), NOW)
        .unwrap();
    d.sign_up(&bert(), &eid("e1"), NOW + 1).unwrap();
    assert_eq!(
        d.sign_up(&bert(), &eid("e1"), NOW + 2),
        Err(OpError::AlreadySignedUp)
    );
    assert_eq!(
        d.sign_up(&carla(), &eid("e1"), NOW + 2),
        Err(OpError::EventFull)
    );
    assert!(matches!(
        d.sign_up(&carla(), &eid("zz"), NOW),
        Err(OpError::NotFound { .. })
    ));
    assert_eq!(
        d.cancel_sign_up(&carla(), &eid("e1"), NOW + 3),
        Err(OpError::NotSignedUp)
    );
    d.cancel_sign_up(&bert(), &eid("e1"), NOW + 3).unwrap();
    d.sign_up(&carla(), &eid("e1"), NOW + 4).unwrap();
    assert_eq!(d.event("e1").unwrap().signed_up, vec!["carla"]);
    assert!(matches!(
        d.sign_up(&bert(), &eid("e1"), NOW + 8 * DAY),
        Err(OpError::WrongStatus { status: "over", .. })
    ));
    d.hide_for_moderation(
        &broker(),
        &ModerationTarget::Event(eid("e1")),
        true,
        "spam",
        NOW + 5,
    )
    .unwrap();
    assert_eq!(
        d.sign_up(&bert(), &eid("e1"), NOW + 6),
        Err(OpError::Hidden { what: "event" })
    );
}

#[test]
fn cancel_event_by_organiser_or_broker() {
    let mut d = village();
    d.create_event(&anna(), &eid("e1"), &event_draft(2), NOW)
        .unwrap();
    assert!(denied(d.cancel_event(&bert(), &eid("e1"), NOW + 1)));
    assert!(matches!(
        d.cancel_event(&anna(), &eid("zz"), NOW + 1),
        Err(OpError::NotFound { .. })
    ));
    d.clone()
        .cancel_event(&broker(), &eid("e1"), NOW + 1)
        .unwrap();
    d.cancel_event(&anna(), &eid("e1"), NOW + 1).unwrap();
    assert!(d.event("e1").unwrap().cancelled);
    assert!(d.upcoming_events(NOW, 2).is_empty());
    assert_eq!(
        d.cancel_event(&anna(), &eid("e1"), NOW + 2),
        Err(OpError::WrongStatus {
            what: "event",
            status: "cancelled"
        })
    );
    assert_eq!(
        d.sign_up(&bert(), &eid("e1"), NOW + 2),
        Err(OpError::WrongStatus {
            what: "event",
            status: "cancelled"
        })
    );
}

// ---- board --------------------------------------------------------------------------------

fn bid(s: &str) -> BoardPostId {
    BoardPostId::new(s).unwrap()
}

#[test]
fn board_posts_comments_and_reactions() {
    let mut d = village();
    assert_eq!(
        d.post(&anna(), &bid("b1"), "", NOW),
        Err(OpError::EmptyText { field: "body" })
    );
    assert!(matches!(
        d.post(&anna(), &bid("b1"), &"x".repeat(5001), NOW),
        Err(OpError::TextTooLong { .. })
    ));
    d.post(&anna(), &bid("b1"), "Wie heeft mijn kat gezien?", NOW)
        .unwrap();
    assert!(matches!(
        d.post(&anna(), &bid("b1"), "x", NOW),
        Err(OpError::AlreadyExists { .. })
    ));
    let c = CommentId::new("c1").unwrap();
    d.comment(&bert(), &bid("b1"), &c, "Bij de kerk!", NOW + 1)
        .unwrap();
    assert!(matches!(
        d.comment(&bert(), &bid("b1"), &c, "x", NOW),
        Err(OpError::AlreadyExists { .. })
    ));
    assert!(matches!(
        d.comment(
            &bert(),
            &bid("b9"),
            &CommentId::new("c2").unwrap(),
            "x",
            NOW
        ),
        Err(OpError::NotFound { .. })
    ));
    d.react(&bert(), &bid("b1"), Some(Reaction::Like), NOW + 2)
        .unwrap();
    d.react(&carla(), &bid("b1"), Some(Reaction::Like), NOW + 2)
        .unwrap();
    d.react(&carla(), &bid("b1"), Some(Reaction::Heart), NOW + 3)
        .unwrap();
    let b = &d.board()[0];
    assert_eq!(b.comments[0].body, "Bij de kerk!");
    assert_eq!(
        b.reactions,
        vec![("heart".to_string(), 1), ("like".to_string(), 1)]
    );
    d.react(&bert(), &bid("b1"), None, NOW + 4).unwrap();
    assert_eq!(d.board()[0].reactions, vec![("heart".to_string(), 1)]);
    d.hide_for_moderation(
        &broker(),
        &ModerationTarget::BoardPost(bid("b1")),
        true,
        "spam",
        NOW + 5,
    )
    .unwrap();
    assert!(d.board().is_empty());
    assert_eq!(
        d.comment(
            &bert(),
            &bid("b1"),
            &CommentId::new("c2").unwrap(),
            "x",
            NOW
        ),
        Err(OpError::Hidden { what: "board post" })
    );
    assert_eq!(
        d.react(&bert(), &bid("b1"), Some(Reaction::Thanks), NOW),
        Err(OpError::Hidden { what: "board post" })
    );
}

#[test]
fn volunteer_profile_is_set_and_replaced() {
    let mut d = village();
    let mut p = VolunteerProfile {
        display_name: String::new(),
        categories: vec![HelpCategory::Garden, HelpCategory::Transport],
        villages: vec![VillageId::new("gendringen").unwrap()],
        availability: vec![TimeWindow {
            start: NOW,
            end: NOW + HOUR,
        }],
    };
    d.set_volunteer_profile(&bert(), &p, NOW).unwrap();
    p.categories = vec![HelpCategory::Digital];
    p.availability.clear();
    d.set_volunteer_profile(&bert(), &p, NOW + 1).unwrap();
    let v = d.volunteer_profiles();
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0].user.as_str(), v[0].home_village.as_str()),
        ("bert", "ulft")
    );
    assert_eq!(v[0].categories, vec![HelpCategory::Digital]);
    assert_eq!(v[0].villages, vec!["gendringen"]);
    assert!(v[0].availability.is_empty());
    p.availability = vec![TimeWindow { start: 5, end: 4 }];
    assert!(matches!(
        d.set_volunteer_profile(&bert(), &p, NOW),
        Err(OpError::BadTimeWindow { .. })
    ));
}

#[test]
fn a_new_profile_is_named_once_and_a_chosen_one_is_kept() {
    let mut d = village();
    assert_eq!(d.name_new_profile(&bert(), " Bert ", NOW), Ok(true));
    assert_eq!(d.display_name("bert").as_deref(), Some("Bert"));
    assert_eq!(d.volunteer_profiles()[0].categories, vec![]);
    // Named already, or a profile made without a name: left as it is.
    assert_eq!(d.name_new_profile(&bert(), "Bertus", NOW + 1), Ok(false));
    assert_eq!(d.display_name("bert").as_deref(), Some("Bert"));
    d.set_volunteer_profile(&carla(), &VolunteerProfile::default(), NOW)
        .unwrap();
    assert_eq!(d.name_new_profile(&carla(), "Carla", NOW + 1), Ok(false));
    assert_eq!(d.display_name("carla"), None);
    assert!(matches!(
        d.name_new_profile(&anna(), "   ", NOW),
        Err(OpError::EmptyText { .. })
    ));
}

#[test]
fn display_name_is_shown_trimmed_and_bounded() {
    let mut d = village();
    assert_eq!(d.display_name("bert"), None);
    let mut p = VolunteerProfile {
        display_name: "  Bert van de Molen ".into(),
        ..VolunteerProfile::default()
    };
    d.set_volunteer_profile(&bert(), &p, NOW).unwrap();
    assert_eq!(d.display_name("bert").as_deref(), Some("Bert van de Molen"));
    assert_eq!(d.volunteer_profiles()[0].display_name, "Bert van de Molen");
    p.display_name = "x".repeat(model::schema::limits::TITLE + 1);
    assert!(matches!(
        d.set_volunteer_profile(&bert(), &p, NOW + 1),
        Err(OpError::TextTooLong {
            field: "display_name",
            ..
        })
    ));
    assert_eq!(d.display_name("bert").as_deref(), Some("Bert van de Molen"));
    // Clearing the name shows none again.
    p.display_name = String::new();
    d.set_volunteer_profile(&bert(), &p, NOW + 2).unwrap();
    assert_eq!(d.display_name("bert"), None);
}

// ---- municipality -------------------------------------------------------------------------

fn association_draft(villages: &[&str]) -> AssociationDraft {
    AssociationDraft {
        name: "Fanfare Ulft".into(),
        category: AssociationCategory::Music,
        villages: villages
            .iter()
            .map(|v| VillageId::new(*v).unwrap())
            .collect(),
        description: "Muziek sinds 1901".into(),
        contacts: vec![(ContactChannel::Email, "info@fanfare.example".into())],
        website: "https://fanfare.example".into(),
    }
}

#[test]
fn granting_a_broker_gives_the_role() {
    let mut m = municipality();
    assert!(matches!(
        m.grant_broker(&VillageId::new("nope").unwrap(), &uid("bea"), NOW),
        Err(OpError::NotFound { .. })
    ));
    assert_eq!(m.grant_broker(&ulft(), &uid("bea"), NOW), Ok(true));
    assert_eq!(m.grant_broker(&ulft(), &uid("bea"), NOW), Ok(false));
    assert!(m.roles_of(&uid("bea"), false).broker_of.contains(&ulft()));
    assert!(m.roles_of(&uid("anna"), false).broker_of.is_empty());
    assert_eq!(
        m.villages()
            .iter()
            .find(|v| v.id == "ulft")
            .unwrap()
            .brokers,
        vec!["bea"]
    );
}

#[test]
fn register_and_edit_association() {
    let mut m = municipality();
    let a = fanfare();
    assert!(matches!(
        m.register_association(&anna(), &a, &association_draft(&["nope"]), NOW),
        Err(OpError::UnknownVillage(_))
    ));
    assert!(matches!(
        m.register_association(&anna(), &a, &association_draft(&[]), NOW),
        Err(OpError::OutOfRange { .. })
    ));
    let mut unnamed = association_draft(&["ulft"]);
    unnamed.name.clear();
    assert_eq!(
        m.register_association(&anna(), &a, &unnamed, NOW),
        Err(OpError::EmptyText { field: "name" })
    );
    m.register_association(&anna(), &a, &association_draft(&["ulft"]), NOW)
        .unwrap();
    assert!(matches!(
        m.register_association(&bert(), &a, &association_draft(&["ulft"]), NOW),
        Err(OpError::AlreadyExists { .. })
    ));
    let anna_admin = User {
        id: uid("anna"),
        roles: m.roles_of(&uid("anna"), false),
    };
    assert!(anna_admin.is_admin_of(&a));
    let mut edit = association_draft(&["ulft", "gendringen"]);
    edit.description = "Nu ook in Gendringen".into();
    assert!(denied(m.edit_association(&bert(), &a, &edit, NOW + 1)));
    m.edit_association(&anna_admin, &a, &edit, NOW + 1).unwrap();
    m.edit_association(&muni_admin(), &a, &edit, NOW + 2)
        .unwrap();
    assert!(matches!(
        m.edit_association(&muni_admin(), &vv(), &edit, NOW),
        Err(OpError::NotFound { .. })
    ));
    let page = m.association("fanfare").unwrap();
    assert_eq!(page.villages, vec!["gendringen", "ulft"]);
    assert_eq!(
        page.contacts,
        vec![("email".to_string(), "info@fanfare.example".to_string())]
    );
    assert_eq!(page.admins, vec!["anna"]);
    // The server grants admins and members; granting twice writes nothing.
    assert_eq!(m.grant_association_admin(&a, &uid("bert"), NOW), Ok(true));
    assert_eq!(m.grant_association_admin(&a, &uid("bert"), NOW), Ok(false));
    assert_eq!(
        m.association("fanfare").unwrap().admins,
        vec!["anna", "bert"]
    );
    assert_eq!(m.grant_association_member(&a, &uid("cor"), NOW), Ok(true));
    assert_eq!(m.grant_association_member(&a, &uid("cor"), NOW), Ok(false));
    let cor = m.roles_of(&uid("cor"), false);
    assert!(cor.member_of.contains(&a) && cor.admin_of.is_empty());
    assert!(matches!(
        m.grant_association_member(&vv(), &uid("cor"), NOW),
        Err(OpError::NotFound { .. })
    ));
}

#[test]
fn revoking_takes_roles_away_and_granting_gives_them_back() {
    let mut m = municipality();
    let a = fanfare();
    m.register_association(&anna(), &a, &association_draft(&["ulft"]), NOW)
        .unwrap();
    m.grant_broker(&ulft(), &uid("bea"), NOW).unwrap();
    m.grant_association_admin(&a, &uid("bert"), NOW).unwrap();
    m.grant_association_member(&a, &uid("cor"), NOW).unwrap();

    assert_eq!(m.revoke_broker(&ulft(), &uid("bea"), NOW + 1), Ok(true));
    assert_eq!(m.revoke_broker(&ulft(), &uid("bea"), NOW + 1), Ok(false));
    assert!(m.roles_of(&uid("bea"), false).broker_of.is_empty());
    let brokers = |m: &MunicipalityDoc| {
        m.villages()
            .into_iter()
            .find(|v| v.id == "ulft")
            .unwrap()
            .brokers
    };
    assert!(brokers(&m).is_empty());
    assert!(matches!(
        m.revoke_broker(&VillageId::new("nope").unwrap(), &uid("bea"), NOW),
        Err(OpError::NotFound { .. })
    ));

    assert_eq!(
        m.revoke_association_admin(&a, &uid("bert"), NOW + 2),
        Ok(true)
    );
    assert_eq!(
        m.revoke_association_admin(&a, &uid("bert"), NOW + 2),
        Ok(false)
    );
    assert!(m.roles_of(&uid("bert"), false).admin_of.is_empty());
    assert_eq!(m.association("fanfare").unwrap().admins, vec!["anna"]);
    // Taking one role leaves the others: Cor is still a member, Anna still admin.
    assert!(m.roles_of(&uid("cor"), false).member_of.contains(&a));
    assert_eq!(
        m.revoke_association_member(&a, &uid("cor"), NOW + 3),
        Ok(true)
    );
    assert!(m.roles_of(&uid("cor"), false).member_of.is_empty());
    assert!(m.roles_of(&uid("anna"), false).admin_of.contains(&a));
    // No members list at all (nobody ever joined): nothing to take.
    assert_eq!(
        m.revoke_association_member(&a, &uid("anna"), NOW + 3),
        Ok(false)
    );
    assert!(matches!(
        m.revoke_association_admin(&vv(), &uid("anna"), NOW),
        Err(OpError::NotFound { .. })
    ));

    // Granted again after being taken away.
    assert_eq!(m.grant_broker(&ulft(), &uid("bea"), NOW + 4), Ok(true));
    assert_eq!(brokers(&m), vec!["bea"]);
    assert_eq!(
        m.grant_association_admin(&a, &uid("bert"), NOW + 4),
        Ok(true)
    );
    assert!(m.roles_of(&uid("bert"), false).admin_of.contains(&a));
}

#[test]
fn news_and_knowledge_by_municipality_and_brokers() {
    let mut m = municipality();
    let art = ArticleDraft {
        title: "Nieuwe subsidie".into(),
        body: "Vraag aan voor 1 mei".into(),
        village: None,
    };
    assert!(denied(m.publish_news(
        &anna(),
        &NewsId::new("n1").unwrap(),
        &art,
        NOW
    )));
    m.publish_news(&broker(), &NewsId::new("n1").unwrap(), &art, NOW)
        .unwrap();
    assert!(matches!(
        m.publish_news(&broker(), &NewsId::new("n1").unwrap(), &art, NOW),
        Err(OpError::AlreadyExists { .. })
    ));
    let k = KnowledgeId::new("wie-is-mijn-makelaar").unwrap();
    assert!(denied(m.write_knowledge_page(&anna(), &k, &art, NOW)));
    let mut bad = art.clone();
    bad.body.clear();
    assert_eq!(
        m.write_knowledge_page(&muni_admin(), &k, &bad, NOW),
        Err(OpError::EmptyText { field: "body" })
    );
    bad.village = Some(VillageId::new("atlantis").unwrap());
    bad.body = "x".into();
    assert!(matches!(
        m.write_knowledge_page(&muni_admin(), &k, &bad, NOW),
        Err(OpError::UnknownVillage(_))
    ));
    m.write_knowledge_page(&muni_admin(), &k, &art, NOW)
        .unwrap();
    assert_eq!(m.news()[0].title, "Nieuwe subsidie");
    assert_eq!(m.knowledge()[0].id, "wie-is-mijn-makelaar");
}

fn cid(s: &str) -> ConsultationId {
    ConsultationId::new(s).unwrap()
}
fn crid(s: &str) -> ConsultationResponseId {
    ConsultationResponseId::new(s).unwrap()
}

fn consultation_draft(village: &str) -> ConsultationDraft {
    ConsultationDraft {
        village: VillageId::new(village).unwrap(),
        question: "Waar moet het nieuwe bankje staan?".into(),
        explanation: "Er is budget voor één bankje.".into(),
        closes_at: NOW + 14 * DAY,
    }
}

#[test]
fn consultations_open_respond_and_report_back() {
    let mut m = municipality();
    assert!(denied(m.open_consultation(
        &anna(),
        &cid("c1"),
        &consultation_draft("ulft"),
        NOW
    )));
    assert!(denied(m.open_consultation(
        &broker(),
        &cid("c1"),
        &consultation_draft("varsseveld"),
        NOW
    )));
    let mut past = consultation_draft("ulft");
    past.closes_at = NOW;
    assert!(matches!(
        m.open_consultation(&broker(), &cid("c1"), &past, NOW),
        Err(OpError::OutOfRange {
            field: "closes_at",
            ..
        })
    ));
    assert!(matches!(
        m.open_consultation(&broker(), &cid("c1"), &consultation_draft("atlantis"), NOW),
        Err(OpError::UnknownVillage(_))
    ));
    m.open_consultation(&broker(), &cid("c1"), &consultation_draft("ulft"), NOW)
        .unwrap();
    assert!(matches!(
        m.open_consultation(&broker(), &cid("c1"), &consultation_draft("ulft"), NOW),
        Err(OpError::AlreadyExists { .. })
    ));

    m.respond_to_consultation(
        &anna(),
        &cid("c1"),
        &crid("r1"),
        "Bij de kerk",
        None,
        NOW + 1,
    )
    .unwrap();
    assert_eq!(
        m.respond_to_consultation(&anna(), &cid("c1"), &crid("r2"), "Nog eens", None, NOW + 2),
        Err(OpError::AlreadyResponded)
    );
    assert!(denied(m.respond_to_consultation(
        &anna(),
        &cid("c1"),
        &crid("r2"),
        "Namens",
        Some(&fanfare()),
        NOW + 2
    )));
    m.respond_to_consultation(
        &fanfare_admin(),
        &cid("c1"),
        &crid("r2"),
        "Namens de fanfare: bij de muziektent",
        Some(&fanfare()),
        NOW + 2,
    )
    .unwrap();
    assert!(matches!(
        m.respond_to_consultation(&bert(), &cid("c1"), &crid("r2"), "x", None, NOW),
        Err(OpError::AlreadyExists { .. })
    ));
    assert_eq!(
        m.respond_to_consultation(&bert(), &cid("c1"), &crid("r3"), "", None, NOW),
        Err(OpError::EmptyText { field: "body" })
    );
    let closed = NOW + 15 * DAY;
    assert_eq!(
        m.respond_to_consultation(&bert(), &cid("c1"), &crid("r3"), "Te laat", None, closed),
        Err(OpError::ConsultationClosed)
    );

    assert_eq!(
        m.publish_outcome(&broker(), &cid("c1"), "Het wordt de kerk", NOW + 3),
        Err(OpError::ConsultationStillOpen)
    );
    assert!(denied(m.publish_outcome(
        &anna(),
        &cid("c1"),
        "Ik beslis",
        closed
    )));
    m.publish_outcome(&broker(), &cid("c1"), "Het wordt de kerk", closed)
        .unwrap();
    assert!(matches!(
        m.publish_outcome(&broker(), &cid("c1"), "nog eens", closed),
        Err(OpError::AlreadyExists { .. })
    ));
    let c = m.consultation("c1", closed).unwrap();
    assert_eq!(c.status, ConsultationStatus::Reported);
    assert_eq!(c.outcome.as_deref(), Some("Het wordt de kerk"));
    assert_eq!(c.responses.len(), 2);
    assert_eq!(c.responses[1].on_behalf_of.as_deref(), Some("fanfare"));
    assert_eq!(m.consultations_for("ulft", NOW).len(), 1);
    assert_eq!(
        m.consultation("c1", NOW).map(|c| c.status),
        Some(ConsultationStatus::Reported)
    );
}

// ---- conversations ------------------------------------------------------------------------

#[test]
fn conversations_are_for_their_participants() {
    let mut c = ConversationDoc::new(&anna(), &[uid("bert")], actor(3), NOW);
    assert!(c.can_read("anna") && c.can_read("bert") && !c.can_read("carla"));
    let m = |s: &str| MessageId::new(s).unwrap();
    c.send_message(&anna(), &m("m1"), "Hoi Bert", NOW + 1)
        .unwrap();
    c.send_message(&bert(), &m("m2"), "Hoi Anna", NOW + 2)
        .unwrap();
    assert!(denied(c.send_message(
        &carla(),
        &m("m3"),
        "Mag ik meedoen?",
        NOW + 3
    )));
    assert_eq!(
        c.send_message(&bert(), &m("m3"), "", NOW),
        Err(OpError::EmptyText { field: "body" })
    );
    assert!(matches!(
        c.send_message(&bert(), &m("m2"), "x", NOW),
        Err(OpError::AlreadyExists { .. })
    ));
    assert!(denied(c.add_participant(&carla(), &uid("carla"), NOW)));
    c.add_participant(&anna(), &uid("carla"), NOW + 4).unwrap();
    assert!(matches!(
        c.add_participant(&anna(), &uid("carla"), NOW),
        Err(OpError::AlreadyExists { .. })
    ));
    let bodies: Vec<_> = c.messages().into_iter().map(|m| m.body).collect();
    assert_eq!(bodies, vec!["Hoi Bert", "Hoi Anna"]);
    assert_eq!(c.participants(), vec!["anna", "bert", "carla"]);
}

// ---- documents ----------------------------------------------------------------------------

#[test]
fn save_load_round_trip_and_kind_checks() {
    let d = village_with_request();
    let bytes = d.save();
    let back = VillageDoc::load(&bytes).unwrap();
    assert_eq!(back.help_posts(), d.help_posts());
    assert_eq!(back.village_id(), Some(ulft()));
    assert!(matches!(
        MunicipalityDoc::load(&bytes),
        Err(SchemaError::WrongKind {
            expected: "municipality",
            ..
        })
    ));
    assert!(matches!(
        VillageDoc::load(b"not automerge"),
        Err(SchemaError::Load(_))
    ));
}
