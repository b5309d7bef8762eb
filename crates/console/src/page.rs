//! What every page shares: the console's state, the signed-in request (`Signed`: a page
//! without a session is sent to sign-in), rendering a template, and showing an API error.

use crate::client::Client;
use crate::session::{self, Session, Sessions};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use berth_api::Api;
use berth_api::error::AwsError;
use http::{StatusCode, header, request::Parts};
use minijinja::Environment;
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// The console's shared state.
pub struct Console {
    pub api: Arc<Api>,
    pub sessions: Sessions,
    pub templates: Environment<'static>,
}

pub type State = Arc<Console>;

/// A request from a signed-in person: their session and a client acting as them.
pub struct Signed {
    pub token: String,
    pub session: Session,
    pub client: Client,
    /// The session's message for this page, taken now (shown once).
    pub flash: Option<String>,
}

impl FromRequestParts<State> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &State) -> Result<Self, Response> {
        let now = Instant::now();
        let found = parts
            .headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|cookies| session::cookie(cookies, session::COOKIE))
            .and_then(|token| Some((token.to_owned(), console.sessions.get(token, now)?)));
        let Some((token, session)) = found else {
            return Err(Redirect::to(&sign_in_url(parts.uri.path())).into_response());
        };
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let client = Client { api: console.api.clone(), caller: session.caller.clone(), peer };
        let flash = if parts.method == http::Method::GET { console.sessions.take_flash(&token) } else { None };
        Ok(Signed { token, session, client, flash })
    }
}

/// Where a request without a session goes, remembering the page it asked for.
fn sign_in_url(path: &str) -> String {
    let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
    format!("/console/sign-in?next={next}")
}

/// What every page's layout reads besides the view itself.
#[derive(Serialize)]
struct Layout<'a, V: Serialize> {
    principal: &'a str,
    csrf: &'a str,
    flash: Option<&'a str>,
    title: &'a str,
    view: V,
}

impl Console {
    /// Renders `template` for the signed-in request with `view`.
    pub fn page<V: Serialize>(&self, signed: &Signed, template: &str, title: &str, view: V) -> Response {
        let layout = Layout {
            principal: &signed.session.caller.arn,
            csrf: &signed.session.csrf,
            flash: signed.flash.as_deref(),
            title,
            view,
        };
        self.render(StatusCode::OK, template, &layout)
    }

    /// Renders `template` with `context` (autoescaped HTML).
    pub fn render<C: Serialize>(&self, status: StatusCode, template: &str, context: &C) -> Response {
        let rendered = self.templates.get_template(template).and_then(|t| t.render(context));
        match rendered {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, template, "a console page failed to render");
                (StatusCode::INTERNAL_SERVER_ERROR, "the page failed to render").into_response()
            }
        }
    }

    /// The page for an API error: its code and message, with the API's status.
    pub fn error(&self, signed: &Signed, err: &AwsError) -> Response {
        #[derive(Serialize)]
        struct Failed<'a> {
            code: &'a str,
            message: &'a str,
        }
        let mut resp = self.page(signed, "error.html", &err.code, Failed { code: &err.code, message: &err.message });
        *resp.status_mut() = err.status;
        resp
    }
}
