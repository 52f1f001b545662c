//! The seed file's optional tables: knowledge pages, brokers' contact details, consultations.

mod common;

use automerge::ActorId;
use common::*;
use model::*;

fn full_seed() -> MunicipalitySeed {
    let mut seed = seed();
    seed.knowledge.push(KnowledgeSeed {
        id: "initiatief".into(),
        title: "Een initiatief starten".into(),
        body: "Begin klein.\n\nVraag de gebiedsmakelaar.".into(),
        village: None,
    });
    seed.brokers.push(BrokerSeed {
        name: "Sanne".into(),
        villages: vec!["ulft".into(), "gendringen".into()],
        user: Some("sanne".into()),
        email: Some("sanne@example.org".into()),
        phone: None,
        note: Some("Dinsdag in het dorpshuis".into()),
    });
    seed.consultations.push(ConsultationSeed {
        id: "speelplek".into(),
        village: "ulft".into(),
        question: "Waar moet de speelplek komen?".into(),
        explanation: String::new(),
        closes_on: "2020-02-29".into(),
        outcome: Some("We kozen het park.".into()),
    });
    seed
}

#[test]
fn optional_tables_default_to_empty() {
    let seed: MunicipalitySeed =
        toml::from_str("id = \"m\"\nname = \"M\"\n[[village]]\nid = \"ulft\"\nname = \"Ulft\"\n")
            .unwrap();
    assert!(seed.knowledge.is_empty() && seed.brokers.is_empty() && seed.consultations.is_empty());
    seed.validate().unwrap();
}

#[test]
fn a_new_municipality_holds_the_seeded_pages_brokers_and_consultations() {
    let seed = full_seed();
    seed.validate().unwrap();
    let doc = MunicipalityDoc::new(&seed, ActorId::random(), NOW);
    let pages = doc.knowledge();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].title, "Een initiatief starten");
    assert_eq!(pages[0].village, None);

    let contacts = doc.broker_contacts("ulft");
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].name, "Sanne");
    assert_eq!(contacts[0].email, "sanne@example.org");
    assert_eq!(contacts[0].phone, "");
    assert_eq!(doc.broker_contacts("gendringen").len(), 1);
    assert!(doc.broker_contacts("varsseveld").is_empty());
    assert!(doc.broker_contacts("nowhere").is_empty());

    // The broker's user id makes them broker of exactly their villages.
    let roles = doc.roles_of(&UserId::new("sanne").unwrap(), false);
    assert_eq!(roles.broker_of.len(), 2);
    assert!(roles.broker_of.contains(&ulft()));

    let c = doc.consultation("speelplek", NOW).unwrap();
    assert_eq!(c.status, ConsultationStatus::Reported);
    assert_eq!(c.outcome.as_deref(), Some("We kozen het park."));
    assert_eq!(c.closes_at, 1_583_020_800_000); // 2020-03-01T00:00Z, the end of 29 February.
}

#[test]
fn closes_at_reads_dates_and_refuses_others() {
    let at = |d: &str| {
        ConsultationSeed {
            id: "c".into(),
            village: "ulft".into(),
            question: "?".into(),
            explanation: String::new(),
            closes_on: d.into(),
            outcome: None,
        }
        .closes_at()
    };
    assert_eq!(at("1970-01-01"), Some(86_400_000));
    assert_eq!(at("2024-12-31"), Some(1_735_689_600_000));
    for bad in [
        "2023-02-29",
        "2024-13-01",
        "2024-00-10",
        "2024-1-01",
        "tomorrow",
        "2024-01-32",
    ] {
        assert_eq!(at(bad), None, "{bad}");
    }
}

#[test]
fn every_invalid_table_is_refused_with_its_reason() {
    let refuse = |change: fn(&mut MunicipalitySeed), expected: SeedError| {
        let mut seed = full_seed();
        change(&mut seed);
        assert_eq!(seed.validate(), Err(expected.clone()));
        assert!(!expected.to_string().is_empty());
    };
    refuse(
        |s| s.knowledge[0].id = "Not a slug!".into(),
        SeedError::BadId {
            what: "knowledge",
            id: "Not a slug!".into(),
        },
    );
    refuse(
        |s| s.knowledge.push(s.knowledge[0].clone()),
        SeedError::BadId {
            what: "knowledge",
            id: "initiatief".into(),
        },
    );
    refuse(
        |s| s.knowledge[0].title = " ".into(),
        SeedError::BadText {
            field: "title",
            id: "initiatief".into(),
        },
    );
    refuse(
        |s| s.knowledge[0].body = "x".repeat(schema::limits::BODY + 1),
        SeedError::BadText {
            field: "body",
            id: "initiatief".into(),
        },
    );
    refuse(
        |s| s.knowledge[0].village = Some("atlantis".into()),
        SeedError::UnknownVillage {
            what: "knowledge",
            village: "atlantis".into(),
        },
    );
    refuse(
        |s| s.brokers[0].name = String::new(),
        SeedError::BadText {
            field: "name",
            id: String::new(),
        },
    );
    refuse(
        |s| s.brokers[0].email = Some(String::new()),
        SeedError::BadText {
            field: "email",
            id: "Sanne".into(),
        },
    );
    refuse(
        |s| s.brokers[0].villages.clear(),
        SeedError::BrokerWithoutVillage("Sanne".into()),
    );
    refuse(
        |s| s.brokers[0].villages.push("atlantis".into()),
        SeedError::UnknownVillage {
            what: "broker",
            village: "atlantis".into(),
        },
    );
    refuse(
        |s| s.brokers[0].user = Some("Sanne de Vries".into()),
        SeedError::BadId {
            what: "broker user",
            id: "Sanne de Vries".into(),
        },
    );
    refuse(
        |s| s.consultations.push(s.consultations[0].clone()),
        SeedError::BadId {
            what: "consultation",
            id: "speelplek".into(),
        },
    );
    refuse(
        |s| s.consultations[0].village = "atlantis".into(),
        SeedError::UnknownVillage {
            what: "consultation",
            village: "atlantis".into(),
        },
    );
    refuse(
        |s| s.consultations[0].question = String::new(),
        SeedError::BadText {
            field: "question",
            id: "speelplek".into(),
        },
    );
    refuse(
        |s| s.consultations[0].explanation = "x".repeat(schema::limits::BODY + 1),
        SeedError::BadText {
            field: "explanation",
            id: "speelplek".into(),
        },
    );
    refuse(
        |s| s.consultations[0].outcome = Some(String::new()),
        SeedError::BadText {
            field: "outcome",
            id: "speelplek".into(),
        },
    );
    refuse(
        |s| s.consultations[0].closes_on = "29-02-2020".into(),
        SeedError::BadDate("29-02-2020".into()),
    );
}

#[test]
fn unknown_keys_in_a_table_are_refused() {
    let err = toml::from_str::<MunicipalitySeed>(
        "id = \"m\"\nname = \"M\"\n[[village]]\nid = \"ulft\"\nname = \"Ulft\"\n[[broker]]\nname = \"S\"\nvillages = [\"ulft\"]\nhome_address = \"x\"\n",
    );
    assert!(err.is_err());
}

#[test]
fn the_shipped_seeds_are_valid() {
    for text in [
        include_str!("../../sync-server/seed/oude-ijsselstreek.toml"),
        include_str!("../../tests/seed/e2e.toml"),
    ] {
        let seed: MunicipalitySeed = toml::from_str(text).unwrap();
        seed.validate().unwrap();
        assert!(!seed.knowledge.is_empty());
    }
}
