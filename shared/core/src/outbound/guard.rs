//! The SSRF guard: which URLs and which addresses outbound requests may reach.
//!
//! Every address a host resolves to must be public, unless an allow-listed network
//! holds it. "Public" follows the IANA special-purpose address registries (IPv4 and
//! IPv6): every range that is not globally reachable is refused, and an IPv6 address
//! outside global unicast (`2000::/3`) is never public. IPv4-mapped, IPv4-translated
//! and NAT64 IPv6 addresses are judged by the IPv4 address they carry. Hosts written as numbers in any spelling (`2130706433`, `0x7f.1`,
//! `017700000001`) are normalised by the WHATWG URL parser before they get here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use url::{Host, Url};

/// Networks that are never public, with the name an admin reads in an error.
const BLOCKED_V4: &[(&str, &str)] = &[
    ("0.0.0.0/8", "unspecified (this network)"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local (cloud metadata lives here)"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
];

const BLOCKED_V6: &[(&str, &str)] = &[
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("::/8", "reserved by the IETF (::/8)"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy prefix (RFC 9780)"),
    (
        "2001::/23",
        "IETF protocol assignments (Teredo, ORCHID, ...)",
    ),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing (SRv6 SIDs)"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
];

/// Where outbound requests may go, as configured for a deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Networks opened despite the block list (`WEBHOOKS_ALLOW_NETS`).
    pub allow_nets: Vec<IpNet>,
    /// Refuse `http` URLs (`WEBHOOKS_REQUIRE_HTTPS`).
    pub require_https: bool,
}

/// Why a URL or an address is refused; the text is shown to admins and logged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not a valid URL: {0}")]
    InvalidUrl(String),
    #[error("the scheme must be https or http, not {0:?}")]
    Scheme(String),
    #[error("https is required by this deployment (WEBHOOKS_REQUIRE_HTTPS)")]
    HttpsRequired,
    #[error("credentials in the URL are not allowed")]
    Credentials,
    #[error("the URL has no host")]
    NoHost,
    #[error("{addr} is not allowed: {kind} address")]
    Address { addr: IpAddr, kind: &'static str },
}

impl OutboundPolicy {
    /// Loopback opened: what `webhooks serve` uses by default.
    pub fn local_default() -> Self {
        Self {
            allow_nets: parse_allow_nets("127.0.0.0/8,::1/128").unwrap_or_default(),
            require_https: false,
        }
    }

    /// The allowed networks that open a whole address family (`0.0.0.0/0`, `::/0`):
    /// every private network, cloud metadata included. Worth a warning at start.
    pub fn wide_open_nets(&self) -> Vec<IpNet> {
        self.allow_nets
            .iter()
            .filter(|net| net.prefix_len() == 0)
            .copied()
            .collect()
    }

    /// Checks a URL's form: scheme, credentials, host, and a literal address's range.
    pub fn check_url(&self, raw: &str) -> Result<Url, Refusal> {
        let url = Url::parse(raw).map_err(|e| Refusal::InvalidUrl(e.to_string()))?;
        match url.scheme() {
            "https" => {}
            "http" if self.require_https => return Err(Refusal::HttpsRequired),
            "http" => {}
            other => return Err(Refusal::Scheme(other.to_owned())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Credentials);
        }
        match url.host() {
            None => return Err(Refusal::NoHost),
            Some(Host::Domain("")) => return Err(Refusal::NoHost),
            Some(Host::Ipv4(v4)) => self.check_addr(IpAddr::V4(v4))?,
            Some(Host::Ipv6(v6)) => self.check_addr(IpAddr::V6(v6))?,
            Some(Host::Domain(_)) => {}
        }
        Ok(url)
    }

    /// Refuses an address that is not public, unless an allowed network holds it.
    pub fn check_addr(&self, addr: IpAddr) -> Result<(), Refusal> {
        let canonical = canonical(addr);
        if self
            .allow_nets
            .iter()
            .any(|net| net.contains(&addr) || net.contains(&canonical))
        {
            return Ok(());
        }
        match blocked_kind(canonical) {
            Some(kind) => Err(Refusal::Address { addr, kind }),
            None => Ok(()),
        }
    }
}

/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`) and NAT64
/// (`64:ff9b::a.b.c.d`) addresses stand for the IPv4 address they carry.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let segments = v6.segments();
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                || segments[..6] == [0, 0, 0, 0, 0xffff, 0]
            {
                let [a, b] = segments[6].to_be_bytes();
                let [c, d] = segments[7].to_be_bytes();
                return IpAddr::V4(Ipv4Addr::new(a, b, c, d));
            }
            IpAddr::V6(v6)
        }
        v4 => v4,
    }
}

fn blocked_kind(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => {
            if v4 == Ipv4Addr::BROADCAST {
                return Some("broadcast");
            }
            BLOCKED_V4.iter().find_map(|(net, kind)| {
                let net: Ipv4Net = net.parse().ok()?;
                net.contains(&v4).then_some(*kind)
            })
        }
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn blocked_v6(v6: Ipv6Addr) -> Option<&'static str> {
    let named = BLOCKED_V6.iter().find_map(|(net, kind)| {
        let net: Ipv6Net = net.parse().ok()?;
        net.contains(&v6).then_some(*kind)
    });
    // Only global unicast can be public; the rest of the space is reserved.
    named.or_else(|| {
        (v6.segments()[0] & 0xe000 != 0x2000).then_some("reserved (not global unicast)")
    })
}

/// Parses `WEBHOOKS_ALLOW_NETS`: comma-separated CIDR networks (or single addresses).
pub fn parse_allow_nets(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<IpNet>()
                .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{part:?} is not a network like 10.0.0.0/8 or ::1/128"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> OutboundPolicy {
        OutboundPolicy::default()
    }

    fn refused_kind(policy: &OutboundPolicy, url: &str) -> Option<&'static str> {
        match policy.check_url(url) {
            Err(Refusal::Address { kind, .. }) => Some(kind),
            _ => None,
        }
    }

    #[test]
    fn public_addresses_and_names_pass() {
        assert!(strict().check_url("https://example.com/hook").is_ok());
        assert!(strict().check_url("https://93.184.216.34/hook").is_ok());
        assert!(strict().check_url("https://[2606:2800:220:1::1]/").is_ok());
    }

    #[test]
    fn every_private_kind_of_literal_address_is_refused() {
        let cases = [
            ("http://127.0.0.1/", "loopback"),
            ("http://10.1.2.3/", "private (RFC 1918)"),
            ("http://172.16.0.1/", "private (RFC 1918)"),
            ("http://192.168.1.1/", "private (RFC 1918)"),
            (
                "http://169.254.169.254/latest/meta-data",
                "link-local (cloud metadata lives here)",
            ),
            ("http://100.64.0.1/", "carrier-grade NAT (RFC 6598)"),
            ("http://224.0.0.1/", "multicast"),
            ("http://0.0.0.0/", "unspecified (this network)"),
            ("http://198.18.0.1/", "benchmarking (RFC 2544)"),
            ("http://192.0.2.1/", "documentation (TEST-NET-1)"),
            ("http://198.51.100.1/", "documentation (TEST-NET-2)"),
            ("http://203.0.113.1/", "documentation (TEST-NET-3)"),
            ("http://255.255.255.255/", "broadcast"),
            ("http://[::1]/", "loopback"),
            ("http://[::]/", "unspecified"),
            ("http://[fd00::1]/", "unique local (private)"),
            ("http://[fe80::1]/", "link-local"),
            ("http://[ff02::1]/", "multicast"),
            ("http://[2001:db8::1]/", "documentation"),
        ];
        for (url, kind) in cases {
            assert_eq!(refused_kind(&strict(), url), Some(kind), "{url}");
        }
    }

    #[test]
    fn mapped_and_nat64_forms_are_judged_by_their_ipv4_address() {
        assert_eq!(
            refused_kind(&strict(), "http://[::ffff:127.0.0.1]/"),
            Some("loopback")
        );
        assert_eq!(
            refused_kind(&strict(), "http://[::ffff:169.254.169.254]/"),
            Some("link-local (cloud metadata lives here)")
        );
        assert_eq!(
            refused_kind(&strict(), "http://[64:ff9b::a00:1]/"),
            Some("private (RFC 1918)")
        );
        assert!(strict().check_url("http://[64:ff9b::5db8:d822]/").is_ok());
    }

    /// Every range of the block lists, by an address inside it and in no narrower
    /// range listed before it (the network with its first host bit set), is refused
    /// under its own name.
    #[test]
    fn every_listed_range_is_refused_by_name() {
        for (net, kind) in BLOCKED_V4 {
            let net: Ipv4Net = net.parse().unwrap();
            let bit = 1u32 << (31 - u32::from(net.prefix_len()));
            let inside = Ipv4Addr::from(u32::from(net.network()) | bit);
            assert_eq!(
                blocked_kind(IpAddr::V4(inside)),
                Some(*kind),
                "{net}: {inside}"
            );
        }
        for (net, kind) in BLOCKED_V6 {
            let net: Ipv6Net = net.parse().unwrap();
            let inside = match net.prefix_len() {
                128 => net.network(),
                len => Ipv6Addr::from(u128::from(net.network()) | 1u128 << (127 - u32::from(len))),
            };
            let judged = canonical(IpAddr::V6(inside));
            assert_eq!(blocked_kind(judged), Some(*kind), "{net}: {inside}");
        }
    }

    #[test]
    fn reserved_ipv6_forms_off_the_old_list_are_refused() {
        for (url, kind) in [
            ("http://[::ffff:0:7f00:1]/", "loopback"),
            (
                "http://[::ffff:0:a9fe:a9fe]/",
                "link-local (cloud metadata lives here)",
            ),
            ("http://[::1:0:0:1]/", "reserved by the IETF (::/8)"),
            ("http://[5f00::1]/", "segment routing (SRv6 SIDs)"),
            ("http://[4000::1]/", "reserved (not global unicast)"),
            ("http://[100:0:0:1::1]/", "dummy prefix (RFC 9780)"),
        ] {
            assert_eq!(refused_kind(&strict(), url), Some(kind), "{url}");
        }
        assert!(strict().check_url("http://[2606:4700::1111]/").is_ok());
    }

    #[test]
    fn every_spelling_of_an_ipv4_address_is_refused() {
        for url in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://017700000001/",
            "http://0x7f000001/",
            "http://127.1/",
            "http://0177.0.0.1/",
        ] {
            assert_eq!(refused_kind(&strict(), url), Some("loopback"), "{url}");
        }
    }

    #[test]
    fn allowed_networks_open_chosen_ranges_only() {
        let policy = OutboundPolicy {
            allow_nets: parse_allow_nets("127.0.0.0/8, ::1/128").unwrap(),
            require_https: false,
        };
        assert!(policy.check_url("http://127.0.0.1:9000/").is_ok());
        assert!(policy.check_url("http://[::1]:9000/").is_ok());
        assert!(policy.check_url("http://[::ffff:127.0.0.1]/").is_ok());
        assert_eq!(
            refused_kind(&policy, "http://10.0.0.1/"),
            Some("private (RFC 1918)")
        );
    }

    #[test]
    fn only_http_and_https_without_credentials() {
        assert_eq!(
            strict().check_url("ftp://example.com/"),
            Err(Refusal::Scheme("ftp".into()))
        );
        assert_eq!(
            strict().check_url("https://user:pw@example.com/"),
            Err(Refusal::Credentials)
        );
        assert!(matches!(
            strict().check_url("not a url"),
            Err(Refusal::InvalidUrl(_))
        ));
    }

    #[test]
    fn https_can_be_required() {
        let policy = OutboundPolicy {
            require_https: true,
            ..OutboundPolicy::default()
        };
        assert_eq!(
            policy.check_url("http://example.com/"),
            Err(Refusal::HttpsRequired)
        );
        assert!(policy.check_url("https://example.com/").is_ok());
    }

    #[test]
    fn allow_nets_parse_errors_name_the_bad_part() {
        let err = parse_allow_nets("10.0.0.0/8,bogus").unwrap_err();
        assert!(err.contains("bogus"));
        assert_eq!(parse_allow_nets("").unwrap(), vec![]);
        assert_eq!(parse_allow_nets("::1").unwrap().len(), 1);
    }
}
