//! What must hold for any input to torrentql's parsers: one function per
//! fuzz target, each feeding the bytes to the parser exactly as torrentql
//! does and panicking when an invariant breaks.
//!
//! The fuzz targets call these, and `tests/parsers.rs` includes this file
//! to replay the saved corpus through the same checks on stable Rust.

use lava_torrent::torrent::v1::Torrent;
use torrentql::clients::indexers::{IndexerError, apibay, torznab};
use torrentql::clients::jellyfin::{self, JellyfinError};
use torrentql::torrent::{
    Error, InfoHash, MAX_TORRENT_FILE_BYTES, Magnet, TorrentFile, TorrentLimits,
};

/// A magnet link: the canonical form torrentql sends on is printable ASCII
/// (nothing can smuggle a parameter or a space) and parses back to itself.
pub fn magnet(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(magnet) = Magnet::parse(&text) else {
        return;
    };
    let canonical = magnet.to_string();
    assert!(
        canonical.bytes().all(|byte| byte.is_ascii_graphic()),
        "{canonical:?}"
    );
    assert_eq!(Magnet::parse(&canonical).as_ref(), Ok(&magnet));
    let hash = magnet.info_hash();
    assert_eq!(hash.to_string().parse::<InfoHash>(), Ok(hash));
}

/// An info hash: a parsed one prints as 40 lowercase hex characters and
/// reads back from that and from base32; an error says something true
/// about the input.
pub fn info_hash(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let characters = text.trim().chars().count();
    match text.parse::<InfoHash>() {
        Ok(hash) => {
            let hex = hash.to_string();
            assert!(
                hex.len() == 40
                    && hex
                        .bytes()
                        .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)),
                "{hex:?}"
            );
            assert_eq!(hex.parse::<InfoHash>(), Ok(hash));
            let base32 = data_encoding::BASE32.encode(hash.as_bytes());
            assert_eq!(base32.parse::<InfoHash>(), Ok(hash));
        }
        Err(Error::WrongLength(length)) => {
            assert_eq!(length, characters);
            assert!(length != 32 && length != 40);
        }
        Err(Error::BadHex) => assert_eq!(characters, 40),
        Err(Error::BadBase32) => assert_eq!(characters, 32),
        Err(other) => panic!("not an info hash error: {other:?}"),
    }
}

/// A `.torrent` file: accepted bytes are kept unchanged, and wherever
/// `lava_torrent` (a strict reader that hashes its own re-encoding of the
/// info dictionary) reads the same info dictionary, byte for byte, the v1
/// hash is its hash; re-encoding the rest of the file keeps the hash.
pub fn torrent_file(data: &[u8]) {
    match TorrentFile::parse(data.to_vec(), TorrentLimits::default()) {
        Ok(torrent) => {
            assert_eq!(torrent.bytes(), data);
            let Ok(reference) = Torrent::read_from_bytes(data) else {
                return;
            };
            let info = [b"4:info".as_slice(), &reference.construct_info().encode()].concat();
            if !data
                .windows(info.len())
                .any(|window| window == info.as_slice())
            {
                return;
            }
            let v1 = torrent
                .hashes()
                .v1()
                .expect("lava_torrent reads v1 torrents only");
            assert_eq!(reference.info_hash(), v1.to_string());
            let reencoded = reference.encode().expect("encodes");
            let again = TorrentFile::parse(reencoded, TorrentLimits::default())
                .expect("its own encoding parses");
            assert_eq!(again.hashes(), torrent.hashes());
            assert_eq!(again.name(), torrent.name());
        }
        Err(Error::TooLarge { size, limit }) => {
            assert!(size > limit && limit == MAX_TORRENT_FILE_BYTES);
        }
        Err(
            Error::NotBencode
            | Error::NoInfoDictionary
            | Error::MalformedTorrent(_)
            | Error::TooManyFiles { .. },
        ) => {}
        Err(other) => panic!("not a .torrent error: {other:?}"),
    }
}

/// An apibay answer: only usable rows come out, and a failure is always
/// "malformed" (never mistaken for an outage or a refusal).
pub fn apibay(data: &[u8]) {
    match apibay::parse(data) {
        Ok(rows) => {
            for row in rows {
                assert!(!row.info_hash.is_zero());
                assert!(row.size >= 0);
                assert_ne!(row.files, Some(0));
                for text in [&row.uploader, &row.uploader_status, &row.imdb_id]
                    .into_iter()
                    .flatten()
                {
                    assert!(!text.is_empty() && text.trim() == text, "{text:?}");
                }
            }
        }
        Err(error) => assert!(matches!(error, IndexerError::Malformed(_)), "{error:?}"),
    }
}

/// A Torznab answer: sizes are positive, a magnet is never offered as a
/// download URL, IMDb ids carry their `tt`; a failure is malformed or a
/// refusal the feed itself reported.
pub fn torznab(data: &[u8]) {
    match torznab::parse(data) {
        Ok(items) => {
            for item in items {
                assert!(item.size.is_none_or(|size| size > 0));
                assert!(
                    item.download_url.as_deref().is_none_or(|url| !url
                        .get(..7)
                        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("magnet:"))),
                    "{:?}",
                    item.download_url
                );
                assert!(
                    item.imdb_id
                        .as_deref()
                        .is_none_or(|id| id.starts_with("tt"))
                );
            }
        }
        Err(error) => assert!(
            matches!(
                error,
                IndexerError::Malformed(_) | IndexerError::Rejected(_)
            ),
            "{error:?}"
        ),
    }
}

/// Jellyfin's library list and login answers: read, or refused as
/// unexpected (a login may also name a disabled user); never a panic.
pub fn jellyfin(data: &[u8]) {
    if let Err(error) = jellyfin::parse_virtual_folders(data) {
        assert!(matches!(error, JellyfinError::Other(_)), "{error:?}");
    }
    if let Err(error) = jellyfin::parse_login(data) {
        assert!(
            matches!(error, JellyfinError::Other(_) | JellyfinError::UserDisabled),
            "{error:?}"
        );
    }
}
