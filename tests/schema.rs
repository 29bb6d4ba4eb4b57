//! The committed `schema.graphql` is the schema's SDL, and reads well in
//! the tools frontends use: graphql-schema-linter's description and naming
//! rules, and GraphQL Code Generator's TypeScript types.

mod common;

use common::node::run_script;
use serde_json::json;

#[test]
fn committed_schema_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let current = torrentql::graphql::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &current).expect("write schema.graphql");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == current,
        "schema.graphql is stale: run `UPDATE_SCHEMA=1 cargo test --test schema` (or `torrentql schema > schema.graphql`) and commit it"
    );
}

#[tokio::test]
async fn the_schema_passes_the_linters_description_and_naming_rules() {
    let report = run_script("lint-schema.mjs", &[]).await;
    assert_eq!(report["errors"], json!([]), "{report:#}");
    assert_eq!(report["status"], 0, "{report:#}");
}

#[tokio::test]
async fn typescript_types_generated_from_it_type_check() {
    let report = run_script("codegen.mjs", &[]).await;
    assert_eq!(report["codegen"]["status"], 0, "{report:#}");
    assert_eq!(report["typecheck"]["status"], 0, "{report:#}");
    let generated = std::fs::read_to_string(report["generated"].as_str().unwrap()).unwrap();
    // The README's scalar mapping, applied.
    for mapped in ["size: number", "addedAt: string | null", "file: File"] {
        assert!(generated.contains(mapped), "{mapped} in:\n{generated}");
    }
}
