//! Subscriptions: `torrentProgress`, `torrentCompleted` and
//! `transferUpdates`, served from the one mirror of qBittorrent. A
//! subscription ends, with an `UNAUTHENTICATED` error, when its token
//! expires.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::{Context, Object, Result, SimpleObject, Subscription};
use futures::{Stream, StreamExt};

use super::guards::{AdminGuard, admin_claims};
use super::torrents::{self, Torrent, TorrentWhereInput, Torrents, parse_hash};
use super::transfer::{Transfer, TransferEvent, TransferField, TransferValues};
use crate::error::AppError;
use crate::services::mirror::{Matching, ProgressEvent, TorrentMirror};
use crate::torrent::InfoHash;

/// Progress of the subscribed torrents.
pub struct TorrentProgressEvent(ProgressEvent);

/// Progress of the subscribed torrents.
#[Object]
impl TorrentProgressEvent {
    /// True for the first event, and after a resync or falling behind:
    /// `torrents` is then every matching torrent. False: only the torrents
    /// that changed since the previous event.
    async fn snapshot(&self) -> bool {
        self.0.snapshot
    }

    /// True when this snapshot comes from a mirror that is not fresh
    /// (qBittorrent does not answer, or its last sync is too old): the
    /// torrents are as last synced, and `qbittorrent { error syncPeriod }`
    /// says why. Changes come from syncs, so they are never stale.
    async fn stale(&self) -> bool {
        self.0.stale
    }

    /// In a snapshot, every matching torrent; otherwise the torrents that
    /// changed, with all their fields as they are now.
    async fn torrents(&self) -> Torrents {
        self.0.torrents.iter().cloned().collect()
    }

    /// Hashes of torrents that disappeared since the previous event.
    async fn removed(&self) -> Vec<String> {
        self.0.removed.iter().map(ToString::to_string).collect()
    }
}

/// A torrent finished downloading.
#[derive(SimpleObject)]
pub struct TorrentCompletedEvent {
    /// The torrent, as it was when it completed.
    torrent: Torrent,
}

#[derive(Default)]
pub struct ProgressSubscription;

#[Subscription]
impl ProgressSubscription {
    /// Live progress of the torrents in `hashes` that `where` selects
    /// (every torrent when both are omitted): a snapshot first, then only
    /// changes. A torrent that stops matching `where` (paused, say, under
    /// `where: { state: DOWNLOADING }`) comes in `removed`, and in
    /// `torrents` again once it matches again, so a UI can follow exactly
    /// the list it shows. No event is sent when nothing changed.
    #[graphql(guard = "AdminGuard")]
    async fn torrent_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrents to follow, by `hash`; every torrent when omitted.")]
        hashes: Option<Vec<String>>,
        #[graphql(
            name = "where",
            desc = "Which torrents, as `torrents(where:)` takes it; all when omitted."
        )]
        matching: Option<TorrentWhereInput>,
    ) -> Result<impl Stream<Item = Result<TorrentProgressEvent>> + use<>> {
        let hashes = parse_hashes(hashes)?;
        let matching = match matching {
            Some(matching) => {
                let matcher = torrents::service(ctx)?
                    .matcher(&matching.into())
                    .await
                    .map_err(AppError::from)?;
                Matching::only(move |torrent| matcher.matches(torrent))
            }
            None => Matching::everything(),
        };
        let events = mirror(ctx)?
            .progress(hashes, matching)
            .map(|event| Ok(TorrentProgressEvent(event)));
        until_token_expires(ctx, events)
    }

    /// Fires once for each torrent (in `hashes`, or any) that finishes
    /// downloading.
    #[graphql(guard = "AdminGuard")]
    async fn torrent_completed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrents to watch, by `hash`; every torrent when omitted.")]
        hashes: Option<Vec<String>>,
    ) -> Result<impl Stream<Item = Result<TorrentCompletedEvent>> + use<>> {
        let hashes = parse_hashes(hashes)?;
        let events = mirror(ctx)?.completions(hashes).map(|torrent| {
            Ok(TorrentCompletedEvent {
                torrent: Torrent::new(torrent),
            })
        });
        until_token_expires(ctx, events)
    }

    /// The transfer and server state of qBittorrent: a snapshot first, then
    /// an event after each sync that changes a field the subscription
    /// selects in `transfer` (speeds change about every `sync.interval`
    /// while anything transfers; a subscription to `alternativeSpeedLimits`
    /// alone hears only of that). A snapshot again after qBittorrent comes
    /// back. Each event has the whole state, and `changed` says what
    /// changed.
    #[graphql(guard = "AdminGuard")]
    async fn transfer_updates(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<TransferEvent>> + use<>> {
        let selected = selected_transfer_fields(ctx);
        let mut sent: Option<TransferValues> = None;
        let events = mirror(ctx)?
            .server_state_updates()
            .filter_map(move |update| {
                let transfer = Transfer::from(update.state);
                let values = TransferValues::of(&transfer);
                let changed = values.changed_since(sent.as_ref().filter(|_| !update.snapshot));
                let wanted = update.snapshot
                    || changed.iter().any(|field| {
                        selected
                            .as_ref()
                            .is_none_or(|selected| selected.contains(field))
                    });
                if wanted {
                    sent = Some(values);
                }
                futures::future::ready(wanted.then(|| {
                    Ok(TransferEvent {
                        snapshot: update.snapshot,
                        stale: update.stale,
                        transfer,
                        changed,
                    })
                }))
            });
        until_token_expires(ctx, events)
    }
}

fn mirror(ctx: &Context<'_>) -> Result<Arc<TorrentMirror>> {
    Ok(Arc::clone(ctx.data::<Arc<TorrentMirror>>()?))
}

/// The fields of `transfer` a `transferUpdates` subscription selects
/// (through fragments too); `None` when it selects none of them, so every
/// change counts.
fn selected_transfer_fields(ctx: &Context<'_>) -> Option<HashSet<TransferField>> {
    let selected: HashSet<TransferField> = ctx
        .field()
        .selection_set()
        .filter(|field| field.name() == "transfer")
        .flat_map(|transfer| transfer.selection_set().collect::<Vec<_>>())
        .filter_map(|field| TransferField::named(field.name()))
        .collect();
    (!selected.is_empty()).then_some(selected)
}

fn parse_hashes(hashes: Option<Vec<String>>) -> Result<Option<HashSet<InfoHash>>> {
    Ok(hashes
        .map(|hashes| {
            hashes
                .iter()
                .map(|hash| parse_hash(hash))
                .collect::<Result<HashSet<_>, _>>()
        })
        .transpose()?)
}

/// Passes `events` on until the caller's token expires, then ends with an
/// `UNAUTHENTICATED` error.
fn until_token_expires<T, S>(
    ctx: &Context<'_>,
    events: S,
) -> Result<impl Stream<Item = Result<T>> + Send + 'static + use<T, S>>
where
    T: Send + 'static,
    S: Stream<Item = Result<T>> + Send + 'static,
{
    let expires_in = (admin_claims(ctx)?.exp - chrono::Utc::now().timestamp()).max(0);
    let expiry = tokio::time::sleep(std::time::Duration::from_secs(expires_in.unsigned_abs()));
    Ok(async_stream::stream! {
        tokio::pin!(expiry);
        tokio::pin!(events);
        loop {
            tokio::select! {
                biased;
                () = &mut expiry => {
                    yield Err(AppError::Unauthenticated("the token has expired; subscribe again with a new one".to_owned()).into());
                    break;
                }
                event = events.next() => match event {
                    Some(event) => yield event,
                    None => break,
                },
            }
        }
    })
}
