//! Which addresses a fetch may reach: the classifier of non-public ranges, and the resolver
//! that applies it to every name it resolves, so the addresses screened are exactly the ones
//! connected to. Literal addresses in URLs never reach a resolver; `fetch` checks those.

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::shown;

/// Whether an address may be fetched from without `allow_private_networks`.
pub fn is_public_address(address: IpAddr) -> bool {
    refused_range(address).is_none()
}

/// IPv4 ranges that are not the public internet, most specific first: every block of the IANA
/// IPv4 Special-Purpose Address Registry that is not globally reachable (blocks inside
/// 192.0.0.0/24 that are reachable are refused with it: an IdP does not live there), plus the
/// cloud metadata and platform addresses that SSRF attacks aim at.
const REFUSED_V4: [(Ipv4Addr, u8, &str); 18] = [
    (Ipv4Addr::new(169, 254, 169, 254), 32, "cloud metadata"),
    (
        Ipv4Addr::new(168, 63, 129, 16),
        32,
        "cloud platform (Azure wire server)",
    ),
    (Ipv4Addr::new(255, 255, 255, 255), 32, "broadcast"),
    (Ipv4Addr::new(0, 0, 0, 0), 8, "unspecified or this network"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private"),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        "shared address space (CGNAT)",
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link-local"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private"),
    (Ipv4Addr::new(192, 0, 0, 0), 24, "IETF protocol assignments"),
    (Ipv4Addr::new(192, 0, 2, 0), 24, "documentation"),
    (Ipv4Addr::new(192, 88, 99, 0), 24, "6to4 relay anycast"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "documentation"),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "documentation"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved"),
];

/// IPv6 ranges that are not the public internet, most specific first: every block of the IANA
/// IPv6 Special-Purpose Address Registry that is not globally reachable (2001::/23 whole), and
/// the deprecated site-local range. Addresses embedding an IPv4 address (mapped, translated,
/// NAT64, 6to4, ISATAP) are judged by that address instead.
const REFUSED_V6: [(Ipv6Addr, u8, &str); 15] = [
    (Ipv6Addr::UNSPECIFIED, 128, "unspecified"),
    (Ipv6Addr::LOCALHOST, 128, "loopback"),
    (
        Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254),
        128,
        "cloud metadata",
    ),
    (Ipv6Addr::UNSPECIFIED, 96, "IPv4-compatible (deprecated)"),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "local-use NAT64",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
        64,
        "discard-only",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 1, 0, 0, 0, 0),
        64,
        "dummy prefix",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation",
    ),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "IETF protocol assignments",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "documentation",
    ),
    (
        Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0),
        16,
        "segment routing",
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "unique-local",
    ),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "link-local"),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "site-local (deprecated)",
    ),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "multicast"),
];

/// The name of the non-public range holding `address`, if any.
pub(super) fn refused_range(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => REFUSED_V4
            .iter()
            .find(|(network, bits, _)| {
                in_prefix(v4.to_bits().into(), network.to_bits().into(), *bits, 32)
            })
            .map(|(_, _, name)| *name),
        IpAddr::V6(v6) => {
            if let Some(embedded) = embedded_ipv4(v6) {
                return refused_range(IpAddr::V4(embedded));
            }
            REFUSED_V6
                .iter()
                .find(|(network, bits, _)| in_prefix(v6.to_bits(), network.to_bits(), *bits, 128))
                .map(|(_, _, name)| *name)
        }
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:0:0/96`), IPv4-translated
/// (`::ffff:0:0:0/96`, RFC 2765), NAT64 (`64:ff9b::/96`), 6to4 (`2002::/16`) or ISATAP
/// (interface identifier `[02]00:5efe:a.b.c.d`, RFC 5214) address.
fn embedded_ipv4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = address.to_bits();
    let low = Ipv4Addr::from_bits((bits & 0xffff_ffff) as u32);
    let prefix96 = bits >> 32;
    let interface_id_high = (bits >> 32) & 0xffff_ffff;
    if prefix96 == 0xffff || prefix96 == 0xffff_0000 || prefix96 == 0x0064_ff9b_0000_0000_0000_0000
    {
        Some(low)
    } else if bits >> 112 == 0x2002 {
        Some(Ipv4Addr::from_bits(((bits >> 80) & 0xffff_ffff) as u32))
    } else if interface_id_high == 0x0000_5efe || interface_id_high == 0x0200_5efe {
        Some(low)
    } else {
        None
    }
}

fn in_prefix(address: u128, network: u128, bits: u8, width: u32) -> bool {
    let host_bits = width - u32::from(bits);
    address.checked_shr(host_bits).unwrap_or(0) == network.checked_shr(host_bits).unwrap_or(0)
}

pub(super) fn is_loopback(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// `localhost` and its subdomains (RFC 6761 §6.3), which the resolver pins to loopback.
pub(super) fn is_localhost_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Resolves names with the system resolver and drops the addresses the policy refuses, so
/// the screened addresses are the ones connected to (no rebinding between check and use).
#[derive(Debug, Clone, Copy)]
pub(super) struct GuardedResolver {
    pub(super) allow_private_networks: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private_networks = self.allow_private_networks;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = if is_localhost_name(&host) {
                vec![
                    SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                    SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
                ]
            } else {
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect()
            };
            let kept = screen(&host, found, allow_private_networks)?;
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// The resolved addresses that may be connected to; refused when every one is screened out.
fn screen(
    host: &str,
    found: Vec<SocketAddr>,
    allow_private_networks: bool,
) -> Result<Vec<SocketAddr>, AddressRefused> {
    let refused = found
        .iter()
        .find_map(|address| refused_range(address.ip()).map(|range| (address.ip(), range)));
    let kept: Vec<SocketAddr> = found
        .into_iter()
        .filter(|address| allow_private_networks || is_public_address(address.ip()))
        .collect();
    match refused {
        Some((address, range)) if kept.is_empty() => Err(AddressRefused(format!(
            "{} resolves to {address} ({range})",
            shown(host)
        ))),
        _ => Ok(kept),
    }
}

/// The resolver's refusal, found again in reqwest's error chain.
#[derive(Debug)]
pub(super) struct AddressRefused(pub(super) String);

impl fmt::Display for AddressRefused {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl StdError for AddressRefused {}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[tokio::test]
    async fn resolver_drops_private_addresses_unless_allowed() {
        let name = || Name::from_str("localhost").unwrap();
        let refused = GuardedResolver {
            allow_private_networks: false,
        }
        .resolve(name())
        .await
        .err()
        .unwrap();
        assert!(
            refused.downcast_ref::<AddressRefused>().is_some(),
            "{refused}"
        );
        let found: Vec<SocketAddr> = GuardedResolver {
            allow_private_networks: true,
        }
        .resolve(name())
        .await
        .unwrap()
        .collect();
        assert_eq!(
            found,
            vec![
                SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
            ]
        );
    }

    #[test]
    fn screening_keeps_the_public_addresses_of_a_mixed_answer() {
        let public = SocketAddr::from(([93, 184, 215, 14], 0));
        let private = SocketAddr::from(([10, 0, 0, 1], 0));
        assert_eq!(
            screen("idp", vec![private, public], false).unwrap(),
            vec![public]
        );
        assert_eq!(
            screen("idp", vec![private, public], true).unwrap(),
            vec![private, public]
        );
        assert!(screen("idp", vec![private], false).is_err());
        assert_eq!(screen("idp", Vec::new(), false).unwrap(), Vec::new());
    }

    fn range_of(text: &str) -> Option<&'static str> {
        refused_range(text.parse().unwrap())
    }

    #[test]
    fn ipv4_non_public_ranges_are_refused() {
        let cases = [
            ("0.0.0.0", "unspecified or this network"),
            ("0.1.2.3", "unspecified or this network"),
            ("10.0.0.1", "private"),
            ("10.255.255.255", "private"),
            ("100.64.0.1", "shared address space (CGNAT)"),
            ("100.127.255.254", "shared address space (CGNAT)"),
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("169.254.169.254", "cloud metadata"),
            ("168.63.129.16", "cloud platform (Azure wire server)"),
            ("169.254.1.1", "link-local"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.0.0.8", "IETF protocol assignments"),
            ("192.0.2.1", "documentation"),
            ("192.88.99.1", "6to4 relay anycast"),
            ("192.168.1.1", "private"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
        ];
        for (address, range) in cases {
            assert_eq!(range_of(address), Some(range), "{address}");
        }
    }

    #[test]
    fn ipv6_non_public_ranges_are_refused() {
        let cases = [
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fd00:ec2::254", "cloud metadata"),
            ("::10.0.0.1", "IPv4-compatible (deprecated)"),
            ("64:ff9b:1::1", "local-use NAT64"),
            ("100::1", "discard-only"),
            ("100:0:0:1::1", "dummy prefix"),
            ("2001::5efe:1", "IETF protocol assignments"),
            ("2001:db8::1", "documentation"),
            ("2001::1", "IETF protocol assignments"),
            ("2001:2::1", "IETF protocol assignments"),
            ("3fff::1", "documentation"),
            ("5f00::1", "segment routing"),
            ("fc00::1", "unique-local"),
            ("fdff:ffff::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local (deprecated)"),
            ("ff02::1", "multicast"),
        ];
        for (address, range) in cases {
            assert_eq!(range_of(address), Some(range), "{address}");
        }
    }

    #[test]
    fn ipv6_addresses_embedding_ipv4_are_judged_by_the_ipv4_address() {
        let cases = [
            ("::ffff:10.0.0.1", Some("private")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:169.254.169.254", Some("cloud metadata")),
            ("::ffff:100.64.0.1", Some("shared address space (CGNAT)")),
            ("64:ff9b::192.168.0.1", Some("private")),
            ("2002:a00:1::1", Some("private")),
            ("::ffff:0:10.0.0.1", Some("private")),
            ("::ffff:0:127.0.0.1", Some("loopback")),
            ("::ffff:0:169.254.169.254", Some("cloud metadata")),
            ("0:0:0:0:ffff:0:7f00:1", Some("loopback")),
            ("2001:4860:1:2:0:5efe:10.0.0.1", Some("private")),
            ("2a00:1:2:3:200:5efe:192.168.0.1", Some("private")),
            ("2a00:1:2:3:200:5efe:127.0.0.1", Some("loopback")),
            ("::ffff:0:8.8.8.8", None),
            ("2a00:1:2:3:0:5efe:8.8.8.8", None),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::8.8.8.8", None),
            ("2002:808:808::1", None),
        ];
        for (address, range) in cases {
            assert_eq!(range_of(address), range, "{address}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for address in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "198.17.255.255",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "2001:4860:4860::8888",
        ] {
            assert!(is_public_address(address.parse().unwrap()), "{address}");
        }
    }
}
