//! Accepting connections: HTTP/1.1 with a header timeout, a bound on open
//! connections, and a graceful stop.
//!
//! A client gets [`ConnectionLimits::header_timeout`] to send each
//! request's headers, the first one and every next one on a keep-alive
//! connection, so a socket that sends nothing, a half-sent header and an
//! idle keep-alive connection are all closed in that time; a write the
//! client does not read for [`WRITE_STALL_TIMEOUT`] ends its connection
//! (websockets included).
//!
//! At most [`ConnectionLimits::max_connections`] are open at once
//! (websockets included, until they close). At the bound, a new connection
//! takes the place of the oldest idle one, so a flood of silent sockets
//! cannot keep `/healthz` out. A connection is busy, and never taken, only
//! while it does work a client cannot get for free: a GraphQL request whose
//! body is in, an answer being written, an authenticated websocket. When
//! every open connection is busy a new one is closed at once. Accepting
//! never stops, not even when the process runs out of file descriptors.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How connections are bounded.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and how
    /// long an idle keep-alive connection stays open.
    pub header_timeout: Duration,
    /// How long a stop waits for requests in flight (the longest a
    /// request may run).
    pub drain_timeout: Duration,
}

/// How long a write may wait for the client to read before its connection
/// is dropped.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How long to wait before accepting again after `accept` failed (out of
/// file descriptors, say): the connections holding them are closed by
/// their timeouts meanwhile.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(50);

/// Failed accepts are logged at most this often.
const ACCEPT_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `stop` is cancelled, then lets
/// every request in flight finish (an idle connection closes at once) and
/// returns when the last connection has closed, or after
/// [`ConnectionLimits::drain_timeout`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: CancellationToken,
) {
    let slots = Arc::new(Slots::new(limits.max_connections));
    let connections = TaskTracker::new();
    let mut last_accept_error: Option<Instant> = None;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    if last_accept_error.is_none_or(|at| at.elapsed() >= ACCEPT_ERROR_LOG_INTERVAL) {
                        tracing::warn!(%error, "cannot accept a connection; trying again");
                        last_accept_error = Some(Instant::now());
                    }
                    tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        let Some(slot) = slots.admit() else {
            tracing::debug!(%peer, "every connection is busy; closing a new one");
            drop(stream);
            continue;
        };
        connections.spawn(serve_connection(
            stream,
            peer,
            slot,
            router.clone(),
            limits.header_timeout,
            stop.clone(),
        ));
    }
    drop(listener);
    connections.close();
    if tokio::time::timeout(limits.drain_timeout, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still busy when the server stopped");
    }
}

/// One connection, until the client closes it, its header timeout passes,
/// a newer connection takes its slot, or the server stops.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    slot: ConnectionSlot,
    router: Router,
    header_timeout: Duration,
    stop: CancellationToken,
) {
    let evicted = slot.0.evicted.clone();
    let service = {
        let slot = slot.clone();
        hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            // Handlers mark their connection busy once it is worth keeping.
            request.extensions_mut().insert(slot.clone());
            let router = router.clone();
            let slot = slot.clone();
            async move {
                let Ok(response) = router.oneshot(request).await;
                // Busy until the last byte of the answer is out.
                let busy = slot.busy();
                Ok::<_, Infallible>(
                    response.map(|body| axum::body::Body::new(BusyBody { body, _busy: busy })),
                )
            }
        })
    };
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(WriteStallTimeout::new(stream)), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let mut stopping = false;
    let served = loop {
        tokio::select! {
            served = connection.as_mut() => break served,
            () = evicted.cancelled() => {
                tracing::debug!(%peer, "closing an idle connection for a newer one");
                return;
            }
            // Finishes the request in flight, then closes.
            () = stop.cancelled(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    };
    if let Err(error) = served {
        tracing::debug!(%peer, %error, "connection ended");
    }
}

/// Raises this process's soft limit on open files to its hard limit, as
/// servers do (the soft limit is often 1,024, below a useful
/// `max_connections`), and returns the limit now in force.
pub fn raise_open_file_limit() -> Option<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        return Some(hard);
    }
    Some(soft)
}

/// A connection's place among the open ones, freed when the last clone
/// is dropped (the connection's, or its websocket's).
#[derive(Clone)]
pub struct ConnectionSlot(Arc<Slot>);

/// `Slot::busy` once a newer connection has taken the slot.
const EVICTED: usize = usize::MAX;

impl ConnectionSlot {
    /// Marks the connection busy (never taken for a newer one) until the
    /// returned guard is dropped; `None` when a newer connection has
    /// already taken its place (it is being closed: do no work for it).
    pub fn busy(&self) -> Option<Busy> {
        self.0
            .busy
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |busy| {
                (busy != EVICTED).then(|| busy + 1)
            })
            .ok()?;
        Some(Busy(self.clone()))
    }

    /// Completes when a newer connection takes this one's place (for a
    /// websocket that is not busy yet).
    pub fn evicted(&self) -> impl Future<Output = ()> + Send + 'static + use<> {
        self.0.evicted.clone().cancelled_owned()
    }
}

/// Keeps a connection busy, and its slot taken, while it lives.
pub struct Busy(ConnectionSlot);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An answer's body, keeping its connection busy until it is sent.
struct BusyBody {
    body: axum::body::Body,
    _busy: Option<Busy>,
}

impl http_body::Body for BusyBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

struct Slot {
    id: u64,
    slots: Arc<Slots>,
    /// Requests in flight and websockets: while above zero the connection
    /// is not taken for a newer one.
    busy: Arc<AtomicUsize>,
    /// Cancelled when a newer connection takes this one's place.
    evicted: CancellationToken,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.release(self.id);
    }
}

/// The open connections, oldest first.
struct Slots {
    max: usize,
    open: Mutex<SlotsState>,
}

#[derive(Default)]
struct SlotsState {
    next_id: u64,
    /// How busy each is, and how to close it, by id, which grows with
    /// age: the first is the oldest.
    by_id: BTreeMap<u64, (Arc<AtomicUsize>, CancellationToken)>,
}

impl Slots {
    fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            open: Mutex::default(),
        }
    }

    /// A slot for a new connection, taking the oldest idle one's place at
    /// the bound; `None` when every open connection is busy.
    fn admit(self: &Arc<Self>) -> Option<ConnectionSlot> {
        let mut open = self.open.lock().expect("slots lock");
        if open.by_id.len() >= self.max {
            // Claimed in one atomic step, so a connection that turns busy
            // meanwhile is never closed under its request.
            let oldest_idle = open
                .by_id
                .iter()
                .find(|(_, (busy, _))| {
                    busy.compare_exchange(0, EVICTED, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                })
                .map(|(id, _)| *id)?;
            if let Some((_, evicted)) = open.by_id.remove(&oldest_idle) {
                evicted.cancel();
            }
        }
        open.next_id += 1;
        let id = open.next_id;
        let busy = Arc::new(AtomicUsize::new(0));
        let evicted = CancellationToken::new();
        open.by_id.insert(id, (Arc::clone(&busy), evicted.clone()));
        drop(open);
        Some(ConnectionSlot(Arc::new(Slot {
            id,
            slots: Arc::clone(self),
            busy,
            evicted,
        })))
    }

    fn release(&self, id: u64) {
        self.open.lock().expect("slots lock").by_id.remove(&id);
    }
}

/// A socket whose writes fail once one has waited [`WRITE_STALL_TIMEOUT`]
/// for the client to read: a client that stops reading holds its
/// connection's buffers that long, then loses the connection.
struct WriteStallTimeout {
    stream: TcpStream,
    /// Running while a write waits.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl WriteStallTimeout {
    fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            stalled: None,
        }
    }

    /// `poll`'s answer, or a time-out error once writes have waited too
    /// long.
    fn bounded<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(Pin<&mut TcpStream>, &mut Context<'_>) -> Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        if let Poll::Ready(done) = poll(Pin::new(&mut self.stream), cx) {
            self.stalled = None;
            return Poll::Ready(done);
        }
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(WRITE_STALL_TIMEOUT)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for WriteStallTimeout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteStallTimeout {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.get_mut()
            .bounded(cx, |stream, cx| stream.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.get_mut()
            .bounded(cx, |stream, cx| stream.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.get_mut()
            .bounded(cx, |stream, cx| stream.poll_shutdown(cx))
    }
}
