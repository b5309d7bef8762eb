//! Who a caller is, as IAM policies tell principals apart, derived from the caller's ARN
//! alone (pure): the root user, an IAM user (with its path), or a role session. Nothing else
//! can sign a request to berth, so any other ARN is refused (`None`).

/// A caller's identity, taken apart from its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity<'a> {
    /// `arn:aws:iam::ACCOUNT:root`: not subject to policies.
    Root { account: &'a str },
    /// `arn:aws:iam::ACCOUNT:user/PATH/NAME`; `path` is IAM's (`/` or `/a/b/`).
    User { account: &'a str, path: &'a str, name: &'a str },
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` (a session ARN carries no path).
    Role { account: &'a str, role: &'a str, session: &'a str },
}

impl<'a> Identity<'a> {
    pub fn of(arn: &'a str) -> Option<Identity<'a>> {
        let rest = arn.strip_prefix("arn:aws:")?;
        let (service, rest) = rest.split_once("::")?;
        let (account, resource) = rest.split_once(':')?;
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        match service {
            "iam" if resource == "root" => Some(Identity::Root { account }),
            "iam" => {
                let path_and_name = resource.strip_prefix("user")?;
                let cut = path_and_name.rfind('/')? + 1;
                let (path, name) = path_and_name.split_at(cut);
                (path.starts_with('/') && !name.is_empty()).then_some(Identity::User { account, path, name })
            }
            "sts" => {
                let (role, session) = resource.strip_prefix("assumed-role/")?.split_once('/')?;
                (!role.is_empty() && !session.is_empty() && !session.contains('/')).then_some(Identity::Role {
                    account,
                    role,
                    session,
                })
            }
            _ => None,
        }
    }

    pub fn account(&self) -> &'a str {
        match self {
            Identity::Root { account } | Identity::User { account, .. } | Identity::Role { account, .. } => account,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_each_kind_of_principal() {
        let a = "123456789012";
        assert_eq!(Identity::of("arn:aws:iam::123456789012:root"), Some(Identity::Root { account: a }));
        assert_eq!(
            Identity::of("arn:aws:iam::123456789012:user/bob"),
            Some(Identity::User { account: a, path: "/", name: "bob" })
        );
        assert_eq!(
            Identity::of("arn:aws:iam::123456789012:user/dev/ops/bob"),
            Some(Identity::User { account: a, path: "/dev/ops/", name: "bob" })
        );
        assert_eq!(
            Identity::of("arn:aws:sts::123456789012:assumed-role/deployer/ci-42"),
            Some(Identity::Role { account: a, role: "deployer", session: "ci-42" })
        );
        assert_eq!(Identity::of("arn:aws:sts::123456789012:assumed-role/deployer/ci-42").unwrap().account(), a);
    }

    #[test]
    fn refuses_what_cannot_sign() {
        for arn in [
            "",
            "root",
            "arn:aws:iam::123456789012:role/deployer",
            "arn:aws:iam::123456789012:group/admins",
            "arn:aws:iam::123456789012:user/",
            "arn:aws:iam::123456789012:userbob",
            "arn:aws:iam::12345:root",
            "arn:aws:iam::aws:root",
            "arn:aws:sts::123456789012:assumed-role/deployer",
            "arn:aws:sts::123456789012:assumed-role/deployer/a/b",
            "arn:aws:sts::123456789012:federated-user/bob",
            "arn:aws:ecs:us-east-1:123456789012:cluster/default",
            "ecs-tasks.amazonaws.com",
        ] {
            assert_eq!(Identity::of(arn), None, "{arn}");
        }
    }
}
