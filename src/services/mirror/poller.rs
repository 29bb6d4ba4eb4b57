//! The poller: the one task that keeps the mirror. Full syncs
//! (`sync/maindata?rid=N`) paced by their own cost, so they take at most a
//! set share of qBittorrent's time; between full syncs stretched past the
//! interval, focused polls of the torrents live subscribers watch, at the
//! interval; after a failure, retries with doubling delays and a new sync
//! from scratch.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::TorrentMirror;
use crate::clients::qbittorrent::{
    MainData, QbittorrentClient, QbittorrentError, Torrent, TorrentFilter,
};
use crate::torrent::InfoHash;

/// First retry delay after qBittorrent fails to answer; doubles up to
/// [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(500);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(10);

/// How many recent full syncs' costs set the pace (the slowest of them,
/// unless it is an outlier; see [`pacing_cost`]).
const PACING_SYNCS: usize = 4;

/// A sync that took this many times the median of the others hung (its
/// time was not spent serving it) and does not set the pace alone.
const OUTLIER_FACTOR: u32 = 3;

/// How the poller paces itself.
#[derive(Debug, Clone, Copy)]
pub struct SyncSettings {
    /// The shortest time between two syncs.
    pub interval: Duration,
    /// The largest share of qBittorrent's time torrentql's syncs may take:
    /// a sync that took `d` is followed by a pause of at least `d / share`.
    pub max_busy_share: f64,
}

/// What the poller asks qBittorrent: [`QbittorrentClient`], or a fake in
/// the poller's own tests.
pub trait SyncSource: Send + Sync + 'static {
    /// Opens a session if there is none (a login is not part of a sync's
    /// cost: qBittorrent spends ~0.1 s of PBKDF2 on one, which would
    /// otherwise stretch the next few periods).
    fn connect(&self) -> impl Future<Output = Result<(), QbittorrentError>> + Send;

    /// What changed since `rid` (0 for everything).
    fn maindata(&self, rid: i64)
    -> impl Future<Output = Result<MainData, QbittorrentError>> + Send;

    /// The torrents in `hashes`, as they are now.
    fn torrents(
        &self,
        hashes: &[InfoHash],
    ) -> impl Future<Output = Result<Vec<Torrent>, QbittorrentError>> + Send;
}

impl SyncSource for QbittorrentClient {
    async fn connect(&self) -> Result<(), QbittorrentError> {
        self.api_version().await.map(|_| ())
    }

    async fn maindata(&self, rid: i64) -> Result<MainData, QbittorrentError> {
        self.sync_maindata(rid).await
    }

    async fn torrents(&self, hashes: &[InfoHash]) -> Result<Vec<Torrent>, QbittorrentError> {
        QbittorrentClient::torrents(self, TorrentFilter::All, None, Some(hashes)).await
    }
}

impl TorrentMirror {
    /// The poller: keeps the mirror from `source` until `shutdown`.
    pub async fn run<S: SyncSource>(self: Arc<Self>, source: Arc<S>, shutdown: CancellationToken) {
        let mut pacing = Pacing::new(self.settings);
        let mut rid = 0;
        let mut retry_delay = FIRST_RETRY_DELAY;
        loop {
            let number = self.write().begin_sync();
            let started = Instant::now();
            let result = tokio::select! {
                result = sync(&*source, rid) => result,
                () = shutdown.cancelled() => return,
            };
            let next_full = match result {
                Ok((data, cost)) => {
                    rid = data.rid;
                    retry_delay = FIRST_RETRY_DELAY;
                    self.apply(data, number);
                    let period = pacing.period(cost);
                    let mut health = self.health();
                    if period > self.settings.interval && health.period == self.settings.interval {
                        tracing::debug!(?cost, ?period, "sync is slow; stretching the interval");
                    }
                    health.period = period;
                    started + period
                }
                Err(error) => {
                    // Start over from scratch when it comes back.
                    rid = 0;
                    if self.status.borrow().connected {
                        tracing::warn!(%error, "qBittorrent stopped answering; the mirror is stale");
                    }
                    self.disconnected(error.to_string());
                    let delay = retry_delay;
                    retry_delay = (retry_delay * 2).min(MAX_RETRY_DELAY);
                    Instant::now() + delay
                }
            };
            // The first interval after the sync ended: not one per interval
            // it took, back to back.
            let mut next_focus = started + self.settings.interval;
            while next_focus <= Instant::now() {
                next_focus += self.settings.interval;
            }
            while next_focus < next_full {
                tokio::select! {
                    () = tokio::time::sleep_until(next_focus) => {}
                    () = shutdown.cancelled() => return,
                }
                if let Some(cost) = self.poll_watched(&*source).await {
                    pacing.last_focus_cost = cost;
                }
                next_focus += self.settings.interval;
            }
            tokio::select! {
                () = tokio::time::sleep_until(next_full) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }

    /// Asks qBittorrent for the watched torrents alone and records them;
    /// what that took, when it asked.
    async fn poll_watched(&self, source: &impl SyncSource) -> Option<Duration> {
        let hashes = self.watched()?;
        if !self.status.borrow().connected {
            return None;
        }
        let started = Instant::now();
        let polled = source.torrents(&hashes).await;
        let cost = started.elapsed();
        match polled {
            Ok(torrents) => {
                let listed: HashSet<InfoHash> =
                    torrents.iter().map(|torrent| torrent.hash).collect();
                for torrent in &torrents {
                    self.record(torrent);
                }
                let gone: Vec<InfoHash> = {
                    let state = self.read();
                    hashes
                        .into_iter()
                        .filter(|hash| !listed.contains(hash) && state.shows(hash))
                        .collect()
                };
                for hash in gone {
                    self.forget(hash);
                }
            }
            Err(error) => {
                tracing::debug!(%error, "focused poll failed; the next full sync will tell");
            }
        }
        Some(cost)
    }
}

/// One full sync, and what it cost (the login before it aside).
async fn sync(
    source: &impl SyncSource,
    rid: i64,
) -> Result<(MainData, Duration), QbittorrentError> {
    source.connect().await?;
    let started = Instant::now();
    let data = source.maindata(rid).await?;
    Ok((data, started.elapsed()))
}

/// What recent syncs cost, and the period that follows from it.
struct Pacing {
    settings: SyncSettings,
    /// What the last few full syncs took. The slowest sets the pace, as a
    /// sync can take twice as long as the one before it (qBittorrent 4.5
    /// at 10,000 torrents: 4 to 10 s); but not one call that hung
    /// (qBittorrent stopped, then continued), which is not what
    /// qBittorrent spends serving syncs.
    recent_full_costs: VecDeque<Duration>,
    /// How long the last focused poll took: its share of qBittorrent's time
    /// comes out of the full sync's budget.
    last_focus_cost: Duration,
}

impl Pacing {
    fn new(settings: SyncSettings) -> Self {
        Self {
            settings,
            recent_full_costs: VecDeque::with_capacity(PACING_SYNCS),
            last_focus_cost: Duration::ZERO,
        }
    }

    /// Time from the start of one full sync to the start of the next,
    /// after a sync that took `cost`: the configured interval, stretched to
    /// as many intervals as it takes for syncs as slow as the slowest of
    /// the last few (outliers aside, see [`pacing_cost`]) to take at most
    /// `max_busy_share` of qBittorrent's time.
    fn period(&mut self, cost: Duration) -> Duration {
        if self.recent_full_costs.len() == PACING_SYNCS {
            self.recent_full_costs.pop_front();
        }
        self.recent_full_costs.push_back(cost);
        let cost = pacing_cost(&self.recent_full_costs);
        let interval = self.settings.interval;
        let share = self.settings.max_busy_share.clamp(0.001, 1.0);
        let focus_share = self.last_focus_cost.as_secs_f64() / interval.as_secs_f64();
        // Focused polls run once per interval between full syncs; what they
        // take, the full sync must leave (but it keeps at least half).
        let full_share = (share - focus_share).max(share / 2.0);
        // A whole number of intervals: the focused polls take the ones in
        // between, so qBittorrent sees one request per interval, never a
        // poll and a full sync a fraction of an interval apart.
        let intervals = cost
            .div_f64(full_share)
            .as_nanos()
            .div_ceil(interval.as_nanos());
        interval * u32::try_from(intervals.max(1)).unwrap_or(u32::MAX)
    }
}

/// The cost that sets the pace: the slowest of `costs`, unless it took
/// more than [`OUTLIER_FACTOR`] times the median of the others: then the
/// next slowest. One sync that hung is ignored; two slow ones in a row (a
/// qBittorrent that really got slower) set the pace.
fn pacing_cost(costs: &VecDeque<Duration>) -> Duration {
    let mut sorted: Vec<Duration> = costs.iter().copied().collect();
    sorted.sort_unstable();
    let Some((&slowest, others)) = sorted.split_last() else {
        return Duration::ZERO;
    };
    match others.get(others.len() / 2) {
        Some(&median) if slowest > median * OUTLIER_FACTOR => others[others.len() - 1],
        _ => slowest,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use futures::StreamExt;
    use serde_json::json;

    use super::super::Matching;
    use super::super::testing::*;
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_slowest_recent_full_sync_sets_the_pace_unless_it_is_an_outlier() {
        let mut pacing = Pacing::new(SETTINGS);
        let fast = Duration::from_millis(20);
        assert_eq!(
            pacing.period(fast),
            SECOND,
            "a fast sync runs at the interval"
        );
        assert_eq!(
            pacing.period(4 * SECOND),
            SECOND,
            "one slow sync alone is an outlier"
        );
        // 10% of qBittorrent's time: 4 s syncs are followed by 40 s periods.
        assert_eq!(pacing.period(4 * SECOND), 40 * SECOND);
        assert_eq!(
            pacing.period(SECOND),
            40 * SECOND,
            "one fast sync does not undo the pace slow ones set"
        );
        pacing.period(SECOND);
        assert_eq!(pacing.period(SECOND), 10 * SECOND, "the slow ones aged out");
    }

    #[test]
    fn a_sync_that_hung_does_not_stretch_the_period() {
        let mut pacing = Pacing::new(SETTINGS);
        for _ in 0..3 {
            pacing.period(Duration::from_millis(20));
        }
        // qBittorrent stopped for 30 s and continued: the call in flight
        // took 9.7 s, none of it spent serving the sync.
        assert_eq!(pacing.period(Duration::from_millis(9_700)), SECOND);
    }

    #[test]
    fn a_stretched_period_is_a_whole_number_of_intervals() {
        // 10% of 120 ms is 1.2 s: rounded up to two 1 s intervals, so a
        // focused poll at 1 s is not followed by a full sync at 1.2 s.
        let mut pacing = Pacing::new(SETTINGS);
        assert_eq!(pacing.period(Duration::from_millis(120)), 2 * SECOND);
    }

    #[test]
    fn focused_polls_take_their_share_from_the_full_syncs() {
        let mut pacing = Pacing::new(SETTINGS);
        // 50 ms polls each interval leave 5% for the full sync: a 200 ms
        // sync then needs 4 s, not 2.
        pacing.last_focus_cost = Duration::from_millis(50);
        assert_eq!(pacing.period(Duration::from_millis(200)), 4 * SECOND);
    }

    /// What the poller asked, and when (on the test's paused clock).
    #[derive(Debug, Clone, PartialEq)]
    enum Call {
        Maindata { rid: i64 },
        Torrents(Vec<InfoHash>),
    }

    /// A qBittorrent holding torrent `A`, whose syncs take `cost` and
    /// which fails while `failing` is set.
    struct FakeQbittorrent {
        cost: Mutex<Duration>,
        failing: Mutex<bool>,
        calls: Mutex<Vec<(Instant, Call)>>,
        started: Instant,
    }

    impl FakeQbittorrent {
        fn new(cost: Duration) -> Arc<Self> {
            Arc::new(Self {
                cost: Mutex::new(cost),
                failing: Mutex::new(false),
                calls: Mutex::default(),
                started: Instant::now(),
            })
        }

        fn call(&self, call: Call) {
            self.calls.lock().unwrap().push((Instant::now(), call));
        }

        /// When each call of a kind was made, from the start.
        fn times(&self, is_kind: impl Fn(&Call) -> bool) -> Vec<Duration> {
            self.calls
                .lock()
                .unwrap()
                .iter()
                .filter(|(_, call)| is_kind(call))
                .map(|(at, _)| *at - self.started)
                .collect()
        }

        fn full_syncs(&self) -> Vec<Duration> {
            self.times(|call| matches!(call, Call::Maindata { .. }))
        }

        fn rids(&self) -> Vec<i64> {
            self.calls
                .lock()
                .unwrap()
                .iter()
                .filter_map(|(_, call)| match call {
                    Call::Maindata { rid } => Some(*rid),
                    Call::Torrents(_) => None,
                })
                .collect()
        }
    }

    impl SyncSource for FakeQbittorrent {
        async fn connect(&self) -> Result<(), QbittorrentError> {
            Ok(())
        }

        async fn maindata(&self, rid: i64) -> Result<MainData, QbittorrentError> {
            self.call(Call::Maindata { rid });
            if *self.failing.lock().unwrap() {
                return Err(QbittorrentError::Unavailable(
                    "connection refused".to_owned(),
                ));
            }
            let cost = *self.cost.lock().unwrap();
            tokio::time::sleep(cost).await;
            Ok(maindata(json!({
                "rid": rid + 1,
                "full_update": rid == 0,
                "torrents": { A: { "name": "a", "progress": 0.5 } },
            })))
        }

        async fn torrents(&self, hashes: &[InfoHash]) -> Result<Vec<Torrent>, QbittorrentError> {
            self.call(Call::Torrents(hashes.to_vec()));
            Ok(vec![torrent(
                json!({ "hash": A, "name": "a", "progress": 0.6 }),
            )])
        }
    }

    /// Runs the poller against `fake` for `how_long` of paused time.
    async fn poll_for(
        mirror: &Arc<TorrentMirror>,
        fake: &Arc<FakeQbittorrent>,
        how_long: Duration,
    ) {
        let shutdown = CancellationToken::new();
        let poller = tokio::spawn(Arc::clone(mirror).run(Arc::clone(fake), shutdown.clone()));
        tokio::time::sleep(how_long).await;
        shutdown.cancel();
        poller.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn fast_syncs_run_once_an_interval() {
        let mirror = mirror();
        let fake = FakeQbittorrent::new(Duration::from_millis(20));
        poll_for(&mirror, &fake, Duration::from_millis(4_500)).await;
        assert_eq!(
            fake.full_syncs(),
            (0..5).map(|n| n * SECOND).collect::<Vec<_>>()
        );
        assert_eq!(
            fake.rids(),
            vec![0, 1, 2, 3, 4],
            "each sync goes on from the last"
        );
        assert_eq!(mirror.sync_period(), SECOND);
        assert!(mirror.is_fresh());
    }

    #[tokio::test(start_paused = true)]
    async fn slow_syncs_are_spaced_out_and_focused_polls_fill_the_intervals() {
        let mirror = mirror();
        let fake = FakeQbittorrent::new(4 * SECOND);
        let watcher = tokio::spawn({
            let mut events =
                Box::pin(mirror.progress(Some(HashSet::from([hash(A)])), Matching::everything()));
            async move { while events.next().await.is_some() {} }
        });
        poll_for(&mirror, &fake, Duration::from_millis(86_500)).await;
        watcher.abort();
        // 4 s of every 40 is 10% of qBittorrent's time.
        assert_eq!(
            fake.full_syncs(),
            vec![Duration::ZERO, 40 * SECOND, 80 * SECOND]
        );
        assert_eq!(mirror.sync_period(), 40 * SECOND);
        let polls = fake.times(|call| *call == Call::Torrents(vec![hash(A)]));
        // None while a full sync runs (0-4 s, 40-44 s, 80-84 s).
        let expected: Vec<Duration> = (5..40)
            .chain(45..80)
            .chain(85..=86)
            .map(|n| n * SECOND)
            .collect();
        assert_eq!(
            polls, expected,
            "one focused poll each interval between full syncs"
        );
        assert!((listed(&mirror)[&hash(A)].progress - 0.6).abs() < f64::EPSILON);
    }

    #[tokio::test(start_paused = true)]
    async fn without_watchers_there_are_no_focused_polls() {
        let mirror = mirror();
        let fake = FakeQbittorrent::new(4 * SECOND);
        poll_for(&mirror, &fake, 45 * SECOND).await;
        assert_eq!(fake.full_syncs(), vec![Duration::ZERO, 40 * SECOND]);
        assert!(
            fake.times(|call| matches!(call, Call::Torrents(_)))
                .is_empty()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_qbittorrent_is_retried_with_doubling_delays_and_resynced_from_scratch() {
        let mirror = mirror();
        let fake = FakeQbittorrent::new(Duration::ZERO);
        let shutdown = CancellationToken::new();
        let poller = tokio::spawn(Arc::clone(&mirror).run(Arc::clone(&fake), shutdown.clone()));
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        *fake.failing.lock().unwrap() = true;
        // Fails at 3 s, then is retried 0.5, 1, 2, 4, 8, 10 and 10 s later.
        tokio::time::sleep(Duration::from_millis(38_600)).await;
        assert!(!mirror.is_fresh());
        assert_eq!(
            mirror.readiness().map_err(|unready| unready.class()),
            Err("qbittorrent_unavailable")
        );
        *fake.failing.lock().unwrap() = false;
        tokio::time::sleep(Duration::from_secs(12)).await;
        shutdown.cancel();
        poller.await.unwrap();

        let millis =
            |times: Vec<Duration>| -> Vec<u128> { times.iter().map(Duration::as_millis).collect() };
        assert_eq!(
            millis(fake.full_syncs()),
            vec![
                0, 1_000, 2_000, 3_000, 3_500, 4_500, 6_500, 10_500, 18_500, 28_500, 38_500,
                48_500, 49_500, 50_500, 51_500, 52_500
            ]
        );
        assert_eq!(
            fake.rids(),
            vec![0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4],
            "after a failure the sync starts over from rid 0"
        );
        assert!(mirror.is_fresh());
    }
}
