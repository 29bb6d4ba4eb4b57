//! The GraphQL API over HTTP, against a real qbittorrent-nox: every query
//! and mutation, every way to add, the auth matrix, and every error code.

mod common;

use std::time::Duration;

use common::app::{TestApp, admin_token, data, error_code, sign, token_with_roles};
use common::proxy::RecordingProxy;
use common::qbittorrent::{Options, Qbittorrent, Version};
use common::torrents::{make_torrent, random_hash, random_magnet};
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const ADD: &str = r#"mutation($input: AddTorrentInput!) {
    addTorrent(input: $input) { hash duplicate torrent { hash name state rawState savePath category } }
}"#;

/// One app per test binary, on the shared qBittorrent.
async fn app() -> &'static TestApp {
    static APP: OnceCell<TestApp> = OnceCell::const_new();
    common::app::shared(&APP, || TestApp::start(Qbittorrent::shared())).await
}

#[tokio::test]
async fn viewer_names_the_token_subject() {
    let answer = app()
        .await
        .graphql("{ viewer { subject roles isAdmin expiresAt } }", json!({}))
        .await;
    let viewer = &data(&answer)["viewer"];
    assert_eq!(viewer["subject"], "tester");
    assert_eq!(viewer["isAdmin"], true);
    assert!(viewer["expiresAt"].as_str().unwrap().contains('T'));
}

/// Answers whose entries come in the order the query selects them, fast
/// and slow fields mixed at the root and inside torrents.
#[tokio::test]
async fn entries_are_answered_in_request_order() {
    let app = app().await;
    let hash = app.add_paused_magnet("in request order").await;
    let query = "query($h: String!) { a: qbittorrent { connected version } \
                 b: torrent(hash: $h) { files { name } hash } ...F c: categories { name } } \
                 fragment F on Query { v: viewer { subject } }";
    let body = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(admin_token())
        .json(&json!({ "query": query, "variables": { "h": hash } }))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let at = |key: &str| {
        body.find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("no {key} in {body}"))
    };
    let root = ["a", "b", "v", "c"].map(at);
    assert!(root.is_sorted(), "root entries at {root:?}: {body}");
    let torrent = ["files", "hash"].map(at);
    assert!(
        torrent.is_sorted(),
        "torrent entries at {torrent:?}: {body}"
    );
    let qbittorrent = ["connected", "version"].map(at);
    assert!(qbittorrent.is_sorted(), "{body}");
}

#[tokio::test]
async fn add_by_magnet_returns_the_listed_torrent() {
    let app = app().await;
    let (hash, magnet) = random_magnet("graphql-magnet");
    let answer = app
        .graphql(
            ADD,
            json!({ "input": { "magnet": magnet, "paused": true, "name": "Shown name" } }),
        )
        .await;
    let added = &data(&answer)["addTorrent"];
    assert_eq!(added["hash"], hash.to_string());
    assert_eq!(added["duplicate"], false);
    assert_eq!(added["torrent"]["hash"], hash.to_string());
    assert_eq!(added["torrent"]["name"], "Shown name");
    assert_eq!(added["torrent"]["state"], "PAUSED_DOWNLOADING");
    let raw = added["torrent"]["rawState"].as_str().unwrap();
    match Qbittorrent::shared().version {
        Version::V4_5 => assert_eq!(raw, "pausedDL"),
        Version::V5_1 => assert_eq!(raw, "stoppedDL"),
    }

    let again = app
        .graphql(ADD, json!({ "input": { "infoHash": hash.to_string() } }))
        .await;
    assert_eq!(data(&again)["addTorrent"]["duplicate"], true);
}

#[tokio::test]
async fn add_by_info_hash_and_by_url() {
    let app = app().await;
    let hash = random_hash();
    let answer = app
        .graphql(
            ADD,
            json!({ "input": { "infoHash": hash.to_string(), "paused": true } }),
        )
        .await;
    assert_eq!(
        data(&answer)["addTorrent"]["torrent"]["hash"],
        hash.to_string()
    );

    let made = make_torrent(
        &Qbittorrent::shared()
            .save_path
            .join(random_hash().to_string()),
        "url.bin",
        &[("url.bin", 2048)],
    );
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(made.bytes.clone()))
        .mount(&server)
        .await;
    let answer = app
        .graphql(
            ADD,
            json!({ "input": { "url": format!("{}/t.torrent", server.uri()), "paused": true } }),
        )
        .await;
    assert_eq!(data(&answer)["addTorrent"]["hash"], made.hash.to_string());
}

#[tokio::test]
async fn add_by_multipart_upload_lists_the_files() {
    let app = app().await;
    let dir = Qbittorrent::shared()
        .save_path
        .join(random_hash().to_string());
    let made = make_torrent(
        &dir,
        "upload",
        &[("one.bin", 5000), ("two/three.bin", 7000)],
    );
    let query = r#"mutation($file: Upload!) {
        addTorrent(input: { file: $file, paused: true }) { hash torrent { files { name size } } }
    }"#;
    let response = app
        .upload(query, json!({ "file": null }), "file", made.bytes.clone())
        .await;
    let answer: Value = response.json().await.unwrap();
    let added = &data(&answer)["addTorrent"];
    assert_eq!(added["hash"], made.hash.to_string());
    let mut names: Vec<_> = added["torrent"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|file| file["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["upload/one.bin", "upload/two/three.bin"]);
}

#[tokio::test]
async fn add_needs_exactly_one_source() {
    let app = app().await;
    let (hash, magnet) = random_magnet("two-sources");
    for input in [
        json!({}),
        json!({ "magnet": magnet, "infoHash": hash.to_string() }),
    ] {
        let answer = app.graphql(ADD, json!({ "input": input })).await;
        assert_eq!(error_code(&answer), Some("BAD_USER_INPUT"), "{answer}");
    }
    let torrent = app
        .graphql(
            "query($h: String!) { torrent(hash: $h) { hash } }",
            json!({ "h": hash.to_string() }),
        )
        .await;
    assert_eq!(data(&torrent)["torrent"], Value::Null);
}

#[tokio::test]
async fn torrents_filters_by_hashes_category_and_state() {
    let app = app().await;
    let first = app.add_paused_magnet("graphql").await;
    let second = app.add_paused_magnet("graphql").await;
    let category = format!("cat-{}", &first[..8]);
    let set = app
        .graphql(
            "mutation($h: String!, $c: String!) { setTorrentCategory(hash: $h, category: $c) { category } }",
            json!({ "h": first, "c": category }),
        )
        .await;
    assert_eq!(
        data(&set)["setTorrentCategory"]["category"],
        category.as_str()
    );

    let by_hashes = app
        .graphql("query($h: [String!]) { torrents(hashes: $h) { nodes { hash size progress eta addedAt completedAt } } }", json!({ "h": [first, second] }))
        .await;
    let listed = data(&by_hashes)["torrents"]["nodes"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["completedAt"], Value::Null);

    let by_category = app
        .graphql(
            "query($c: String) { torrents(where: { category: $c }) { nodes { hash category } } }",
            json!({ "c": category }),
        )
        .await;
    assert_eq!(
        data(&by_category)["torrents"]["nodes"],
        json!([{ "hash": first, "category": category }])
    );

    let paused = app
        .graphql(
            "query($h: [String!]) { torrents(where: { state: PAUSED }, hashes: $h) { nodes { hash } } }",
            json!({ "h": [first] }),
        )
        .await;
    assert_eq!(
        data(&paused)["torrents"]["nodes"].as_array().unwrap().len(),
        1
    );
    let resumed = app
        .graphql(
            "query($h: [String!]) { torrents(where: { state: RESUMED }, hashes: $h) { nodes { hash } } }",
            json!({ "h": [first] }),
        )
        .await;
    assert_eq!(data(&resumed)["torrents"]["nodes"], json!([]));

    let categories = app
        .graphql("{ categories { name savePath } }", json!({}))
        .await;
    assert!(
        data(&categories)["categories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == category.as_str())
    );
}

#[tokio::test]
async fn pause_resume_and_delete_through_mutations() {
    let app = app().await;
    let dir = Qbittorrent::shared()
        .save_path
        .join(random_hash().to_string());
    let made = make_torrent(&dir, "seeded", &[("a.bin", 20_000), ("b/c.bin", 3000)]);
    let response = app
        .upload(
            r#"mutation($file: Upload!, $dir: String) { addTorrent(input: { file: $file, savePath: $dir }) { hash } }"#,
            json!({ "file": null, "dir": dir.to_string_lossy() }),
            "file",
            made.bytes.clone(),
        )
        .await;
    let answer: Value = response.json().await.unwrap();
    let hash = data(&answer)["addTorrent"]["hash"]
        .as_str()
        .unwrap()
        .to_owned();

    let paused = app
        .graphql(
            "mutation($h: String!) { pauseTorrent(hash: $h) { state } }",
            json!({ "h": hash }),
        )
        .await;
    let state = data(&paused)["pauseTorrent"]["state"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(state.starts_with("PAUSED_"), "{state}");
    let resumed = app
        .graphql(
            "mutation($h: String!) { resumeTorrent(hash: $h) { state } }",
            json!({ "h": hash }),
        )
        .await;
    let state = data(&resumed)["resumeTorrent"]["state"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!state.starts_with("PAUSED_"), "{state}");

    let deleted = app
        .graphql("mutation($h: String!) { deleteTorrent(hash: $h, deleteFiles: true) { hash deletedFiles } }", json!({ "h": hash }))
        .await;
    assert_eq!(
        data(&deleted)["deleteTorrent"],
        json!({ "hash": hash, "deletedFiles": true })
    );
    common::eventually("the data to be deleted", Duration::from_secs(5), || async {
        (!made.content.join("a.bin").exists()).then_some(())
    })
    .await;
    let gone = app
        .graphql(
            "query($h: String!) { torrent(hash: $h) { hash } }",
            json!({ "h": hash }),
        )
        .await;
    assert_eq!(data(&gone)["torrent"], Value::Null);
}

#[tokio::test]
async fn qbittorrent_field_reports_the_versions() {
    let answer = app()
        .await
        .graphql(
            "{ qbittorrent { connected version webapiVersion error } }",
            json!({}),
        )
        .await;
    let info = &data(&answer)["qbittorrent"];
    assert_eq!(info["connected"], true);
    let version = info["version"].as_str().unwrap();
    assert!(
        version.starts_with(Qbittorrent::shared().version.app_version_prefix()),
        "{version}"
    );
    assert_eq!(info["error"], Value::Null);
}

#[tokio::test]
async fn user_errors_carry_their_codes() {
    let app = app().await;
    let unknown = random_hash().to_string();
    let cases = [
        (
            "mutation { pauseTorrent(hash: \"nothex\") { hash } }".to_owned(),
            "BAD_USER_INPUT",
        ),
        (
            "mutation { addTorrent(input: { magnet: \"magnet:?dn=x\" }) { hash } }".to_owned(),
            "BAD_USER_INPUT",
        ),
        (
            "mutation { addTorrent(input: { infoHash: \"abc\" }) { hash } }".to_owned(),
            "BAD_USER_INPUT",
        ),
        (
            format!(
                "mutation {{ addTorrent(input: {{ infoHash: \"{unknown}\", savePath: \"/etc\" }}) {{ hash }} }}"
            ),
            "BAD_USER_INPUT",
        ),
        (
            format!("mutation {{ pauseTorrent(hash: \"{unknown}\") {{ hash }} }}"),
            "NOT_FOUND",
        ),
        (
            format!("mutation {{ resumeTorrent(hash: \"{unknown}\") {{ hash }} }}"),
            "NOT_FOUND",
        ),
        (
            format!("mutation {{ deleteTorrent(hash: \"{unknown}\") {{ hash }} }}"),
            "NOT_FOUND",
        ),
        (
            format!(
                "mutation {{ setTorrentCategory(hash: \"{unknown}\", category: \"x\") {{ hash }} }}"
            ),
            "NOT_FOUND",
        ),
    ];
    for (query, code) in cases {
        let answer = app.graphql(&query, json!({})).await;
        assert_eq!(error_code(&answer), Some(code), "{query}: {answer}");
    }
}

#[tokio::test]
async fn a_torrent_qbittorrent_refuses_is_upstream_rejected() {
    let app = app().await;
    let mut bytes = b"d4:infod6:lengthi5e4:name3:bad12:piece lengthi16384e6:pieces40:".to_vec();
    bytes.extend_from_slice(&[0xcd; 40]);
    bytes.extend_from_slice(b"ee");
    let response = app
        .upload(
            "mutation($f: Upload!) { addTorrent(input: { file: $f }) { hash } }",
            json!({ "f": null }),
            "f",
            bytes,
        )
        .await;
    let answer: Value = response.json().await.unwrap();
    assert_eq!(error_code(&answer), Some("UPSTREAM_REJECTED"), "{answer}");
}

#[tokio::test]
async fn qbittorrent_down_is_upstream_unavailable_and_recovers() {
    let qbittorrent = Qbittorrent::start(Options::default()).await;
    let app = TestApp::start(&qbittorrent).await;
    let ready = || async {
        let response = app.http.get(app.url("/readyz")).send().await.ok()?;
        Some(response.status().as_u16())
    };
    common::eventually("ready", Duration::from_secs(10), || async {
        (ready().await == Some(200)).then_some(())
    })
    .await;
    qbittorrent.kill();
    // Reads come from the mirror until a sync fails (within an interval),
    // then from qBittorrent, which is gone.
    let answer = common::eventually("reads to fail", Duration::from_secs(5), || async {
        let answer = app
            .graphql("{ torrents { nodes { hash } } }", json!({}))
            .await;
        error_code(&answer).is_some().then_some(answer)
    })
    .await;
    assert_eq!(
        error_code(&answer),
        Some("UPSTREAM_UNAVAILABLE"),
        "{answer}"
    );
    assert_eq!(ready().await, Some(503));
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(
        !message.contains("127.0.0.1") && !message.contains(&qbittorrent.webui_port.to_string()),
        "{message}"
    );
    let info = app
        .graphql("{ qbittorrent { connected error } }", json!({}))
        .await;
    assert_eq!(data(&info)["qbittorrent"]["connected"], false);

    // Without a token /readyz names only the kind of reason; an admin gets
    // the reason itself.
    let readiness = |token: Option<String>| async {
        let mut request = app.http.get(app.url("/readyz"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let answer: Value = request
            .send()
            .await
            .expect("/readyz")
            .json()
            .await
            .expect("JSON");
        answer
    };
    let anonymous = readiness(None).await;
    assert_eq!(
        anonymous,
        json!({ "ready": false, "reason": "qbittorrent_unavailable" })
    );
    let admin = readiness(Some(admin_token())).await;
    assert_eq!(admin["reason"], "qbittorrent_unavailable");
    let detail = admin["detail"].as_str().expect("detail");
    assert!(
        detail.starts_with("qBittorrent does not answer"),
        "{detail}"
    );
    assert!(!detail.contains("://"), "{detail}");

    qbittorrent.restart().await;
    let answer = app
        .graphql("{ torrents { nodes { hash } } }", json!({}))
        .await;
    assert_eq!(data(&answer)["torrents"]["nodes"], json!([]));
}

#[tokio::test]
async fn garbage_from_qbittorrent_is_internal_without_details() {
    let qbittorrent = Qbittorrent::shared();
    let proxy = RecordingProxy::start(&qbittorrent.url).await;
    proxy.replace("/api/v2/torrents/info", 200, "<html>surprise</html>");
    let app = TestApp::start_with(&proxy.url, qbittorrent, "").await;
    let answer = app
        .graphql("{ torrents { nodes { hash } } }", json!({}))
        .await;
    assert_eq!(error_code(&answer), Some("INTERNAL"), "{answer}");
    assert!(!answer.to_string().contains("surprise"));
    let viewer = app.graphql("{ viewer { subject } }", json!({})).await;
    assert_eq!(data(&viewer)["viewer"]["subject"], "tester");
}

#[tokio::test]
async fn files_are_loaded_once_per_torrent_and_only_when_asked() {
    let qbittorrent = Qbittorrent::shared();
    let proxy = RecordingProxy::start(&qbittorrent.url).await;
    let app = TestApp::start_with(&proxy.url, qbittorrent, "").await;
    let hashes = vec![
        app.add_paused_magnet("graphql").await,
        app.add_paused_magnet("graphql").await,
        app.add_paused_magnet("graphql").await,
    ];

    proxy.clear();
    let answer = app
        .graphql(
            "query($h: [String!]) { torrents(hashes: $h) { nodes { hash name } } }",
            json!({ "h": hashes }),
        )
        .await;
    assert_eq!(
        data(&answer)["torrents"]["nodes"].as_array().unwrap().len(),
        3
    );
    assert_eq!(proxy.count("/api/v2/torrents/files"), 0);

    proxy.clear();
    let answer = app
        .graphql(
            "query($h: [String!]) { torrents(hashes: $h) { nodes { files { name } again: files { size } } } }",
            json!({ "h": hashes }),
        )
        .await;
    data(&answer);
    assert_eq!(proxy.count("/api/v2/torrents/files"), 3);
}

/// Each token case against a query and a mutation.
#[tokio::test]
async fn auth_matrix_for_a_query_and_a_mutation() {
    let app = app().await;
    let now = chrono::Utc::now().timestamp();
    let hash = app.add_paused_magnet("graphql").await;
    let wrong_signature = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({ "sub": "x", "roles": ["admin"], "exp": now + 3600 }),
        &jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-0000"),
    )
    .unwrap();
    let alg_none = {
        use base64::Engine;
        let encode = |value: Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
        };
        format!(
            "{}.{}.",
            encode(json!({ "alg": "none", "typ": "JWT" })),
            encode(json!({ "sub": "x", "roles": ["admin"], "exp": now + 3600 }))
        )
    };
    let cases: [(Option<String>, Option<&str>); 7] = [
        (None, Some("UNAUTHENTICATED")),
        (Some("garbage".to_owned()), Some("UNAUTHENTICATED")),
        (Some(wrong_signature), Some("UNAUTHENTICATED")),
        (
            Some(sign(
                &json!({ "sub": "x", "roles": ["admin"], "exp": now - 3600 }),
            )),
            Some("UNAUTHENTICATED"),
        ),
        (Some(alg_none), Some("UNAUTHENTICATED")),
        (Some(token_with_roles(&["viewer"])), Some("FORBIDDEN")),
        (Some(admin_token()), None),
    ];
    let query = "{ torrents { nodes { hash } } }".to_owned();
    let mutation = format!("mutation {{ pauseTorrent(hash: \"{hash}\") {{ hash }} }}");
    for (token, expected) in &cases {
        for operation in [&query, &mutation] {
            let answer = app.graphql_as(token.as_deref(), operation, json!({})).await;
            assert_eq!(
                error_code(&answer),
                *expected,
                "{token:?} {operation}: {answer}"
            );
            if expected.is_some() {
                assert_eq!(answer["data"], Value::Null, "{answer}");
            }
        }
    }
}

#[tokio::test]
async fn introspection_needs_an_admin_token() {
    let app = app().await;
    let query = "{ __schema { queryType { name } } }";
    let anonymous = app.graphql_as(None, query, json!({})).await;
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
    let hidden_in_fragment = app
        .graphql_as(
            None,
            "query { ...F } fragment F on Query { __type(name: \"Torrent\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&hidden_in_fragment), Some("UNAUTHENTICATED"));
    let admin = app.graphql(query, json!({})).await;
    assert_eq!(data(&admin)["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn limits_reject_deep_queries_big_batches_and_wrong_content_types() {
    let app = app().await;
    // 17 levels against a limit of 15.
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(12),
        " }".repeat(12)
    );
    let answer = app.graphql(&deep, json!({})).await;
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.to_lowercase().contains("nested too deep"),
        "{answer}"
    );

    let batch_of = |operations: usize| {
        let batch: Vec<Value> = (0..operations)
            .map(|_| json!({ "query": "{ viewer { subject } }" }))
            .collect();
        app.http
            .post(app.url("/graphql"))
            .bearer_auth(admin_token())
            .json(&batch)
            .send()
    };
    assert_eq!(batch_of(11).await.unwrap().status(), 400);
    let response = batch_of(2).await.unwrap();
    let answers: Vec<Value> = response.json().await.unwrap();
    assert_eq!(answers.len(), 2);

    let response = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(admin_token())
        .header("content-type", "text/plain")
        .body("{ viewer { subject } }")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
}

#[tokio::test]
async fn upload_over_the_limit_is_refused() {
    let app = app().await;
    let too_big = vec![b'x'; torrentql::torrent::MAX_TORRENT_FILE_BYTES + 1];
    let response = app
        .upload(
            "mutation($f: Upload!) { addTorrent(input: { file: $f }) { hash } }",
            json!({ "f": null }),
            "f",
            too_big,
        )
        .await;
    assert_eq!(response.status(), 413);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(error_code(&answer), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn playground_page_and_health_need_no_token() {
    let app = app().await;
    // What a browser sends when its address bar opens the page.
    let page = app
        .http
        .get(app.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("graphiql@3.8.3/graphiql.min.js"));
    // Anything else asking for no query is a GraphQL client that forgot it.
    let no_query = app.http.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(no_query.status(), 400);
    let answer: Value = no_query.json().await.unwrap();
    assert_eq!(answer["errors"][0]["message"], "the request has no query");
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Ready from the first sync with qBittorrent on.
    common::eventually("/readyz", std::time::Duration::from_secs(10), || async {
        let response = app.http.get(app.url("/readyz")).send().await.ok()?;
        (response.status() == 200).then_some(())
    })
    .await;
}

#[tokio::test]
async fn category_names_that_climb_or_hold_control_characters_create_nothing() {
    let app = app().await;
    let hash = app.add_paused_magnet("categorised").await;
    let client = Qbittorrent::shared().client();
    let bad = [
        "../x", "a/../b", "a/./b", "..", "/a", "a/", "a//b", "a\u{7}b", "a\nb",
    ];
    for bad in bad {
        let answer = app
            .graphql(
                "mutation($h: String!, $c: String!) { setTorrentCategory(hash: $h, category: $c) { category } }",
                json!({ "h": hash, "c": bad }),
            )
            .await;
        assert_eq!(
            error_code(&answer),
            Some("BAD_USER_INPUT"),
            "{bad:?}: {answer}"
        );
    }
    // Other tests create categories meanwhile: look for these names only.
    let created: Vec<String> = client
        .categories()
        .await
        .expect("categories")
        .into_iter()
        .map(|category| category.name)
        .filter(|name| bad.contains(&name.as_str()) || name.split('/').any(|part| part == ".."))
        .collect();
    assert!(created.is_empty(), "{created:?}");
    // A subcategory is what `/` is for.
    let answer = app
        .graphql(
            "mutation($h: String!) { setTorrentCategory(hash: $h, category: \"abuse/sub\") { category } }",
            json!({ "h": hash }),
        )
        .await;
    assert_eq!(data(&answer)["setTorrentCategory"]["category"], "abuse/sub");
}
