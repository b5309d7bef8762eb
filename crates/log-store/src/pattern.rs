//! CloudWatch Logs filter patterns, parsed once and matched against each event's message.
//!
//! Supported syntax (what FilterLogEvents and `aws logs tail --filter-pattern` accept):
//! - the empty pattern (or only blanks): every event;
//! - terms, case-sensitive substrings, all required: `ERROR timeout`;
//! - `"quoted phrases"` (with `\"` escapes) matched as one substring;
//! - `?term` optional terms: at least one of them must appear (`?ERROR ?WARN`);
//! - `-term` exclusions: none of them may appear (`ERROR -healthcheck`);
//! - JSON patterns on messages that are JSON objects: `{ $.level = "error" }`, with
//!   selectors `$.a.b`, `$.a[0]`, comparisons `= != < <= > >=` on strings (with `*`
//!   wildcards) and numbers, `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`, `&&`, `||`
//!   and parentheses.
//!
//! Space-delimited patterns (`[ip, user, ...]`) and regular expressions are refused with
//! a `PatternError` (InvalidParameterException in the API), never mis-matched.

use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid filter pattern: {}", self.0)
    }
}

impl std::error::Error for PatternError {}

fn err<T>(msg: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError(msg.into()))
}

/// A parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    All,
    Terms { required: Vec<String>, optional: Vec<String>, excluded: Vec<String> },
    Json(JsonExpr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonExpr {
    And(Box<JsonExpr>, Box<JsonExpr>),
    Or(Box<JsonExpr>, Box<JsonExpr>),
    Compare { path: Vec<PathStep>, op: CmpOp, value: Literal },
    IsNull(Vec<PathStep>),
    IsBool(Vec<PathStep>, bool),
    NotExists(Vec<PathStep>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Num(f64),
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(Pattern::All);
        }
        if t.starts_with('{') {
            return parse_json(t).map(Pattern::Json);
        }
        if t.starts_with('[') {
            return err("space-delimited patterns ([field, ...]) are not supported by this server");
        }
        if t.starts_with('%') {
            return err("regular-expression patterns are not supported by this server");
        }
        parse_terms(t)
    }

    /// Whether the event with this message matches.
    pub fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Terms { required, optional, excluded } => {
                required.iter().all(|t| message.contains(t.as_str()))
                    && (optional.is_empty() || optional.iter().any(|t| message.contains(t.as_str())))
                    && !excluded.iter().any(|t| message.contains(t.as_str()))
            }
            Pattern::Json(expr) => {
                // Cheap rejection before parsing: only JSON objects can match.
                let m = message.trim_start();
                if !m.starts_with('{') {
                    return false;
                }
                match serde_json::from_str::<Value>(m) {
                    Ok(v) => eval(expr, &v),
                    Err(_) => false,
                }
            }
        }
    }
}

fn parse_terms(t: &str) -> Result<Pattern, PatternError> {
    let (mut required, mut optional, mut excluded) = (vec![], vec![], vec![]);
    let chars: Vec<char> = t.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let mut kind = 0; // 0 required, 1 optional, 2 excluded
        if chars[i] == '?' {
            kind = 1;
            i += 1;
        } else if chars[i] == '-' && i + 1 < chars.len() && !chars[i + 1].is_whitespace() {
            kind = 2;
            i += 1;
        }
        if i >= chars.len() || chars[i].is_whitespace() {
            return err("'?' must be followed by a term");
        }
        let term = if chars[i] == '"' {
            i += 1;
            let mut s = String::new();
            loop {
                match chars.get(i) {
                    None => return err("unterminated quoted phrase"),
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') if i + 1 < chars.len() => {
                        s.push(chars[i + 1]);
                        i += 2;
                    }
                    Some(c) => {
                        s.push(*c);
                        i += 1;
                    }
                }
            }
            s
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() {
                if chars[i] == '"' {
                    return err("a quote inside a term; quote the whole phrase");
                }
                i += 1;
            }
            chars[start..i].iter().collect()
        };
        if term.is_empty() {
            return err("empty quoted phrase");
        }
        match kind {
            0 => required.push(term),
            1 => optional.push(term),
            _ => excluded.push(term),
        }
    }
    Ok(Pattern::Terms { required, optional, excluded })
}

// ---- JSON patterns ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Op(CmpOp),
    Selector(Vec<PathStep>),
    Str(String),
    Num(f64),
    Word(String),
}

fn parse_json(t: &str) -> Result<JsonExpr, PatternError> {
    let inner = t.strip_prefix('{').and_then(|s| s.trim_end().strip_suffix('}'));
    let Some(inner) = inner else { return err("a JSON pattern must be enclosed in { }") };
    let toks = lex(inner)?;
    if toks.is_empty() {
        return err("empty JSON pattern");
    }
    let mut p = Parser { toks, pos: 0 };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return err(format!("unexpected token {:?}", p.toks[p.pos]));
    }
    Ok(e)
}

fn lex(s: &str) -> Result<Vec<Tok>, PatternError> {
    let c: Vec<char> = s.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        match ch {
            _ if ch.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            '&' if c.get(i + 1) == Some(&'&') => {
                out.push(Tok::And);
                i += 2
            }
            '|' if c.get(i + 1) == Some(&'|') => {
                out.push(Tok::Or);
                i += 2
            }
            '=' => {
                out.push(Tok::Op(CmpOp::Eq));
                i += if c.get(i + 1) == Some(&'=') { 2 } else { 1 };
            }
            '!' if c.get(i + 1) == Some(&'=') => {
                out.push(Tok::Op(CmpOp::Ne));
                i += 2
            }
            '<' | '>' => {
                let eq = c.get(i + 1) == Some(&'=');
                out.push(Tok::Op(match (ch, eq) {
                    ('<', false) => CmpOp::Lt,
                    ('<', true) => CmpOp::Le,
                    ('>', false) => CmpOp::Gt,
                    _ => CmpOp::Ge,
                }));
                i += if eq { 2 } else { 1 };
            }
            '"' => {
                i += 1;
                let mut v = String::new();
                loop {
                    match c.get(i) {
                        None => return err("unterminated string in JSON pattern"),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') if i + 1 < c.len() => {
                            v.push(c[i + 1]);
                            i += 2;
                        }
                        Some(x) => {
                            v.push(*x);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(v));
            }
            '$' => {
                let start = i;
                i += 1;
                while i < c.len() && (c[i].is_alphanumeric() || "._-[]@:*".contains(c[i])) {
                    i += 1;
                }
                let text: String = c[start..i].iter().collect();
                out.push(Tok::Selector(parse_selector(&text)?));
            }
            _ if ch.is_ascii_digit() || ch == '-' || ch == '+' => {
                let start = i;
                i += 1;
                while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '.' || c[i] == '-' || c[i] == '+') {
                    i += 1;
                }
                let text: String = c[start..i].iter().collect();
                match text.parse::<f64>() {
                    Ok(n) => out.push(Tok::Num(n)),
                    Err(_) => return err(format!("bad number '{text}'")),
                }
            }
            _ if ch.is_alphanumeric() || ch == '*' || ch == '_' => {
                let start = i;
                while i < c.len() && !c[i].is_whitespace() && !"()&|=!<>\"".contains(c[i]) {
                    i += 1;
                }
                out.push(Tok::Word(c[start..i].iter().collect()));
            }
            _ => return err(format!("unexpected character '{ch}'")),
        }
    }
    Ok(out)
}

fn parse_selector(text: &str) -> Result<Vec<PathStep>, PatternError> {
    let rest = &text[1..];
    let mut steps = vec![];
    let c: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '.' => {
                i += 1;
                let start = i;
                while i < c.len() && c[i] != '.' && c[i] != '[' {
                    i += 1;
                }
                if start == i {
                    return err(format!("empty field name in selector '{text}'"));
                }
                steps.push(PathStep::Key(c[start..i].iter().collect()));
            }
            '[' => {
                let start = i + 1;
                while i < c.len() && c[i] != ']' {
                    i += 1;
                }
                if i >= c.len() {
                    return err(format!("unclosed [ in selector '{text}'"));
                }
                let idx: String = c[start..i].iter().collect();
                let n = idx.parse::<usize>().map_err(|_| PatternError(format!("bad array index in '{text}'")))?;
                steps.push(PathStep::Index(n));
                i += 1;
            }
            _ => return err(format!("bad selector '{text}': expected $.field")),
        }
    }
    if steps.is_empty() {
        return err("a selector must name a field: $.field");
    }
    Ok(steps)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<JsonExpr, PatternError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            left = JsonExpr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<JsonExpr, PatternError> {
        let mut left = self.atom()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            left = JsonExpr::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<JsonExpr, PatternError> {
        match self.next() {
            Some(Tok::LParen) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(e),
                    _ => err("missing ')'"),
                }
            }
            Some(Tok::Selector(path)) => match self.next() {
                Some(Tok::Op(op)) => {
                    let value = match self.next() {
                        Some(Tok::Str(s)) => Literal::Str(s),
                        Some(Tok::Num(n)) => Literal::Num(n),
                        Some(Tok::Word(w)) => Literal::Str(w),
                        _ => return err("a comparison needs a value"),
                    };
                    if matches!(value, Literal::Str(_)) && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                        return err("strings can only be compared with = or !=");
                    }
                    Ok(JsonExpr::Compare { path, op, value })
                }
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IS") => match self.next() {
                    Some(Tok::Word(v)) if v.eq_ignore_ascii_case("NULL") => Ok(JsonExpr::IsNull(path)),
                    Some(Tok::Word(v)) if v.eq_ignore_ascii_case("TRUE") => Ok(JsonExpr::IsBool(path, true)),
                    Some(Tok::Word(v)) if v.eq_ignore_ascii_case("FALSE") => Ok(JsonExpr::IsBool(path, false)),
                    _ => err("IS must be followed by NULL, TRUE or FALSE"),
                },
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NOT") => match self.next() {
                    Some(Tok::Word(v)) if v.eq_ignore_ascii_case("EXISTS") => Ok(JsonExpr::NotExists(path)),
                    _ => err("NOT must be followed by EXISTS"),
                },
                _ => err("a selector must be followed by an operator"),
            },
            Some(t) => err(format!("expected a selector ($.field) or '(', found {t:?}")),
            None => err("the JSON pattern ends too early"),
        }
    }
}

fn select<'a>(v: &'a Value, path: &[PathStep]) -> Option<&'a Value> {
    let mut cur = v;
    for step in path {
        cur = match (step, cur) {
            (PathStep::Key(k), Value::Object(m)) => m.get(k)?,
            (PathStep::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn eval(e: &JsonExpr, v: &Value) -> bool {
    match e {
        JsonExpr::And(a, b) => eval(a, v) && eval(b, v),
        JsonExpr::Or(a, b) => eval(a, v) || eval(b, v),
        JsonExpr::IsNull(p) => matches!(select(v, p), Some(Value::Null)),
        JsonExpr::IsBool(p, b) => select(v, p) == Some(&Value::Bool(*b)),
        JsonExpr::NotExists(p) => select(v, p).is_none(),
        JsonExpr::Compare { path, op, value } => {
            let Some(found) = select(v, path) else { return false };
            match value {
                Literal::Num(n) => {
                    let x = match found {
                        Value::Number(x) => x.as_f64(),
                        _ => None,
                    };
                    let Some(x) = x else { return false };
                    match op {
                        CmpOp::Eq => x == *n,
                        CmpOp::Ne => x != *n,
                        CmpOp::Lt => x < *n,
                        CmpOp::Le => x <= *n,
                        CmpOp::Gt => x > *n,
                        CmpOp::Ge => x >= *n,
                    }
                }
                Literal::Str(s) => {
                    let text = match found {
                        Value::String(t) => t.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        _ => return false,
                    };
                    let eq = wildcard(s, &text);
                    if *op == CmpOp::Ne { !eq } else { eq }
                }
            }
        }
    }
}

/// `*` matches any run of characters; everything else literally.
fn wildcard(pattern: &str, text: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == text;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, msg: &str) -> bool {
        Pattern::parse(p).unwrap().matches(msg)
    }

    #[test]
    fn empty_matches_everything() {
        assert!(m("", "anything"));
        assert!(m("   ", ""));
    }

    #[test]
    fn terms_are_all_required_and_case_sensitive() {
        assert!(m("ERROR timeout", "ERROR: connection timeout"));
        assert!(!m("ERROR timeout", "ERROR: refused"));
        assert!(!m("error", "ERROR"));
    }

    #[test]
    fn quoted_phrases_match_as_one_substring() {
        assert!(m("\"line 42\"", "this is line 42 of it"));
        assert!(!m("\"line 42\"", "line 4 2"));
        assert!(m(r#""say \"hi\"""#, r#"they say "hi" here"#));
    }

    #[test]
    fn optional_terms_need_any_one() {
        assert!(m("?ERROR ?WARN", "WARN disk"));
        assert!(m("?ERROR ?WARN", "ERROR disk"));
        assert!(!m("?ERROR ?WARN", "INFO disk"));
    }

    #[test]
    fn exclusions() {
        assert!(m("ERROR -healthcheck", "ERROR db"));
        assert!(!m("ERROR -healthcheck", "ERROR healthcheck failed"));
        assert!(m("-DEBUG", "INFO x"));
    }

    #[test]
    fn json_patterns() {
        let msg = r#"{"level":"error","code":503,"user":{"id":"u-1","admin":true},"tags":["a","b"],"gone":null}"#;
        assert!(m(r#"{ $.level = "error" }"#, msg));
        assert!(!m(r#"{ $.level = "info" }"#, msg));
        assert!(m(r#"{ $.level != "info" }"#, msg));
        assert!(m("{ $.code >= 500 }", msg));
        assert!(!m("{ $.code < 500 }", msg));
        assert!(m("{ $.code = 503 && $.user.id = \"u-*\" }", msg));
        assert!(m("{ ($.code = 1 || $.code = 503) && $.tags[1] = \"b\" }", msg));
        assert!(m("{ $.user.admin IS TRUE }", msg));
        assert!(m("{ $.gone IS NULL }", msg));
        assert!(m("{ $.missing NOT EXISTS }", msg));
        assert!(m("{ $.level = error }", msg));
        assert!(!m(r#"{ $.level = "error" }"#, "level=error plain text"));
        assert!(!m(r#"{ $.level = "error" }"#, "{not json"));
    }

    #[test]
    fn malformed_patterns_are_errors() {
        for bad in [
            "\"unterminated",
            "{ $.level = ",
            "{ $.level \"x\" }",
            "{ level = 1 }",
            "{ $.a = 1 && }",
            "{ ($.a = 1 }",
            "{ $.a = 1",
            "{ $. = 1 }",
            "{ $.a[x] = 1 }",
            "{ $.a > \"x\" }",
            "{ $.a IS MAYBE }",
            "{ }",
            "[ip, user]",
            "? ERROR",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("a*c", "abbbc"));
        assert!(wildcard("*", ""));
        assert!(wildcard("*x*", "axb"));
        assert!(!wildcard("a*c", "abd"));
    }
}
