//! A raw `graphql-transport-ws` client (tokio-tungstenite), for tests that
//! need control the node clients do not give: not reading, sending odd
//! messages, reading close codes.

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::app::TestApp;

/// An open websocket to torrentql.
pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// Opens a `graphql-transport-ws` websocket to `/graphql`, sending nothing.
pub async fn open(app: &TestApp) -> Socket {
    open_with(app, "graphql-transport-ws").await
}

/// Opens a websocket to `/graphql` offering `protocol`, sending nothing.
pub async fn open_with(app: &TestApp, protocol: &str) -> Socket {
    let mut request = app.ws_url().into_client_request().expect("request");
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().expect("header"));
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    socket
}

/// Sends `message` as JSON text.
pub async fn send(socket: &mut Socket, message: &Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .expect("send");
}

/// Opens a websocket and sends `connection_init` with `payload`; the
/// server's first answer.
pub async fn init(app: &TestApp, payload: Value) -> (Socket, Option<Message>) {
    let mut socket = open(app).await;
    send(
        &mut socket,
        &json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    let answer = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
        .await
        .expect("an answer to connection_init within 5 s")
        .and_then(Result::ok);
    (socket, answer)
}
