//! Live progress over websockets, with the real `graphql-ws` and
//! `subscriptions-transport-ws` clients: snapshots then deltas, auth,
//! expiry, upstream cost independent of subscribers, qBittorrent restarts,
//! graceful shutdown.

mod common;

use std::time::Duration;

use common::app::{TestApp, admin_token, data, sign, token_with_roles};
use common::proxy::RecordingProxy;
use common::qbittorrent::{Options, Qbittorrent};
use common::subscriber::{Protocol, Subscriber};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

fn admin_params() -> Value {
    json!({ "Authorization": format!("Bearer {}", admin_token()) })
}

/// A `torrentProgress` subscription to `hashes`, or to every torrent.
fn progress_query(hashes: Option<&[&str]>) -> String {
    let arguments = hashes
        .map(|hashes| {
            format!(
                "(hashes: {})",
                serde_json::to_string(hashes).expect("hashes as JSON")
            )
        })
        .unwrap_or_default();
    format!(
        "subscription {{ torrentProgress{arguments} {{ snapshot removed torrents {{ hash category state }} }} }}"
    )
}

#[tokio::test]
async fn snapshot_first_then_only_changes_of_the_watched_torrents() {
    let qbittorrent = Qbittorrent::shared();
    let app = TestApp::start(qbittorrent).await;
    let watched = app.add_paused_magnet("subscribed").await;
    let mut subscriber = Subscriber::start(
        &app.ws_url(),
        Protocol::GraphqlTransportWs,
        admin_params(),
        &progress_query(Some(&[&watched])),
        1,
    );

    let snapshot = subscriber.next_progress(WAIT).await;
    assert_eq!(snapshot["snapshot"], true);
    assert_eq!(snapshot["torrents"][0]["hash"], watched);
    assert_eq!(snapshot["torrents"].as_array().unwrap().len(), 1);

    // Another torrent changing is not this subscriber's business.
    app.add_paused_magnet("subscribed").await;
    assert!(
        subscriber.is_quiet_for(Duration::from_millis(2500)).await,
        "an event for nothing that changed"
    );

    let category = format!("watched-{}", &watched[..6]);
    app.graphql(
        "mutation($h: String!, $c: String!) { setTorrentCategory(hash: $h, category: $c) { hash } }",
        json!({ "h": watched, "c": category }),
    )
    .await;
    let delta = subscriber.next_progress(WAIT).await;
    assert_eq!(delta["snapshot"], false);
    assert_eq!(
        delta["torrents"],
        json!([{ "hash": watched, "category": category, "state": "PAUSED_DOWNLOADING" }])
    );

    app.graphql(
        "mutation($h: String!) { deleteTorrent(hash: $h) { hash } }",
        json!({ "h": watched }),
    )
    .await;
    let removal = subscriber.next_progress(WAIT).await;
    assert_eq!(removal["removed"], json!([watched]));
    assert_eq!(removal["torrents"], json!([]));
}

#[tokio::test]
async fn legacy_protocol_gets_the_same_events() {
    let app = TestApp::start(Qbittorrent::shared()).await;
    let watched = app.add_paused_magnet("subscribed").await;
    let mut subscriber = Subscriber::start(
        &app.ws_url(),
        Protocol::LegacyGraphqlWs,
        json!({ "token": admin_token() }),
        &progress_query(Some(&[&watched])),
        1,
    );
    let snapshot = subscriber.next_progress(WAIT).await;
    assert_eq!(snapshot["snapshot"], true);
    assert_eq!(snapshot["torrents"][0]["hash"], watched);
}

#[tokio::test]
async fn connections_without_an_admin_token_are_refused_with_4403() {
    let app = TestApp::start(Qbittorrent::shared()).await;
    let expired = sign(
        &json!({ "sub": "x", "roles": ["admin"], "exp": chrono::Utc::now().timestamp() - 60 }),
    );
    let cases = [
        json!({}),
        json!({ "Authorization": "Bearer not-a-jwt" }),
        json!({ "token": expired }),
        json!({ "token": token_with_roles(&["viewer"]) }),
    ];
    for params in cases {
        let mut subscriber = Subscriber::start(
            &app.ws_url(),
            Protocol::GraphqlTransportWs,
            params.clone(),
            &progress_query(None),
            1,
        );
        let closed = subscriber.next_of("closed", WAIT).await;
        assert_eq!(closed["code"], 4403, "{params}: {closed}");
    }
    let mut legacy = Subscriber::start(
        &app.ws_url(),
        Protocol::LegacyGraphqlWs,
        json!({}),
        &progress_query(None),
        1,
    );
    let refused = legacy.next(WAIT).await;
    assert_eq!(refused["kind"], "connection-error", "{refused}");
}

#[tokio::test]
async fn a_subscription_ends_when_its_token_expires() {
    let app = TestApp::start(Qbittorrent::shared()).await;
    let watched = app.add_paused_magnet("subscribed").await;
    let short_lived =
        sign(&json!({ "sub": "x", "roles": ["admin"], "exp": chrono::Utc::now().timestamp() + 3 }));
    let mut subscriber = Subscriber::start(
        &app.ws_url(),
        Protocol::GraphqlTransportWs,
        json!({ "token": short_lived }),
        &progress_query(Some(&[&watched])),
        1,
    );
    assert_eq!(subscriber.next_progress(WAIT).await["snapshot"], true);
    let error = subscriber.next_of("error", WAIT).await;
    assert_eq!(
        error["payload"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{error}"
    );
}

/// The poller's requests to qBittorrent with 1 and with 200 subscribers
/// over the same time: no more with 200, within the windows' jitter.
#[tokio::test]
async fn upstream_requests_do_not_grow_with_subscribers() {
    // An instance of its own: other tests' load would change the sync cost
    // and so (by design) the pace.
    let qbittorrent = Qbittorrent::start(Options::default()).await;
    let proxy = RecordingProxy::start(&qbittorrent.url).await;
    // A share of 1 keeps the pace at the interval whatever the machine's
    // load does to each sync's cost.
    let app = TestApp::start_with(
        &proxy.url,
        &qbittorrent,
        "[sync]\ninterval = \"100ms\"\nmax_busy_share = 1.0",
    )
    .await;
    let window = Duration::from_secs(3);
    let mut counts = Vec::new();
    for subscribers in [1, 200] {
        let mut subscriber = Subscriber::start(
            &app.ws_url(),
            Protocol::GraphqlTransportWs,
            admin_params(),
            &progress_query(None),
            subscribers,
        );
        subscriber
            .next_of("all-subscribed", Duration::from_secs(30))
            .await;
        proxy.clear();
        tokio::time::sleep(window).await;
        let syncs = proxy.count("/api/v2/sync/maindata");
        let everything_else =
            proxy.count("/api/v2/torrents/info") + proxy.count("/api/v2/torrents/files");
        counts.push(syncs);
        assert_eq!(
            everything_else, 0,
            "subscribers must never call qBittorrent"
        );
        let events = subscriber.finish().await;
        assert_eq!(events.len(), subscribers);
        assert!(events.iter().all(|&count| count >= 1));
    }
    // The pace itself is the poller's unit tests' business (on a paused
    // clock); here, only that subscribers do not add to it.
    assert!(counts[0] > 0, "{counts:?}: the poller did not run");
    // Each window's count can be one off from where the ticks fall (and a
    // tick delayed by load moves one into the next window): two apart is
    // the same pace, while a sync per subscriber would be hundreds more.
    assert!(
        counts[1] <= counts[0] + 2,
        "sync calls with 1 and 200 subscribers: {counts:?}"
    );
}

#[tokio::test]
async fn a_qbittorrent_restart_is_survived_with_a_fresh_snapshot() {
    let qbittorrent = Qbittorrent::start(Options::default()).await;
    let app = TestApp::start(&qbittorrent).await;
    let mut subscriber = Subscriber::start(
        &app.ws_url(),
        Protocol::GraphqlTransportWs,
        admin_params(),
        &progress_query(None),
        1,
    );
    assert_eq!(subscriber.next_progress(WAIT).await["snapshot"], true);
    let mut transfer = Subscriber::start(
        &app.ws_url(),
        Protocol::GraphqlTransportWs,
        admin_params(),
        "subscription { transferUpdates { snapshot stale changed transfer { connectionStatus } } }",
        1,
    );
    let first = transfer.next_of("next", WAIT).await["payload"]["data"]["transferUpdates"].clone();
    assert_eq!(first["snapshot"], true, "{first}");
    assert_eq!(first["stale"], false, "{first}");
    assert!(
        first["changed"]
            .as_array()
            .is_some_and(|changed| changed.len() >= 12),
        "a snapshot names every field: {first}"
    );
    let watched = app.add_paused_magnet("subscribed").await;
    let added = subscriber.next_progress(WAIT).await;
    assert_eq!(added["torrents"][0]["hash"], watched);

    qbittorrent.kill();
    common::eventually("the API to report qBittorrent gone", WAIT, || async {
        let answer = app
            .graphql("{ qbittorrent { connected } }", json!({}))
            .await;
        (answer["data"]["qbittorrent"]["connected"] == false).then_some(())
    })
    .await;
    qbittorrent.restart().await;
    let resumed = subscriber.next_progress(Duration::from_secs(20)).await;
    assert_eq!(resumed["snapshot"], true, "{resumed}");
    // The connection status never changed, so only the resync sends it:
    // qBittorrent's session totals started again.
    let resynced =
        transfer.next_of("next", WAIT).await["payload"]["data"]["transferUpdates"].clone();
    assert_eq!(resynced["snapshot"], true, "{resynced}");
    assert_eq!(
        resynced["transfer"]["connectionStatus"],
        first["transfer"]["connectionStatus"]
    );
    let answer = app
        .graphql("{ qbittorrent { connected } }", json!({}))
        .await;
    assert_eq!(data(&answer)["qbittorrent"]["connected"], true);
}

#[tokio::test]
async fn shutdown_closes_subscriptions_with_a_close_frame() {
    let app = TestApp::start(Qbittorrent::shared()).await;
    let mut subscriber = Subscriber::start(
        &app.ws_url(),
        Protocol::GraphqlTransportWs,
        admin_params(),
        &progress_query(None),
        1,
    );
    assert_eq!(subscriber.next_progress(WAIT).await["snapshot"], true);
    app.shut_down().await;
    let closed = subscriber.next_of("closed", WAIT).await;
    assert_eq!(closed["code"], 1001, "{closed}");
}

#[tokio::test]
async fn a_client_that_closes_gets_its_close_frame_answered_in_both_protocols() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    let app = TestApp::start(Qbittorrent::shared()).await;
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let mut socket = common::websocket::open_with(&app, protocol).await;
        common::websocket::send(
            &mut socket,
            &json!({ "type": "connection_init", "payload": admin_params() }),
        )
        .await;
        let ack = tokio::time::timeout(WAIT, socket.next()).await;
        assert!(
            matches!(&ack, Ok(Some(Ok(Message::Text(text)))) if text.contains("connection_ack")),
            "{protocol}: {ack:?}"
        );
        socket
            .send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "done".into(),
            })))
            .await
            .expect("send a close frame");
        let answer = tokio::time::timeout(WAIT, socket.next()).await;
        match answer {
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                assert_eq!(frame.code, CloseCode::Normal, "{protocol}: {frame:?}");
            }
            other => panic!("{protocol}: the close frame was not answered: {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_exponential_subscription_query_is_refused_with_a_code_in_both_protocols() {
    let app = TestApp::start(Qbittorrent::shared()).await;
    let mut query = "subscription { ...F30 }\n\
        fragment F0 on Subscription { torrentProgress { snapshot } }\n"
        .to_owned();
    for level in 1..=30 {
        let below = level - 1;
        query.push_str(&format!(
            "fragment F{level} on Subscription {{ ...F{below} ...F{below} }}\n"
        ));
    }
    for protocol in [Protocol::GraphqlTransportWs, Protocol::LegacyGraphqlWs] {
        let started = std::time::Instant::now();
        let mut subscriber = Subscriber::start(&app.ws_url(), protocol, admin_params(), &query, 1);
        let refused = subscriber.next_of("error", WAIT).await;
        // graphql-ws hands over the list of errors; the legacy client the
        // one error object its protocol sends.
        let error = refused["payload"].get(0).unwrap_or(&refused["payload"]);
        assert_eq!(
            error["extensions"]["code"], "BAD_USER_INPUT",
            "{protocol:?}: {refused}"
        );
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains("selections"), "{protocol:?}: {message}");
        println!("{protocol:?}: refused in {:?}", started.elapsed());
    }
}
