//! A torrent's peers, synced incrementally: each list asks
//! `sync/torrentPeers` only for what changed since the last time that
//! torrent's peers were asked for (kept for a few dozen torrents, the
//! least recently asked dropped first); and banning peers.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{Map, Value};

use super::{TorrentService, listed_id, not_found_as};
use crate::clients::qbittorrent::Peer;
use crate::services::ServiceError;
use crate::text::quote;
use crate::torrent::InfoHash;

/// Torrents whose peers are kept between lists.
const KEPT_PEER_LISTS: usize = 64;

/// The peers of the torrents asked about lately.
#[derive(Default)]
pub struct PeerLists(Mutex<HashMap<InfoHash, PeerList>>);

/// One torrent's peers as last synced.
struct PeerList {
    rid: i64,
    /// By `ip:port`, qBittorrent's fields.
    peers: BTreeMap<String, Map<String, Value>>,
    asked: Instant,
}

impl TorrentService {
    /// A torrent's peers now, by address.
    pub async fn peers(&self, hash: InfoHash) -> Result<Vec<Peer>, ServiceError> {
        let id = listed_id(&self.mirror, hash);
        let rid = self.peer_lists.rid(id);
        let data = self
            .qbittorrent
            .torrent_peers(id, rid)
            .await
            .map_err(|error| not_found_as(error, hash))?;
        let mut lists = self.peer_lists.0.lock().expect("peer lists lock");
        let list = lists.entry(id).or_insert_with(|| PeerList {
            rid: 0,
            peers: BTreeMap::new(),
            asked: Instant::now(),
        });
        if data.full_update {
            list.peers.clear();
        }
        for (address, changed) in data.peers {
            list.peers.entry(address).or_default().extend(changed);
        }
        for address in &data.peers_removed {
            list.peers.remove(address);
        }
        list.rid = data.rid;
        list.asked = Instant::now();
        let peers = list
            .peers
            .values()
            .filter_map(|fields| serde_json::from_value(Value::Object(fields.clone())).ok())
            .collect();
        if lists.len() > KEPT_PEER_LISTS
            && let Some(oldest) = lists
                .iter()
                .min_by_key(|(_, list)| list.asked)
                .map(|(id, _)| *id)
        {
            lists.remove(&oldest);
        }
        Ok(peers)
    }

    /// Bans peers (by `ip:port`) for every torrent, in one call, and
    /// answers the addresses banned.
    pub async fn ban_peers(&self, peers: &[String]) -> Result<Vec<SocketAddr>, ServiceError> {
        let addresses = parse_peers(peers)?;
        self.qbittorrent.ban_peers(&addresses).await?;
        tracing::info!(count = addresses.len(), "peers banned");
        Ok(addresses)
    }
}

impl PeerLists {
    /// The `rid` to ask `id`'s peers from: 0 when none are kept.
    fn rid(&self, id: InfoHash) -> i64 {
        let lists = self.0.lock().expect("peer lists lock");
        lists.get(&id).map_or(0, |list| list.rid)
    }
}

/// `ip:port` addresses as the user gave them; at least one.
pub(super) fn parse_peers(peers: &[String]) -> Result<Vec<SocketAddr>, ServiceError> {
    if peers.is_empty() {
        return Err(ServiceError::InvalidInput(
            "give at least one peer as ip:port".to_owned(),
        ));
    }
    peers
        .iter()
        .map(|peer| {
            peer.trim().parse().map_err(|_| {
                ServiceError::InvalidInput(format!(
                    "peer {} is not an ip:port address (e.g. 192.0.2.1:6881 or [2001:db8::1]:6881)",
                    quote(peer)
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_ip_and_port() {
        assert_eq!(
            parse_peers(&[" 127.0.0.1:6881 ".into(), "[::1]:1".into()])
                .unwrap()
                .len(),
            2
        );
        for bad in ["127.0.0.1", "host.example:6881", "1.2.3.4:99999", ""] {
            assert!(parse_peers(&[bad.into()]).is_err(), "{bad:?}");
        }
        assert!(parse_peers(&[]).is_err());
    }
}
