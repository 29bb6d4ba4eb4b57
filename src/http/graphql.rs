//! `POST /graphql`: JSON and GraphQL multipart requests, single or batched.
//!
//! async-graphql-axum's extractor reads multipart bodies with no size limit,
//! so the body is read here with the configured upload limit instead. The
//! caller's `Authorization` header is verified once and passed to the
//! schema as request data, where guards read it.

use async_graphql::http::MultipartOptions;
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{BatchRequest, BatchResponse, ParseRequestError};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{StreamExt, TryStreamExt};
use ipnet::IpNet;

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;

use super::AppState;
use super::connections::ConnectionSlot;
use crate::error::AppError;
use crate::graphql::{
    ClientAddress, HttpAnswers, Prepared, introspection_refusal, restore_request_order,
};

/// Runs a GraphQL request (or batch) and answers with its result.
pub async fn execute(State(state): State<AppState>, request: Request) -> Response {
    let authentication = state
        .auth
        .authenticate_header(header(request.headers(), AUTHORIZATION));
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| {
            ClientAddress(client_address(
                peer.ip(),
                request.headers(),
                &state.trusted_proxies,
            ))
        });
    let slot = request.extensions().get::<ConnectionSlot>().cloned();
    let content_type = header(request.headers(), CONTENT_TYPE).map(str::to_owned);
    let supported = content_type.as_deref().is_some_and(|content_type| {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("application/json")
            || essence.eq_ignore_ascii_case("multipart/form-data")
    });
    if !supported {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send Content-Type application/json, or multipart/form-data for a GraphQL multipart request with an upload",
        );
    }
    let body = request
        .into_body()
        .into_data_stream()
        .map_err(|error| {
            let kind = if is_over_the_body_limit(&error) {
                std::io::ErrorKind::FileTooLarge
            } else {
                std::io::ErrorKind::Other
            };
            std::io::Error::new(kind, error)
        })
        .into_async_read();
    let options = MultipartOptions::default()
        .max_file_size(state.limits.max_upload_bytes)
        .max_num_files(1);
    let batch = match async_graphql::http::receive_batch_body(content_type, body, options).await {
        Ok(batch) => batch,
        Err(error) => return request_error(&error),
    };
    // The body is in: from here on the connection does work worth keeping
    // (see `connections`).
    let _busy = match slot.as_ref().map(ConnectionSlot::busy) {
        Some(None) => {
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is closing this connection; send the request again",
            );
        }
        Some(busy) => busy,
        None => None,
    };
    let operations = match &batch {
        BatchRequest::Single(_) => 1,
        BatchRequest::Batch(requests) => requests.len(),
    };
    if operations > state.limits.max_batch {
        return error_response(
            StatusCode::BAD_REQUEST,
            &format!(
                "a batch may hold at most {} operations; this one has {operations}",
                state.limits.max_batch
            ),
        );
    }
    let may_introspect = state.public_introspection || authentication.admin_claims().is_ok();
    let answers = HttpAnswers::default();
    let run = |mut request: async_graphql::Request| {
        let state = &state;
        let authentication = authentication.clone();
        let answers = &answers;
        // Every answer leaves through `code_request_errors`, once.
        let answer = async move {
            if request.query.trim().is_empty() {
                return AppError::BadUserInput("the request has no query".to_owned())
                    .into_graphql_response();
            }
            if request.query.len() > state.limits.max_query_bytes {
                return AppError::BadUserInput(format!(
                    "the query is {} bytes; the limit is {} (pass values as variables)",
                    request.query.len(),
                    state.limits.max_query_bytes
                ))
                .into_graphql_response();
            }
            let document = match state.parsed_queries.prepare(&request.query).await {
                Prepared::Document(document) => {
                    if !may_introspect && let Some(refused) = introspection_refusal(&document) {
                        return refused;
                    }
                    request.set_parsed_query(ExecutableDocument::clone(&document));
                    document
                }
                Prepared::Refused(error) => return error.into_graphql_response(),
                Prepared::Unparsable(error) => {
                    return async_graphql::Response::from_errors(vec![error]);
                }
            };
            request = answers.prepare(request.data(authentication));
            if let Some(client) = client {
                request = request.data(client);
            }
            let operation_name = request.operation_name.clone();
            let mut response = state.schema.execute(request).await;
            restore_request_order(&document, operation_name.as_deref(), &mut response.data);
            response
        };
        async move { code_request_errors(answer.await) }
    };
    // One after another, as async-graphql's own `execute_batch` does.
    let response = match batch {
        BatchRequest::Single(request) => BatchResponse::Single(run(request).await),
        BatchRequest::Batch(requests) => {
            BatchResponse::Batch(futures::stream::iter(requests).then(run).collect().await)
        }
    };
    graphql_response(response, &answers)
}

/// The HTTP answer for `response`, with the headers async-graphql-axum
/// would send.
fn graphql_response(response: BatchResponse, answers: &HttpAnswers) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/graphql-response+json"),
    );
    if response.is_ok()
        && let Some(cache_control) = response.cache_control().value()
        && let Ok(value) = HeaderValue::from_str(&cache_control)
    {
        headers.insert(CACHE_CONTROL, value);
    }
    headers.extend(response.http_headers());
    match answers.body(response) {
        Ok(body) => (headers, body).into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot serialize a GraphQL response");
            let answer = AppError::Internal(error.to_string()).into_graphql_response();
            (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(answer)).into_response()
        }
    }
}

/// The caller's address: the connection's peer, unless the peer is a
/// trusted proxy; then the nearest address in `X-Forwarded-For` that is not
/// a trusted proxy too (entries further left could be made up by the
/// client).
fn client_address(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let trusted = |address: &IpAddr| trusted_proxies.iter().any(|net| net.contains(address));
    if !trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    // From the right, the entries trusted proxies added; an entry that is
    // not an address ends the walk (nothing left of it can be believed).
    for entry in forwarded.into_iter().rev() {
        match entry.trim().parse::<IpAddr>() {
            Ok(address) if trusted(&address) => {}
            Ok(address) => return address,
            Err(_) => break,
        }
    }
    peer
}

/// Most errors one answer carries; the rest are summed up in one more.
/// Validation reports one error per offending selection, and nobody reads
/// the thousandth.
const MAX_ERRORS: usize = 20;

/// Longest error message sent, in characters: async-graphql quotes the
/// value it could not use, and a 10 MB variable must not come back as a
/// 10 MB error.
const MAX_MESSAGE_CHARS: usize = 300;

/// Makes `response`'s errors fit to send: async-graphql's own errors about
/// the request (syntax, validation, limits, variables) carry no code and
/// no path, and are the caller's to fix; long messages are cut and a long
/// list of errors is summed up.
pub(super) fn code_request_errors(
    mut response: async_graphql::Response,
) -> async_graphql::Response {
    let total = response.errors.len();
    if total > MAX_ERRORS {
        response.errors.truncate(MAX_ERRORS - 1);
        let left_out = total - response.errors.len();
        response.errors.push(async_graphql::ServerError::new(
            format!("{left_out} more errors left out"),
            None,
        ));
    }
    for error in &mut response.errors {
        if let Some((cut, _)) = error.message.char_indices().nth(MAX_MESSAGE_CHARS) {
            error.message.truncate(cut);
            error.message.push('…');
        }
        let coded = error
            .extensions
            .as_ref()
            .is_some_and(|extensions| extensions.get("code").is_some());
        if !coded && error.path.is_empty() {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "BAD_USER_INPUT");
        }
    }
    response
}

/// Whether reading the body failed because it passed the request body
/// limit (the limit layer's error, somewhere in the chain).
fn is_over_the_body_limit(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = cause {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

fn header(headers: &HeaderMap, name: axum::http::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The body limit answers a body declared too large with a plain-text 413
/// before the handler runs; callers get the GraphQL-shaped error instead,
/// as for a body found too large while reading.
pub async fn payload_too_large<B>(response: axum::http::Response<B>) -> Response
where
    axum::http::Response<B>: IntoResponse,
{
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || is_json {
        return response.into_response();
    }
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        "the request body is larger than the request limit",
    )
}

/// A request that could not be read as GraphQL: 400 (413 when too large),
/// with a GraphQL-shaped error body.
fn request_error(error: &ParseRequestError) -> Response {
    let (status, message) = match error {
        ParseRequestError::PayloadTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "the upload is larger than the upload limit".to_owned(),
        ),
        ParseRequestError::Io(error) if error.kind() == std::io::ErrorKind::FileTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is larger than the request limit".to_owned(),
        ),
        other => (
            StatusCode::BAD_REQUEST,
            format!("not a valid GraphQL request: {other}"),
        ),
    };
    error_response(status, &message)
}

fn error_response(status: StatusCode, message: &str) -> Response {
    let answer = AppError::BadUserInput(message.to_owned()).into_graphql_response();
    (status, axum::Json(answer)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "172.18.0.2".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["172.16.0.0/12".parse().unwrap()];
        let client = |peer, forwarded: &[&str], trusted: &[IpNet]| {
            client_address(peer, &headers(forwarded), trusted).to_string()
        };
        assert_eq!(client(proxy, &["203.0.113.7"], &trusted), "203.0.113.7");
        // The client's own entries, left of what the proxy added, are ignored.
        assert_eq!(
            client(proxy, &["1.2.3.4, 203.0.113.7"], &trusted),
            "203.0.113.7"
        );
        assert_eq!(
            client(proxy, &["1.2.3.4", "203.0.113.7"], &trusted),
            "203.0.113.7"
        );
        // A chain of trusted proxies is walked back.
        assert_eq!(
            client(proxy, &["203.0.113.7, 172.18.0.9"], &trusted),
            "203.0.113.7"
        );
        // Nothing usable: the proxy itself.
        assert_eq!(client(proxy, &[], &trusted), "172.18.0.2");
        assert_eq!(client(proxy, &["garbage"], &trusted), "172.18.0.2");
        assert_eq!(
            client(proxy, &["1.2.3.4, garbage, 172.18.0.9"], &trusted),
            "172.18.0.2"
        );
        // Not from a trusted proxy: the header is the client's word.
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client(stranger, &["203.0.113.7"], &trusted), "198.51.100.1");
        assert_eq!(client(proxy, &["203.0.113.7"], &[]), "172.18.0.2");
    }
}
