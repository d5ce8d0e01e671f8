//! Where the connector may connect: a name that resolves to a local address is refused where the connection is
//! made (CONTRACT §2), so that a DNS change cannot steer a call into the VPC or the host.

use crate::domain::base_url::{Hosts, LOCAL_HOST_REFUSED};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;

/// The system resolver, refusing a name when any address it resolves to is local (loopback, private, link-local,
/// unspecified): a name that mixes public and local addresses could be steered to the local one.
pub struct PublicAddressesOnly;

impl Resolve for PublicAddressesOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs = resolve(&host).await?;
            if any_local(&addrs) {
                return Err(
                    format!("{host} resolves to a local address: {LOCAL_HOST_REFUSED}").into(),
                );
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The addresses the system resolver gives for `host` (port 0). Errors: the resolver's.
pub async fn resolve(host: &str) -> std::io::Result<Vec<SocketAddr>> {
    Ok(tokio::net::lookup_host((host, 0)).await?.collect())
}

/// Whether any of `addrs` is local (loopback, private, link-local, unspecified): a name that mixes public and
/// local addresses could be steered to the local one.
pub fn any_local(addrs: &[SocketAddr]) -> bool {
    addrs.iter().any(|a| !Hosts::Public.admits(a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::client::http_client;
    use crate::outbound::transport::TransportError;

    /// The resolver hook refuses a name that resolves to a local address where the connection is made, whatever
    /// the settings' text said; the same client without it connects.
    #[tokio::test]
    async fn a_name_that_resolves_to_a_local_address_is_refused_at_connection_time() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut request = [0; 1024];
                let _ = socket.read(&mut request).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let url = format!("http://localhost:{port}/");
        let error = http_client(Hosts::Public)
            .get(&url)
            .send()
            .await
            .unwrap_err();
        let reason = TransportError::of(&error).reason;
        assert!(reason.contains("resolves to a local address"), "{reason}");
        let answer = http_client(Hosts::Local).get(&url).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 204);
    }

    #[tokio::test]
    async fn localhost_resolves_to_a_local_address() {
        let addrs = resolve("localhost").await.unwrap();
        assert!(!addrs.is_empty() && any_local(&addrs), "{addrs:?}");
        assert!(!any_local(&["203.0.113.7:0".parse().unwrap()]));
    }
}
