//! ECS's cluster query language: the expressions of ListContainerInstances' `filter`
//! (and, later, of `memberOf` placement constraints).
//!
//! ```text
//! expression := term (("and" | "&&" | "or" | "||") term)*      and binds tighter than or
//! term       := ("not" | "!") term | "(" expression ")" | subject operator [argument]
//! argument   := value | "[" value ("," value)* "]"               values bare or quoted
//! ```
//!
//! Subjects: `agentConnected`, `agentVersion`, `attribute:NAME`, `ec2InstanceId`,
//! `registeredAt`, `runningTasksCount`, `task:group`. Operators: `==`/`equals`,
//! `!=`/`not_equals`, `>`/`greater_than`, `>=`/`greater_than_equal`, `<`/`less_than`,
//! `<=`/`less_than_equal`, `exists`, `!exists`/`not_exists`, `in`, `!in`/`not_in`,
//! `=~`/`matches`, `!~`/`not_matches` (a regular expression matching the whole value:
//! literals, `.`, classes `[a-z]`/`[^...]`, groups with `|`, and `*`, `+`, `?`).
//! Comparisons are numeric when both sides are numbers, else by text. A subject may
//! have several values (`task:group`): a positive operator holds when one value
//! satisfies it, a negative one when none does.
//!
//! Pure: the caller says what each subject's values are.

use crate::Timestamp;
use std::cell::Cell;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    AgentConnected,
    AgentVersion,
    Attribute(String),
    Ec2InstanceId,
    RegisteredAt,
    RunningTasksCount,
    TaskGroup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Exists,
    NotExists,
    In,
    NotIn,
    Matches,
    NotMatches,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Test { subject: Subject, op: Op, args: Vec<String> },
}

/// A malformed expression; the message says where (InvalidParameterException).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidExpression(pub String);

/// The longest expression accepted (ECS: 2000 characters for memberOf).
const MAX_LEN: usize = 2000;
/// The deepest nesting of parentheses and `not`s accepted.
const MAX_DEPTH: usize = 64;

pub fn parse(text: &str) -> Result<Expr, InvalidExpression> {
    if text.len() > MAX_LEN {
        return Err(InvalidExpression(format!("The expression is longer than {MAX_LEN} characters.")));
    }
    let tokens = tokenize(text)?;
    let mut p = Parser { tokens, pos: 0, at: 0, depth: 0, text };
    let expr = p.or()?;
    match p.next() {
        None => Ok(expr),
        Some(t) => Err(p.error(&format!("unexpected '{}'", t.text()))),
    }
}

impl Expr {
    /// Whether the expression holds for the object whose subjects have `values`.
    pub fn eval(&self, values: &dyn Fn(&Subject) -> Vec<String>) -> bool {
        match self {
            Expr::And(a, b) => a.eval(values) && b.eval(values),
            Expr::Or(a, b) => a.eval(values) || b.eval(values),
            Expr::Not(e) => !e.eval(values),
            Expr::Test { subject, op, args } => {
                let have = values(subject);
                let arg = args.first().map(String::as_str).unwrap_or_default();
                match op {
                    Op::Exists => !have.is_empty(),
                    Op::NotExists => have.is_empty(),
                    Op::Eq => have.iter().any(|v| v == arg),
                    Op::Ne => !have.iter().any(|v| v == arg),
                    Op::In => have.iter().any(|v| args.contains(v)),
                    Op::NotIn => !have.iter().any(|v| args.contains(v)),
                    Op::Gt => have.iter().any(|v| compare(v, arg).is_gt()),
                    Op::Ge => have.iter().any(|v| compare(v, arg).is_ge()),
                    Op::Lt => have.iter().any(|v| compare(v, arg).is_lt()),
                    Op::Le => have.iter().any(|v| compare(v, arg).is_le()),
                    Op::Matches => have.iter().any(|v| regex_match(arg, v)),
                    Op::NotMatches => !have.iter().any(|v| regex_match(arg, v)),
                }
            }
        }
    }
}

fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.cmp(b),
    }
}

/// `registeredAt` as the language compares it: `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso8601(t: Timestamp) -> String {
    let secs = t.as_secs_f64().floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

// ---- tokens and parsing ----

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A bare word: subject, word operator, keyword or value.
    Word(String),
    /// A quoted value.
    Quoted(String),
    /// `==`, `!=`, `>=`, `&&`, `!`, `=~`, ...
    Symbol(String),
    Punct(char),
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Word(s) | Token::Quoted(s) | Token::Symbol(s) => s.clone(),
            Token::Punct(c) => c.to_string(),
        }
    }
}

const SYMBOL_CHARS: &str = "=!<>&|~";
const PUNCT: &str = "()[],";

/// Each token with the character position it starts at (errors name it).
fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, InvalidExpression> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if PUNCT.contains(c) {
            out.push((Token::Punct(c), i));
            i += 1;
        } else if c == '"' || c == '\'' {
            let end = chars[i + 1..].iter().position(|x| *x == c).ok_or_else(|| {
                InvalidExpression(format!(
                    "Invalid expression '{text}': the quote opened at position {i} is not closed."
                ))
            })?;
            out.push((Token::Quoted(chars[i + 1..i + 1 + end].iter().collect()), i));
            i += end + 2;
        } else if SYMBOL_CHARS.contains(c) {
            let start = i;
            while i < chars.len() && SYMBOL_CHARS.contains(chars[i]) {
                i += 1;
            }
            out.push((Token::Symbol(chars[start..i].iter().collect()), start));
        } else {
            let start = i;
            while i < chars.len()
                && !chars[i].is_whitespace()
                && !PUNCT.contains(chars[i])
                && !SYMBOL_CHARS.contains(chars[i])
            {
                i += 1;
            }
            out.push((Token::Word(chars[start..i].iter().collect()), start));
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<(Token, usize)>,
    pos: usize,
    /// Where the last token taken starts (the end of the text once none is left).
    at: usize,
    depth: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += usize::from(t.is_some());
        self.at = t.as_ref().map_or(self.text.chars().count(), |(_, at)| *at);
        t.map(|(t, _)| t)
    }

    fn error(&self, what: &str) -> InvalidExpression {
        InvalidExpression(format!("Invalid expression '{}' at position {}: {what}.", self.text, self.at))
    }

    fn is(&self, words: &[&str]) -> bool {
        matches!(self.peek(), Some(Token::Word(w) | Token::Symbol(w)) if words.contains(&w.as_str()))
    }

    fn or(&mut self) -> Result<Expr, InvalidExpression> {
        let mut left = self.and()?;
        while self.is(&["or", "||"]) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, InvalidExpression> {
        let mut left = self.term()?;
        while self.is(&["and", "&&"]) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, InvalidExpression> {
        if self.is(&["not", "!"]) {
            self.pos += 1;
            return self.nested(|p| Ok(Expr::Not(Box::new(p.term()?))));
        }
        match self.next() {
            Some(Token::Punct('(')) => {
                let e = self.nested(Self::or)?;
                match self.next() {
                    Some(Token::Punct(')')) => Ok(e),
                    _ => Err(self.error("a '(' is not closed")),
                }
            }
            Some(Token::Word(w)) => {
                let subject = subject(&w).ok_or_else(|| self.error(&format!("'{w}' is not a subject")))?;
                let op = self.operator()?;
                let args = match op {
                    Op::Exists | Op::NotExists => vec![],
                    Op::In | Op::NotIn => self.list()?,
                    _ => vec![self.value()?],
                };
                Ok(Expr::Test { subject, op, args })
            }
            Some(t) => Err(self.error(&format!("expected a subject, found '{}'", t.text()))),
            None => Err(self.error("it ends where a subject was expected")),
        }
    }

    /// Runs `f` one nesting level deeper: deep nesting is refused before it can exhaust
    /// the stack of the thread parsing it.
    fn nested(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Expr, InvalidExpression>,
    ) -> Result<Expr, InvalidExpression> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(&format!("it nests deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        let e = f(self);
        self.depth -= 1;
        e
    }

    fn operator(&mut self) -> Result<Op, InvalidExpression> {
        let word = match self.next() {
            Some(Token::Word(w) | Token::Symbol(w)) => w,
            _ => return Err(self.error("an operator is missing")),
        };
        // `!exists`, `!in` arrive as `!` then the word.
        let word = if word == "!" {
            match self.next() {
                Some(Token::Word(w)) if w == "exists" || w == "in" => format!("!{w}"),
                _ => return Err(self.error("'!' must be followed by exists or in here")),
            }
        } else {
            word
        };
        Ok(match word.as_str() {
            "==" | "equals" => Op::Eq,
            "!=" | "not_equals" => Op::Ne,
            ">" | "greater_than" => Op::Gt,
            ">=" | "greater_than_equal" => Op::Ge,
            "<" | "less_than" => Op::Lt,
            "<=" | "less_than_equal" => Op::Le,
            "exists" => Op::Exists,
            "!exists" | "not_exists" => Op::NotExists,
            "in" => Op::In,
            "!in" | "not_in" => Op::NotIn,
            "=~" | "matches" => Op::Matches,
            "!~" | "not_matches" => Op::NotMatches,
            other => return Err(self.error(&format!("'{other}' is not an operator"))),
        })
    }

    fn value(&mut self) -> Result<String, InvalidExpression> {
        match self.next() {
            Some(Token::Word(w) | Token::Quoted(w)) => Ok(w),
            _ => Err(self.error("a value is missing")),
        }
    }

    fn list(&mut self) -> Result<Vec<String>, InvalidExpression> {
        if self.peek() != Some(&Token::Punct('[')) {
            return Ok(vec![self.value()?]);
        }
        self.pos += 1;
        let mut out = vec![self.value()?];
        loop {
            match self.next() {
                Some(Token::Punct(',')) => out.push(self.value()?),
                Some(Token::Punct(']')) => return Ok(out),
                _ => return Err(self.error("a '[' list is not closed")),
            }
        }
    }
}

fn subject(word: &str) -> Option<Subject> {
    Some(match word {
        "agentConnected" => Subject::AgentConnected,
        "agentVersion" => Subject::AgentVersion,
        "ec2InstanceId" => Subject::Ec2InstanceId,
        "registeredAt" => Subject::RegisteredAt,
        "runningTasksCount" => Subject::RunningTasksCount,
        "task:group" => Subject::TaskGroup,
        _ => Subject::Attribute(word.strip_prefix("attribute:").filter(|n| !n.is_empty())?.to_string()),
    })
}

// ---- a small regular expression matcher (whole-value match, bounded work) ----

#[derive(Debug, Clone)]
enum Node {
    Char(char),
    Any,
    Class(Vec<(char, char)>, bool),
    Group(Vec<Vec<Node>>),
    Repeat(Box<Node>, usize, Option<usize>),
}

fn regex_match(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let Some(alts) = regex_alts(&p, &mut i) else { return false };
    if i != p.len() {
        return false;
    }
    let s: Vec<char> = value.chars().collect();
    let budget = Cell::new(100_000u32);
    let root = Node::Group(alts);
    match_node(&root, &s, 0, &budget, &mut |j| j == s.len())
}

fn regex_alts(p: &[char], i: &mut usize) -> Option<Vec<Vec<Node>>> {
    let mut alts = vec![vec![]];
    while *i < p.len() {
        let c = p[*i];
        *i += 1;
        let node = match c {
            '|' => {
                alts.push(vec![]);
                continue;
            }
            ')' => {
                *i -= 1;
                break;
            }
            '(' => {
                let inner = regex_alts(p, i)?;
                if p.get(*i) != Some(&')') {
                    return None;
                }
                *i += 1;
                Node::Group(inner)
            }
            '.' => Node::Any,
            '\\' => {
                let e = *p.get(*i)?;
                *i += 1;
                Node::Char(e)
            }
            '[' => {
                let negated = p.get(*i) == Some(&'^');
                *i += usize::from(negated);
                let mut ranges = vec![];
                while p.get(*i) != Some(&']') {
                    let lo = *p.get(*i)?;
                    *i += 1;
                    if p.get(*i) == Some(&'-') && p.get(*i + 1).is_some_and(|c| *c != ']') {
                        ranges.push((lo, p[*i + 1]));
                        *i += 2;
                    } else {
                        ranges.push((lo, lo));
                    }
                }
                *i += 1;
                Node::Class(ranges, negated)
            }
            '*' | '+' | '?' => return None,
            c => Node::Char(c),
        };
        let node = match p.get(*i) {
            Some('*') => Node::Repeat(Box::new(node), 0, None),
            Some('+') => Node::Repeat(Box::new(node), 1, None),
            Some('?') => Node::Repeat(Box::new(node), 0, Some(1)),
            _ => node,
        };
        if matches!(node, Node::Repeat(..)) {
            *i += 1;
        }
        alts.last_mut()?.push(node);
    }
    Some(alts)
}

/// Counts steps down; at zero every match attempt fails.
fn spend(budget: &Cell<u32>) -> bool {
    let left = budget.get();
    budget.set(left.saturating_sub(1));
    left > 0
}

fn match_seq(nodes: &[Node], s: &[char], i: usize, budget: &Cell<u32>, k: &mut dyn FnMut(usize) -> bool) -> bool {
    match nodes.split_first() {
        None => k(i),
        Some((n, rest)) => match_node(n, s, i, budget, &mut |j| match_seq(rest, s, j, budget, k)),
    }
}

fn match_node(n: &Node, s: &[char], i: usize, budget: &Cell<u32>, k: &mut dyn FnMut(usize) -> bool) -> bool {
    if !spend(budget) {
        return false;
    }
    match n {
        Node::Char(c) => s.get(i) == Some(c) && k(i + 1),
        Node::Any => i < s.len() && k(i + 1),
        Node::Class(ranges, negated) => {
            s.get(i).is_some_and(|c| ranges.iter().any(|(lo, hi)| lo <= c && c <= hi) != *negated) && k(i + 1)
        }
        Node::Group(alts) => alts.iter().any(|alt| match_seq(alt, s, i, budget, k)),
        Node::Repeat(inner, min, max) => repeat(inner, *min, *max, s, i, 0, budget, k),
    }
}

#[allow(clippy::too_many_arguments)]
fn repeat(
    inner: &Node,
    min: usize,
    max: Option<usize>,
    s: &[char],
    i: usize,
    count: usize,
    budget: &Cell<u32>,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    if !spend(budget) {
        return false;
    }
    if max.is_none_or(|m| count < m) {
        let mut more = |j: usize| j != i && repeat(inner, min, max, s, j, count + 1, budget, k);
        if match_node(inner, s, i, budget, &mut more) {
            return true;
        }
    }
    count >= min && k(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(subject: &Subject) -> Vec<String> {
        let v = |s: &str| vec![s.to_string()];
        match subject {
            Subject::Attribute(name) => match name.as_str() {
                "ecs.instance-type" => v("t2.micro"),
                "ecs.availability-zone" => v("us-east-1a"),
                "gpu" => v(""),
                _ => vec![],
            },
            Subject::AgentConnected => v("true"),
            Subject::RunningTasksCount => v("3"),
            Subject::TaskGroup => vec!["service:web".into(), "family:batch".into()],
            Subject::Ec2InstanceId => v("i-123"),
            Subject::AgentVersion => v("1.0.0"),
            Subject::RegisteredAt => v("2024-05-01T10:00:00Z"),
        }
    }

    fn holds(expr: &str) -> bool {
        parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}")).eval(&instance)
    }

    #[test]
    fn evaluates_ecs_examples() {
        assert!(holds("attribute:ecs.instance-type == t2.micro"));
        assert!(!holds("attribute:ecs.instance-type != t2.micro"));
        assert!(holds("attribute:ecs.instance-type =~ t2.*"));
        assert!(holds("attribute:ecs.instance-type matches 't2\\.(micro|small)'"));
        assert!(!holds("attribute:ecs.instance-type =~ g2.*"));
        assert!(holds("attribute:ecs.availability-zone in [us-east-1a, us-east-1b]"));
        assert!(holds("attribute:ecs.availability-zone not_in [us-east-1c]"));
        assert!(holds("attribute:gpu exists"));
        assert!(holds("attribute:other !exists"));
        assert!(holds("attribute:other not_exists and agentConnected == true"));
        assert!(holds("runningTasksCount > 2 && runningTasksCount <= 3"));
        assert!(!holds("runningTasksCount > 10"));
        assert!(holds("task:group == service:web"));
        assert!(holds("not task:group == service:db"));
        assert!(holds("(ec2InstanceId == i-9 or ec2InstanceId == i-123) and not (agentVersion == 0.1)"));
        assert!(holds("registeredAt < 2025-01-01"));
        assert!(holds("attribute:ecs.instance-type == 't2.micro'"));
    }

    #[test]
    fn rejects_malformed_expressions() {
        for bad in [
            "",
            "attribute:x",
            "attribute: == 1",
            "unknownSubject == 1",
            "attribute:x ==",
            "attribute:x ~~ y",
            "(attribute:x exists",
            "attribute:x in [a, b",
            "attribute:x exists and",
            "attribute:x == 'open",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_name_the_position() {
        let at = |expr: &str| parse(expr).unwrap_err().0;
        assert!(
            at("attribute:x ~~ y").contains("at position 12: '~~' is not an operator"),
            "{}",
            at("attribute:x ~~ y")
        );
        assert!(at("attribute:x == 1 )").contains("at position 17: unexpected ')'"));
        assert!(at("bogus == 1").contains("at position 0: 'bogus' is not a subject"));
        assert!(at("attribute:x ==").contains("at position 14: a value is missing"));
        assert!(at("(task:group == a").contains("at position 16: a '(' is not closed"));
        assert!(at("attribute:x in [a b]").contains("at position 18"));
        assert!(at("a:b == 'x").contains("position 7"));
    }

    #[test]
    fn malformed_input_never_panics() {
        // Every prefix and a few mutations of valid expressions: errors or expressions, no panic.
        let valid = [
            "attribute:ecs.instance-type =~ g4dn.* and not (task:group == web || runningTasksCount > 3)",
            "attribute:ecs.availability-zone in ['us-east-1a', \"us-east-1b\"] && ec2InstanceId != i-1",
        ];
        for v in valid {
            assert!(parse(v).is_ok(), "{v}");
            let chars: Vec<char> = v.chars().collect();
            for cut in 0..chars.len() {
                let prefix: String = chars[..cut].iter().collect();
                let _ = parse(&prefix);
                let mut dropped = chars.clone();
                dropped.remove(cut);
                let _ = parse(&dropped.iter().collect::<String>());
                for junk in ['(', ')', '[', ']', ',', '!', '=', '\'', '~', ' '] {
                    let mut inserted = chars.clone();
                    inserted.insert(cut, junk);
                    let _ = parse(&inserted.iter().collect::<String>());
                }
            }
        }
        assert!(parse(&"(".repeat(3000)).is_err());
        assert!(parse(&"(".repeat(1999)).unwrap_err().0.contains("nests deeper than 64"));
        assert!(parse(&"not ".repeat(400)).is_err());
        assert!(parse(&format!("{}attribute:a exists{}", "(".repeat(60), ")".repeat(60))).is_ok());
    }

    #[test]
    fn regex_is_whole_value_and_bounded() {
        assert!(regex_match("a[0-9]+b?", "a12"));
        assert!(!regex_match("a[0-9]+", "a12x"));
        assert!(regex_match("[^x]*", "abc"));
        assert!(!regex_match("(a", "a"));
        // Pathological patterns give up instead of spinning.
        let long = "a".repeat(60);
        assert!(!regex_match("(a|a)*(a|a)*b", &long));
    }

    #[test]
    fn formats_registered_at() {
        assert_eq!(iso8601(Timestamp(0.0)), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(Timestamp(1_709_251_199.5)), "2024-02-29T23:59:59Z");
    }
}
