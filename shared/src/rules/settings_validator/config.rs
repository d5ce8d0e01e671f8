//! The `config` check: every rule of CONTRACT §2 over the stored settings or a candidate merged into them, the
//! address rules included (a URL's host resolved), and whether `pmcloud` can run after a failed `config`.

use super::Subject;
use super::hints::{Failed, invalid};
use crate::domain::base_url::{BaseUrl, Hosts, LOCAL_HOST_REFUSED};
use crate::domain::fields::FieldError;
use crate::domain::settings::{PmCloudSettings, Settings, secret_json};
use crate::outbound::public_hosts::{any_local, resolve};
use serde_json::{Map, Value};

/// How long `config` waits for the system resolver before it leaves a host to `connect` and `pmcloud`.
const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// What the `pmcloud` check does.
pub(super) enum PmCloudCheck {
    Run(PmCloudSettings),
    /// Ok and skipped: the settings have no `pmCloud`.
    NotConfigured,
    /// Skipped: `config` failed for the `pmCloud` part itself (or the settings are not JSON).
    NotTried,
}

/// The `pmcloud` check after a failed `config`: run when the `pmCloud` part keeps every rule on its own (what
/// failed was the rest, and `pmcloud` runs whatever ServiceNow's checks do, CONTRACT §11).
pub(super) async fn pm_cloud_on_its_own(
    object: &Result<Map<String, Value>, Vec<FieldError>>,
    hosts: Hosts,
) -> PmCloudCheck {
    let Ok(object) = object else {
        return PmCloudCheck::NotTried;
    };
    let Some(part) = object.get("pmCloud").filter(|v| !v.is_null()) else {
        return PmCloudCheck::NotConfigured;
    };
    match PmCloudSettings::parse(part, hosts) {
        Ok(pm_cloud)
            if hosts_resolving_locally(&[("pmCloud.apiUrl", &pm_cloud.api_url)], hosts)
                .await
                .is_empty() =>
        {
            PmCloudCheck::Run(pm_cloud)
        }
        _ => PmCloudCheck::NotTried,
    }
}

/// The settings object to check: the stored secret's, or the candidate's parts over it; and how to name it.
pub(super) fn settings_object(
    subject: Subject,
    raw: &str,
) -> (Result<Map<String, Value>, Vec<FieldError>>, &'static str) {
    match subject {
        Subject::Stored => (secret_json(raw), "the stored settings secret"),
        Subject::Candidate {
            servicenow,
            pm_cloud,
        } => {
            let mut merged = secret_json(raw).unwrap_or_default();
            for (key, part) in [("servicenow", servicenow), ("pmCloud", pm_cloud)] {
                if let Some(part) = part {
                    merged.insert(key.to_owned(), part);
                }
            }
            (
                Ok(merged),
                "the candidate settings (with the stored ones for what they leave out)",
            )
        }
    }
}

/// Every rule of CONTRACT §2, the address rules included: with [`Hosts::Public`], a URL's host that resolves to a
/// local address fails here (a name that does not resolve is left to `connect` and `pmcloud` to report).
pub(super) async fn config_check(
    object: &Result<Map<String, Value>, Vec<FieldError>>,
    source: &str,
    hosts: Hosts,
) -> Result<(Settings, String), Failed> {
    let settings = object
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|object| Settings::from_json(object, hosts))
        .map_err(|errors| invalid(source, &errors))?;
    let mut urls = vec![("servicenow.instanceUrl", &settings.servicenow.instance_url)];
    urls.extend(
        settings
            .pm_cloud
            .as_ref()
            .map(|p| ("pmCloud.apiUrl", &p.api_url)),
    );
    let local = hosts_resolving_locally(&urls, hosts).await;
    if !local.is_empty() {
        return Err(invalid(source, &local));
    }
    let sn = &settings.servicenow;
    let pm_cloud = settings.pm_cloud.as_ref().map_or_else(
        || "PM Cloud not configured".to_owned(),
        |p| format!("PM Cloud {}", p.api_url.as_str()),
    );
    let detail = format!(
        "{source}: instance {}, acting as {}, task type {}, {pm_cloud}",
        sn.instance_url.as_str(),
        sn.acting_user(),
        sn.task_type
    );
    Ok((settings, detail))
}

/// The URL fields (name, URL) whose host resolves to a local address; none when `hosts` admits local addresses.
async fn hosts_resolving_locally(urls: &[(&str, &BaseUrl)], hosts: Hosts) -> Vec<FieldError> {
    if hosts == Hosts::Local {
        return Vec::new();
    }
    let mut errors = Vec::new();
    for &(field, url) in urls {
        if let Ok(Ok(addrs)) = tokio::time::timeout(LOOKUP_TIMEOUT, resolve(&url.host())).await
            && any_local(&addrs)
        {
            errors.push(FieldError::new(
                field,
                format!("resolves to a local address: {LOCAL_HOST_REFUSED}"),
            ));
        }
    }
    errors
}
