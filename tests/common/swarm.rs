//! Two real qBittorrents on loopback for a real download: A seeds a
//! torrent made on the spot, B downloads it (rate capped so it takes
//! seconds) once told where A is.

use std::time::Duration;

use torrentql::clients::qbittorrent::{AddSource, AddTorrent, TorrentAction};
use torrentql::torrent::{TorrentFile, TorrentLimits};

use super::qbittorrent::{Options, Qbittorrent};
use super::torrents::{MadeTorrent, make_torrent};

pub const PAYLOAD_BYTES: usize = 20 * 1024 * 1024;
/// 20 MiB at 4 MiB/s: about five seconds of progress events.
pub const DOWNLOAD_LIMIT_KIB: u32 = 4096;

/// Makes `name` (of `bytes`) on `seeder` and waits until it seeds.
pub async fn seed(seeder: &Qbittorrent, name: &str, bytes: usize) -> MadeTorrent {
    seed_files(seeder, name, &[(name, bytes)]).await
}

/// Makes the torrent `name` of `files` (path, size) on `seeder` and waits
/// until it seeds.
pub async fn seed_files(seeder: &Qbittorrent, name: &str, files: &[(&str, usize)]) -> MadeTorrent {
    let seed_dir = seeder.save_path.join("seed");
    let made = make_torrent(&seed_dir, name, files);
    let client = seeder.client();
    client
        .add(&AddTorrent {
            source: AddSource::File(
                TorrentFile::parse(made.bytes.clone(), TorrentLimits::default())
                    .expect("the made torrent parses"),
            ),
            save_path: Some(seed_dir.to_string_lossy().into_owned()),
            category: None,
            paused: false,
            rename: None,
            stop_when_metadata_arrives: false,
        })
        .await
        .expect("A takes the torrent");
    super::eventually("A to seed", Duration::from_secs(30), || async {
        let torrent = client
            .torrent(made.hash)
            .await
            .expect("A lists the torrent")?;
        (torrent.progress >= 1.0 && torrent.state().is_seeding()).then_some(())
    })
    .await;
    made
}

/// A qBittorrent to seed (A), and one to download into (B), capped at
/// [`DOWNLOAD_LIMIT_KIB`] so a download takes seconds.
pub async fn seeder_and_leecher() -> (Qbittorrent, Qbittorrent) {
    let seeder = Qbittorrent::start(Options::default()).await;
    let leecher = Qbittorrent::start(Options {
        download_limit_kib: Some(DOWNLOAD_LIMIT_KIB),
        ..Options::default()
    })
    .await;
    (seeder, leecher)
}

/// Where `seeder` takes BitTorrent connections.
pub fn seeder_address(seeder: &Qbittorrent) -> std::net::SocketAddr {
    format!("127.0.0.1:{}", seeder.bittorrent_port)
        .parse()
        .expect("a socket address")
}

/// Tells B where A is (once: a second call can delay the metadata on 5.1).
pub async fn introduce(leecher: &Qbittorrent, seeder: &Qbittorrent, torrent: &MadeTorrent) {
    leecher
        .client()
        .act(
            &[torrent.hash],
            &TorrentAction::AddPeers(vec![seeder_address(seeder)]),
        )
        .await
        .expect("B takes the peer");
}
