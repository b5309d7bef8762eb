//! Who may pull and push: each `/v2` request asks ECR's action on its repository
//! ([`action`], pure), and the registry asks its [`Gate`] (berth-api's policy evaluator, set
//! with `Registry::guard`) whether the token's principal may, with the repository's policy.

use futures::future::BoxFuture;
use http::Method;

/// ECR's IAM action for a `/v2` request on a repository, as ECR authorizes docker's calls:
/// pulls are BatchGetImage (manifests) and GetDownloadUrlForLayer (blobs); pushes are
/// BatchCheckLayerAvailability (HEAD of a blob), InitiateLayerUpload, UploadLayerPart,
/// CompleteLayerUpload and PutImage; tag lists ListImages; manifest deletes BatchDeleteImage.
pub fn action(kind: Kind, method: &Method) -> Option<&'static str> {
    Some(match (kind, method.as_str()) {
        (Kind::Tags, "GET") => "ecr:ListImages",
        (Kind::Manifest, "GET" | "HEAD") => "ecr:BatchGetImage",
        (Kind::Manifest, "PUT") => "ecr:PutImage",
        (Kind::Manifest, "DELETE") => "ecr:BatchDeleteImage",
        (Kind::Blob, "GET") => "ecr:GetDownloadUrlForLayer",
        (Kind::Blob, "HEAD") => "ecr:BatchCheckLayerAvailability",
        (Kind::Uploads, "POST") => "ecr:InitiateLayerUpload",
        (Kind::Upload, "PATCH" | "GET" | "DELETE") => "ecr:UploadLayerPart",
        (Kind::Upload, "PUT") => "ecr:CompleteLayerUpload",
        _ => return None,
    })
}

/// What a repository path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tags,
    Manifest,
    Blob,
    Uploads,
    Upload,
}

/// One question to the gate: may `principal` do `action` on `repository` (whose repository
/// policy is `policy`, as SetRepositoryPolicy stored it)?
pub struct Question<'a> {
    pub principal: &'a str,
    pub action: &'static str,
    pub repository: &'a str,
    pub policy: Option<&'a str>,
}

/// Decides registry requests; `Err` is the denial message.
pub trait Gate: Send + Sync {
    fn allows<'a>(&'a self, question: Question<'a>) -> BoxFuture<'a, Result<(), String>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulls_and_pushes_ask_ecrs_actions() {
        assert_eq!(action(Kind::Manifest, &Method::GET), Some("ecr:BatchGetImage"));
        assert_eq!(action(Kind::Manifest, &Method::HEAD), Some("ecr:BatchGetImage"));
        assert_eq!(action(Kind::Blob, &Method::GET), Some("ecr:GetDownloadUrlForLayer"));
        assert_eq!(action(Kind::Blob, &Method::HEAD), Some("ecr:BatchCheckLayerAvailability"));
        assert_eq!(action(Kind::Uploads, &Method::POST), Some("ecr:InitiateLayerUpload"));
        assert_eq!(action(Kind::Upload, &Method::PATCH), Some("ecr:UploadLayerPart"));
        assert_eq!(action(Kind::Upload, &Method::PUT), Some("ecr:CompleteLayerUpload"));
        assert_eq!(action(Kind::Manifest, &Method::PUT), Some("ecr:PutImage"));
        assert_eq!(action(Kind::Blob, &Method::DELETE), None);
    }
}
