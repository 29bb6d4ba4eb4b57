//! The torrent service against a real qbittorrent-nox: every way to add a
//! torrent, duplicates, pause/resume, delete, categories, files and save
//! paths.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::qbittorrent::Qbittorrent;
use common::torrents::{make_torrent, random_hash, random_magnet};
use torrentql::clients::qbittorrent::TorrentFilter;
use torrentql::services::mirror::SyncSettings;
use torrentql::services::{
    AddRequest, Outcome, ServiceError, TorrentChange, TorrentService, TorrentSource,
};
use torrentql::torrent::{self, InfoHash};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TRACKER: &str = "udp://127.0.0.1:9/announce";

fn service() -> TorrentService {
    let qbittorrent = Qbittorrent::shared();
    // The mirror's poller is not started: every read goes to qBittorrent.
    TorrentService::new(
        Arc::new(qbittorrent.client()),
        Vec::new(),
        vec![TRACKER.to_owned()],
        SyncSettings {
            interval: Duration::from_secs(1),
            max_busy_share: 0.1,
        },
    )
    .expect("the service builds")
}

fn add(source: TorrentSource) -> AddRequest {
    AddRequest {
        source,
        name: None,
        save_path: None,
        library: None,
        category: None,
        paused: true,
        files: None,
    }
}

/// A directory for test content inside qBittorrent's default save path
/// (the default allowed root).
fn content_dir() -> std::path::PathBuf {
    let dir = Qbittorrent::shared()
        .save_path
        .join(random_hash().to_string());
    std::fs::create_dir_all(&dir).expect("a save folder");
    dir
}

async fn count_listed(service: &TorrentService, hash: InfoHash) -> usize {
    service
        .list(TorrentFilter::All, None, None)
        .await
        .expect("the service lists torrents")
        .iter()
        .filter(|torrent| torrent.hash == hash)
        .count()
}

#[tokio::test]
async fn add_by_magnet_returns_the_hash_qbittorrent_lists() {
    let service = service();
    let (hash, magnet) = random_magnet("by-magnet");
    let added = service
        .add(add(TorrentSource::Magnet(magnet)))
        .await
        .unwrap();
    assert_eq!(added.hash, hash);
    assert!(!added.duplicate);
    assert_eq!(added.torrent.hash, hash);
    assert_eq!(service.get(hash).await.unwrap().unwrap().hash, hash);
    assert!(added.torrent.state().is_paused(), "{}", added.torrent.state);
}

#[tokio::test]
async fn add_by_base32_magnet_lists_the_hex_hash() {
    let service = service();
    let hash = random_hash();
    let base32 = data_encoding::BASE32.encode(hash.as_bytes()).to_lowercase();
    let added = service
        .add(add(TorrentSource::Magnet(format!(
            "magnet:?xt=urn:btih:{base32}"
        ))))
        .await
        .unwrap();
    assert_eq!(added.hash, hash);
    assert_eq!(added.torrent.hash.to_string(), hash.to_string());
}

#[tokio::test]
async fn add_by_bare_info_hash_builds_a_magnet_with_name_and_trackers() {
    let service = service();
    let hash = random_hash();
    let mut request = add(TorrentSource::InfoHash(hash.to_string().to_uppercase()));
    request.name = Some("Named by torrentql".to_owned());
    let added = service.add(request).await.unwrap();
    assert_eq!(added.hash, hash);
    assert_eq!(added.torrent.name, "Named by torrentql");
    let magnet = torrent::Magnet::parse(&added.torrent.magnet_uri).unwrap();
    assert_eq!(magnet.info_hash(), hash);
    assert!(
        magnet.trackers().iter().any(|tracker| tracker == TRACKER),
        "{}",
        added.torrent.magnet_uri
    );
}

#[tokio::test]
async fn add_by_torrent_file_bytes_lists_its_files() {
    let service = service();
    let made = make_torrent(
        &content_dir(),
        "multi",
        &[("a.bin", 40_000), ("sub/b.bin", 20_000), ("sub/c.txt", 100)],
    );
    let added = service
        .add(add(TorrentSource::File(made.bytes.clone())))
        .await
        .unwrap();
    assert_eq!(added.hash, made.hash);
    let mut files = service.files(made.hash).await.unwrap();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<_> = files.iter().map(|file| file.name.as_str()).collect();
    assert_eq!(names, ["multi/a.bin", "multi/sub/b.bin", "multi/sub/c.txt"]);
    assert_eq!(files[0].size, 40_000);
    assert_eq!(files[2].size, 100);
}

#[tokio::test]
async fn add_by_url_fetches_the_torrent_file() {
    let service = service();
    let made = make_torrent(&content_dir(), "from-url.bin", &[("from-url.bin", 1000)]);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/files/x.torrent"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/x-bittorrent")
                .set_body_bytes(made.bytes.clone()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let added = service
        .add(add(TorrentSource::Url(format!(
            "{}/files/x.torrent",
            server.uri()
        ))))
        .await
        .unwrap();
    assert_eq!(added.hash, made.hash);
}

#[tokio::test]
async fn add_by_url_follows_a_redirect_to_a_magnet() {
    let service = service();
    let (hash, magnet) = random_magnet("prowlarr-style");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/1/download"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", magnet.as_str()))
        .expect(1)
        .mount(&server)
        .await;
    let added = service
        .add(add(TorrentSource::Url(format!(
            "{}/1/download",
            server.uri()
        ))))
        .await
        .unwrap();
    assert_eq!(added.hash, hash);
}

#[tokio::test]
async fn add_by_url_refuses_non_http_schemes_and_non_torrent_bodies() {
    let service = service();
    let error = service
        .add(add(TorrentSource::Url("file:///etc/passwd".to_owned())))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ServiceError::TorrentUrlRefused(_)),
        "{error}"
    );

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>login</html>"))
        .mount(&server)
        .await;
    let error = service
        .add(add(TorrentSource::Url(server.uri())))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ServiceError::InvalidTorrent(torrent::Error::NotBencode)
        ),
        "{error}"
    );
}

#[tokio::test]
async fn duplicate_add_returns_the_existing_torrent_and_adds_nothing() {
    let service = service();
    let (hash, magnet) = random_magnet("duplicate");
    let first = service
        .add(add(TorrentSource::Magnet(magnet.clone())))
        .await
        .unwrap();
    assert!(!first.duplicate);
    let second = service
        .add(add(TorrentSource::InfoHash(hash.to_string())))
        .await
        .unwrap();
    assert!(second.duplicate);
    assert_eq!(second.torrent.hash, hash);
    assert_eq!(count_listed(&service, hash).await, 1);
}

#[tokio::test]
async fn concurrent_adds_of_one_torrent_yield_one_torrent() {
    let service = Arc::new(service());
    let (hash, magnet) = random_magnet("concurrent");
    let adds = (0..4).map(|_| {
        let service = Arc::clone(&service);
        let magnet = magnet.clone();
        tokio::spawn(async move { service.add(add(TorrentSource::Magnet(magnet))).await })
    });
    let outcomes: Vec<_> = futures::future::join_all(adds)
        .await
        .into_iter()
        .map(|joined| joined.unwrap().unwrap())
        .collect();
    assert!(outcomes.iter().all(|outcome| outcome.hash == hash));
    assert_eq!(count_listed(&service, hash).await, 1);
}

#[tokio::test]
async fn bad_torrent_input_is_refused_before_qbittorrent_is_asked() {
    let service = service();
    let cases = [
        (
            TorrentSource::Magnet("http://not-a-magnet".to_owned()),
            torrent::Error::NotAMagnet,
        ),
        (
            TorrentSource::Magnet("magnet:?dn=x".to_owned()),
            torrent::Error::NoInfoHash,
        ),
        (
            TorrentSource::InfoHash("abc".to_owned()),
            torrent::Error::WrongLength(3),
        ),
        (
            TorrentSource::File(b"garbage".to_vec()),
            torrent::Error::NotBencode,
        ),
        (
            TorrentSource::File(b"d3:fooi1ee".to_vec()),
            torrent::Error::NoInfoDictionary,
        ),
    ];
    for (source, expected) in cases {
        match service.add(add(source)).await {
            Err(ServiceError::InvalidTorrent(error)) => assert_eq!(error, expected),
            other => panic!("expected {expected:?}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn pause_then_resume_changes_the_state() {
    let service = service();
    let (hash, magnet) = random_magnet("pause-resume");
    let mut request = add(TorrentSource::Magnet(magnet));
    request.paused = false;
    let added = service.add(request).await.unwrap();
    assert!(
        !added.torrent.state().is_paused(),
        "{}",
        added.torrent.state
    );

    let paused = only(service.change(&[hash], TorrentChange::Pause).await);
    assert!(paused.state().is_paused(), "{}", paused.state);
    let resumed = only(service.change(&[hash], TorrentChange::Resume).await);
    assert!(!resumed.state().is_paused(), "{}", resumed.state);
}

#[tokio::test]
async fn operations_on_an_unknown_hash_are_not_found() {
    let service = service();
    let hash = random_hash();
    for change in [
        TorrentChange::Pause,
        TorrentChange::Resume,
        TorrentChange::SetCategory("x".to_owned()),
    ] {
        let outcomes = service.change(&[hash], change).await.unwrap();
        assert!(
            matches!(outcomes[..], [Err(ServiceError::TorrentNotFound(h))] if h == hash),
            "{outcomes:?}"
        );
    }
    let deleted = service.delete(&[hash], false).await.unwrap();
    assert!(matches!(
        deleted[..],
        [Err(ServiceError::TorrentNotFound(_))]
    ));
    assert!(matches!(
        service.files(hash).await,
        Err(ServiceError::TorrentNotFound(_))
    ));
    assert!(service.get(hash).await.unwrap().is_none());
}

async fn add_seeded(service: &TorrentService, name: &str) -> common::torrents::MadeTorrent {
    let dir = content_dir();
    let made = make_torrent(
        &dir,
        name,
        &[("data/one.bin", 30_000), ("data/two.bin", 10_000)],
    );
    let mut request = add(TorrentSource::File(made.bytes.clone()));
    request.save_path = Some(dir.to_string_lossy().into_owned());
    service
        .add(request)
        .await
        .expect("the service adds the torrent");
    made
}

#[tokio::test]
async fn delete_without_files_keeps_the_data() {
    let service = service();
    let made = add_seeded(&service, "keep").await;
    only(service.delete(&[made.hash], false).await);
    assert!(service.get(made.hash).await.unwrap().is_none());
    assert!(made.content.join("data/one.bin").is_file());
}

#[tokio::test]
async fn delete_with_files_removes_the_data() {
    let service = service();
    let made = add_seeded(&service, "remove").await;
    only(service.delete(&[made.hash], true).await);
    assert!(service.get(made.hash).await.unwrap().is_none());
    common::eventually(
        "the files to be deleted",
        Duration::from_secs(5),
        || async { (!made.content.join("data/one.bin").exists()).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn set_category_creates_a_category_that_does_not_exist_yet() {
    let service = service();
    let (hash, magnet) = random_magnet("category");
    service
        .add(add(TorrentSource::Magnet(magnet)))
        .await
        .unwrap();
    let category = format!("tv/new-{hash}");
    let torrent = only(
        service
            .change(&[hash], TorrentChange::SetCategory(category.clone()))
            .await,
    );
    assert_eq!(torrent.category, category);
    let categories = service.qbittorrent().categories().await.unwrap();
    assert!(categories.iter().any(|existing| existing.name == category));

    let cleared = only(
        service
            .change(&[hash], TorrentChange::SetCategory(String::new()))
            .await,
    );
    assert_eq!(cleared.category, "");
}

#[tokio::test]
async fn add_with_a_new_category_creates_it() {
    let service = service();
    let (hash, magnet) = random_magnet("add-category");
    let category = format!("movies-{hash}");
    let mut request = add(TorrentSource::Magnet(magnet));
    request.category = Some(category.clone());
    let added = service.add(request).await.unwrap();
    assert_eq!(added.torrent.category, category);
}

#[tokio::test]
async fn save_paths_outside_the_allowed_roots_are_refused() {
    let service = service();
    let root = Qbittorrent::shared().save_path.clone();
    let escaping = format!("{}/../../etc", root.display());
    for save_path in ["/etc".to_owned(), escaping, "relative/dir".to_owned()] {
        let (hash, magnet) = random_magnet("outside");
        let mut request = add(TorrentSource::Magnet(magnet));
        request.save_path = Some(save_path.clone());
        let error = service.add(request).await.unwrap_err();
        assert!(
            matches!(error, ServiceError::InvalidInput(_)),
            "{save_path}: {error}"
        );
        assert!(
            service.get(hash).await.unwrap().is_none(),
            "{save_path} added something"
        );
    }
}

#[tokio::test]
async fn save_paths_through_a_symlink_out_of_the_root_are_refused() {
    let service = service();
    let root = Qbittorrent::shared().save_path.clone();
    let outside = tempfile::tempdir().expect("a directory outside the root");
    let link = root.join(format!("link-out-{}", std::process::id()));
    std::os::unix::fs::symlink(outside.path(), &link).expect("symlink");
    for save_path in [link.clone(), link.join("sub/dir")] {
        let (hash, magnet) = random_magnet("through-a-link");
        let mut request = add(TorrentSource::Magnet(magnet));
        request.save_path = Some(save_path.display().to_string());
        let error = service.add(request).await.unwrap_err();
        assert!(
            error.to_string().contains("symbolic link"),
            "{}: {error}",
            save_path.display()
        );
        assert!(service.get(hash).await.unwrap().is_none());
    }
    std::fs::remove_file(&link).expect("remove the link");
}

#[tokio::test]
async fn save_path_inside_the_root_is_used_normalised() {
    let service = service();
    let dir = content_dir();
    let (_, magnet) = random_magnet("inside");
    let mut request = add(TorrentSource::Magnet(magnet));
    request.save_path = Some(format!("{}/./sub/../", dir.display()));
    let added = service.add(request).await.unwrap();
    assert_eq!(
        added.torrent.save_path.trim_end_matches('/'),
        dir.to_string_lossy()
    );
}

#[tokio::test]
async fn a_torrent_qbittorrent_refuses_is_rejected_and_leaves_nothing() {
    let service = service();
    // Well-formed bencode that lava_torrent accepts, but five bytes cannot
    // have two pieces: libtorrent refuses it.
    let mut info = b"d6:lengthi5e4:name4:bad!12:piece lengthi16384e6:pieces40:".to_vec();
    info.extend_from_slice(&[0xab; 40]);
    info.push(b'e');
    let mut bytes = b"d4:info".to_vec();
    bytes.extend_from_slice(&info);
    bytes.push(b'e');
    let parsed =
        torrent::TorrentFile::parse(bytes.clone(), torrent::TorrentLimits::default()).unwrap();

    let error = service
        .add(add(TorrentSource::File(bytes)))
        .await
        .unwrap_err();
    assert!(matches!(error, ServiceError::Rejected(_)), "{error}");
    assert!(service.get(parsed.info_hash()).await.unwrap().is_none());
}

/// The one outcome of a change to one torrent, which must have worked.
fn only<T>(outcomes: Result<Vec<Outcome<T>>, ServiceError>) -> T {
    let mut outcomes = outcomes.expect("the change is accepted");
    assert_eq!(outcomes.len(), 1);
    outcomes
        .pop()
        .expect("one outcome")
        .expect("the change applies to the torrent")
}
