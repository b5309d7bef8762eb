//! Strings of a policy with `*` / `?` wildcards and `${...}` policy variables, compiled once at
//! parse time and matched against a request at evaluation time.
//!
//! IAM's `*` matches any run of characters, `:` and `/` included, and `?` one character. A
//! variable's value is always literal (a user named `a*` does not become a wildcard), and so are
//! `${*}`, `${?}` and `${$}`, the escapes for those three characters.

use crate::request::Request;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Char(char),
    Star,
    One,
    Var { key: String, default: Option<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pattern {
    parts: Vec<Part>,
    has_vars: bool,
}

impl Pattern {
    /// `variables` is false for 2008-10-17 documents, where `${...}` is plain text.
    /// `fold_case` lowercases the pattern (actions, which match case-insensitively).
    pub(crate) fn compile(text: &str, variables: bool, fold_case: bool) -> Pattern {
        let mut parts = Vec::with_capacity(text.len());
        let mut has_vars = false;
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if variables
                && rest.starts_with("${")
                && let Some(end) = rest.find('}')
            {
                let inner = rest.get(2..end).unwrap_or_default();
                match inner {
                    "*" => parts.push(Part::Char('*')),
                    "?" => parts.push(Part::Char('?')),
                    "$" => parts.push(Part::Char('$')),
                    _ => {
                        parts.push(variable(inner));
                        has_vars = true;
                    }
                }
                rest = rest.get(end + 1..).unwrap_or_default();
                continue;
            }
            parts.push(match c {
                '*' => Part::Star,
                '?' => Part::One,
                c if fold_case => Part::Char(c.to_ascii_lowercase()),
                c => Part::Char(c),
            });
            rest = rest.get(c.len_utf8()..).unwrap_or_default();
        }
        Pattern { parts, has_vars }
    }

    /// Whether the pattern matches `subject`, its variables taken from `request`. A variable the
    /// request has no single value for (and no default) makes the pattern match nothing.
    pub(crate) fn matches(&self, request: &Request, subject: &str) -> bool {
        if !self.has_vars {
            return glob(&self.parts, subject);
        }
        match self.resolve(request) {
            Some(parts) => glob(&parts, subject),
            None => false,
        }
    }

    /// Match for a pattern compiled without variables.
    pub(crate) fn matches_plain(&self, subject: &str) -> bool {
        glob(&self.parts, subject)
    }

    /// The pattern as plain text with its variables substituted (wildcards kept as characters),
    /// for the operators that compare exactly: StringEquals, NumericEquals, IpAddress ...
    pub(crate) fn literal(&self, request: &Request) -> Option<String> {
        let mut out = String::with_capacity(self.parts.len());
        for part in &self.parts {
            match part {
                Part::Char(c) => out.push(*c),
                Part::Star => out.push('*'),
                Part::One => out.push('?'),
                Part::Var { key, default } => out.push_str(lookup(request, key, default)?),
            }
        }
        Some(out)
    }

    fn resolve(&self, request: &Request) -> Option<Vec<Part>> {
        let mut out = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            match part {
                Part::Var { key, default } => {
                    out.extend(lookup(request, key, default)?.chars().map(Part::Char));
                }
                other => out.push(other.clone()),
            }
        }
        Some(out)
    }
}

/// `aws:username` or `aws:username, 'default'` (the key lowercased: keys are case-insensitive).
fn variable(inner: &str) -> Part {
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let default = default.strip_prefix('\'').and_then(|d| d.strip_suffix('\'')).unwrap_or(default);
            (key, Some(default.to_string()))
        }
        None => (inner, None),
    };
    Part::Var { key: key.trim().to_ascii_lowercase(), default }
}

fn lookup<'a>(request: &'a Request, key: &str, default: &'a Option<String>) -> Option<&'a str> {
    match request.values(key) {
        Some([one]) => Some(one.as_str()),
        _ => default.as_deref(),
    }
}

/// Wildcard match with one backtracking point (the last `*`): linear in practice, never
/// exponential, whatever the pattern.
fn glob(pattern: &[Part], subject: &str) -> bool {
    let (mut p, mut s) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(c) = subject.get(s..).and_then(|rest| rest.chars().next()) {
        match pattern.get(p) {
            Some(Part::Char(x)) if *x == c => {
                p += 1;
                s += c.len_utf8();
                continue;
            }
            Some(Part::One) => {
                p += 1;
                s += c.len_utf8();
                continue;
            }
            Some(Part::Star) => {
                star = Some((p, s));
                p += 1;
                continue;
            }
            _ => {}
        }
        let Some((star_p, star_s)) = star else {
            return false;
        };
        // The last `*` takes one more character and the rest is tried again after it.
        let taken = subject.get(star_s..).and_then(|rest| rest.chars().next()).map_or(1, char::len_utf8);
        star = Some((star_p, star_s + taken));
        p = star_p + 1;
        s = star_s + taken;
    }
    pattern.get(p..).unwrap_or_default().iter().all(|part| *part == Part::Star)
}
