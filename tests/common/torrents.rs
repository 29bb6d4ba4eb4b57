//! Torrents made on the spot: random hashes, and real `.torrent` files
//! built from files written to disk.

use std::path::{Path, PathBuf};

use lava_torrent::bencode::BencodeElem;
use lava_torrent::torrent::v1::TorrentBuilder;
use rand::RngCore;
use torrentql::clients::qbittorrent::{AddSource, AddTorrent};
use torrentql::torrent::{InfoHash, Magnet};

/// A hash no other test uses.
pub fn random_hash() -> InfoHash {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    InfoHash::from_bytes(bytes)
}

/// A magnet for a random hash, with a name to tell it apart in logs.
pub fn random_magnet(name: &str) -> (InfoHash, String) {
    let hash = random_hash();
    (hash, format!("magnet:?xt=urn:btih:{hash}&dn={name}"))
}

/// Adding `magnets` paused, as qBittorrent's client takes it.
pub fn paused_magnets(magnets: Vec<Magnet>) -> AddTorrent {
    AddTorrent {
        source: AddSource::Magnets(magnets),
        save_path: None,
        category: None,
        paused: true,
        rename: None,
        stop_when_metadata_arrives: false,
    }
}

/// Content written to disk and the `.torrent` describing it.
pub struct MadeTorrent {
    /// The file, or the directory of a multi-file torrent.
    pub content: PathBuf,
    pub bytes: Vec<u8>,
    pub hash: InfoHash,
}

/// Writes `files` (relative path, size) of random bytes under
/// `parent/name` and builds a public `.torrent` for them. One file without
/// a directory part makes a single-file torrent.
pub fn make_torrent(parent: &Path, name: &str, files: &[(&str, usize)]) -> MadeTorrent {
    make_torrent_with_web_seeds(parent, name, files, &[])
}

/// [`make_torrent`], the `.torrent` naming `web_seeds` (its `url-list`).
pub fn make_torrent_with_web_seeds(
    parent: &Path,
    name: &str,
    files: &[(&str, usize)],
    web_seeds: &[&str],
) -> MadeTorrent {
    let single = files.len() == 1 && !files[0].0.contains('/');
    let content = parent.join(name);
    for (path, size) in files {
        let path = if single {
            content.clone()
        } else {
            content.join(path)
        };
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create dirs");
        let mut data = vec![0u8; *size];
        rand::rng().fill_bytes(&mut data);
        std::fs::write(&path, data).expect("write content");
    }
    let mut builder = TorrentBuilder::new(&content, 16 * 1024);
    if !web_seeds.is_empty() {
        let urls = web_seeds
            .iter()
            .map(|url| BencodeElem::String((*url).to_owned()))
            .collect();
        builder = builder.add_extra_field("url-list".to_owned(), BencodeElem::List(urls));
    }
    let torrent = builder.build().expect("build torrent");
    let hash = torrent.info_hash().parse().expect("info hash");
    let bytes = torrent.encode().expect("encode torrent");
    MadeTorrent {
        content,
        bytes,
        hash,
    }
}
