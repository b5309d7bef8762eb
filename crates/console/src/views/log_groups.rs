//! `/console/log-groups`: every log group; `/console/log-groups/{group}` searches a group
//! with a FilterLogEvents pattern (`?pattern=...`) and shows its newest events, live.

use super::task::{LogLine, log_line};
use crate::client::Service as Api;
use crate::page::{Signed, State};
use axum::extract::{Path, State as Shared};
use axum::response::Response;
use berth_api::error::AwsError;
use berth_model::generated::logs::*;
use http::Uri;
use serde::Serialize;

/// How many matching events a search shows.
const EVENTS: i32 = 100;

#[derive(Debug, Serialize, PartialEq)]
pub struct GroupRow {
    pub name: String,
    pub retention_days: Option<i32>,
    pub stored_bytes: i64,
}

pub async fn page(Shared(console): Shared<State>, signed: Signed) -> Response {
    match groups(&signed).await {
        Ok(rows) => console.page(&signed, "log_groups.html", "Log groups", rows),
        Err(e) => console.error(&signed, &e),
    }
}

async fn groups(signed: &Signed) -> Result<Vec<GroupRow>, AwsError> {
    let mut rows = vec![];
    let mut next_token = None;
    loop {
        let request = DescribeLogGroupsRequest { next_token, limit: Some(50), ..Default::default() };
        let page: DescribeLogGroupsResponse = signed.client.call(Api::Logs, "DescribeLogGroups", &request).await?;
        rows.extend(page.log_groups.unwrap_or_default().into_iter().map(|g| GroupRow {
            name: g.log_group_name.unwrap_or_default(),
            retention_days: g.retention_in_days,
            stored_bytes: g.stored_bytes.unwrap_or(0),
        }));
        next_token = page.next_token;
        if next_token.is_none() {
            return Ok(rows);
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SearchView {
    pub group: String,
    pub pattern: String,
    pub events: Vec<SearchLine>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct SearchLine {
    pub stream: String,
    #[serde(flatten)]
    pub line: LogLine,
}

/// The `pattern` parameter of a query string (empty when absent).
pub fn pattern(query: Option<&str>) -> String {
    let query = query.unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "pattern")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

pub async fn search(Shared(console): Shared<State>, Path(group): Path<String>, uri: Uri, signed: Signed) -> Response {
    let pattern = pattern(uri.query());
    let request = FilterLogEventsRequest {
        log_group_name: Some(group.clone()),
        filter_pattern: Some(pattern.clone()).filter(|p| !p.is_empty()),
        limit: Some(EVENTS),
        ..Default::default()
    };
    let found: Result<FilterLogEventsResponse, _> = signed.client.call(Api::Logs, "FilterLogEvents", &request).await;
    match found {
        Ok(found) => {
            let events = found
                .events
                .unwrap_or_default()
                .iter()
                .map(|e| SearchLine {
                    stream: e.log_stream_name.clone().unwrap_or_default(),
                    line: log_line(&OutputLogEvent {
                        timestamp: e.timestamp,
                        message: e.message.clone(),
                        ingestion_time: None,
                    }),
                })
                .collect();
            console.page(&signed, "log_group.html", &group, SearchView { group: group.clone(), pattern, events })
        }
        Err(e) => console.error(&signed, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_is_read_from_the_query_string() {
        assert_eq!(pattern(Some("pattern=%22ERROR%22+timeout")), "\"ERROR\" timeout");
        assert_eq!(pattern(Some("other=1")), "");
        assert_eq!(pattern(None), "");
    }
}
