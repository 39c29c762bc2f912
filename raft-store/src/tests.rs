//! openraft's storage conformance suite against the RocksDB log store and
//! state machine, plus state machine unit tests.

use openraft::StorageError;
use openraft::testing::log::StoreBuilder;
use openraft::testing::log::Suite;
use openraft::type_config::TypeConfigExt;
use tempfile::TempDir;

use crate::db;
use crate::log_store::LogStore;
use crate::raft_types::TypeConfig;
use crate::state_machine::StateMachine;

struct RocksBuilder;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, TempDir> for RocksBuilder {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachine), StorageError<TypeConfig>> {
        let dir = TempDir::new().map_err(|e| StorageError::read(TypeConfig::err_from_error(&e)))?;
        let rdb = db::open(&dir.path().join("db"))
            .map_err(|e| StorageError::read(TypeConfig::err_from_error(&db::io_err(e))))?;
        let log = LogStore::new(rdb.clone());
        let sm = StateMachine::open(rdb, &dir.path().join("snapshots"))
            .map_err(|e| StorageError::read(TypeConfig::err_from_error(&e)))?;
        Ok((dir, log, sm))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openraft_storage_conformance_suite() {
    Suite::test_all(RocksBuilder).await.expect("storage suite");
}
