//! The PostgreSQL store for Grafana in high availability (issue 14): placeholder until the
//! implementation lands.

use super::{StoreError, StoreResult};
use crate::settings::Secret;

/// A PostgreSQL database opened as our store.
#[derive(Debug)]
pub struct PostgresStore;

impl PostgresStore {
    /// Connects and migrates.
    pub fn open(_url: &Secret) -> StoreResult<PostgresStore> {
        Err(StoreError::Unusable("PostgreSQL storage is not available yet".into()))
    }
}
