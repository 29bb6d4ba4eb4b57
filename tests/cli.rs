//! The `torrentql` binary: `check-config`, and `serve` with no qBittorrent
//! configured, which runs a managed qbittorrent-nox.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::qbittorrent::Version;
use torrentql::managed::profile::free_port;

fn torrentql(config_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_torrentql"));
    command
        .current_dir(config_dir)
        .env_remove("TORRENTQL_CONFIG")
        .env("TORRENTQL_LOG", "info");
    command
}

/// `torrentql serve` with a managed, isolated qbittorrent-nox of the
/// version under test, its data in `data_dir`, listening on `port`, the
/// WebUI on `webui_port`; stdout and stderr captured; killed when dropped.
fn spawn_managed_server(data_dir: &Path, port: u16, webui_port: u16) -> tokio::process::Child {
    tokio::process::Command::from(torrentql(data_dir))
        .arg("serve")
        .env("TORRENTQL_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("TORRENTQL_SERVER__DATA_DIR", data_dir)
        .env(
            "TORRENTQL_QBITTORRENT__MANAGED__BINARY",
            Version::under_test().binary(),
        )
        .env("TORRENTQL_QBITTORRENT__MANAGED__ISOLATED", "true")
        .env(
            "TORRENTQL_QBITTORRENT__MANAGED__WEBUI_PORT",
            webui_port.to_string(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("torrentql starts")
}

#[test]
fn check_config_lists_every_problem_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("torrentql.toml"),
        "[server]\nlisten = \"everywhere\"\n[qbittorrent]\nurl = \"http://127.0.0.1:1\"\ntimeout = \"forever\"\n",
    )
    .unwrap();
    let output = torrentql(dir.path()).arg("check-config").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for key in [
        "server.listen",
        "qbittorrent.timeout",
        "qbittorrent.password",
    ] {
        assert!(stderr.contains(key), "{key} missing from:\n{stderr}");
    }
}

#[test]
fn check_config_prints_the_configuration_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("custom.toml");
    std::fs::write(&config, "[qbittorrent]\nurl = \"http://127.0.0.1:1\"\n").unwrap();
    let output = torrentql(dir.path())
        .args(["--config", config.to_str().unwrap(), "check-config"])
        .env("TORRENTQL_QBITTORRENT__PASSWORD", "s3cret-from-env")
        .env("TORRENTQL_SERVER__LISTEN", "127.0.0.1:9123")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("127.0.0.1:9123"), "{stdout}");
    assert!(stdout.contains("password = \"********\""), "{stdout}");
    assert!(!stdout.contains("s3cret-from-env"));
}

#[test]
fn check_config_refuses_a_missing_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let output = torrentql(dir.path())
        .args(["--config", "nope.toml", "check-config"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("nope.toml"));
}

#[test]
fn schema_command_prints_the_committed_sdl() {
    let dir = tempfile::tempdir().unwrap();
    let output = torrentql(dir.path()).arg("schema").output().unwrap();
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), committed);
}

#[test]
fn token_command_mints_tokens_the_server_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "a-secret-of-at-least-thirty-two-bytes!!";
    let mint = |args: &[&str]| {
        let output = torrentql(dir.path())
            .args(["token", "--subject", "alice"])
            .args(args)
            .env("TORRENTQL_AUTH__JWT_SECRET", secret)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let token = String::from_utf8(output.stdout).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.validate_aud = false;
        jsonwebtoken::decode::<torrentql::auth::Claims>(
            token.trim(),
            &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
            &validation,
        )
        .unwrap()
        .claims
    };
    let admin = mint(&[]);
    assert_eq!(admin.sub, "alice");
    assert!(admin.is_admin());
    let short = mint(&["--ttl", "5m", "--role", "viewer"]);
    assert!(!short.is_admin());
    let remaining = short.exp - chrono::Utc::now().timestamp();
    assert!((200..=300).contains(&remaining), "{remaining}");
}

#[tokio::test]
async fn serve_without_qbittorrent_url_runs_a_managed_qbittorrent() {
    let data_dir = tempfile::tempdir_in("/tmp").unwrap();
    let port = free_port().unwrap();
    let webui_port = free_port().unwrap();
    let mut server = spawn_managed_server(data_dir.path(), port, webui_port);

    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let health = common::eventually("/healthz", Duration::from_secs(30), || async {
        http.get(format!("{base}/healthz")).send().await.ok()
    })
    .await;
    assert_eq!(health.status(), 200);
    // Ready once the first sync with the managed qbittorrent-nox is done.
    let body = common::eventually("/readyz", Duration::from_secs(30), || async {
        let ready = http.get(format!("{base}/readyz")).send().await.ok()?;
        let body: serde_json::Value = ready.json().await.ok()?;
        (body["ready"] == true).then_some(body)
    })
    .await;
    assert_eq!(body, serde_json::json!({ "ready": true }));

    // The generated WebUI password is kept, readable only by its owner.
    let password_file = data_dir.path().join("qbittorrent-password");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&password_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // SIGTERM stops torrentql and its qbittorrent-nox cleanly.
    let pid = nix::unistd::Pid::from_raw(server.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(20), server.wait())
        .await
        .expect("torrentql stops within 20 s")
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", webui_port)).is_err(),
        "the managed qbittorrent-nox still listens"
    );
    let mut stderr = String::new();
    use tokio::io::AsyncReadExt;
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    let password = std::fs::read_to_string(&password_file).unwrap();
    assert!(
        !stderr.contains(password.trim()),
        "the password reached the log"
    );
    assert!(
        stderr.contains("managed qbittorrent-nox stopped"),
        "{stderr}"
    );

    // With no secret configured, one was generated and an admin token for
    // it printed on stdout, with the playground's address, and not logged.
    let mut stdout = String::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    assert!(
        stdout.contains(&format!("http://127.0.0.1:{port}/graphql")),
        "{stdout}"
    );
    let token = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("Admin token: "))
        .unwrap_or_else(|| panic!("no token in {stdout}"));
    let secret = std::fs::read_to_string(data_dir.path().join("jwt-secret")).unwrap();
    let claims = jsonwebtoken::decode::<torrentql::auth::Claims>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret.trim().as_bytes()),
        &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256),
    )
    .unwrap()
    .claims;
    assert!(claims.is_admin());
    assert!(!stderr.contains(token), "the token reached the log");
}

#[tokio::test]
async fn serve_restarts_a_managed_qbittorrent_that_dies() {
    let data_dir = tempfile::tempdir_in("/tmp").unwrap();
    let port = free_port().unwrap();
    let webui_port = free_port().unwrap();
    let mut server = spawn_managed_server(data_dir.path(), port, webui_port);
    let http = reqwest::Client::new();
    let readyz = format!("http://127.0.0.1:{port}/readyz");
    let ready = || async {
        let response = http.get(&readyz).send().await.ok()?;
        (response.status() == 200).then_some(())
    };
    common::eventually("ready", Duration::from_secs(30), ready).await;

    let profile = data_dir.path().join("qbittorrent");
    let output = Command::new("pkill")
        .args(["-KILL", "-f", &format!("profile={}", profile.display())])
        .output()
        .unwrap();
    assert!(output.status.success(), "no qbittorrent-nox to kill");
    common::eventually(
        "not ready after the kill",
        Duration::from_secs(10),
        || async {
            let response = http.get(&readyz).send().await.ok()?;
            (response.status() == 503).then_some(())
        },
    )
    .await;
    common::eventually(
        "ready again after the restart",
        Duration::from_secs(30),
        ready,
    )
    .await;
    // SIGTERM, so the restarted qbittorrent-nox is stopped too.
    let pid = nix::unistd::Pid::from_raw(server.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    tokio::time::timeout(Duration::from_secs(20), server.wait())
        .await
        .expect("torrentql stops within 20 s")
        .unwrap();
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", webui_port)).is_err(),
        "the restarted qbittorrent-nox still listens"
    );
}

/// A torrentql killed outright takes its qbittorrent-nox with it.
#[tokio::test]
async fn a_killed_torrentql_does_not_leave_its_qbittorrent_behind() {
    let data_dir = tempfile::tempdir_in("/tmp").unwrap();
    let port = free_port().unwrap();
    let webui_port = free_port().unwrap();
    let mut server = spawn_managed_server(data_dir.path(), port, webui_port);
    let http = reqwest::Client::new();
    common::eventually("ready", Duration::from_secs(30), || async {
        let response = http
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .ok()?;
        (response.status() == 200).then_some(())
    })
    .await;
    server.kill().await.unwrap();
    common::eventually(
        "qbittorrent-nox to stop",
        Duration::from_secs(20),
        || async {
            std::net::TcpStream::connect(("127.0.0.1", webui_port))
                .is_err()
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn sigterm_finishes_requests_in_flight_closes_websockets_and_keeps_resume_data() {
    use futures::{SinkExt, StreamExt};
    use tokio::io::AsyncBufReadExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let data_dir = tempfile::tempdir_in("/tmp").unwrap();
    let port = free_port().unwrap();
    let mut server = spawn_managed_server(data_dir.path(), port, free_port().unwrap());
    let mut stdout = tokio::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let token = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            if let Some(token) = line.trim().strip_prefix("Admin token: ") {
                return token.to_owned();
            }
        }
        panic!("torrentql printed no admin token");
    })
    .await
    .expect("the start-up welcome within 60 s");
    let graphql = format!("http://127.0.0.1:{port}/graphql");
    let http = reqwest::Client::new();
    let post = |query: String, variables: serde_json::Value| {
        http.post(&graphql)
            .bearer_auth(&token)
            .json(&serde_json::json!({ "query": query, "variables": variables }))
            .send()
    };
    let add = "mutation($i: AddTorrentInput!) { addTorrent(input: $i) { hash } }".to_owned();

    // A torrent qBittorrent holds when the signal comes.
    let (magnet_hash, magnet) = common::torrents::random_magnet("kept");
    let added: serde_json::Value = post(
        add.clone(),
        serde_json::json!({ "i": { "magnet": magnet, "paused": true } }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        added["data"]["addTorrent"]["hash"],
        magnet_hash.to_string(),
        "{added}"
    );

    // A subscriber.
    let mut request = graphql.replace("http", "ws").into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = serde_json::json!({ "type": "connection_init", "payload": { "token": token } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    let ack = socket.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");

    // A request still running when the signal comes: an add by URL whose
    // server takes 1.5 s to send the .torrent.
    let content = tempfile::tempdir_in("/tmp").unwrap();
    let made = common::torrents::make_torrent(content.path(), "slow", &[("slow.bin", 4096)]);
    let slow_server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/slow.torrent"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_bytes(made.bytes.clone())
                .set_delay(Duration::from_millis(1500)),
        )
        .mount(&slow_server)
        .await;
    let in_flight = tokio::spawn(post(
        add,
        serde_json::json!({ "i": { "url": format!("{}/slow.torrent", slow_server.uri()), "paused": true } }),
    ));
    // In flight once torrentql has asked for the .torrent.
    common::eventually(
        "the add to fetch its URL",
        Duration::from_secs(10),
        || async {
            let asked = slow_server
                .received_requests()
                .await
                .is_some_and(|requests| !requests.is_empty());
            asked.then_some(())
        },
    )
    .await;

    let pid = nix::unistd::Pid::from_raw(server.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();

    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|frame| u16::from(frame.code)),
                Some(Ok(_)) => {}
                other => panic!("the socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("a close frame within 10 s");
    assert_eq!(closed, Some(1001));

    let answer: serde_json::Value = in_flight.await.unwrap().unwrap().json().await.unwrap();
    assert_eq!(
        answer["data"]["addTorrent"]["hash"],
        made.hash.to_string(),
        "the request in flight finished: {answer}"
    );
    let status = tokio::time::timeout(Duration::from_secs(30), server.wait())
        .await
        .expect("torrentql stops within 30 s")
        .unwrap();
    assert!(status.success(), "{status}");

    // qbittorrent-nox was stopped cleanly: both torrents' resume data kept.
    let resume_files: Vec<String> = walk(data_dir.path())
        .into_iter()
        .filter_map(|path| {
            path.file_name()?
                .to_str()?
                .strip_suffix(".fastresume")
                .map(str::to_owned)
        })
        .collect();
    for hash in [magnet_hash, made.hash] {
        assert!(
            resume_files.contains(&hash.to_string()),
            "no resume data for {hash}: {resume_files:?}"
        );
    }
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
