//! The committed `schema.graphql` is the schema's SDL.

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
