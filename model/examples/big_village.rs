//! Writes the bench's large village (5,000 help posts, 20,000 responses) as saved Automerge
//! bytes, for the app's open-and-paint measurement (`tests/e2e/perf.spec.js`), with three
//! display names the test looks for: u198 "Henk" and u199 "Gerrit" (authors of the two newest
//! posts) and u796 "Mieke" (the first to respond to the newest).
//!
//! `cargo run -p model --release --example big_village -- <out-file>`

#[path = "../benches/support/big_village.rs"]
mod big_village;

use model::VolunteerProfile;

fn main() {
    let out = std::env::args()
        .nth(1)
        .expect("usage: big_village <out-file>");
    let mut doc = big_village::big_village();
    for (i, name) in [(198, "Henk"), (199, "Gerrit"), (796, "Mieke")] {
        let profile = VolunteerProfile {
            display_name: name.to_owned(),
            ..VolunteerProfile::default()
        };
        doc.set_volunteer_profile(&big_village::user(i), &profile, big_village::NOW + 5_000)
            .expect("a profile");
    }
    let bytes = doc.save();
    std::fs::write(&out, &bytes).expect("writing the document");
    println!("{} bytes written to {out}", bytes.len());
}
