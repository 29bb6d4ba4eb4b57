//! `.torrent` files: size limit, bencode and info-dictionary checks, info hash.

use lava_torrent::bencode::BencodeElem;
use lava_torrent::torrent::v1::Torrent;

use super::{Error, InfoHash};

/// Largest `.torrent` accepted. Real ones are kilobytes; even a torrent of
/// hundreds of thousands of files stays well under this.
pub const MAX_TORRENT_FILE_BYTES: usize = 8 * 1024 * 1024;

/// Deepest list/dictionary nesting accepted. Real files nest four or five
/// levels; lava_torrent's parser recurses once per level, so an upload of
/// millions of `l`s would otherwise overflow the stack.
const MAX_NESTING: usize = 64;

/// A parsed, validated `.torrent` file and its raw bytes (what qBittorrent
/// is sent, unchanged).
#[derive(Clone)]
pub struct TorrentFile {
    bytes: Vec<u8>,
    info_hash: InfoHash,
    name: String,
    total_size: i64,
    private: bool,
}

impl TorrentFile {
    /// Checks and hashes `.torrent` bytes.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, Error> {
        if bytes.len() > MAX_TORRENT_FILE_BYTES {
            return Err(Error::TooLarge {
                size: bytes.len(),
                limit: MAX_TORRENT_FILE_BYTES,
            });
        }
        check_structure(&bytes)?;
        // lava_torrent folds "not bencode" and "no info" into one error
        // kind; check the outer structure first so each gets its own message.
        let root = BencodeElem::from_bytes(&bytes).map_err(|_| Error::NotBencode)?;
        match root.as_slice() {
            [] => return Err(Error::NotBencode),
            [BencodeElem::Dictionary(dict)] if dict.contains_key("info") => {}
            [BencodeElem::RawDictionary(dict)] if dict.contains_key(b"info".as_slice()) => {}
            _ => return Err(Error::NoInfoDictionary),
        }
        let torrent = Torrent::read_from_bytes(&bytes)
            .map_err(|error| Error::MalformedTorrent(error.to_string()))?;
        // lava_torrent hashes its own re-encoding of the info dictionary;
        // qBittorrent hashes the bytes as sent. They agree only when the
        // bytes are already in the one canonical form, so anything else
        // (duplicate keys, `i+5e`, a path component holding a `/`) would
        // get a hash qBittorrent never lists the torrent under.
        if torrent.construct_info().encode() != info_dictionary(&bytes)? {
            return Err(Error::MalformedTorrent(
                "the info dictionary is not canonical bencode".to_owned(),
            ));
        }
        let info_hash = torrent
            .info_hash()
            .parse()
            .map_err(|_| Error::MalformedTorrent("unexpected info hash".to_owned()))?;
        Ok(Self {
            info_hash,
            name: torrent.name.clone(),
            total_size: torrent.length,
            private: torrent.is_private(),
            bytes,
        })
    }

    /// The v1 info hash (SHA-1 of the bencoded info dictionary).
    pub fn info_hash(&self) -> InfoHash {
        self.info_hash
    }

    /// The torrent's own name (`info.name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sum of the sizes of all files, in bytes.
    pub fn total_size(&self) -> i64 {
        self.total_size
    }

    /// Whether the torrent is private (peers only from its trackers).
    pub fn is_private(&self) -> bool {
        self.private
    }

    /// The file as received.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Walks every top-level value without recursion, refusing what
/// [`value_end`] refuses. Every value, not only the first: lava_torrent
/// parses them all, recursively, so a deep list after a short first value
/// would otherwise overflow the stack.
fn check_structure(bytes: &[u8]) -> Result<(), Error> {
    let mut at = 0;
    while at < bytes.len() {
        at = value_end(bytes, at)?;
    }
    Ok(())
}

/// Where the bencoded value starting at `start` ends. Refuses nesting
/// deeper than [`MAX_NESTING`], truncated values and anything that is not
/// bencode.
fn value_end(bytes: &[u8], start: usize) -> Result<usize, Error> {
    let mut depth = 0usize;
    let mut at = start;
    loop {
        match bytes.get(at).ok_or(Error::NotBencode)? {
            b'l' | b'd' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Error::MalformedTorrent(format!(
                        "nested deeper than {MAX_NESTING} levels"
                    )));
                }
                at += 1;
            }
            b'e' if depth > 0 => {
                depth -= 1;
                at += 1;
            }
            b'i' => {
                let end = bytes[at..]
                    .iter()
                    .position(|&byte| byte == b'e')
                    .ok_or(Error::NotBencode)?;
                at += end + 1;
            }
            b'0'..=b'9' => {
                let colon = bytes[at..]
                    .iter()
                    .position(|&byte| byte == b':')
                    .ok_or(Error::NotBencode)?;
                let length: usize = std::str::from_utf8(&bytes[at..at + colon])
                    .ok()
                    .and_then(|digits| digits.parse().ok())
                    .ok_or(Error::NotBencode)?;
                at = at
                    .checked_add(colon + 1)
                    .and_then(|start| start.checked_add(length))
                    .filter(|&end| end <= bytes.len())
                    .ok_or(Error::NotBencode)?;
            }
            _ => return Err(Error::NotBencode),
        }
        if depth == 0 {
            return Ok(at);
        }
    }
}

/// The raw bytes of the `info` value of a top-level dictionary that
/// lava_torrent has already accepted.
fn info_dictionary(bytes: &[u8]) -> Result<&[u8], Error> {
    let mut info = None;
    let mut at = 1;
    while bytes.get(at).is_some_and(|&byte| byte != b'e') {
        let key_end = value_end(bytes, at)?;
        let end = value_end(bytes, key_end)?;
        // lava_torrent keeps the last of two equal keys, libtorrent the
        // first: with two, the hash would depend on who reads the file.
        if &bytes[at..key_end] == b"4:info" && info.replace(key_end..end).is_some() {
            return Err(Error::MalformedTorrent(
                "the .torrent file has two info dictionaries".to_owned(),
            ));
        }
        at = end;
    }
    info.map(|range| &bytes[range])
        .ok_or(Error::NoInfoDictionary)
}

impl std::fmt::Debug for TorrentFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TorrentFile")
            .field("info_hash", &self.info_hash)
            .field("name", &self.name)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal single-file torrent, bencoded by hand so the expected hash
    /// can be checked independently of lava_torrent.
    fn sample() -> (Vec<u8>, &'static str) {
        let mut info = b"d6:lengthi5e4:name5:hello12:piece lengthi16384e6:pieces20:".to_vec();
        info.extend_from_slice(&[0xff; 20]);
        info.push(b'e');
        let mut bytes = b"d8:announce21:http://t.example/anno4:info".to_vec();
        bytes.extend_from_slice(&info);
        bytes.push(b'e');
        // SHA-1 of `info`, computed with Python's hashlib.
        (bytes, "c34b1aef6eac5ecb5e89635abbb96f2e7505c1b0")
    }

    #[test]
    fn parses_name_size_and_hash() {
        let (bytes, expected_hash) = sample();
        let torrent = TorrentFile::parse(bytes).unwrap();
        assert_eq!(torrent.info_hash().to_string(), expected_hash);
        assert_eq!(torrent.name(), "hello");
        assert_eq!(torrent.total_size(), 5);
        assert!(!torrent.is_private());
    }

    #[test]
    fn rejects_bytes_that_are_not_bencode() {
        assert_eq!(
            TorrentFile::parse(b"<html>not a torrent</html>".to_vec()).unwrap_err(),
            Error::NotBencode
        );
        assert_eq!(
            TorrentFile::parse(Vec::new()).unwrap_err(),
            Error::NotBencode
        );
    }

    #[test]
    fn rejects_bencode_without_an_info_dictionary() {
        assert_eq!(
            TorrentFile::parse(b"d8:announce3:abce".to_vec()).unwrap_err(),
            Error::NoInfoDictionary
        );
        assert_eq!(
            TorrentFile::parse(b"li1ei2ee".to_vec()).unwrap_err(),
            Error::NoInfoDictionary
        );
    }

    #[test]
    fn rejects_an_info_dictionary_missing_required_keys() {
        assert!(matches!(
            TorrentFile::parse(b"d4:infod4:name1:xee".to_vec()).unwrap_err(),
            Error::MalformedTorrent(_)
        ));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let bomb = vec![b'l'; MAX_TORRENT_FILE_BYTES];
        assert!(matches!(
            TorrentFile::parse(bomb).unwrap_err(),
            Error::MalformedTorrent(_)
        ));
        let mut nested = b"d4:info".to_vec();
        nested.extend(std::iter::repeat_n(b'l', 100));
        nested.extend(std::iter::repeat_n(b'e', 101));
        assert!(matches!(
            TorrentFile::parse(nested).unwrap_err(),
            Error::MalformedTorrent(_)
        ));
    }

    #[test]
    fn a_deep_list_after_a_short_first_value_is_refused_without_overflowing_the_stack() {
        let mut bomb = b"0:".to_vec();
        bomb.resize(MAX_TORRENT_FILE_BYTES, b'l');
        assert!(matches!(
            TorrentFile::parse(bomb).unwrap_err(),
            Error::MalformedTorrent(_)
        ));
    }

    /// A torrent whose info dictionary holds `keys` (sorted, before
    /// `piece length`) plus a piece length and one piece.
    fn with_info(keys: &[u8]) -> Vec<u8> {
        let mut bytes = b"d4:infod".to_vec();
        bytes.extend_from_slice(keys);
        bytes.extend_from_slice(b"12:piece lengthi16384e6:pieces20:");
        bytes.extend_from_slice(&[0xff; 20]);
        bytes.extend_from_slice(b"ee");
        bytes
    }

    #[test]
    fn a_path_component_holding_a_slash_is_refused_not_given_another_hash() {
        let clean = with_info(b"5:filesld6:lengthi5e4:pathl1:aeee4:name1:x");
        assert!(TorrentFile::parse(clean).is_ok());
        // lava_torrent would hash it as the two components `a` and `b`.
        let bytes = with_info(b"5:filesld6:lengthi5e4:pathl3:a/beee4:name1:x");
        assert!(matches!(
            TorrentFile::parse(bytes).unwrap_err(),
            Error::MalformedTorrent(_)
        ));
    }

    #[test]
    fn a_non_canonical_integer_in_the_info_dictionary_is_refused() {
        assert!(TorrentFile::parse(with_info(b"6:lengthi5e4:name1:x")).is_ok());
        let bytes = with_info(b"6:lengthi+5e4:name1:x");
        assert!(matches!(
            TorrentFile::parse(bytes).unwrap_err(),
            Error::MalformedTorrent(_)
        ));
    }

    #[test]
    fn two_info_dictionaries_are_refused() {
        let (bytes, _) = sample();
        let info = &bytes[b"d8:announce21:http://t.example/anno4:info".len()..bytes.len() - 1];
        let mut twice = b"d4:info".to_vec();
        twice.extend_from_slice(info);
        twice.extend_from_slice(b"4:info");
        twice.extend_from_slice(info);
        twice.push(b'e');
        assert!(matches!(
            TorrentFile::parse(twice).unwrap_err(),
            Error::MalformedTorrent(_)
        ));
    }

    #[test]
    fn rejects_oversized_input_before_parsing() {
        let error = TorrentFile::parse(vec![b'd'; MAX_TORRENT_FILE_BYTES + 1]).unwrap_err();
        assert!(matches!(error, Error::TooLarge { .. }));
    }
}
