//! The API as frontend clients see it: the GraphQL over HTTP audit of
//! `graphql-http`, and the client libraries people build on (urql, Apollo
//! Client, graphql-request, graphql-sse), from npm, against a running
//! torrentql and a real qBittorrent.

mod common;

use common::app::{TestApp, admin_token};
use common::node::run_script;
use common::qbittorrent::Qbittorrent;
use common::torrents::random_magnet;
use serde_json::{Value, json};

#[tokio::test]
async fn the_graphql_over_http_audit_finds_nothing_to_fix() {
    let app = TestApp::start(Qbittorrent::shared()).await;
    let report = run_script("audit.mjs", &[&app.url("/graphql"), &admin_token()]).await;
    assert_eq!(report["errors"], json!([]), "{report:#}");
    assert_eq!(report["warnings"], json!([]), "{report:#}");
    assert_eq!(report["notices"], json!([]), "{report:#}");
    let passed = report["ok"].as_array().map_or(0, Vec::len);
    assert!(passed >= 50, "only {passed} audits ran: {report:#}");
    let level = |prefix: &str| {
        report["ok"].as_array().map_or(0, |ok| {
            ok.iter()
                .filter(|audit| {
                    audit["name"]
                        .as_str()
                        .is_some_and(|name| name.starts_with(prefix))
                })
                .count()
        })
    };
    eprintln!(
        "graphql-http audit: {passed} passed ({} MUST, {} SHOULD, {} MAY), 0 errors, 0 warnings, 0 notices",
        level("MUST"),
        level("SHOULD"),
        level("MAY")
    );
}

fn states(torrents: &Value) -> Vec<&str> {
    torrents
        .as_array()
        .unwrap_or_else(|| panic!("a list of torrents: {torrents}"))
        .iter()
        .map(|torrent| torrent["state"].as_str().expect("a state"))
        .collect()
}

#[tokio::test]
async fn urql_apollo_and_graphql_request_work_with_their_defaults() {
    let app = TestApp::start(Qbittorrent::shared()).await;
    let magnets = json!({
        "urql": random_magnet("through-urql").1,
        "apollo": random_magnet("through-apollo").1,
        "graphqlRequest": random_magnet("through-graphql-request").1,
    });
    let report = run_script(
        "frontend.mjs",
        &[&app.url("/graphql"), &admin_token(), &magnets.to_string()],
    )
    .await;

    let paused = ["PAUSED_DOWNLOADING"];
    for client in ["urql", "apollo", "graphqlRequest"] {
        let seen = &report[client];
        assert_eq!(states(&seen["listed"]), paused, "{client}: {seen:#}");
        assert_eq!(
            seen["paused"]["state"], "PAUSED_DOWNLOADING",
            "{client}: {seen:#}"
        );
        assert_eq!(
            seen["listed"][0]["id"], seen["paused"]["id"],
            "{client}: one id"
        );
    }
    // urql sends its queries as GET (preferGetMethod: 'within-url-limit'),
    // and gets the list again after the mutation.
    let urql = &report["urql"];
    assert_eq!(
        urql["wire"],
        json!([
            { "method": "POST", "operation": "mutation" },
            { "method": "GET", "operation": "query" },
            { "method": "POST", "operation": "mutation" },
            { "method": "POST", "operation": "mutation" },
            { "method": "GET", "operation": "query" },
        ]),
        "{urql:#}"
    );
    assert_eq!(states(&urql["listedAfterPause"]), paused, "{urql:#}");
    assert_eq!(
        states(&report["graphqlRequest"]["listedAfterPause"]),
        paused
    );

    // urql's normalised cache (Graphcache, no `keys`) too.
    let graphcache = &report["urqlGraphcache"];
    assert_eq!(states(&graphcache["listed"]), paused, "{graphcache:#}");
    assert_ne!(
        states(&graphcache["cachedAfterResume"]),
        paused,
        "{graphcache:#}"
    );
    assert_eq!(
        states(&graphcache["cachedAfterPause"]),
        paused,
        "{graphcache:#}"
    );
    assert_eq!(
        graphcache["wireForPause"],
        json!([{ "method": "POST", "operation": "mutation" }]),
        "{graphcache:#}"
    );

    // Apollo's default cache normalises torrents by id: the cached list
    // follows each mutation, and pausing sent the mutation alone.
    let apollo = &report["apollo"];
    assert_ne!(states(&apollo["cachedAfterResume"]), paused, "{apollo:#}");
    assert_eq!(states(&apollo["cachedAfterPause"]), paused, "{apollo:#}");
    assert_eq!(
        states(&apollo["queriedFromCacheAfterPause"]),
        paused,
        "{apollo:#}"
    );
    assert_eq!(
        apollo["wireForPause"],
        json!([{ "method": "POST", "operation": "mutation" }]),
        "{apollo:#}"
    );

    // Apollo's persisted queries link: the hash alone over GET is not
    // known yet, so the text follows by POST; a new client's hash alone
    // then works.
    let persisted = &report["apolloPersistedQueries"];
    assert_eq!(persisted["first"], persisted["second"], "{persisted:#}");
    assert_eq!(
        persisted["first"][0]["hash"], apollo["hash"],
        "{persisted:#}"
    );
    assert_eq!(
        persisted["registering"],
        json!([
            { "method": "GET", "operation": "hash only" },
            { "method": "POST", "operation": "query" },
        ]),
        "{persisted:#}"
    );
    assert_eq!(
        persisted["registered"],
        json!([{ "method": "GET", "operation": "hash only" }]),
        "{persisted:#}"
    );
    eprintln!("frontend clients: {report:#}");
}

#[tokio::test]
async fn sse_and_both_websocket_clients_get_the_snapshot_then_the_pause_and_close_cleanly() {
    let app = TestApp::start(Qbittorrent::shared()).await;
    let hash = app.add_paused_magnet("watched-live").await;
    let report = run_script(
        "streams.mjs",
        &[&app.url("/graphql"), &app.ws_url(), &admin_token(), &hash],
    )
    .await;
    for client in ["sse", "graphqlWs", "legacy"] {
        let seen = &report[client];
        assert_eq!(seen["snapshot"]["snapshot"], true, "{client}: {seen:#}");
        assert_eq!(
            seen["snapshot"]["torrents"][0]["hash"], hash,
            "{client}: {seen:#}"
        );
        assert_eq!(seen["delta"]["snapshot"], false, "{client}: {seen:#}");
        assert_eq!(
            states(&seen["delta"]["torrents"]),
            ["PAUSED_DOWNLOADING"],
            "{client}: {seen:#}"
        );
    }
    assert_eq!(report["graphqlWs"]["closeCode"], 1000, "{report:#}");
    // subscriptions-transport-ws sends connection_terminate, then a Close
    // frame without a code: whichever the server sees first, it closes
    // cleanly, 1000 or the echoed 1005 (never 1006, a dropped connection).
    let legacy = report["legacy"]["closeCode"].as_u64();
    assert!(matches!(legacy, Some(1000 | 1005)), "{report:#}");
}
