//! `/console/sign-in`: a form that posts an access key id and its secret (the root
//! credential in `<data-dir>/credentials`, or an IAM user's key); a key the keyring accepts
//! starts a session. `/console/sign-out` ends it.

use crate::actions::{Form, Post};
use crate::page::State;
use crate::session;
use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use serde::Serialize;
use std::time::Instant;

#[derive(Serialize)]
struct SignInView<'a> {
    next: &'a str,
    error: Option<&'a str>,
    access_key_id: &'a str,
}

/// Where to go after signing in: a console page, never another site.
pub fn next_page(asked: Option<&str>) -> &str {
    match asked {
        Some(path) if path.starts_with("/console/") && !path.starts_with("//") && !path.contains("://") => path,
        _ => "/console/",
    }
}

fn next_of(query: Option<&str>) -> String {
    let asked = form_urlencoded::parse(query.unwrap_or("").as_bytes()).find(|(k, _)| k == "next").map(|(_, v)| v);
    next_page(asked.as_deref()).to_owned()
}

pub async fn form(Shared(console): Shared<State>, uri: Uri) -> Response {
    let next = next_of(uri.query());
    console.render(StatusCode::OK, "sign_in.html", &SignInView { next: &next, error: None, access_key_id: "" })
}

pub async fn submit(Shared(console): Shared<State>, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let next = next_page(form.get("next")).to_owned();
    let key_id = form.get("accessKeyId").unwrap_or("").trim();
    let secret = form.get("secretAccessKey").unwrap_or("");
    let header = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let refused = |status, error: &str| {
        console.render(status, "sign_in.html", &SignInView { next: &next, error: Some(error), access_key_id: key_id })
    };
    if !session::same_origin(header(header::ORIGIN), header(header::HOST)) {
        return refused(StatusCode::FORBIDDEN, "The sign-in came from another site.");
    }
    let caller = match berth_api::in_process::sign_in(&console.api, key_id, secret).await {
        Ok(caller) => caller,
        Err(e) if e.status.is_client_error() => {
            return refused(StatusCode::UNAUTHORIZED, "The access key ID or the secret access key is wrong.");
        }
        Err(_) => return refused(StatusCode::SERVICE_UNAVAILABLE, "berth could not check the key: try again."),
    };
    let Some(token) = console.sessions.start(caller, Instant::now()) else {
        return refused(StatusCode::SERVICE_UNAVAILABLE, "berth could not start a session: try again.");
    };
    let mut resp = Redirect::to(&next).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&session::set_cookie(Some(&token))) {
        resp.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    resp
}

pub async fn sign_out(Shared(console): Shared<State>, post: Post) -> Response {
    console.sessions.end(&post.signed.token);
    let mut resp = Redirect::to("/console/sign-in").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&session::set_cookie(None)) {
        resp.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_pages_are_gone_to_after_sign_in() {
        assert_eq!(next_page(Some("/console/clusters/web")), "/console/clusters/web");
        assert_eq!(next_page(Some("https://evil.example/")), "/console/");
        assert_eq!(next_page(Some("//evil.example/console/")), "/console/");
        assert_eq!(next_page(Some("/console/x?u=http://evil")), "/console/");
        assert_eq!(next_page(None), "/console/");
    }

    #[test]
    fn the_next_page_is_read_from_the_query() {
        assert_eq!(next_of(Some("next=%2Fconsole%2Fclusters%2Fweb")), "/console/clusters/web");
        assert_eq!(next_of(None), "/console/");
    }
}
