//! The watch hub: ordered, gap-free event streams over key ranges.
//!
//! A subscription registers (under the hub lock) at the hub's current
//! revision R0, so every revision <= R0 is already in the `events` column
//! family and every revision > R0 will be published to it. The watcher then
//! replays history from `from_revision` up to R0 in chunks, and continues
//! with live revisions from its channel. Nothing is duplicated or skipped.
//!
//! Live delivery never blocks apply: each subscriber has a bounded channel
//! of [`WATCH_BUFFER_REVISIONS`]; a subscriber whose channel is full is cut
//! off and its next read returns [`StoreError::SlowWatcher`].

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicU8;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;

use crate::error::Result;
use crate::error::StoreError;
use crate::state_machine::Reader;
use crate::types::Event;
use crate::types::KeyRange;
use crate::types::Revision;
use crate::types::RevisionEvents;

/// Revisions one subscriber may have queued before it is cut off.
pub const WATCH_BUFFER_REVISIONS: usize = 1024;
/// Revisions read from history per step of a catch-up.
const HISTORY_CHUNK_REVISIONS: u64 = 256;
/// Most subscribers one member serves at once.
pub const MAX_WATCHERS: usize = 100_000;

/// Why a subscriber's channel was closed by the hub.
const CUT_NONE: u8 = 0;
/// It fell behind by a full buffer.
const CUT_SLOW: u8 = 1;
/// A snapshot replaced the state; the watcher re-subscribes from where it was.
const CUT_RESET: u8 = 2;

struct Subscriber {
    range: KeyRange,
    tx: mpsc::Sender<Arc<RevisionEvents>>,
    cut: Arc<AtomicU8>,
}

struct HubInner {
    subscribers: HashMap<u64, Subscriber>,
    next_id: u64,
    /// Last revision published (== last revision applied and written).
    revision: Revision,
}

#[derive(Clone)]
pub struct WatchHub {
    inner: Arc<Mutex<HubInner>>,
}

impl WatchHub {
    pub fn new(revision: Revision) -> WatchHub {
        WatchHub {
            inner: Arc::new(Mutex::new(HubInner {
                subscribers: HashMap::new(),
                next_id: 1,
                revision,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubInner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Publishes applied revisions, in order. Called after they are written.
    pub fn publish(&self, revisions: Vec<RevisionEvents>) {
        let mut inner = self.lock();
        for rev in revisions {
            assert!(
                rev.revision > inner.revision,
                "invariant: published revisions strictly increase"
            );
            inner.revision = rev.revision;
            let rev = Arc::new(rev);
            inner.subscribers.retain(|_, sub| {
                let matching = rev.events.iter().any(|e| sub.range.contains(&e.kv.key));
                if !matching {
                    return !sub.tx.is_closed();
                }
                let filtered = if rev.events.iter().all(|e| sub.range.contains(&e.kv.key)) {
                    rev.clone()
                } else {
                    Arc::new(RevisionEvents {
                        revision: rev.revision,
                        events: rev
                            .events
                            .iter()
                            .filter(|e| sub.range.contains(&e.kv.key))
                            .cloned()
                            .collect(),
                    })
                };
                match sub.tx.try_send(filtered) {
                    Ok(()) => true,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        sub.cut.store(CUT_SLOW, Ordering::Release);
                        false
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                }
            });
        }
    }

    /// Drops every subscriber (after a snapshot install replaced the state
    /// under them); their next read says why. The new revision is taken as
    /// the hub's position.
    pub fn reset(&self, revision: Revision) {
        let mut inner = self.lock();
        for sub in inner.subscribers.values() {
            sub.cut.store(CUT_RESET, Ordering::Release);
        }
        inner.subscribers.clear();
        inner.revision = revision;
    }

    pub fn revision(&self) -> Revision {
        self.lock().revision
    }

    pub fn subscriber_count(&self) -> usize {
        self.lock().subscribers.len()
    }

    /// Subscribes to changes in `range` from `from` (inclusive). `from` of 0
    /// means "after the current revision".
    pub fn subscribe(&self, range: KeyRange, from: Revision, reader: Reader) -> Result<Watcher> {
        let (tx, rx) = mpsc::channel(WATCH_BUFFER_REVISIONS);
        let cut = Arc::new(AtomicU8::new(CUT_NONE));
        let registered_at = {
            let mut inner = self.lock();
            if inner.subscribers.len() >= MAX_WATCHERS {
                return Err(StoreError::Invalid(format!(
                    "too many watchers (limit {MAX_WATCHERS})"
                )));
            }
            let id = inner.next_id;
            inner.next_id += 1;
            inner.subscribers.insert(
                id,
                Subscriber {
                    range: range.clone(),
                    tx,
                    cut: cut.clone(),
                },
            );
            inner.revision
        };
        let from = if from == Revision::ZERO {
            registered_at.next()
        } else {
            from
        };
        // A start in the future is fine: live revisions below it are skipped.
        let compacted = reader.compacted_revision();
        if from <= compacted && from <= registered_at {
            return Err(StoreError::Compacted {
                requested: from,
                compacted,
            });
        }
        Ok(Watcher {
            hub: self.clone(),
            range,
            next: from,
            history_until: registered_at,
            reader,
            rx,
            cut,
        })
    }
}

/// One subscription's ordered stream of revisions.
pub struct Watcher {
    hub: WatchHub,
    range: KeyRange,
    /// The next revision this watcher has not delivered.
    next: Revision,
    /// Revisions up to this one come from history; later ones are live.
    history_until: Revision,
    reader: Reader,
    rx: mpsc::Receiver<Arc<RevisionEvents>>,
    cut: Arc<AtomicU8>,
}

impl Watcher {
    /// The next revision this watcher will deliver.
    pub fn next_revision(&self) -> Revision {
        self.next
    }

    /// The revision up to which this watcher has handed out every event in
    /// its range, if it is caught up with the hub (live mode, nothing
    /// queued); a BOOKMARK may carry it. None while replaying history or
    /// with revisions queued.
    pub fn progress(&self) -> Option<Revision> {
        if self.next <= self.history_until {
            return None;
        }
        // Publish sends every revision up to the hub's under the hub lock,
        // so once the lock is released they are all in `rx`.
        let published = self.hub.revision();
        if !self.rx.is_empty() || self.cut.load(Ordering::Acquire) != CUT_NONE {
            return None;
        }
        Some(published.max(Revision(self.next.0.saturating_sub(1))))
    }

    /// Next batch: one or more whole revisions, in order. `None` when the
    /// hub is gone (member shutting down).
    pub async fn next_batch(&mut self) -> Option<Result<Vec<Arc<RevisionEvents>>>> {
        if self.next <= self.history_until {
            let upto =
                Revision((self.next.0 + HISTORY_CHUNK_REVISIONS - 1).min(self.history_until.0));
            let from = self.next;
            let reader = self.reader.clone();
            let range = self.range.clone();
            let read =
                tokio::task::spawn_blocking(move || reader.history(&range, from, upto)).await;
            let revisions = match read {
                Ok(Ok(revs)) => revs,
                Ok(Err(e)) => return Some(Err(e)),
                Err(e) => return Some(Err(StoreError::Stopped(format!("history reader: {e}")))),
            };
            self.next = upto.next();
            return Some(Ok(revisions.into_iter().map(Arc::new).collect()));
        }
        loop {
            match self.rx.recv().await {
                Some(rev) => {
                    if rev.revision < self.next {
                        continue;
                    }
                    self.next = rev.revision.next();
                    let mut out = vec![rev];
                    while out.len() < 64 {
                        match self.rx.try_recv() {
                            Ok(rev) => {
                                self.next = rev.revision.next();
                                out.push(rev)
                            }
                            Err(_) => break,
                        }
                    }
                    return Some(Ok(out));
                }
                None => match self.cut.load(Ordering::Acquire) {
                    CUT_SLOW => {
                        return Some(Err(StoreError::SlowWatcher {
                            buffered: WATCH_BUFFER_REVISIONS,
                        }));
                    }
                    CUT_RESET => {
                        // History travels in snapshots, so the watcher can
                        // continue from the new state's history.
                        match self.reader.watch(self.range.clone(), self.next) {
                            Ok(w) => *self = w,
                            Err(e) => return Some(Err(e)),
                        }
                        return Some(Ok(Vec::new()));
                    }
                    _ => return None,
                },
            }
        }
    }
}

/// Keeps the events of `revs` that fall in `range`, dropping empty revisions.
pub(crate) fn filter_history(
    range: &KeyRange,
    events: Vec<(Revision, Event)>,
) -> Vec<RevisionEvents> {
    let mut out: Vec<RevisionEvents> = Vec::new();
    for (rev, ev) in events {
        if !range.contains(&ev.kv.key) {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.revision == rev => last.events.push(ev),
            _ => out.push(RevisionEvents {
                revision: rev,
                events: vec![ev],
            }),
        }
    }
    out
}
