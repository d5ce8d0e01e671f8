//! Which hosts the connector may reach and the base URLs of the remote systems (CONTRACT §2): the rules a URL in
//! the settings keeps, apart from the settings so that a ticket's reference can use them too.

use std::net::IpAddr;
use url::{Host, Url};

/// Which hosts `instanceUrl` and `pmCloud.apiUrl` may name, written as an IP address or resolving to one
/// (CONTRACT §2). The outbound HTTP client applies the same rule to every address a name resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hosts {
    /// Public addresses only: never loopback, private (RFC 1918, RFC 4193), link-local (169.254.0.0/16 with the
    /// instance metadata address, fe80::/10) or unspecified (0.0.0.0, `::`).
    #[default]
    Public,
    /// Any address, for local work and tests (`ALLOW_LOCAL_URLS=true`; never set by the template).
    Local,
}

impl Hosts {
    /// `Local` when `ALLOW_LOCAL_URLS` is `true` (case-insensitive); `Public` otherwise.
    pub fn from_allow_local_urls(value: Option<&str>) -> Self {
        match value {
            Some(value) if value.trim().eq_ignore_ascii_case("true") => Self::Local,
            _ => Self::Public,
        }
    }

    /// Whether a connection to `ip` is allowed.
    pub fn admits(self, ip: IpAddr) -> bool {
        self == Self::Local || !is_local_address(ip)
    }
}

/// Loopback, private, link-local (the instance metadata address included), unspecified, and those written as
/// IPv4-mapped IPv6 addresses.
pub fn is_local_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.octets()[0] == 0
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_local_address(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

/// Why a local host is refused, for messages (CONTRACT §2).
pub const LOCAL_HOST_REFUSED: &str = "must not name a loopback, private, link-local or unspecified address (set \
ALLOW_LOCAL_URLS=true only for local work)";

/// A remote system's base URL (`instanceUrl`, `pmCloud.apiUrl`): `https://`, or `http://` for a loopback host only
/// (local work); no user name, password, path, query or fragment; a host [`Hosts`] admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// Errors say what is wrong, for an administrator (CONTRACT §2).
    pub fn parse(text: &str, hosts: Hosts) -> Result<Self, &'static str> {
        let url = Url::parse(text.trim()).map_err(|_| "must be an absolute https:// URL")?;
        let host = url.host().ok_or("must name a host")?;
        let local = match &host {
            Host::Domain(name) => is_localhost(name),
            Host::Ipv4(ip) => is_local_address(IpAddr::V4(*ip)),
            Host::Ipv6(ip) => is_local_address(IpAddr::V6(*ip)),
        };
        if local && hosts == Hosts::Public {
            return Err(LOCAL_HOST_REFUSED);
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err(
                    "must use https:// (plain http:// is accepted only for a loopback host)",
                );
            }
            _ => return Err("must use https://"),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user name or password");
        }
        if url.query().is_some() || url.fragment().is_some() || url.path() != "/" {
            return Err("must be a base URL, without a path, query or fragment");
        }
        Ok(Self(url))
    }

    /// An absolute URL on the host, from a path beginning with `/`.
    pub fn join(&self, path: &str) -> Url {
        self.0
            .join(path)
            .expect("a base URL joins any absolute path")
    }

    pub fn host(&self) -> String {
        self.0.host_str().unwrap_or_default().to_owned()
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => is_localhost(name),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// `localhost` and its subdomains, which resolve to loopback (RFC 6761).
fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_url_scheme_rule() {
        // With local hosts allowed (local work), the scheme rule alone decides.
        for good in [
            "https://acme.service-now.com",
            "http://127.0.0.1:8089",
            "http://127.5.6.7",
            "http://localhost:9",
            "http://[::1]:8089",
            "https://10.0.0.5",
        ] {
            assert!(BaseUrl::parse(good, Hosts::Local).is_ok(), "{good}");
        }
        for bad in [
            "http://acme.service-now.com",
            "http://10.0.0.5",
            "ftp://acme.example",
            "acme.service-now.com",
            "https://acme.service-now.com/now/nav",
            "https://u:p@acme.service-now.com",
            "https://acme.service-now.com?x=1",
            "http://localhost.evil.example",
        ] {
            assert!(BaseUrl::parse(bad, Hosts::Local).is_err(), "{bad}");
        }
    }

    #[test]
    fn without_allow_local_urls_local_addresses_are_refused() {
        for local in [
            "https://127.0.0.1",
            "http://127.0.0.1:8089",
            "https://localhost",
            "https://api.localhost",
            "https://10.0.0.5",
            "https://172.16.4.1",
            "https://192.168.1.10",
            "https://169.254.169.254",
            "https://0.0.0.0",
            "https://[::1]",
            "https://[::]",
            "https://[fd12:3456::1]",
            "https://[fe80::1]",
            "https://[::ffff:10.0.0.1]",
            "https://2130706433",
            "https://0x7f.1",
        ] {
            assert_eq!(
                BaseUrl::parse(local, Hosts::Public),
                Err(LOCAL_HOST_REFUSED),
                "{local}"
            );
            assert!(BaseUrl::parse(local, Hosts::Local).is_ok(), "{local}");
        }
        for public in [
            "https://acme.service-now.com",
            "https://8.8.8.8",
            "https://[2606:4700::1111]",
        ] {
            assert!(BaseUrl::parse(public, Hosts::Public).is_ok(), "{public}");
        }
        assert_eq!(Hosts::from_allow_local_urls(Some("TRUE")), Hosts::Local);
        for other in [None, Some("false"), Some("1"), Some("")] {
            assert_eq!(
                Hosts::from_allow_local_urls(other),
                Hosts::Public,
                "{other:?}"
            );
        }
    }
}
