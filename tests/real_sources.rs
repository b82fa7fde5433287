//! Data shaped like what real sources send (integration_tests/fixtures/),
//! run through the real binary against an emulator that already holds
//! contacts: the exact values HubSpot ends up with, that no blank erases a
//! stored value, and what the logs say (never a record value by default).

mod common;

use std::io::Cursor;
use std::sync::{Arc, Mutex};

use common::*;
use destination_hubspot::catalog::Catalog;
use destination_hubspot::config::Config;
use destination_hubspot::hubspot::batch::Written;
use destination_hubspot::hubspot::errors::RejectReason;
use destination_hubspot::hubspot::HubSpotError;
use destination_hubspot::protocol::Output;
use destination_hubspot::write::{self, RecordWrite, RunOptions, Sink};
use serde_json::{json, Value};

/// Ann, as HubSpot holds her before every sync.
const ANN: &[(&str, &str)] = &[
    ("email", "ann@example.com"),
    ("firstname", "Ann"),
    ("lastname", "Lee"),
    ("phone", "+47 123 45 678"),
    ("annualrevenue", "1000"),
    ("newsletter_opt_in", "true"),
    ("renewal_date", "2024-06-01"),
    ("closedate", "2023-12-01T08:00:00.000Z"),
    ("interests", "crm;email"),
    ("hs_lead_status", "OPEN"),
    ("numemployees", "5-25"),
    ("lifecyclestage", "subscriber"),
];

/// An emulator holding Ann and a contact the CDC fixture deletes.
fn seeded() -> Emulator {
    let emu = start(quick());
    emu.add_contact(ANN.iter().copied());
    emu.add_contact([("email", "gone@example.com"), ("firstname", "Gone")]);
    emu
}

/// Runs a fixture with this config and catalog; returns the run and the
/// rejected-records file's rows.
fn sync(emu: &Emulator, fixture: &str, extra: Value, catalog: &str) -> (Run, Vec<Value>) {
    let s = Scratch::new("real");
    let mut extra = extra;
    extra["rejected_records_path"] = json!(s.path("rejected.jsonl").to_str().unwrap());
    let input = std::fs::read_to_string(format!("integration_tests/fixtures/{fixture}")).unwrap();
    let run = write_with(&s, &config(emu, extra), catalog, &[], &input);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.logs());
    let rows = rejections(&s);
    (run, rows)
}

/// The contact's properties that `want` names, compared one by one
/// (`None`: the contact has no value).
fn assert_contact(emu: &Emulator, email: &str, want: &[(&str, Option<&str>)]) {
    let c = emu
        .contact_by_email(email)
        .unwrap_or_else(|| panic!("{email} is not in HubSpot"));
    for (name, value) in want {
        assert_eq!(
            c.properties.get(*name).map(String::as_str),
            *value,
            "{email} {name}"
        );
    }
}

/// Ann's seeded values, all still there (bar `except`).
fn assert_ann_kept(emu: &Emulator, except: &[&str]) {
    let kept: Vec<(&str, Option<&str>)> = ANN
        .iter()
        .filter(|(k, _)| !except.contains(k))
        .map(|(k, v)| (*k, Some(*v)))
        .collect();
    assert_contact(emu, "ann@example.com", &kept);
}

fn catalog_for(stream: &str, namespace: Option<&str>, key: Value) -> String {
    json!({"streams": [{"stream": {"name": stream, "namespace": namespace, "json_schema": {}},
        "sync_mode": "incremental", "destination_sync_mode": "append_dedup", "primary_key": key}]})
    .to_string()
}

#[test]
fn a_sheet_of_strings_with_blank_cells() {
    let emu = seeded();
    let (run, rejected) = sync(
        &emu,
        "sheets_csv.jsonl",
        json!({"lifecycle_stage": "lead"}),
        CATALOG,
    );
    // Every blank cell of Ann's row left HubSpot's value alone.
    assert_ann_kept(&emu, &[]);
    assert_contact(
        &emu,
        "bob@example.com",
        &[
            ("lastname", Some("Stone")),
            ("phone", Some("+1 555 0100")),
            ("annualrevenue", Some("1234.5")),
            ("newsletter_opt_in", Some("true")),
            ("renewal_date", Some("2024-01-05")),
            ("closedate", Some("2024-01-05T10:30:00.000Z")),
            ("interests", Some("analytics;crm")),
            ("hs_lead_status", Some("IN_PROGRESS")),
            ("numemployees", Some("25-50")),
            ("lifecyclestage", Some("lead")), // blank in the sheet: the configured stage
        ],
    );
    assert_contact(
        &emu,
        "cy@example.com",
        &[
            ("lastname", None),
            ("annualrevenue", Some("1234")),
            ("newsletter_opt_in", Some("false")),
            ("renewal_date", Some("2024-02-29")),
            ("closedate", Some("2024-01-05T10:30:00.000Z")), // epoch seconds
            ("interests", Some("automation;email")),
            ("hs_lead_status", Some("NEW")),
        ],
    );
    assert_contact(
        &emu,
        "dee@example.com",
        &[
            ("annualrevenue", Some("7")),
            ("newsletter_opt_in", Some("true")),
            ("closedate", Some("2024-01-05T10:30:00.000Z")), // epoch ms
            ("numemployees", Some("1000+")),
            ("lifecyclestage", Some("customer")),
        ],
    );
    assert_contact(
        &emu,
        "gus@example.com",
        &[
            ("annualrevenue", Some("5")),
            ("newsletter_opt_in", Some("false")),
            ("renewal_date", Some("2024-01-05")), // the date as written
            ("closedate", Some("2024-01-05T08:30:00.000Z")),
            ("interests", Some("crm")),
        ],
    );
    let lines: Vec<u64> = rejected
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![6, 7, 9]);
    assert_eq!(rejected[0]["reason"], "invalid_value");
    assert_eq!(rejected[2]["reason"], "no_email");
    let logs = run.logs();
    assert!(
        logs.contains("invalid_value on renewal_date: 1 record(s) rejected"),
        "{logs}"
    );
    assert!(
        logs.contains("invalid_value on annualrevenue: 1 record(s) rejected"),
        "{logs}"
    );
    assert!(logs.contains("ambiguous day and month order"), "{logs}");
    assert!(
        logs.contains("`renewal_date` got values with a time of day"),
        "{logs}"
    );
    for value in ["01/05/2024", "lots", "Eve", "2024-01-05T23:30"] {
        assert!(!logs.contains(value), "{value} is record data: {logs}");
    }
    let states = run.states();
    assert_eq!(states.len(), 2);
    assert_eq!(states[0]["destinationStats"]["recordCount"], 4.0);
    assert_eq!(states[1]["destinationStats"]["recordCount"], 1.0);
    assert_eq!(states[1]["destinationStats"]["rejectedRecordCount"], 3.0);
}

const CDC_KEY: &str = r#"[["id"]]"#;

#[test]
fn postgres_cdc_with_naive_timestamps_and_deleted_rows_skipped() {
    let emu = seeded();
    let catalog = catalog_for(
        "users",
        Some("public"),
        serde_json::from_str(CDC_KEY).unwrap(),
    );
    let (run, rejected) = sync(&emu, "postgres_cdc.jsonl", json!({}), &catalog);
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_ann_kept(
        &emu,
        &["firstname", "annualrevenue", "closedate", "renewal_date"],
    );
    assert_contact(
        &emu,
        "ann@example.com",
        &[
            ("firstname", Some("Annie")),
            ("lastname", Some("Lee")), // a CDC null is no value
            ("annualrevenue", Some("12345678901234.567")),
            ("followercount", Some("43")),
            ("closedate", Some("2024-01-05T11:00:00.000Z")),
            ("renewal_date", Some("2024-01-05")),
        ],
    );
    assert_contact(
        &emu,
        "bob@example.com",
        &[
            ("annualrevenue", Some("123456789012345678901234")),
            ("followercount", Some("7")),
            ("closedate", Some("2024-01-05T10:30:00.250Z")),
            ("renewal_date", Some("2024-02-29")),
            ("newsletter_opt_in", Some("false")),
        ],
    );
    // Deleted in the source: not written, and by default not archived.
    assert_contact(&emu, "gone@example.com", &[("firstname", Some("Gone"))]);
    for c in emu.contacts() {
        assert!(
            !c.properties.keys().any(|k| k.starts_with("_ab")),
            "{:?}",
            c.properties
        );
    }
    let logs = run.logs();
    assert!(
        !logs.contains("_ab_cdc"),
        "CDC metadata is not reported: {logs}"
    );
    assert!(
        logs.contains("record field `id` is not a HubSpot contact property"),
        "{logs}"
    );
    assert!(logs.contains(", 2 deleted in source, skipped"), "{logs}");
    let states = run.states();
    assert_eq!(states.len(), 2);
    assert_eq!(states[0]["global"]["shared_state"]["state"]["lsn"], 2660898);
    assert_eq!(states[0]["destinationStats"]["recordCount"], 3.0);
    assert_eq!(states[1]["destinationStats"]["recordCount"], 2.0);
}

#[test]
fn postgres_cdc_deleted_rows_archived_and_timestamps_in_the_configured_zone() {
    let emu = seeded();
    let catalog = catalog_for(
        "users",
        Some("public"),
        serde_json::from_str(CDC_KEY).unwrap(),
    );
    let config = json!({"deletes": "archive", "timezone": "Europe/Paris"});
    let (run, rejected) = sync(&emu, "postgres_cdc.jsonl", config, &catalog);
    assert!(
        emu.contact_by_email("gone@example.com").is_none(),
        "archived"
    );
    assert_eq!(
        emu.stats()
            .count("POST", "/crm/objects/2026-09/contacts/batch/archive", 204),
        1
    );
    // The deleted row without an email can't name a contact.
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["line"], 5);
    assert!(rejected[0]["message"]
        .as_str()
        .unwrap()
        .contains("deleted in the source"));
    // 11:00 in Paris in January is 10:00 UTC.
    assert_contact(
        &emu,
        "ann@example.com",
        &[("closedate", Some("2024-01-05T10:00:00.000Z"))],
    );
    assert_contact(
        &emu,
        "bob@example.com",
        &[("closedate", Some("2024-01-05T09:30:00.250Z"))],
    );
    let logs = run.logs();
    assert!(
        logs.contains("1 deleted in source, archived in HubSpot (0 had no contact there)"),
        "{logs}"
    );
    assert_eq!(run.states()[0]["destinationStats"]["recordCount"], 3.0);
}

#[test]
fn a_hubspot_export_with_read_only_fields_lands_without_them() {
    let emu = seeded();
    let ann_id = emu.contact_by_email("ann@example.com").unwrap().id;
    let typo = json!({"unknown_propertes": "reject"});
    let (run, rejected) = sync(&emu, "hubspot_export.jsonl", typo, CATALOG);
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_ann_kept(&emu, &["closedate", "newsletter_opt_in", "annualrevenue"]);
    assert_contact(
        &emu,
        "ann@example.com",
        &[
            ("hs_object_id", Some(ann_id.as_str())),
            ("hs_additional_emails", None),
            ("closedate", Some("2019-10-30T03:30:17.883Z")),
            ("newsletter_opt_in", Some("false")),
            ("annualrevenue", Some("1500")),
        ],
    );
    assert_contact(
        &emu,
        "hal@example.com",
        &[
            ("firstname", Some("Hal")),
            ("lastname", None),
            ("lifecyclestage", Some("lead")),
            ("newsletter_opt_in", Some("true")),
            ("interests", Some("analytics")),
        ],
    );
    assert_contact(
        &emu,
        "ivy@example.com",
        &[
            ("closedate", Some("2019-10-30T03:30:17.883Z")),
            ("annualrevenue", Some("99.9")),
            ("hs_lead_status", Some("NEW")),
        ],
    );
    let logs = run.logs();
    let warned: Vec<&str> = logs.lines().filter(|l| l.contains("read-only")).collect();
    assert_eq!(warned.len(), 1, "one line for them all: {logs}");
    for name in [
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
        "hs_additional_emails",
        "hs_email_domain",
        "num_notes",
        "hs_marketable_status",
    ] {
        assert!(
            warned[0].contains(&format!("`{name}`")),
            "{name}: {}",
            warned[0]
        );
    }
    assert_eq!(run.states()[0]["destinationStats"]["recordCount"], 3.0);
    // A typo'd setting does nothing, and the log says which one was meant.
    assert!(
        logs.contains("`unknown_propertes` (did you mean `unknown_properties`?)"),
        "{logs}"
    );
}

#[test]
fn spreadsheet_headers_are_matched_by_label() {
    let emu = seeded();
    let catalog = catalog_for("Sheet1", None, json!([]));
    let (run, rejected) = sync(&emu, "header_labels.jsonl", json!({}), &catalog);
    assert_ann_kept(&emu, &[]);
    assert_contact(
        &emu,
        "jo@example.com",
        &[
            ("firstname", Some("Jo")),
            ("lastname", Some("Bloggs")),
            ("phone", Some("+44 20 7946 0000")),
            ("lifecyclestage", Some("marketingqualifiedlead")),
            ("newsletter_opt_in", Some("false")),
            ("renewal_date", Some("2024-03-01")),
            ("closedate", Some("2024-03-01T09:15:00.000Z")),
            ("interests", Some("email;analytics")),
            ("hs_lead_status", Some("ATTEMPTED_TO_CONTACT")),
        ],
    );
    assert_contact(
        &emu,
        "kim@example.com",
        &[("newsletter_opt_in", Some("true"))],
    );
    assert_eq!(rejected.len(), 1);
    let why = rejected[0]["message"].as_str().unwrap();
    assert!(
        why.contains("email, E-mail or Email Address") && why.contains("`Email` is blank"),
        "{why}"
    );
    let logs = run.logs();
    assert!(
        logs.contains("record field `Favourite colour` is not a HubSpot contact property"),
        "{logs}"
    );
}

/// Stands in for HubSpot: refuses an input whose `firstname` is `BAD…`,
/// quoting the value as HubSpot does, and keeps every input it was sent.
#[derive(Default)]
struct Refusing {
    seen: Mutex<Vec<RecordWrite>>,
}

impl Sink for Refusing {
    fn write(&self, _: usize, writes: &[&RecordWrite]) -> Result<Vec<Written>, HubSpotError> {
        self.seen
            .lock()
            .unwrap()
            .extend(writes.iter().map(|w| (*w).clone()));
        Ok(writes
            .iter()
            .map(|w| match w.properties.get("firstname") {
                Some(v) if v.starts_with("BAD") => Written::Rejected(RejectReason::InvalidValue(
                    format!("firstname: {v} was not valid"),
                )),
                _ => Written::Ok {
                    id: None,
                    created: true,
                },
            })
            .collect())
    }
}

/// Runs records through the pipeline into a [`Refusing`] sink; returns
/// what it was sent and the LOG lines.
fn through_refusing(
    emu: &Emulator,
    records: &[Value],
    log_record_data: bool,
) -> (Vec<RecordWrite>, String) {
    let config =
        Config::from_value(&config(emu, json!({"log_record_data": log_record_data}))).unwrap();
    let catalog = Catalog::parse(CATALOG).unwrap();
    let lines: Vec<String> = records
        .iter()
        .map(|r| record(r.clone()))
        .chain([state(1)])
        .collect();
    let log = Arc::new(Mutex::new(Vec::new()));
    let out = Arc::new(Output::new(Box::new(Shared(log.clone()))));
    let sink = Arc::new(Refusing::default());
    let opts = RunOptions {
        sink: Some(sink.clone()),
        ..RunOptions::default()
    };
    write::run(
        &config,
        &catalog,
        Cursor::new(lines.join("\n")),
        out.clone(),
        opts,
    )
    .unwrap();
    out.finish();
    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let seen = sink.seen.lock().unwrap().clone();
    (seen, text)
}

#[derive(Clone)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn merged_records_stay_independent_when_hubspot_refuses_one() {
    let emu = start(quick());
    let records = [
        json!({"email": "a@x.io", "city": "Oslo", "firstname": "Ann"}),
        json!({"email": "A@x.io", "firstname": "BADNAME", "phone": "1"}),
        json!({"email": "a@x.io", "jobtitle": "Pilot"}),
    ];
    let (seen, log) = through_refusing(&emu, &records, false);
    // The merged input was refused; the same contact went again without
    // the offending record, its earlier firstname included.
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].properties["firstname"], "BADNAME");
    let retry = &seen[1];
    assert_eq!(
        retry.properties.get("firstname").map(String::as_str),
        Some("Ann")
    );
    assert_eq!(
        retry.properties.get("city").map(String::as_str),
        Some("Oslo")
    );
    assert_eq!(
        retry.properties.get("jobtitle").map(String::as_str),
        Some("Pilot")
    );
    assert!(!retry.properties.contains_key("phone"));
    let messages: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let state = messages.iter().find(|m| m["type"] == "STATE").unwrap();
    assert_eq!(state["state"]["destinationStats"]["recordCount"], 2.0);
    assert_eq!(
        state["state"]["destinationStats"]["rejectedRecordCount"],
        1.0
    );
    assert!(log.contains("record on input line 2"), "{log}");
    // HubSpot's text quoted the value: masked in the log by default...
    assert!(!log.contains("BADNAME"), "{log}");
    assert!(
        log.contains("invalid_value on firstname: 1 record(s) rejected"),
        "{log}"
    );
    // ...and shown when asked.
    let (_, shown) = through_refusing(&emu, &records, true);
    assert!(shown.contains("BADNAME"), "{shown}");
}

mod spellings {
    //! Every accepted spelling, through the real binary into the emulator,
    //! is stored as the value HubSpot stores for it.
    use super::*;
    use proptest::prelude::*;

    /// (property, spelled value, the value HubSpot stores).
    type Case = (&'static str, Value, String);

    fn number() -> impl Strategy<Value = Case> {
        (0u64..10_000_000, "[0-9]{0,3}", any::<bool>(), "[ ]{0,1}").prop_map(
            |(int, frac, grouped, pad)| {
                let digits = int.to_string();
                let mut text = String::new();
                for (i, c) in digits.chars().enumerate() {
                    if grouped && i > 0 && (digits.len() - i).is_multiple_of(3) {
                        text.push(',');
                    }
                    text.push(c);
                }
                let frac_kept = frac.trim_end_matches('0');
                let want = match frac_kept {
                    "" => digits.clone(),
                    f => format!("{digits}.{f}"),
                };
                // A grouped integer says where its fraction starts.
                let spelled = format!("{pad}{text}.{frac}{pad}");
                ("annualrevenue", json!(spelled), want)
            },
        )
    }

    fn boolean() -> impl Strategy<Value = Case> {
        let words = [
            "true", "Yes", "y", "ON", "1", "false", "no", "N", "off", "0",
        ];
        (0usize..words.len(), any::<bool>()).prop_map(move |(i, as_number)| {
            let want = if i < 5 { "true" } else { "false" };
            let value = match (as_number, words[i]) {
                (true, "1") => json!(1),
                (true, "0") => json!(0),
                (_, w) => json!(w),
            };
            ("newsletter_opt_in", value, want.to_string())
        })
    }

    fn datetime() -> impl Strategy<Value = Case> {
        let start = 200_000_000_000i64; // 1976: above 10^11, so ms read as ms
        (start..4_000_000_000_000i64, -12i32..=14, 0usize..4).prop_map(|(ms, hours, style)| {
            let at = jiff::Timestamp::from_millisecond(ms).unwrap();
            let want = format!("{at:.3}");
            let offset = jiff::tz::Offset::from_hours(hours as i8).unwrap();
            let local = offset.to_datetime(at);
            let value = match style {
                0 => json!(format!(
                    "{}{}",
                    local.strftime("%Y-%m-%dT%H:%M:%S%.3f"),
                    offset
                )),
                1 => json!(format!(
                    "{} ",
                    jiff::tz::Offset::UTC
                        .to_datetime(at)
                        .strftime("%Y-%m-%d %H:%M:%S%.6f")
                )),
                2 => json!(ms),
                _ => json!(ms.to_string()),
            };
            ("closedate", value, want)
        })
    }

    fn date() -> impl Strategy<Value = Case> {
        (0i64..40_000, 0usize..3).prop_map(|(days, style)| {
            let day = jiff::civil::date(1970, 1, 1) + jiff::Span::new().days(days);
            let want = day.to_string();
            let value = match style {
                0 => json!(want),
                1 => json!(format!("{want}T00:00:00-08:00")),
                // Epoch ms of its midnight; below 10^11 that would read as
                // seconds, so those days are written in seconds.
                _ if days * 86_400_000 >= 100_000_000_000 => json!(days * 86_400_000),
                _ => json!(days * 86_400),
            };
            ("renewal_date", value, want)
        })
    }

    fn options() -> impl Strategy<Value = Case> {
        let spelled = [
            "analytics",
            "Automation",
            "CRM",
            "email",
            "ANALYTICS",
            "crm",
        ];
        let values = [
            "analytics",
            "automation",
            "crm",
            "email",
            "analytics",
            "crm",
        ];
        (prop::collection::vec(0usize..6, 1..4), 0usize..3).prop_map(move |(picks, sep)| {
            let parts: Vec<&str> = picks.iter().map(|&i| spelled[i]).collect();
            let mut want: Vec<&str> = Vec::new();
            for &i in &picks {
                if !want.contains(&values[i]) {
                    want.push(values[i]);
                }
            }
            let value = match sep {
                0 => json!(parts),
                1 => json!(parts.join(" ; ")),
                _ => json!(parts.join(", ")),
            };
            ("interests", value, want.join(";"))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        #[test]
        fn every_accepted_spelling_is_stored_as_hubspot_stores_it(
            cases in prop::collection::vec(prop_oneof![number(), boolean(), datetime(), date(), options()], 10..20)
        ) {
            let emu = start(quick());
            let s = Scratch::new("spellings");
            let input: Vec<String> = cases
                .iter()
                .enumerate()
                .map(|(i, (name, value, _))| record(json!({"email": format!("s{i}@x.io"), *name: value})))
                .collect();
            let run = write(&s, &config(&emu, json!({})), &input.join("\n"));
            prop_assert_eq!(run.code, 0, "{}", run.logs());
            for (i, (name, value, want)) in cases.iter().enumerate() {
                let stored = prop(&emu, &format!("s{i}@x.io"), name);
                prop_assert_eq!(stored.as_deref(), Some(want.as_str()), "{} {}: {}", name, value, run.logs());
            }
        }
    }
}
