//! Where a message's body ends (pure): a number of bytes, a chunked body's last chunk
//! and trailers (RFC 9112 §7.1, read by a state machine as bytes arrive, in any
//! pieces), or the connection's close. Only the framing is read, never the content.

use crate::http1::{Framing, Malformed};

/// Where a chunked body's reader is (RFC 9112 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Hex digits of a chunk size (`digits` so far).
    Size {
        size: u64,
        digits: u8,
    },
    /// Spaces after the size, before an extension or the line's end.
    SizeSpace {
        size: u64,
    },
    /// A chunk extension, up to the line's end.
    Extension {
        size: u64,
    },
    /// The LF after a size line's CR.
    SizeLf {
        size: u64,
    },
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// The start of a line after the last chunk: a trailer field or the final CRLF.
    TrailerStart,
    Trailer,
    TrailerLf,
    FinalLf,
    Done,
}

/// The body still to come of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Body {
    left: Remaining,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Remaining {
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

impl Body {
    pub fn new(framing: Framing) -> Self {
        let left = match framing {
            Framing::Empty => Remaining::Length(0),
            Framing::Length(n) => Remaining::Length(n),
            Framing::Chunked => Remaining::Chunked(Chunk::Size { size: 0, digits: 0 }),
            Framing::UntilClose => Remaining::UntilClose,
        };
        Self { left }
    }

    /// Whether all of the body has been seen (never, for one that ends at close).
    pub fn is_done(&self) -> bool {
        matches!(self.left, Remaining::Length(0) | Remaining::Chunked(Chunk::Done))
    }

    /// How many bytes at the start of `input` belong to the body; the payload among
    /// them (a chunked body's chunk data) goes to `payload` in order.
    pub fn advance(&mut self, input: &[u8], payload: &mut dyn FnMut(&[u8])) -> Result<usize, Malformed> {
        match &mut self.left {
            Remaining::Length(left) => {
                let n = usize::try_from(*left).unwrap_or(usize::MAX).min(input.len());
                payload(&input[..n]);
                *left -= n as u64;
                Ok(n)
            }
            Remaining::UntilClose => {
                payload(input);
                Ok(input.len())
            }
            Remaining::Chunked(state) => advance_chunked(state, input, payload),
        }
    }
}

fn advance_chunked(state: &mut Chunk, input: &[u8], payload: &mut dyn FnMut(&[u8])) -> Result<usize, Malformed> {
    let mut at = 0;
    while at < input.len() && *state != Chunk::Done {
        if let Chunk::Data { left } = *state {
            let n = usize::try_from(left).unwrap_or(usize::MAX).min(input.len() - at);
            payload(&input[at..at + n]);
            at += n;
            *state = if left == n as u64 { Chunk::DataCr } else { Chunk::Data { left: left - n as u64 } };
            continue;
        }
        let b = input[at];
        at += 1;
        *state = match (*state, b) {
            (Chunk::Size { size, digits }, _) if b.is_ascii_hexdigit() => {
                let digit = u64::from((b as char).to_digit(16).unwrap_or(0) as u8);
                if digits >= 15 {
                    return Err(Malformed);
                }
                Chunk::Size { size: size * 16 + digit, digits: digits + 1 }
            }
            (Chunk::Size { digits: 0, .. }, _) => return Err(Malformed),
            (Chunk::Size { size, .. } | Chunk::SizeSpace { size }, b' ' | b'\t') => Chunk::SizeSpace { size },
            (Chunk::Size { size, .. } | Chunk::SizeSpace { size }, b';') => Chunk::Extension { size },
            (Chunk::Size { size, .. } | Chunk::SizeSpace { size } | Chunk::Extension { size }, b'\r') => {
                Chunk::SizeLf { size }
            }
            (Chunk::Extension { size }, b) if b != b'\n' => Chunk::Extension { size },
            (Chunk::SizeLf { size: 0 }, b'\n') => Chunk::TrailerStart,
            (Chunk::SizeLf { size }, b'\n') => Chunk::Data { left: size },
            (Chunk::DataCr, b'\r') => Chunk::DataLf,
            (Chunk::DataLf, b'\n') => Chunk::Size { size: 0, digits: 0 },
            (Chunk::TrailerStart, b'\r') => Chunk::FinalLf,
            (Chunk::TrailerStart | Chunk::Trailer, b) if b != b'\n' && b != b'\r' => Chunk::Trailer,
            (Chunk::Trailer, b'\r') => Chunk::TrailerLf,
            (Chunk::TrailerLf, b'\n') => Chunk::TrailerStart,
            (Chunk::FinalLf, b'\n') => Chunk::Done,
            _ => return Err(Malformed),
        };
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` to a body in pieces of `step` bytes: (bytes consumed, payload, done).
    fn feed(framing: Framing, input: &[u8], step: usize) -> Result<(usize, Vec<u8>, bool), Malformed> {
        let mut body = Body::new(framing);
        let (mut used, mut payload) = (0, Vec::new());
        for piece in input.chunks(step) {
            let n = body.advance(piece, &mut |p| payload.extend_from_slice(p))?;
            used += n;
            if n < piece.len() {
                break;
            }
        }
        Ok((used, payload, body.is_done()))
    }

    #[test]
    fn a_body_of_known_length_ends_where_the_next_message_starts() {
        for step in [1, 3, 100] {
            assert_eq!(feed(Framing::Length(5), b"helloGET /", step), Ok((5, b"hello".to_vec(), true)));
            assert_eq!(feed(Framing::Length(5), b"hel", step), Ok((3, b"hel".to_vec(), false)));
        }
        assert_eq!(feed(Framing::Empty, b"GET /", 1), Ok((0, vec![], true)));
        assert_eq!(feed(Framing::UntilClose, b"all of it", 4), Ok((9, b"all of it".to_vec(), false)));
    }

    #[test]
    fn a_chunked_body_ends_after_its_last_chunk_and_trailers_in_any_pieces() {
        let body = b"5;name=value\r\nhello\r\nA \r\n, chunked!\r\n0\r\nX-Checksum: 1\r\n\r\n";
        let mut input = body.to_vec();
        input.extend_from_slice(b"GET /next HTTP/1.1\r\n\r\n");
        for step in [1, 2, 7, 1000] {
            assert_eq!(feed(Framing::Chunked, &input, step), Ok((body.len(), b"hello, chunked!".to_vec(), true)));
        }
        assert_eq!(feed(Framing::Chunked, b"0\r\n\r\n", 1), Ok((5, vec![], true)));
        assert_eq!(feed(Framing::Chunked, b"5\r\nhel", 2), Ok((6, b"hel".to_vec(), false)));
    }

    #[test]
    fn a_malformed_chunked_body_is_refused() {
        for bad in [
            &b"x\r\n"[..],
            b"\r\n",
            b"5\nhello\r\n",
            b"5\r\nhelloXX",
            b"5\r\nhello\r\r",
            b"1234567890abcdef0\r\n",
            b"5 x\r\n",
            b"0\r\nX: 1\n",
        ] {
            assert_eq!(feed(Framing::Chunked, bad, 1), Err(Malformed), "{}", String::from_utf8_lossy(bad));
        }
    }
}
