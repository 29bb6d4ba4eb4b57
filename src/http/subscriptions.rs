//! Websocket subscriptions on `/graphql`, in both protocols:
//! `graphql-transport-ws` (the `graphql-ws` library) and the legacy
//! `graphql-ws` (subscriptions-transport-ws).
//!
//! The token comes in the `connection_init` payload, as
//! `{"Authorization": "Bearer ..."}` or `{"token": "..."}`. It is checked
//! here, before async-graphql sees the connection, so that a connection
//! without a valid admin token is refused with the protocol's own close
//! code (4403) rather than a generic protocol error. On shutdown every
//! socket gets a 1001 "going away" close frame.

use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{WebSocketProtocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};

use super::AppState;
use super::connections::ConnectionSlot;
use crate::auth::Authentication;
use crate::graphql::{ParsedQueries, Prepared};

/// Largest message a client may send: subscriptions are small, and the
/// first message is read before the client is authenticated.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Read and write buffers per socket; larger messages still pass, in more
/// system calls.
pub const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

/// Refusals waiting to be sent before the client's next message is read.
const REFUSALS_QUEUED: usize = 4;

/// How long a client has to send `connection_init` (graphql-ws's default).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(3);

/// graphql-transport-ws close codes.
const FORBIDDEN: u16 = 4403;
const INIT_TIMED_OUT: u16 = 4408;
const BAD_REQUEST: u16 = 4400;
/// RFC 6455: a normal closure.
const NORMAL_CLOSURE: u16 = 1000;
/// RFC 6455: the server is going away.
const GOING_AWAY: u16 = 1001;

/// Serves one upgraded connection until the client leaves or the server
/// shuts down. Until `connection_init` is accepted, a newer connection may
/// take `slot`; after, the connection is busy.
///
/// What waits for a subscriber that does not read is one message (events
/// meanwhile turn into a fresh snapshot, as for any subscriber that falls
/// behind); its connection is dropped once a write has waited
/// [`super::connections::WRITE_STALL_TIMEOUT`].
pub async fn serve_socket(
    socket: WebSocket,
    state: AppState,
    protocol: WebSocketProtocols,
    slot: Option<ConnectionSlot>,
) {
    let (mut sink, mut incoming) = socket.split();

    let evicted = slot.as_ref().map(ConnectionSlot::evicted);
    let evicted = async move {
        match evicted {
            Some(evicted) => evicted.await,
            None => std::future::pending().await,
        }
    };
    let first = tokio::select! {
        first = tokio::time::timeout(INIT_TIMEOUT, incoming.next()) => first,
        () = evicted => return,
    };
    let init = match first {
        Ok(Some(Ok(Message::Text(text)))) => text.to_string(),
        Ok(Some(Ok(Message::Binary(bytes)))) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(_) => return,
        Err(_) => {
            close(
                &mut sink,
                INIT_TIMED_OUT,
                "connection initialisation timeout",
            )
            .await;
            return;
        }
    };
    let payload = match serde_json::from_str::<Value>(&init) {
        Ok(message) if message["type"] == "connection_init" => message["payload"].clone(),
        _ => {
            close(
                &mut sink,
                BAD_REQUEST,
                "the first message must be connection_init",
            )
            .await;
            return;
        }
    };
    let authentication = authenticate(&state, &payload);
    if let Some(reason) = connection_refusal(&authentication) {
        tracing::debug!(%reason, "refusing a websocket connection");
        if protocol == WebSocketProtocols::SubscriptionsTransportWS {
            let error = json!({ "type": "connection_error", "payload": { "message": reason } });
            let _ = sink.send(Message::Text(error.to_string().into())).await;
        }
        close(&mut sink, FORBIDDEN, "Forbidden").await;
        return;
    }
    let _busy = match &slot {
        Some(slot) => match slot.busy() {
            Some(busy) => Some(busy),
            // Taken by a newer connection a moment ago.
            None => return,
        },
        None => None,
    };

    let shutdown = state.shutdown.clone();
    // Refusals of subscriptions whose query is not prepared, answered
    // beside async-graphql's own messages.
    let (refusals, mut refused) = tokio::sync::mpsc::channel::<String>(REFUSALS_QUEUED);
    let queries = std::sync::Arc::clone(&state.parsed_queries);
    // Set when the client sends its Close frame (rather than the protocol
    // ending, as after subscriptions-transport-ws's connection_terminate).
    let client_closed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let saw_close = std::sync::Arc::clone(&client_closed);
    let input = futures::stream::once(async move { init.into_bytes() }).chain(
        incoming
            .take_until(shutdown.clone().cancelled_owned())
            .take_while(move |message| {
                if matches!(message, Ok(Message::Close(_))) {
                    saw_close.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                std::future::ready(matches!(
                    message,
                    Ok(Message::Text(_) | Message::Binary(_) | Message::Ping(_) | Message::Pong(_))
                ))
            })
            .filter_map(move |message| {
                let queries = std::sync::Arc::clone(&queries);
                let refusals = refusals.clone();
                async move {
                    let bytes = match message {
                        Ok(Message::Text(text)) => text.as_bytes().to_vec(),
                        Ok(Message::Binary(bytes)) => bytes.to_vec(),
                        _ => return None,
                    };
                    match refusal(&queries, protocol, &bytes).await {
                        Some(refusal) => {
                            // Waiting here holds back reading the client.
                            let _ = refusals.send(refusal).await;
                            None
                        }
                        None => Some(bytes),
                    }
                }
            }),
    );
    let mut data = Data::default();
    data.insert(authentication);
    let output = async_graphql::http::WebSocket::new(state.schema.clone(), input, protocol)
        .on_connection_init(move |_| async move { Ok(data) });
    let mut output = std::pin::pin!(output);
    loop {
        let message = tokio::select! {
            message = output.next() => match message {
                Some(message) => message,
                None => break,
            },
            Some(refusal) = refused.recv() => WsMessage::Text(refusal),
        };
        match message {
            WsMessage::Text(text) => {
                if sink.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            WsMessage::Close(code, reason) => {
                close(&mut sink, code, &reason).await;
                return;
            }
        }
    }
    if shutdown.is_cancelled() {
        close(&mut sink, GOING_AWAY, "server shutting down").await;
    } else if !client_closed.load(std::sync::atomic::Ordering::Relaxed) {
        // The protocol ended the connection: a normal closure, sent
        // before the socket goes (else the client sees 1006).
        close(&mut sink, NORMAL_CLOSURE, "").await;
    } else {
        // The client closed: the websocket library has queued the answer
        // to its Close frame (its own code echoed), sent once flushed.
        // Without it the client sees 1006, an abnormal closure.
        let _ = sink.close().await;
    }
}

/// Reads the token from a `connection_init` payload.
fn authenticate(state: &AppState, payload: &Value) -> Authentication {
    let header = ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload[key].as_str());
    if let Some(header) = header {
        return state.auth.authenticate_header(Some(header));
    }
    match payload["token"].as_str() {
        Some(token) => state.auth.authenticate_token(token),
        None => Authentication::Anonymous,
    }
}

/// Why the connection is refused, if it is.
fn connection_refusal(authentication: &Authentication) -> Option<String> {
    match authentication {
        Authentication::Anonymous => {
            Some("an admin token is required in the connection_init payload".to_owned())
        }
        other => other.admin_claims().err().map(|denied| denied.to_string()),
    }
}

/// The answer refusing a `subscribe` (`start` in the legacy protocol)
/// message whose query does not parse or is outside the shape limits, as
/// HTTP requests are refused; `None` for any other message, which
/// async-graphql handles.
async fn refusal(
    queries: &ParsedQueries,
    protocol: WebSocketProtocols,
    message: &[u8],
) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Subscribe {
        #[serde(rename = "type")]
        kind: String,
        id: String,
        payload: Payload,
    }
    #[derive(serde::Deserialize)]
    struct Payload {
        query: String,
    }
    let subscribe: Subscribe = serde_json::from_slice(message).ok()?;
    if !matches!(subscribe.kind.as_str(), "subscribe" | "start") {
        return None;
    }
    let error = match queries.prepare(&subscribe.payload.query).await {
        Prepared::Document(_) => return None,
        Prepared::Refused(error) => {
            // Not an HTTP answer: the error log does not see it.
            error.log("");
            error.into_graphql_response()
        }
        Prepared::Unparsable(error) => async_graphql::Response::from_errors(vec![error]),
    };
    let errors = serde_json::to_value(super::graphql::code_request_errors(error).errors).ok()?;
    let payload = match protocol {
        WebSocketProtocols::GraphQLWS => errors,
        // subscriptions-transport-ws sends one error object.
        WebSocketProtocols::SubscriptionsTransportWS => errors.get(0).cloned()?,
    };
    Some(json!({ "id": subscribe.id, "type": "error", "payload": payload }).to_string())
}

async fn close(sink: &mut futures::stream::SplitSink<WebSocket, Message>, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
    let _ = sink.close().await;
}
