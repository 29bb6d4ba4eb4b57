//! A TCP proxy that breaks the way to an upstream on demand.
//!
//! Put between torrentql and a real qBittorrent (or a fake indexer or
//! Jellyfin), it passes bytes both ways until the test switches it to
//! another [`Fault`]: answers held back (a slow upstream), connections
//! closed partway through an answer (a crash, a flaky network), the answer
//! to one kind of request lost, or nothing listening (an upstream that is
//! down). It knows nothing of HTTP beyond where a request starts, so
//! torrentql sees exactly what such an upstream looks like on the wire. A
//! new fault applies at once, to open connections too: torrentql keeps its
//! connections alive between calls.
//!
//! qBittorrent refuses a login whose `Host` header names another port than
//! its own, so in front of qBittorrent it goes before an HTTP proxy such as
//! the recording one, which sets the header anew.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;
use url::Url;

/// What the proxy does to the connections it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Bytes pass both ways untouched.
    None,
    /// Requests pass at once (the upstream acts on them), but every chunk
    /// of the upstream's answers is held this long before it is passed on.
    Delay(Duration),
    /// Requests pass; a connection is closed once it has passed this many
    /// bytes of answers since the cut was set (0: as soon as the upstream
    /// starts answering, so the request was acted on but its answer is
    /// lost).
    Cut { after: usize },
    /// Requests starting with this text (`"POST /api/v2/torrents/add "`)
    /// reach the upstream, but their connection closes as the answer
    /// starts: the upstream acted, the client never hears of it. Other
    /// requests pass.
    LoseAnswerTo(&'static str),
    /// Nothing listens: new connections are refused, open ones closed.
    Refuse,
}

/// A running proxy on 127.0.0.1.
pub struct FaultProxy {
    /// The upstream's URL with the proxy's address in it: give this to
    /// torrentql instead.
    pub url: Url,
    address: SocketAddr,
    upstream: SocketAddr,
    fault: watch::Sender<Fault>,
    /// The accept loop, which owns the listener; `None` while refusing.
    accepting: Mutex<Option<JoinHandle<()>>>,
}

impl FaultProxy {
    /// Proxies a free port to `upstream`, passing everything through.
    pub async fn start(upstream: &Url) -> Self {
        let upstream_address = *upstream
            .socket_addrs(|| None)
            .expect("upstream address")
            .first()
            .expect("upstream address");
        let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind");
        let address = listener.local_addr().expect("address");
        let (fault, _) = watch::channel(Fault::None);
        let accepting = tokio::spawn(accept(listener, upstream_address, fault.subscribe()));
        let mut url = upstream.clone();
        url.set_ip_host(address.ip())
            .expect("an http URL has a host");
        url.set_port(Some(address.port()))
            .expect("an http URL has a port");
        Self {
            url,
            address,
            upstream: upstream_address,
            fault,
            accepting: Mutex::new(Some(accepting)),
        }
    }

    /// Switches to `fault`. Returns once it holds: after [`Fault::Refuse`]
    /// nothing listens and no connection is open; after anything else the
    /// port accepts again.
    pub async fn set(&self, fault: Fault) {
        let mut accepting = self.accepting.lock().await;
        self.fault.send_replace(fault);
        match (fault, accepting.take()) {
            (Fault::Refuse, Some(task)) => {
                task.abort();
                // The aborted task drops the listener it owns.
                let _ = task.await;
            }
            (Fault::Refuse, None) => {}
            (_, Some(task)) => *accepting = Some(task),
            (_, None) => {
                let listener = relisten(self.address).await;
                *accepting = Some(tokio::spawn(accept(
                    listener,
                    self.upstream,
                    self.fault.subscribe(),
                )));
            }
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(task) = self.accepting.get_mut().take() {
            task.abort();
        }
        // Open connections end by themselves once `fault` is dropped.
    }
}

fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    // Connections the proxy closed wait in TIME_WAIT on its port; they
    // must not keep it from listening there again.
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(1024)
}

/// Listens on `address` again after refusing; retries briefly in case an
/// outgoing connection borrowed the free port meanwhile.
async fn relisten(address: SocketAddr) -> TcpListener {
    let mut attempts = 0;
    loop {
        match listen(address) {
            Ok(listener) => return listener,
            Err(_) if attempts < 40 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("cannot listen on {address} again: {error}"),
        }
    }
}

async fn accept(listener: TcpListener, upstream: SocketAddr, fault: watch::Receiver<Fault>) {
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                tokio::spawn(relay(client, upstream, fault.clone()));
            }
            // Out of file descriptors, say: try again shortly.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Carries one connection until either side closes it, or a fault does.
async fn relay(client: TcpStream, upstream: SocketAddr, mut fault: watch::Receiver<Fault>) {
    // An upstream that is down: the client's connection closes unanswered.
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let lose_answer = AtomicBool::new(false);
    tokio::select! {
        () = requests(&mut client_read, &mut server_write, fault.clone(), &lose_answer) => {}
        () = answers(&mut server_read, &mut client_write, fault.clone(), &lose_answer) => {}
        // Also ends when the proxy is dropped.
        _ = fault.wait_for(|fault| *fault == Fault::Refuse) => {}
    }
}

/// Passes the client's requests on, noting one whose answer is to be lost.
async fn requests(
    from: &mut OwnedReadHalf,
    to: &mut OwnedWriteHalf,
    fault: watch::Receiver<Fault>,
    lose_answer: &AtomicBool,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        let chunk = &buffer[..read];
        // A client writes each request's head in one piece, so a request
        // line starts a chunk.
        if let Fault::LoseAnswerTo(start) = *fault.borrow()
            && chunk.starts_with(start.as_bytes())
        {
            lose_answer.store(true, Ordering::Relaxed);
        }
        if to.write_all(chunk).await.is_err() {
            return;
        }
    }
}

/// Passes the upstream's answers on, as the current fault allows.
async fn answers(
    from: &mut OwnedReadHalf,
    to: &mut OwnedWriteHalf,
    mut fault: watch::Receiver<Fault>,
    lose_answer: &AtomicBool,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    let mut passed_since_cut = 0;
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if lose_answer.load(Ordering::Relaxed) {
            return;
        }
        let chunk = &buffer[..read];
        let current = *fault.borrow_and_update();
        if let Fault::Delay(hold) = current {
            tokio::select! {
                () = tokio::time::sleep(hold) => {}
                // A new fault decides what happens to these bytes.
                _ = fault.changed() => {}
            }
        }
        let current = *fault.borrow();
        let pass = match current {
            Fault::None | Fault::Delay(_) | Fault::LoseAnswerTo(_) => chunk.len(),
            Fault::Cut { after } => after.saturating_sub(passed_since_cut).min(chunk.len()),
            Fault::Refuse => return,
        };
        if to.write_all(&chunk[..pass]).await.is_err() {
            return;
        }
        if let Fault::Cut { after } = current {
            passed_since_cut += pass;
            if passed_since_cut >= after {
                return;
            }
        }
    }
}
