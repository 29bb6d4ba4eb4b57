//! The pure parsers (magnet links, info hashes, `.torrent` files, apibay
//! JSON, Torznab XML, Jellyfin JSON) against generated input, and the
//! saved fuzz corpus replayed through the fuzz targets' own checks
//! (`fuzz/src/lib.rs`), so CI covers both on stable Rust.

#[path = "../fuzz/src/lib.rs"]
mod invariants;

use std::collections::HashMap;
use std::path::Path;

use data_encoding::{BASE32, HEXLOWER};
use lava_torrent::bencode::BencodeElem;
use lava_torrent::torrent::v1::Torrent;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use torrentql::clients::indexers::{apibay, torznab};
use torrentql::clients::jellyfin::{self, JellyfinError, VirtualFolder};
use torrentql::torrent::{InfoHash, Magnet, TorrentFile, TorrentLimits};

/// Enough cases to find the bugs these properties were written for, few
/// enough that the whole binary stays well under 20 s in a debug build.
/// Failures are not persisted to files: a case worth keeping becomes a
/// named regression test next to the parser.
/// `PROPTEST_CASES` overrides the count for a deeper run.
fn config(cases: u32) -> ProptestConfig {
    let default = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            default.cases
        } else {
            cases
        },
        failure_persistence: None,
        ..default
    }
}

// ---------------------------------------------------------------------------
// The saved fuzz corpus

/// Runs every saved input of one fuzz target through its checks.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    let mut replayed = 0;
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let data = std::fs::read(&path).expect("corpus file");
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            panic!("{} breaks an invariant (see above)", path.display());
        }
        replayed += 1;
    }
    assert!(replayed > 0, "{} is empty", dir.display());
}

#[test]
fn the_magnet_corpus_holds_its_invariants() {
    replay("magnet", invariants::magnet);
}

#[test]
fn the_info_hash_corpus_holds_its_invariants() {
    replay("info_hash", invariants::info_hash);
}

#[test]
fn the_torrent_file_corpus_holds_its_invariants() {
    replay("torrent_file", invariants::torrent_file);
}

#[test]
fn the_apibay_corpus_holds_its_invariants() {
    replay("apibay", invariants::apibay);
}

#[test]
fn the_torznab_corpus_holds_its_invariants() {
    replay("torznab", invariants::torznab);
}

#[test]
fn the_jellyfin_corpus_holds_its_invariants() {
    replay("jellyfin", invariants::jellyfin);
}

// ---------------------------------------------------------------------------
// Shared strategies

/// Random hash bytes and one way a user might write them: hex or base32,
/// each letter in either case.
fn written_hash() -> impl Strategy<Value = (InfoHash, String)> {
    (
        any::<[u8; 20]>(),
        any::<bool>(),
        proptest::collection::vec(any::<bool>(), 40),
    )
        .prop_map(|(bytes, base32, upper)| {
            let text = if base32 {
                BASE32.encode(&bytes)
            } else {
                HEXLOWER.encode(&bytes)
            };
            let text = text
                .chars()
                .zip(upper)
                .map(|(c, upper)| {
                    if upper {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect();
            (InfoHash::from_bytes(bytes), text)
        })
}

/// One way to damage a payload, or a payload of random bytes.
#[derive(Debug, Clone)]
enum Damage {
    Truncate(Index),
    Overwrite(Index, u8),
    Insert(Index, u8),
    Remove(Index),
    Replace(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<Index>().prop_map(Damage::Truncate),
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Damage::Overwrite(at, byte)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Damage::Insert(at, byte)),
        any::<Index>().prop_map(Damage::Remove),
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(Damage::Replace),
    ]
}

fn damaged(mut bytes: Vec<u8>, damage: Damage) -> Vec<u8> {
    let len = bytes.len().max(1);
    match damage {
        Damage::Truncate(at) => bytes.truncate(at.index(len)),
        Damage::Overwrite(at, byte) => {
            if let Some(slot) = bytes.get_mut(at.index(len)) {
                *slot = byte;
            }
        }
        Damage::Insert(at, byte) => bytes.insert(at.index(len + 1).min(bytes.len()), byte),
        Damage::Remove(at) => {
            if !bytes.is_empty() {
                bytes.remove(at.index(len));
            }
        }
        Damage::Replace(random) => bytes = random,
    }
    bytes
}

// ---------------------------------------------------------------------------
// Info hashes and magnet links

/// Text near the shapes the parsers look for, where the edge cases are.
fn hash_like_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,50}",
        ".{0,50}",
        "[0-9a-fA-FgGé ]{38,42}",
        "[A-Za-z2-7=18é ]{30,34}",
        concat!(
            "(?i:magnet:\\?)",
            "((xt=urn:bt(ih|mh):[0-9a-zA-Z=%é]{0,70}|dn=\\PC{0,8}|tr=\\PC{0,8}|x\\.pe=[0-9.:]{0,9})&?){0,4}",
        ),
    ]
}

proptest! {
    #![proptest_config(config(4096))]

    #[test]
    fn a_written_hash_parses_back_to_its_bytes(
        (hash, text) in written_hash(),
        padding in "[ \t\n]{0,2}",
    ) {
        prop_assert_eq!(format!("{padding}{text}{padding}").parse::<InfoHash>(), Ok(hash));
    }

    #[test]
    fn any_text_is_a_hash_or_an_error_that_is_true_of_it(text in hash_like_text()) {
        invariants::info_hash(text.as_bytes());
        invariants::magnet(text.as_bytes());
    }

    #[test]
    fn a_magnet_with_a_written_hash_parses_back(
        (hash, text) in written_hash(),
        scheme in "(?i:magnet:\\?)",
        urn in "(?i:urn:btih:)",
        name in proptest::option::of("\\PC{0,30}"),
        trackers in proptest::collection::vec("\\PC{0,30}", 0..3),
    ) {
        let mut link = format!("{scheme}xt={urn}{text}");
        if let Some(name) = &name {
            link.push_str("&dn=");
            link.extend(form_urlencoded::byte_serialize(name.as_bytes()));
        }
        for tracker in &trackers {
            link.push_str("&tr=");
            link.extend(form_urlencoded::byte_serialize(tracker.as_bytes()));
        }
        let magnet = Magnet::parse(&link)
            .map_err(|error| TestCaseError::fail(format!("{link}: {error}")))?;
        prop_assert_eq!(magnet.info_hash(), hash);
        prop_assert_eq!(
            magnet.display_name(),
            name.as_deref().filter(|name| !name.trim().is_empty())
        );
        let kept: Vec<&String> = trackers
            .iter()
            .filter(|tracker| !tracker.trim().is_empty())
            .collect();
        prop_assert_eq!(magnet.trackers().iter().collect::<Vec<_>>(), kept);
        invariants::magnet(link.as_bytes());
    }
}

// ---------------------------------------------------------------------------
// .torrent files

/// What a generated `.torrent` describes.
#[derive(Debug, Clone)]
struct Layout {
    name: String,
    piece_length: i64,
    /// `None` for a single-file torrent of `length` bytes.
    files: Option<Vec<(Vec<String>, i64)>>,
    length: i64,
    private: bool,
    announce: Option<String>,
}

impl Layout {
    fn total_size(&self) -> i64 {
        self.files.as_ref().map_or(self.length, |files| {
            files.iter().map(|(_, length)| length).sum()
        })
    }

    /// Whether torrentql must accept it: something to download, and path
    /// components that are plain names (no `/`, not empty, not `.`/`..`).
    fn is_plain(&self) -> bool {
        self.total_size() > 0
            && self
                .files
                .iter()
                .flatten()
                .flat_map(|(path, _)| path)
                .all(|component| {
                    !component.is_empty()
                        && !component.contains('/')
                        && component != "."
                        && component != ".."
                })
    }

    /// The info dictionary, keyed as BEP 3 says.
    fn info(&self) -> HashMap<String, BencodeElem> {
        let total = self.total_size();
        let pieces = usize::try_from((total + self.piece_length - 1) / self.piece_length)
            .unwrap_or(0)
            .max(1);
        let mut info = HashMap::from([
            ("name".to_owned(), BencodeElem::String(self.name.clone())),
            (
                "piece length".to_owned(),
                BencodeElem::Integer(self.piece_length),
            ),
            // 0xff keeps the pieces from being valid UTF-8, which
            // lava_torrent would read as a string and refuse.
            (
                "pieces".to_owned(),
                BencodeElem::Bytes(vec![0xff; 20 * pieces]),
            ),
        ]);
        match &self.files {
            None => {
                info.insert("length".to_owned(), BencodeElem::Integer(self.length));
            }
            Some(files) => {
                let files = files
                    .iter()
                    .map(|(path, length)| {
                        BencodeElem::Dictionary(HashMap::from([
                            ("length".to_owned(), BencodeElem::Integer(*length)),
                            (
                                "path".to_owned(),
                                BencodeElem::List(
                                    path.iter().cloned().map(BencodeElem::String).collect(),
                                ),
                            ),
                        ]))
                    })
                    .collect();
                info.insert("files".to_owned(), BencodeElem::List(files));
            }
        }
        if self.private {
            info.insert("private".to_owned(), BencodeElem::Integer(1));
        }
        info
    }

    fn bytes(&self) -> Vec<u8> {
        let mut root = HashMap::from([("info".to_owned(), BencodeElem::Dictionary(self.info()))]);
        if let Some(announce) = &self.announce {
            root.insert("announce".to_owned(), BencodeElem::String(announce.clone()));
        }
        BencodeElem::Dictionary(root).encode()
    }

    /// The SHA-1 of exactly this info dictionary's bytes, as `lava_torrent`
    /// computes it. Its `construct_info()` lays the extra info fields over
    /// the standard ones, so with every key given as an extra field the
    /// dictionary it hashes is this one, component for component (a
    /// `Torrent` read from the bytes would hold its paths as `PathBuf`s).
    fn info_hash(&self) -> String {
        let reference = Torrent {
            announce: None,
            announce_list: None,
            length: self.length,
            files: self.files.as_ref().map(|_| Vec::new()),
            name: String::new(),
            piece_length: 0,
            pieces: Vec::new(),
            extra_fields: None,
            extra_info_fields: Some(self.info()),
        };
        assert_eq!(
            reference.construct_info().encode(),
            BencodeElem::Dictionary(self.info()).encode()
        );
        reference.info_hash()
    }
}

fn path_component() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-zA-Z0-9 ._-]{1,12}",
        2 => "\\PC{0,8}",
        1 => prop::sample::select(vec!["", ".", "..", "a/b", "/etc", "dir/"])
            .prop_map(str::to_owned),
    ]
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        "\\PC{1,20}",
        1024i64..=1 << 20,
        proptest::option::of(proptest::collection::vec(
            (
                proptest::collection::vec(path_component(), 1..4),
                0i64..=1 << 20,
            ),
            1..6,
        )),
        1i64..=1 << 20,
        any::<bool>(),
        proptest::option::of("http://[a-z.]{1,12}/announce"),
    )
        .prop_map(
            |(name, piece_length, files, length, private, announce)| Layout {
                name,
                piece_length,
                files,
                length,
                private,
                announce,
            },
        )
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn a_torrent_gets_the_hash_of_its_info_bytes_or_is_refused(layout in layout()) {
        let bytes = layout.bytes();
        invariants::torrent_file(&bytes);
        match TorrentFile::parse(bytes, TorrentLimits::default()) {
            Ok(torrent) => {
                prop_assert_eq!(torrent.info_hash().to_string(), layout.info_hash());
                prop_assert_eq!(torrent.name(), layout.name.as_str());
                prop_assert_eq!(torrent.total_size(), layout.total_size());
                prop_assert_eq!(torrent.is_private(), layout.private);
            }
            Err(error) => prop_assert!(!layout.is_plain(), "refused a plain torrent: {}", error),
        }
    }

    #[test]
    fn damaged_torrent_bytes_never_panic(layout in layout(), damage in damage()) {
        invariants::torrent_file(&damaged(layout.bytes(), damage));
    }
}

// ---------------------------------------------------------------------------
// apibay

/// A JSON value as some apibay mirror might send it: a string (apibay), a
/// number (some mirrors), `null`, or nothing at all.
fn count_field(
    range: std::ops::RangeInclusive<i64>,
) -> impl Strategy<Value = (Option<Value>, Option<i64>)> {
    prop_oneof![
        Just((None, None)),
        Just((Some(Value::Null), None)),
        range
            .clone()
            .prop_map(|n| (Some(json!(n.to_string())), Some(n))),
        range.clone().prop_map(|n| (Some(json!(n)), Some(n))),
        // Exact: every range used here fits in f64's 53-bit mantissa.
        range.prop_map(|n| (Some(json!(n as f64)), Some(n))),
    ]
}

fn text_field() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        "\\PC{0,20}".prop_map(|text| Some(json!(text))),
        "&(amp|lt|gt|quot|#39|#x26);\\PC{0,5}".prop_map(|text| Some(json!(text))),
        any::<i64>().prop_map(|n| Some(json!(n))),
    ]
}

/// The hash field and the hash a row keeps, if the row is kept at all.
fn hash_field() -> impl Strategy<Value = (Option<Value>, Option<InfoHash>)> {
    prop_oneof![
        4 => written_hash().prop_map(|(hash, text)| (Some(json!(text)), Some(hash))),
        1 => Just((Some(json!("0".repeat(40))), None)),
        // The `!` keeps it from being a valid hash by chance.
        1 => "!\\PC{0,44}".prop_map(|text| (Some(json!(text)), None)),
        1 => Just((None, None)),
    ]
}

/// One row and what torrentql should make of it.
#[derive(Debug, Clone)]
struct ApibayRow {
    json: Value,
    hash: Option<InfoHash>,
    seeders: Option<i64>,
    size: Option<i64>,
}

fn apibay_row() -> impl Strategy<Value = ApibayRow> {
    (
        hash_field(),
        count_field(0..=3),
        count_field(-5..=1 << 40),
        count_field(-5..=1 << 40),
        count_field(-5..=100),
        count_field(-5..=2_000_000_000),
        (
            text_field(),
            text_field(),
            text_field(),
            text_field(),
            text_field(),
        ),
    )
        .prop_map(|(hash, id, seeders, size, files, added, texts)| {
            let (name, username, status, category, imdb) = texts;
            let mut row = serde_json::Map::new();
            for (key, value) in [
                ("info_hash", hash.0),
                ("id", id.0),
                ("leechers", seeders.0.clone()),
                ("seeders", seeders.0),
                ("size", size.0),
                ("num_files", files.0),
                ("added", added.0),
                ("name", name),
                ("username", username),
                ("status", status),
                ("category", category),
                ("imdb", imdb),
            ] {
                if let Some(value) = value {
                    row.insert(key.to_owned(), value);
                }
            }
            ApibayRow {
                json: Value::Object(row),
                // apibay's "no results" row has id 0.
                hash: hash.1.filter(|hash| !hash.is_zero() && id.1 != Some(0)),
                seeders: seeders.1,
                size: size.1,
            }
        })
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn apibay_rows_keep_their_hashes_and_counts(
        rows in proptest::collection::vec(apibay_row(), 0..6),
    ) {
        let body = rows.iter().map(|row| row.json.clone()).collect::<Value>().to_string();
        invariants::apibay(body.as_bytes());
        let parsed = apibay::parse(body.as_bytes())
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        let kept: Vec<&ApibayRow> = rows.iter().filter(|row| row.hash.is_some()).collect();
        prop_assert_eq!(parsed.len(), kept.len());
        for (parsed, row) in parsed.iter().zip(kept) {
            prop_assert_eq!(Some(parsed.info_hash), row.hash);
            prop_assert_eq!(parsed.seeders, row.seeders.map_or(0, |n| n.max(0).unsigned_abs()));
            prop_assert_eq!(parsed.size, row.size.map_or(0, |n| n.max(0)));
        }
    }

    #[test]
    fn damaged_apibay_answers_never_panic(
        rows in proptest::collection::vec(apibay_row(), 0..4),
        damage in damage(),
    ) {
        let body = rows.into_iter().map(|row| row.json).collect::<Value>().to_string();
        invariants::apibay(&damaged(body.into_bytes(), damage));
    }
}

// ---------------------------------------------------------------------------
// Torznab

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// One feed item and what torrentql should read from it.
#[derive(Debug, Clone)]
struct TorznabItem {
    title: String,
    seeders: u64,
    size: i64,
    hash: InfoHash,
    hash_text: String,
    link: String,
    seeders_attr: &'static str,
}

impl TorznabItem {
    fn xml(&self) -> String {
        format!(
            "<item><title>{}</title><link>{}</link>\
             <torznab:attr name=\"{}\" value=\"{}\"/>\
             <torznab:attr name=\"size\" value=\"{}\"/>\
             <torznab:attr name=\"infohash\" value=\"{}\"/></item>",
            xml_escape(&self.title),
            xml_escape(&self.link),
            self.seeders_attr,
            self.seeders,
            self.size,
            xml_escape(&self.hash_text),
        )
    }
}

fn torznab_item() -> impl Strategy<Value = TorznabItem> {
    (
        "\\PC{0,30}",
        any::<u64>(),
        -5i64..=1 << 40,
        written_hash(),
        prop_oneof![
            "http://127\\.0\\.0\\.1/dl\\?id=[0-9]{1,4}&file=\\PC{0,10}",
            "magnet:\\?xt=urn:btih:[0-9a-f]{40}&dn=\\PC{0,10}",
        ],
        prop::sample::select(vec!["seeders", "Seeders", "SEEDERS"]),
    )
        .prop_map(
            |(title, seeders, size, (hash, hash_text), link, seeders_attr)| TorznabItem {
                title,
                seeders,
                size,
                hash,
                hash_text,
                link,
                seeders_attr,
            },
        )
}

fn torznab_feed(items: &[TorznabItem], byte_order_mark: bool) -> Vec<u8> {
    let mut feed = String::new();
    if byte_order_mark {
        feed.push('\u{feff}');
    }
    feed.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <rss version=\"1.0\" xmlns:torznab=\"http://torznab.com/schemas/2015/feed\"><channel>",
    );
    for item in items {
        feed.push_str(&item.xml());
    }
    feed.push_str("</channel></rss>");
    feed.into_bytes()
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn torznab_items_keep_titles_attrs_and_hashes(
        items in proptest::collection::vec(torznab_item(), 0..5),
        byte_order_mark in any::<bool>(),
    ) {
        let body = torznab_feed(&items, byte_order_mark);
        invariants::torznab(&body);
        let parsed = torznab::parse(&body).map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert_eq!(parsed.len(), items.len());
        for (parsed, item) in parsed.iter().zip(&items) {
            // Titles are HTML-decoded once more (trackers double-escape),
            // so only a title without `&` comes back verbatim.
            if !item.title.contains('&') {
                prop_assert_eq!(parsed.title.as_str(), item.title.trim());
            }
            prop_assert_eq!(parsed.seeders, Some(item.seeders));
            prop_assert_eq!(parsed.size, Some(item.size).filter(|size| *size > 0));
            prop_assert_eq!(parsed.info_hash, Some(item.hash));
            let is_magnet = item.link.starts_with("magnet:");
            prop_assert_eq!(parsed.magnet.is_some(), is_magnet);
            prop_assert_eq!(
                parsed.download_url.as_deref(),
                Some(item.link.trim()).filter(|_| !is_magnet)
            );
        }
    }

    #[test]
    fn damaged_torznab_feeds_never_panic(
        items in proptest::collection::vec(torznab_item(), 0..3),
        damage in damage(),
    ) {
        invariants::torznab(&damaged(torznab_feed(&items, false), damage));
    }
}

// ---------------------------------------------------------------------------
// Jellyfin

fn virtual_folder() -> impl Strategy<Value = (Value, VirtualFolder)> {
    (
        "\\PC{0,20}",
        proptest::collection::vec("\\PC{0,20}", 0..3),
        proptest::option::of("[a-z]{1,10}"),
        proptest::option::of("[0-9a-f]{32}"),
        any::<bool>(),
    )
        .prop_map(|(name, locations, collection_type, item_id, extra)| {
            let mut json = json!({ "Name": &name, "Locations": &locations });
            if let Some(kind) = &collection_type {
                json["CollectionType"] = json!(kind);
            }
            if let Some(id) = &item_id {
                json["ItemId"] = json!(id);
            }
            if extra {
                json["LibraryOptions"] =
                    json!({ "PathInfos": [{ "Path": "/x" }], "Enabled": true });
            }
            let folder = VirtualFolder {
                name,
                locations,
                collection_type,
                item_id,
            };
            (json, folder)
        })
}

/// A login answer and what it should give: the user's name, whether an
/// administrator, or `None` when the user is disabled.
fn login_answer() -> impl Strategy<Value = (Value, String, Option<bool>)> {
    (
        "\\PC{0,20}",
        "[0-9a-f]{32}",
        proptest::option::of((
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
        )),
    )
        .prop_map(|(name, token, policy)| {
            let mut user = json!({ "Name": &name, "Id": "a076a5bfc9034f379f5889bc6dafc77b" });
            let (mut administrator, mut disabled) = (false, false);
            if let Some((is_administrator, is_disabled)) = policy {
                let mut policy = json!({});
                if let Some(value) = is_administrator {
                    policy["IsAdministrator"] = json!(value);
                    administrator = value;
                }
                if let Some(value) = is_disabled {
                    policy["IsDisabled"] = json!(value);
                    disabled = value;
                }
                user["Policy"] = policy;
            }
            let answer = json!({ "User": user, "AccessToken": token, "ServerId": "x" });
            (answer, name, Some(administrator).filter(|_| !disabled))
        })
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn jellyfin_libraries_are_read_as_sent(
        folders in proptest::collection::vec(virtual_folder(), 0..5),
    ) {
        let body = serde_json::to_vec(&folders.iter().map(|(json, _)| json).collect::<Vec<_>>())
            .expect("serialises");
        invariants::jellyfin(&body);
        let expected: Vec<VirtualFolder> = folders.into_iter().map(|(_, folder)| folder).collect();
        prop_assert_eq!(jellyfin::parse_virtual_folders(&body), Ok(expected));
    }

    #[test]
    fn a_jellyfin_login_gives_the_user_or_refuses_a_disabled_one(
        (answer, name, administrator) in login_answer(),
    ) {
        let body = serde_json::to_vec(&answer).expect("serialises");
        invariants::jellyfin(&body);
        match (jellyfin::parse_login(&body), administrator) {
            (Ok(login), Some(administrator)) => {
                prop_assert_eq!(login.user_name, name);
                prop_assert_eq!(login.is_administrator, administrator);
            }
            (Err(JellyfinError::UserDisabled), None) => {}
            (other, _) => {
                prop_assert!(false, "unexpected {:?}", other.map(|login| login.user_name));
            }
        }
    }

    #[test]
    fn damaged_jellyfin_answers_never_panic(
        folders in proptest::collection::vec(virtual_folder(), 0..3),
        (answer, _, _) in login_answer(),
        login in any::<bool>(),
        damage in damage(),
    ) {
        let body = if login {
            serde_json::to_vec(&answer)
        } else {
            serde_json::to_vec(&folders.into_iter().map(|(json, _)| json).collect::<Vec<_>>())
        }
        .expect("serialises");
        invariants::jellyfin(&damaged(body, damage));
    }
}
