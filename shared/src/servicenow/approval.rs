//! Approval records (CONTRACT §15 v3) in ServiceNow's words: `sysapproval_approver` records on a ticket, and the
//! members of a group (`sys_user_grmember`) they are made for. *My Approvals*, the mobile app, approval e-mails and
//! chat notifications all act on these records (DESIGN.md).
//! Source: ServiceNow's Table API reference, and its data dictionary for `sysapproval_approver` (`sysapproval` and
//! `document_id` reference the task, `approver` the `sys_user`, `state` is `requested`, `approved`, `rejected`,
//! `not_required`, `cancelled`, …). Encoded queries dot-walk references (`user.active=true`).

use super::client::{ServiceNowClient, Table};
use super::error::ServiceNowError;
use super::wire::{keyset_query, parse_datetime};
use crate::domain::ids::SysId;
use crate::domain::settings::ServiceNowSettings;
use crate::domain::ticket::{TaskType, Ticket};
use crate::domain::time::Timestamp;
use serde_json::{Map, Value, json};

/// The approval records' table.
pub const APPROVAL_TABLE: &str = "sysapproval_approver";
/// Group memberships.
const MEMBER_TABLE: &str = "sys_user_grmember";
/// What the connector reads of an approval record.
const APPROVAL_FIELDS: &str =
    "sys_id,sysapproval,source_table,approver,approver.user_name,state,sys_updated_on";
/// What the connector reads of a group membership: the user, and (dot-walked, in the same request) the user's and
/// the group's names, for the work notes.
const MEMBER_FIELDS: &str = "user,user.user_name,group.name";
/// More members than any approver group should have; the rest are not asked.
const MAX_MEMBERS: u32 = 500;

/// An active member of a group: the user's `sys_id`, and the user's `user_name` and the group's `name` when
/// ServiceNow answered them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: SysId,
    pub user_name: Option<String>,
    pub group_name: Option<String>,
}

/// Where an approval record stands (`state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    Requested,
    Approved,
    Rejected,
    /// `not_required`, `cancelled`, or anything else: no longer asks anything.
    Closed,
}

impl RecordState {
    fn of(text: &str) -> Self {
        match text {
            "requested" => Self::Requested,
            "approved" => Self::Approved,
            "rejected" => Self::Rejected,
            _ => Self::Closed,
        }
    }
}

/// What a closed record becomes: `not_required` once another answer decided, `cancelled` at expiry (CONTRACT §15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    NotRequired,
    Cancelled,
}

impl Closing {
    fn state(self) -> &'static str {
        match self {
            Self::NotRequired => "not_required",
            Self::Cancelled => "cancelled",
        }
    }
}

/// An approval record as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRecord {
    pub sys_id: SysId,
    /// The task it approves (`sysapproval`).
    pub task: Option<SysId>,
    /// The task's table (`source_table`), when it is a task table the connector knows.
    pub task_type: Option<TaskType>,
    pub approver: Option<SysId>,
    /// The approver's `user_name` (`approver.user_name`).
    pub approver_name: Option<String>,
    pub state: RecordState,
    /// `sys_updated_on` (UTC).
    pub updated_on: Option<Timestamp>,
}

impl ApprovalRecord {
    fn of(fields: &Map<String, Value>) -> Option<Self> {
        let text = |name: &str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
        };
        let id = |name: &str| text(name).and_then(|t| SysId::parse(t).ok());
        Some(Self {
            sys_id: id("sys_id")?,
            task: id("sysapproval"),
            task_type: text("source_table").and_then(|t| TaskType::parse(t).ok()),
            approver: id("approver"),
            approver_name: text("approver.user_name").map(str::to_owned),
            state: RecordState::of(text("state").unwrap_or_default()),
            updated_on: text("sys_updated_on").and_then(parse_datetime),
        })
    }

    fn list(rows: Vec<Map<String, Value>>) -> Vec<Self> {
        rows.iter().filter_map(Self::of).collect()
    }
}

impl ServiceNowClient {
    fn approvals<'a>(&'a self, settings: &'a ServiceNowSettings) -> Table<'a> {
        self.table_named(settings, APPROVAL_TABLE)
    }

    /// The active members of `group` (`sys_user_grmember`, `user.active=true`), oldest membership first. One
    /// request.
    pub async fn active_members(
        &self,
        settings: &ServiceNowSettings,
        group: &SysId,
    ) -> Result<Vec<Member>, ServiceNowError> {
        let table = self.table_named(settings, MEMBER_TABLE);
        let query = format!("group={group}^user.active=true^ORDERBYsys_created_on");
        let rows: Vec<Map<String, Value>> = table.list(&query, MEMBER_FIELDS, MAX_MEMBERS).await?;
        let text = |row: &Map<String, Value>, field: &str| {
            row.get(field)
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        Ok(rows
            .iter()
            .filter_map(|row| {
                Some(Member {
                    user: SysId::parse(row.get("user")?.as_str()?).ok()?,
                    user_name: text(row, "user.user_name"),
                    group_name: text(row, "group.name"),
                })
            })
            .collect())
    }

    /// Every approval record on `ticket` (`sysapproval=<sys_id>`), oldest first. One request.
    pub async fn approval_records(
        &self,
        settings: &ServiceNowSettings,
        ticket: &SysId,
    ) -> Result<Vec<ApprovalRecord>, ServiceNowError> {
        let query = format!("sysapproval={ticket}^ORDERBYsys_created_on");
        let rows = self
            .approvals(settings)
            .list(&query, APPROVAL_FIELDS, MAX_MEMBERS)
            .await?;
        Ok(ApprovalRecord::list(rows))
    }

    /// The approval record `sys_id`, or `None` when ServiceNow has none for this user. One request.
    pub async fn approval_record(
        &self,
        settings: &ServiceNowSettings,
        sys_id: &SysId,
    ) -> Result<Option<ApprovalRecord>, ServiceNowError> {
        let record = self
            .approvals(settings)
            .get(sys_id, &[APPROVAL_FIELDS])
            .await?;
        Ok(record.and_then(|record| ApprovalRecord::of(&record.0)))
    }

    /// Asks `approver` to approve `ticket` (of `task_type`): `POST /api/now/table/sysapproval_approver` with
    /// `sysapproval` and `document_id` = the ticket, `source_table`, `approver`, `state` = `requested`. One request.
    pub async fn create_approval(
        &self,
        settings: &ServiceNowSettings,
        ticket: &Ticket,
        approver: &SysId,
    ) -> Result<SysId, ServiceNowError> {
        let body = json!({
            "sysapproval": ticket.sys_id.as_str(), "document_id": ticket.sys_id.as_str(),
            "source_table": ticket.table.table(), "approver": approver.as_str(), "state": "requested",
        });
        let created: Map<String, Value> = self.approvals(settings).post(&body, "sys_id").await?;
        created
            .get("sys_id")
            .and_then(Value::as_str)
            .and_then(|id| SysId::parse(id).ok())
            .ok_or_else(|| {
                ServiceNowError::transient(
                    "the Table API created an approval record without a sys_id",
                )
            })
    }

    /// Closes the approval record `sys_id` (`PATCH` of its `state`). One request.
    pub async fn close_approval(
        &self,
        settings: &ServiceNowSettings,
        sys_id: &SysId,
        closing: Closing,
    ) -> Result<(), ServiceNowError> {
        let body = json!({"state": closing.state()});
        let _: Value = self
            .approvals(settings)
            .patch(sys_id, &body, "sys_id")
            .await?;
        Ok(())
    }

    /// What Validate Settings proves with `token` when `approvals` are configured (CONTRACT §15): the user can read
    /// the approver `group`'s members (when one is set) and query approval records. Two reads at most, each of one
    /// row, no write. Errors: the table that refused, and how.
    pub async fn probe_approvals(
        &self,
        settings: &ServiceNowSettings,
        token: &secrecy::SecretString,
        group: Option<&SysId>,
    ) -> Result<(), (&'static str, ServiceNowError)> {
        if let Some(group) = group {
            let members = self.table_named(settings, MEMBER_TABLE).with_token(token);
            let query = format!("group={group}");
            let _: Vec<Value> = members
                .list(&query, "user", 1)
                .await
                .map_err(|e| (MEMBER_TABLE, e))?;
        }
        let probe = crate::domain::ids::RequestId::random();
        let query = format!("sysapproval={probe}");
        let approvals = self.approvals(settings).with_token(token);
        let _: Vec<Value> = approvals
            .list(&query, "sys_id", 1)
            .await
            .map_err(|e| (APPROVAL_TABLE, e))?;
        Ok(())
    }

    /// Up to `limit` approval records of the connector's tickets (`sysapproval.correlation_display=PM Cloud`) updated
    /// at or after `since`, in keyset order (`sys_updated_on`, then `sys_id`) after `after`, as
    /// [`crate::servicenow::Table::updated_since`] reads tickets. One request.
    pub async fn approvals_updated_since(
        &self,
        settings: &ServiceNowSettings,
        since: Timestamp,
        after: Option<(Timestamp, &SysId)>,
        limit: u32,
    ) -> Result<Vec<ApprovalRecord>, ServiceNowError> {
        let ours = format!(
            "sysapproval.correlation_display={}",
            super::task::CORRELATION_DISPLAY
        );
        let query = keyset_query(&ours, since, after);
        let rows = self
            .approvals(settings)
            .list(&query, APPROVAL_FIELDS, limit)
            .await?;
        Ok(ApprovalRecord::list(rows))
    }
}
