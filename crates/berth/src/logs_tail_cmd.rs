//! `berth logs GROUP [--follow] [--since 10m] [--filter PATTERN]`: a log group's events,
//! printed as `aws logs tail` (CLI v2) prints them, for the CLI v1 that has no `tail`.
//! Like `tail`, it reads FilterLogEvents (interleaved), and when following polls again
//! from the newest timestamp seen (inclusive), skipping eventIds it already printed.

use anyhow::Context;
use berth_agent::client::{ApiClient, ClientConfig};
use berth_model::generated::logs::{FilterLogEventsRequest, FilterLogEventsResponse, FilteredLogEvent};
use clap::Args;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

const TARGET_PREFIX: &str = "Logs_20140328";

#[derive(Args, Clone)]
pub struct LogsArgs {
    /// The log group to show.
    pub group: String,
    /// Keep printing new events as they arrive.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// How far back to start: a duration (`30s`, `10m`, `2h`, `1d`, `1w`) or epoch milliseconds.
    #[arg(long, default_value = "10m")]
    pub since: String,
    /// A CloudWatch Logs filter pattern.
    #[arg(long)]
    pub filter: Option<String>,
    /// Only streams whose names start with this.
    #[arg(long)]
    pub log_stream_name_prefix: Option<String>,
    /// `detailed` (timestamp, stream, message) or `short` (timestamp, message), as `aws logs tail`.
    #[arg(long, default_value = "detailed")]
    pub format: String,
    /// The berth API endpoint.
    #[arg(long, env = "AWS_ENDPOINT_URL", default_value = "http://127.0.0.1:4566")]
    pub endpoint_url: String,
    #[arg(long, env = "AWS_DEFAULT_REGION", default_value = "us-east-1")]
    pub region: String,
    /// A shared-credentials file with a `berth` profile, used when AWS_ACCESS_KEY_ID is unset.
    #[arg(long, default_value = ".berth/credentials", env = "BERTH_CREDENTIALS_FILE")]
    pub credentials_file: PathBuf,
    /// How often `--follow` polls.
    #[arg(long, default_value = "1s", hide = true)]
    pub poll_interval: String,
}

/// `30s`, `10m`, `2h`, `1d`, `1w` → milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: i64 = n.parse().ok()?;
    let unit_ms = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// Where `--since` starts, in epoch ms.
pub fn since_ms(text: &str, now: i64) -> Option<i64> {
    if let Ok(abs) = text.trim().parse::<i64>() {
        return Some(abs);
    }
    parse_duration_ms(text).map(|d| now - d)
}

/// One line as `aws logs tail` prints it.
pub fn format_event(e: &FilteredLogEvent, format: &str) -> String {
    let ts = e.timestamp.unwrap_or_default();
    let when = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let message = e.message.as_deref().unwrap_or_default();
    let message = message.strip_suffix('\n').unwrap_or(message);
    let stamp = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        when.year(),
        u8::from(when.month()),
        when.day(),
        when.hour(),
        when.minute(),
        when.second()
    );
    if format == "short" {
        format!("{stamp} {message}")
    } else {
        format!(
            "{stamp}.{:06}+00:00 {} {message}",
            when.microsecond(),
            e.log_stream_name.as_deref().unwrap_or_default()
        )
    }
}

pub async fn run(args: LogsArgs) -> anyhow::Result<()> {
    let (access_key_id, secret_access_key) = crate::agent_cmd::credentials(&args.credentials_file)?;
    let client = ApiClient::new(ClientConfig {
        endpoint: args.endpoint_url.clone(),
        access_key_id,
        secret_access_key,
        region: args.region.clone(),
    })?;
    let now = berth_log_store::now_ms();
    let mut start = since_ms(&args.since, now).with_context(|| format!("--since {}: not a duration", args.since))?;
    let poll = parse_duration_ms(&args.poll_interval).unwrap_or(1000).max(100) as u64;
    // eventIds printed at the newest timestamp seen (the next poll starts there again).
    let mut seen: HashSet<String> = HashSet::new();
    tokio::select! {
        r = async {
            loop {
                let mut token = None;
                let mut newest = start;
                let mut printed_at_newest: HashSet<String> = HashSet::new();
                loop {
                    let req = FilterLogEventsRequest {
                        log_group_name: Some(args.group.clone()),
                        log_stream_name_prefix: args.log_stream_name_prefix.clone(),
                        start_time: Some(start),
                        filter_pattern: args.filter.clone(),
                        next_token: token.clone(),
                        interleaved: Some(true),
                        ..Default::default()
                    };
                    let page: FilterLogEventsResponse = client
                        .call_service("logs", TARGET_PREFIX, "FilterLogEvents", &req)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    for e in page.events.unwrap_or_default() {
                        let id = e.event_id.clone().unwrap_or_default();
                        if seen.contains(&id) {
                            continue;
                        }
                        println!("{}", format_event(&e, &args.format));
                        let ts = e.timestamp.unwrap_or_default();
                        if ts > newest {
                            newest = ts;
                            printed_at_newest.clear();
                        }
                        if ts == newest {
                            printed_at_newest.insert(id);
                        }
                    }
                    token = page.next_token;
                    if token.is_none() {
                        break;
                    }
                }
                if !args.follow {
                    return Ok::<(), anyhow::Error>(());
                }
                if newest > start {
                    seen = printed_at_newest;
                } else {
                    seen.extend(printed_at_newest);
                }
                start = newest;
                tokio::time::sleep(Duration::from_millis(poll)).await;
            }
        } => r,
        _ = crate::shutdown_signal() => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("10m"), Some(600_000));
        assert_eq!(parse_duration_ms("2h"), Some(7_200_000));
        assert_eq!(parse_duration_ms("1w"), Some(604_800_000));
        assert_eq!(parse_duration_ms("10"), None);
        assert_eq!(parse_duration_ms("m"), None);
        assert_eq!(since_ms("1s", 5000), Some(4000));
        assert_eq!(since_ms("1700000000000", 0), Some(1_700_000_000_000));
    }

    #[test]
    fn lines_look_like_aws_logs_tail() {
        let e = FilteredLogEvent {
            log_stream_name: Some("ecs/web/abc".into()),
            timestamp: Some(1_700_000_000_123),
            message: Some("hello\n".into()),
            ..Default::default()
        };
        assert_eq!(format_event(&e, "detailed"), "2023-11-14T22:13:20.123000+00:00 ecs/web/abc hello");
        assert_eq!(format_event(&e, "short"), "2023-11-14T22:13:20 hello");
    }
}
