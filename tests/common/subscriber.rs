//! Websocket subscribers run by node with the real client libraries
//! (`tests/clients/subscribe.mjs`), read line by line.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// The two websocket protocols.
#[derive(Debug, Clone, Copy)]
pub enum Protocol {
    /// `graphql-transport-ws`, spoken by the `graphql-ws` library.
    GraphqlTransportWs,
    /// `graphql-ws`, spoken by the legacy `subscriptions-transport-ws`.
    LegacyGraphqlWs,
}

/// A node process holding one or more subscriptions.
pub struct Subscriber {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Subscriber {
    /// Subscribes `subscribers` clients to `query` at `ws_url`.
    pub fn start(
        ws_url: &str,
        protocol: Protocol,
        connection_params: Value,
        query: &str,
        subscribers: usize,
    ) -> Self {
        super::node::assert_installed();
        let options = json!({
            "url": ws_url,
            "query": query,
            "protocol": match protocol {
                Protocol::GraphqlTransportWs => "graphql-transport-ws",
                Protocol::LegacyGraphqlWs => "graphql-ws",
            },
            "connectionParams": connection_params,
            "subscribers": subscribers,
            "quiet": subscribers > 1,
        });
        let mut child = Command::new("node")
            .arg(super::node::clients_dir().join("subscribe.mjs"))
            .arg(options.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot run node ({error}): {}", super::node::INSTALL_HINT)
            });
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Self { child, lines }
    }

    /// The next line, or panics after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Value {
        match tokio::time::timeout(timeout, self.lines.next_line()).await {
            Ok(Ok(Some(line))) => serde_json::from_str(&line).expect("JSON line"),
            Ok(other) => panic!("the subscriber ended: {other:?}"),
            Err(_) => panic!("no line from the subscriber within {timeout:?}"),
        }
    }

    /// The next line of `kind`, skipping others.
    pub async fn next_of(&mut self, kind: &str, timeout: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let line = self.next(left).await;
            if line["kind"] == kind {
                return line;
            }
        }
    }

    /// The next `torrentProgress` event (`data.torrentProgress`).
    pub async fn next_progress(&mut self, timeout: Duration) -> Value {
        let mut line = self.next(timeout).await;
        if line["kind"] == "all-subscribed" {
            line = self.next(timeout).await;
        }
        assert_eq!(line["kind"], "next", "expected an event, got {line}");
        line["payload"]["data"]["torrentProgress"].clone()
    }

    /// Whether no event arrives within `wait`.
    pub async fn is_quiet_for(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.next_line()).await {
                Err(_) => return true,
                Ok(Ok(Some(line))) if line.contains("\"all-subscribed\"") => {}
                Ok(_) => return false,
            }
        }
    }

    /// Closes stdin and returns the per-subscriber event counts.
    pub async fn finish(mut self) -> Vec<u64> {
        drop(self.child.stdin.take());
        let counts = self.next_of("counts", Duration::from_secs(10)).await;
        let _ = self.child.wait().await;
        serde_json::from_value(counts["events"].clone()).expect("counts")
    }
}
