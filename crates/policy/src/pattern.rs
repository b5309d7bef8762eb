//! Strings of a policy with `*` / `?` wildcards and `${...}` policy variables, compiled once at
//! parse time and matched against a request at evaluation time.
//!
//! IAM's `*` matches any run of characters, `:` and `/` included, and `?` one character. A
//! variable's value is always literal (a user named `a*` does not become a wildcard), and so are
//! `${*}`, `${?}` and `${$}`, the escapes for those three characters.

use crate::request::Request;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// A run of literal text.
    Text(String),
    Star,
    One,
    Var {
        key: String,
        default: Option<String>,
    },
}

/// What the matcher sees: a part with its variable, if any, already replaced by its value.
#[derive(Clone, Copy)]
enum Token<'a> {
    Text(&'a str),
    Star,
    One,
    /// An unresolved variable: matches nothing.
    Never,
}

trait AsToken {
    fn as_token(&self) -> Token<'_>;
}

impl AsToken for Token<'_> {
    fn as_token(&self) -> Token<'_> {
        *self
    }
}

impl AsToken for Part {
    fn as_token(&self) -> Token<'_> {
        match self {
            Part::Text(text) => Token::Text(text),
            Part::Star => Token::Star,
            Part::One => Token::One,
            Part::Var { .. } => Token::Never,
        }
    }
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
        let mut parts = Vec::new();
        let mut text_run = String::new();
        let mut has_vars = false;
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if variables
                && rest.starts_with("${")
                && let Some(end) = rest.find('}')
            {
                match rest.get(2..end).unwrap_or_default() {
                    escaped @ ("*" | "?" | "$") => text_run.push_str(escaped),
                    inner => {
                        flush(&mut parts, &mut text_run);
                        parts.push(variable(inner));
                        has_vars = true;
                    }
                }
                rest = rest.get(end + 1..).unwrap_or_default();
                continue;
            }
            match c {
                '*' | '?' => {
                    flush(&mut parts, &mut text_run);
                    parts.push(if c == '*' { Part::Star } else { Part::One });
                }
                c if fold_case => text_run.push(c.to_ascii_lowercase()),
                c => text_run.push(c),
            }
            rest = rest.get(c.len_utf8()..).unwrap_or_default();
        }
        flush(&mut parts, &mut text_run);
        Pattern { parts, has_vars }
    }

    /// Whether the pattern matches `subject`, its variables taken from `request`. A variable the
    /// request has no single value for (and no default) makes the pattern match nothing.
    pub(crate) fn matches(&self, request: &Request, subject: &str) -> bool {
        if !self.has_vars {
            return self.matches_plain(subject);
        }
        // Most patterns start with text (`arn:aws:logs:`): rule out a mismatch before resolving.
        if let Some(Part::Text(prefix)) = self.parts.first()
            && !subject.starts_with(prefix.as_str())
        {
            return false;
        }
        let tokens: Option<Vec<Token>> = self
            .parts
            .iter()
            .map(|part| match part {
                Part::Var { key, default } => lookup(request, key, default).map(Token::Text),
                other => Some(other.as_token()),
            })
            .collect();
        tokens.is_some_and(|tokens| glob(&tokens, subject))
    }

    /// Match for a pattern compiled without variables.
    pub(crate) fn matches_plain(&self, subject: &str) -> bool {
        glob(&self.parts, subject)
    }

    /// The pattern as plain text with its variables substituted (wildcards kept as characters),
    /// for the operators that compare exactly: StringEquals, NumericEquals, IpAddress ...
    pub(crate) fn literal(&self, request: &Request) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Star => out.push('*'),
                Part::One => out.push('?'),
                Part::Var { key, default } => out.push_str(lookup(request, key, default)?),
            }
        }
        Some(out)
    }
}

fn flush(parts: &mut Vec<Part>, text_run: &mut String) {
    if !text_run.is_empty() {
        parts.push(Part::Text(std::mem::take(text_run)));
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

/// Wildcard match that only ever backtracks to the last `*` seen (which is enough for `*` and
/// `?`), jumping straight to the next place where the text after that `*` occurs: linear in
/// practice and never exponential, whatever the pattern.
fn glob(tokens: &[impl AsToken], subject: &str) -> bool {
    let (mut t, mut s) = (0usize, 0usize);
    // After the last `*`: the token index following it and where in the subject it resumes.
    let mut star: Option<(usize, usize)> = None;
    loop {
        let rest = subject.get(s..).unwrap_or_default();
        match tokens.get(t).map(AsToken::as_token) {
            Some(Token::Text(text)) if rest.starts_with(text) => {
                t += 1;
                s += text.len();
                continue;
            }
            Some(Token::One) if !rest.is_empty() => {
                t += 1;
                s += rest.chars().next().map_or(1, char::len_utf8);
                continue;
            }
            Some(Token::Star) => {
                t += 1;
                star = Some((t, s));
                continue;
            }
            None if rest.is_empty() => return true,
            // A trailing `*` takes whatever is left.
            None if t > 0 && matches!(tokens.get(t - 1).map(AsToken::as_token), Some(Token::Star)) => return true,
            _ => {}
        }
        // Mismatch: the last `*` takes one more character, then the next occurrence of the text
        // after it is where matching resumes.
        let Some((after_star, resume)) = star else {
            return false;
        };
        let skipped = subject.get(resume..).and_then(|r| r.chars().next()).map_or(0, char::len_utf8);
        if skipped == 0 {
            return false;
        }
        let mut next = resume + skipped;
        if let Some(Token::Text(text)) = tokens.get(after_star).map(AsToken::as_token) {
            match subject.get(next..).and_then(|r| find_text(r, text)) {
                Some(offset) => next += offset,
                None => return false,
            }
        }
        star = Some((after_star, next));
        t = after_star;
        s = next;
    }
}

/// `haystack.find(text)` for the short texts of policies: a scan for the first character, then
/// a comparison, cheaper there than the general substring searcher's set-up.
fn find_text(haystack: &str, text: &str) -> Option<usize> {
    let first = text.chars().next()?;
    let mut from = 0;
    loop {
        let at = from + haystack.get(from..)?.find(first)?;
        if haystack.get(at..)?.starts_with(text) {
            return Some(at);
        }
        from = at + first.len_utf8();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob_text(pattern: &str, subject: &str) -> bool {
        Pattern::compile(pattern, false, false).matches_plain(subject)
    }

    #[test]
    fn wildcards() {
        let cases = [
            ("*", "", true),
            ("*", "anything:at/all", true),
            ("", "", true),
            ("", "a", false),
            ("a", "a", true),
            ("a", "ab", false),
            ("?", "", false),
            ("?", "é", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a*", "a", true),
            ("*a", "ba", true),
            ("*a", "ab", false),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "abcbc", true),
            ("a*b*c", "aXbY", false),
            ("*ab*", "aab", true),
            ("**", "x", true),
            ("*?", "", false),
            ("*?", "x", true),
            ("a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
            ("arn:aws:ecs:*:*:cluster/*", "arn:aws:ecs:us-east-1:123456789012:cluster/prod", true),
            ("arn:aws:ecs:*:*:cluster/*", "arn:aws:ecs:us-east-1:123456789012:service/prod/web", false),
        ];
        for (pattern, subject, expected) in cases {
            assert_eq!(glob_text(pattern, subject), expected, "{pattern:?} against {subject:?}");
        }
    }
}
