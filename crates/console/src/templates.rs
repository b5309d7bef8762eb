//! The console's templates and static files, compiled into the binary from `templates/` and
//! `static/`. Templates named `*.html` are autoescaped (minijinja's default for that suffix).

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use minijinja::Environment;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("clusters.html", include_str!("../templates/clusters.html")),
    ("cluster.html", include_str!("../templates/cluster.html")),
    ("service.html", include_str!("../templates/service.html")),
    ("task.html", include_str!("../templates/task.html")),
    ("task_definitions.html", include_str!("../templates/task_definitions.html")),
    ("task_definition.html", include_str!("../templates/task_definition.html")),
    ("repositories.html", include_str!("../templates/repositories.html")),
    ("log_groups.html", include_str!("../templates/log_groups.html")),
    ("log_group.html", include_str!("../templates/log_group.html")),
];

const ASSETS: &[(&str, &str, &str)] = &[
    ("console.js", "text/javascript; charset=utf-8", include_str!("../static/console.js")),
    ("console.css", "text/css; charset=utf-8", include_str!("../static/console.css")),
];

/// A name as one URL path segment (a log group's `/` too); templates write it `name|segment`.
pub fn segment(name: &str) -> String {
    form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>().replace('+', "%20")
}

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.add_filter("segment", |name: &str| segment(name));
    for (name, source) in TEMPLATES {
        // The templates are part of the build: one that does not parse fails the unit tests.
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(error = %e, name, "a console template does not parse");
        }
    }
    env
}

pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, ..)| *name == file) {
        Some((_, content_type, body)) => {
            ([(header::CONTENT_TYPE, *content_type), (header::CACHE_CONTROL, "max-age=300")], *body).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn names_are_escaped_as_path_segments() {
        assert_eq!(segment("/ecs/web app"), "%2Fecs%2Fweb%20app");
        let env = environment();
        let html = env.render_str(r#"<a href="/x/{{ g|segment }}">"#, minijinja::context! { g => "/a&b" }).unwrap();
        assert_eq!(html, r#"<a href="/x/%2Fa%26b">"#);
    }

    #[test]
    fn values_are_escaped() {
        let env = environment();
        let html = env
            .get_template("error.html")
            .unwrap()
            .render(minijinja::context! { principal => "p", csrf => "t", title => "x", view => minijinja::context! {
            code => "<script>alert(1)</script>", message => "m" } })
            .unwrap();
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>alert"));
    }
}
