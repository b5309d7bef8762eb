//! The `awslogs` log driver: containers whose `logConfiguration.logDriver` is `awslogs`
//! keep logging to Docker's json-file driver, and one shipper per container follows
//! their stdout/stderr through the runtime and sends the lines to the server's
//! CloudWatch Logs API in PutLogEvents batches.
//!
//! Nothing is lost or repeated across an agent restart: each shipper keeps a cursor in
//! `<agent data dir>/logs/<container id>.json`, the position (Docker timestamp in ns,
//! and how many lines had exactly that timestamp) of the last line the server stored.
//! A batch is first recorded as `pending`; once the server acknowledges it, the cursor
//! moves to its end. A restarted agent with a pending batch asks the stream for its last
//! event to learn whether the batch landed, then resumes reading with Docker's `since`.
//!
//! While the server is unreachable, lines wait in a bounded buffer (then Docker's own
//! log file holds the rest: the reader stops reading). Lines are only given up when a
//! task stops and the server stays unreachable past `FLUSH_DEADLINE`, or the server
//! refuses a batch for good; they are counted in `dropped()`.

use crate::client::ClientError;
use crate::runtime::{LogLine, Runtime, Status};
use crate::server::Server;
use berth_model::ecs::{ContainerDefinition, LogDriver};
use berth_model::generated::logs::{
    CreateLogGroupRequest, CreateLogStreamRequest, GetLogEventsRequest, InputLogEvent, PutLogEventsRequest,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Lines read ahead of the server, per container.
pub const BUFFER_LINES: usize = 10_000;
/// How long a batch may wait for more lines.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(500);
/// After a task stops, how long its shippers keep retrying an unreachable server.
pub const FLUSH_DEADLINE: Duration = Duration::from_secs(30);
const MAX_BATCH_EVENTS: usize = 10_000;
const MAX_BATCH_BYTES: usize = 1_048_576;
const EVENT_OVERHEAD: usize = 26;
/// CloudWatch's largest event; longer lines are cut (Docker already splits at 16 KiB).
const MAX_EVENT_BYTES: usize = 256 * 1024 - EVENT_OVERHEAD;

static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Lines this agent gave up on (never stored by the server), since it started.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

fn drop_lines(n: usize, why: &str) {
    if n > 0 {
        let total = DROPPED.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        tracing::warn!(lines = n, total, "awslogs: dropping log lines: {why}");
    }
}

/// One container's awslogs settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsLogs {
    pub container: String,
    pub group: String,
    pub stream: String,
    pub create_group: bool,
}

/// The awslogs containers of a task, with their streams named as ECS names them:
/// `prefix/container-name/task-id` (without a prefix: `container-name/task-id`).
pub fn configs(defs: &[ContainerDefinition], task_id: &str) -> Result<Vec<AwsLogs>, String> {
    let mut out = vec![];
    for def in defs {
        let Some(lc) = def.log_configuration.as_ref().filter(|c| c.log_driver == LogDriver::Awslogs) else {
            continue;
        };
        let container = def.name.clone().unwrap_or_default();
        let options = lc.options.clone().unwrap_or_default();
        let Some(group) = options.get("awslogs-group").cloned() else {
            return Err(format!(
                "ResourceInitializationError: failed to validate logger args: awslogs-group is required for container {container}"
            ));
        };
        let prefix = options.get("awslogs-stream-prefix").map(String::as_str);
        let stream = berth_model::awslogs::stream_name(prefix, &container, task_id);
        let create_group = options.get("awslogs-create-group").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        out.push(AwsLogs { container, group, stream, create_group });
    }
    Ok(out)
}

fn is(e: &ClientError, code: &str) -> bool {
    matches!(e, ClientError::Aws { code: c, .. } if c == code)
}

/// Creates the groups (awslogs-create-group) and streams before the containers start.
/// A missing group fails the task start with the reason ECS gives.
pub async fn prepare(server: &dyn Server, configs: &[AwsLogs]) -> Result<(), String> {
    for c in configs {
        ensure_stream(server, c).await?;
    }
    Ok(())
}

async fn ensure_stream(server: &dyn Server, c: &AwsLogs) -> Result<(), String> {
    let mut backoff = Duration::from_millis(200);
    for _ in 0..8 {
        match create_stream(server, c).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, "awslogs: cannot reach the server to create the log stream; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(e) if is(&e, "ResourceNotFoundException") => {
                return Err(format!(
                    "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist. : exit status 1 (log group {})",
                    c.group
                ));
            }
            Err(e) => {
                return Err(format!("ResourceInitializationError: failed to validate logger args: {e}"));
            }
        }
    }
    Err("ResourceInitializationError: failed to validate logger args: the CloudWatch Logs API is unreachable".into())
}

async fn create_stream(server: &dyn Server, c: &AwsLogs) -> Result<(), ClientError> {
    if c.create_group {
        let req = CreateLogGroupRequest {
            log_group_name: c.group.clone(),
            kms_key_id: None,
            tags: None,
            log_group_class: None,
            deletion_protection_enabled: None,
        };
        match server.create_log_group(&req).await {
            Ok(()) => {}
            Err(e) if is(&e, "ResourceAlreadyExistsException") => {}
            Err(e) => return Err(e),
        }
    }
    let req = CreateLogStreamRequest { log_group_name: c.group.clone(), log_stream_name: c.stream.clone() };
    match server.create_log_stream(&req).await {
        Ok(()) => Ok(()),
        Err(e) if is(&e, "ResourceAlreadyExistsException") => Ok(()),
        Err(e) => Err(e),
    }
}

/// A line's place in a container's output: its Docker timestamp and how many lines
/// (this one included) carry exactly that timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pos {
    pub ts: i64,
    pub n: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Pending {
    pos: Pos,
    #[serde(rename = "lastTimestamp")]
    last_timestamp: i64,
    #[serde(rename = "lastMessage")]
    last_message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    shipped: Option<Pos>,
    pending: Option<Pending>,
}

impl Cursor {
    fn load(path: &Path) -> Cursor {
        std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    fn save(&self, path: &Path) {
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension("tmp");
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec(self).unwrap_or_default())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        if let Err(e) = write() {
            tracing::warn!(path = %path.display(), error = %e, "awslogs: cannot save the log cursor");
        }
    }
}

/// Numbers the lines of one read of a container's output and skips those up to
/// `resume` (already shipped). Docker's `since` has whole seconds, so a read starts at
/// most a second early; once the resume line is passed, everything is new.
#[derive(Debug)]
pub struct Numbering {
    resume: Option<Pos>,
    current: Option<i64>,
    count: u64,
}

impl Numbering {
    pub fn new(resume: Option<Pos>) -> Self {
        Numbering { resume, current: None, count: 0 }
    }

    /// The line's position, or None if it was shipped before.
    pub fn next(&mut self, ts: i64) -> Option<Pos> {
        if self.current != Some(ts) {
            self.current = Some(ts);
            self.count = 0;
        }
        self.count += 1;
        let pos = Pos { ts, n: self.count };
        match self.resume {
            Some(r) if pos <= r => {
                if pos == r {
                    self.resume = None;
                }
                None
            }
            Some(_) => {
                self.resume = None;
                Some(pos)
            }
            None => Some(pos),
        }
    }
}

/// The epoch second to ask Docker for lines `since`, to resume after `pos`.
pub fn since_for(pos: Option<Pos>) -> i64 {
    pos.map_or(0, |p| p.ts.div_euclid(1_000_000_000))
}

/// The shippers of one task.
#[derive(Default)]
pub struct TaskLogs {
    shippers: Vec<(String, watch::Sender<bool>, JoinHandle<()>)>,
}

impl TaskLogs {
    /// Starts shipping the output of each awslogs container (by name -> runtime id).
    pub fn start(
        &mut self,
        shared: &crate::task_runner::Shared,
        configs: Vec<AwsLogs>,
        ids: &std::collections::BTreeMap<String, String>,
    ) {
        for config in configs {
            let Some(id) = ids.get(&config.container).cloned() else { continue };
            if self.shippers.iter().any(|(c, _, _)| *c == id) {
                continue;
            }
            let (stop_tx, stop_rx) = watch::channel(false);
            let shipper = Shipper {
                runtime: shared.runtime.clone(),
                server: shared.server.clone(),
                cursor_path: shared.data_dir.join("logs").join(format!("{id}.json")),
                container_id: id.clone(),
                config,
            };
            self.shippers.push((id, stop_tx, tokio::spawn(shipper.run(stop_rx))));
        }
    }

    /// Waits for the shippers to send what their (stopped) containers printed.
    pub async fn finish(&mut self) {
        for (_, stop, _) in &self.shippers {
            let _ = stop.send(true);
        }
        for (id, _, handle) in self.shippers.drain(..) {
            let abort = handle.abort_handle();
            if tokio::time::timeout(FLUSH_DEADLINE + Duration::from_secs(10), handle).await.is_err() {
                tracing::warn!(container = %id, "awslogs: the log shipper did not finish; abandoning it");
                abort.abort();
            }
        }
    }
}

struct Shipper {
    runtime: Arc<dyn Runtime>,
    server: Arc<dyn Server>,
    cursor_path: PathBuf,
    container_id: String,
    config: AwsLogs,
}

/// Events being gathered for one PutLogEvents.
#[derive(Default)]
struct Batch {
    events: Vec<InputLogEvent>,
    bytes: usize,
    last: Option<Pos>,
    lines: usize,
}

impl Batch {
    fn fits(&self, text: &str) -> bool {
        self.events.len() < MAX_BATCH_EVENTS && self.bytes + text.len() + EVENT_OVERHEAD <= MAX_BATCH_BYTES
    }

    fn push(&mut self, pos: Pos, line: LogLine) {
        self.last = Some(pos);
        self.lines += 1;
        // CloudWatch refuses empty messages; Docker's awslogs driver skips them too.
        if line.text.is_empty() {
            return;
        }
        let mut text = line.text;
        if text.len() > MAX_EVENT_BYTES {
            let mut cut = MAX_EVENT_BYTES;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        // Chronological within the batch, as PutLogEvents requires.
        let ms = line.timestamp_ns.div_euclid(1_000_000);
        let ms = self.events.last().map_or(ms, |e| e.timestamp.max(ms));
        self.bytes += text.len() + EVENT_OVERHEAD;
        self.events.push(InputLogEvent { timestamp: ms, message: text });
    }
}

impl Shipper {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut cursor = Cursor::load(&self.cursor_path);
        if let Some(pending) = cursor.pending.take() {
            if self.landed(&pending).await {
                cursor.shipped = Some(pending.pos);
            }
            cursor.save(&self.cursor_path);
        }
        let (tx, mut rx) = mpsc::channel::<(Pos, LogLine)>(BUFFER_LINES);
        let reader =
            tokio::spawn(read(self.runtime.clone(), self.container_id.clone(), cursor.shipped, tx, stop.clone()));
        let mut batch = Batch::default();
        let mut ended = false;
        while !ended {
            let deadline = tokio::time::sleep(FLUSH_INTERVAL);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    line = rx.recv() => match line {
                        Some((pos, line)) => {
                            if !batch.fits(&line.text) {
                                self.flush(&mut batch, &mut cursor, &mut stop).await;
                            }
                            batch.push(pos, line);
                        }
                        None => { ended = true; break; }
                    },
                    _ = &mut deadline => break,
                }
            }
            self.flush(&mut batch, &mut cursor, &mut stop).await;
        }
        let _ = reader.await;
        // The container has stopped and everything it printed was handled.
        let _ = std::fs::remove_file(&self.cursor_path);
    }

    /// Whether a batch recorded as pending was stored: the stream's last event is its last.
    async fn landed(&self, pending: &Pending) -> bool {
        let req = GetLogEventsRequest {
            log_group_name: Some(self.config.group.clone()),
            log_group_identifier: None,
            log_stream_name: self.config.stream.clone(),
            start_time: None,
            end_time: None,
            next_token: None,
            limit: Some(1),
            start_from_head: Some(false),
            unmask: None,
        };
        let mut backoff = Duration::from_millis(200);
        loop {
            match self.server.get_log_events(&req).await {
                Ok(r) => {
                    return r.events.unwrap_or_default().last().is_some_and(|e| {
                        e.timestamp == Some(pending.last_timestamp)
                            && e.message.as_deref() == Some(&pending.last_message)
                    });
                }
                Err(e) if e.is_transient() => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                Err(_) => return false,
            }
        }
    }

    /// Sends the batch, retrying while the server is unreachable (up to `FLUSH_DEADLINE`
    /// once the task is stopping), and moves the cursor past it.
    async fn flush(&self, batch: &mut Batch, cursor: &mut Cursor, stop: &mut watch::Receiver<bool>) {
        let Some(last) = batch.last else { return };
        let b = std::mem::take(batch);
        if b.events.is_empty() {
            cursor.shipped = Some(last);
            cursor.save(&self.cursor_path);
            return;
        }
        let final_event = b.events.last().cloned();
        cursor.pending =
            final_event.map(|e| Pending { pos: last, last_timestamp: e.timestamp, last_message: e.message });
        cursor.save(&self.cursor_path);
        let req = PutLogEventsRequest {
            log_group_name: self.config.group.clone(),
            log_stream_name: self.config.stream.clone(),
            log_events: b.events,
            sequence_token: None,
            entity: None,
        };
        let mut backoff = Duration::from_millis(200);
        let mut stopping_since: Option<tokio::time::Instant> = None;
        let mut recreated = false;
        loop {
            match self.server.put_log_events(&req).await {
                Ok(r) => {
                    if let Some(rejected) = r.rejected_log_events_info {
                        tracing::warn!(?rejected, "awslogs: the server rejected some events as too old or too new");
                    }
                    break;
                }
                Err(e) if e.is_transient() => {
                    if *stop.borrow() {
                        let since = *stopping_since.get_or_insert_with(tokio::time::Instant::now);
                        if since.elapsed() > FLUSH_DEADLINE {
                            drop_lines(b.lines, "the server stayed unreachable after the task stopped");
                            break;
                        }
                    }
                    tracing::debug!(error = %e, "awslogs: server unreachable; buffering");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                // The stream (or group) was deleted behind the agent's back: make it again once.
                Err(e) if is(&e, "ResourceNotFoundException") && !recreated => {
                    recreated = true;
                    if let Err(e) = create_stream(self.server.as_ref(), &self.config).await {
                        tracing::warn!(error = %e, "awslogs: cannot re-create the log stream");
                    }
                }
                Err(e) => {
                    drop_lines(b.lines, &format!("the server refused the batch: {e}"));
                    break;
                }
            }
        }
        cursor.pending = None;
        cursor.shipped = Some(last);
        cursor.save(&self.cursor_path);
    }
}

/// Follows the container's output from after `resume`, numbering each line, until the
/// container stops; reopens the stream if it breaks while the container runs, and waits
/// for a created container to start unless the task is stopping. Once the container has
/// stopped, one more read without `follow` collects what the followed stream did not
/// deliver: Docker may end a follow stream at the container's exit while a fast writer's
/// last lines are still unread.
async fn read(
    runtime: Arc<dyn Runtime>,
    id: String,
    resume: Option<Pos>,
    tx: mpsc::Sender<(Pos, LogLine)>,
    stop: watch::Receiver<bool>,
) {
    let mut last = resume;
    let mut follow = true;
    loop {
        let mut numbering = Numbering::new(last);
        match runtime.logs(&id, since_for(last), follow).await {
            Ok(mut rx) => {
                while let Some(line) = rx.recv().await {
                    let Some(pos) = numbering.next(line.timestamp_ns) else { continue };
                    last = Some(pos);
                    if tx.send((pos, line)).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => tracing::warn!(container = %id, error = %e, "awslogs: cannot read the container's output"),
        }
        if !follow {
            return;
        }
        match runtime.inspect(&id).await {
            Ok(Some(state)) if state.status == Status::Running => tokio::time::sleep(Duration::from_millis(200)).await,
            Ok(Some(state)) if state.status == Status::Created && !*stop.borrow() => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            Ok(None) => return,
            Ok(Some(_)) => follow = false,
        }
    }
}

#[cfg(test)]
mod tests;
