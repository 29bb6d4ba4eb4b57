//! `/graphql` as the GraphQL over HTTP spec and the `graphql-sse` protocol
//! have it, seen byte for byte: content negotiation, status codes, `GET`,
//! automatic persisted queries, global ids and event streams. The client
//! libraries' view of the same is in `frontend_clients`.

mod common;

use std::time::Duration;

use common::app::{TestApp, admin_token, data};
use common::qbittorrent::Qbittorrent;
use futures::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

/// One app per test binary, on the shared qBittorrent.
async fn app() -> &'static TestApp {
    static APP: OnceCell<TestApp> = OnceCell::const_new();
    common::app::shared(&APP, || TestApp::start(Qbittorrent::shared())).await
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// Status, content type and JSON body of `request`, sent with an admin token.
async fn send(request: reqwest::RequestBuilder) -> (u16, String, Value) {
    let response = request
        .bearer_auth(admin_token())
        .send()
        .await
        .expect("the request is answered");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().expect("an ASCII content type").to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

async fn post(accept: &str, body: Value) -> (u16, String, Value) {
    let app = app().await;
    send(
        app.http
            .post(app.url("/graphql"))
            .header("accept", accept)
            .json(&body),
    )
    .await
}

async fn get(accept: &str, params: &[(&str, &str)]) -> (u16, String, Value) {
    let app = app().await;
    send(
        app.http
            .get(app.url("/graphql"))
            .header("accept", accept)
            .query(params),
    )
    .await
}

#[tokio::test]
async fn request_errors_answer_4xx_without_data_in_graphql_response_json_and_200_in_json() {
    let unparsable = json!({ "query": "{ viewer { subject }" });
    let invalid = json!({ "query": "{ viewer { nope } }" });
    let bad_variables = json!({ "query": "query($h: String!) { torrent(hash: $h) { name } }", "variables": { "h": 5 } });
    for body in [&unparsable, &invalid, &bad_variables] {
        let (status, content_type, answer) = post(GRAPHQL_RESPONSE, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(content_type.starts_with(GRAPHQL_RESPONSE), "{content_type}");
        assert!(answer.get("data").is_none(), "no data entry: {answer}");
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{answer}"
        );

        let (status, content_type, answer) = post("application/json", body.clone()).await;
        assert_eq!(status, 200, "{body}: {answer}");
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        assert!(answer.get("data").is_none(), "no data entry: {answer}");
    }

    // Not a GraphQL request at all: 400 whatever the client accepts.
    let (status, _, answer) = post(
        "application/json",
        json!({ "querry": "{ viewer { subject } }" }),
    )
    .await;
    assert_eq!(status, 400, "{answer}");

    // A field error is no request error: 200 with data.
    let (status, _, answer) = post(
        GRAPHQL_RESPONSE,
        json!({ "query": "{ viewer { subject } torrent(hash: \"nope\") { name } }" }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["torrent"], Value::Null, "{answer}");
    assert_eq!(answer["data"]["viewer"]["subject"], "tester", "{answer}");

    // Refused for the token: 401.
    let app = app().await;
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("accept", GRAPHQL_RESPONSE)
        .json(&json!({ "query": "{ __schema { queryType { name } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn queries_run_over_get_and_mutations_do_not() {
    let (status, content_type, answer) = get(
        GRAPHQL_RESPONSE,
        &[
            ("query", "query Other { qbittorrent { connected } } query Who($h: String!) { viewer { subject } torrent(hash: $h) { name } }"),
            ("operationName", "Who"),
            ("variables", r#"{"h": "0123456789abcdef0123456789abcdef01234567"}"#),
        ],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(content_type.starts_with(GRAPHQL_RESPONSE), "{content_type}");
    assert_eq!(data(&answer)["viewer"]["subject"], "tester");
    assert_eq!(data(&answer)["torrent"], Value::Null);

    let app = app().await;
    let mutation =
        "mutation { pauseTorrent(hash: \"0123456789abcdef0123456789abcdef01234567\") { hash } }";
    let response = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", mutation)])
        .bearer_auth(admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let answer: Value = response.json().await.unwrap();
    assert!(answer.get("data").is_none(), "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("POST")
    );

    // Nothing GraphQL can answer in: 406.
    let (status, _, _) = get("image/png", &[("query", "{ viewer { subject } }")]).await;
    assert_eq!(status, 406);
}

#[tokio::test]
async fn a_persisted_query_works_by_hash_once_registered() {
    let query = format!(
        "{{ viewer {{ subject }} q{}: viewer {{ isAdmin }} }}",
        rand_suffix()
    );
    let hash = data_encoding::HEXLOWER.encode(&Sha256::digest(query.as_bytes()));
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string();

    // Apollo's first try: the hash alone, over GET.
    let (status, _, answer) = get("application/json", &[("extensions", &extensions)]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["errors"][0]["message"], "PersistedQueryNotFound",
        "{answer}"
    );
    assert_eq!(
        answer["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
    assert!(answer.get("data").is_none(), "{answer}");

    // A wrong hash with a text is refused, and registers nothing.
    let (status, _, answer) = post(
        "application/json",
        json!({ "query": "{ viewer { isAdmin } }", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{answer}"
    );
    let (_, _, answer) = get("application/json", &[("extensions", &extensions)]).await;
    assert_eq!(
        answer["errors"][0]["message"], "PersistedQueryNotFound",
        "{answer}"
    );

    // Registered once with its text...
    let (status, _, answer) = post(
        "application/json",
        json!({ "query": query, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(data(&answer)["viewer"]["subject"], "tester");

    // ...then the hash alone works, over GET and POST.
    let (status, _, answer) = get(GRAPHQL_RESPONSE, &[("extensions", &extensions)]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(data(&answer)["viewer"]["subject"], "tester");
    let (status, _, answer) = post(
        GRAPHQL_RESPONSE,
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(data(&answer)["viewer"]["subject"], "tester");

    // A persisted query still needs its token.
    let app = app().await;
    let answer: Value = app
        .http
        .get(app.url("/graphql"))
        .query(&[("extensions", &extensions)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        common::app::error_code(&answer),
        Some("UNAUTHENTICATED"),
        "{answer}"
    );
}

fn rand_suffix() -> u64 {
    rand::random()
}

#[tokio::test]
async fn every_cached_type_has_an_id_that_fetches_it_again() {
    let app = app().await;
    let hash = app.add_paused_magnet("found-by-id").await;
    let answer = app
        .graphql(
            "query($h: String!) { torrent(hash: $h) { id hash name } categories { id name } qbittorrent { id connected } }",
            json!({ "h": hash }),
        )
        .await;
    let torrent = &data(&answer)["torrent"];
    let torrent_id = torrent["id"].as_str().unwrap();
    let qbittorrent_id = data(&answer)["qbittorrent"]["id"].as_str().unwrap();

    let answer = app
        .graphql(
            "query($id: ID!, $ids: [ID!]!) {
                node(id: $id) { __typename id ... on Torrent { hash name } }
                nodes(ids: $ids) { __typename id ... on QbittorrentInfo { connected } }
            }",
            json!({ "id": torrent_id, "ids": [qbittorrent_id, torrent_id] }),
        )
        .await;
    let node = &data(&answer)["node"];
    assert_eq!(node["__typename"], "Torrent");
    assert_eq!(node["id"], torrent_id);
    assert_eq!(node["hash"], hash);
    assert_eq!(node["name"], "found-by-id");
    let nodes = &data(&answer)["nodes"];
    assert_eq!(nodes[0]["__typename"], "QbittorrentInfo");
    assert_eq!(nodes[0]["connected"], true);
    assert_eq!(nodes[1]["id"], torrent_id);

    // The same id from a list, a fragment and the fast path alike.
    let answer = app
        .graphql(
            "query($h: [String!]) { plain: torrents(hashes: $h) { nodes { id } } framed: torrents(hashes: $h) { nodes { ... on Node { id } } } }",
            json!({ "h": [hash] }),
        )
        .await;
    assert_eq!(data(&answer)["plain"]["nodes"][0]["id"], torrent_id);
    assert_eq!(data(&answer)["framed"]["nodes"][0]["id"], torrent_id);

    // Gone: null; not an id at all: BAD_USER_INPUT.
    app.graphql(
        "mutation($h: String!) { deleteTorrent(hash: $h) { hash } }",
        json!({ "h": hash }),
    )
    .await;
    let answer = app
        .graphql(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": torrent_id }),
        )
        .await;
    assert_eq!(data(&answer)["node"], Value::Null, "{answer}");
    let answer = app
        .graphql("{ node(id: \"not-ours\") { id } }", json!({}))
        .await;
    assert_eq!(
        common::app::error_code(&answer),
        Some("BAD_USER_INPUT"),
        "{answer}"
    );
}

/// The `event:`/`data:` pairs of an event stream, as they come.
async fn events(response: reqwest::Response, until: usize) -> Vec<(String, String)> {
    let mut bytes = response.bytes_stream();
    let mut text = String::new();
    let mut events = Vec::new();
    while events.len() < until {
        let chunk = tokio::time::timeout(Duration::from_secs(15), bytes.next())
            .await
            .expect("an event in time");
        let Some(chunk) = chunk else { break };
        let chunk = chunk.expect("the stream reads");
        text.push_str(std::str::from_utf8(&chunk).expect("UTF-8 events"));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .filter_map(|line| line.strip_prefix(name))
                    .map(str::trim_start)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let event = field("event:");
            if !event.is_empty() {
                events.push((event, field("data:")));
            }
        }
    }
    events
}

#[tokio::test]
async fn an_event_stream_answers_queries_refusals_and_subscriptions() {
    let app = app().await;
    let stream = |body: Value| {
        app.http
            .post(app.url("/graphql"))
            .header("accept", "text/event-stream")
            .bearer_auth(admin_token())
            .json(&body)
            .send()
    };

    let response = stream(json!({ "query": "{ viewer { subject } }" }))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let seen = events(response, 2).await;
    assert_eq!(seen[0].0, "next");
    let result: Value = serde_json::from_str(&seen[0].1).unwrap();
    assert_eq!(result["data"]["viewer"]["subject"], "tester");
    assert_eq!(seen[1].0, "complete");

    // Refused before running: the errors in a `next`, as graphql-sse asks.
    let seen = events(
        stream(json!({ "query": "{ viewer { nope } }" }))
            .await
            .unwrap(),
        2,
    )
    .await;
    let result: Value = serde_json::from_str(&seen[0].1).unwrap();
    assert!(result.get("data").is_none(), "{result}");
    assert_eq!(result["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(seen[1].0, "complete");

    // A subscription: the snapshot, then the pause as a delta.
    let hash = app.add_paused_magnet("streamed").await;
    let set = |verb: &'static str| {
        let hash = hash.clone();
        async move {
            let mutation =
                format!("mutation($h: String!) {{ {verb}Torrent(hash: $h) {{ hash }} }}");
            app.graphql(&mutation, json!({ "h": hash })).await
        }
    };
    set("resume").await;
    let response = stream(json!({
        "query": "subscription($h: [String!]) { torrentProgress(hashes: $h) { snapshot torrents { hash state } } }",
        "variables": { "h": [hash] },
    }))
    .await
    .unwrap();
    let mut bytes = response.bytes_stream();
    let mut text = String::new();
    let mut next_event = async || -> Value {
        loop {
            if let Some(end) = text.find("\n\n") {
                let block: String = text.drain(..end + 2).collect();
                let data = block.lines().find_map(|line| line.strip_prefix("data:"));
                if let Some(data) = data
                    && block.contains("event: next")
                {
                    return serde_json::from_str(data.trim_start()).expect("JSON data");
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(15), bytes.next())
                .await
                .expect("an event in time")
                .expect("the stream stays open");
            let chunk = chunk.expect("the stream reads");
            text.push_str(std::str::from_utf8(&chunk).expect("UTF-8 events"));
        }
    };
    let snapshot = next_event().await;
    let progress = &snapshot["data"]["torrentProgress"];
    assert_eq!(progress["snapshot"], true, "{snapshot}");
    assert_eq!(progress["torrents"][0]["hash"], hash, "{snapshot}");
    set("pause").await;
    let delta = loop {
        let event = next_event().await;
        let torrents = &event["data"]["torrentProgress"]["torrents"];
        if torrents[0]["state"] == "PAUSED_DOWNLOADING" {
            break event;
        }
    };
    assert_eq!(
        delta["data"]["torrentProgress"]["snapshot"], false,
        "{delta}"
    );
}

#[tokio::test]
async fn a_shutdown_ends_event_streams_without_complete_so_clients_reconnect() {
    let app = TestApp::start(Qbittorrent::shared()).await;
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("accept", "text/event-stream")
        .bearer_auth(admin_token())
        .json(&json!({ "query": "subscription { torrentProgress { snapshot } }" }))
        .send()
        .await
        .unwrap();
    let mut bytes = response.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(15), bytes.next())
        .await
        .expect("the snapshot in time")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&first).contains("event: next"));

    let stopped = tokio::time::timeout(Duration::from_secs(10), app.shut_down());
    let rest = async {
        let mut rest = String::new();
        while let Some(Ok(chunk)) = bytes.next().await {
            rest.push_str(&String::from_utf8_lossy(&chunk));
        }
        rest
    };
    let (stopped, rest) = tokio::join!(stopped, rest);
    stopped.expect("the server stops while a stream is open");
    assert!(!rest.contains("event: complete"), "{rest}");
}
