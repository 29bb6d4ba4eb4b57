//! The one place the errors of an answer are logged: as it leaves for the
//! client, each distinct error once, with the path of its first field and
//! how many fields it failed.

use async_graphql::{BatchResponse, PathSegment, Response, ServerError};

use crate::error::AppError;

/// Logs the errors of every response in `batch`.
pub(super) fn log(batch: &BatchResponse) {
    match batch {
        BatchResponse::Single(response) => log_response(response),
        BatchResponse::Batch(responses) => responses.iter().for_each(log_response),
    }
}

fn log_response(response: &Response) {
    // A failed loader fails every field that asked it alike: log it once.
    let mut distinct: Vec<(&ServerError, usize)> = Vec::new();
    for error in &response.errors {
        match distinct
            .iter_mut()
            .find(|(seen, _)| seen.message == error.message && same_source(seen, error))
        {
            Some((_, count)) => *count += 1,
            None => distinct.push((error, 1)),
        }
    }
    for (error, fields) in distinct {
        let path = path_text(&error.path);
        match error.source::<AppError>() {
            Some(app_error) if fields == 1 => app_error.log(&path),
            Some(app_error) => app_error.log(&format!("{path} and {} more", fields - 1)),
            // async-graphql's own: the query does not parse or validate.
            None => tracing::debug!(path, error = error.message, "request refused"),
        }
    }
}

fn same_source(one: &ServerError, other: &ServerError) -> bool {
    one.source::<AppError>() == other.source::<AppError>()
}

/// `torrents.3.files`, as the response's `path` reads.
fn path_text(path: &[PathSegment]) -> String {
    path.iter()
        .map(|segment| match segment {
            PathSegment::Field(name) => name.clone(),
            PathSegment::Index(index) => index.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_as_in_the_response() {
        let path = [
            PathSegment::Field("torrents".to_owned()),
            PathSegment::Index(3),
            PathSegment::Field("files".to_owned()),
        ];
        assert_eq!(path_text(&path), "torrents.3.files");
        assert_eq!(path_text(&[]), "");
    }

    #[test]
    fn the_app_error_rides_along_as_the_source() {
        let error = async_graphql::Error::from(AppError::Internal("a detail".to_owned()))
            .into_server_error(Default::default());
        assert_eq!(
            error.source::<AppError>(),
            Some(&AppError::Internal("a detail".to_owned()))
        );
        assert_eq!(
            error.message,
            "internal error; the server log has the details"
        );
        assert!(!format!("{:?}", error.extensions).contains("a detail"));
    }
}
