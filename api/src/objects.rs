//! Objects in the replicated store: the stored encoding and the reads and
//! writes the handlers make.
//!
//! Stored form: the object's JSON with `metadata` as the first key and
//! without `metadata.resourceVersion` (the key's mod_revision is the
//! resourceVersion, as in kube-apiserver's etcd3 store). Because every
//! stored value starts with `{"metadata":{`, a response splices
//! `"resourceVersion":"N",` in at a fixed offset: a LIST is a byte
//! concatenation, no parse, no re-encode.

use std::time::Duration;

use bytes::Bytes;
use raftplane_store::KeyRange;
use raftplane_store::KeyValue;
use raftplane_store::RaftMember;
use raftplane_store::RangeResult;
use raftplane_store::Revision;
use raftplane_store::Txn;
use raftplane_store::TxnResult;
use serde_json::Value;

use crate::error::ApiError;
use crate::error::ApiResult;

/// Largest stored object (etcd's default request limit, 1.5 MiB).
pub const MAX_OBJECT_BYTES: usize = raftplane_store::MAX_VALUE_BYTES;

const META_PREFIX: &[u8] = b"{\"metadata\":{";

/// The metadata keys written first, in this order.
pub const SELECT_KEYS: [&str; 3] = ["name", "namespace", "labels"];

/// How long a read with resourceVersion=N (NotOlderThan) waits for this
/// member to reach N before answering 504 (kube-apiserver's cacher waits 3 s).
pub const NOT_OLDER_THAN_WAIT: Duration = Duration::from_secs(3);

/// Encodes an object for storage (see the module doc). Errors if it is not
/// an object with an object `metadata`, or too large.
pub fn encode(obj: &Value) -> ApiResult<Vec<u8>> {
    let map = obj
        .as_object()
        .ok_or_else(|| ApiError::bad_request("the object is not a JSON object"))?;
    let meta = map
        .get("metadata")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::bad_request("the object has no metadata"))?;
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"metadata\":{");
    let mut first = true;
    // name, namespace and labels first (in this order, name always
    // present): selection reads just these and stops (see
    // `handlers::stored_meta`), never scanning managedFields.
    let leading = SELECT_KEYS
        .iter()
        .filter_map(|k| meta.get_key_value(*k))
        .filter(|(_, v)| !v.is_null());
    let rest = meta.iter().filter(|(k, v)| {
        !SELECT_KEYS.contains(&k.as_str()) && k.as_str() != "resourceVersion" && !v.is_null()
    });
    for (k, v) in leading.chain(rest) {
        if !first {
            out.push(b',');
        }
        first = false;
        serde_json::to_writer(&mut out, k).map_err(internal)?;
        out.push(b':');
        serde_json::to_writer(&mut out, v).map_err(internal)?;
    }
    out.push(b'}');
    for (k, v) in map {
        if k == "metadata" {
            continue;
        }
        out.push(b',');
        serde_json::to_writer(&mut out, k).map_err(internal)?;
        out.push(b':');
        serde_json::to_writer(&mut out, v).map_err(internal)?;
    }
    out.push(b'}');
    if out.len() > MAX_OBJECT_BYTES {
        return Err(ApiError::too_large(format!(
            "Request entity too large: the object is {} bytes, limit is {MAX_OBJECT_BYTES}",
            out.len()
        )));
    }
    Ok(out)
}

fn internal(e: serde_json::Error) -> ApiError {
    ApiError::internal(format!("encoding object: {e}"))
}

/// Appends the API form of a stored object (resourceVersion spliced in).
pub fn write_with_rv(out: &mut Vec<u8>, stored: &[u8], rev: Revision) {
    if let Some(rest) = stored.strip_prefix(META_PREFIX) {
        out.extend_from_slice(META_PREFIX);
        out.extend_from_slice(b"\"resourceVersion\":\"");
        out.extend_from_slice(rev.0.to_string().as_bytes());
        out.push(b'"');
        if !rest.starts_with(b"}") {
            out.push(b',');
        }
        out.extend_from_slice(rest);
    } else {
        // Not written by encode(); served as stored.
        out.extend_from_slice(stored);
    }
}

pub fn with_rv(stored: &[u8], rev: Revision) -> Vec<u8> {
    let mut out = Vec::with_capacity(stored.len() + 32);
    write_with_rv(&mut out, stored, rev);
    out
}

/// Parses a stored object, with its resourceVersion.
pub fn decode(kv: &KeyValue) -> ApiResult<Value> {
    let mut v: Value = serde_json::from_slice(&kv.value)
        .map_err(|e| ApiError::internal(format!("stored object is not JSON: {e}")))?;
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert(
            "resourceVersion".into(),
            Value::String(kv.mod_revision.0.to_string()),
        );
    }
    Ok(v)
}

/// What revision a read must reflect (the resourceVersion semantics of
/// the Kubernetes API).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// resourceVersion unset: linearizable (read barrier first).
    Consistent,
    /// resourceVersion=0: whatever this member has.
    Any,
    /// resourceVersion=N: at least N (wait for this member to reach it).
    NotOlderThan(Revision),
    /// resourceVersion=N with Exact (or a limit): the snapshot at N.
    Exact(Revision),
}

/// The store as the API uses it.
#[derive(Clone)]
pub struct Objects {
    member: RaftMember,
}

impl Objects {
    pub fn new(member: RaftMember) -> Objects {
        Objects { member }
    }

    pub fn member(&self) -> &RaftMember {
        &self.member
    }

    pub fn revision(&self) -> Revision {
        self.member.reader().revision()
    }

    /// Prepares a read; returns the revision to read at (ZERO = current).
    pub async fn prepare(&self, mode: ReadMode) -> ApiResult<Revision> {
        match mode {
            ReadMode::Consistent => {
                self.member.read_barrier().await?;
                Ok(Revision::ZERO)
            }
            ReadMode::Any => Ok(Revision::ZERO),
            ReadMode::NotOlderThan(n) => {
                self.wait_for(n).await?;
                Ok(Revision::ZERO)
            }
            ReadMode::Exact(n) => Ok(n),
        }
    }

    /// Waits until this member has applied revision `n` (504 after
    /// NOT_OLDER_THAN_WAIT, with kube-apiserver's ResourceVersionTooLarge cause).
    pub async fn wait_for(&self, n: Revision) -> ApiResult<()> {
        let deadline = tokio::time::Instant::now() + NOT_OLDER_THAN_WAIT;
        loop {
            let current = self.revision();
            if current >= n {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(raftplane_store::StoreError::FutureRevision {
                    requested: n,
                    current,
                }
                .into());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// One key at `revision` (ZERO: current), no barrier (see `prepare`).
    /// A point read is served inline: it costs microseconds (memtable or
    /// block cache), less than a hand-off to the blocking pool.
    pub async fn get(&self, key: &str, revision: Revision) -> ApiResult<Option<KeyValue>> {
        let range = KeyRange::single(Bytes::copy_from_slice(key.as_bytes()));
        let r = self.member.reader().range(&range, 1, revision, false)?;
        Ok(r.kvs.into_iter().next())
    }

    /// Keys in [start, end of prefix) at `revision`, at most `limit` (0: all).
    pub async fn list(
        &self,
        prefix: &str,
        start: Option<&str>,
        limit: usize,
        revision: Revision,
    ) -> ApiResult<RangeResult> {
        let mut range = KeyRange::prefix(Bytes::copy_from_slice(prefix.as_bytes()));
        if let Some(s) = start {
            range.key = Bytes::copy_from_slice(s.as_bytes());
        }
        Ok(self
            .member
            .range(range, limit, revision, true, false)
            .await?)
    }

    pub async fn txn(&self, txn: Txn) -> ApiResult<TxnResult> {
        Ok(self.member.write(txn, None, None).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stored_form_puts_metadata_first_and_splices_resource_version() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"x": "{\"metadata\":{"}, "metadata": {"name": "a", "resourceVersion": "5"}});
        let stored = encode(&obj).unwrap();
        assert!(stored.starts_with(META_PREFIX));
        let api: Value = serde_json::from_slice(&with_rv(&stored, Revision(42))).unwrap();
        assert_eq!(api["metadata"]["resourceVersion"], "42");
        assert_eq!(api["metadata"]["name"], "a");
        assert_eq!(api["data"], obj["data"]);
        let empty = encode(&json!({"metadata": {}})).unwrap();
        let api: Value = serde_json::from_slice(&with_rv(&empty, Revision(1))).unwrap();
        assert_eq!(api, json!({"metadata": {"resourceVersion": "1"}}));
    }
}
