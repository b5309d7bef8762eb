//! Arbitrary text as the Authorization header, as the presigned query string and as the path:
//! parsing must never panic or hang, and neither must verifying whatever parses.

#![no_main]

use berth_sigv4::{Request, authorization, parse, verify};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let _ = authorization::parse_authorization_header(input);
    let _ = authorization::parse_credential(input);
    let _ = authorization::parse_signed_headers(input);

    // 20150830T123600Z, the time the fixed X-Amz-Date below names.
    let now = time::OffsetDateTime::from_unix_timestamp(1_440_938_160).expect("valid timestamp");
    let far_past = time::OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT);
    let far_future = time::OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT);
    let header_form = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"), ("Authorization", input)];
    let query_form = [("Host", "example.amazonaws.com")];
    for req in [
        Request { method: "POST", path: "/", query: "", headers: &header_form, body: b"{}" },
        Request { method: "GET", path: input, query: input, headers: &query_form, body: data },
    ] {
        if let Ok(parsed) = parse(&req) {
            // The request time is client input: check the clock arithmetic at the extremes too.
            for at in [now, parsed.request_time(), far_past, far_future] {
                let _ = verify(&req, &parsed, SECRET, at);
            }
        }
    }
});
