use super::*;
use crate::server::fake::{Call, FakeServer};

const INSTANCE: &str = "arn:aws:ecs:us-east-1:000000000000:container-instance/default/i1";
const TASK_A: &str = "arn:aws:ecs:us-east-1:000000000000:task/default/aaaa";
const TASK_B: &str = "arn:aws:ecs:us-east-1:000000000000:task/default/bbbb";

async fn endpoint(server: &FakeServer) -> Arc<Endpoint> {
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    Endpoint::start(Arc::new(server.clone()), "default", INSTANCE, bind).await.unwrap()
}

/// The (uri, token) a task's containers get.
fn uri_and_token(env: &[String]) -> (String, String) {
    let get = |name: &str| env.iter().find_map(|e| e.strip_prefix(&format!("{name}="))).map(str::to_string).unwrap();
    (get("AWS_CONTAINER_CREDENTIALS_FULL_URI"), get("AWS_CONTAINER_AUTHORIZATION_TOKEN"))
}

async fn get(uri: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new().get(uri);
    if let Some(token) = token {
        request = request.header("Authorization", token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, serde_json::from_str(&response.text().await.unwrap()).unwrap())
}

#[tokio::test]
async fn a_task_reads_its_own_credentials_and_no_other() {
    let server = FakeServer::new(INSTANCE);
    let endpoint = endpoint(&server).await;
    let (uri_a, token_a) = uri_and_token(&endpoint.register(TASK_A).await.unwrap());
    let (uri_b, token_b) = uri_and_token(&endpoint.register(TASK_B).await.unwrap());
    assert_ne!(uri_a, uri_b);
    assert_ne!(token_a, token_b);
    assert!(uri_a.starts_with(&endpoint.base_url) && uri_a.contains("/v2/credentials/"));

    let (status, body) = get(&uri_a, Some(&token_a)).await;
    assert_eq!(status, 200);
    assert_eq!(body["AccessKeyId"], "AKID-aaaa");
    assert_eq!(body["SecretAccessKey"], "secret-aaaa");
    assert_eq!(body["Token"], "token-aaaa");
    assert_eq!(body["RoleArn"], "arn:aws:iam::000000000000:role/task");
    assert!(body["Expiration"].as_str().unwrap().ends_with('Z'));

    // Task A's token opens nothing of task B's, and no token opens nothing at all.
    assert_eq!(get(&uri_b, Some(&token_a)).await.0, 401);
    assert_eq!(get(&uri_a, None).await.0, 401);
    assert_eq!(get(&format!("{}/v2/credentials/guessed", endpoint.base_url), Some(&token_a)).await.0, 404);
    assert_eq!(get(&uri_b, Some(&token_b)).await.1["AccessKeyId"], "AKID-bbbb");

    // The server was asked for each task's own task role, on behalf of this instance.
    let asked: Vec<_> = server
        .received()
        .into_iter()
        .filter_map(|r| match r.call {
            Call::GetTaskCredentials(req) => Some(req),
            _ => None,
        })
        .collect();
    assert_eq!(asked.len(), 2);
    assert!(asked.iter().all(|r| r.role == TaskRoleKind::Task && r.container_instance == INSTANCE));
    assert_eq!(asked[0].task_arn, TASK_A);

    endpoint.unregister(TASK_A);
    assert_eq!(get(&uri_a, Some(&token_a)).await.0, 404);
    assert_eq!(get(&uri_b, Some(&token_b)).await.0, 200);
}

#[tokio::test]
async fn credentials_close_to_expiry_are_fetched_again() {
    let server = FakeServer::new(INSTANCE);
    let endpoint = endpoint(&server).await;
    let (uri, token) = uri_and_token(&endpoint.register(TASK_A).await.unwrap());
    if let Ok(mut tasks) = endpoint.tasks.write() {
        for entry in tasks.values_mut() {
            entry.credentials.expiration = Timestamp(Timestamp::now().as_secs_f64() + 60.0);
        }
    }
    let (status, body) = get(&uri, Some(&token)).await;
    assert_eq!(status, 200);
    let fetches = server.received().iter().filter(|r| matches!(r.call, Call::GetTaskCredentials(_))).count();
    assert_eq!(fetches, 2, "the credentials were fetched again");
    let expiration = body["Expiration"].as_str().unwrap().to_string();
    let stored = endpoint.tasks.read().unwrap().values().next().unwrap().credentials.expiration;
    assert_eq!(expiration, berth_model::timestamp::to_iso8601(stored));
    assert!(stored.as_secs_f64() > Timestamp::now().as_secs_f64() + REFRESH_BEFORE);
}

#[test]
fn request_heads_parse() {
    assert_eq!(
        parse_head("GET /v2/credentials/x?y=1 HTTP/1.1\r\nHost: h\r\nauthorization:  tok \r\n\r\n"),
        Some(("GET", "/v2/credentials/x", Some("tok")))
    );
    assert_eq!(parse_head("GET /a HTTP/1.1\r\n\r\n"), Some(("GET", "/a", None)));
    assert_eq!(parse_head(""), None);
}
