//! Views, help matching, search and schema migration.

mod common;

use common::*;
use model::automerge::Automerge;
use model::*;

fn village_doc(id: &str, actor_byte: u8) -> VillageDoc {
    VillageDoc::new(&VillageId::new(id).unwrap(), actor(actor_byte), NOW - DAY)
}

fn window(day: i64, hours: i64) -> TimeWindow {
    TimeWindow {
        start: NOW + day * DAY,
        end: NOW + day * DAY + hours * HOUR,
    }
}

// ---- views --------------------------------------------------------------------------------

#[test]
fn help_page_is_the_newest_visible_posts_of_a_category_with_responses_and_a_total() {
    let mut d = village();
    // p0..p5 at NOW + i, alternating garden and shopping; p6 an offer, newest of all.
    for i in 0..6 {
        let category = if i % 2 == 0 {
            HelpCategory::Garden
        } else {
            HelpCategory::Shopping
        };
        d.post_help_request(
            &anna(),
            &pid(&format!("p{i}")),
            &help("x", category),
            NOW + i,
        )
        .unwrap();
    }
    d.post_help_offer(
        &bert(),
        &pid("p6"),
        &help("x", HelpCategory::Garden),
        NOW + 6,
    )
    .unwrap();
    // Two posts at the same moment: ties go by id.
    d.post_help_request(
        &anna(),
        &pid("q"),
        &help("x", HelpCategory::Garden),
        NOW + 4,
    )
    .unwrap();
    d.respond(&bert(), &pid("p4"), &rid("r1"), "ja", NOW + 10)
        .unwrap();
    d.withdraw(&anna(), &pid("p3"), NOW + 11).unwrap();
    d.hide_for_moderation(
        &broker(),
        &ModerationTarget::HelpPost(pid("p2")),
        true,
        "spam",
        NOW + 12,
    )
    .unwrap();

    let ids = |page: &HelpPage| page.posts.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
    // Every visible post counts, whatever its status or kind; hidden ones do not.
    let all = d.help_page(None, 3);
    assert_eq!(ids(&all), vec!["p6", "p5", "p4"]);
    assert_eq!(all.total, 7);
    // The page's posts carry their responses.
    assert_eq!(all.posts[2].responses.len(), 1);
    assert_eq!(all.posts[2].responses[0].author, "bert");

    let garden = d.help_page(Some(HelpCategory::Garden), 10);
    assert_eq!(ids(&garden), vec!["p6", "p4", "q", "p0"]);
    assert_eq!(garden.total, 4);
    let shopping = d.help_page(Some(HelpCategory::Shopping), 10);
    assert_eq!(ids(&shopping), vec!["p5", "p3", "p1"]);
    assert_eq!(shopping.total, 3);
    assert_eq!(
        d.help_page(Some(HelpCategory::Pets), 10),
        HelpPage::default()
    );
    assert_eq!(d.help_page(None, 0).total, 7);
    assert!(d.help_page(None, 0).posts.is_empty());
    // A page larger than the board holds all of it, in the same order as smaller pages.
    assert_eq!(ids(&d.help_page(None, 100))[..3], ids(&all)[..]);
}

#[test]
fn open_requests_are_newest_first_without_closed_hidden_or_offers() {
    let mut d = village();
    for (i, t) in [
        (1, NOW),
        (2, NOW + 5),
        (3, NOW + 5),
        (4, NOW + 9),
        (5, NOW + 2),
    ] {
        d.post_help_request(
            &anna(),
            &pid(&format!("p{i}")),
            &help("x", HelpCategory::Other),
            t,
        )
        .unwrap();
    }
    d.post_help_offer(
        &anna(),
        &pid("o1"),
        &help("x", HelpCategory::Other),
        NOW + 20,
    )
    .unwrap();
    d.respond(&bert(), &pid("p4"), &rid("r"), "ja", NOW + 10)
        .unwrap();
    d.accept_response(&anna(), &pid("p4"), &rid("r"), NOW + 11)
        .unwrap();
    d.withdraw(&anna(), &pid("p5"), NOW + 12).unwrap();
    d.hide_for_moderation(
        &broker(),
        &ModerationTarget::HelpPost(pid("p1")),
        true,
        "spam",
        NOW + 13,
    )
    .unwrap();
    let ids: Vec<String> = d.open_requests().into_iter().map(|p| p.id).collect();
    assert_eq!(ids, vec!["p2", "p3"]);
    assert_eq!(d.open_offers().len(), 1);
}

#[test]
fn upcoming_events_in_the_coming_weeks_by_start() {
    let mut d = village();
    let ev = |title: &str, when| EventDraft {
        title: title.into(),
        description: String::new(),
        when,
        place: String::new(),
        volunteers_needed: 0,
        organiser: None,
    };
    d.create_event(
        &anna(),
        &EventId::new("late").unwrap(),
        &ev("late", window(20, 2)),
        NOW,
    )
    .unwrap();
    d.create_event(
        &anna(),
        &EventId::new("soon").unwrap(),
        &ev("soon", window(2, 2)),
        NOW,
    )
    .unwrap();
    d.create_event(
        &anna(),
        &EventId::new("next").unwrap(),
        &ev("next", window(9, 2)),
        NOW,
    )
    .unwrap();
    d.create_event(
        &anna(),
        &EventId::new("past").unwrap(),
        &ev(
            "past",
            TimeWindow {
                start: NOW - 3 * DAY,
                end: NOW - 2 * DAY,
            },
        ),
        NOW - 4 * DAY,
    )
    .unwrap();
    let ids: Vec<String> = d
        .upcoming_events(NOW, 2)
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, vec!["soon", "next"]);
    assert_eq!(d.upcoming_events(NOW, 3).len(), 3);
}

#[test]
fn initiatives_needing_help_most_open_needs_first() {
    let mut d = village();
    for (id, needs) in [("a", 1), ("b", 3), ("c", 0)] {
        let i = InitiativeId::new(id).unwrap();
        d.create_initiative(
            &anna(),
            &i,
            &InitiativeDraft {
                title: id.into(),
                plan: String::new(),
                lead_association: None,
            },
            NOW,
        )
        .unwrap();
        for n in 0..needs {
            d.add_need(
                &anna(),
                &i,
                &NeedId::new(format!("n{n}")).unwrap(),
                "x",
                NOW,
            )
            .unwrap();
        }
    }
    let ids: Vec<String> = d
        .initiatives_needing_help()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, vec!["b", "a"]);
    d.fill_need(
        &bert(),
        &InitiativeId::new("a").unwrap(),
        &NeedId::new("n0").unwrap(),
        NOW,
    )
    .unwrap();
    assert_eq!(d.initiatives_needing_help().len(), 1);
}

#[test]
fn an_association_page_and_the_directory() {
    let mut m = municipality();
    let reg = |m: &mut MunicipalityDoc, id: &str, name: &str| {
        m.register_association(
            &anna(),
            &AssociationId::new(id).unwrap(),
            &AssociationDraft {
                name: name.into(),
                category: AssociationCategory::Sports,
                villages: vec![ulft()],
                description: "Voetbal".into(),
                contacts: vec![(ContactChannel::Website, "https://x.example".into())],
                website: "https://x.example".into(),
            },
            NOW,
        )
        .unwrap()
    };
    reg(&mut m, "zz", "Atletiek");
    reg(&mut m, "aa", "Zwemclub");
    let names: Vec<String> = m.associations().into_iter().map(|a| a.name).collect();
    assert_eq!(names, vec!["Atletiek", "Zwemclub"]);
    let page = m.association("zz").unwrap();
    assert_eq!(
        (page.category, page.admins.clone()),
        (AssociationCategory::Sports, vec!["anna".to_string()])
    );
    assert!(m.association("nope").is_none());
}

// ---- matching -----------------------------------------------------------------------------

fn geography() -> Geography {
    Geography::from_seed(&seed())
}

#[test]
fn matching_ranks_same_village_then_neighbours_and_explains() {
    let mut ulft_doc = village_doc("ulft", 1);
    let mut gendringen = village_doc("gendringen", 2);
    let mut varsseveld = village_doc("varsseveld", 3);
    let mut req = help("Boodschappen dinsdag", HelpCategory::Shopping);
    req.when = Some(window(1, 2));
    ulft_doc
        .post_help_request(&anna(), &pid("req"), &req, NOW)
        .unwrap();
    // Offers: same village and category, any time.
    ulft_doc
        .post_help_offer(
            &bert(),
            &pid("o-ulft"),
            &help("Ik doe boodschappen", HelpCategory::Shopping),
            NOW,
        )
        .unwrap();
    // Same village but the wrong category: left out.
    ulft_doc
        .post_help_offer(
            &carla(),
            &pid("o-garden"),
            &help("Tuin", HelpCategory::Garden),
            NOW,
        )
        .unwrap();
    // Neighbouring village, same category, time overlaps.
    let mut o = help("Boodschappen", HelpCategory::Shopping);
    o.when = Some(window(1, 1));
    gendringen
        .post_help_offer(&resident("gijs"), &pid("o-gend"), &o, NOW)
        .unwrap();
    // Neighbouring village, but the time does not fit: left out.
    o.when = Some(window(5, 1));
    gendringen
        .post_help_offer(&resident("gert"), &pid("o-gend-late"), &o, NOW)
        .unwrap();
    // Far village: left out, unless the volunteer covers Ulft.
    varsseveld
        .post_help_offer(
            &resident("vera"),
            &pid("o-far"),
            &help("Boodschappen", HelpCategory::Shopping),
            NOW,
        )
        .unwrap();
    varsseveld
        .set_volunteer_profile(
            &resident("vic"),
            &VolunteerProfile {
                display_name: String::new(),
                categories: vec![HelpCategory::Other],
                villages: vec![ulft()],
                availability: vec![],
            },
            NOW,
        )
        .unwrap();
    // Anna's own offer is never a match for her.
    ulft_doc
        .post_help_offer(
            &anna(),
            &pid("o-anna"),
            &help("Boodschappen", HelpCategory::Shopping),
            NOW,
        )
        .unwrap();

    let pool = MatchPool::from_villages(&[&ulft_doc, &gendringen, &varsseveld]);
    let request = ulft_doc.help_post("req").unwrap();
    let matches = match_request(&request, "ulft", &pool, &geography());
    let got: Vec<(&str, &str)> = matches
        .iter()
        .map(|m| (m.id.as_str(), m.village.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("o-ulft", "ulft"),
            ("vic", "varsseveld"),
            ("o-gend", "gendringen")
        ]
    );
    assert_eq!(
        matches[0].explain(),
        "same village, same category, any time"
    );
    assert_eq!(
        matches[0].explain_nl(),
        "zelfde dorp, zelfde soort hulp, altijd"
    );
    assert_eq!(matches[0].score, 125);
    assert_eq!(
        matches[1].reasons,
        vec![Reason::CoversVillage, Reason::AnyCategory, Reason::AnyTime]
    );
    assert_eq!(
        matches[2].explain(),
        "neighbouring village, same category, time fits"
    );
    // Deterministic: the same input gives the same ranking.
    assert_eq!(
        match_request(&request, "ulft", &pool, &geography()),
        matches
    );
}

#[test]
fn matching_for_a_volunteer_finds_fitting_requests() {
    let mut ulft_doc = village_doc("ulft", 1);
    let mut gendringen = village_doc("gendringen", 2);
    let mut varsseveld = village_doc("varsseveld", 3);
    ulft_doc
        .post_help_request(
            &anna(),
            &pid("u-garden"),
            &help("Heg snoeien", HelpCategory::Garden),
            NOW,
        )
        .unwrap();
    ulft_doc
        .post_help_request(
            &anna(),
            &pid("u-digital"),
            &help("Laptop", HelpCategory::Digital),
            NOW,
        )
        .unwrap();
    let mut timed = help("Gras maaien", HelpCategory::Garden);
    timed.when = Some(window(3, 2));
    gendringen
        .post_help_request(&resident("gijs"), &pid("g-garden"), &timed, NOW)
        .unwrap();
    timed.when = Some(window(9, 2));
    gendringen
        .post_help_request(&resident("gijs"), &pid("g-late"), &timed, NOW)
        .unwrap();
    varsseveld
        .post_help_request(
            &resident("vera"),
            &pid("v-garden"),
            &help("Tuin", HelpCategory::Garden),
            NOW,
        )
        .unwrap();
    ulft_doc
        .set_volunteer_profile(
            &bert(),
            &VolunteerProfile {
                display_name: String::new(),
                categories: vec![HelpCategory::Garden],
                villages: vec![],
                availability: vec![window(3, 8)],
            },
            NOW,
        )
        .unwrap();
    let pool = MatchPool::from_villages(&[&ulft_doc, &gendringen, &varsseveld]);
    let bert_profile = ulft_doc
        .volunteer_profiles()
        .into_iter()
        .find(|p| p.user == "bert")
        .unwrap();
    let matches = match_volunteer(&bert_profile, &pool, &geography());
    let got: Vec<&str> = matches.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(got, vec!["u-garden", "g-garden"]);
    assert_eq!(
        matches[0].explain(),
        "same village, same category, any time"
    );
    assert_eq!(
        matches[1].explain(),
        "neighbouring village, same category, time fits"
    );
    assert!(matches.iter().all(|m| m.kind == MatchKind::Request));
}

#[test]
fn geography_is_symmetric() {
    let g = Geography::new([
        ("a".to_string(), vec!["b".to_string()]),
        ("c".to_string(), vec![]),
    ]);
    assert!(g.are_neighbours("a", "b") && g.are_neighbours("b", "a"));
    assert!(!g.are_neighbours("a", "c"));
    assert!(
        municipality()
            .geography()
            .are_neighbours("varsselder", "ulft")
    );
}

// ---- search -------------------------------------------------------------------------------

#[test]
fn search_over_a_village_and_the_directory() {
    let mut d = village();
    d.post_help_request(
        &anna(),
        &pid("p1"),
        &HelpDraft {
            category: HelpCategory::OddJobs,
            title: "Fiets repareren".into(),
            description: "Mijn fiets heeft een lekke band".into(),
            when: None,
        },
        NOW,
    )
    .unwrap();
    d.post_help_request(
        &anna(),
        &pid("p2"),
        &HelpDraft {
            category: HelpCategory::Company,
            title: "Wandelen".into(),
            description: "Samen een rondje, met de fiets mag ook".into(),
            when: None,
        },
        NOW,
    )
    .unwrap();
    d.post_help_request(
        &anna(),
        &pid("p3"),
        &help("Geheime fiets", HelpCategory::Other),
        NOW,
    )
    .unwrap();
    d.hide_for_moderation(
        &broker(),
        &ModerationTarget::HelpPost(pid("p3")),
        true,
        "spam",
        NOW,
    )
    .unwrap();
    d.create_event(
        &anna(),
        &EventId::new("e1").unwrap(),
        &EventDraft {
            title: "Café-avond".into(),
            description: "Gezellig".into(),
            when: window(2, 3),
            place: "Dorpshuis".into(),
            volunteers_needed: 0,
            organiser: None,
        },
        NOW,
    )
    .unwrap();
    d.create_initiative(
        &anna(),
        &InitiativeId::new("i1").unwrap(),
        &InitiativeDraft {
            title: "Jeu de boules baan".into(),
            plan: "Een baan bij het café".into(),
            lead_association: None,
        },
        NOW,
    )
    .unwrap();
    d.post(
        &anna(),
        &BoardPostId::new("b1").unwrap(),
        "Wie heeft er een ladder?",
        NOW,
    )
    .unwrap();
    let mut m = municipality();
    m.register_association(
        &bert(),
        &AssociationId::new("tc").unwrap(),
        &AssociationDraft {
            name: "Toerclub De Fietsers".into(),
            category: AssociationCategory::Sports,
            villages: vec![ulft()],
            description: "Wielrennen".into(),
            contacts: vec![],
            website: String::new(),
        },
        NOW,
    )
    .unwrap();
    let mut ix = SearchIndex::new();
    ix.add_village(&d);
    ix.add_associations(&m);
    assert_eq!(ix.len(), 6);
    let fiets: Vec<(SearchKind, String)> = ix
        .search("fiets", 10)
        .into_iter()
        .map(|h| (h.kind, h.id))
        .collect();
    // Title beats body, the hidden post is not found, and "fiets" also finds "fietsers" (prefix).
    assert_eq!(fiets[0], (SearchKind::HelpPost, "p1".to_string()));
    assert!(fiets.contains(&(SearchKind::HelpPost, "p2".to_string())));
    assert!(fiets.contains(&(SearchKind::Association, "tc".to_string())));
    assert!(!fiets.iter().any(|(_, id)| id == "p3"));
    // Diacritics fold both ways.
    let cafe: Vec<String> = ix.search("cafe", 10).into_iter().map(|h| h.id).collect();
    assert_eq!(cafe, vec!["e1", "i1"]);
    assert_eq!(ix.search("CAFÉ", 10)[0].id, "e1");
    // Stop words alone find nothing; with a real word they do not dilute it.
    assert!(ix.search("de het een", 10).is_empty());
    assert_eq!(
        ix.search("wie heeft er een ladder", 10)[0].kind,
        SearchKind::BoardPost
    );
    assert_eq!(ix.search("fiets", 1).len(), 1);
}

// ---- migration ----------------------------------------------------------------------------

#[test]
fn a_version_0_document_migrates_to_the_current_schema() {
    let mut d = VillageDoc::from_automerge(Automerge::new()).unwrap();
    assert_eq!(d.schema_version(), 0);
    assert_eq!(d.migrate(NOW), Ok(0));
    assert_eq!(d.schema_version(), SCHEMA_VERSION);
    assert_eq!(
        d.migrate(NOW),
        Ok(SCHEMA_VERSION),
        "migrating twice is a no-op"
    );
    d.post_help_request(&anna(), &pid("p1"), &help("x", HelpCategory::Other), NOW)
        .unwrap();
    let loaded = VillageDoc::load(&d.save()).unwrap();
    assert_eq!(loaded.help_posts().len(), 1);
    // The migration wrote the kind: the document is no municipality.
    assert!(MunicipalityDoc::from_automerge(loaded.into_automerge()).is_err());
}

#[test]
fn a_newer_document_is_refused() {
    let d = village();
    let mut am = d.automerge().clone();
    let mut tx = am.transaction();
    model::automerge::transaction::Transactable::put(
        &mut tx,
        model::automerge::ObjId::Root,
        "schema_version",
        SCHEMA_VERSION + 1,
    )
    .unwrap();
    tx.commit();
    assert_eq!(
        VillageDoc::from_automerge(am.clone()).unwrap_err(),
        SchemaError::NewerVersion {
            found: SCHEMA_VERSION + 1,
            supported: SCHEMA_VERSION
        }
    );
    assert!(migrate(&mut am, DocKind::Village, NOW).is_err());
    assert_eq!(schema_version_of(&am), SCHEMA_VERSION + 1);
    let _ = am.get_heads();
}

#[test]
fn a_lent_document_is_read_in_place_and_always_handed_back() {
    let d = village_with_request();
    let heads = d.heads();
    // A village document: read as one, and handed back unchanged.
    let (am, titles) = VillageDoc::lend(d.into_automerge(), |v| {
        v.help_posts()
            .into_iter()
            .map(|p| p.title)
            .collect::<Vec<_>>()
    });
    assert_eq!(titles.map(|t| t.len()), Some(1));
    assert_eq!(am.get_heads(), heads);
    // The wrong kind: not read, handed back all the same.
    let (am, read) = MunicipalityDoc::lend(am, |_| ());
    assert_eq!(read, None);
    assert_eq!(am.get_heads(), heads);
    // A newer schema: not read, handed back.
    let mut newer = am;
    let mut tx = newer.transaction();
    model::automerge::transaction::Transactable::put(
        &mut tx,
        model::automerge::ObjId::Root,
        "schema_version",
        SCHEMA_VERSION + 1,
    )
    .unwrap();
    tx.commit();
    let newer_heads = newer.get_heads();
    let (newer, read) = VillageDoc::lend(newer, |_| ());
    assert_eq!(read, None);
    assert_eq!(newer.get_heads(), newer_heads);
    // An empty document (version 0) is read, as `from_automerge` accepts it.
    let (_, read) = VillageDoc::lend(model::automerge::Automerge::new(), |v| v.help_posts().len());
    assert_eq!(read, Some(0));
}

#[test]
fn a_residents_own_reaction_is_read_back_and_follows_changes() {
    let mut d = village();
    let post = BoardPostId::new("b1").unwrap();
    d.post(&anna(), &post, "Wie heeft mijn kat gezien?", NOW)
        .unwrap();
    assert_eq!(d.reaction_of("b1", "bert"), None);
    d.react(&bert(), &post, Some(Reaction::Like), NOW + 1)
        .unwrap();
    d.react(&carla(), &post, Some(Reaction::Thanks), NOW + 1)
        .unwrap();
    assert_eq!(d.reaction_of("b1", "bert"), Some(Reaction::Like));
    assert_eq!(d.reaction_of("b1", "carla"), Some(Reaction::Thanks));
    d.react(&bert(), &post, Some(Reaction::Heart), NOW + 2)
        .unwrap();
    assert_eq!(d.reaction_of("b1", "bert"), Some(Reaction::Heart));
    d.react(&bert(), &post, None, NOW + 3).unwrap();
    assert_eq!(d.reaction_of("b1", "bert"), None);
    // No such post, and a post id that is no board post: nothing.
    assert_eq!(d.reaction_of("b9", "carla"), None);
    assert_eq!(d.reaction_of("", "carla"), None);
}

#[test]
fn reactions_parse_from_what_is_stored_only() {
    for r in Reaction::ALL {
        assert_eq!(Reaction::parse(r.as_str()), Some(r));
    }
    assert_eq!(Reaction::parse("Like"), None);
    assert_eq!(Reaction::parse(""), None);
}
