//! GraphQL over server-sent events, as the `graphql-sse` protocol's
//! "distinct connections" mode has it: a `POST` (or `GET`) to `/graphql`
//! that accepts `text/event-stream` gets one `next` event per result, then
//! a `complete` event. For a proxy that breaks websockets.
//!
//! Authentication, limits and the checks before running are those of any
//! HTTP request (see [`super::graphql`]); a request refused before it runs
//! gets its errors in one `next` event, as the protocol asks. A
//! subscription streams until its client disconnects; on shutdown the
//! stream ends without `complete`, so clients reconnect as they do after
//! a websocket's 1001.
//!
//! The single connection mode (reservations by `PUT`, operations by
//! `POST` with a token, `DELETE` to stop) is not served.

use std::pin::pin;

use async_graphql::BatchResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};

use super::AppState;
use super::graphql::{Ready, code_request_errors};
use crate::graphql::{HttpAnswers, restore_request_order};

/// The event stream answering `checked`: its results, or the errors that
/// kept it from running.
pub(super) fn stream(
    state: &AppState,
    answers: HttpAnswers,
    checked: Result<Ready, async_graphql::Response>,
) -> Response {
    let results: BoxStream<'static, async_graphql::Response> = match checked {
        Ok(Ready {
            request, document, ..
        }) => {
            let operation_name = request.operation_name.clone();
            state
                .schema
                .execute_stream(answers.prepare(request))
                .map(move |mut response| {
                    restore_request_order(&document, operation_name.as_deref(), &mut response.data);
                    code_request_errors(response)
                })
                .boxed()
        }
        Err(refused) => futures::stream::once(async move { refused }).boxed(),
    };
    Sse::new(events(results, answers, state.shutdown.clone()))
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn events(
    results: BoxStream<'static, async_graphql::Response>,
    answers: HttpAnswers,
    shutdown: tokio_util::sync::CancellationToken,
) -> impl Stream<Item = Result<Event, std::convert::Infallible>> {
    async_stream::stream! {
        let mut results = pin!(results);
        loop {
            let result = tokio::select! {
                result = results.next() => result,
                () = shutdown.cancelled() => return,
            };
            let Some(result) = result else { break };
            match answers.body(BatchResponse::Single(result)) {
                Ok(json) => yield Ok(Event::default().event("next").data(String::from_utf8_lossy(&json))),
                Err(error) => {
                    tracing::error!(%error, "cannot serialize a GraphQL response");
                    return;
                }
            }
        }
        // An empty `data` line: without one, `EventSource` drops the event.
        yield Ok(Event::default().event("complete").data(""));
    }
}
