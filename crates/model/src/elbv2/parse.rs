//! Pure parsing of what requests and health checks are matched against: CIDR blocks
//! (source-ip conditions) and health check matchers (HTTP codes).

use std::net::IpAddr;

/// `10.0.0.0/8` or `2001:db8::/32`: the network address and prefix length.
pub fn parse_cidr(cidr: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = cidr.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

/// A matcher's HTTP codes (`200`, `200,202`, `200-299`) as inclusive ranges, each code
/// within 200–499.
pub fn parse_matcher(codes: &str) -> Option<Vec<(u16, u16)>> {
    codes
        .split(',')
        .map(|part| {
            let (lo, hi) = part.trim().split_once('-').unwrap_or((part.trim(), part.trim()));
            let (lo, hi): (u16, u16) = (lo.parse().ok()?, hi.parse().ok()?);
            (200 <= lo && lo <= hi && hi <= 499).then_some((lo, hi))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        assert_eq!(parse_cidr("10.0.0.0/8"), Some(("10.0.0.0".parse().unwrap(), 8)));
        assert!(parse_cidr("::1/128").is_some());
        for bad in ["10.0.0.0", "10.0.0.0/33", "x/8", "10.0.0.0/-1"] {
            assert_eq!(parse_cidr(bad), None, "{bad}");
        }
    }

    #[test]
    fn matchers() {
        assert_eq!(parse_matcher("200"), Some(vec![(200, 200)]));
        assert_eq!(parse_matcher("200,202-204"), Some(vec![(200, 200), (202, 204)]));
        for bad in ["", "199", "500", "300-200", "2xx", "200,"] {
            assert_eq!(parse_matcher(bad), None, "{bad}");
        }
    }
}
