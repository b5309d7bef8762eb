//! Console sessions: who signed in, behind an unguessable cookie, and the token every form
//! of that session carries (CSRF). The table lives in memory: a restart signs everyone out,
//! which loses nothing but the sign-in itself.
//!
//! The cookie is `HttpOnly` (no script reads it) and `SameSite=Strict` (no other site's page
//! makes the browser send it); a change also needs the session's form token and, when the
//! browser names it, an `Origin` that is this server.

use berth_api::Caller;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "berth-console";

/// How long a session lasts after its sign-in.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// One signed-in person.
#[derive(Debug, Clone)]
pub struct Session {
    pub caller: Caller,
    /// What every form of this session must send back as `csrf`.
    pub csrf: String,
    expires: Instant,
    /// A message for the next page shown (an action's refusal or result).
    flash: Option<String>,
}

/// The sessions of this server, by cookie value.
#[derive(Default)]
pub struct Sessions {
    // std Mutex: held for a map operation only, never across an await.
    by_token: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session for `caller`: the cookie value.
    pub fn start(&self, caller: Caller, now: Instant) -> Option<String> {
        let token = random_token()?;
        let session = Session { caller, csrf: random_token()?, expires: now + LIFETIME, flash: None };
        let mut table = self.by_token.lock().ok()?;
        table.retain(|_, s| s.expires > now);
        table.insert(token.clone(), session);
        Some(token)
    }

    /// The live session behind cookie value `token`.
    pub fn get(&self, token: &str, now: Instant) -> Option<Session> {
        let table = self.by_token.lock().ok()?;
        table.get(token).filter(|s| s.expires > now).cloned()
    }

    /// Takes the session's message for the page about to be shown.
    pub fn take_flash(&self, token: &str) -> Option<String> {
        self.by_token.lock().ok()?.get_mut(token)?.flash.take()
    }

    pub fn set_flash(&self, token: &str, message: String) {
        if let Ok(mut table) = self.by_token.lock()
            && let Some(session) = table.get_mut(token)
        {
            session.flash = Some(message);
        }
    }

    pub fn end(&self, token: &str) {
        if let Ok(mut table) = self.by_token.lock() {
            table.remove(token);
        }
    }
}

/// 32 random bytes as hex.
fn random_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(hex::encode(bytes))
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|pair| pair.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// The `Set-Cookie` value that carries session `token` (or, with `None`, removes it).
pub fn set_cookie(token: Option<&str>) -> String {
    match token {
        Some(token) => {
            format!("{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}", LIFETIME.as_secs())
        }
        None => format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"),
    }
}

/// Whether a form's `csrf` field is the session's token (compared in constant time).
pub fn csrf_matches(session: &Session, sent: Option<&str>) -> bool {
    sent.is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(session.csrf.as_bytes())))
}

/// Whether a change may come from where the browser says it comes from: an `Origin` header,
/// when present, must name the host the request was sent to (`http://HOST`).
pub fn same_origin(origin: Option<&str>, host: Option<&str>) -> bool {
    match (origin, host) {
        (None, _) => true,
        (Some(origin), Some(host)) => {
            origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
        }
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            account: "000000000000".into(),
            arn: "arn:aws:iam::000000000000:root".into(),
            user_id: "000000000000".into(),
            access_key_id: Some("AKIAEXAMPLE".into()),
        }
    }

    #[test]
    fn a_session_is_found_by_its_token_until_it_expires_or_ends() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let token = sessions.start(caller(), now).unwrap();
        assert_eq!(token.len(), 64);
        assert_eq!(sessions.get(&token, now).unwrap().caller, caller());
        assert!(sessions.get("not-a-token", now).is_none());
        assert!(sessions.get(&token, now + LIFETIME).is_none());
        sessions.end(&token);
        assert!(sessions.get(&token, now).is_none());
    }

    #[test]
    fn two_sessions_have_different_tokens_and_form_tokens() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let (a, b) = (sessions.start(caller(), now).unwrap(), sessions.start(caller(), now).unwrap());
        assert_ne!(a, b);
        assert_ne!(sessions.get(&a, now).unwrap().csrf, sessions.get(&b, now).unwrap().csrf);
    }

    #[test]
    fn a_flash_is_shown_once() {
        let sessions = Sessions::default();
        let token = sessions.start(caller(), Instant::now()).unwrap();
        sessions.set_flash(&token, "scaled".into());
        assert_eq!(sessions.take_flash(&token).as_deref(), Some("scaled"));
        assert_eq!(sessions.take_flash(&token), None);
    }

    #[test]
    fn only_the_sessions_own_form_token_passes() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let token = sessions.start(caller(), now).unwrap();
        let session = sessions.get(&token, now).unwrap();
        assert!(csrf_matches(&session, Some(&session.csrf.clone())));
        assert!(!csrf_matches(&session, None));
        assert!(!csrf_matches(&session, Some("")));
        assert!(!csrf_matches(&session, Some(&session.csrf[..63])));
    }

    #[test]
    fn cookies_are_read_by_name() {
        assert_eq!(cookie("a=1; berth-console=abc; b=2", COOKIE), Some("abc"));
        assert_eq!(cookie("berth-consoles=abc", COOKIE), None);
        assert_eq!(cookie("", COOKIE), None);
    }

    #[test]
    fn the_cookie_is_http_only_and_strict() {
        let set = set_cookie(Some("abc"));
        assert!(set.starts_with("berth-console=abc;"));
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/console"));
        assert!(set_cookie(None).contains("Max-Age=0"));
    }

    #[test]
    fn a_foreign_origin_is_refused() {
        assert!(same_origin(None, Some("127.0.0.1:4566")));
        assert!(same_origin(Some("http://127.0.0.1:4566"), Some("127.0.0.1:4566")));
        assert!(!same_origin(Some("http://evil.example"), Some("127.0.0.1:4566")));
        assert!(!same_origin(Some("null"), Some("127.0.0.1:4566")));
        assert!(!same_origin(Some("http://127.0.0.1:4566"), None));
    }
}
