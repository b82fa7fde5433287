//! Packaging checks that need no docker engine: the Dockerfile is a
//! multi-stage build whose final stage runs the connector binary as a non-root
//! user through an exec-form ENTRYPOINT, and its `io.airbyte.*` labels agree
//! with metadata.yaml and with this crate's version. The parsers are tiny and
//! hand-written (no YAML crate); each check is also run on broken samples so
//! a check that stopped biting fails here too.
//! `integration_tests/metadata_check.py` validates metadata.yaml in full.

use std::collections::BTreeMap;
use std::path::Path;

const BINARY: &str = "/usr/local/bin/destination-hubspot";

fn read(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// One Dockerfile instruction, upper-cased, with its arguments.
#[derive(Debug, Clone, PartialEq)]
struct Instruction {
    word: String,
    args: String,
}

/// Joins continuation lines, drops comments and blank lines.
fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut pending = String::new();
    let push = |full: &str, out: &mut Vec<Instruction>| {
        let full = full.trim();
        if full.is_empty() {
            return;
        }
        let (word, args) = full.split_once(char::is_whitespace).unwrap_or((full, ""));
        out.push(Instruction {
            word: word.to_ascii_uppercase(),
            args: args.trim().to_string(),
        });
    };
    for raw in text.lines() {
        let line = raw.trim();
        if line.starts_with('#') || (pending.is_empty() && line.is_empty()) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        push(&pending, &mut out);
        pending.clear();
    }
    push(&pending, &mut out);
    out
}

/// Splits `k="v w" k2=v2` into pairs, honouring double quotes.
fn key_values(args: &str) -> BTreeMap<String, String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = args.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => cur.extend(chars.next()),
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
        .into_iter()
        .filter_map(|t| {
            t.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// What the final stage of a Dockerfile declares.
#[derive(Debug, Default)]
struct Image {
    stages: usize,
    labels: BTreeMap<String, String>,
    env: BTreeMap<String, String>,
    user: Option<String>,
    entrypoint: Option<String>,
}

fn image(text: &str) -> Image {
    let mut img = Image::default();
    for ins in instructions(text) {
        match ins.word.as_str() {
            "FROM" => {
                img = Image {
                    stages: img.stages + 1,
                    ..Image::default()
                };
            }
            "LABEL" => img.labels.extend(key_values(&ins.args)),
            "ENV" => img.env.extend(key_values(&ins.args)),
            "USER" => img.user = Some(ins.args),
            "ENTRYPOINT" => img.entrypoint = Some(ins.args),
            _ => {}
        }
    }
    img
}

/// Problems with the Dockerfile's shape (stages, user, entrypoint).
fn dockerfile_problems(text: &str) -> Vec<String> {
    let img = image(text);
    let mut problems = Vec::new();
    if img.stages < 2 {
        problems.push(format!("not multi-stage: {} FROM", img.stages));
    }
    match img
        .user
        .as_deref()
        .map(|u| u.split(':').next().unwrap_or(""))
    {
        None => problems.push("the final stage has no USER: it runs as root".into()),
        Some("root") | Some("0") | Some("") => {
            problems.push(format!("the final stage runs as root ({:?})", img.user))
        }
        Some(_) => {}
    }
    match img
        .entrypoint
        .as_deref()
        .map(serde_json::from_str::<Vec<String>>)
    {
        Some(Ok(argv)) if argv.first().map(String::as_str) == Some(BINARY) => {}
        Some(Ok(argv)) => problems.push(format!("ENTRYPOINT runs {argv:?}, not {BINARY}")),
        Some(Err(_)) => problems.push(format!("ENTRYPOINT is not exec form: {:?}", img.entrypoint)),
        None => problems.push("no ENTRYPOINT in the final stage".into()),
    }
    if img.env.get("AIRBYTE_ENTRYPOINT").map(String::as_str) != Some(BINARY) {
        problems.push(format!(
            "ENV AIRBYTE_ENTRYPOINT is {:?}, not {BINARY}",
            img.env.get("AIRBYTE_ENTRYPOINT")
        ));
    }
    problems
}

/// `key: value` lines of metadata.yaml's `data:` block (scalars only, one
/// level deep, quotes stripped). Enough for the few fields checked here.
fn metadata_data(yaml: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut in_data = false;
    for line in yaml.lines() {
        let content = line.split(" #").next().unwrap_or("").trim_end();
        if content.trim_start().starts_with('#') || content.trim().is_empty() {
            continue;
        }
        let indent = content.len() - content.trim_start().len();
        if indent == 0 {
            in_data = content == "data:";
            if let Some((k, v)) = content.split_once(':') {
                out.insert(format!("/{k}"), unquote(v));
            }
            continue;
        }
        if in_data && indent == 2 {
            if let Some((k, v)) = content.trim().split_once(':') {
                out.insert(k.to_string(), unquote(v));
            }
        }
    }
    out
}

fn unquote(v: &str) -> String {
    v.trim().trim_matches('"').trim_matches('\'').to_string()
}

/// Problems with labels vs metadata.yaml vs the crate version.
fn agreement_problems(dockerfile: &str, metadata: &str, version: &str) -> Vec<String> {
    let img = image(dockerfile);
    let data = metadata_data(metadata);
    let mut problems = Vec::new();
    let pairs = [
        ("io.airbyte.name", "dockerRepository"),
        ("io.airbyte.version", "dockerImageTag"),
    ];
    for (label, field) in pairs {
        match (img.labels.get(label), data.get(field)) {
            (Some(l), Some(f)) if l == f && !l.is_empty() => {}
            (l, f) => problems.push(format!(
                "LABEL {label}={l:?} but metadata.yaml {field}={f:?}"
            )),
        }
    }
    if data.get("dockerImageTag").map(String::as_str) != Some(version) {
        problems.push(format!(
            "metadata.yaml dockerImageTag={:?} but Cargo.toml version={version}",
            data.get("dockerImageTag")
        ));
    }
    problems
}

#[test]
fn dockerfile_is_multi_stage_non_root_with_exec_entrypoint() {
    let problems = dockerfile_problems(&read("Dockerfile"));
    assert!(problems.is_empty(), "Dockerfile: {problems:#?}");
    let img = image(&read("Dockerfile"));
    assert!(img.stages >= 2);
    assert_eq!(
        img.entrypoint.as_deref(),
        Some(r#"["/usr/local/bin/destination-hubspot"]"#)
    );
}

#[test]
fn labels_agree_with_metadata_and_crate_version() {
    let problems = agreement_problems(
        &read("Dockerfile"),
        &read("metadata.yaml"),
        env!("CARGO_PKG_VERSION"),
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn metadata_names_a_rust_destination_for_hubspot() {
    let yaml = read("metadata.yaml");
    let data = metadata_data(&yaml);
    assert_eq!(
        data.get("/metadataSpecVersion").map(String::as_str),
        Some("1.0")
    );
    assert_eq!(
        data.get("connectorType").map(String::as_str),
        Some("destination")
    );
    assert_eq!(
        data.get("connectorSubtype").map(String::as_str),
        Some("api")
    );
    let id = data.get("definitionId").expect("definitionId");
    let groups: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "definitionId {id} is not a UUID");
    assert!(
        id.chars()
            .all(|c| c == '-' || (c.is_ascii_hexdigit() && !c.is_ascii_uppercase())),
        "{id}"
    );
    // Lists: checked as lines, which is how metadata.yaml spells them.
    assert!(
        yaml.lines().any(|l| l.trim() == "- api.hubapi.com"),
        "allowedHosts must list api.hubapi.com"
    );
    assert!(
        yaml.lines().any(|l| l.trim() == "- language:rust"),
        "tags must include language:rust"
    );
}

#[test]
fn dockerignore_keeps_build_output_and_venvs_out_of_the_context() {
    let ignore = read(".dockerignore");
    let entries: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for needed in ["target/", ".git/", ".venv*/"] {
        assert!(
            entries.contains(&needed),
            ".dockerignore lacks {needed}: {entries:?}"
        );
    }
}

#[test]
fn the_checks_refuse_broken_samples() {
    let good = read("Dockerfile");
    let single: String = {
        let mut seen = false;
        good.lines()
            .filter(|l| {
                let from = l.trim_start().to_ascii_uppercase().starts_with("FROM ");
                let keep = !(from && seen);
                seen |= from;
                keep
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let root: String = good
        .lines()
        .map(|l| {
            if l.starts_with("USER ") {
                "USER root"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let no_user: String = good
        .lines()
        .filter(|l| !l.starts_with("USER "))
        .collect::<Vec<_>>()
        .join("\n");
    let shell_form = good.replace(
        r#"ENTRYPOINT ["/usr/local/bin/destination-hubspot"]"#,
        "ENTRYPOINT /usr/local/bin/destination-hubspot",
    );
    for (what, text) in [
        ("single stage", &single),
        ("root user", &root),
        ("no user", &no_user),
        ("shell form", &shell_form),
    ] {
        assert_ne!(
            text, &good,
            "{what}: the sample did not change the Dockerfile"
        );
        assert!(
            !dockerfile_problems(text).is_empty(),
            "{what} was not refused"
        );
    }

    let meta = read("metadata.yaml");
    let version = env!("CARGO_PKG_VERSION");
    let bumped = meta.replace(
        &format!("dockerImageTag: {version}"),
        "dockerImageTag: 9.9.9",
    );
    assert_ne!(bumped, meta);
    assert!(
        !agreement_problems(&good, &bumped, version).is_empty(),
        "tag drift was not refused"
    );
    assert!(
        !agreement_problems(&good, &meta, "9.9.9").is_empty(),
        "crate version drift was not refused"
    );
    let renamed = good.replace("io.airbyte.name=\"", "io.airbyte.name=\"x");
    assert!(
        !agreement_problems(&renamed, &meta, version).is_empty(),
        "name drift was not refused"
    );
}

#[test]
fn parsers_handle_continuations_quotes_and_comments() {
    let text = "# comment\nFROM a AS b\nRUN x \\\n  && y\nFROM c\nLABEL k=\"v w\" \\\n      k2=v2\n# USER root\nUSER 10:10\nENTRYPOINT [\"/bin/x\"]\n";
    let img = image(text);
    assert_eq!(img.stages, 2);
    assert_eq!(img.labels.get("k").map(String::as_str), Some("v w"));
    assert_eq!(img.labels.get("k2").map(String::as_str), Some("v2"));
    assert_eq!(img.user.as_deref(), Some("10:10"));
    let data = metadata_data("metadataSpecVersion: \"1.0\"\ndata:\n  name: X # c\n  dockerImageTag: '1.2.3'\n  nested:\n    deep: no\n");
    assert_eq!(
        data.get("/metadataSpecVersion").map(String::as_str),
        Some("1.0")
    );
    assert_eq!(data.get("name").map(String::as_str), Some("X"));
    assert_eq!(
        data.get("dockerImageTag").map(String::as_str),
        Some("1.2.3")
    );
    assert!(!data.contains_key("deep"));
}
