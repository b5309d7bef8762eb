//! Building the canonical request from what was received.

use std::collections::BTreeMap;

/// Request headers grouped by lowercase name, keeping every value of a repeated header in order.
pub(crate) struct Headers<'a> {
    by_name: BTreeMap<String, Vec<&'a str>>,
}

impl<'a> Headers<'a> {
    pub(crate) fn new(headers: &'a [(&'a str, &'a str)]) -> Self {
        let mut by_name: BTreeMap<String, Vec<&'a str>> = BTreeMap::new();
        for (name, value) in headers {
            by_name.entry(name.to_ascii_lowercase()).or_default().push(value);
        }
        Headers { by_name }
    }

    /// The lowercase names present, sorted.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// All values of a header; `name` must be lowercase.
    pub(crate) fn all(&self, name: &str) -> &[&'a str] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }
}

/// The canonical URI for every service but S3: dot segments removed, empty segments dropped, then
/// each byte outside the unreserved set percent-encoded.
///
/// The path is taken as it came over the wire, so an already-encoded `%20` becomes `%2520`: that
/// double encoding is what botocore and the AWS SDKs sign for non-S3 services.
pub(crate) fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &segments {
        out.push('/');
        uri_encode_into(&mut out, segment.as_bytes());
    }
    // RFC 3986 5.2.4 keeps the trailing slash of "/a/", "/a/." and "/a/b/..".
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if segments.is_empty() || trailing {
        out.push('/');
    }
    out
}

/// The canonical query string: every `name=value` pair decoded (`+` meaning space, as the SDKs'
/// form-style parsing does) and re-encoded with SigV4's rules, then sorted.
///
/// `skip` names a parameter to leave out (`X-Amz-Signature` for presigned URLs).
pub(crate) fn canonical_query(query: &str, skip: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in query.split('&') {
        if part.is_empty() {
            continue;
        }
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let name = form_decode(name);
        if skip.is_some_and(|s| s.as_bytes() == name.as_slice()) {
            continue;
        }
        let mut enc_name = String::with_capacity(name.len());
        uri_encode_into(&mut enc_name, &name);
        let mut enc_value = String::with_capacity(value.len());
        uri_encode_into(&mut enc_value, &form_decode(value));
        pairs.push((enc_name, enc_value));
    }
    // Sorting the encoded forms is what the AWS documentation and botocore do.
    pairs.sort_unstable();
    let mut out = String::with_capacity(query.len());
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Decoded `name -> value` pairs of a query string, for reading the `X-Amz-*` parameters.
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|part| {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        (form_decode(name), form_decode(value))
    })
}

/// A header value as signed: surrounding whitespace trimmed and runs of spaces collapsed to one.
pub(crate) fn push_canonical_value(out: &mut String, value: &str) {
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    let mut prev_space = false;
    for c in value.chars() {
        if c == ' ' {
            if !prev_space {
                out.push(' ');
            }
            prev_space = true;
        } else {
            out.push(c);
            prev_space = false;
        }
    }
}

/// Percent-decodes, leaving malformed escapes as they are (like `form_urlencoded`), `+` as space.
fn form_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (b.get(i + 1).and_then(hex_val), b.get(i + 2).and_then(hex_val)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn hex_val(c: &u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// SigV4's URI encoding: unreserved bytes kept, every other byte as `%XX` in uppercase.
pub(crate) fn uri_encode_into(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_normalization_matches_the_aws_suite() {
        for (path, want) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/./", "/"),
            ("/.", "/"),
            ("/..", "/"),
            ("/../..", "/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/./example", "/example"),
            ("//example//", "/example/"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/a/b/../c", "/a/c"),
            ("/a/%2E%2E/b", "/a/%252E%252E/b"),
            ("a/b", "/a/b"),
            ("/example space/", "/example%20space/"),
            ("/example%20space/", "/example%2520space/"),
            ("/ሴ", "/%E1%88%B4"),
            (
                "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            ),
            ("/a:b@c!$'()*+,;=", "/a%3Ab%40c%21%24%27%28%29%2A%2B%2C%3B%3D"),
        ] {
            assert_eq!(canonical_uri(path), want, "{path:?}");
        }
    }

    #[test]
    fn query_is_decoded_reencoded_and_sorted() {
        for (query, want) in [
            ("", ""),
            ("Param2=value2&Param1=value1", "Param1=value1&Param2=value2"),
            ("b=2&a=1&a=0&a=", "a=&a=0&a=1&b=2"),
            ("flag", "flag="),
            ("=", "="),
            ("a=1&&b=2&", "a=1&b=2"),
            ("q=a+b&r=a%20b&s=a%2Bb", "q=a%20b&r=a%20b&s=a%2Bb"),
            ("eq=a=b", "eq=a%3Db"),
            ("%41%7e=%c3%a9", "A~=%C3%A9"),
            ("ሴ=bar", "%E1%88%B4=bar"),
            ("bad=%zz%4", "bad=%25zz%254"),
            ("raw=%FF", "raw=%FF"),
            ("!*'()=;:@$,/?", "%21%2A%27%28%29=%3B%3A%40%24%2C%2F%3F"),
        ] {
            assert_eq!(canonical_query(query, None), want, "{query:?}");
        }
        assert_eq!(
            canonical_query("X-Amz-Signature=abc&X-Amz-Date=1&X-Amz%2DSignature=x", Some("X-Amz-Signature")),
            "X-Amz-Date=1"
        );
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        for (v, want) in [
            ("value1", "value1"),
            ("  \"a   b   c\"  ", "\"a b c\""),
            ("\ta  b\t", "a b"),
            ("a\tb", "a\tb"),
            ("", ""),
            ("   ", ""),
        ] {
            let mut out = String::new();
            push_canonical_value(&mut out, v);
            assert_eq!(out, want, "{v:?}");
        }
    }

    #[test]
    fn repeated_headers_keep_their_order_under_one_lowercase_name() {
        let raw = [("My-Header", "b"), ("host", "h"), ("my-header", "a")];
        let h = Headers::new(&raw);
        assert_eq!(h.all("my-header"), ["b", "a"]);
        assert_eq!(h.all("host"), ["h"]);
        assert!(h.all("absent").is_empty());
    }
}
