//! IAM's changes that span several records, raced: concurrent requests over HTTP must leave
//! both sides of every relation agreeing (attachment counts, memberships, the access key
//! quota) and never let a delete and an attach both win.

mod common;

use common::{Reply, futures_join, iam, start};

/// The XML text of the first `<tag>` in a reply.
fn text<'a>(reply: &'a Reply, tag: &str) -> Option<&'a str> {
    let xml = reply.body.as_str()?;
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    Some(&xml[start..start + xml[start..].find(&format!("</{tag}>"))?])
}

fn ok(reply: &Reply) {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

const TRUST: &str = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
const READ: &str = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22ecs%3AList%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";

#[tokio::test]
async fn concurrent_attachments_are_all_counted() {
    let server = start().await;
    let addr = server.addr;
    let created = iam(addr, &format!("Action=CreatePolicy&PolicyName=shared&PolicyDocument={READ}")).await;
    ok(&created);
    let arn = text(&created, "Arn").unwrap().to_string();
    for i in 0..8 {
        ok(&iam(addr, &format!("Action=CreateRole&RoleName=r{i}&AssumeRolePolicyDocument={TRUST}")).await);
    }
    let replies = futures_join(8, |i| {
        let arn = arn.clone();
        async move { iam(addr, &format!("Action=AttachRolePolicy&RoleName=r{i}&PolicyArn={arn}")).await }
    })
    .await;
    replies.iter().for_each(ok);
    let policy = iam(addr, &format!("Action=GetPolicy&PolicyArn={arn}")).await;
    assert_eq!(text(&policy, "AttachmentCount"), Some("8"));
    let conflict = iam(addr, &format!("Action=DeletePolicy&PolicyArn={arn}")).await;
    assert_eq!((conflict.status, text(&conflict, "Code")), (409, Some("DeleteConflict")));
}

#[tokio::test]
async fn a_delete_and_an_attach_never_both_win() {
    let server = start().await;
    let addr = server.addr;
    ok(&iam(addr, &format!("Action=CreateRole&RoleName=holder&AssumeRolePolicyDocument={TRUST}")).await);
    for round in 0..6 {
        let created = iam(addr, &format!("Action=CreatePolicy&PolicyName=p{round}&PolicyDocument={READ}")).await;
        ok(&created);
        let arn = text(&created, "Arn").unwrap().to_string();
        let replies = futures_join(2, |i| {
            let arn = arn.clone();
            async move {
                let action = if i == 0 { "DeletePolicy" } else { "AttachRolePolicy&RoleName=holder" };
                iam(addr, &format!("Action={action}&PolicyArn={arn}")).await
            }
        })
        .await;
        let (deleted, attached) = (replies[0].status == 200, replies[1].status == 200);
        assert!(deleted != attached, "round {round}: delete {:?} / attach {:?}", replies[0].body, replies[1].body);
        let listed = iam(addr, "Action=ListAttachedRolePolicies&RoleName=holder").await;
        let shows = listed.body.as_str().unwrap().contains(&arn);
        assert_eq!(shows, attached, "round {round}: the role lists the policy only if the attach won");
        if attached {
            ok(&iam(addr, &format!("Action=DetachRolePolicy&RoleName=holder&PolicyArn={arn}")).await);
        }
    }
}

#[tokio::test]
async fn concurrent_memberships_land_on_both_sides() {
    let server = start().await;
    let addr = server.addr;
    ok(&iam(addr, "Action=CreateGroup&GroupName=team").await);
    for i in 0..8 {
        ok(&iam(addr, &format!("Action=CreateUser&UserName=u{i}")).await);
    }
    futures_join(8, |i| async move { iam(addr, &format!("Action=AddUserToGroup&GroupName=team&UserName=u{i}")).await })
        .await
        .iter()
        .for_each(ok);
    let group = iam(addr, "Action=GetGroup&GroupName=team").await;
    let xml = group.body.as_str().unwrap();
    assert!((0..8).all(|i| xml.contains(&format!("<UserName>u{i}</UserName>"))), "{xml}");
    for i in 0..8 {
        let groups = iam(addr, &format!("Action=ListGroupsForUser&UserName=u{i}")).await;
        assert_eq!(text(&groups, "GroupName"), Some("team"));
    }
}

#[tokio::test]
async fn the_access_key_quota_holds_under_concurrent_creates() {
    let server = start().await;
    let addr = server.addr;
    ok(&iam(addr, "Action=CreateUser&UserName=keyed").await);
    let replies = futures_join(5, |_| async move { iam(addr, "Action=CreateAccessKey&UserName=keyed").await }).await;
    let created = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(created, 2);
    assert!(replies.iter().filter(|r| r.status != 200).all(|r| text(r, "Code") == Some("LimitExceeded")));
    let listed = iam(addr, "Action=ListAccessKeys&UserName=keyed").await;
    assert_eq!(listed.body.as_str().unwrap().matches("<AccessKeyId>").count(), 2);
    let (stored, _) = server.store.range("iam/access-keys/AKIA").await.unwrap();
    assert_eq!(stored.len(), 2, "only the keys that were answered are stored");
}
