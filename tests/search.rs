//! Search against fake apibay and Torznab servers on 127.0.0.1 that serve
//! the real payloads in tests/fixtures/upstream byte for byte and reproduce each
//! quirk; results are then added to the real qBittorrent.

mod common;

use common::fixture;

use std::time::{Duration, Instant};

use common::app::{TestApp, data, error_code};
use common::qbittorrent::Qbittorrent;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const JACKETT_PATH: &str = "/api/v2.0/indexers/all/results/torznab/api";
const SEARCH: &str = r#"query($q: String!, $c: SearchCategory, $l: Int, $p: [String!]) {
    search(query: $q, category: $c, limit: $l, providers: $p) {
        results { infoHash name size seeders leechers files uploader uploaderStatus addedAt category providerCategory imdbId magnet downloadUrl providers }
        failures { provider code message }
    }
}"#;

fn json_body(bytes: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(bytes, "application/json")
}

fn xml_body(bytes: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(bytes, "application/rss+xml; charset=utf-8")
}

/// A search config: apibay at `apibay` (or off), and Torznab indexers.
fn search_toml(apibay: Option<&MockServer>, torznab: &[(&str, &MockServer, &str)]) -> String {
    let mut toml = String::from("[search]\ncache_ttl = \"60s\"\n[search.apibay]\n");
    match apibay {
        Some(server) => toml.push_str(&format!("url = \"{}\"\ntimeout = \"2s\"\n", server.uri())),
        None => toml.push_str("enabled = false\n"),
    }
    for (name, server, endpoint) in torznab {
        toml.push_str(&format!(
            "[[search.torznab]]\nname = \"{name}\"\nurl = \"{}{endpoint}\"\napi_key = \"key-{name}\"\ntimeout = \"2s\"\n",
            server.uri()
        ));
    }
    toml
}

async fn app_with(toml: &str) -> TestApp {
    let qbittorrent = Qbittorrent::shared();
    TestApp::start_with(&qbittorrent.url, qbittorrent, toml).await
}

async fn search(app: &TestApp, variables: Value) -> Value {
    app.graphql(SEARCH, variables).await
}

#[tokio::test]
async fn apibay_rows_become_typed_decoded_results_ranked_by_seeders() {
    let apibay = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/q.php"))
        .and(query_param("q", "ubuntu linux"))
        .and(query_param("cat", "0"))
        .respond_with(json_body(fixture("apibay-search-ubuntu.json")))
        .expect(1)
        .mount(&apibay)
        .await;
    let app = app_with(&search_toml(Some(&apibay), &[])).await;
    let answer = search(&app, json!({ "q": "  ubuntu   linux " })).await;
    let results = data(&answer)["search"]["results"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(results.len(), 5);
    let seeders: Vec<i64> = results
        .iter()
        .map(|r| r["seeders"].as_i64().unwrap())
        .collect();
    assert!(
        seeders.windows(2).all(|pair| pair[0] >= pair[1]),
        "{seeders:?}"
    );
    for result in &results {
        let hash = result["infoHash"].as_str().unwrap();
        assert_eq!(hash, hash.to_lowercase());
        assert!(!result["name"].as_str().unwrap().contains("&amp;"));
        let magnet = result["magnet"].as_str().unwrap();
        assert!(
            magnet.starts_with(&format!("magnet:?xt=urn:btih:{hash}&dn=")),
            "{magnet}"
        );
        assert_eq!(result["providers"], json!(["apibay"]));
    }
    let book = results
        .iter()
        .find(|r| r["infoHash"] == "232cd67eb3ffbd7c37bf9ec3ee887417e5ae1ee6")
        .unwrap();
    assert_eq!(book["category"], "BOOKS");
    assert_eq!(book["providerCategory"], "601");
    assert_eq!(book["size"], 8_554_738);
    assert_eq!(book["uploaderStatus"], "vip");
    assert_eq!(book["addedAt"], "2025-12-12T08:02:08+00:00");
    assert!(
        book["magnet"]
            .as_str()
            .unwrap()
            .contains("&dn=Clinton%20D.%2C%20Negus%20C.%20Ubuntu")
    );
    assert_eq!(data(&answer)["search"]["failures"], json!([]));
}

#[tokio::test]
async fn the_no_results_row_and_numeric_mirrors() {
    let apibay = MockServer::start().await;
    Mock::given(path("/q.php"))
        .and(query_param("q", "nothing"))
        .respond_with(json_body(fixture("apibay-no-results.json")))
        .mount(&apibay)
        .await;
    // A mirror that sends numbers where apibay sends strings.
    let rows: Vec<Value> = serde_json::from_slice(&fixture("apibay-search-ubuntu.json")).unwrap();
    let numeric: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut row = row.as_object().unwrap().clone();
            for key in [
                "id",
                "leechers",
                "seeders",
                "size",
                "num_files",
                "added",
                "category",
            ] {
                let number: i64 = row[key].as_str().unwrap().parse().unwrap();
                row.insert(key.to_owned(), json!(number));
            }
            Value::Object(row)
        })
        .collect();
    Mock::given(path("/q.php"))
        .and(query_param("q", "numbers"))
        .respond_with(json_body(serde_json::to_vec(&numeric).unwrap()))
        .mount(&apibay)
        .await;
    let app = app_with(&search_toml(Some(&apibay), &[])).await;
    let empty = search(&app, json!({ "q": "nothing" })).await;
    assert_eq!(
        data(&empty)["search"],
        json!({ "results": [], "failures": [] })
    );
    let numbers = search(&app, json!({ "q": "numbers" })).await;
    let results = data(&numbers)["search"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert!(results.iter().any(|r| r["size"] == 3_654_957_056_i64));
}

#[tokio::test]
async fn torznab_feeds_are_read_with_their_quirks_and_merged_across_indexers() {
    let jackett = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(JACKETT_PATH))
        .and(query_param("apikey", "key-jackett"))
        .and(query_param("t", "search"))
        .and(query_param("q", "series"))
        .and(query_param_is_missing("cat"))
        .respond_with(xml_body(fixture("torznab-jackett-tpb.xml")))
        .expect(1)
        .mount(&jackett)
        .await;
    // Prowlarr indexing the same tracker, with a byte-order mark.
    let prowlarr = MockServer::start().await;
    let mut with_bom = "\u{feff}".as_bytes().to_vec();
    with_bom.extend(fixture("torznab-jackett-tpb.xml"));
    Mock::given(path("/1/api"))
        .respond_with(xml_body(with_bom))
        .mount(&prowlarr)
        .await;
    let tosho = MockServer::start().await;
    Mock::given(path("/api"))
        .respond_with(xml_body(fixture("torznab-animetosho.xml")))
        .mount(&tosho)
        .await;

    let app = app_with(&search_toml(
        None,
        &[
            ("jackett", &jackett, JACKETT_PATH),
            ("prowlarr", &prowlarr, "/1/api"),
            ("tosho", &tosho, "/api"),
        ],
    ))
    .await;
    let answer = search(&app, json!({ "q": "series", "l": 100 })).await;
    let results = data(&answer)["search"]["results"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        results.len(),
        5 + 2,
        "the same five from two indexers merge"
    );
    assert_eq!(
        results[0]["infoHash"],
        "9fb267cff5ae5603f07a347676ec3bf3e35f75e1"
    );
    assert_eq!(results[0]["seeders"], 34128);
    assert_eq!(results[0]["providers"], json!(["jackett", "prowlarr"]));
    let hash = "2d69a861bef5a9f2cdf791b7328e37b7953205e1";
    let tosho_result = results.iter().find(|r| r["infoHash"] == hash).unwrap();
    assert_eq!(tosho_result["providers"], json!(["tosho"]));
    assert_eq!(
        tosho_result["size"], 316_477_946,
        "from the size attr; the enclosure says 0"
    );
    // Its base32 magneturl names another hash: the magnet is rebuilt so that
    // it adds the torrent infoHash names.
    assert!(
        tosho_result["magnet"]
            .as_str()
            .unwrap()
            .starts_with(&format!("magnet:?xt=urn:btih:{hash}"))
    );
}

#[tokio::test]
async fn categories_are_sent_as_each_provider_expects() {
    let apibay = MockServer::start().await;
    for code in ["201", "207", "211"] {
        Mock::given(path("/q.php"))
            .and(query_param("cat", code))
            .respond_with(json_body(fixture("apibay-no-results.json")))
            .expect(1)
            .mount(&apibay)
            .await;
    }
    let jackett = MockServer::start().await;
    Mock::given(path(JACKETT_PATH))
        .and(query_param("cat", "2000"))
        .respond_with(xml_body(fixture("torznab-jackett-tpb.xml")))
        .expect(1)
        .mount(&jackett)
        .await;
    let app = app_with(&search_toml(
        Some(&apibay),
        &[("jackett", &jackett, JACKETT_PATH)],
    ))
    .await;
    let answer = search(&app, json!({ "q": "film", "c": "MOVIES" })).await;
    assert_eq!(data(&answer)["search"]["failures"], json!([]));
}

#[tokio::test]
async fn failing_providers_are_reported_and_do_not_fail_the_search() {
    let apibay = MockServer::start().await;
    Mock::given(path("/q.php"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&apibay)
        .await;
    let bad_key = MockServer::start().await;
    Mock::given(path("/api"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(fixture("torznab-error-unauthorized.xml"), "text/xml"),
        )
        .mount(&bad_key)
        .await;
    let slow = MockServer::start().await;
    Mock::given(path("/api"))
        .respond_with(
            xml_body(fixture("torznab-jackett-tpb.xml")).set_delay(Duration::from_secs(10)),
        )
        .mount(&slow)
        .await;
    let good = MockServer::start().await;
    Mock::given(path("/api"))
        .respond_with(xml_body(fixture("torznab-animetosho.xml")))
        .mount(&good)
        .await;
    let app = app_with(&search_toml(
        Some(&apibay),
        &[
            ("badkey", &bad_key, "/api"),
            ("slow", &slow, "/api"),
            ("good", &good, "/api"),
        ],
    ))
    .await;

    let started = Instant::now();
    let answer = search(&app, json!({ "q": "anything" })).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the slow provider held the search for {:?}",
        started.elapsed()
    );
    let search = &data(&answer)["search"];
    assert_eq!(search["results"].as_array().unwrap().len(), 2);
    let mut failures: Vec<(String, String)> = search["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["provider"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    failures.sort();
    assert_eq!(
        failures,
        [
            ("apibay".to_owned(), "UPSTREAM_UNAVAILABLE".to_owned()),
            ("badkey".to_owned(), "UPSTREAM_REJECTED".to_owned()),
            ("slow".to_owned(), "UPSTREAM_UNAVAILABLE".to_owned()),
        ]
    );
    assert!(
        !answer.to_string().contains("key-badkey"),
        "an API key leaked: {answer}"
    );

    let all_failed = app
        .graphql(SEARCH, json!({ "q": "anything", "p": ["apibay", "slow"] }))
        .await;
    assert_eq!(
        error_code(&all_failed),
        Some("UPSTREAM_UNAVAILABLE"),
        "{all_failed}"
    );
    let rejected = app
        .graphql(SEARCH, json!({ "q": "anything", "p": ["badkey"] }))
        .await;
    assert_eq!(
        error_code(&rejected),
        Some("UPSTREAM_REJECTED"),
        "{rejected}"
    );
}

#[tokio::test]
async fn identical_searches_are_cached_and_coalesced() {
    let apibay = MockServer::start().await;
    Mock::given(path("/q.php"))
        .respond_with(
            json_body(fixture("apibay-search-ubuntu.json")).set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&apibay)
        .await;
    let app = app_with(&search_toml(Some(&apibay), &[])).await;
    let concurrent =
        futures::future::join_all((0..5).map(|_| search(&app, json!({ "q": "ubuntu" })))).await;
    for answer in &concurrent {
        assert_eq!(
            data(answer)["search"]["results"].as_array().unwrap().len(),
            5
        );
    }
    let later = search(&app, json!({ "q": "UBUNTU", "l": 2 })).await;
    assert_eq!(
        data(&later)["search"]["results"].as_array().unwrap().len(),
        2
    );
    // `expect(1)` is checked when the server drops.
}

#[tokio::test]
async fn bad_search_input_is_refused() {
    let apibay = MockServer::start().await;
    let app = app_with(&search_toml(Some(&apibay), &[])).await;
    for variables in [
        json!({ "q": "   " }),
        json!({ "q": "x", "l": 0 }),
        json!({ "q": "x", "l": 101 }),
        json!({ "q": "x", "p": ["nope"] }),
    ] {
        let answer = search(&app, variables.clone()).await;
        assert_eq!(
            error_code(&answer),
            Some("BAD_USER_INPUT"),
            "{variables}: {answer}"
        );
    }
    let anonymous = app.graphql_as(None, SEARCH, json!({ "q": "x" })).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
    assert!(apibay.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_results_magnet_and_info_hash_each_add_the_right_torrent() {
    let jackett = MockServer::start().await;
    Mock::given(path(JACKETT_PATH))
        .respond_with(xml_body(fixture("torznab-jackett-tpb.xml")))
        .mount(&jackett)
        .await;
    let apibay = MockServer::start().await;
    Mock::given(path("/q.php"))
        .respond_with(json_body(fixture("apibay-search-ubuntu.json")))
        .mount(&apibay)
        .await;
    let app = app_with(&search_toml(
        Some(&apibay),
        &[("jackett", &jackett, JACKETT_PATH)],
    ))
    .await;
    let answer = search(&app, json!({ "q": "x", "l": 100 })).await;
    let results = data(&answer)["search"]["results"]
        .as_array()
        .unwrap()
        .clone();
    let from_jackett = results
        .iter()
        .find(|r| r["providers"] == json!(["jackett"]))
        .unwrap();
    let from_apibay = results
        .iter()
        .find(|r| r["providers"] == json!(["apibay"]))
        .unwrap();

    let add = "mutation($i: AddTorrentInput!) { addTorrent(input: $i) { hash torrent { hash } } }";
    for (result, input) in [
        (
            from_jackett,
            json!({ "magnet": from_jackett["magnet"], "paused": true }),
        ),
        (
            from_apibay,
            json!({ "infoHash": from_apibay["infoHash"], "paused": true }),
        ),
    ] {
        let added = app.graphql(add, json!({ "i": input })).await;
        let torrent_hash = &data(&added)["addTorrent"]["torrent"]["hash"];
        assert_eq!(torrent_hash, &result["infoHash"], "{added}");
        app.graphql(
            "mutation($h: String!) { deleteTorrent(hash: $h) { hash } }",
            json!({ "h": torrent_hash }),
        )
        .await;
    }
}
