//! The responses the load balancer gives itself, without a target: fixed-response and
//! redirect actions, and error pages (502, 503, 504, ...).

use crate::http1;
use crate::routing::RequestView;
use berth_model::elbv2::{Action, RedirectActionStatusCodeEnum};

/// A response of the proxy's own, its body left out when answering HEAD.
pub fn own_response(
    out: &mut Vec<u8>,
    status: (u16, &str),
    extra: &[(&str, &str)],
    body: &[u8],
    close: bool,
    to_head: bool,
) {
    http1::write_response(out, status, extra, body, close);
    if to_head {
        out.truncate(out.len() - body.len());
    }
}

pub fn error_page(out: &mut Vec<u8>, status: (u16, &str), close: bool, to_head: bool) {
    let text = format!("{} {}\n", status.0, status.1);
    own_response(out, status, &[("Content-Type", "text/plain; charset=utf-8")], text.as_bytes(), close, to_head);
}

pub fn fixed(out: &mut Vec<u8>, action: &Action, close: bool, to_head: bool) {
    let Some(c) = &action.fixed_response_config else {
        return error_page(out, (503, "Service Unavailable"), close, to_head);
    };
    let status = c.status_code.parse().ok().filter(|s| (200..600).contains(s)).unwrap_or(200);
    let content_type = c.content_type.as_deref().unwrap_or("text/plain");
    let body = c.message_body.as_deref().unwrap_or_default();
    own_response(out, (status, reason(status)), &[("Content-Type", content_type)], body.as_bytes(), close, to_head);
}

/// The standard reason phrase of a status ALB's fixed responses and redirects use.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// A redirect's Location, with ALB's `#{protocol}`, `#{host}`, `#{port}`, `#{path}` and
/// `#{query}` placeholders filled from the request.
pub fn redirect(out: &mut Vec<u8>, action: &Action, req: &RequestView, port: u16, close: bool, to_head: bool) {
    let Some(c) = &action.redirect_config else {
        return error_page(out, (503, "Service Unavailable"), close, to_head);
    };
    let fill = |template: &Option<String>, default: &str| {
        template
            .as_deref()
            .unwrap_or(default)
            .replace("#{protocol}", "http")
            .replace("#{host}", req.host)
            .replace("#{port}", &port.to_string())
            .replace("#{path}", req.path.trim_start_matches('/'))
            .replace("#{query}", req.query)
    };
    let protocol = fill(&c.protocol, "#{protocol}").to_lowercase();
    let location_port = fill(&c.port, "#{port}");
    let query = fill(&c.query, "#{query}");
    let mut location =
        format!("{protocol}://{}:{location_port}{}", fill(&c.host, "#{host}"), fill(&c.path, "/#{path}"));
    if !query.is_empty() {
        location = format!("{location}?{query}");
    }
    let status = match c.status_code {
        RedirectActionStatusCodeEnum::Http301 => 301,
        RedirectActionStatusCodeEnum::Http302 => 302,
    };
    let extra = [("Location", location.as_str()), ("Content-Type", "text/plain")];
    own_response(out, (status, reason(status)), &extra, b"", close, to_head);
}
