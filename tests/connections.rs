//! Connections are bounded: silent sockets, half-sent headers and idle
//! keep-alive connections are closed after `server.header_timeout`; at
//! `server.max_connections` a new connection takes an idle one's place,
//! and only when every one is busy is it closed at once; websockets that
//! never send `connection_init` are closed too. `/healthz` answers
//! throughout.

mod common;

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use common::app::{TestApp, admin_token};
use common::qbittorrent::Qbittorrent;
use common::websocket::{self, Socket};

const HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// How much later than its timeout a socket may be seen closed (the test
/// itself runs thousands of tasks on two cores).
const SLACK: Duration = Duration::from_secs(3);

/// Held by the tests that load both cores (thousands of sockets, hundreds
/// of snapshots): run together, one starves the other's accept loop, and a
/// socket the kernel keeps in a full backlog is never accepted.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn app(max_connections: usize) -> TestApp {
    // Thousands of sockets, both ends in this process.
    torrentql::http::connections::raise_open_file_limit();
    TestApp::start_with(
        &Qbittorrent::shared().url,
        Qbittorrent::shared(),
        &format!(
            "[server]\nheader_timeout = \"{}s\"\nmax_connections = {max_connections}\n",
            HEADER_TIMEOUT.as_secs()
        ),
    )
    .await
}

/// How a socket misbehaves.
#[derive(Clone, Copy, Debug)]
enum Idle {
    /// Connects and sends nothing.
    Silent,
    /// Sends half a request head, and nothing more.
    HalfHeader,
    /// Sends one whole request, reads the answer, and keeps the
    /// connection open without a second.
    KeepAlive,
}

/// Makes `socket`, connected at `connected`, idle as `idle` does, and
/// returns how long after it went idle the server closed it.
async fn idle_socket(mut socket: TcpStream, connected: Instant, idle: Idle) -> Duration {
    match idle {
        Idle::Silent => {}
        Idle::HalfHeader => {
            socket
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: torrentql\r\n")
                .await
                .expect("write");
        }
        Idle::KeepAlive => {
            socket
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: torrentql\r\n\r\n")
                .await
                .expect("write");
            let mut answer = Vec::new();
            let mut buffer = [0; 1024];
            while !answer.ends_with(b"ok") {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => answer.extend_from_slice(&buffer[..read]),
                }
            }
        }
    }
    let idle_since = match idle {
        Idle::Silent => connected,
        Idle::HalfHeader | Idle::KeepAlive => Instant::now(),
    };
    let mut buffer = [0; 1024];
    loop {
        match tokio::time::timeout(HEADER_TIMEOUT + SLACK + SLACK, socket.read(&mut buffer)).await {
            // Closed (or reset): what the server must do.
            Ok(Ok(0) | Err(_)) => return idle_since.elapsed(),
            // A 408 before closing is fine; keep reading to the close.
            Ok(Ok(_)) => {}
            Err(_) => panic!(
                "a {idle:?} socket was still open after {:?}",
                idle_since.elapsed()
            ),
        }
    }
}

/// `GET /healthz` on a connection of its own, and how long the answer
/// took. The kernel hands connections to `accept` in the order their
/// handshakes completed, so once this one is answered every socket
/// connected before it has been accepted.
async fn healthz_on_a_new_connection(address: std::net::SocketAddr) -> Duration {
    let started = Instant::now();
    let mut socket = TcpStream::connect(address).await.expect("connect");
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: torrentql\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.expect("read");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_sockets_are_closed_and_healthz_answers_throughout() {
    let _heavy = HEAVY.lock().await;
    let app = app(200).await;
    // In waves of 100, each accepted before the next: a socket the kernel
    // connected but could not queue (the accept backlog was full) waits
    // for a retransmitted handshake, seconds later, and until then nothing
    // torrentql does can close it.
    let mut sockets = Vec::new();
    let mut slowest = Duration::ZERO;
    for wave in 0..20 {
        for index in wave * 100..(wave + 1) * 100 {
            let idle = [Idle::Silent, Idle::HalfHeader, Idle::KeepAlive][index % 3];
            let socket = TcpStream::connect(app.address).await.expect("connect");
            let connected = Instant::now();
            sockets.push(tokio::spawn(async move {
                (idle, idle_socket(socket, connected, idle).await)
            }));
        }
        slowest = slowest.max(healthz_on_a_new_connection(app.address).await);
    }
    slowest = slowest.max(
        app.probe_healthz_until(|| sockets.iter().all(|socket| socket.is_finished()))
            .await,
    );
    let mut latest = Duration::ZERO;
    for socket in sockets {
        let (idle, closed_after) = socket.await.expect("socket task");
        assert!(
            closed_after <= HEADER_TIMEOUT + SLACK,
            "a {idle:?} socket closed only {closed_after:?} after going idle"
        );
        latest = latest.max(closed_after);
    }
    assert!(
        slowest < Duration::from_secs(1),
        "/healthz took {slowest:?}"
    );
    println!("every socket closed within {latest:?}; slowest /healthz {slowest:?}");
}

/// An admin's `graphql-transport-ws` connection, acknowledged: a busy
/// connection.
async fn subscriber(app: &TestApp) -> Socket {
    let (socket, ack) = websocket::init(app, json!({ "token": admin_token() })).await;
    let ack = ack.expect("an answer");
    assert!(
        ack.to_text().expect("text").contains("connection_ack"),
        "{ack}"
    );
    socket
}

#[tokio::test]
async fn at_the_bound_with_every_connection_busy_new_ones_are_closed_and_the_server_goes_on() {
    let app = app(3).await;
    let mut busy = Vec::new();
    for _ in 0..3 {
        busy.push(subscriber(&app).await);
    }
    // Accepted and closed at once, not left waiting in the backlog.
    let mut refused = TcpStream::connect(app.address).await.expect("connect");
    let _ = refused
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: torrentql\r\n\r\n")
        .await;
    let mut buffer = [0; 64];
    let read = tokio::time::timeout(Duration::from_secs(2), refused.read(&mut buffer))
        .await
        .expect("closed within 2 s");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");

    drop(busy);
    // Once the server has seen the websockets close, their slots are free.
    common::eventually(
        "/healthz to answer again",
        Duration::from_secs(10),
        || async {
            let answer = app.http.get(app.url("/healthz")).send().await.ok()?;
            (answer.status() == 200).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn websockets_that_never_send_connection_init_are_closed() {
    let app = app(1024).await;
    let mut sockets = Vec::new();
    for _ in 0..50 {
        sockets.push(websocket::open(&app).await);
    }
    let opened = Instant::now();
    for mut socket in sockets {
        let closed = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match socket.next().await {
                    Some(Ok(Message::Close(frame))) => {
                        return frame.map(|frame| u16::from(frame.code));
                    }
                    Some(Ok(_)) => {}
                    _ => return None,
                }
            }
        })
        .await
        .expect("closed within 10 s");
        assert_eq!(closed, Some(4408));
    }
    assert!(opened.elapsed() < Duration::from_secs(3) + SLACK);
}

/// A subscriber that stops reading holds one message and its socket's
/// buffers, and is dropped once a write has waited
/// `WRITE_STALL_TIMEOUT` (30 s) for it to read.
#[tokio::test]
async fn a_subscriber_that_stops_reading_is_dropped() {
    let _heavy = HEAVY.lock().await;
    let app = app(1024).await;
    let magnets = (0..100)
        .map(|index| {
            torrentql::torrent::Magnet::from_info_hash(
                common::torrents::random_hash(),
                Some(&format!("unread-{index:03}-{}", "x".repeat(200))),
                &[],
            )
        })
        .collect();
    Qbittorrent::shared()
        .client()
        .add(&common::torrents::paused_magnets(magnets))
        .await
        .expect("add");
    common::eventually(
        "the torrents in the mirror",
        Duration::from_secs(20),
        || async {
            let answer = app
                .graphql("{ torrents { nodes { hash } } }", json!({}))
                .await;
            (answer["data"]["torrents"]["nodes"]
                .as_array()
                .map_or(0, Vec::len)
                >= 100)
                .then_some(())
        },
    )
    .await;

    let mut socket = subscriber(&app).await;
    // Each snapshot is some 40 KB: far more than the sockets' buffers hold.
    let query = "subscription { torrentProgress { snapshot torrents { hash name state rawState savePath contentPath magnetUri addedAt } } }";
    for id in 0..400 {
        let subscribe =
            json!({ "id": id.to_string(), "type": "subscribe", "payload": { "query": query } });
        socket
            .send(Message::text(subscribe.to_string()))
            .await
            .expect("send");
    }
    let stopped_reading = Instant::now();
    tokio::time::sleep(Duration::from_secs(32)).await;
    let mut received = 0usize;
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(Ok(message)) = socket.next().await {
            received += message.len();
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "still sending {:?} after the client stopped reading ({received} bytes read since)",
        stopped_reading.elapsed()
    );
    assert!(
        received < 400 * 40_000,
        "{received} bytes: it was not dropped"
    );
}
