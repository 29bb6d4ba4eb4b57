//! The release-name reader on a table of real names
//! (`tests/fixtures/release-names.toml`): each row states the facts a
//! person reads in the name, and the parser must find exactly those.

use serde_json::Value;
use torrentql::release::ReleaseFacts;

/// Facts that are false unless a row says otherwise.
const FLAGS: &[&str] = &[
    "proper",
    "repack",
    "three_d",
    "sample",
    "hardcoded_subtitles",
];

/// Every fact the table must cover at least once.
const FACTS: &[&str] = &[
    "title",
    "year",
    "kind",
    "seasons",
    "episodes",
    "season_pack",
    "resolution",
    "source",
    "video_codec",
    "hdr",
    "audio_codecs",
    "audio_channels",
    "languages",
    "subtitle_languages",
    "release_group",
    "edition",
    "proper",
    "repack",
    "three_d",
    "sample",
    "hardcoded_subtitles",
];

fn table() -> Vec<toml::Table> {
    let text = include_str!("fixtures/release-names.toml");
    let table: toml::Table = toml::from_str(text).expect("the table is TOML");
    table["release"]
        .as_array()
        .expect("[[release]] rows")
        .iter()
        .map(|row| row.as_table().expect("a row is a table").clone())
        .collect()
}

fn same(key: &str, expected: &Value, found: &Value) -> bool {
    match key {
        // Languages in any order and case.
        "languages" | "subtitle_languages" => {
            let names = |value: &Value| {
                let mut names: Vec<String> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_lowercase)
                    .collect();
                names.sort();
                names
            };
            names(expected) == names(found)
        }
        _ => expected == found,
    }
}

#[test]
fn every_row_of_the_table_is_read_as_stated() {
    let rows = table();
    let mut wrong = Vec::new();
    for row in &rows {
        let name = row["name"].as_str().expect("a name");
        let facts = serde_json::to_value(ReleaseFacts::parse(name)).expect("facts are JSON");
        let stated = |key: &str| {
            row.get(key)
                .map(|value| serde_json::to_value(value).expect("TOML is JSON"))
        };
        for key in FACTS {
            let expected = match stated(key) {
                Some(value) => value,
                None if FLAGS.contains(key) => Value::Bool(false),
                None => continue,
            };
            if !same(key, &expected, &facts[key]) {
                wrong.push(format!(
                    "{name}\n    {key}: expected {expected}, read {}",
                    facts[key]
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} facts read wrong:\n{}",
        wrong.len(),
        rows.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_table_has_two_hundred_names_and_states_every_fact() {
    let rows = table();
    assert!(rows.len() >= 200, "{} rows", rows.len());
    for fact in FACTS {
        let stating = rows
            .iter()
            .filter(|row| {
                row.get(*fact)
                    .is_some_and(|value| value.as_bool() != Some(false))
            })
            .count();
        assert!(stating >= 2, "only {stating} rows state {fact}");
    }
    let kinds = |kind: &str| {
        rows.iter()
            .filter(|row| row.get("kind").and_then(toml::Value::as_str) == Some(kind))
            .count()
    };
    assert!(kinds("movie") >= 50 && kinds("episode") >= 50);
}
