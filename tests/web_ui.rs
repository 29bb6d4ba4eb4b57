//! The web UI at `/`, driven in Debian's headless Chromium
//! (`tests/clients/ui.mjs`) against a real qbittorrent-nox, with a fake
//! Jellyfin and a fake apibay on 127.0.0.1. Each test checks qBittorrent's
//! own view after what a person did in the page, and that the page logged
//! no error, broke no CSP rule, opened no dialog and asked nothing of any
//! other origin.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::app::{TestApp, admin_token, data, sign, token_with_roles};
use common::qbittorrent::{Options, Qbittorrent};
use common::torrents::{make_torrent, paused_magnets, random_hash, random_magnet};
use serde_json::{Value, json};
use torrentql::clients::qbittorrent::{AddSource, AddTorrent, TorrentAction, TorrentFilter};
use torrentql::torrent::{InfoHash, Magnet};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const WAIT: Duration = Duration::from_secs(30);

/// Runs one scenario of `ui.mjs` against `app` and checks the page was
/// clean: no console or page error, no CSP violation, no dialog, no
/// request beyond 127.0.0.1's torrentql.
async fn scenario(app: &TestApp, name: &str, arguments: Value) -> Value {
    let mut arguments = arguments;
    arguments["url"] = json!(format!("http://{}", app.address));
    if arguments.get("token").is_none() {
        arguments["token"] = json!(admin_token());
    }
    let seen = common::node::run_script("ui.mjs", &[name, &arguments.to_string()]).await;
    for clean in [
        "consoleErrors",
        "pageErrors",
        "outsideRequests",
        "dialogs",
        "cspViolations",
    ] {
        assert_eq!(seen[clean], json!([]), "{name}: {clean} in {seen}");
    }
    seen
}

/// The two libraries the UI offers, as folders qBittorrent can write.
fn libraries_toml(qbittorrent: &Qbittorrent) -> (String, PathBuf, PathBuf) {
    let movies = qbittorrent.save_path.join("library/Movies");
    let shows = qbittorrent.save_path.join("library/Shows");
    let toml = format!(
        "[[libraries]]\nname = \"Movies\"\npaths = [\"{}\"]\ncollection_type = \"movies\"\n\
         [[libraries]]\nname = \"Shows\"\npaths = [\"{}\"]\ncollection_type = \"tvshows\"\n",
        movies.display(),
        shows.display()
    );
    (toml, movies, shows)
}

/// An app with the two libraries on `qbittorrent`, and `extra` config.
async fn app_with_libraries(qbittorrent: &Qbittorrent, extra: &str) -> (TestApp, PathBuf) {
    let (libraries, movies, _) = libraries_toml(qbittorrent);
    let app = TestApp::start_with(
        &qbittorrent.url,
        qbittorrent,
        &format!("{libraries}{extra}"),
    )
    .await;
    (app, movies)
}

/// Asserts qBittorrent has the torrent `hash`, saved in `folder`.
async fn assert_saved_in(qbittorrent: &Qbittorrent, hash: InfoHash, folder: &Path) {
    let torrent = qbittorrent
        .client()
        .torrent(hash)
        .await
        .expect("qBittorrent answers")
        .unwrap_or_else(|| panic!("{hash} is not in qBittorrent"));
    assert_eq!(
        Path::new(torrent.save_path.trim_end_matches('/')),
        folder,
        "where {hash} is saved"
    );
}

#[tokio::test]
async fn signing_in_with_a_token_or_as_jellyfins_admin_and_the_refusals() {
    const PASSWORD: &str = "jellyfin-password";
    let jellyfin = common::jellyfin::start().await;
    common::jellyfin::serve_users(&jellyfin, PASSWORD).await;
    common::jellyfin::serve_four_libraries(&jellyfin).await;
    let qbittorrent = Qbittorrent::shared();
    let app = TestApp::start_with(
        &qbittorrent.url,
        qbittorrent,
        &format!(
            "[jellyfin]\nurl = \"{}\"\napi_key = \"key\"\ntimeout = \"2s\"\n",
            common::jellyfin::url(&jellyfin.uri())
        ),
    )
    .await;
    let expiring = sign(&json!({
        "sub": "short-lived", "roles": ["admin"], "exp": chrono::Utc::now().timestamp() + 15,
    }));
    let seen = scenario(
        &app,
        "signin",
        json!({
            "userToken": token_with_roles(&["user"]),
            "password": PASSWORD,
            "expiringToken": expiring,
        }),
    )
    .await;
    assert_eq!(seen["afterToken"], "tester", "{seen}");
    assert_eq!(seen["tokenInStorage"], true);
    assert_eq!(seen["afterReload"], "tester", "the tab keeps its session");
    assert_eq!(
        seen["tokenAfterSignOut"],
        Value::Null,
        "signing out forgets the token"
    );
    assert_eq!(seen["afterLogin"], "admin", "{seen}");
    for refusal in ["userTokenRefusal", "nonAdminRefusal"] {
        let message = seen[refusal].as_str().expect("a refusal");
        assert!(
            message.contains("not") && message.contains("administrator"),
            "{refusal}: {message}"
        );
    }
    assert!(
        seen["expiredMessage"]
            .as_str()
            .is_some_and(|message| message.contains("expired")),
        "{seen}"
    );
    let urls = seen["urls"].as_array().expect("urls");
    assert!(
        urls.iter()
            .all(|url| !url.as_str().unwrap_or_default().contains("eyJ")),
        "a token in a URL: {urls:?}"
    );
}

#[tokio::test]
async fn a_magnet_goes_into_a_library_and_a_torrent_file_with_one_file_left_out() {
    let qbittorrent = Qbittorrent::shared();
    let (app, movies) = app_with_libraries(qbittorrent, "").await;
    let name = format!("UI Magnet {}", &random_hash().to_string()[..8]);
    let (magnet_hash, magnet) = random_magnet(&name.replace(' ', "%20"));
    let made_in = tempfile::tempdir().expect("a folder");
    let made = make_torrent(
        made_in.path(),
        "Two Files",
        &[("wanted.mkv", 40_000), ("unwanted.nfo", 20_000)],
    );
    let torrent_path = made_in.path().join("two-files.torrent");
    std::fs::write(&torrent_path, &made.bytes).expect("write the .torrent");

    let seen = scenario(
        &app,
        "add",
        json!({
            "magnet": magnet, "magnetName": name, "library": "Movies",
            "torrentPath": torrent_path, "skip": "unwanted.nfo",
        }),
    )
    .await;
    assert!(
        seen["magnetAdded"]
            .as_str()
            .is_some_and(|text| text.contains(&name)),
        "{seen}"
    );
    assert!(
        seen["duplicate"]
            .as_str()
            .is_some_and(|text| text.contains("already")),
        "{seen}"
    );

    assert_saved_in(qbittorrent, magnet_hash, &movies).await;
    let client = qbittorrent.client();
    // 4.5 checks a new torrent's (missing) data first, then shows it stopped.
    common::eventually("the .torrent added stopped", WAIT, || async {
        let file = client.torrent(made.hash).await.ok()??;
        file.state().is_paused().then_some(())
    })
    .await;
    let priorities: Vec<(String, i64)> = client
        .files(made.hash)
        .await
        .expect("files")
        .into_iter()
        .map(|file| {
            (
                file.name.rsplit('/').next().unwrap_or_default().to_owned(),
                file.priority,
            )
        })
        .collect();
    assert!(
        priorities.contains(&("unwanted.nfo".to_owned(), 0)),
        "{priorities:?}"
    );
    assert!(
        priorities.contains(&("wanted.mkv".to_owned(), 1)),
        "{priorities:?}"
    );
}

#[tokio::test]
async fn a_download_shows_its_bar_rising_to_complete_without_a_reload() {
    let (seeder, leecher) = common::swarm::seeder_and_leecher().await;
    let made = common::swarm::seed(&seeder, "watched.bin", common::swarm::PAYLOAD_BYTES).await;
    let app = TestApp::start(&leecher).await;
    let answer = app
        .graphql(
            "mutation($m: String!) { addTorrent(input: { magnet: $m }) { hash } }",
            json!({ "m": format!("magnet:?xt=urn:btih:{}&dn=watched.bin", made.hash) }),
        )
        .await;
    assert_eq!(data(&answer)["addTorrent"]["hash"], made.hash.to_string());
    let seen = scenario(
        &app,
        "progress",
        json!({
            "name": "watched.bin", "hash": made.hash.to_string(),
            "peer": common::swarm::seeder_address(&seeder).to_string(),
        }),
    )
    .await;
    let values: Vec<f64> = seen["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert_eq!(values.last(), Some(&100.0), "{seen}");
    assert!(
        values.iter().any(|value| *value > 0.0 && *value < 100.0),
        "no value between 0 and 100: {values:?}"
    );
    assert!(
        values.windows(2).all(|pair| pair[0] <= pair[1]),
        "{values:?}"
    );
    assert_eq!(seen["navigations"], 0, "the page was not reloaded");
}

/// Fake indexers on 127.0.0.1, and their `[search]` config: apibay with
/// its answer for "ubuntu", and a Jackett Torznab feed of scene-named
/// episodes (whose release facts the results show). The servers must be
/// kept while the app runs.
async fn fake_indexers() -> (Vec<MockServer>, String) {
    let apibay = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/q.php"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            common::fixture("apibay-search-ubuntu.json"),
            "application/json",
        ))
        .mount(&apibay)
        .await;
    let jackett = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/tpb/api"))
        .and(wiremock::matchers::query_param("t", "search"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            common::fixture("torznab-jackett-tpb.xml"),
            "application/rss+xml; charset=utf-8",
        ))
        .mount(&jackett)
        .await;
    let toml = format!(
        "[search.apibay]\nurl = \"{}\"\ntimeout = \"2s\"\n\
         [[search.torznab]]\nname = \"jackett\"\nurl = \"{}/tpb/api\"\napi_key = \"key\"\ntimeout = \"2s\"\n",
        apibay.uri(),
        jackett.uri()
    );
    (vec![apibay, jackett], toml)
}

#[tokio::test]
async fn a_search_result_goes_to_movies_in_one_click() {
    let (_indexers, indexers) = fake_indexers().await;
    let broken = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&broken)
        .await;
    let qbittorrent = Qbittorrent::shared();
    let search = format!(
        "{indexers}[[search.torznab]]\nname = \"broken\"\nurl = \"{}/api\"\napi_key = \"key\"\ntimeout = \"2s\"\n",
        broken.uri()
    );
    let (app, movies) = app_with_libraries(qbittorrent, &search).await;
    let seen = scenario(
        &app,
        "search",
        json!({ "query": "ubuntu", "library": "Movies" }),
    )
    .await;
    let results = seen["results"].as_array().expect("results");
    let episode = results
        .iter()
        .find(|result| result["name"] == "Series Title S05E02 HDTV x264-Xclusive [eztv]")
        .unwrap_or_else(|| panic!("the Torznab episode: {seen}"));
    for fact in ["S05E02", "HDTV", "H264", "Xclusive"] {
        assert!(
            episode["facts"]
                .as_array()
                .is_some_and(|facts| facts.contains(&json!(fact))),
            "{fact} not shown: {episode}"
        );
    }
    assert!(
        seen["failures"].as_array().is_some_and(|failures| failures
            .iter()
            .any(|failure| failure.as_str().unwrap_or_default().contains("broken"))),
        "the failing indexer is shown: {seen}"
    );
    let hash: InfoHash = seen["hash"]
        .as_str()
        .expect("a hash")
        .parse()
        .expect("an info hash");
    assert_saved_in(qbittorrent, hash, &movies).await;
}

#[tokio::test]
async fn a_thousand_torrents_sorted_and_filtered_and_a_hundred_stopped_at_once() {
    let qbittorrent = Qbittorrent::start(Options::default()).await;
    let client = qbittorrent.client();
    let magnet = |name: String| Magnet::from_info_hash(random_hash(), Some(&name), &[]);
    let quiet: Vec<Magnet> = (0..900)
        .map(|index| magnet(format!("Quiet {index:03} {}", random_hash())))
        .collect();
    client
        .add(&paused_magnets(quiet))
        .await
        .expect("900 paused magnets");
    let running: Vec<Magnet> = (0..100)
        .map(|index| magnet(format!("Running {index:03} batch")))
        .collect();
    client
        .add(&AddTorrent {
            paused: false,
            ..paused_magnets(running)
        })
        .await
        .expect("100 running magnets");
    common::eventually("qBittorrent to list 1,000", WAIT, || async {
        let listed = client.torrents(TorrentFilter::All, None, None).await.ok()?;
        (listed.len() == 1000).then_some(())
    })
    .await;
    let app = TestApp::start(&qbittorrent).await;
    let first_names = |direction: &'static str| {
        let app = &app;
        async move {
            let answer = app
                .graphql(
                    "query($d: OrderDirection!) { torrents(orderBy: { field: NAME, direction: $d }, first: 5) { nodes { name } } }",
                    json!({ "d": direction }),
                )
                .await;
            data(&answer)["torrents"]["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|node| node["name"].clone())
                .collect::<Vec<_>>()
        }
    };
    let seen = scenario(
        &app,
        "bulk",
        json!({ "total": 1000, "word": "batch", "matching": 100 }),
    )
    .await;
    let shown = |key: &str| seen[key].as_array().expect(key)[..5].to_vec();
    assert_eq!(shown("ascending"), first_names("ASC").await, "{seen}");
    assert_eq!(shown("descending"), first_names("DESC").await, "{seen}");
    assert!(
        seen["drawnRows"].as_u64().is_some_and(|rows| rows < 60),
        "1,000 rows drawn at once: {seen}"
    );
    assert!(
        seen["filtered"]
            .as_array()
            .expect("filtered")
            .iter()
            .all(|name| name.as_str().unwrap_or_default().contains("batch"))
    );
    assert!(
        seen["outcome"]
            .as_str()
            .is_some_and(|text| text.contains("Stopped: 100 torrents")),
        "{seen}"
    );
    assert_eq!(seen["stoppedStates"], json!(["Stopped"]), "{seen}");
    let stopped = client
        .torrents(TorrentFilter::Paused, None, None)
        .await
        .expect("the list");
    assert_eq!(stopped.len(), 1000, "qBittorrent shows all stopped");
}

#[tokio::test]
async fn a_name_that_is_html_shows_as_text_under_a_strict_policy() {
    let qbittorrent = Qbittorrent::shared();
    let app = TestApp::start(qbittorrent).await;
    let hostile = "<img src=x onerror=alert(1)>";
    let hash = random_hash();
    qbittorrent
        .client()
        .add(&paused_magnets(vec![Magnet::from_info_hash(
            hash,
            Some(hostile),
            &[],
        )]))
        .await
        .expect("the hostile magnet");
    let seen = scenario(&app, "hostile", json!({})).await;
    assert_eq!(seen["listed"], hostile, "{seen}");
    assert_eq!(seen["title"], hostile, "{seen}");
    assert_eq!(seen["imagesInList"], 0);
    assert_eq!(seen["imagesOnPage"], 0);
    assert_eq!(
        seen["handlers"], 0,
        "no inline handler or script in the page"
    );
    let csp = seen["headers"]["csp"].as_str().expect("a CSP");
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("default-src 'none'")
            && !csp.contains("unsafe"),
        "{csp}"
    );
    assert!(
        seen["headers"]["type"]
            .as_str()
            .is_some_and(|kind| kind.starts_with("text/html"))
    );
}

/// Takes the screenshots of the main screens (list, torrent, add, search)
/// at desktop and phone width: into `target/ui-screenshots`, or into the
/// folder `TORRENTQL_UI_SCREENSHOTS` names (`scripts/ui-screenshots.sh`
/// sets `ui/screenshots`).
#[tokio::test]
async fn the_main_screens_render_at_desktop_and_phone_width() {
    let qbittorrent = Qbittorrent::start(Options::default()).await;
    let (_indexers, search) = fake_indexers().await;
    let (app, _) = app_with_libraries(&qbittorrent, &search).await;
    let made_in = tempfile::tempdir().expect("a folder");
    let made = make_torrent(
        made_in.path(),
        "Big Buck Bunny (2008) [1080p]",
        &[
            ("Big Buck Bunny.mkv", 300_000),
            ("Extras/Making of.mkv", 90_000),
            ("Big Buck Bunny.nfo", 2_000),
        ],
    );
    let names = [
        "Sintel.2010.2160p.UHD.BluRay.x265-DEMO",
        "Tears.of.Steel.2012.1080p.WEB-DL.DDP5.1.H.264-DEMO",
        "Elephants.Dream.2006.720p.HDTV.x264-DEMO",
        "Cosmos.Laundromat.S01E01.1080p.WEB.h264-DEMO",
        "Spring.2019.1080p.BluRay.x264-DEMO",
    ];
    let hashes: Vec<_> = names.iter().map(|_| random_hash()).collect();
    let magnets: Vec<Magnet> = names
        .iter()
        .zip(&hashes)
        .map(|(name, hash)| Magnet::from_info_hash(*hash, Some(name), &[]))
        .collect();
    let client = qbittorrent.client();
    client.add(&paused_magnets(magnets)).await.expect("magnets");
    // A category and a tag, as a real list has them.
    client
        .create_category("films", None)
        .await
        .expect("a category");
    client
        .act(
            &hashes[..3],
            &TorrentAction::SetCategory("films".to_owned()),
        )
        .await
        .expect("categorised");
    client
        .act(&hashes[..1], &TorrentAction::AddTags(vec!["4k".to_owned()]))
        .await
        .expect("tagged");
    client
        .add(&AddTorrent {
            source: AddSource::File(
                torrentql::torrent::TorrentFile::parse(
                    made.bytes.clone(),
                    torrentql::torrent::TorrentLimits::default(),
                )
                .expect("parses"),
            ),
            ..paused_magnets(Vec::new())
        })
        .await
        .expect("the .torrent");
    let directory = std::env::var_os("TORRENTQL_UI_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ui-screenshots"));
    std::fs::create_dir_all(&directory).expect("the screenshot folder");
    let (_, magnet) = random_magnet("Big%20Buck%20Bunny");
    let seen = scenario(
        &app,
        "screenshots",
        json!({ "directory": directory, "hash": made.hash.to_string(), "magnet": magnet, "query": "ubuntu" }),
    )
    .await;
    let shots = seen["shots"].as_array().expect("shots");
    assert_eq!(shots.len(), 8, "{seen}");
    for shot in shots {
        let size = std::fs::metadata(shot.as_str().expect("a path"))
            .expect("the screenshot")
            .len();
        assert!(size > 10_000, "{shot} is {size} bytes");
    }
}

#[tokio::test]
async fn the_ui_files_are_served_with_their_types_and_policy_and_revalidated() {
    let app = TestApp::start(Qbittorrent::shared()).await;
    let get = |path: &'static str, etag: Option<String>| {
        let app = &app;
        async move {
            let mut request = app.http.get(app.url(path));
            if let Some(etag) = etag {
                request = request.header("if-none-match", etag);
            }
            request.send().await.expect("torrentql answers")
        }
    };
    let page = get("/", None).await;
    assert_eq!(page.status(), 200);
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert!(header(&page, "content-security-policy").contains("script-src 'self'"));
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    let body = page.text().await.expect("the page");
    assert!(
        body.contains("/ui/main.js") && !body.contains("<script>"),
        "no inline script: {body}"
    );

    for (path, kind) in [
        ("/ui/main.js", "javascript"),
        ("/ui/vendor/preact.mjs", "javascript"),
        ("/ui/vendor/graphql-ws/client.js", "javascript"),
        ("/ui/style.css", "text/css"),
        ("/ui/icon.svg", "image/svg+xml"),
    ] {
        let file = get(path, None).await;
        assert_eq!(file.status(), 200, "{path}");
        assert!(
            header(&file, "content-type").contains(kind),
            "{path}: {:?}",
            file.headers()
        );
        let etag = header(&file, "etag");
        assert!(etag.starts_with('"'), "{path}: {etag}");
        let again = get(path, Some(etag)).await;
        assert_eq!(again.status(), 304, "{path} unchanged");
    }
    assert_eq!(get("/ui/nothing.js", None).await.status(), 404);
    assert_eq!(get("/ui/../Cargo.toml", None).await.status(), 404);
}
