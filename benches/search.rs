//! The search benchmark of BENCHMARKS.md: what reading release names costs
//! (per 100 results, the names of `tests/fixtures/release-names.toml`),
//! and a search's latency at the service, against a fake apibay answering
//! 100 rows, without and with the "already in the library" check against a
//! fake Jellyfin serving its 10.11 `/Items` payload (asked every search,
//! and from the brief cache), and against one of 20,010 items. Everything
//! on 127.0.0.1.
//!
//!   cargo bench --bench search

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::{Value, json};
use torrentql::clients::jellyfin::{ClientIdentity, JellyfinClient};
use torrentql::config::Config;
use torrentql::release::ReleaseFacts;
use torrentql::services::libraries::{LibraryService, PathMappings};
use torrentql::services::search::library_check::LibraryCheck;
use torrentql::services::search::{SearchRequest, SearchService};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Rounds of each measure; the median is reported.
const ROUNDS: usize = 200;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/upstream/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("a fixture")
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}

async fn run() {
    let table: toml::Table =
        toml::from_str(include_str!("../tests/fixtures/release-names.toml")).expect("the table");
    let names: Vec<String> = table["release"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|row| Some(row.get("name")?.as_str()?.to_owned()))
        .collect();
    let hundred: Vec<&String> = names.iter().cycle().take(100).collect();
    // The first call builds hunch's rules; it is reported apart.
    let started = Instant::now();
    let _ = ReleaseFacts::parse(&names[0]);
    let first = started.elapsed();
    let parse = median(
        (0..ROUNDS)
            .map(|_| {
                let started = Instant::now();
                for name in &hundred {
                    std::hint::black_box(ReleaseFacts::parse(name));
                }
                started.elapsed()
            })
            .collect(),
    );

    let apibay = MockServer::start().await;
    let rows: Vec<Value> =
        serde_json::from_slice(&fixture("apibay-search-ubuntu.json")).expect("apibay rows");
    let hundred_rows: Vec<Value> = (0..100)
        .map(|index| {
            let mut row = rows[index % rows.len()].clone();
            row["name"] = json!(&names[index % names.len()]);
            row["info_hash"] = json!(format!("{:040x}", index + 1));
            row
        })
        .collect();
    Mock::given(method("GET"))
        .and(path("/q.php"))
        .respond_with(ResponseTemplate::new(200).set_body_json(hundred_rows))
        .mount(&apibay)
        .await;
    let jellyfin = MockServer::start().await;
    let admin: Value = serde_json::from_slice(&fixture(
        "jellyfin-authenticatebyname-admin-10.11-constructed.json",
    ))
    .expect("the admin");
    serve_jellyfin_users(&jellyfin, &admin["User"]).await;
    Mock::given(method("GET"))
        .and(path("/Items"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(fixture("jellyfin-items-10.11.json"), "application/json"),
        )
        .mount(&jellyfin)
        .await;
    Mock::given(method("GET"))
        .and(path("/Library/VirtualFolders"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            fixture("jellyfin-virtualfolders-10.8-four-libraries.json"),
            "application/json",
        ))
        .mount(&jellyfin)
        .await;

    // A larger library: the fixture's items and 20,000 episodes shaped
    // like its first one, over 200 series.
    let mut large: Value =
        serde_json::from_slice(&fixture("jellyfin-items-10.11.json")).expect("the items");
    let items = large["Items"].as_array_mut().expect("items");
    let episode = items
        .iter()
        .find(|item| item["Type"] == "Episode")
        .expect("an episode")
        .clone();
    for index in 0..20_000u32 {
        let mut copy = episode.clone();
        copy["Id"] = json!(format!("{index:032x}"));
        copy["SeriesId"] = json!(format!("{:032x}", 1_000_000 + index / 100));
        copy["SeriesName"] = json!(format!("Series {}", index / 100));
        copy["ParentIndexNumber"] = json!(index % 100 / 20 + 1);
        copy["IndexNumber"] = json!(index % 20 + 1);
        items.push(copy);
    }
    let large_jellyfin = MockServer::start().await;
    serve_jellyfin_users(&large_jellyfin, &admin["User"]).await;
    Mock::given(method("GET"))
        .and(path("/Items"))
        .respond_with(ResponseTemplate::new(200).set_body_json(large))
        .mount(&large_jellyfin)
        .await;

    let config = Config::from_toml(&format!(
        "[search]\ncache_ttl = \"1ms\"\n[search.apibay]\nurl = \"{}\"\n",
        apibay.uri()
    ))
    .expect("the config");
    let jellyfin_client = |server: &MockServer| {
        Arc::new(
            JellyfinClient::new(
                &server.uri().parse().expect("a URL"),
                SecretString::from("key"),
                Duration::from_secs(5),
                ClientIdentity {
                    device_id: "bench".to_owned(),
                    version: "bench".to_owned(),
                },
            )
            .expect("a Jellyfin client"),
        )
    };
    let client = jellyfin_client(&jellyfin);
    let large_client = jellyfin_client(&large_jellyfin);
    let libraries = Arc::new(LibraryService::new(
        Some(Arc::clone(&client)),
        Duration::from_secs(60),
        Vec::new(),
        PathMappings::new(Vec::new()),
    ));
    let service = |client: &Arc<JellyfinClient>, library_ttl: Duration| {
        SearchService::new(&config.search, Vec::new())
            .expect("a search service")
            .with_libraries(
                Arc::clone(&libraries),
                Some(LibraryCheck::new(Arc::clone(client), library_ttl)),
            )
    };
    let every_time = service(&client, Duration::from_nanos(1));
    let cached = service(&client, Duration::from_secs(3600));
    let large_every_time = service(&large_client, Duration::from_nanos(1));
    let variants = [
        ("no library check", &every_time, false),
        ("library check, /Items every search", &every_time, true),
        ("library check, /Items from the cache", &cached, true),
        (
            "library check, /Items of 20,010 items every search",
            &large_every_time,
            true,
        ),
    ];
    // Round robin, so that the machine's noise falls on every variant alike.
    let mut samples = vec![Vec::new(); variants.len()];
    for round in 0..ROUNDS + 5 {
        for (variant, (_, service, check_library)) in variants.iter().enumerate() {
            let request = SearchRequest {
                // A new query each time: the search cache never answers.
                query: format!("bench {round} {variant}"),
                limit: 100,
                check_library: *check_library,
                suggest_library: true,
                ..SearchRequest::default()
            };
            tokio::time::sleep(Duration::from_millis(2)).await;
            let started = Instant::now();
            let found = service.search(request).await.expect("a search");
            let took = started.elapsed();
            assert_eq!(found.hits.len(), 100);
            assert_eq!(found.library_checked, *check_library);
            if round >= 5 {
                samples[variant].push(took);
            }
        }
    }
    let lookups = jellyfin
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|request| request.url.path() == "/Items")
        .count();

    println!("## Search (one run, {ROUNDS} rounds, medians)\n");
    println!("| measure | median |");
    println!("|---|---|");
    println!("| reading 100 release names | {} |", ms(parse));
    println!(
        "| the first name read (builds hunch's rules) | {} |",
        ms(first)
    );
    for ((label, _, _), samples) in variants.iter().zip(samples) {
        println!(
            "| search of 100 results, {label} | {} |",
            ms(median(samples))
        );
    }
    println!(
        "\n`/Items` of the small library asked {lookups} times in {} searches with the check.",
        2 * (ROUNDS + 5)
    );
}

/// `GET /Users` listing `admin` alone.
async fn serve_jellyfin_users(server: &MockServer, admin: &Value) {
    Mock::given(method("GET"))
        .and(path("/Users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([admin])))
        .mount(server)
        .await;
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}
