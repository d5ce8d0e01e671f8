//! The people side of approvals (CONTRACT §15): users, groups and their members, set up by a test, and the approval
//! records the connector creates, on which the handle acts as their approver would in *My Approvals*.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::schema::{self, APPROVALS, GROUP_MEMBERS, GROUPS, USERS};
use crate::state::{Instance, Memory};
use crate::webhook::{self, SimError, WebhookDelivery};

/// Who the control API's records are created by, as a person setting up the instance.
const ADMIN: &str = "sim.admin";

/// Who an approval decision is by when its `approver` is no user of the instance.
const UNKNOWN_APPROVER: &str = "sim.approver";

/// A user to create. JSON: `{"userName": "alice", "name": "Alice Approver", "active": true}`; `name` defaults to
/// `userName`, `active` to true.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    /// `user_name`: what `sys_created_by` / `sys_updated_by` hold for this user's writes.
    pub user_name: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
}

impl NewUser {
    /// An active user whose `name` is its `user_name`.
    pub fn named(user_name: impl Into<String>) -> Self {
        NewUser {
            user_name: user_name.into(),
            name: None,
            active: None,
        }
    }
}

/// What an approver does to an approval record. JSON: `{"state": "approved", "comments": "ok", "sendWebhook": true}`;
/// only `state` is required.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalDecision {
    /// The record's new `state`: `approved` or `rejected`, or any other (`not_required`, `cancelled`, …).
    pub state: String,
    /// Written to the record's `comments`, which the simulator keeps as plain text.
    #[serde(default)]
    pub comments: Option<String>,
    /// `Some(false)`: update the record but send no webhook, as when the business rule does not fire. Default: send.
    #[serde(default)]
    pub send_webhook: Option<bool>,
}

impl ApprovalDecision {
    /// `state` (`approved`, `rejected`, …), no comments, the webhook sent.
    pub fn new(state: impl Into<String>) -> Self {
        ApprovalDecision {
            state: state.into(),
            comments: None,
            send_webhook: None,
        }
    }
}

impl Instance {
    /// Create a `sys_user` record (by `sim.admin`) and return it as stored: `sys_id`, `user_name`, `name`, `active`
    /// (`"true"` or `"false"`) and the `sys_` fields.
    pub fn create_user(&self, user: NewUser) -> Value {
        let name = user.name.unwrap_or_else(|| user.user_name.clone());
        let active = user.active.unwrap_or(true).to_string();
        self.create(
            USERS,
            [
                ("user_name", user.user_name),
                ("name", name),
                ("active", active),
            ],
        )
    }

    /// Set a user's `active` (as a person editing the user, `sim.admin`) and return the updated record.
    ///
    /// # Errors
    /// [`SimError::NoSuchRecord`] without a user `sys_id`.
    pub fn set_user_active(&self, sys_id: &str, active: bool) -> Result<Value, SimError> {
        let mut inner = self.base.lock();
        let fields = [("active".to_owned(), active.to_string())];
        let record = inner.write(USERS, sys_id, fields, ADMIN);
        record
            .map(|record| json!(record))
            .ok_or_else(|| no_such(USERS, sys_id))
    }

    /// Create a `sys_user_group` record (by `sim.admin`) and return it as stored: `sys_id`, `name` and the `sys_`
    /// fields.
    pub fn create_group(&self, name: &str) -> Value {
        self.create(GROUPS, [("name", name.to_owned())])
    }

    /// Make user `user` a member of group `group` (both sys_ids): create the `sys_user_grmember` record (by
    /// `sim.admin`) and return it as stored (`sys_id`, `group`, `user` and the `sys_` fields).
    ///
    /// # Errors
    /// [`SimError::NoSuchRecord`] without such a group or user.
    pub fn add_member(&self, group: &str, user: &str) -> Result<Value, SimError> {
        {
            let inner = self.base.lock();
            exists(&inner, GROUPS, group)?;
            exists(&inner, USERS, user)?;
        }
        Ok(self.create(
            GROUP_MEMBERS,
            [("group", group.to_owned()), ("user", user.to_owned())],
        ))
    }

    /// The approval records (`sysapproval_approver`) as stored, in creation order: those whose `document_id` is
    /// `document_id` (a ticket's sys_id), or all of them.
    pub fn approvals(&self, document_id: Option<&str>) -> Vec<Value> {
        let inner = self.base.lock();
        let approvals = inner.table(APPROVALS).filter(|record| {
            document_id.is_none_or(|id| record.get("document_id").is_some_and(|d| d == id))
        });
        approvals.map(|record| json!(record)).collect()
    }

    /// Act as the approver of approval record `sys_id`: set its `state` (and `comments`), `sys_updated_by` to the
    /// approver's `user_name` (`sim.approver` when `approver` is no user) and `sys_updated_on` to now; then send the
    /// signed webhook `{"table":"sysapproval_approver","sys_id":…}`, as the README's business rule does, and return
    /// the connector's answer.
    ///
    /// # Errors
    /// [`SimError::NoSuchRecord`] without such a record. The record is updated even when this fails with
    /// [`SimError::NoWebhookTarget`], [`SimError::WebhookSuppressed`] (`send_webhook: Some(false)`) or
    /// [`SimError::Delivery`].
    pub async fn decide_approval(
        &self,
        sys_id: &str,
        decision: ApprovalDecision,
    ) -> Result<WebhookDelivery, SimError> {
        let target = {
            let mut inner = self.base.lock();
            let record = exists(&inner, APPROVALS, sys_id)?;
            let approver = record
                .get("approver")
                .and_then(|user| inner.record(USERS, user))
                .and_then(|user| user.get("user_name"))
                .map_or(UNKNOWN_APPROVER, String::as_str)
                .to_owned();
            let fields = [
                ("state", Some(decision.state)),
                ("comments", decision.comments),
            ];
            let fields = fields
                .into_iter()
                .filter_map(|(name, value)| Some((name.to_owned(), value?)));
            inner.write(APPROVALS, sys_id, fields, &approver);
            webhook::target_after_decision(&inner, decision.send_webhook.unwrap_or(true))?
        };
        webhook::deliver(&target, APPROVALS, sys_id).await
    }

    /// Store a record of `table` created by `sim.admin` and return it.
    fn create<'f>(
        &self,
        table: &str,
        fields: impl IntoIterator<Item = (&'f str, String)>,
    ) -> Value {
        let table = schema::table(table).expect("one of the instance's tables");
        let fields = fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value));
        let mut inner = self.base.lock();
        json!(inner.insert(&self.base.config, table, fields, ADMIN))
    }
}

/// The record `sys_id` of `table`, or [`SimError::NoSuchRecord`].
fn exists<'m>(
    memory: &'m Memory,
    table: &'static str,
    sys_id: &str,
) -> Result<&'m crate::state::Record, SimError> {
    memory
        .record(table, sys_id)
        .ok_or_else(|| no_such(table, sys_id))
}

fn no_such(table: &'static str, sys_id: &str) -> SimError {
    SimError::NoSuchRecord {
        table,
        sys_id: sys_id.to_owned(),
    }
}
