//! A whole request (method, path, query, headers, body) and what the server expects of it
//! (service, region, protocol), through `parse`, `binding::check` and `verify`: nothing may
//! panic, and whatever `check` accepts must keep its promises: the scope names the expected
//! service and region, every x-amz-* and operation header is signed and sent once, and a
//! presigned request is an allowed GET without a body.
//!
//! Input, as text: `METHOD\nPATH\nQUERY\nSERVICE REGION json|form|get\n` then `Name: value` lines,
//! a blank line, and the body (corpus/bind_request holds examples).

#![no_main]

use berth_sigv4::{Expected, Form, Request, binding, parse, verify};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = input.split('\n');
    let (Some(method), Some(path), Some(query), Some(expect)) =
        (lines.next(), lines.next(), lines.next(), lines.next())
    else {
        return;
    };
    let mut headers = Vec::new();
    for line in lines.by_ref() {
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        headers.push((name, value.trim_start()));
    }
    let rest: Vec<&str> = lines.collect();
    let body = rest.join("\n");

    let mut words = expect.split(' ');
    let service = words.next().unwrap_or_default();
    let region = words.next().unwrap_or_default();
    let (operation_headers, presignable): (&[&str], bool) = match words.next() {
        Some("json") => (&["content-type", "x-amz-target"], false),
        Some("form") => (&["content-type"], true),
        _ => (&[], true),
    };
    let expected = Expected { service, region, operation_headers, presignable };
    let req = Request { method, path, query, headers: &headers, body: body.as_bytes() };

    let Ok(parsed) = parse(&req) else {
        return;
    };
    if binding::check(&req, &parsed, &expected).is_ok() {
        let cred = parsed.credential();
        assert_eq!((cred.service.as_str(), cred.region.as_str()), (service, region));
        let signed = parsed.signed_headers();
        for (name, _) in &headers {
            let name = name.to_ascii_lowercase();
            let covered_anyway =
                name == "x-amz-content-sha256" || (name == "x-amz-date" && parsed.form() == Form::Header);
            if (name.starts_with("x-amz-") && !covered_anyway) || operation_headers.contains(&name.as_str()) {
                assert!(signed.contains(&name), "{name} accepted unsigned");
            }
        }
        for op in operation_headers {
            assert!(headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(op)).count() <= 1, "{op} twice");
        }
        if let Form::Presigned { .. } = parsed.form() {
            assert!(presignable && method == "GET" && body.is_empty(), "presigned {method} accepted");
        }
    }
    let _ = verify(&req, &parsed, SECRET, parsed.request_time());
});
