//! `cargo bench -p model`: a village with 5,000 help posts and 20,000 responses.
//!
//! Times save, load, hydrating the open-requests view, load + hydrate together (the budget:
//! well under 300 ms native), one operation, validating one incoming change, merging two forks
//! with 1,000 offline operations each, and search.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use model::*;

#[path = "support/big_village.rs"]
mod big_village;
use big_village::*;

/// 1,000 offline operations on a fork: new posts and responses to existing ones.
fn offline(base: &VillageDoc, actor_byte: u8, prefix: &str) -> VillageDoc {
    let mut f = base.fork(actor(actor_byte));
    for i in 0..1_000 {
        let t = NOW + 1_000_000 + i as i64;
        if i % 2 == 0 {
            let id = HelpPostId::new(format!("{prefix}p{i}")).unwrap();
            f.post_help_request(&user(900 + i % 50), &id, &draft(i), t)
                .unwrap();
        } else {
            // Respond to an open post (not divisible by 3) with a fresh responder.
            let post = HelpPostId::new(format!("p{}", (i * 3 + 1) % POSTS)).unwrap();
            let rid = ResponseId::new(format!("{prefix}r{i}")).unwrap();
            f.respond(
                &User::resident(UserId::new(format!("{prefix}u{i}")).unwrap()),
                &post,
                &rid,
                "Ik ook",
                t,
            )
            .unwrap();
        }
    }
    f
}

/// CPU time (user + system) of this process in ms, from `/proc/self/stat` (Linux; `None`
/// elsewhere). On a shared machine wall time includes waiting for a core; CPU time does not.
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0) // USER_HZ is 100 on Linux.
}

/// Prints the CPU time of load + hydrate next to its wall time, averaged over 10 runs.
fn cpu_time_of_load_and_hydrate(bytes: &[u8]) {
    let runs = 10;
    let mut keep = Vec::with_capacity(runs);
    let (cpu0, wall0) = (cpu_ms(), std::time::Instant::now());
    for _ in 0..runs {
        let d = VillageDoc::load(bytes).unwrap();
        let open = d.open_requests();
        keep.push((d, open)); // freed after measuring, as the app keeps the document open
    }
    let wall = wall0.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    let cpu1 = cpu_ms();
    drop(keep);
    match (cpu0, cpu1) {
        (Some(a), Some(b)) => eprintln!(
            "load + hydrate: {:.0} ms CPU, {wall:.0} ms wall per run",
            (b - a) / runs as f64
        ),
        _ => eprintln!("load + hydrate: {wall:.0} ms wall per run"),
    }
}

fn benches(c: &mut Criterion) {
    let doc = big_village();
    let bytes = doc.save();
    eprintln!(
        "village: {} help posts, {} responses, {} open requests, {} bytes saved",
        doc.help_posts().len(),
        doc.help_posts()
            .iter()
            .map(|p| p.response_count)
            .sum::<usize>(),
        doc.open_requests().len(),
        bytes.len()
    );
    cpu_time_of_load_and_hydrate(&bytes);
    let mut g = c.benchmark_group("village_5k_posts_20k_responses");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    g.bench_function("save", |b| b.iter(|| black_box(doc.save())));
    g.bench_function("load", |b| {
        b.iter(|| black_box(VillageDoc::load(&bytes).unwrap()))
    });
    g.bench_function("hydrate_open_requests", |b| {
        b.iter(|| black_box(doc.open_requests()))
    });
    // The budget's figure. The loaded document is kept (the app keeps it open), so freeing
    // it is not timed.
    g.bench_function("load_and_hydrate_open_requests", |b| {
        b.iter_with_large_drop(|| {
            let d = VillageDoc::load(&bytes).unwrap();
            let open = d.open_requests();
            (d, open)
        })
    });
    let carla = User::resident(UserId::new("carla").unwrap());
    g.bench_function("one_op_respond", |b| {
        b.iter_batched(
            || doc.clone(),
            |mut d| {
                d.respond(
                    &carla,
                    &HelpPostId::new("p4999").unwrap(),
                    &ResponseId::new("new").unwrap(),
                    "Ik help",
                    NOW + 9,
                )
                .unwrap()
            },
            BatchSize::LargeInput,
        )
    });
    let mut one = doc.clone();
    let heads = one.heads();
    one.respond(
        &carla,
        &HelpPostId::new("p4999").unwrap(),
        &ResponseId::new("new").unwrap(),
        "Ik help",
        NOW + 9,
    )
    .unwrap();
    let change = one.changes_since(&heads);
    g.bench_function("validate_one_incoming_change", |b| {
        b.iter(|| {
            doc.validate_changes(&carla, black_box(&change), NOW + 10)
                .unwrap()
        })
    });
    // The server's way: the message is applied first, then judged at the heads before it.
    g.bench_function("validate_incoming_one_change", |b| {
        b.iter(|| {
            validate_incoming(
                one.automerge(),
                black_box(&heads),
                DocKind::Village,
                &carla,
                NOW + 10,
            )
            .unwrap()
        })
    });
    let a = offline(&doc, 10, "a");
    let bb = offline(&doc, 11, "b");
    g.bench_function("merge_two_forks_1000_offline_ops_each", |b| {
        b.iter_batched(
            || (a.clone(), bb.clone()),
            |(mut x, mut y)| {
                x.merge(&mut y).unwrap();
                x
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("search_index_build", |b| {
        b.iter(|| {
            let mut ix = SearchIndex::new();
            ix.add_village(&doc);
            black_box(ix)
        })
    });
    let mut ix = SearchIndex::new();
    ix.add_village(&doc);
    g.bench_function("search_query", |b| {
        b.iter(|| black_box(ix.search("fiets ladder", 20)))
    });
    g.finish();
}

criterion_group!(village, benches);
criterion_main!(village);
