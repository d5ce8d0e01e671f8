//! What a failed check says and what an administrator can do about it: each remote's refusal or failure in, a
//! detail and a hint out (CONTRACT §11).

use crate::domain::fields::{FieldError, describe_fields};
use crate::domain::settings::{ServiceNowGrant, ServiceNowSettings};
use crate::domain::time::Timestamp;
use crate::outbound::answer::HTML_PAGE;
use crate::outbound::failure::{Failure, Transient};
use crate::outbound::transport::{TransportError, TransportFailure};
use crate::pmcloud::TokenError;
use crate::servicenow::{GrantError, ServiceNowError};

/// A failed check: what went wrong and what to do about it.
#[derive(Debug)]
pub(super) struct Failed {
    pub(super) detail: String,
    pub(super) hint: String,
}

fn failed(detail: impl Into<String>, hint: impl Into<String>) -> Failed {
    Failed {
        detail: detail.into(),
        hint: hint.into(),
    }
}

/// The `oauth` check's failure: ServiceNow refused the grant, or gave no usable answer.
pub(super) fn grant_failed(settings: &ServiceNowSettings, error: GrantError) -> Failed {
    match error {
        GrantError::Refused { status, error, .. } if error == "invalid_client" => failed(
            format!("ServiceNow rejected the OAuth client ({status} invalid_client)"),
            "Check clientId and clientSecret against the Application Registry entry (System OAuth > \
             Application Registry), and that the entry is active.",
        ),
        GrantError::Refused {
            status,
            error,
            description,
            ..
        } => refused(settings, status, [error, description].join(" ").trim()),
        GrantError::Failed(ServiceNowError::Permanent { detail, .. }) => failed(
            detail,
            "The OAuth token endpoint is not available: check that the OAuth 2.0 plugin is active and the system \
             property com.snc.platform.security.oauth.is.active is true.",
        ),
        GrantError::Failed(ServiceNowError::Transient(Transient { detail, .. })) => {
            let hint = html_hint(&detail).unwrap_or(
                "ServiceNow's token endpoint did not give a usable answer; try again, and check the \
                 instance's health if it persists.",
            );
            failed(detail, hint)
        }
    }
}

/// A refused grant (other than `invalid_client`): what ServiceNow said, and what to check for the configured grant.
fn refused(settings: &ServiceNowSettings, status: u16, said: &str) -> Failed {
    match settings.grant {
        ServiceNowGrant::Password { .. } => failed(
            format!(
                "ServiceNow rejected the OAuth client or the user's credentials ({status} {said})"
            ),
            "ServiceNow answers alike for a wrong client and a wrong user, so check both: clientId and \
             clientSecret against the Application Registry entry, and that the user exists, is active, is not \
             locked out and that the password is current.",
        ),
        ServiceNowGrant::ClientCredentials => failed(
            format!("ServiceNow refused the client-credentials grant ({status} {said})"),
            "The client-credentials grant needs ServiceNow Washington DC or later, the system property \
             glide.oauth.inbound.client.credential.grant_type.enabled created and set to true, and an OAuth API \
             endpoint for external clients with its OAuth Application User field set (add the field with Configure \
             > Form Design; that user acts, so give it the roles ticket creation needs). Check clientId and \
             clientSecret against that entry too.",
        ),
    }
}

/// The `table_access` check's failure: the Table API refused the probe of `table` (a task table name), or gave
/// no usable answer.
/// The approval tables (CONTRACT §15) refused the user: which role or ACL gives what the connector needs.
pub(super) fn approvals_failed(table: &str, error: ServiceNowError) -> Failed {
    let detail = error.to_string();
    match error {
        ServiceNowError::Permanent {
            status: 401 | 403 | 404,
            ..
        } => failed(
            detail,
            format!(
                "With approvals configured the user must read group members (sys_user_grmember) and read and \
                 create approval records (sysapproval_approver); {table} refused it: grant the approval_admin role, \
                 or ACLs that allow exactly that."
            ),
        ),
        error => table_failed(table, error),
    }
}

pub(super) fn table_failed(table: &str, error: ServiceNowError) -> Failed {
    let (status, detail) = match error {
        ServiceNowError::Permanent { status, detail, .. } => (status, detail),
        ServiceNowError::Transient(Transient { detail, .. }) => {
            let hint = html_hint(&detail).unwrap_or(
                "The Table API did not answer normally; try again, and check the instance's health if it \
                 persists.",
            );
            return failed(detail, hint);
        }
    };
    match status {
        400 => failed(
            detail,
            format!(
                "The instance has no table {table}: activate the plugin that provides it (Change Management for \
                 change_request, Service Catalog for sc_task and sc_req_item) or choose another taskType."
            ),
        ),
        401 => failed(
            detail,
            "The Table API refused a fresh token: check that the user may use web services (REST API access \
             policies, 'Web service access only' users) and the OAuth entry's access scope (useraccount).",
        ),
        403 | 404 => failed(
            detail,
            format!(
                "The user lacks the role to use {table}: grant it a role that can read and create {table} records \
                 (itil for incident, change_request and sc_task; catalog roles for sc_req_item), and check ACLs."
            ),
        ),
        _ => failed(
            detail,
            "The Table API did not answer normally; try again, and check the instance's health if it persists.",
        ),
    }
}

/// The `pmcloud` check's failure: PM Cloud at `host` refused the grant, could not be reached, or gave no usable
/// answer.
pub(super) fn pmcloud_failed(host: &str, error: TokenError) -> Failed {
    match error {
        TokenError::Refused { status, error } if error == "invalid_client" || status == 401 => {
            failed(
                format!(
                    "PM Cloud rejected the API account's client ID or secret ({status} {error})"
                ),
                "Check pmCloud.clientId and pmCloud.clientSecret against the API account in PM Cloud \
             (Configuration > Settings > API Settings). Regenerating the secret there invalidates the old one: \
             put the new one in the settings.",
            )
        }
        TokenError::Refused { status, error } => failed(
            format!("PM Cloud refused the grant ({status} {error})"),
            "The API account must be active and allowed the Management API, with Full Access to JIT \
             (Configuration > Settings > API Settings in PM Cloud).",
        ),
        TokenError::Failed(Failure::Transient(Transient { detail, .. }))
            if detail.contains(HTML_PAGE) =>
        {
            failed(
                detail,
                "PM Cloud answered a web page instead of a token: check that pmCloud.apiUrl is the API address \
                 (https://<tenant>-services.pm.beyondtrustcloud.com), not the console or a login page.",
            )
        }
        TokenError::Unreachable(error) => unreachable(host, "pmCloud.apiUrl", &error),
        TokenError::Failed(error) => failed(
            error.detail().to_owned(),
            "PM Cloud's token endpoint did not give a usable answer; try again, and check PM Cloud's status \
             if it persists.",
        ),
    }
}

/// The `pmcloud` check's failure after the grant: API account `client_id` could not list authorization requests.
pub(super) fn list_failed(client_id: &str, failure: Failure) -> Failed {
    match failure {
        Failure::Permanent {
            status: 403,
            detail,
        } => failed(
            format!(
                "PM Cloud refused API account {client_id} the list of authorization requests: {detail}"
            ),
            "Give the API account Full Access to JIT Application Access in PM Cloud (Configuration > Settings > \
             API Settings): the connector reads requests back and pushes decisions with it.",
        ),
        Failure::Transient(Transient { detail, .. }) if detail.contains(HTML_PAGE) => failed(
            detail,
            "PM Cloud answered a web page instead of JSON: check that pmCloud.apiUrl is the API address \
             (https://<tenant>-services.pm.beyondtrustcloud.com), not the console or a login page.",
        ),
        Failure::Permanent {
            status: 404,
            detail,
        } => failed(
            detail,
            "pmCloud.apiUrl answers, but not as PM Cloud's Management API v2: check that it is the API address \
             (https://<tenant>-services.pm.beyondtrustcloud.com).",
        ),
        other => failed(
            other.detail().to_owned(),
            "PM Cloud granted a token but did not list authorization requests with it; try again, and check PM \
             Cloud's status if it persists.",
        ),
    }
}

/// The `pmcloud` check not tried: PM Cloud asked every function to wait until `until` (a `429`, CONTRACT §12).
pub(super) fn paused(until: Timestamp) -> Failed {
    failed(
        format!("not tried: PM Cloud asked the connector to pause until {until} (it answered 429)"),
        "Try again after that time. Until then no function calls PM Cloud; decisions wait and are pushed after it.",
    )
}

/// How `host` (named in the settings field `field`) could not be reached, with what to check.
pub(super) fn unreachable(host: &str, field: &str, error: &TransportError) -> Failed {
    let reason = error.reason.to_lowercase();
    match error.failure {
        TransportFailure::TimedOut => failed(
            format!("{host} did not answer in time"),
            "Check the host name, and that it is reachable from this AWS account (proxy, firewall, IP address \
             allow list on the instance).",
        ),
        TransportFailure::Tls => failed(
            format!("the TLS handshake with {host} failed: {reason}"),
            format!(
                "The host must present a certificate trusted by the public CA bundle for its name. Check that \
                 {field} names the host itself (not a proxy or a custom domain with another certificate) and that \
                 nothing intercepts TLS on the way."
            ),
        ),
        TransportFailure::NameNotFound => failed(
            format!("{host} could not be found: {reason}"),
            format!("Check the host name in {field} (for example https://acme.service-now.com)."),
        ),
        TransportFailure::Refused | TransportFailure::Dropped => failed(
            format!("{host} could not be reached: {reason}"),
            "Check the host name and port, and that it is reachable from this AWS account.",
        ),
    }
}

/// A hint for a ServiceNow answer that is a web page, not JSON: the instance may be hibernating.
fn html_hint(detail: &str) -> Option<&'static str> {
    detail.contains(HTML_PAGE).then_some(
        "ServiceNow answered a web page, not JSON: the instance may be hibernating (wake it from the developer \
         portal) or instanceUrl may point at a login page or a proxy.",
    )
}

/// The `config` check's failure: the fields of `source` (the stored secret or a candidate) that break a rule.
pub(super) fn invalid(source: &str, errors: &[FieldError]) -> Failed {
    failed(
        format!("In {source}: {}", describe_fields(errors)),
        "Correct the named fields. instanceUrl and pmCloud.apiUrl must be https:// (http:// only for a \
         loopback host) and name a public host; taskType is one of incident, change_request, sc_task, \
         sc_req_item; clientId and clientSecret are required, and username and password unless grantType is \
         client_credentials; no URL or credential may still hold the template's REPLACE-ME; every pmcApiKeys \
         and webhookSecrets entry has at least 32 characters, no white space at either end and no REPLACE-ME \
         (generate one with: openssl rand -base64 32).",
    )
}

#[cfg(test)]
#[path = "hints_tests.rs"]
mod tests;
