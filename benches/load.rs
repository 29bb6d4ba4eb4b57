//! torrentql against qBittorrent itself, side by side in one run.
//!
//! For each qBittorrent version (4.5.2 on the host, 5.1 in the trixie
//! chroot) and each size (1,000 then 10,000 paused magnets), this starts
//! torrentql's release binary against a real qbittorrent-nox (through a
//! recording proxy, to count qBittorrent's requests and the time it spends
//! answering them) and measures, in the same run:
//!
//! 1. the full `torrents` list through torrentql vs `torrents/info` direct,
//! 2. one torrent by hash at concurrency 64 for 10 s,
//! 3. websocket fan-out to 1, 100 and 1,000 `torrentProgress` subscribers:
//!    qBittorrent requests per minute, its busy share, change-to-subscriber
//!    delay, and torrentql's peak RSS,
//! 4. `addTorrent` until returned vs a direct add then polling until listed,
//! 5. start-up to ready and to the first full mirror, and idle RSS,
//! 6. bytes on the wire for the list, compressed and not,
//! 9. the web UI in headless Chromium (`tests/clients/ui.mjs`): opening the
//!    page to its first drawn row, and its frames while changes stream in.
//!
//! Traffic goes to 127.0.0.1 only, and every loop is bounded.
//!
//! Run with `./scripts/bench.sh` (or `cargo bench --bench load`);
//! `TORRENTQL_BENCH_VERSIONS=4.5,5.1` and `TORRENTQL_BENCH_SIZES=1000,10000`
//! choose what runs, `TORRENTQL_BENCH_ONLY=ui` only the web UI's step. The
//! report goes to stdout and `target/bench-report.md`.

#[path = "../tests/common/proxy.rs"]
#[allow(dead_code)]
mod proxy;
#[path = "../tests/common/qbittorrent.rs"]
#[allow(dead_code)]
mod qbittorrent;
#[path = "../tests/common/torrents.rs"]
#[allow(dead_code)]
mod torrents;

use std::fmt::Write as _;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use proxy::{Recorded, RecordingProxy};
use qbittorrent::{Options, PASSWORD, Qbittorrent, USERNAME, Version};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use torrentql::clients::qbittorrent::{QbittorrentClient, Torrent, TorrentAction, TorrentFilter};
use torrentql::torrent::{InfoHash, Magnet};

const JWT_SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";
const LIST_QUERY: &str = "{ torrents(first: 10000) { nodes { hash name size progress state downloadSpeed uploadSpeed eta category savePath } } }";
/// A page a UI asks for: 50 paused torrents with an `a` in their name,
/// sorted by name, last first.
const PAGE_QUERY: &str = "{ torrents(where: { state: PAUSED, search: \"a\" }, orderBy: { field: NAME, direction: DESC }, first: 50) { totalCount pageInfo { endCursor } nodes { hash name size progress state downloadSpeed uploadSpeed eta category savePath } } }";
/// The nearest qBittorrent has: sorted and cut, but no name search.
const PAGE_DIRECT: &str = "torrents/info?filter=paused&sort=name&reverse=true&limit=50";
const FAN_OUT: [usize; 3] = [1, 100, 1000];
const FAN_OUT_WINDOW: Duration = Duration::from_secs(20);
/// A fan-out window grows past `FAN_OUT_WINDOW` until it holds a whole
/// full-sync period (stretched to ~40 s on 4.5.2 at 10,000), up to this.
const MAX_FAN_OUT_WINDOW: Duration = Duration::from_secs(150);
const FULL_SYNC_PATH: &str = "/api/v2/sync/maindata";
const CHANGE_EVERY: Duration = Duration::from_secs(2);
const BY_HASH_WINDOW: Duration = Duration::from_secs(10);
const BY_HASH_CONCURRENCY: usize = 64;
const SETTLE_AFTER_FILL: Duration = Duration::from_secs(10);
/// Start-ups measured per size (the median is reported).
const STARTS: usize = 5;
/// A pause before each timed call of the start-up and list measures, so
/// that qBittorrent's work after one heavy answer is not billed to the next.
const SETTLE: Duration = Duration::from_millis(500);
/// Pauses timed each way.
const PAUSES: usize = 7;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let versions = env_list("TORRENTQL_BENCH_VERSIONS", "4.5,5.1");
    let sizes: Vec<usize> = env_list("TORRENTQL_BENCH_SIZES", "1000,10000")
        .iter()
        .map(|size| size.parse().expect("sizes are numbers"))
        .collect();
    let ui_only = std::env::var("TORRENTQL_BENCH_ONLY").is_ok_and(|only| only == "ui");
    let mut report = String::from("# torrentql benchmark report\n\n");
    writeln!(report, "machine: {} cores, {}", num_cpus(), uname()).ok();
    for version in versions {
        let version = match version.as_str() {
            "4.5" => Version::V4_5,
            "5.1" => Version::V5_1,
            other => panic!("unknown version {other}"),
        };
        let qbittorrent = Qbittorrent::start_version(version, Options::default()).await;
        let client = qbittorrent.client();
        let app_version = client.app_version().await.expect("version");
        let mut hashes = Vec::new();
        for &size in &sizes {
            fill(&client, &mut hashes, size).await;
            // qBittorrent is still writing resume data for what was just
            // added; let it settle so it is not measured doing that.
            tokio::time::sleep(SETTLE_AFTER_FILL).await;
            eprintln!("== qBittorrent {app_version}, {size} torrents");
            let mut section = if ui_only {
                String::new()
            } else {
                measure(&qbittorrent, &hashes).await
            };
            section.push_str(&measure_ui(&qbittorrent, &hashes).await);
            writeln!(
                report,
                "\n## qBittorrent {app_version}, {size} torrents\n\n{section}"
            )
            .ok();
            println!("\n## qBittorrent {app_version}, {size} torrents\n\n{section}");
        }
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench-report.md");
    // `target` may not exist when CARGO_TARGET_DIR points elsewhere.
    std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/target")).expect("make target/");
    std::fs::write(path, &report).expect("write the report");
    eprintln!("report written to {path}");
}

/// Adds paused magnets of random hashes in batches of 1,000 until
/// qBittorrent lists `size`.
async fn fill(client: &QbittorrentClient, hashes: &mut Vec<InfoHash>, size: usize) {
    while hashes.len() < size {
        let batch: Vec<InfoHash> = (0..(size - hashes.len()).min(1000))
            .map(|_| torrents::random_hash())
            .collect();
        let magnets = batch
            .iter()
            .map(|hash| Magnet::from_info_hash(*hash, Some("bench"), &[]))
            .collect();
        client
            .add(&torrents::paused_magnets(magnets))
            .await
            .expect("add a batch");
        hashes.extend(batch);
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let listed = client
            .sync_maindata(0)
            .await
            .expect("maindata")
            .torrents
            .len();
        if listed >= size {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "qBittorrent lists {listed} of {size}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Everything measured against one qBittorrent holding `hashes`.
async fn measure(qbittorrent: &Qbittorrent, hashes: &[InfoHash]) -> String {
    let mut out = String::new();
    let direct = Direct::login(qbittorrent).await;

    // 5. Start-up: to ready, and to the first full mirror (a subscriber
    // connecting at once waits for that one sync). Measured straight
    // against qBittorrent (the proxy would add its own copy of the answer),
    // `STARTS` times, each after one direct full list in a fresh session
    // (torrentql starts with a fresh session too).
    let mut direct_fulls = Vec::new();
    let mut readies = Vec::new();
    let mut mirror_fills = Vec::new();
    let mut floors = Vec::new();
    for _ in 0..STARTS {
        tokio::time::sleep(SETTLE).await;
        let fresh = Direct::login(qbittorrent).await;
        direct_fulls.push(fresh.list().await.0);
        fresh.log_out().await;
        tokio::time::sleep(SETTLE).await;
        floors.push(Direct::first_sync(qbittorrent).await);
        tokio::time::sleep(SETTLE).await;
        let server = Server::start(&qbittorrent.url).await;
        readies.push(server.ready_after().await);
        let subscribers = Subscribers::connect(server.port, 1, hashes[0]).await;
        mirror_fills.push(
            subscribers
                .first_event_at
                .iter()
                .map(|at| *at - server.started)
                .max()
                .unwrap_or_default(),
        );
        subscribers.close().await;
        server.stop().await;
    }
    let (direct_full, floor, ready, mirror_filled) = (
        median(&direct_fulls),
        median(&floors),
        median(&readies),
        median(&mirror_fills),
    );

    // The rest runs through the recording proxy.
    let proxy = RecordingProxy::start(&qbittorrent.url).await;
    let server = Server::start(&proxy.url).await;
    let graphql = Graphql::new(server.port);
    server.ready_after().await;
    // Idle: once the start-up's garbage has been handed back.
    tokio::time::sleep(torrentql::memory::RELEASE_INTERVAL + Duration::from_secs(1)).await;
    let idle_rss = server.rss_kib();

    // 1. The full list, and 6. its bytes.
    let iterations = if hashes.len() > 5000 { 7 } else { 15 };
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut our_bytes = 0;
    let mut their_bytes = 0;
    for _ in 0..iterations {
        tokio::time::sleep(SETTLE).await;
        let (took, bytes) = graphql.list(None).await;
        ours.push(took);
        our_bytes = bytes;
        tokio::time::sleep(SETTLE).await;
        let (took, bytes) = direct.list().await;
        theirs.push(took);
        their_bytes = bytes;
    }
    let mut compressed = Vec::new();
    for encoding in ["gzip", "br", "zstd"] {
        compressed.push((encoding, graphql.list(Some(encoding)).await.1));
    }

    // 2. One torrent by hash under concurrency 64.
    let (our_rps, our_p99) = by_hash(hashes, |hash| graphql.one(hash)).await;
    let (their_rps, their_p99) = by_hash(hashes, |hash| direct.one(hash)).await;

    // 8. A page of 50, filtered and sorted.
    let mut our_pages = Vec::new();
    let mut their_pages = Vec::new();
    for _ in 0..iterations {
        tokio::time::sleep(SETTLE).await;
        our_pages.push(graphql.page().await);
        tokio::time::sleep(SETTLE).await;
        their_pages.push(direct.page().await);
    }

    // 4. Adding a torrent.
    let mut our_adds = Vec::new();
    let mut their_adds = Vec::new();
    for _ in 0..10 {
        our_adds.push(graphql.add(torrents::random_hash()).await);
        their_adds.push(direct.add_and_wait(torrents::random_hash()).await);
    }

    // 7. Pausing a running torrent until qBittorrent shows it paused.
    let running = torrents::random_hash();
    direct.add_running(running).await;
    let mut our_pauses = Vec::new();
    let mut their_pauses = Vec::new();
    for _ in 0..PAUSES {
        direct.resume_and_wait(running).await;
        tokio::time::sleep(SETTLE).await;
        our_pauses.push(graphql.pause(running).await);
        direct.resume_and_wait(running).await;
        tokio::time::sleep(SETTLE).await;
        their_pauses.push(direct.pause_and_wait(running).await);
    }
    direct
        .client
        .act(&[running], &TorrentAction::Delete { delete_files: true })
        .await
        .expect("delete");

    writeln!(out, "| measure | torrentql | qBittorrent direct | ratio |").ok();
    writeln!(out, "|---|---|---|---|").ok();
    let row = |out: &mut String, name: &str, ours: String, theirs: String, ratio: String| {
        writeln!(out, "| {name} | {ours} | {theirs} | {ratio} |").ok();
    };
    row(
        &mut out,
        "list: median",
        ms(median(&ours)),
        ms(median(&theirs)),
        ratio(median(&theirs), median(&ours)),
    );
    row(
        &mut out,
        "list: p99 (max of the runs)",
        ms(p99(&ours)),
        ms(p99(&theirs)),
        String::new(),
    );
    row(
        &mut out,
        "list: bytes, identity",
        bytes(our_bytes),
        bytes(their_bytes),
        String::new(),
    );
    for (encoding, size) in &compressed {
        row(
            &mut out,
            &format!("list: bytes, {encoding}"),
            bytes(*size),
            "-".into(),
            String::new(),
        );
    }
    row(
        &mut out,
        "page of 50, filtered and sorted: median",
        ms(median(&our_pages)),
        format!("{} (sorted and cut, no search)", ms(median(&their_pages))),
        ratio(median(&their_pages), median(&our_pages)),
    );
    row(
        &mut out,
        "by hash, c=64: requests/s",
        format!("{our_rps:.0}"),
        format!("{their_rps:.0}"),
        format!("{:.1}x", our_rps / their_rps),
    );
    row(
        &mut out,
        "by hash, c=64: p99",
        ms(our_p99),
        ms(their_p99),
        String::new(),
    );
    row(
        &mut out,
        "add by magnet until listed: median",
        ms(median(&our_adds)),
        ms(median(&their_adds)),
        String::new(),
    );
    row(
        &mut out,
        &format!("pause until shown paused: median of {PAUSES}"),
        ms(median(&our_pauses)),
        ms(median(&their_pauses)),
        format!(
            "+{}",
            ms(median(&our_pauses).saturating_sub(median(&their_pauses)))
        ),
    );
    row(
        &mut out,
        &format!("start-up to ready: median of {STARTS}"),
        ms(ready),
        "-".into(),
        String::new(),
    );
    row(
        &mut out,
        &format!("start-up to first full mirror: median of {STARTS}"),
        ms(mirror_filled),
        format!("{} (one full list, fresh session)", ms(direct_full)),
        format!(
            "{:.2}x",
            mirror_filled.as_secs_f64() / direct_full.as_secs_f64()
        ),
    );
    row(
        &mut out,
        &format!("start-up floor: login + first sync/maindata, direct: median of {STARTS}"),
        "-".into(),
        ms(floor),
        format!(
            "torrentql's own share: {}",
            ms(mirror_filled.saturating_sub(floor))
        ),
    );
    row(
        &mut out,
        "idle RSS",
        format!("{:.1} MB", idle_rss as f64 / 1024.0),
        "-".into(),
        String::new(),
    );

    // 3. Fan-out.
    writeln!(out, "\n| subscribers | qBittorrent requests/min | qBittorrent busy | full syncs (period) | delay p50 | delay p99 | torrentql peak RSS |").ok();
    writeln!(out, "|---|---|---|---|---|---|---|").ok();
    let watched = hashes[0];
    for count in FAN_OUT {
        server.reset_peak_rss();
        let subscribers = Subscribers::connect(server.port, count, watched).await;
        proxy.clear();
        let window_started = Instant::now();
        let mut changes = Vec::new();
        let mut round = 0;
        // At least the window, and until it holds two full-sync starts
        // (one whole sync period, however stretched) or the cap.
        while window_started.elapsed() < MAX_FAN_OUT_WINDOW
            && (window_started.elapsed() < FAN_OUT_WINDOW
                || full_sync_starts(&proxy.requests()).len() < 2)
        {
            round += 1;
            let category = format!("bench-{count}-{round}");
            changes.push((
                category.clone(),
                direct.change_category(watched, &category).await,
            ));
            tokio::time::sleep_until((window_started + CHANGE_EVERY * round).into()).await;
        }
        let window = window_started.elapsed();
        let requests = proxy.requests();
        // The last change's events arrive within a sync interval.
        tokio::time::sleep(CHANGE_EVERY).await;
        let per_minute = requests.len() as f64 * 60.0 / window.as_secs_f64();
        let (busy, periods) = busy_share(&requests, window);
        let delays = subscribers.delays(&changes);
        let peak_rss = server.peak_rss_kib();
        subscribers.close().await;
        writeln!(
            out,
            "| {count} | {per_minute:.0} | {:.1}% | {periods} | {} | {} | {:.1} MB |",
            busy * 100.0,
            ms(median(&delays)),
            ms(p99(&delays)),
            peak_rss as f64 / 1024.0
        )
        .ok();
    }
    writeln!(out, "\n(sync interval 1 s, max busy share 10%. Busy is the time qBittorrent spent answering torrentql's requests, measured at the proxy, over whole full-sync periods (from the first full-sync start in the window to the last); the proxy's own copy of each answer is inside it. Peak RSS is torrentql's high-water mark from connecting the subscribers to the end of the window.)").ok();
    server.stop().await;
    direct.log_out().await;
    out
}

/// When each full sync in `requests` started, in order.
fn full_sync_starts(requests: &[Recorded]) -> Vec<Instant> {
    let mut starts: Vec<Instant> = requests
        .iter()
        .filter(|request| request.path == FULL_SYNC_PATH)
        .map(|request| request.started)
        .collect();
    starts.sort();
    starts
}

/// qBittorrent's busy share over the whole sync periods in `requests`:
/// time answering the requests that started from the first full-sync start
/// to the last, divided by that span; and how many periods, and how long,
/// as a label. Without a whole period, over the `window`, marked so.
fn busy_share(requests: &[Recorded], window: Duration) -> (f64, String) {
    let starts = full_sync_starts(requests);
    if let [first, .., last] = starts[..] {
        let busy: Duration = requests
            .iter()
            .filter(|request| (first..last).contains(&request.started))
            .map(|request| request.took)
            .sum();
        let span = last - first;
        let periods = starts.len() - 1;
        let label = format!(
            "{periods} ({})",
            seconds(span / u32::try_from(periods).unwrap_or(1))
        );
        return (busy.as_secs_f64() / span.as_secs_f64(), label);
    }
    let busy: Duration = requests.iter().map(|request| request.took).sum();
    (
        busy.as_secs_f64() / window.as_secs_f64(),
        format!("{} (no whole period)", starts.len()),
    )
}

/// torrentql's release binary, as a process of its own.
struct Server {
    child: tokio::process::Child,
    port: u16,
    started: Instant,
    _data_dir: tempfile::TempDir,
}

impl Server {
    async fn start(qbittorrent: &url::Url) -> Self {
        let port = torrentql::managed::profile::free_port().expect("port");
        let data_dir = tempfile::tempdir().expect("data dir");
        let started = Instant::now();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_torrentql"))
            .arg("serve")
            .env_remove("TORRENTQL_CONFIG")
            .env("TORRENTQL_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("TORRENTQL_SERVER__DATA_DIR", data_dir.path())
            .env("TORRENTQL_QBITTORRENT__URL", qbittorrent.as_str())
            .env("TORRENTQL_QBITTORRENT__USERNAME", USERNAME)
            .env("TORRENTQL_QBITTORRENT__PASSWORD", PASSWORD)
            .env("TORRENTQL_QBITTORRENT__TIMEOUT", "60s")
            .env("TORRENTQL_AUTH__JWT_SECRET", JWT_SECRET)
            .env("TORRENTQL_SEARCH__APIBAY__ENABLED", "false")
            .env("TORRENTQL_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start torrentql");
        Self {
            child,
            port,
            started,
            _data_dir: data_dir,
        }
    }

    /// Polls `/readyz` until it answers 200; the time since the start.
    async fn ready_after(&self) -> Duration {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(response) = http
                .get(format!("http://127.0.0.1:{}/readyz", self.port))
                .send()
                .await
                && response.status() == 200
            {
                return self.started.elapsed();
            }
            assert!(Instant::now() < deadline, "torrentql never got ready");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn status_kib(&self, field: &str) -> u64 {
        let pid = self.child.id().expect("running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    }

    fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    /// Starts a new high-water mark at the current RSS (Linux 4.0+).
    fn reset_peak_rss(&self) {
        let pid = self.child.id().expect("running");
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset VmHWM");
    }

    /// SIGTERM, as a service manager stops it (it logs out of
    /// qBittorrent), then SIGKILL if it takes more than five seconds.
    async fn stop(mut self) {
        torrentql::managed::stop_child(&mut self.child, Duration::from_secs(5)).await;
    }
}

/// Page loads timed in the web UI step.
const UI_LOADS: usize = 5;
/// How long the UI's frames are watched while changes stream in.
const UI_FRAMES_SECONDS: u64 = 10;
/// Torrents whose category flips every [`UI_CHANGE_EVERY`] meanwhile.
const UI_CHANGED_PER_TICK: usize = 500;
const UI_CHANGE_EVERY: Duration = Duration::from_millis(500);
const UI_CATEGORIES: usize = 5;

/// Step 9, the web UI in Chromium: from opening the page (signed in) to
/// its first drawn row, `UI_LOADS` times, then the gaps between frames
/// while qBittorrent changes `UI_CHANGED_PER_TICK` torrents every
/// `UI_CHANGE_EVERY` (so each sync brings the list hundreds of changes).
async fn measure_ui(qbittorrent: &Qbittorrent, hashes: &[InfoHash]) -> String {
    let server = Server::start(&qbittorrent.url).await;
    server.ready_after().await;
    let client = qbittorrent.client();
    // Five categories in turn: a sync a second apart always finds another
    // one (with two, a flip and a flip back between syncs look like none).
    let categories: Vec<String> = (0..UI_CATEGORIES)
        .map(|index| format!("ui-{index}"))
        .collect();
    for category in &categories {
        let _ = client.create_category(category, None).await;
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let changer = tokio::spawn({
        let stop = Arc::clone(&stop);
        // The top of the list the page opens on (newest first, ties by
        // hash), as torrentql orders it: the rows in sight change.
        let batch = first_listed(server.port, UI_CHANGED_PER_TICK).await;
        async move {
            for category in categories.iter().cycle() {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                client
                    .act(&batch, &TorrentAction::SetCategory(category.clone()))
                    .await
                    .expect("qBittorrent sets the category");
                tokio::time::sleep(UI_CHANGE_EVERY).await;
            }
        }
    });
    let arguments = json!({
        "url": format!("http://127.0.0.1:{}", server.port),
        "token": admin_token(),
        "runs": UI_LOADS,
        "seconds": UI_FRAMES_SECONDS,
        "total": hashes.len(),
    });
    let output = tokio::process::Command::new("node")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/ui.mjs"))
        .args(["performance", &arguments.to_string()])
        .output()
        .await
        .expect("node runs (./scripts/setup-clients.sh installs it)");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = changer.await;
    server.stop().await;
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "ui.mjs printed no JSON ({error}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(seen["error"].is_null(), "ui.mjs failed: {seen}");
    for clean in ["notes", "consoleErrors", "pageErrors", "cspViolations"] {
        assert_eq!(
            seen[clean],
            json!([]),
            "the page showed {clean}: {}",
            seen[clean]
        );
    }
    let millis = |key: &str| -> Vec<Duration> {
        seen[key]
            .as_array()
            .expect(key)
            .iter()
            .filter_map(Value::as_f64)
            .map(|ms| Duration::from_secs_f64(ms / 1000.0))
            .collect()
    };
    let loads = millis("loads");
    let mut gaps = millis("gaps");
    gaps.sort();
    let long_tasks = millis("longTasks");
    // A frame missed: a gap past one 60 Hz frame plus jitter (vsync gaps
    // read 16.6 to 16.8 ms).
    let missed = gaps
        .iter()
        .filter(|gap| **gap > Duration::from_millis(20))
        .count();
    let percentile = |share: f64| gaps[((gaps.len() as f64 * share) as usize).min(gaps.len() - 1)];
    format!(
        "\n| web UI ({} torrents) | |\n|---|---|\n\
         | open to first drawn row, median of {UI_LOADS} | {} (slowest {}) |\n\
         | frames while {UI_CHANGED_PER_TICK} torrents change every {} ms, {UI_FRAMES_SECONDS} s | {} frames |\n\
         | frame gap median / p95 / p99 / max | {} / {} / {} / {} |\n\
         | frame gaps over 20 ms (a missed frame) | {missed} of {} |\n\
         | long tasks (> 50 ms) | {}, longest {} |\n\
         | changes to the rows in sight meanwhile (DOM mutation records) | {} |\n\
         | websocket messages to the page, its last load and the window | {} |\n",
        hashes.len(),
        ms(median(&loads)),
        ms(loads.iter().max().copied().unwrap_or_default()),
        UI_CHANGE_EVERY.as_millis(),
        gaps.len(),
        ms(median(&gaps)),
        ms(percentile(0.95)),
        ms(percentile(0.99)),
        ms(gaps.last().copied().unwrap_or_default()),
        gaps.len(),
        long_tasks.len(),
        ms(long_tasks.iter().max().copied().unwrap_or_default()),
        seen["rowChanges"],
        seen["framesReceived"],
    )
}

/// The hashes of the first `count` torrents of the UI's default order.
async fn first_listed(port: u16, count: usize) -> Vec<InfoHash> {
    let (_, body) = Graphql::new(port)
        .post(
            "query($n: Int!) { torrents(orderBy: { field: ADDED_AT, direction: DESC }, first: $n) { nodes { hash } } }",
            json!({ "n": count }),
            None,
        )
        .await;
    let answer: Value = serde_json::from_slice(&body).expect("JSON");
    answer["data"]["torrents"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| {
            node["hash"]
                .as_str()
                .expect("a hash")
                .parse()
                .expect("an info hash")
        })
        .collect()
}

fn admin_token() -> String {
    let claims = json!({ "sub": "bench", "roles": ["admin"], "exp": chrono::Utc::now().timestamp() + 24 * 3600 });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign")
}

/// GraphQL over HTTP to torrentql.
struct Graphql {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Graphql {
    fn new(port: u16) -> Self {
        Self {
            // Bodies are counted as sent: no transparent decompression.
            http: reqwest::Client::builder()
                .no_gzip()
                .pool_max_idle_per_host(128)
                .build()
                .expect("client"),
            url: format!("http://127.0.0.1:{port}/graphql"),
            token: admin_token(),
        }
    }

    async fn post(
        &self,
        query: &str,
        variables: Value,
        encoding: Option<&str>,
    ) -> (Duration, Vec<u8>) {
        let started = Instant::now();
        let mut request = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        let response = request.send().await.expect("torrentql answers");
        let body = response.bytes().await.expect("body").to_vec();
        (started.elapsed(), body)
    }

    async fn list(&self, encoding: Option<&str>) -> (Duration, usize) {
        let (took, body) = self.post(LIST_QUERY, json!({}), encoding).await;
        if encoding.is_none() {
            let answer: Value = serde_json::from_slice(&body).expect("JSON");
            assert!(
                answer["data"]["torrents"]["nodes"].is_array(),
                "{}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
        }
        (took, body.len())
    }

    async fn one(&self, hash: InfoHash) -> Duration {
        let (took, body) = self
            .post(
                "query($h: String!) { torrent(hash: $h) { hash name progress state } }",
                json!({ "h": hash.to_string() }),
                None,
            )
            .await;
        assert!(
            body.starts_with(b"{\"data\":{\"torrent\":{"),
            "{}",
            String::from_utf8_lossy(&body)
        );
        took
    }

    async fn add(&self, hash: InfoHash) -> Duration {
        let (took, body) = self
            .post(
                "mutation($m: String!) { addTorrent(input: { magnet: $m, paused: true }) { hash } }",
                json!({ "m": format!("magnet:?xt=urn:btih:{hash}") }),
                None,
            )
            .await;
        assert!(
            String::from_utf8_lossy(&body).contains(&hash.to_string()),
            "{}",
            String::from_utf8_lossy(&body)
        );
        took
    }

    /// [`PAGE_QUERY`], until it answers.
    async fn page(&self) -> Duration {
        let (took, body) = self.post(PAGE_QUERY, json!({}), None).await;
        let answer: Value = serde_json::from_slice(&body).expect("JSON");
        assert!(
            answer["data"]["torrents"]["nodes"].is_array(),
            "{}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
        took
    }

    /// `pauseTorrents` of one running torrent, until it answers.
    async fn pause(&self, hash: InfoHash) -> Duration {
        let (took, body) = self
            .post(
                "mutation($h: [String!]!) { pauseTorrents(hashes: $h) { state } }",
                json!({ "h": [hash.to_string()] }),
                None,
            )
            .await;
        assert!(
            String::from_utf8_lossy(&body).contains("\"PAUSED_"),
            "{}",
            String::from_utf8_lossy(&body)
        );
        took
    }
}

/// Logs `http` (which keeps cookies) in to the WebUI at `base`.
async fn log_in(http: &reqwest::Client, base: &str) {
    let answer = http
        .post(format!("{base}/api/v2/auth/login"))
        .form(&[("username", USERNAME), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert!(answer.status().is_success());
}

/// Ends the WebUI session of `http`.
async fn log_out(http: &reqwest::Client, base: &str) {
    let answer = http
        .post(format!("{base}/api/v2/auth/logout"))
        .send()
        .await
        .expect("logout");
    assert!(answer.status().is_success());
}

/// qBittorrent's WebUI API, called as a client would without torrentql.
struct Direct {
    http: reqwest::Client,
    base: String,
    client: QbittorrentClient,
}

impl Direct {
    async fn login(qbittorrent: &Qbittorrent) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .pool_max_idle_per_host(128)
            .build()
            .expect("client");
        let base = qbittorrent.url.as_str().trim_end_matches('/').to_owned();
        log_in(&http, &base).await;
        Self {
            http,
            base,
            client: qbittorrent.client(),
        }
    }

    /// What torrentql's start-up asks of qBittorrent, made directly (a
    /// fresh session, the WebAPI version, the whole `sync/maindata`, no
    /// compression): the time from the login to the last byte.
    async fn first_sync(qbittorrent: &Qbittorrent) -> Duration {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .no_gzip()
            .build()
            .expect("client");
        let base = qbittorrent.url.as_str().trim_end_matches('/');
        let started = Instant::now();
        log_in(&http, base).await;
        for endpoint in ["app/webapiVersion", "sync/maindata?rid=0"] {
            http.get(format!("{base}/api/v2/{endpoint}"))
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .expect(endpoint)
                .bytes()
                .await
                .expect("body");
        }
        let took = started.elapsed();
        log_out(&http, base).await;
        took
    }

    /// Ends both sessions: at 10,000 torrents each one that has synced
    /// holds ~100 MB of qBittorrent's memory until it expires, which slows
    /// every later measure.
    async fn log_out(self) {
        log_out(&self.http, &self.base).await;
        self.client.log_out().await.expect("logout");
    }

    async fn page(&self) -> Duration {
        let started = Instant::now();
        self.http
            .get(format!("{}/api/v2/{PAGE_DIRECT}", self.base))
            .send()
            .await
            .expect("info")
            .bytes()
            .await
            .expect("body");
        started.elapsed()
    }

    async fn list(&self) -> (Duration, usize) {
        let started = Instant::now();
        let body = self
            .http
            .get(format!("{}/api/v2/torrents/info", self.base))
            .send()
            .await
            .expect("info")
            .bytes()
            .await
            .expect("body");
        (started.elapsed(), body.len())
    }

    async fn one(&self, hash: InfoHash) -> Duration {
        let started = Instant::now();
        let body = self
            .http
            .get(format!("{}/api/v2/torrents/info?hashes={hash}", self.base))
            .send()
            .await
            .expect("info")
            .bytes()
            .await
            .expect("body");
        assert!(body.len() > 2, "qBittorrent did not list {hash}");
        started.elapsed()
    }

    async fn add_and_wait(&self, hash: InfoHash) -> Duration {
        let started = Instant::now();
        let magnet = Magnet::from_info_hash(hash, None, &[]);
        self.client
            .add(&torrents::paused_magnets(vec![magnet]))
            .await
            .expect("add");
        while self.client.torrent(hash).await.expect("info").is_none() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        started.elapsed()
    }

    /// Adds a magnet running (not paused), once qBittorrent lists it.
    async fn add_running(&self, hash: InfoHash) {
        let mut add = torrents::paused_magnets(vec![Magnet::from_info_hash(hash, None, &[])]);
        add.paused = false;
        self.client.add(&add).await.expect("add");
        self.wait_until(hash, |torrent| !torrent.state().is_paused())
            .await;
    }

    async fn resume_and_wait(&self, hash: InfoHash) {
        self.client
            .act(&[hash], &TorrentAction::Resume)
            .await
            .expect("resume");
        self.wait_until(hash, |torrent| !torrent.state().is_paused())
            .await;
    }

    /// Pauses directly, then polls every 10 ms until qBittorrent shows the
    /// torrent paused.
    async fn pause_and_wait(&self, hash: InfoHash) -> Duration {
        let started = Instant::now();
        self.client
            .act(&[hash], &TorrentAction::Pause)
            .await
            .expect("pause");
        self.wait_until(hash, |torrent| torrent.state().is_paused())
            .await;
        started.elapsed()
    }

    /// Polls every 10 ms until qBittorrent lists `hash` and `shows` holds.
    async fn wait_until(&self, hash: InfoHash, shows: impl Fn(&Torrent) -> bool) {
        loop {
            let listed = self
                .client
                .torrents(TorrentFilter::All, None, Some(&[hash]))
                .await
                .expect("info");
            if listed.first().is_some_and(&shows) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Sets a new category and returns when qBittorrent shows it (polled
    /// every 10 ms): the moment the change became visible.
    async fn change_category(&self, hash: InfoHash, category: &str) -> Instant {
        let _ = self.client.create_category(category, None).await;
        self.client
            .act(&[hash], &TorrentAction::SetCategory(category.to_owned()))
            .await
            .expect("set category");
        loop {
            let torrents = self
                .client
                .torrents(TorrentFilter::All, None, Some(&[hash]))
                .await
                .expect("info");
            if torrents
                .first()
                .is_some_and(|torrent| torrent.category == category)
            {
                return Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Runs `call` at concurrency 64 for 10 s over random hashes: requests/s
/// and p99 latency.
async fn by_hash<F, Fut>(hashes: &[InfoHash], call: F) -> (f64, Duration)
where
    F: Fn(InfoHash) -> Fut + Sync,
    Fut: std::future::Future<Output = Duration>,
{
    let deadline = Instant::now() + BY_HASH_WINDOW;
    let started = Instant::now();
    let workers = (0..BY_HASH_CONCURRENCY).map(|worker| {
        let call = &call;
        async move {
            let mut latencies = Vec::new();
            let mut at = worker;
            while Instant::now() < deadline {
                latencies.push(call(hashes[at % hashes.len()]).await);
                at += BY_HASH_CONCURRENCY;
            }
            latencies
        }
    });
    let latencies: Vec<Duration> = futures::future::join_all(workers)
        .await
        .into_iter()
        .flatten()
        .collect();
    let rps = latencies.len() as f64 / started.elapsed().as_secs_f64();
    (rps, p99(&latencies))
}

/// Many `graphql-transport-ws` subscribers to one torrent's progress, each
/// on its own connection, recording when each category arrived.
struct Subscribers {
    received: Arc<Mutex<Vec<(String, Instant)>>>,
    first_event_at: Vec<Instant>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Subscribers {
    async fn connect(port: u16, count: usize, hash: InfoHash) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let (first_tx, mut first_rx) = tokio::sync::mpsc::channel(count.max(1));
        let mut tasks = Vec::new();
        for _ in 0..count {
            let received = Arc::clone(&received);
            let first_tx = first_tx.clone();
            let mut request = format!("ws://127.0.0.1:{port}/graphql")
                .into_client_request()
                .expect("request");
            request.headers_mut().insert(
                "sec-websocket-protocol",
                "graphql-transport-ws".parse().expect("header"),
            );
            let (mut socket, _) = tokio_tungstenite::connect_async(request)
                .await
                .expect("websocket");
            tasks.push(tokio::spawn(async move {
                let init = json!({ "type": "connection_init", "payload": { "token": admin_token() } });
                socket.send(Message::text(init.to_string())).await.expect("init");
                let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
                    "query": format!("subscription {{ torrentProgress(hashes: [\"{hash}\"]) {{ torrents {{ hash category }} }} }}") } });
                let mut first = true;
                while let Some(Ok(message)) = socket.next().await {
                    let Message::Text(text) = message else { continue };
                    let message: Value = serde_json::from_str(&text).unwrap_or_default();
                    match message["type"].as_str() {
                        Some("connection_ack") => socket.send(Message::text(subscribe.to_string())).await.expect("subscribe"),
                        Some("next") => {
                            let now = Instant::now();
                            if first {
                                first = false;
                                let _ = first_tx.send(now).await;
                            }
                            let torrents = &message["payload"]["data"]["torrentProgress"]["torrents"];
                            for torrent in torrents.as_array().into_iter().flatten() {
                                if let Some(category) = torrent["category"].as_str() {
                                    received.lock().expect("lock").push((category.to_owned(), now));
                                }
                            }
                        }
                        Some("ping") => socket.send(Message::text(r#"{"type":"pong"}"#)).await.expect("pong"),
                        _ => {}
                    }
                }
            }));
        }
        drop(first_tx);
        let mut first_event_at = Vec::new();
        while first_event_at.len() < count {
            first_event_at.push(
                tokio::time::timeout(Duration::from_secs(300), first_rx.recv())
                    .await
                    .expect("snapshots")
                    .expect("a first event"),
            );
        }
        Self {
            received,
            first_event_at,
            tasks,
        }
    }

    /// Delay from each change becoming visible to each subscriber getting it.
    fn delays(&self, changes: &[(String, Instant)]) -> Vec<Duration> {
        let received = self.received.lock().expect("lock");
        changes
            .iter()
            .flat_map(|(category, visible)| {
                received
                    .iter()
                    .filter(move |(seen, _)| seen == category)
                    .map(move |(_, at)| at.saturating_duration_since(*visible))
            })
            .collect()
    }

    async fn close(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

fn median(samples: &[Duration]) -> Duration {
    percentile(samples, 0.5)
}

fn p99(samples: &[Duration]) -> Duration {
    percentile(samples, 0.99)
}

fn percentile(samples: &[Duration], quantile: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "an index into a short list"
    )]
    let index = ((sorted.len() - 1) as f64 * quantile).round() as usize;
    sorted[index]
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn bytes(count: usize) -> String {
    format!("{:.2} MB", count as f64 / 1_000_000.0)
}

fn ratio(theirs: Duration, ours: Duration) -> String {
    format!(
        "1/{:.0}",
        theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9)
    )
}

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|item| item.trim().to_owned())
        .collect()
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn uname() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name\t: ").map(str::to_owned))
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}
