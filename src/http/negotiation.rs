//! Content negotiation for `/graphql`: which of the answers torrentql can
//! give the client's `Accept` header prefers, as the GraphQL over HTTP
//! spec and the `graphql-sse` protocol ask.
//!
//! A request without `Accept` (or with one that does not parse) is treated
//! as `Accept: application/json`, as the spec says. Wildcards match
//! `application/json` first, so a client that sends `*/*` gets the
//! media type every client reads.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT;
use headers_accept::Accept;
use mediatype::names::{APPLICATION, EVENT_STREAM, HTML, JSON, Q, TEXT};
use mediatype::{MediaType, Name, ReadParams};

/// How a GraphQL answer is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `application/graphql-response+json`: request errors answer 4xx.
    GraphqlResponse,
    /// `application/json`: every well-formed request answers 200.
    Json,
    /// `text/event-stream`: a stream of results (`graphql-sse`).
    EventStream,
}

impl Format {
    /// The `Content-Type` of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
            Self::EventStream => "text/event-stream",
        }
    }
}

const GRAPHQL_RESPONSE: Name<'static> = Name::new_unchecked("graphql-response");

/// What torrentql can answer, in its order of preference among types the
/// client weighs alike.
static OFFERED: [(MediaType<'static>, Format); 3] = [
    (MediaType::new(APPLICATION, JSON), Format::Json),
    (
        MediaType::from_parts(APPLICATION, GRAPHQL_RESPONSE, Some(JSON), &[]),
        Format::GraphqlResponse,
    ),
    (MediaType::new(TEXT, EVENT_STREAM), Format::EventStream),
];

/// The client's `Accept` header, parsed.
pub struct Accepted(Option<Accept>);

impl Accepted {
    /// Reads `headers`; a missing or unreadable header accepts JSON.
    /// Parameters other than `q` are dropped: whatever `charset` a client
    /// names, JSON and event streams are UTF-8.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let values: Vec<&str> = headers
            .get_all(ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter(|value| !value.trim().is_empty())
            .collect();
        if values.is_empty() {
            return Self(None);
        }
        let without_parameters = |accept: Accept| {
            let ranges: Vec<String> = accept
                .media_types()
                .map(|range| {
                    let essence = range.essence();
                    match range.get_param(Q) {
                        Some(q) => format!("{essence};q={q}"),
                        None => essence.to_string(),
                    }
                })
                .collect();
            ranges.join(",").parse::<Accept>().ok()
        };
        Self(
            values
                .join(",")
                .parse::<Accept>()
                .ok()
                .and_then(without_parameters),
        )
    }

    /// The format the client prefers, `None` when it accepts none of them.
    pub fn best(&self) -> Option<Format> {
        let Some(accept) = &self.0 else {
            return Some(Format::Json);
        };
        let chosen = accept.negotiate(OFFERED.iter().map(|(media_type, _)| media_type))?;
        OFFERED
            .iter()
            .find(|(media_type, _)| media_type == chosen)
            .map(|(_, format)| *format)
    }

    /// Whether the client takes `text/event-stream` at all (a subscription
    /// is streamed then, whatever it prefers for single results).
    pub fn takes_event_stream(&self) -> bool {
        self.0.as_ref().is_some_and(|accept| {
            accept
                .negotiate(&[MediaType::new(TEXT, EVENT_STREAM)])
                .is_some()
        })
    }

    /// Whether the client would rather have HTML than JSON: a browser
    /// opening the page (a link with `?query=` included). `*/*` alone
    /// means JSON: every HTTP library sends it.
    pub fn prefers_html(&self) -> bool {
        static WITH_HTML: [MediaType<'static>; 3] = [
            MediaType::new(APPLICATION, JSON),
            MediaType::from_parts(APPLICATION, GRAPHQL_RESPONSE, Some(JSON), &[]),
            MediaType::new(TEXT, HTML),
        ];
        self.0
            .as_ref()
            .is_some_and(|accept| accept.negotiate(&WITH_HTML) == Some(&WITH_HTML[2]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(accept: &str) -> Accepted {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, accept.parse().unwrap());
        Accepted::from_headers(&headers)
    }

    #[test]
    fn the_client_preference_decides_and_wildcards_mean_json() {
        let best = |accept| accepted(accept).best();
        assert_eq!(best("application/json"), Some(Format::Json));
        assert_eq!(
            best("application/graphql-response+json"),
            Some(Format::GraphqlResponse)
        );
        // Apollo Client's and graphql-request's headers.
        assert_eq!(
            best("application/graphql-response+json,application/json;q=0.9"),
            Some(Format::GraphqlResponse)
        );
        assert_eq!(
            best("application/graphql-response+json, application/json"),
            Some(Format::GraphqlResponse)
        );
        assert_eq!(
            best("application/json;q=0.5, application/graphql-response+json;q=0.9"),
            Some(Format::GraphqlResponse)
        );
        assert_eq!(best("*/*"), Some(Format::Json));
        assert_eq!(best("application/*"), Some(Format::Json));
        assert_eq!(best("application/json; charset=utf-8"), Some(Format::Json));
        assert_eq!(best("text/event-stream"), Some(Format::EventStream));
        assert_eq!(
            best("application/json;q=0, */*"),
            Some(Format::GraphqlResponse)
        );
        assert_eq!(best("text/html"), None);
        assert_eq!(
            Accepted::from_headers(&HeaderMap::new()).best(),
            Some(Format::Json)
        );
        assert_eq!(best("not a media type"), Some(Format::Json));
    }

    #[test]
    fn browsers_get_html_and_libraries_json() {
        assert!(accepted("text/html,application/xhtml+xml,*/*;q=0.8").prefers_html());
        // Chromium's, opening a page.
        assert!(accepted("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7").prefers_html());
        assert!(!accepted("*/*").prefers_html());
        assert!(accepted("text/*").prefers_html());
        assert!(!accepted("text/html;q=0.5, application/json").prefers_html());
        assert!(!accepted("text/html;q=0, */*").prefers_html());
        assert!(!Accepted::from_headers(&HeaderMap::new()).prefers_html());
    }

    #[test]
    fn event_streams_are_taken_when_listed_at_all() {
        // urql's header: JSON first, streams too.
        let urql = accepted(
            "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed",
        );
        assert_eq!(urql.best(), Some(Format::GraphqlResponse));
        assert!(urql.takes_event_stream());
        assert!(!accepted("application/json").takes_event_stream());
    }
}
