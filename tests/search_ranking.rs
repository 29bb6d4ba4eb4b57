//! Search that knows what it found: release facts on every result, the
//! quality order and its configured preference, refusals, filters,
//! grouping, "already in the library" against a fake Jellyfin 10.8 and
//! 10.11, suggested libraries, and Torznab caps choosing `tvsearch` and
//! `movie` (Jackett-, Prowlarr- and search-only-shaped caps documents).

mod common;

use common::app::{TestApp, data, error_code};
use common::fixture;
use common::qbittorrent::Qbittorrent;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TORZNAB: &str = "/api/v2.0/indexers/all/results/torznab/api";

fn xml(bytes: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(bytes, "application/rss+xml; charset=utf-8")
}

/// A Torznab indexer serving the Jackett feed for `t=search`, with `caps`
/// for `t=caps` (none: 404, as an indexer without caps).
async fn jackett(caps: Option<&str>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(TORZNAB))
        .and(query_param("t", "search"))
        .respond_with(xml(fixture("torznab-jackett-tpb.xml")))
        .mount(&server)
        .await;
    if let Some(caps) = caps {
        Mock::given(method("GET"))
            .and(path(TORZNAB))
            .and(query_param("t", "caps"))
            .respond_with(xml(fixture(caps)))
            .expect(1)
            .named("t=caps")
            .mount(&server)
            .await;
    }
    server
}

fn torznab_toml(server: &MockServer, quality: &str) -> String {
    format!(
        "[search]\n[search.apibay]\nenabled = false\n[[search.torznab]]\nname = \"jackett\"\nurl = \"{}{TORZNAB}\"\napi_key = \"key\"\ntimeout = \"2s\"\n{quality}",
        server.uri()
    )
}

async fn app_with(toml: &str) -> TestApp {
    let qbittorrent = Qbittorrent::shared();
    TestApp::start_with(&qbittorrent.url, qbittorrent, toml).await
}

const RANKED: &str = r#"query($q: String!, $o: SearchOrderBy, $w: SearchWhereInput, $r: Boolean) {
    search(query: $q, orderBy: $o, where: $w, includeRefused: $r) {
        results { name seeders release { title seasons episodes source videoCodec releaseGroup kind }
                  quality { rank refusal } suggestedLibrary }
        refusedCount
        libraryChecked
    }
}"#;

fn names(answer: &Value) -> Vec<String> {
    data(answer)["search"]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| result["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[tokio::test]
async fn results_carry_their_release_facts() {
    let indexer = jackett(None).await;
    let app = app_with(&torznab_toml(&indexer, "")).await;
    let answer = app.graphql(RANKED, json!({ "q": "series title" })).await;
    let results = data(&answer)["search"]["results"]
        .as_array()
        .unwrap()
        .clone();
    let first = results
        .iter()
        .find(|result| result["name"] == "Series Title S05E02 HDTV x264-Xclusive [eztv]")
        .expect("the S05E02 result");
    assert_eq!(
        first["release"],
        json!({ "title": "Series Title", "seasons": [5], "episodes": [2], "source": "HDTV",
                "videoCodec": "H264", "releaseGroup": "Xclusive", "kind": "EPISODE" })
    );
    assert_eq!(data(&answer)["search"]["libraryChecked"], false);
}

#[tokio::test]
async fn the_quality_order_follows_the_default_preference_and_a_configured_one() {
    let indexer = jackett(None).await;
    let order = json!({ "field": "QUALITY" });
    // By default WEBRip ranks above HDTV (and H.264 above Xvid): the two
    // WEBRip XviD results come first, most seeded first among equals.
    let app = app_with(&torznab_toml(&indexer, "")).await;
    let answer = app
        .graphql(RANKED, json!({ "q": "series", "o": order }))
        .await;
    let sources: Vec<Value> = data(&answer)["search"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["release"]["source"].clone())
        .collect();
    assert_eq!(
        sources,
        ["WEBRIP", "WEBRIP", "HDTV", "HDTV", "HDTV"].map(Value::from),
        "{answer}"
    );
    let ranks: Vec<i64> = data(&answer)["search"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["quality"]["rank"].as_i64().unwrap())
        .collect();
    assert!(ranks.windows(2).all(|pair| pair[0] <= pair[1]), "{ranks:?}");

    // Preferring HDTV turns it round; ASC puts the worst first.
    let app = app_with(&torznab_toml(
        &indexer,
        "[search.quality]\nsources = [\"hdtv\", \"webrip\"]\n",
    ))
    .await;
    let answer = app
        .graphql(RANKED, json!({ "q": "series", "o": order }))
        .await;
    assert!(names(&answer)[0].contains("HDTV"), "{answer}");
    let worst_first = app
        .graphql(
            RANKED,
            json!({ "q": "series", "o": { "field": "QUALITY", "direction": "ASC" } }),
        )
        .await;
    assert!(names(&worst_first)[0].contains("WEBRip"), "{worst_first}");
}

#[tokio::test]
async fn seeders_size_and_age_orders_sort_both_ways() {
    let indexer = jackett(None).await;
    let app = app_with(&torznab_toml(&indexer, "")).await;
    let query = r#"query($o: SearchOrderBy) { search(query: "series", orderBy: $o) { results { seeders size addedAt } } }"#;
    for (field, key) in [
        ("SEEDERS", "seeders"),
        ("SIZE", "size"),
        ("ADDED_AT", "addedAt"),
    ] {
        for direction in ["ASC", "DESC"] {
            let answer = app
                .graphql(
                    query,
                    json!({ "o": { "field": field, "direction": direction } }),
                )
                .await;
            let values: Vec<String> = data(&answer)["search"]["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|result| match &result[key] {
                    Value::Number(number) => format!("{:020}", number.as_i64().unwrap()),
                    other => other.as_str().unwrap().to_owned(),
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort();
            if direction == "DESC" {
                sorted.reverse();
            }
            assert_eq!(values, sorted, "{field} {direction}");
            assert_eq!(values.len(), 5);
        }
    }
}

#[tokio::test]
async fn filters_keep_resolutions_sources_seeders_and_episodes() {
    let indexer = jackett(None).await;
    let app = app_with(&torznab_toml(&indexer, "")).await;
    let count = |answer: &Value| names(answer).len();
    let hdtv = app
        .graphql(
            RANKED,
            json!({ "q": "series", "w": { "sources": ["HDTV"] } }),
        )
        .await;
    assert_eq!(count(&hdtv), 3, "{hdtv}");
    assert!(names(&hdtv).iter().all(|name| name.contains("HDTV")));
    let episode = app
        .graphql(
            RANKED,
            json!({ "q": "series", "w": { "season": 5, "episode": 2 } }),
        )
        .await;
    assert_eq!(
        names(&episode),
        ["Series Title S05E02 HDTV x264-Xclusive [eztv]"]
    );
    let season = app
        .graphql(RANKED, json!({ "q": "series", "w": { "season": 5 } }))
        .await;
    assert_eq!(count(&season), 4, "S03E19 is another season: {season}");
    let seeded = app
        .graphql(
            RANKED,
            json!({ "q": "series", "w": { "minSeeders": 30000 } }),
        )
        .await;
    assert!(
        data(&seeded)["search"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|result| result["seeders"].as_i64().unwrap() >= 30000)
            && count(&seeded) >= 1
            && count(&seeded) < 5,
        "{seeded}"
    );
    // None of the fixture's names gives a resolution.
    let hd = app
        .graphql(
            RANKED,
            json!({ "q": "series", "w": { "resolutions": ["HD_1080P"] } }),
        )
        .await;
    assert_eq!(count(&hd), 0, "{hd}");
    let negative = app
        .graphql(RANKED, json!({ "q": "series", "w": { "minSeeders": -1 } }))
        .await;
    assert_eq!(error_code(&negative), Some("BAD_USER_INPUT"), "{negative}");
}

#[tokio::test]
async fn refused_results_are_hidden_counted_and_shown_with_the_reason_when_asked() {
    let indexer = jackett(None).await;
    let app = app_with(&torznab_toml(
        &indexer,
        "[search.quality]\nrefuse_sources = [\"webrip\"]\n[search.quality.max_size]\ntvshows = \"300 MiB\"\n",
    ))
    .await;
    let answer = app.graphql(RANKED, json!({ "q": "series" })).await;
    let kept = names(&answer);
    assert!(kept.iter().all(|name| !name.contains("WEBRip")), "{answer}");
    let refused = data(&answer)["search"]["refusedCount"].as_i64().unwrap();
    assert_eq!(refused as usize, 5 - kept.len(), "{answer}");
    assert!(refused >= 2);

    let all = app
        .graphql(RANKED, json!({ "q": "series", "r": true }))
        .await;
    let results = data(&all)["search"]["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 5);
    for result in &results {
        let name = result["name"].as_str().unwrap();
        let refusal = result["quality"]["refusal"].as_str();
        if name.contains("WEBRip") {
            assert!(refusal.unwrap().contains("refuse_sources"), "{result}");
        } else if !kept.contains(&name.to_owned()) {
            assert!(refusal.unwrap().contains("max_size.tvshows"), "{result}");
        } else {
            assert_eq!(refusal, None, "{result}");
        }
    }
}

#[tokio::test]
async fn a_bad_quality_configuration_names_the_key() {
    for (quality, key) in [
        (
            "resolutions = [\"1080p\", \"huge\"]",
            "search.quality.resolutions",
        ),
        (
            "refuse_sources = [\"cam\", \"cam\"]",
            "search.quality.refuse_sources",
        ),
        (
            "max_size = { films = \"1 GB\" }",
            "search.quality.max_size.films",
        ),
        (
            "max_size = { movies = \"lots\" }",
            "search.quality.max_size.movies",
        ),
    ] {
        let error = torrentql::config::Config::from_toml(&format!("[search.quality]\n{quality}\n"))
            .expect_err(quality);
        assert!(error.to_string().contains(key), "{quality}: {error}");
    }
}

/// Two qualities of one episode and one of another, and three films, in
/// apibay's shape.
fn apibay_rows() -> Vec<u8> {
    let rows: Vec<Value> =
        serde_json::from_slice(&fixture("apibay-search-ubuntu.json")).expect("apibay rows");
    // (name, hash digit, seeders, IMDb id, apibay category)
    let made = [
        (
            "Breaking.Bad.S05E14.1080p.BluRay.x264-GROUP",
            '2',
            "30",
            "",
            "208",
        ),
        (
            "Breaking.Bad.S05E14.720p.HDTV.x264-GROUP",
            '3',
            "90",
            "",
            "208",
        ),
        (
            "Breaking.Bad.S05E15.720p.HDTV.x264-GROUP",
            '4',
            "20",
            "",
            "208",
        ),
        (
            "The.Matrix.1999.1080p.BluRay.x264-GROUP",
            '1',
            "50",
            "tt0133093",
            "207",
        ),
        (
            "Inception 2010 720p BluRay x264-GROUP",
            '5',
            "40",
            "",
            "207",
        ),
        (
            "Big.Buck.Bunny.2008.1080p.BluRay.x264-GROUP",
            '6',
            "10",
            "",
            "207",
        ),
    ]
    .map(|(name, digit, seeders, imdb, category)| {
        let mut row = rows[0].clone();
        row["name"] = json!(name);
        row["info_hash"] = json!(String::from(digit).repeat(40));
        row["seeders"] = json!(seeders);
        row["imdb"] = json!(imdb);
        row["category"] = json!(category);
        row
    });
    serde_json::to_vec(&made).expect("rows are JSON")
}

async fn apibay() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/q.php"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(apibay_rows(), "application/json"))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn grouping_puts_each_episode_in_one_group_with_its_qualities() {
    let server = apibay().await;
    let app = app_with(&format!(
        "[search.apibay]\nurl = \"{}\"\ntimeout = \"2s\"\n",
        server.uri()
    ))
    .await;
    let answer = app
        .graphql(
            r#"{ search(query: "breaking bad", groupBy: TITLE, orderBy: {field: QUALITY}, limit: 2) {
                groups { title seasons episodes results { name } } results { name } } }"#,
            json!({}),
        )
        .await;
    let groups = data(&answer)["search"]["groups"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(groups.len(), 2, "limit counts groups: {answer}");
    let grouped: Vec<(Value, Vec<Value>)> = groups
        .iter()
        .map(|group| {
            (
                json!([group["title"], group["seasons"], group["episodes"]]),
                group["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|result| result["name"].clone())
                    .collect(),
            )
        })
        .collect();
    // The best: The Matrix 1080p BluRay, alone; then S05E14 in both
    // qualities, the 1080p BluRay first.
    assert_eq!(
        grouped[0].1,
        [json!("The.Matrix.1999.1080p.BluRay.x264-GROUP")]
    );
    assert_eq!(grouped[1].0, json!(["Breaking Bad", [5], [14]]));
    assert_eq!(
        grouped[1].1,
        [
            json!("Breaking.Bad.S05E14.1080p.BluRay.x264-GROUP"),
            json!("Breaking.Bad.S05E14.720p.HDTV.x264-GROUP")
        ]
    );
    assert_eq!(
        data(&answer)["search"]["results"].as_array().unwrap().len(),
        3
    );
    let ungrouped = app
        .graphql(
            r#"{ search(query: "breaking bad") { groups { title } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data(&ungrouped)["search"]["groups"], Value::Null);
}

/// A fake Jellyfin with the four libraries, an administrator, and the
/// films and episodes of `items` (10.8's or 10.11's shape); `/Items`
/// answers only with a `userId`, as 10.8 does.
async fn jellyfin(items: &str) -> MockServer {
    let server = common::jellyfin::start().await;
    common::jellyfin::serve_four_libraries(&server).await;
    let admin: Value = serde_json::from_slice(&fixture(
        "jellyfin-authenticatebyname-admin-10.11-constructed.json",
    ))
    .expect("the admin login");
    let user: Value = serde_json::from_slice(&fixture("jellyfin-authenticatebyname.json"))
        .expect("the user login");
    common::jellyfin::endpoint("GET", "/Users")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([user["User"], admin["User"]])),
        )
        .mount(&server)
        .await;
    common::jellyfin::endpoint("GET", "/Items")
        .and(query_param(
            "userId",
            admin["User"]["Id"].as_str().expect("an id"),
        ))
        .and(query_param("Recursive", "true"))
        .and(query_param("IncludeItemTypes", "Movie,Series,Episode"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(fixture(items), "application/json"))
        .expect(1)
        .named("one /Items per search")
        .mount(&server)
        .await;
    common::jellyfin::endpoint("GET", "/Items")
        .and(query_param_is_missing("userId"))
        .respond_with(ResponseTemplate::new(400))
        .mount(&server)
        .await;
    server
}

const IN_LIBRARY: &str = r#"{ search(query: "breaking bad") {
    results { name inLibrary { itemId name library } suggestedLibrary }
    libraryChecked } }"#;

#[tokio::test]
async fn jellyfin_10_8_and_10_11_say_what_is_already_in_the_library_in_one_lookup() {
    for items in ["jellyfin-items-10.8.json", "jellyfin-items-10.11.json"] {
        let server = apibay().await;
        let jellyfin = jellyfin(items).await;
        let app = app_with(&format!(
            "[search.apibay]\nurl = \"{}\"\ntimeout = \"2s\"\n[jellyfin]\nurl = \"{}\"\napi_key = \"key\"\n[[libraries]]\nname = \"Shows\"\npaths = [\"/media/shows\"]\ncollection_type = \"tvshows\"\n",
            server.uri(),
            common::jellyfin::url(&jellyfin.uri())
        ))
        .await;
        let answer = app.graphql(IN_LIBRARY, json!({})).await;
        assert_eq!(
            data(&answer)["search"]["libraryChecked"],
            true,
            "{items}: {answer}"
        );
        let by_name = |name: &str| {
            data(&answer)["search"]["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|result| result["name"] == name)
                .unwrap_or_else(|| panic!("{name} in {answer}"))
                .clone()
        };
        // By IMDb id.
        let matrix = by_name("The.Matrix.1999.1080p.BluRay.x264-GROUP");
        assert_eq!(
            matrix["inLibrary"],
            json!({ "itemId": "01114cd856ea4cb5f387a0a98206039e", "name": "The Matrix", "library": "Movies" }),
            "{items}"
        );
        assert_eq!(matrix["suggestedLibrary"], "Movies");
        // By title and year.
        let inception = by_name("Inception 2010 720p BluRay x264-GROUP");
        assert_eq!(inception["inLibrary"]["name"], "Inception", "{items}");
        // An item without provider ids, by title and year.
        let bunny = by_name("Big.Buck.Bunny.2008.1080p.BluRay.x264-GROUP");
        assert_eq!(bunny["inLibrary"]["name"], "Big Buck Bunny", "{items}");
        // By series title, season and episode.
        let ozymandias = by_name("Breaking.Bad.S05E14.720p.HDTV.x264-GROUP");
        assert_eq!(
            ozymandias["inLibrary"]["name"], "Breaking Bad S05E14 Ozymandias",
            "{items}"
        );
        assert_eq!(ozymandias["inLibrary"]["library"], "Shows");
        assert_eq!(ozymandias["suggestedLibrary"], "Shows");
        let missing = by_name("Breaking.Bad.S05E15.720p.HDTV.x264-GROUP");
        assert_eq!(missing["inLibrary"], Value::Null, "S05E15 is not there");
        // The lookup is kept briefly: a second search asks no more.
        let again = app.graphql(IN_LIBRARY, json!({})).await;
        assert_eq!(data(&again)["search"]["libraryChecked"], true);
        jellyfin.verify().await;
    }
}

#[tokio::test]
async fn without_jellyfin_in_library_is_null_not_an_error() {
    let server = apibay().await;
    let app = app_with(&format!(
        "[search.apibay]\nurl = \"{}\"\ntimeout = \"2s\"\n",
        server.uri()
    ))
    .await;
    let answer = app.graphql(IN_LIBRARY, json!({})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    assert_eq!(data(&answer)["search"]["libraryChecked"], false);
    assert!(
        data(&answer)["search"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|result| result["inLibrary"].is_null())
    );
}

const EPISODE_SEARCH: &str = r#"query($w: SearchWhereInput, $i: String) {
    search(query: "Series Title", where: $w, imdbId: $i) { results { name } failures { message } } }"#;

#[tokio::test]
async fn jackett_caps_send_a_season_and_episode_as_tvsearch() {
    let indexer = jackett(Some("torznab-caps-jackett.xml")).await;
    Mock::given(method("GET"))
        .and(path(TORZNAB))
        .and(query_param("t", "tvsearch"))
        .and(query_param("q", "Series Title"))
        .and(query_param("season", "5"))
        .and(query_param("ep", "2"))
        .respond_with(xml(fixture("torznab-jackett-tpb.xml")))
        .expect(2)
        .mount(&indexer)
        .await;
    let app = app_with(&torznab_toml(&indexer, "")).await;
    let episode = json!({ "season": 5, "episode": 2 });
    // Two different searches (by words, then with the series' IMDb id,
    // which this indexer takes in tvsearch): two requests, one caps read.
    for variables in [
        json!({ "w": episode }),
        json!({ "w": episode, "i": "tt0903747" }),
    ] {
        let answer = app.graphql(EPISODE_SEARCH, variables).await;
        assert_eq!(
            names(&answer),
            ["Series Title S05E02 HDTV x264-Xclusive [eztv]"],
            "{answer}"
        );
    }
    indexer.verify().await;
}

#[tokio::test]
async fn prowlarr_caps_send_an_imdb_id_as_a_movie_search() {
    let indexer = jackett(Some("torznab-caps-prowlarr.xml")).await;
    Mock::given(method("GET"))
        .and(path(TORZNAB))
        .and(query_param("t", "movie"))
        .and(query_param("imdbid", "tt0133093"))
        .respond_with(xml(fixture("torznab-jackett-tpb.xml")))
        .expect(1)
        .mount(&indexer)
        .await;
    let app = app_with(&torznab_toml(&indexer, "")).await;
    let answer = app
        .graphql(EPISODE_SEARCH, json!({ "i": "tt0133093" }))
        .await;
    assert_eq!(names(&answer).len(), 5, "{answer}");
    let bad = app.graphql(EPISODE_SEARCH, json!({ "i": "matrix" })).await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"), "{bad}");
    indexer.verify().await;
}

#[tokio::test]
async fn an_indexer_with_search_only_gets_the_episode_in_the_words() {
    let indexer = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(TORZNAB))
        .and(query_param("t", "caps"))
        .respond_with(xml(fixture("torznab-caps-search-only.xml")))
        .expect(1)
        .mount(&indexer)
        .await;
    Mock::given(method("GET"))
        .and(path(TORZNAB))
        .and(query_param("t", "search"))
        .and(query_param("q", "Series Title S05E02"))
        .respond_with(xml(fixture("torznab-jackett-tpb.xml")))
        .expect(1)
        .mount(&indexer)
        .await;
    let app = app_with(&torznab_toml(&indexer, "")).await;
    let answer = app
        .graphql(
            EPISODE_SEARCH,
            json!({ "w": { "season": 5, "episode": 2 } }),
        )
        .await;
    assert_eq!(names(&answer).len(), 1, "{answer}");
    indexer.verify().await;
}
