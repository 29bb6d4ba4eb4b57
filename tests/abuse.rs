//! Abusive GraphQL requests: each is refused with a clear error and a
//! code, before anything runs, and leaves qBittorrent exactly as it was.

mod common;

use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use torrentql::clients::qbittorrent::TorrentFilter;
use torrentql::torrent::Magnet;

use common::app::{TestApp, admin_token, data, error_code};
use common::qbittorrent::Qbittorrent;
use common::torrents::{paused_magnets, random_hash, random_magnet};

async fn app() -> &'static TestApp {
    static APP: OnceCell<TestApp> = OnceCell::const_new();
    common::app::shared(&APP, || TestApp::start(Qbittorrent::shared())).await
}

/// What qBittorrent holds, as far as any request could change it.
async fn qbittorrent_state() -> Vec<(String, String, String, String)> {
    let mut torrents: Vec<_> = Qbittorrent::shared()
        .client()
        .torrents(TorrentFilter::All, None, None)
        .await
        .expect("qBittorrent lists")
        .into_iter()
        .map(|torrent| {
            (
                torrent.hash.to_string(),
                torrent.state,
                torrent.category,
                torrent.save_path,
            )
        })
        .collect();
    torrents.sort();
    torrents
}

/// One torrent in qBittorrent, so that "unchanged" means something.
async fn seed_one_torrent() {
    static SEEDED: OnceCell<()> = OnceCell::const_new();
    SEEDED
        .get_or_init(|| async {
            let client = Qbittorrent::shared().client();
            let hash = random_hash();
            client
                .add(&paused_magnets(vec![Magnet::from_info_hash(
                    hash,
                    Some("kept"),
                    &[],
                )]))
                .await
                .expect("add");
            common::eventually(
                "the torrent listed",
                std::time::Duration::from_secs(10),
                || {
                    let client = &client;
                    async move { client.torrent(hash).await.ok().flatten() }
                },
            )
            .await;
        })
        .await;
}

fn magnets(count: usize) -> Vec<String> {
    (0..count).map(|_| random_magnet("abuse").1).collect()
}

/// Posts `body` as `content_type` with an admin token.
async fn post(app: &TestApp, content_type: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(admin_token())
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let answer = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "not_json": text }));
    (status, answer)
}

/// Sends only the head of a JSON POST declaring `length` bytes, and reads
/// the answer (a client still writing a body the server refused could see
/// its write fail before it reads the answer).
async fn post_head_only(app: &TestApp, length: usize) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut stream = tokio::net::TcpStream::connect(app.address)
        .await
        .expect("connect");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n",
        app.address,
        admin_token()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let mut buffer = [0; 4096];
    // Until the whole answer is in: the connection closes, or the JSON ends.
    loop {
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buffer))
                .await
                .expect("an answer within 5 s")
                .expect("read");
        answer.extend_from_slice(&buffer[..read]);
        if read == 0 || answer.ends_with(b"}") {
            break;
        }
    }
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let body = serde_json::from_str(body).unwrap_or_else(|_| json!({ "not_json": answer }));
    (status, body)
}

/// One abusive request, and how it must be answered.
struct Abuse<'a> {
    what: &'a str,
    content_type: &'a str,
    body: Vec<u8>,
    status: u16,
    code: &'a str,
    /// Words the error message must contain.
    words: &'a str,
}

/// The first error's code and message, whatever the answer's shape (a
/// batch answers with a list).
fn first_error(answer: &Value) -> (Option<&str>, &str) {
    let answer = answer.get(0).unwrap_or(answer);
    (
        error_code(answer),
        answer["errors"][0]["message"].as_str().unwrap_or_default(),
    )
}

#[tokio::test]
async fn abusive_requests_are_refused_and_change_nothing() {
    let app = app().await;
    seed_one_torrent().await;
    let before = qbittorrent_state().await;
    let add = "mutation($m: String!) { addTorrent(input: { magnet: $m }) { hash } }";

    let aliased_lists = format!(
        "{{ {} }}",
        (0..300)
            .map(|index| format!("l{index}: torrents {{ nodes {{ hash }} }}"))
            .collect::<String>()
    );
    let aliased_adds = format!(
        "mutation {{ {} }}",
        magnets(50)
            .iter()
            .enumerate()
            .map(|(index, magnet)| format!(
                "a{index}: addTorrent(input: {{ magnet: \"{magnet}\" }}) {{ hash }} "
            ))
            .collect::<String>()
    );
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(12),
        " }".repeat(12)
    );
    let long_query = format!(
        "mutation {{ addTorrent(input: {{ magnet: \"{}\" }}) {{ hash }} }} # {}",
        magnets(1)[0],
        "x".repeat(70 * 1024)
    );
    let batch: Vec<Value> = magnets(11)
        .into_iter()
        .map(|magnet| json!({ "query": add, "variables": { "m": magnet } }))
        .collect();
    let json = "application/json";

    let cases = vec![
        Abuse {
            what: "300 aliased torrents lists",
            content_type: json,
            body: json!({ "query": aliased_lists }).to_string().into_bytes(),
            status: 200,
            code: "BAD_USER_INPUT",
            words: "complex",
        },
        Abuse {
            what: "50 aliased addTorrent mutations",
            content_type: json,
            body: json!({ "query": aliased_adds }).to_string().into_bytes(),
            status: 200,
            code: "BAD_USER_INPUT",
            words: "complex",
        },
        Abuse {
            what: "every torrent's files (a qBittorrent call each)",
            content_type: json,
            body: json!({ "query": "{ torrents { nodes { hash files { name } } } }" })
                .to_string()
                .into_bytes(),
            status: 200,
            code: "BAD_USER_INPUT",
            words: "complex",
        },
        Abuse {
            what: "nesting past the depth limit",
            content_type: json,
            body: json!({ "query": deep }).to_string().into_bytes(),
            status: 200,
            code: "BAD_USER_INPUT",
            words: "nested too deep",
        },
        Abuse {
            what: "a 70 KiB query",
            content_type: json,
            body: json!({ "query": long_query }).to_string().into_bytes(),
            status: 200,
            code: "BAD_USER_INPUT",
            words: "the limit is 65536",
        },
        Abuse {
            what: "a batch of 11 mutations",
            content_type: json,
            body: Value::Array(batch).to_string().into_bytes(),
            status: 400,
            code: "BAD_USER_INPUT",
            words: "at most 10 operations",
        },
        Abuse {
            what: "invalid UTF-8",
            content_type: json,
            body: b"{\"query\": \"mutation { pauseTorrent(hash: \\\"\xff\xfe\\\") { hash } }\"}"
                .to_vec(),
            status: 400,
            code: "BAD_USER_INPUT",
            words: "not a valid GraphQL request",
        },
        Abuse {
            what: "a JSON string instead of a request",
            content_type: json,
            body: b"\"mutation { pauseTorrent(hash: \\\"x\\\") { hash } }\"".to_vec(),
            status: 400,
            code: "BAD_USER_INPUT",
            words: "not a valid GraphQL request",
        },
        Abuse {
            what: "an empty batch (no query: not a GraphQL request)",
            content_type: json,
            body: b"[]".to_vec(),
            status: 400,
            code: "BAD_USER_INPUT",
            words: "no query",
        },
        Abuse {
            what: "a form post (what a cross-site form sends)",
            content_type: "application/x-www-form-urlencoded",
            body: format!("query={}", urlencode(&aliased_adds)).into_bytes(),
            status: 415,
            code: "BAD_USER_INPUT",
            words: "Content-Type application/json",
        },
        Abuse {
            what: "text/plain (a CORS-simple request)",
            content_type: "text/plain",
            body: json!({ "query": add, "variables": { "m": magnets(1)[0] } })
                .to_string()
                .into_bytes(),
            status: 415,
            code: "BAD_USER_INPUT",
            words: "Content-Type application/json",
        },
    ];

    for Abuse {
        what,
        content_type,
        body,
        status,
        code,
        words,
    } in cases
    {
        let (got_status, answer) = post(app, content_type, body).await;
        assert_eq!(got_status, status, "{what}: {answer}");
        let (got_code, message) = first_error(&answer);
        assert_eq!(got_code, Some(code), "{what}: {answer}");
        assert!(message.contains(words), "{what}: {message:?}");
        assert!(
            answer.get("data").is_none_or(Value::is_null),
            "{what}: nothing may run: {answer}"
        );
        assert_eq!(
            qbittorrent_state().await,
            before,
            "{what} changed qBittorrent"
        );
    }

    // A body declared larger than the request limit (11 MiB of variables):
    // refused from its headers, before a byte of it is read.
    let (status, answer) = post_head_only(app, 11 * 1024 * 1024).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(first_error(&answer).0, Some("BAD_USER_INPUT"), "{answer}");
    assert_eq!(qbittorrent_state().await, before);

    // Still serving.
    let answer = app.graphql("{ viewer { isAdmin } }", json!({})).await;
    assert_eq!(data(&answer)["viewer"]["isAdmin"], true);
}

#[tokio::test]
async fn uploads_that_are_not_torrents_are_refused_and_change_nothing() {
    let app = app().await;
    seed_one_torrent().await;
    let before = qbittorrent_state().await;
    let add = "mutation($f: Upload!) { addTorrent(input: { file: $f }) { hash } }";
    let not_torrents: [(&str, Vec<u8>); 4] = [
        ("a PNG", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
        ("text", b"hello, I am not a torrent".to_vec()),
        ("empty", Vec::new()),
        (
            "bencode without an info dictionary",
            b"d8:announce13:http://x/anne".to_vec(),
        ),
    ];
    for (what, bytes) in not_torrents {
        let response = app.upload(add, json!({ "f": null }), "f", bytes).await;
        assert_eq!(response.status(), 200, "{what}");
        let answer: Value = response.json().await.expect("JSON");
        assert_eq!(
            error_code(&answer),
            Some("BAD_USER_INPUT"),
            "{what}: {answer}"
        );
        assert_eq!(
            qbittorrent_state().await,
            before,
            "{what} changed qBittorrent"
        );
    }

    // A multipart request whose map names no file, or a file it does not send.
    let form = reqwest::multipart::Form::new()
        .text(
            "operations",
            json!({ "query": add, "variables": { "f": null } }).to_string(),
        )
        .text("map", json!({ "0": ["variables.f"] }).to_string());
    let response = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(admin_token())
        .multipart(form)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(error_code(&answer), Some("BAD_USER_INPUT"), "{answer}");
    assert_eq!(qbittorrent_state().await, before);
}

#[tokio::test]
async fn queries_clients_send_stay_within_the_complexity_limit() {
    let app = app().await;
    let every_plain_field = "hash name size totalSize progress downloadSpeed uploadSpeed \
        downloaded uploaded remaining eta state rawState category tags savePath contentPath \
        addedAt completedAt ratio seeds peers magnetUri";
    let hashes: Vec<String> = (0..5).map(|_| random_hash().to_string()).collect();
    for query in [
        format!("{{ torrents {{ nodes {{ {every_plain_field} }} }} }}"),
        "{ downloading: torrents(where: { state: DOWNLOADING }) { nodes { hash name progress } } \
         seeding: torrents(where: { state: SEEDING }) { nodes { hash name ratio } } \
         paused: torrents(where: { state: PAUSED }) { nodes { hash name } } }"
            .to_owned(),
        format!(
            "query($h: [String!]) {{ torrents(hashes: $h) {{ nodes {{ {every_plain_field} files {{ name size progress priority }} }} }} }}"
        ),
    ] {
        let answer = app.graphql(&query, json!({ "h": hashes })).await;
        data(&answer);
    }
}

/// `query { ...F<levels> }` where each fragment spreads the one before
/// twice, with `step` written around each spread (`{}` is replaced by the
/// spread) and `leaf` as the selection of `F0`.
fn doubling(levels: usize, leaf: &str, step: &str) -> String {
    let mut query = format!("query {{ ...F{levels} }}\nfragment F0 on Query {{ {leaf} }}\n");
    for level in 1..=levels {
        let spread = step.replace("{}", &format!("...F{}", level - 1));
        query.push_str(&format!(
            "fragment F{level} on Query {{ {spread} {spread} }}\n"
        ));
    }
    query
}

/// Queries whose expansion grows exponentially or nests past any stack,
/// in every shape the issue names.
fn exponential_queries() -> Vec<(&'static str, String)> {
    let aliases: String = (0..10)
        .map(|index| format!("a{index}: viewer {{ subject }} "))
        .collect();
    let many_fragments = {
        let mut query = "query { ".to_owned();
        for fragment in 0..50 {
            query.push_str(&format!(
                "... on Query {{ ...M{fragment} ...M{fragment} }} "
            ));
        }
        query.push_str("}\n");
        for fragment in 0..50 {
            let spreads = if fragment == 49 {
                aliases.clone()
            } else {
                format!("...M{next} ...M{next} ...M{next}", next = fragment + 1)
            };
            query.push_str(&format!("fragment M{fragment} on Query {{ {spreads} }}\n"));
        }
        query
    };
    let chain = {
        let mut query = "query { ...C0 }\n".to_owned();
        for link in 0..1_500 {
            query.push_str(&format!(
                "fragment C{link} on Query {{ ...C{} }}\n",
                link + 1
            ));
        }
        query.push_str("fragment C1500 on Query { viewer { subject } }");
        query
    };
    vec![
        (
            "doubling, 30 levels",
            doubling(30, "viewer { subject }", "{}"),
        ),
        (
            "doubling through inline fragments",
            doubling(30, "viewer { subject }", "... on Query { {} }"),
        ),
        ("doubling with aliases inside", doubling(30, &aliases, "{}")),
        ("50 fragments each spread many times", many_fragments),
        ("a chain of 1,500 fragments", chain),
    ]
}

/// Bound on one refusal here; the figures measured are in the closing
/// note of the change (a few milliseconds). Before the shape check, 25
/// levels of doubling took about ten seconds and 30 would take minutes.
const FAST: std::time::Duration = std::time::Duration::from_millis(500);

#[tokio::test]
async fn exponential_fragment_queries_are_refused_at_once_without_a_token() {
    // An app of its own: its timings must not share the preparation queue
    // with the other tests' large queries.
    let app = &TestApp::start(Qbittorrent::shared()).await;
    for (what, query) in exponential_queries() {
        assert!(query.len() < 64 * 1024, "{what}: {} bytes", query.len());
        let started = std::time::Instant::now();
        let answer = app.graphql_as(None, &query, json!({})).await;
        let took = started.elapsed();
        assert_eq!(
            error_code(&answer),
            Some("BAD_USER_INPUT"),
            "{what}: {answer}"
        );
        assert!(
            answer.get("data").is_none_or(Value::is_null),
            "{what}: {answer}"
        );
        assert!(took < FAST, "{what} took {took:?}");
        println!("{what}: refused in {took:?}");
    }
}

#[tokio::test]
async fn healthz_answers_while_exponential_queries_arrive() {
    let app = &TestApp::start(Qbittorrent::shared()).await;
    let queries = exponential_queries();
    let attackers: Vec<_> = (0..10)
        .map(|index| {
            let query = queries[index % queries.len()].1.clone();
            let http = app.http.clone();
            let url = app.url("/graphql");
            tokio::spawn(async move {
                for _ in 0..5 {
                    let answer: Value = http
                        .post(&url)
                        .json(&json!({ "query": query }))
                        .send()
                        .await
                        .expect("request")
                        .json()
                        .await
                        .expect("JSON");
                    assert_eq!(error_code(&answer), Some("BAD_USER_INPUT"), "{answer}");
                }
            })
        })
        .collect();
    let slowest = app
        .probe_healthz_until(|| attackers.iter().all(|attacker| attacker.is_finished()))
        .await;
    for attacker in attackers {
        attacker.await.expect("attacker");
    }
    assert!(slowest < FAST, "/healthz took {slowest:?}");
    println!("slowest /healthz during the attack: {slowest:?}");
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn a_huge_invalid_value_is_quoted_short_in_its_error() {
    let app = app().await;
    let huge = "x".repeat(1024 * 1024);
    for (query, variables) in [
        (
            "query($h: String!) { torrent(hash: $h) { name } }",
            json!({ "h": huge }),
        ),
        (
            "query($f: TorrentFilter) { torrents(where: { state: $f }) { nodes { name } } }",
            json!({ "f": huge }),
        ),
        (
            "mutation($p: String!) { addTorrent(input: { infoHash: \"0000000000000000000000000000000000000001\", savePath: $p }) { hash } }",
            json!({ "p": huge }),
        ),
    ] {
        let answer = app.graphql(query, variables).await;
        assert_eq!(error_code(&answer), Some("BAD_USER_INPUT"), "{answer}");
        let size = answer.to_string().len();
        assert!(size < 1024, "{query}: a {size}-byte answer");
    }
}

#[tokio::test]
async fn repeated_directives_are_refused_and_errors_are_summed_up() {
    let app = app().await;
    // @include repeated thousands of times: one error, not thousands.
    let repeated = format!(
        "{{ viewer {} {{ subject }} }}",
        "@include(if: true) ".repeat(3_000)
    );
    let answer = app.graphql(&repeated, json!({})).await;
    assert_eq!(error_code(&answer), Some("BAD_USER_INPUT"), "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("3000 directives")),
        "{answer}"
    );
    assert!(answer.to_string().len() < 1024);

    // 500 unknown fields: validation reports each, the answer 20.
    let unknown: String = (0..500).map(|index| format!("u{index}: nope ")).collect();
    let answer = app.graphql(&format!("{{ {unknown} }}"), json!({})).await;
    let errors = answer["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 20, "{answer}");
    assert_eq!(errors[19]["message"], "481 more errors left out");
    assert!(
        errors
            .iter()
            .all(|error| error_code(&json!({ "errors": [error] })).is_some())
    );
}

/// A `.torrent` listing 100,001 one-byte files (3 MB, under the upload
/// limit): refused for its file count, read in place without building
/// its file list.
fn torrent_of_files(files: usize) -> Vec<u8> {
    let mut bytes = b"d4:infod5:filesl".to_vec();
    for index in 0..files {
        let name = format!("f{index:06}");
        bytes.extend_from_slice(format!("d6:lengthi1e4:pathl{}:{name}ee", name.len()).as_bytes());
    }
    bytes.extend_from_slice(b"e4:name4:many12:piece lengthi16384e6:pieces20:");
    bytes.extend_from_slice(&[0xab; 20]);
    bytes.extend_from_slice(b"ee");
    bytes
}

#[tokio::test]
async fn torrents_with_too_many_files_and_magnets_with_huge_names_are_refused() {
    let app = app().await;
    seed_one_torrent().await;
    let before = qbittorrent_state().await;
    let add = "mutation($f: Upload!) { addTorrent(input: { file: $f }) { hash } }";
    let response = app
        .upload(add, json!({ "f": null }), "f", torrent_of_files(100_001))
        .await;
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(error_code(&answer), Some("BAD_USER_INPUT"), "{answer}");
    let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("more than 100000 files"), "{message}");

    let huge_name = format!(
        "magnet:?xt=urn:btih:{}&dn={}",
        random_hash(),
        "n".repeat(1024 * 1024)
    );
    let answer = app
        .graphql(
            "mutation($m: String!) { addTorrent(input: { magnet: $m }) { hash } }",
            json!({ "m": huge_name }),
        )
        .await;
    assert_eq!(error_code(&answer), Some("BAD_USER_INPUT"), "{answer}");
    assert!(answer.to_string().len() < 1024, "{answer}");
    assert_eq!(qbittorrent_state().await, before);
}

#[tokio::test]
async fn a_body_found_too_large_while_reading_is_refused_with_413() {
    let app = app().await;
    // Chunked, with no length declared: the limit trips while reading.
    let chunks = futures::stream::iter(
        std::iter::once(
            b"{\"query\": \"{ viewer { subject } }\", \"variables\": {\"x\": \"".to_vec(),
        )
        .chain(std::iter::repeat_n(vec![b'x'; 1024 * 1024], 11))
        .chain(std::iter::once(b"\"}}".to_vec()))
        .map(Ok::<_, std::io::Error>),
    );
    let (status, answer) = post(app, "application/json", reqwest::Body::wrap_stream(chunks)).await;
    assert_eq!(status, 413, "{answer}");
    let (code, message) = first_error(&answer);
    assert_eq!(code, Some("BAD_USER_INPUT"), "{answer}");
    assert!(
        message.contains("larger than the request limit"),
        "{message}"
    );
}
