//! `Content-Encoding: gzip` request bodies: botocore compresses the bodies of operations
//! its model marks `requestcompression` (CloudWatch's PutMetricData) once they pass 10 KB.
//! The signature covers the compressed bytes; the operation reads the inflated ones.

use crate::error::AwsError;
use bytes::Bytes;
use std::io::Read;

/// The body as the operation reads it: inflated when the request says gzip, at most
/// `limit` bytes either way.
pub fn decode(headers: &http::HeaderMap, body: Bytes, limit: usize) -> Result<Bytes, AwsError> {
    let gzip = headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().eq_ignore_ascii_case("gzip")));
    if !gzip {
        return Ok(body);
    }
    let mut out = Vec::new();
    let mut reader = flate2::read::GzDecoder::new(&body[..]).take(limit as u64 + 1);
    reader
        .read_to_end(&mut out)
        .map_err(|e| AwsError::serialization(format!("The request body is not valid gzip: {e}")))?;
    if out.len() > limit {
        return Err(AwsError::body_too_large(limit));
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip_headers() -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::CONTENT_ENCODING, http::HeaderValue::from_static("gzip"));
        h
    }

    #[test]
    fn inflates_gzip_bodies_within_the_limit() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&[b'a'; 1000]).unwrap();
        let zipped = Bytes::from(enc.finish().unwrap());
        assert_eq!(decode(&gzip_headers(), zipped.clone(), 1000).unwrap().len(), 1000);
        assert_eq!(decode(&gzip_headers(), zipped.clone(), 999).unwrap_err().code, "RequestEntityTooLargeException");
        assert_eq!(decode(&http::HeaderMap::new(), zipped.clone(), 10).unwrap(), zipped);
        assert_eq!(
            decode(&gzip_headers(), Bytes::from_static(b"nope"), 10).unwrap_err().code,
            "SerializationException"
        );
    }
}
