//! Metric math, as GetMetricData's and alarms' `Expression`s write it: arithmetic
//! (`+ - * / ^`, unary minus, parentheses) over numbers and the ids of other queries,
//! arrays `[m1, m2]`, and the functions SUM, AVG, MIN, MAX (across series, or over one
//! series' values), ABS, CEIL, FLOOR, SQRT, FILL(series, value) and METRICS() (every
//! MetricStat query's series). Time series are aligned by timestamp: an operation on two
//! series keeps the timestamps both have.

use std::collections::BTreeMap;

/// One time series: value by timestamp (ms).
pub type Series = BTreeMap<i64, f64>;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Number(f64),
    Id(String),
    Neg(Box<Expr>),
    Binary(Op, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    Array(Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(f64),
    Series(Series),
    Array(Vec<Series>),
}

const FUNCTIONS: &[&str] = &["SUM", "AVG", "MIN", "MAX", "ABS", "CEIL", "FLOOR", "SQRT", "METRICS"];

/// Parses an expression; the error says where and what, for a person to fix it.
pub fn parse(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    let mut p = Parser { tokens, pos: 0 };
    let expr = p.expr()?;
    match p.tokens.get(p.pos) {
        None => Ok(expr),
        Some(t) => Err(format!("Unexpected {t:?} after the end of the expression.")),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Num(f64),
    Ident(String),
    Sym(char),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                i += 1;
                if i < chars.len() && (chars[i] == '+' || chars[i] == '-') {
                    i += 1;
                }
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let s: String = chars[start..i].iter().collect();
            out.push(Token::Num(s.parse().map_err(|_| format!("'{s}' is not a number."))?));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
        } else if "+-*/^(),[]".contains(c) {
            out.push(Token::Sym(c));
            i += 1;
        } else {
            return Err(format!("Unexpected character '{c}' at position {}.", i + 1));
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek_sym(&self, c: char) -> bool {
        self.tokens.get(self.pos) == Some(&Token::Sym(c))
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.peek_sym(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("Expected '{c}'."))
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        loop {
            let op = if self.peek_sym('+') {
                Op::Add
            } else if self.peek_sym('-') {
                Op::Sub
            } else {
                return Ok(left);
            };
            self.pos += 1;
            left = Expr::Binary(op, Box::new(left), Box::new(self.term()?));
        }
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        loop {
            let op = if self.peek_sym('*') {
                Op::Mul
            } else if self.peek_sym('/') {
                Op::Div
            } else {
                return Ok(left);
            };
            self.pos += 1;
            left = Expr::Binary(op, Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek_sym('-') {
            self.pos += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        let base = self.primary()?;
        if self.peek_sym('^') {
            self.pos += 1;
            return Ok(Expr::Binary(Op::Pow, Box::new(base), Box::new(self.unary()?)));
        }
        Ok(base)
    }

    fn list(&mut self, close: char) -> Result<Vec<Expr>, String> {
        let mut items = vec![];
        if self.peek_sym(close) {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.expr()?);
            if self.peek_sym(',') {
                self.pos += 1;
                continue;
            }
            self.expect(close)?;
            return Ok(items);
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let Some(token) = self.tokens.get(self.pos).cloned() else {
            return Err("The expression ends too early.".into());
        };
        self.pos += 1;
        match token {
            Token::Num(n) => Ok(Expr::Number(n)),
            Token::Sym('(') => {
                let e = self.expr()?;
                self.expect(')')?;
                Ok(e)
            }
            Token::Sym('[') => Ok(Expr::Array(self.list(']')?)),
            Token::Ident(name) if self.peek_sym('(') => {
                self.pos += 1;
                let upper = name.to_ascii_uppercase();
                if !FUNCTIONS.contains(&upper.as_str()) {
                    return Err(format!("Unknown function {name}. berth knows {}.", FUNCTIONS.join(", ")));
                }
                Ok(Expr::Call(upper, self.list(')')?))
            }
            Token::Ident(name) => Ok(Expr::Id(name)),
            Token::Sym(c) => Err(format!("Unexpected '{c}'.")),
        }
    }
}

/// The ids an expression reads.
pub fn references(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Number(_) => {}
        Expr::Id(id) => out.push(id.clone()),
        Expr::Neg(e) => references(e, out),
        Expr::Binary(_, a, b) => {
            references(a, out);
            references(b, out);
        }
        Expr::Call(_, args) | Expr::Array(args) => args.iter().for_each(|a| references(a, out)),
    }
}

/// Evaluates `expr`; `resolve` gives the value of an id, `metrics` every MetricStat
/// query's series (METRICS()).
pub fn eval(
    expr: &Expr,
    resolve: &mut dyn FnMut(&str) -> Result<Value, String>,
    metrics: &dyn Fn() -> Vec<Series>,
) -> Result<Value, String> {
    Ok(match expr {
        Expr::Number(n) => Value::Scalar(*n),
        Expr::Id(id) => resolve(id)?,
        Expr::Neg(e) => map(eval(e, resolve, metrics)?, |v| -v),
        Expr::Binary(op, a, b) => binary(*op, eval(a, resolve, metrics)?, eval(b, resolve, metrics)?)?,
        Expr::Array(items) => {
            let mut all = vec![];
            for item in items {
                match eval(item, resolve, metrics)? {
                    Value::Series(s) => all.push(s),
                    Value::Array(a) => all.extend(a),
                    Value::Scalar(_) => return Err("An array holds time series, not numbers.".into()),
                }
            }
            Value::Array(all)
        }
        Expr::Call(f, args) => {
            let mut values = vec![];
            for a in args {
                values.push(eval(a, resolve, metrics)?);
            }
            call(f, values, metrics)?
        }
    })
}

fn map(v: Value, f: impl Fn(f64) -> f64) -> Value {
    match v {
        Value::Scalar(x) => Value::Scalar(f(x)),
        Value::Series(s) => Value::Series(s.into_iter().map(|(t, x)| (t, f(x))).collect()),
        Value::Array(a) => {
            Value::Array(a.into_iter().map(|s| s.into_iter().map(|(t, x)| (t, f(x))).collect()).collect())
        }
    }
}

fn apply(op: Op, a: f64, b: f64) -> f64 {
    match op {
        Op::Add => a + b,
        Op::Sub => a - b,
        Op::Mul => a * b,
        Op::Div => a / b,
        Op::Pow => a.powf(b),
    }
}

fn join(op: Op, a: &Series, b: &Series) -> Series {
    a.iter().filter_map(|(t, x)| b.get(t).map(|y| (*t, apply(op, *x, *y)))).collect()
}

fn binary(op: Op, a: Value, b: Value) -> Result<Value, String> {
    use Value::*;
    Ok(match (a, b) {
        (Scalar(x), Scalar(y)) => Scalar(apply(op, x, y)),
        (Series(s), Scalar(y)) => map(Series(s), |x| apply(op, x, y)),
        (Scalar(x), Series(s)) => map(Series(s), |y| apply(op, x, y)),
        (Series(s), Series(t)) => Series(join(op, &s, &t)),
        (Array(a), Scalar(y)) => map(Array(a), |x| apply(op, x, y)),
        (Scalar(x), Array(a)) => map(Array(a), |y| apply(op, x, y)),
        (Array(a), Series(t)) => Array(a.iter().map(|s| join(op, s, &t)).collect()),
        (Series(s), Array(a)) => Array(a.iter().map(|t| join(op, &s, t)).collect()),
        (Array(_), Array(_)) => return Err("Arithmetic between two arrays of time series is not supported.".into()),
    })
}

fn aggregate(f: &str, values: &[f64]) -> f64 {
    match f {
        "SUM" => values.iter().sum(),
        "AVG" => values.iter().sum::<f64>() / values.len().max(1) as f64,
        "MIN" => values.iter().copied().fold(f64::INFINITY, f64::min),
        _ => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    }
}

fn call(f: &str, args: Vec<Value>, metrics: &dyn Fn() -> Vec<Series>) -> Result<Value, String> {
    match f {
        "METRICS" => Ok(Value::Array(metrics())),
        "SUM" | "AVG" | "MIN" | "MAX" => {
            let mut series = vec![];
            let mut scalars = vec![];
            let single = args.len() == 1 && matches!(args[0], Value::Series(_));
            for a in args {
                match a {
                    Value::Scalar(x) => scalars.push(x),
                    Value::Series(s) => series.push(s),
                    Value::Array(a) => series.extend(a),
                }
            }
            if single {
                // Over one series' values: a single number.
                let values: Vec<f64> = series[0].values().copied().collect();
                return Ok(if values.is_empty() {
                    Value::Series(Series::new())
                } else {
                    Value::Scalar(aggregate(f, &values))
                });
            }
            if series.is_empty() {
                if scalars.is_empty() {
                    return Err(format!("{f} needs at least one argument."));
                }
                return Ok(Value::Scalar(aggregate(f, &scalars)));
            }
            if !scalars.is_empty() {
                return Err(format!("{f} takes time series or numbers, not both."));
            }
            let mut by_time: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for s in &series {
                for (t, x) in s {
                    by_time.entry(*t).or_default().push(*x);
                }
            }
            Ok(Value::Series(by_time.into_iter().map(|(t, xs)| (t, aggregate(f, &xs))).collect()))
        }
        "ABS" | "CEIL" | "FLOOR" | "SQRT" => {
            let [a] = <[Value; 1]>::try_from(args).map_err(|_| format!("{f} takes one argument."))?;
            Ok(map(
                a,
                match f {
                    "ABS" => f64::abs,
                    "CEIL" => f64::ceil,
                    "FLOOR" => f64::floor,
                    _ => f64::sqrt,
                },
            ))
        }
        _ => Err(format!("{f} is not supported here.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(points: &[(i64, f64)]) -> Series {
        points.iter().copied().collect()
    }

    fn run(text: &str) -> Result<Value, String> {
        let m1 = s(&[(0, 1.0), (60, 2.0), (120, 3.0)]);
        let m2 = s(&[(0, 10.0), (60, 20.0)]);
        let (a, b) = (m1.clone(), m2.clone());
        let mut resolve = move |id: &str| match id {
            "m1" => Ok(Value::Series(a.clone())),
            "m2" => Ok(Value::Series(b.clone())),
            _ => Err(format!("unknown id {id}")),
        };
        eval(&parse(text)?, &mut resolve, &|| vec![m1.clone(), m2.clone()])
    }

    #[test]
    fn arithmetic_aligns_series_by_timestamp() {
        assert_eq!(run("m1 + m2").unwrap(), Value::Series(s(&[(0, 11.0), (60, 22.0)])));
        assert_eq!(run("(m1 + 1) * 2").unwrap(), Value::Series(s(&[(0, 4.0), (60, 6.0), (120, 8.0)])));
        assert_eq!(run("-m1 / 2 ^ 2").unwrap(), Value::Series(s(&[(0, -0.25), (60, -0.5), (120, -0.75)])));
        assert_eq!(run("1 + 2 * 3").unwrap(), Value::Scalar(7.0));
        assert_eq!(run("100 * m2 / m1").unwrap(), Value::Series(s(&[(0, 1000.0), (60, 1000.0)])));
    }

    #[test]
    fn functions_across_and_within_series() {
        assert_eq!(run("SUM([m1, m2])").unwrap(), Value::Series(s(&[(0, 11.0), (60, 22.0), (120, 3.0)])));
        assert_eq!(run("SUM(METRICS())").unwrap(), run("SUM([m1, m2])").unwrap());
        assert_eq!(run("MAX(m1, m2)").unwrap(), Value::Series(s(&[(0, 10.0), (60, 20.0), (120, 3.0)])));
        assert_eq!(run("AVG(m1)").unwrap(), Value::Scalar(2.0));
        assert_eq!(run("MIN(m2)").unwrap(), Value::Scalar(10.0));
        assert_eq!(run("ABS(0 - m1)").unwrap(), run("m1").unwrap());
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        assert!(run("m1 +").unwrap_err().contains("ends too early"));
        assert!(run("FOO(m1)").unwrap_err().contains("Unknown function FOO"));
        assert!(run("m1 $ 2").unwrap_err().contains("'$'"));
        assert!(run("m3").unwrap_err().contains("m3"));
        assert!(run("(m1").unwrap_err().contains("')'"));
        let mut ids = vec![];
        references(&parse("SUM([m1, e2]) / m1").unwrap(), &mut ids);
        assert_eq!(ids, ["m1", "e2", "m1"]);
    }
}
