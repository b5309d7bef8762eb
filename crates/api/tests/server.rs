//! Integration tier: the real router on 127.0.0.1:0 with a SQLite store in a temp dir,
//! spoken to over plain HTTP/1.1 the way an AWS JSON client speaks.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn clusters_round_trip_with_request_ids_and_json_errors() {
    let s = start().await;
    let created =
        ecs(s.addr, "CreateCluster", json!({"clusterName": "web", "tags": [{"key": "team", "value": "core"}]})).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert!(created.headers.contains("x-amzn-requestid: "));
    assert!(created.headers.contains("content-type: application/x-amz-json-1.1"));
    assert_eq!(created.body["cluster"]["clusterArn"], "arn:aws:ecs:us-east-1:000000000000:cluster/web");
    assert_eq!(created.body["cluster"]["status"], "ACTIVE");

    let described = ecs(s.addr, "DescribeClusters", json!({"clusters": ["web", "nope"], "include": ["TAGS"]})).await;
    assert_eq!(described.body["clusters"][0]["tags"], json!([{"key": "team", "value": "core"}]));
    assert_eq!(described.body["failures"][0]["reason"], "MISSING");
    assert_eq!(described.body["failures"][0]["arn"], "arn:aws:ecs:us-east-1:000000000000:cluster/nope");

    let missing = ecs(s.addr, "DeleteCluster", json!({"cluster": "nope"})).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["__type"], "ClusterNotFoundException");
}

#[tokio::test]
async fn protocol_errors_are_aws_shaped() {
    let s = start().await;
    let unknown = ecs(s.addr, "LaunchRockets", json!({})).await;
    assert_eq!((unknown.status, unknown.body["__type"].as_str()), (400, Some("UnknownOperationException")));

    let target = [("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.CreateCluster")];
    let malformed = raw(s.addr, &target, b"{\"clusterName\": ").await;
    assert_eq!(malformed.body["__type"], "SerializationException");

    let wrong_type = ecs(s.addr, "ListClusters", json!({"maxResults": "ten"})).await;
    assert_eq!(wrong_type.body["__type"], "SerializationException");
    assert!(wrong_type.body["message"].as_str().unwrap().contains("maxResults"));

    let missing = ecs(s.addr, "DeleteCluster", json!({})).await;
    assert_eq!(missing.body["__type"], "InvalidParameterException");

    let huge = vec![b' '; berth_api::MAX_BODY + 1];
    let target_owned: Vec<(String, String)> = target.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let too_large = send(s.addr, &target_owned, &huge).await;
    assert_eq!((too_large.status, too_large.body["__type"].as_str()), (413, Some("RequestEntityTooLargeException")));

    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let no_action = send(s.addr, &signed(s.addr, "sts", &form, b"Version=2011-06-15"), b"Version=2011-06-15").await;
    assert!(no_action.headers.contains("content-type: text/xml"));
    assert!(no_action.body.as_str().unwrap().contains("<Code>MissingAction</Code>"));

    // Nothing was stored by any of the refused requests.
    let listed = ecs(s.addr, "ListClusters", json!({})).await;
    assert_eq!(listed.body["clusterArns"], json!([]));
}

#[tokio::test]
async fn concurrent_registrations_get_distinct_dense_revisions() {
    let s = start().await;
    let td = json!({"family": "race", "containerDefinitions": [{"name": "c", "image": "busybox", "memory": 64}]});
    let replies = futures_join(20, |_| ecs(s.addr, "RegisterTaskDefinition", td.clone())).await;
    let mut revisions: Vec<i64> =
        replies.iter().map(|r| r.body["taskDefinition"]["revision"].as_i64().unwrap()).collect();
    revisions.sort();
    assert_eq!(revisions, (1..=20).collect::<Vec<_>>());
}

#[tokio::test]
async fn unsigned_and_wrongly_signed_requests_are_refused() {
    let s = start().await;
    let target = "AmazonEC2ContainerServiceV20141113.ListClusters".to_string();
    let unsigned = send(s.addr, &[("X-Amz-Target".into(), target.clone())], b"{}").await;
    assert_eq!((unsigned.status, unsigned.body["__type"].as_str()), (403, Some("MissingAuthenticationTokenException")));

    let mut tampered = signed(s.addr, "ecs", &[("X-Amz-Target", &target)], b"{}");
    let tampered_body = br#"{"maxResults": 1}"#;
    let bad = send(s.addr, &tampered, tampered_body).await;
    assert_eq!(bad.body["__type"], "InvalidSignatureException");

    for (k, v) in tampered.iter_mut() {
        if k.eq_ignore_ascii_case("authorization") {
            *v = v.replace(AKID, "AKIDUNKNOWN000000000");
        }
    }
    let unknown = send(s.addr, &tampered, b"{}").await;
    assert_eq!(unknown.body["__type"], "UnrecognizedClientException");
}

#[tokio::test]
async fn sts_get_caller_identity_names_the_root_caller() {
    let s = start().await;
    let body = b"Action=GetCallerIdentity&Version=2011-06-15";
    let form = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")];
    let reply = send(s.addr, &signed(s.addr, "sts", &form, body), body).await;
    assert_eq!(reply.status, 200);
    let xml = reply.body.as_str().unwrap();
    assert!(xml.contains("<GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:root</Arn>"), "{xml}");
    assert!(xml.contains("<Account>000000000000</Account>"), "{xml}");
}
