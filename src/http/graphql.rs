//! `/graphql` over HTTP, as the GraphQL over HTTP spec has it: `POST`
//! with JSON (single or batched) or a GraphQL multipart request with an
//! upload, and `GET` with the request in the query string for queries
//! (never mutations: `405`).
//!
//! The answer's format follows the `Accept` header (see [`negotiation`]):
//! `application/json` answers every well-formed request with 200;
//! `application/graphql-response+json` answers a request that was not run
//! (it does not parse or validate, its variables do not fit, a limit
//! refused it) with 4xx and no `data` entry; `text/event-stream` streams
//! results as the `graphql-sse` protocol has it (see [`super::events`]).
//!
//! async-graphql-axum's extractor reads multipart bodies with no size limit,
//! so the body is read here with the configured upload limit instead. The
//! caller's `Authorization` header is verified once and passed to the
//! schema as request data, where guards read it.
//!
//! [`negotiation`]: super::negotiation

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_graphql::http::MultipartOptions;
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{BatchRequest, BatchResponse, ParseRequestError, Variables};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{StreamExt, TryStreamExt};
use ipnet::IpNet;

use super::AppState;
use super::connections::ConnectionSlot;
use super::negotiation::{Accepted, Format};
use crate::auth::Authentication;
use crate::error::AppError;
use crate::graphql::{
    ClientAddress, HttpAnswers, Prepared, introspection_refusal, is_request_error,
    restore_request_order,
};

/// Who is asking, and what they take for an answer.
struct Caller {
    authentication: Authentication,
    client: Option<ClientAddress>,
    slot: Option<ConnectionSlot>,
    accepted: Accepted,
    is_admin: bool,
}

impl Caller {
    fn new(state: &AppState, parts: &Parts) -> Self {
        let authentication = state
            .auth
            .authenticate_header(header(&parts.headers, AUTHORIZATION));
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| {
                ClientAddress(client_address(
                    peer.ip(),
                    &parts.headers,
                    &state.trusted_proxies,
                ))
            });
        let is_admin = authentication.admin_claims().is_ok();
        Self {
            authentication,
            client,
            slot: parts.extensions.get::<ConnectionSlot>().cloned(),
            accepted: Accepted::from_headers(&parts.headers),
            is_admin,
        }
    }
}

/// `POST /graphql`: runs a GraphQL request (or batch) and answers with its
/// result.
pub async fn post(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let caller = Caller::new(&state, &parts);
    let Some(format) = caller.accepted.best() else {
        return not_acceptable();
    };
    let content_type = header(&parts.headers, CONTENT_TYPE).map(str::to_owned);
    let supported = content_type.as_deref().is_some_and(|content_type| {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("application/json")
            || essence.eq_ignore_ascii_case("multipart/form-data")
    });
    if !supported {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send Content-Type application/json, or multipart/form-data for a GraphQL multipart request with an upload",
            format,
        );
    }
    let body = body
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
    match async_graphql::http::receive_batch_body(content_type, body, options).await {
        Ok(batch) => respond(&state, caller, batch, Method::POST, format).await,
        Err(error) => request_error(&error, format),
    }
}

/// `GET /graphql?query=...`: runs a query (or streams a subscription)
/// given in the query string; a browser opening the page (perhaps from a
/// link with `?query=`, which GraphiQL fills in) gets the playground.
pub async fn get(state: AppState, parts: &Parts) -> Response {
    let caller = Caller::new(&state, parts);
    if state.playground.enabled && caller.accepted.prefers_html() {
        return super::playground::page(State(state)).await.into_response();
    }
    let state = &state;
    let Some(format) = caller.accepted.best() else {
        return not_acceptable();
    };
    match request_from_query_string(parts.uri.query().unwrap_or_default()) {
        Ok(request) => {
            respond(
                state,
                caller,
                BatchRequest::Single(request),
                Method::GET,
                format,
            )
            .await
        }
        Err(message) => error_response(StatusCode::BAD_REQUEST, &message, format),
    }
}

/// The request a `GET` carries: `query`, `operationName`, and `variables`
/// and `extensions` as JSON.
fn request_from_query_string(query_string: &str) -> Result<async_graphql::Request, String> {
    let mut request = async_graphql::Request::new("");
    for (key, value) in form_urlencoded::parse(query_string.as_bytes()) {
        match key.as_ref() {
            "query" => request.query = value.into_owned(),
            "operationName" => request.operation_name = Some(value.into_owned()),
            "variables" => {
                request.variables = serde_json::from_str::<Option<Variables>>(&value)
                    .map_err(|error| format!("variables must be a JSON object: {error}"))?
                    .unwrap_or_default();
            }
            "extensions" => {
                request.extensions = serde_json::from_str::<Option<_>>(&value)
                    .map_err(|error| format!("extensions must be a JSON object: {error}"))?
                    .unwrap_or_default();
            }
            _ => {}
        }
    }
    Ok(request)
}

/// Answers `batch`: as JSON, or as an event stream when the client asks
/// for one (or sends a subscription and takes streams).
async fn respond(
    state: &AppState,
    caller: Caller,
    batch: BatchRequest,
    method: Method,
    format: Format,
) -> Response {
    // The request is in: from here on the connection does work worth
    // keeping (see `connections`).
    let _busy = match caller.slot.as_ref().map(ConnectionSlot::busy) {
        Some(None) => {
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is closing this connection; send the request again",
                format,
            );
        }
        Some(busy) => busy,
        None => None,
    };
    let requests = match batch {
        BatchRequest::Single(request) => {
            return respond_to_one(state, &caller, request, &method, format).await;
        }
        BatchRequest::Batch(requests) => requests,
    };
    if format == Format::EventStream {
        return error_response(
            StatusCode::BAD_REQUEST,
            "an event stream answers one operation; send a batch as JSON",
            Format::Json,
        );
    }
    if requests.len() > state.limits.max_batch {
        return error_response(
            StatusCode::BAD_REQUEST,
            &format!(
                "a batch may hold at most {} operations; this one has {}",
                state.limits.max_batch,
                requests.len()
            ),
            format,
        );
    }
    // One after another, as async-graphql's own `execute_batch` does; a
    // batch answers 200, each entry saying how it went.
    let answers = HttpAnswers::default();
    let responses = futures::stream::iter(requests)
        .then(|request| async {
            match check(state, &caller, request, &method).await {
                Ok(ready) => execute(state, &answers, ready).await.response,
                Err(not_run) => not_run.response,
            }
        })
        .collect()
        .await;
    graphql_response(BatchResponse::Batch(responses), &answers, format)
}

/// Answers one operation: streamed when the client asks for a stream (or
/// takes one for a subscription), else as JSON with the status the spec
/// gives its outcome.
async fn respond_to_one(
    state: &AppState,
    caller: &Caller,
    request: async_graphql::Request,
    method: &Method,
    format: Format,
) -> Response {
    let answers = HttpAnswers::default();
    let checked = check(state, caller, request, method).await;
    let is_subscription = checked
        .as_ref()
        .is_ok_and(|ready| ready.operation == Some(OperationType::Subscription));
    if format == Format::EventStream || (is_subscription && caller.accepted.takes_event_stream()) {
        return super::events::stream(state, answers, checked.map_err(|not_run| not_run.response));
    }
    let answer = match checked {
        Ok(ready) => execute(state, &answers, ready).await,
        Err(not_run) => not_run,
    };
    let status = answer.status(format);
    let mut response = graphql_response(BatchResponse::Single(answer.response), &answers, format);
    *response.status_mut() = status;
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// A request ready for the schema.
pub(super) struct Ready {
    /// With the caller's data and its parsed document.
    pub(super) request: async_graphql::Request,
    /// The parsed document, for putting answers in request order.
    pub(super) document: Arc<ExecutableDocument>,
    /// The operation's kind, when the document has the one asked for.
    operation: Option<OperationType>,
}

/// One operation's answer, and whether it ran.
struct Answer {
    response: async_graphql::Response,
    not_run: Option<NotRun>,
}

/// Why an operation was answered without running it.
#[derive(Clone, Copy)]
enum NotRun {
    /// Not a GraphQL request at all (no query): 400 in every format.
    Malformed,
    /// A GraphQL request error: it does not parse or validate, its
    /// variables do not fit, or a limit refused it.
    Refused,
    /// A mutation sent with `GET`: 405 in every format.
    MutationOverGet,
}

impl NotRun {
    fn answer(self, response: async_graphql::Response) -> Answer {
        Answer {
            response: code_request_errors(response),
            not_run: Some(self),
        }
    }
}

impl Answer {
    /// The status of an answer to a single operation: the spec's 200 for
    /// every well-formed request in `application/json`; 4xx for one not
    /// run in `application/graphql-response+json` (401 and 403 when it
    /// was refused for its token).
    fn status(&self, format: Format) -> StatusCode {
        match self.not_run {
            None => StatusCode::OK,
            Some(NotRun::Malformed) => StatusCode::BAD_REQUEST,
            Some(NotRun::MutationOverGet) => StatusCode::METHOD_NOT_ALLOWED,
            Some(NotRun::Refused) if format == Format::Json => StatusCode::OK,
            Some(NotRun::Refused) => {
                let has_code = |code: &str| {
                    self.response.errors.iter().any(|error| {
                        error
                            .extensions
                            .as_ref()
                            .and_then(|extensions| extensions.get("code"))
                            == Some(&async_graphql::Value::from(code))
                    })
                };
                if has_code("UNAUTHENTICATED") {
                    StatusCode::UNAUTHORIZED
                } else if has_code("FORBIDDEN") {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::BAD_REQUEST
                }
            }
        }
    }
}

/// Resolves a persisted query, checks the text against the limits and
/// parses it (or takes it parsed from the cache): everything before the
/// schema runs it.
async fn check(
    state: &AppState,
    caller: &Caller,
    mut request: async_graphql::Request,
    method: &Method,
) -> Result<Ready, Answer> {
    let registration = match state.persisted_queries.resolve(&mut request) {
        Ok(registration) => registration,
        Err(error) => return Err(NotRun::Refused.answer(error.into_graphql_response())),
    };
    if request.query.trim().is_empty() {
        return Err(NotRun::Malformed.answer(
            AppError::BadUserInput("the request has no query".to_owned()).into_graphql_response(),
        ));
    }
    if request.query.len() > state.limits.max_query_bytes {
        return Err(NotRun::Refused.answer(
            AppError::BadUserInput(format!(
                "the query is {} bytes; the limit is {} (pass values as variables)",
                request.query.len(),
                state.limits.max_query_bytes
            ))
            .into_graphql_response(),
        ));
    }
    let document = match state.parsed_queries.prepare(&request.query).await {
        Prepared::Document(document) => document,
        Prepared::Refused(error) => {
            return Err(NotRun::Refused.answer(error.into_graphql_response()));
        }
        Prepared::Unparsable(error) => {
            return Err(NotRun::Refused.answer(async_graphql::Response::from_errors(vec![error])));
        }
    };
    // Only admins fill the cache: nobody else can push their queries out.
    if let Some(registration) = registration
        && caller.is_admin
    {
        state
            .persisted_queries
            .register(registration, &request.query);
    }
    if !(state.public_introspection || caller.is_admin)
        && let Some(refused) = introspection_refusal(&document)
    {
        return Err(NotRun::Refused.answer(refused));
    }
    let operation = operation_type(&document, request.operation_name.as_deref());
    if *method == Method::GET && operation == Some(OperationType::Mutation) {
        return Err(NotRun::MutationOverGet.answer(
            AppError::BadUserInput(
                "a mutation cannot be sent with GET (GET requests may be cached or repeated); send it with POST"
                    .to_owned(),
            )
            .into_graphql_response(),
        ));
    }
    request.set_parsed_query(ExecutableDocument::clone(&document));
    request = request.data(caller.authentication.clone());
    if let Some(client) = caller.client {
        request = request.data(client);
    }
    Ok(Ready {
        request,
        document,
        operation,
    })
}

/// The kind of the operation `name` picks (or the only one).
fn operation_type(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    document
        .operations
        .iter()
        .find(|(operation_name, _)| {
            name.is_none() || operation_name.map(|found| found.as_str()) == name
        })
        .map(|(_, operation)| operation.node.ty)
}

/// Runs `ready` and puts its answer in request order.
async fn execute(state: &AppState, answers: &HttpAnswers, ready: Ready) -> Answer {
    let operation_name = ready.request.operation_name.clone();
    let mut response = state.schema.execute(answers.prepare(ready.request)).await;
    restore_request_order(
        &ready.document,
        operation_name.as_deref(),
        &mut response.data,
    );
    let not_run = is_request_error(&response).then_some(NotRun::Refused);
    Answer {
        response: code_request_errors(response),
        not_run,
    }
}

/// The HTTP answer for `response`, with the headers async-graphql-axum
/// would send.
fn graphql_response(response: BatchResponse, answers: &HttpAnswers, format: Format) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    // The answer depends on both: a cache must keep them apart.
    headers.insert(VARY, HeaderValue::from_static("Accept, Authorization"));
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
            let mut response = graphql_response(
                BatchResponse::Single(answer),
                &HttpAnswers::default(),
                format,
            );
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
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
        Format::Json,
    )
}

/// A request that could not be read as GraphQL: 400 (413 when too large),
/// with a GraphQL-shaped error body.
fn request_error(error: &ParseRequestError, format: Format) -> Response {
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
    error_response(status, &message, format)
}

/// The client takes none of the formats torrentql answers in.
fn not_acceptable() -> Response {
    error_response(
        StatusCode::NOT_ACCEPTABLE,
        "accept application/json, application/graphql-response+json or text/event-stream",
        Format::Json,
    )
}

/// A request refused before it could be read: `status`, and the error as
/// a GraphQL answer without `data`.
fn error_response(status: StatusCode, message: &str, format: Format) -> Response {
    let format = match format {
        Format::EventStream => Format::Json,
        other => other,
    };
    let answer = AppError::BadUserInput(message.to_owned()).into_graphql_response();
    let mut response = graphql_response(
        BatchResponse::Single(answer),
        &HttpAnswers::default(),
        format,
    );
    *response.status_mut() = status;
    response
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
