//! The container credentials endpoint: a task with a task role gets that role's credentials
//! inside its containers through the provider every AWS SDK reads,
//! `AWS_CONTAINER_CREDENTIALS_FULL_URI` (`http://169.254.170.2:PORT/v2/credentials/ID`) with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`. The agent serves it on 169.254.170.2, an address it
//! puts on the host's loopback interface, which bridge and awsvpc containers reach through
//! their default gateway and host-network ones directly. Each agent listens on its own port
//! (several agents may share a host), which is why the full URI is used rather than
//! `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (port 80, one listener per host); SDKs accept a
//! full URI on 169.254.170.2.
//!
//! A container reads only its own task's credentials: the id in the URI and the token are
//! random per task, and both must match. The credentials come from the server
//! (`GetTaskCredentials`, which only answers for tasks placed on this instance) when the
//! task starts, and again whenever they are asked for within `REFRESH_BEFORE` of expiring.

use crate::client::ClientError;
use crate::server::Server;
use berth_model::Timestamp;
use berth_model::agent_protocol::{GetTaskCredentialsRequest, RoleCredentials, TaskRoleKind};
use std::collections::HashMap;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The address ECS serves task credentials on.
pub const ADDRESS: Ipv4Addr = Ipv4Addr::new(169, 254, 170, 2);
/// Credentials asked for this close to their expiration are fetched anew first.
const REFRESH_BEFORE: f64 = 15.0 * 60.0;
/// A request head larger than this, or slower than `READ_TIMEOUT`, is refused.
const MAX_HEAD: usize = 8 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// One task's entry: the token its containers present, and its latest credentials.
struct Entry {
    task_arn: String,
    token: String,
    credentials: RoleCredentials,
}

/// The endpoint and the credentials of the tasks it serves, by their random id.
pub struct Endpoint {
    server: Arc<dyn Server>,
    cluster: String,
    instance_arn: String,
    base_url: String,
    tasks: RwLock<HashMap<String, Entry>>,
}

impl Endpoint {
    /// Listens on `bind` (port 0: any; 169.254.170.2 is added to the loopback interface
    /// when the host does not have it yet) and serves until the process ends.
    pub async fn start(
        server: Arc<dyn Server>,
        cluster: &str,
        instance_arn: &str,
        bind: SocketAddr,
    ) -> std::io::Result<Arc<Endpoint>> {
        let listener = match TcpListener::bind(bind).await {
            Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable && bind.ip() == IpAddr::V4(ADDRESS) => {
                add_address().await?;
                TcpListener::bind(bind).await?
            }
            other => other?,
        };
        let addr = listener.local_addr()?;
        let endpoint = Arc::new(Endpoint {
            server,
            cluster: cluster.to_string(),
            instance_arn: instance_arn.to_string(),
            base_url: format!("http://{addr}"),
            tasks: RwLock::new(HashMap::new()),
        });
        tokio::spawn(serve(listener, endpoint.clone()));
        tracing::info!(%addr, "task credentials endpoint listening");
        Ok(endpoint)
    }

    /// Fetches `task_arn`'s task role credentials and returns the environment its
    /// containers find them through, or why it cannot.
    pub async fn register(&self, task_arn: &str) -> Result<Vec<String>, String> {
        let credentials = self.fetch(task_arn).await.map_err(|e| e.to_string())?;
        let random = |n| random_hex(n).map_err(|e| format!("reading /dev/urandom: {e}"));
        let (id, token) = (random(16)?, random(32)?);
        let env = vec![
            format!("AWS_CONTAINER_CREDENTIALS_FULL_URI={}/v2/credentials/{id}", self.base_url),
            format!("AWS_CONTAINER_AUTHORIZATION_TOKEN={token}"),
        ];
        if let Ok(mut tasks) = self.tasks.write() {
            tasks.retain(|_, e| e.task_arn != task_arn);
            tasks.insert(id, Entry { task_arn: task_arn.to_string(), token, credentials });
        }
        Ok(env)
    }

    /// Forgets a task that stopped: its URI answers 404 from now on.
    pub fn unregister(&self, task_arn: &str) {
        if let Ok(mut tasks) = self.tasks.write() {
            tasks.retain(|_, e| e.task_arn != task_arn);
        }
    }

    async fn fetch(&self, task_arn: &str) -> Result<RoleCredentials, ClientError> {
        let request = GetTaskCredentialsRequest {
            cluster: self.cluster.clone(),
            container_instance: self.instance_arn.clone(),
            task_arn: task_arn.to_string(),
            role: TaskRoleKind::Task,
        };
        Ok(self.server.get_task_credentials(&request).await?.credentials)
    }

    /// The answer to `GET path` with `authorization`: status and JSON body.
    async fn answer(&self, path: &str, authorization: Option<&str>) -> (u16, String) {
        let Some(id) = path.strip_prefix("/v2/credentials/") else {
            return (404, error_body("NotFound", "No such credentials."));
        };
        let found = self
            .tasks
            .read()
            .ok()
            .and_then(|tasks| tasks.get(id).map(|e| (e.task_arn.clone(), e.token.clone(), e.credentials.clone())));
        let Some((task_arn, token, mut credentials)) = found else {
            return (404, error_body("NotFound", "No such credentials."));
        };
        if authorization != Some(token.as_str()) {
            return (401, error_body("Unauthorized", "The authorization token does not match these credentials."));
        }
        if credentials.expiration.as_secs_f64() - Timestamp::now().as_secs_f64() < REFRESH_BEFORE {
            match self.fetch(&task_arn).await {
                Ok(fresh) => {
                    if let Ok(mut tasks) = self.tasks.write()
                        && let Some(entry) = tasks.get_mut(id)
                    {
                        entry.credentials = fresh.clone();
                    }
                    credentials = fresh;
                }
                Err(e) => {
                    tracing::warn!(task = task_arn, error = %e, "refreshing task credentials failed");
                    if credentials.expiration.as_secs_f64() <= Timestamp::now().as_secs_f64() {
                        return (500, error_body("ServerException", "The task's credentials could not be renewed."));
                    }
                }
            }
        }
        (200, body(&credentials))
    }
}

/// What SDKs parse: AccessKeyId, SecretAccessKey, Token, Expiration (ISO 8601), RoleArn.
fn body(credentials: &RoleCredentials) -> String {
    serde_json::json!({
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
        "Token": credentials.token,
        "Expiration": berth_model::timestamp::to_iso8601(credentials.expiration),
        "RoleArn": credentials.role_arn,
    })
    .to_string()
}

fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({ "code": code, "message": message }).to_string()
}

async fn serve(listener: TcpListener, endpoint: Arc<Endpoint>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(handle(stream, endpoint.clone()));
            }
            Err(e) => {
                tracing::warn!(error = %e, "credentials endpoint accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One request per connection (HTTP/1.1 with `Connection: close`).
async fn handle(mut stream: TcpStream, endpoint: Arc<Endpoint>) {
    let (status, body) = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Some(head)) => match parse_head(&head) {
            Some(("GET", path, authorization)) => endpoint.answer(path, authorization).await,
            Some(_) => (405, error_body("MethodNotAllowed", "Only GET is served.")),
            None => (400, error_body("BadRequest", "The request could not be parsed.")),
        },
        _ => (400, error_body("BadRequest", "The request head is too large, incomplete or too slow.")),
    };
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Bad Request",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The request head up to its blank line, or None when it exceeds `MAX_HEAD` or ends first.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(chunk.get(..n)?);
    }
    String::from_utf8(head).ok()
}

/// The method, path (without a query) and Authorization header of a request head.
fn parse_head(head: &str) -> Option<(&str, &str, Option<&str>)> {
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, target) = (request_line.next()?, request_line.next()?);
    let path = target.split('?').next().unwrap_or(target);
    let authorization = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.trim());
    Some((method, path, authorization))
}

/// Puts 169.254.170.2/32 on the loopback interface (root only). It stays after the agent
/// exits: other agents on the host may be serving on it.
async fn add_address() -> std::io::Result<()> {
    let out = tokio::task::spawn_blocking(|| {
        std::process::Command::new("ip").args(["addr", "add", &format!("{ADDRESS}/32"), "dev", "lo"]).output()
    })
    .await
    .map_err(std::io::Error::other)??;
    // "File exists": another agent added it in the meantime.
    if out.status.success() || String::from_utf8_lossy(&out.stderr).contains("File exists") {
        return Ok(());
    }
    Err(std::io::Error::other(format!(
        "adding {ADDRESS}/32 to lo failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// `bytes` random bytes from the kernel, in hex.
fn random_hex(bytes: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests;
