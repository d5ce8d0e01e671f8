//! The HTTP client every call out of the connector uses, whether to ServiceNow or to PM Cloud: one per execution
//! environment, with bounded timeouts, no redirects and the compiled-in roots; and clients built on first use.

use super::public_hosts::PublicAddressesOnly;
use crate::domain::base_url::Hosts;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Well under every function's timeout, so that a slow remote ends as a transient error, not a killed function.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The default bound on a whole call, answer body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// One reqwest client per execution environment, built on first use: building one sets up TLS, which stays out of
/// the time before the first event, and is never paid by a function that makes no call. Cheap to clone: clones
/// share the client. Dereferences to [`reqwest::Client`].
#[derive(Clone)]
pub struct HttpClient {
    built: Arc<OnceLock<reqwest::Client>>,
    timeout: Duration,
    hosts: Hosts,
}

impl std::ops::Deref for HttpClient {
    type Target = reqwest::Client;

    fn deref(&self) -> &reqwest::Client {
        self.built
            .get_or_init(|| build_client(self.timeout, self.hosts))
    }
}

/// The HTTP client a function builds once, in `main`, with [`REQUEST_TIMEOUT`], connecting only to addresses
/// `hosts` admits.
pub fn http_client(hosts: Hosts) -> HttpClient {
    http_client_with_timeout(REQUEST_TIMEOUT, hosts)
}

/// The same with another total timeout (the settings check, and tests that stage slow answers).
pub fn http_client_with_timeout(timeout: Duration, hosts: Hosts) -> HttpClient {
    HttpClient {
        built: Arc::new(OnceLock::new()),
        timeout,
        hosts,
    }
}

/// The reqwest client: bounded timeouts, no redirects, the compiled-in roots ([`tls_roots`]).
///
/// With [`Hosts::Public`], every name is resolved by [`PublicAddressesOnly`], so that a name that resolves to a
/// local address, now or after a DNS change, is refused where the connection is made (CONTRACT §2); IP literals are
/// refused by the settings themselves ([`crate::domain::base_url::BaseUrl::parse`]).
fn build_client(timeout: Duration, hosts: Hosts) -> reqwest::Client {
    // reqwest takes rustls' process-wide provider: ring, the one the AWS SDK's client uses. Installing it again is
    // refused, harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = match hosts {
        Hosts::Public => reqwest::Client::builder().dns_resolver(Arc::new(PublicAddressesOnly)),
        Hosts::Local => reqwest::Client::builder(),
    };
    let roots = tls_roots().filter_map(|der| reqwest::Certificate::from_der(der).ok());
    builder
        .tls_certs_only(roots)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "pmc-servicenow-connector/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .expect("a client with compiled-in roots builds")
}

/// A client built on first use (for example an AWS SDK client): building one costs about a millisecond that stays
/// out of the time before the first event, and one a function never calls is never built.
pub type BuiltOnFirstUse<T> = std::sync::LazyLock<T, Box<dyn FnOnce() -> T + Send>>;

/// `value` as a [`BuiltOnFirstUse`] that is built already (tests hand in their own clients).
pub fn built<T: Send + 'static>(value: T) -> BuiltOnFirstUse<T> {
    std::sync::LazyLock::new(Box::new(move || value))
}

/// The root certificates every TLS connection trusts, ServiceNow's, PM Cloud's and AWS's alike: Mozilla's CA list
/// as compiled into the binary (`webpki-root-certs`), DER-encoded. Compiled in so that no function reads the
/// system's certificate folder at start; they cover `*.service-now.com`, `*.pm.beyondtrustcloud.com` and AWS's
/// endpoints. A TLS-intercepting proxy's own CA is not among them.
pub fn tls_roots() -> impl Iterator<Item = &'static [u8]> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|cert| cert.as_ref())
}
