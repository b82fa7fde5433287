//! Lifecycle stage policies against the emulator, in each of its modes for
//! a backward write (ignored, applied, refused): the connector must reach
//! the same result whichever HubSpot does. Also counts the calls each
//! policy costs per 100 contacts (the figures in the README).

mod common;

use common::*;
use hubspot_emulator::{BackwardLifecycle, STANDARD_LIFECYCLE_STAGES};
use serde_json::json;

const MODES: [BackwardLifecycle; 3] = [
    BackwardLifecycle::Ignore,
    BackwardLifecycle::Apply,
    BackwardLifecycle::Reject,
];

fn emulator(mode: BackwardLifecycle) -> Emulator {
    start(Options {
        backward_lifecycle: mode,
        ..quick()
    })
}

/// Batch write calls (upsert, update, read) made so far.
fn batch_calls(emu: &Emulator) -> u64 {
    emu.stats()
        .by_route
        .iter()
        .filter(|r| r.method == "POST" && r.path.contains("/batch/"))
        .map(|r| r.count)
        .sum()
}

/// 100 new contacts, one record each.
fn hundred(prefix: &str) -> String {
    (0..100)
        .map(|i| record(json!({"email": format!("{prefix}{i}@x.io"), "firstname": "N"})))
        .collect::<Vec<_>>()
        .join("\n")
}

fn seed(emu: &Emulator, email: &str, stage: &str) {
    emu.add_contact([("email", email), ("lifecyclestage", stage)]);
}

fn stage(emu: &Emulator, email: &str) -> String {
    prop(emu, email, "lifecyclestage").unwrap_or_default()
}

fn sync(emu: &Emulator, policy: &str, input: &str) -> Run {
    let s = Scratch::new("lc");
    let run = write(
        &s,
        &config(
            emu,
            json!({"lifecycle_stage": "lead", "lifecycle_stage_policy": policy, "workers": 1}),
        ),
        input,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.logs());
    run
}

#[test]
fn new_contacts_only_sets_the_stage_on_created_contacts_and_leaves_existing_ones() {
    for mode in MODES {
        let emu = emulator(mode);
        seed(&emu, "old-customer@x.io", "customer");
        seed(&emu, "old-subscriber@x.io", "subscriber");
        seed(&emu, "old-none@x.io", "");
        let input = [
            record(json!({"email": "new@x.io"})),
            record(json!({"email": "OLD-customer@x.io", "firstname": "C"})),
            record(json!({"email": "old-subscriber@x.io"})),
            record(json!({"email": "old-none@x.io"})),
        ]
        .join("\n");
        sync(&emu, "new_contacts_only", &input);
        assert_eq!(stage(&emu, "new@x.io"), "lead", "{mode:?}");
        assert_eq!(stage(&emu, "old-customer@x.io"), "customer", "{mode:?}");
        assert_eq!(stage(&emu, "old-subscriber@x.io"), "subscriber", "{mode:?}");
        assert_eq!(stage(&emu, "old-none@x.io"), "", "{mode:?}");
        assert_eq!(
            prop(&emu, "old-customer@x.io", "firstname").as_deref(),
            Some("C")
        );
    }
}

#[test]
fn forward_only_moves_contacts_forward_and_never_back() {
    for mode in MODES {
        let emu = emulator(mode);
        seed(&emu, "customer@x.io", "customer");
        seed(&emu, "subscriber@x.io", "subscriber");
        let input = [
            record(json!({"email": "new@x.io"})),
            record(json!({"email": "customer@x.io", "firstname": "C"})),
            record(json!({"email": "subscriber@x.io"})),
        ]
        .join("\n");
        let run = sync(&emu, "forward_only", &input);
        assert_eq!(stage(&emu, "new@x.io"), "lead", "{mode:?}");
        assert_eq!(stage(&emu, "customer@x.io"), "customer", "{mode:?}");
        assert_eq!(stage(&emu, "subscriber@x.io"), "lead", "{mode:?}");
        // Leaving a stage alone is the policy, not a rejection.
        assert!(run.logs().contains("0 rejected"), "{}", run.logs());
        assert_eq!(
            prop(&emu, "customer@x.io", "firstname").as_deref(),
            Some("C")
        );
    }
}

#[test]
fn force_sets_the_stage_everywhere_clearing_first_for_backward_moves() {
    for mode in MODES {
        let emu = emulator(mode);
        seed(&emu, "customer@x.io", "customer");
        seed(&emu, "subscriber@x.io", "subscriber");
        let input = [
            record(json!({"email": "new@x.io"})),
            record(json!({"email": "customer@x.io"})),
            record(json!({"email": "subscriber@x.io"})),
        ]
        .join("\n");
        sync(&emu, "force", &input);
        for email in ["new@x.io", "customer@x.io", "subscriber@x.io"] {
            assert_eq!(stage(&emu, email), "lead", "{email} in {mode:?}");
        }
    }
}

#[test]
fn a_stage_in_the_record_follows_the_same_policy() {
    let emu = emulator(BackwardLifecycle::Ignore);
    seed(&emu, "opp@x.io", "opportunity");
    let input = [
        record(json!({"email": "opp@x.io", "lifecyclestage": "lead"})),
        record(json!({"email": "new@x.io", "lifecyclestage": "customer"})),
    ]
    .join("\n");
    let s = Scratch::new("lc-record");
    let run = write(
        &s,
        &config(&emu, json!({"lifecycle_stage_policy": "forward_only"})),
        &input,
    );
    assert_eq!(run.code, 0);
    assert_eq!(stage(&emu, "opp@x.io"), "opportunity");
    assert_eq!(stage(&emu, "new@x.io"), "customer");
    let run = write(
        &s,
        &config(&emu, json!({"lifecycle_stage_policy": "force"})),
        &input,
    );
    assert_eq!(run.code, 0);
    assert_eq!(stage(&emu, "opp@x.io"), "lead");
}

#[test]
fn a_custom_stage_id_is_accepted_and_ordered_as_the_account_orders_it() {
    let mut stages: Vec<String> = STANDARD_LIFECYCLE_STAGES
        .iter()
        .map(|s| s.to_string())
        .collect();
    stages.insert(2, "987654321".to_string()); // between lead and MQL
    let emu = start(Options {
        lifecycle_stages: stages,
        ..quick()
    });
    seed(&emu, "lead@x.io", "lead");
    seed(&emu, "mql@x.io", "marketingqualifiedlead");
    let s = Scratch::new("lc-custom");
    let config = config(
        &emu,
        json!({"lifecycle_stage": "987654321", "lifecycle_stage_policy": "forward_only"}),
    );
    assert_eq!(
        check(&s, &config).connection_status()["status"],
        "SUCCEEDED"
    );
    let input = [
        record(json!({"email": "lead@x.io"})),
        record(json!({"email": "mql@x.io"})),
        record(json!({"email": "new@x.io"})),
    ]
    .join("\n");
    let run = write(&s, &config, &input);
    assert_eq!(run.code, 0);
    assert_eq!(stage(&emu, "lead@x.io"), "987654321");
    assert_eq!(stage(&emu, "mql@x.io"), "marketingqualifiedlead");
    assert_eq!(stage(&emu, "new@x.io"), "987654321");
}

#[test]
fn an_unknown_configured_stage_stops_write_before_any_write() {
    let emu = emulator(BackwardLifecycle::Ignore);
    let s = Scratch::new("lc-bad");
    let run = write(
        &s,
        &config(&emu, json!({"lifecycle_stage": "Lead"})),
        &record(json!({"email": "a@x.io"})),
    );
    let message = run.failed_with("config_error");
    assert!(message.contains("/lifecycle_stage"), "{message}");
    assert!(emu.contacts().is_empty());
}

#[test]
fn an_unknown_stage_in_a_record_rejects_that_record_only() {
    let emu = emulator(BackwardLifecycle::Ignore);
    let s = Scratch::new("lc-bad-record");
    let input = [
        record(json!({"email": "a@x.io", "lifecyclestage": "prospect"})),
        record(json!({"email": "b@x.io"})),
    ]
    .join("\n");
    let run = write(&s, &config(&emu, json!({})), &input);
    assert_eq!(run.code, 0);
    assert_eq!(emails(&emu), vec!["b@x.io"]);
    assert!(run.logs().contains("lifecyclestage"), "{}", run.logs());
}

/// Calls per 100 contacts for each policy, on a fresh load and on a re-sync
/// of the same contacts (the README's table comes from these numbers).
#[test]
fn calls_per_hundred_contacts_for_each_policy() {
    let expected = [
        // policy, fresh load, re-sync of existing contacts
        ("new_contacts_only", 2, 1),
        ("forward_only", 2, 2),
        ("force", 2, 2),
    ];
    for (policy, fresh, resync) in expected {
        let emu = emulator(BackwardLifecycle::Ignore);
        sync(&emu, policy, &hundred("p"));
        assert_eq!(batch_calls(&emu), fresh, "{policy} fresh load");
        assert_eq!(emails(&emu).len(), 100);
        sync(&emu, policy, &hundred("p"));
        assert_eq!(batch_calls(&emu) - fresh, resync, "{policy} re-sync");
    }
    // force with every contact moving backwards: read, upsert clearing, update.
    let emu = emulator(BackwardLifecycle::Ignore);
    for i in 0..100 {
        seed(&emu, &format!("p{i}@x.io"), "customer");
    }
    sync(&emu, "force", &hundred("p"));
    assert_eq!(batch_calls(&emu), 3);
    assert!((0..100).all(|i| stage(&emu, &format!("p{i}@x.io")) == "lead"));
    // No stage configured: one upsert per 100, whatever the policy.
    let emu = emulator(BackwardLifecycle::Ignore);
    let s = Scratch::new("lc-nostage");
    write(&s, &config(&emu, json!({"workers": 1})), &hundred("p"));
    assert_eq!(batch_calls(&emu), 1);
}
