//! Where Secrets Manager keeps its secrets in the store (prefix `secretsmanager/`).
//! Names are validated first (`[A-Za-z0-9/_+=.@-]`).

/// `secretsmanager/secrets/{name}`: a `SecretRecord`.
pub fn secret(name: &str) -> String {
    format!("{SECRETS}{name}")
}

pub const SECRETS: &str = "secretsmanager/secrets/";
