//! An in-memory store with the same guarantees as the DynamoDB one, for tests and local reasoning.

use super::{
    Backlogs, CreateOutcome, Remote, ReplaceOutcome, RequestStore, SharedState, StoreError,
};
use crate::domain::backlog::Backlog;
use crate::domain::ids::{PmcRequestId, RequestId, RequestIdKey};
use crate::domain::record::RequestRecord;
use crate::domain::time::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;

pub struct MemoryStore {
    inner: Mutex<Inner>,
    /// A key of its own, as each DynamoDB table has.
    key: RequestIdKey,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            inner: Mutex::default(),
            key: RequestIdKey::random(),
        }
    }
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<RequestId, RequestRecord>,
    id_by_pmc: HashMap<PmcRequestId, RequestId>,
    pauses: HashMap<Remote, Timestamp>,
    watermark: Option<Timestamp>,
    settings_invalid_since: Option<Timestamp>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.inner.lock().expect("store lock").by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RequestStore for MemoryStore {
    async fn request_id_for(&self, pmc_request_id: &PmcRequestId) -> Result<RequestId, StoreError> {
        Ok(self.key.request_id(pmc_request_id))
    }

    async fn create(&self, record: &RequestRecord) -> Result<CreateOutcome, StoreError> {
        let mut inner = self.inner.lock().expect("store lock");
        if let Some(id) = inner.id_by_pmc.get(&record.pmc_request_id) {
            return Ok(CreateOutcome::Existing(Box::new(inner.by_id[id].clone())));
        }
        inner
            .id_by_pmc
            .insert(record.pmc_request_id.clone(), record.id.clone());
        inner.by_id.insert(record.id.clone(), record.clone());
        Ok(CreateOutcome::Created)
    }

    async fn get(&self, id: &RequestId) -> Result<Option<RequestRecord>, StoreError> {
        Ok(self
            .inner
            .lock()
            .expect("store lock")
            .by_id
            .get(id)
            .cloned())
    }

    async fn find_by_pmc_request_id(
        &self,
        pmc_request_id: &PmcRequestId,
    ) -> Result<Option<RequestRecord>, StoreError> {
        let inner = self.inner.lock().expect("store lock");
        Ok(inner
            .id_by_pmc
            .get(pmc_request_id)
            .map(|id| inner.by_id[id].clone()))
    }

    async fn replace(&self, next: &RequestRecord) -> Result<ReplaceOutcome, StoreError> {
        let mut inner = self.inner.lock().expect("store lock");
        let stored = inner
            .by_id
            .get_mut(&next.id)
            .ok_or_else(|| StoreError::Missing(next.id.clone()))?;
        if stored.revision != next.revision {
            return Ok(ReplaceOutcome::Changed(Box::new(stored.clone())));
        }
        *stored = RequestRecord {
            revision: next.revision + 1,
            ..next.clone()
        };
        Ok(ReplaceOutcome::Replaced(Box::new(stored.clone())))
    }
}

impl MemoryStore {
    fn waiting_since(&self, backlog: Backlog, before: Timestamp) -> Vec<(Timestamp, RequestId)> {
        let inner = self.inner.lock().expect("store lock");
        let mut waiting: Vec<(Timestamp, RequestId)> = inner
            .by_id
            .values()
            .filter_map(|record| match record.backlog() {
                Some((kind, since)) if kind == backlog && since < before => {
                    Some((since, record.id.clone()))
                }
                _ => None,
            })
            .collect();
        waiting.sort_by_key(|(since, _)| *since);
        waiting
    }
}

impl Backlogs for MemoryStore {
    async fn waiting(
        &self,
        backlog: Backlog,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<RequestId>, StoreError> {
        Ok(self
            .waiting_since(backlog, before)
            .into_iter()
            .take(limit)
            .map(|(_, id)| id)
            .collect())
    }

    async fn count_waiting(&self, backlog: Backlog, before: Timestamp) -> Result<u64, StoreError> {
        Ok(self.waiting_since(backlog, before).len() as u64)
    }
}

impl SharedState for MemoryStore {
    async fn paused_until(&self, remote: Remote) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .inner
            .lock()
            .expect("store lock")
            .pauses
            .get(&remote)
            .copied())
    }

    async fn pause(&self, remote: Remote, until: Timestamp) -> Result<(), StoreError> {
        let mut inner = self.inner.lock().expect("store lock");
        let pause = inner.pauses.entry(remote).or_insert(until);
        *pause = (*pause).max(until);
        Ok(())
    }

    async fn watermark(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.inner.lock().expect("store lock").watermark)
    }

    async fn set_watermark(&self, at: Timestamp) -> Result<(), StoreError> {
        self.inner.lock().expect("store lock").watermark = Some(at);
        Ok(())
    }

    async fn settings_invalid_since(&self, now: Timestamp) -> Result<Timestamp, StoreError> {
        Ok(*self
            .inner
            .lock()
            .expect("store lock")
            .settings_invalid_since
            .get_or_insert(now))
    }

    async fn settings_valid(&self) -> Result<(), StoreError> {
        self.inner
            .lock()
            .expect("store lock")
            .settings_invalid_since = None;
        Ok(())
    }
}

/// A store that fails every call: DynamoDB down (`Unavailable`), or an item that cannot be read (`Corrupt`).
#[derive(Debug, Clone, Copy)]
pub struct FaultyStore {
    /// `true`: `Corrupt` (a `500`); `false`: `Unavailable` (a `503`).
    pub corrupt: bool,
}

impl FaultyStore {
    fn error(&self) -> StoreError {
        match self.corrupt {
            true => StoreError::Corrupt("an item without status".into()),
            false => StoreError::Unavailable("throttled".into()),
        }
    }
}

impl RequestStore for FaultyStore {
    async fn request_id_for(&self, _: &PmcRequestId) -> Result<RequestId, StoreError> {
        Err(self.error())
    }
    async fn create(&self, _: &RequestRecord) -> Result<CreateOutcome, StoreError> {
        Err(self.error())
    }
    async fn get(&self, _: &RequestId) -> Result<Option<RequestRecord>, StoreError> {
        Err(self.error())
    }
    async fn find_by_pmc_request_id(
        &self,
        _: &PmcRequestId,
    ) -> Result<Option<RequestRecord>, StoreError> {
        Err(self.error())
    }
    async fn replace(&self, _: &RequestRecord) -> Result<ReplaceOutcome, StoreError> {
        Err(self.error())
    }
}

impl SharedState for FaultyStore {
    async fn paused_until(&self, _: Remote) -> Result<Option<Timestamp>, StoreError> {
        Err(self.error())
    }
    async fn pause(&self, _: Remote, _: Timestamp) -> Result<(), StoreError> {
        Err(self.error())
    }
    async fn watermark(&self) -> Result<Option<Timestamp>, StoreError> {
        Err(self.error())
    }
    async fn set_watermark(&self, _: Timestamp) -> Result<(), StoreError> {
        Err(self.error())
    }
    async fn settings_invalid_since(&self, _: Timestamp) -> Result<Timestamp, StoreError> {
        Err(self.error())
    }
    async fn settings_valid(&self) -> Result<(), StoreError> {
        Err(self.error())
    }
}
