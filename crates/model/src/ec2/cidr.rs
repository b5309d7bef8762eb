//! IPv4 CIDR arithmetic as EC2 applies it to VPCs and subnets: parsing, containment and
//! overlap, the five addresses EC2 reserves in every subnet (network, router, DNS,
//! future use, broadcast), and handing out the lowest free private address.

use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub network: Ipv4Addr,
    pub prefix: u8,
}

/// Addresses EC2 keeps in every subnet: the first four and the last.
const RESERVED_LOW: u64 = 4;
const RESERVED: u64 = 5;

impl Cidr {
    /// `a.b.c.d/n`; the address must be the network address (EC2 rejects host bits).
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = text.split_once('/')?;
        let network: Ipv4Addr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        if prefix > 32 || prefix.to_string() != text.split_once('/')?.1 {
            return None;
        }
        let cidr = Cidr { network, prefix };
        (u32::from(network) & cidr.mask() == u32::from(network)).then_some(cidr)
    }

    fn mask(&self) -> u32 {
        if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) }
    }

    pub fn size(&self) -> u64 {
        1u64 << (32 - self.prefix)
    }

    /// How many addresses instances can have (the size less EC2's five).
    pub fn usable(&self) -> u64 {
        self.size().saturating_sub(RESERVED)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.network)
    }

    /// Whether `inner` lies wholly inside this block.
    pub fn covers(&self, inner: &Cidr) -> bool {
        inner.prefix >= self.prefix && self.contains(inner.network)
    }

    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.covers(other) || other.covers(self)
    }

    /// The lowest address instances may have that is not in `taken`.
    pub fn first_free(&self, taken: &[String]) -> Option<Ipv4Addr> {
        let base = u64::from(u32::from(self.network));
        (RESERVED_LOW..self.size().saturating_sub(1))
            .map(|offset| Ipv4Addr::from((base + offset) as u32))
            .find(|ip| !taken.iter().any(|t| t.parse::<Ipv4Addr>().is_ok_and(|t| t == *ip)))
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// EC2's private DNS name of an address: `ip-10-0-1-5.ec2.internal` in us-east-1,
/// `ip-10-0-1-5.{region}.compute.internal` elsewhere.
pub fn private_dns_name(ip: Ipv4Addr, region: &str) -> String {
    let dashed = ip.to_string().replace('.', "-");
    if region == "us-east-1" {
        format!("ip-{dashed}.ec2.internal")
    } else {
        format!("ip-{dashed}.{region}.compute.internal")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_network_blocks_only() {
        assert_eq!(Cidr::parse("172.31.0.0/16").map(|c| c.size()), Some(65536));
        assert_eq!(Cidr::parse("10.0.1.0/24").map(|c| c.usable()), Some(251));
        assert!(Cidr::parse("10.0.1.5/24").is_none());
        assert!(Cidr::parse("10.0.1.0/33").is_none());
        assert!(Cidr::parse("10.0.1.0/024").is_none());
        assert!(Cidr::parse("10.0.1.0").is_none());
        assert!(Cidr::parse("banana/8").is_none());
    }

    #[test]
    fn containment_and_overlap() {
        let vpc = Cidr::parse("172.31.0.0/16").unwrap();
        let a = Cidr::parse("172.31.0.0/20").unwrap();
        let b = Cidr::parse("172.31.16.0/20").unwrap();
        let outside = Cidr::parse("10.0.0.0/20").unwrap();
        assert!(vpc.covers(&a) && vpc.covers(&b) && !vpc.covers(&outside));
        assert!(!a.overlaps(&b));
        assert!(a.overlaps(&Cidr::parse("172.31.8.0/24").unwrap()));
    }

    #[test]
    fn allocation_skips_reserved_and_taken_addresses() {
        let subnet = Cidr::parse("10.0.1.0/28").unwrap();
        assert_eq!(subnet.first_free(&[]), Some("10.0.1.4".parse().unwrap()));
        let taken = vec!["10.0.1.4".to_string(), "10.0.1.5".to_string()];
        assert_eq!(subnet.first_free(&taken), Some("10.0.1.6".parse().unwrap()));
        let all: Vec<String> = (4..15).map(|i| format!("10.0.1.{i}")).collect();
        assert_eq!(subnet.first_free(&all), None, "10.0.1.15 is the broadcast address");
    }

    #[test]
    fn dns_names_follow_the_region() {
        let ip = "172.31.5.9".parse().unwrap();
        assert_eq!(private_dns_name(ip, "us-east-1"), "ip-172-31-5-9.ec2.internal");
        assert_eq!(private_dns_name(ip, "eu-west-1"), "ip-172-31-5-9.eu-west-1.compute.internal");
    }
}
