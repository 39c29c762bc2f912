//! The closed-loop write workload shared by every system under test, its
//! latency percentiles, and the report tables of `raftplane-chaos bench`.
//!
//! [`closed_loop`] knows nothing about the system it loads: it takes an
//! async `put` function, so raftplane and the etcd baseline run the very
//! same driver and their numbers compare like for like.
//!
//! Bounds: in-flight requests = writers (each writer waits for its reply
//! before the next put), each put is cut off after [`LoadSpec::op_timeout`],
//! and writers still busy `op_timeout` + [`DRAIN_SLACK`] after the measured
//! window are aborted, so a run never outlives its window by more than
//! that.

use std::fmt::{Display, Write as _};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Default bound on one put.
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a failed put, so that a dead target does not turn a writer
/// into a busy loop.
const ERROR_BACKOFF: Duration = Duration::from_millis(10);
/// Grace after the measured window (beyond one op timeout) before writers
/// are aborted.
pub const DRAIN_SLACK: Duration = Duration::from_secs(1);

/// Recorded latencies, microsecond resolution.
#[derive(Clone, Debug, Default)]
pub struct LatencyRecorder {
    samples_us: Vec<u64>,
}

impl LatencyRecorder {
    pub fn record(&mut self, latency: Duration) {
        self.samples_us
            .push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn merge(&mut self, other: LatencyRecorder) {
        self.samples_us.extend(other.samples_us);
    }

    pub fn len(&self) -> usize {
        self.samples_us.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples_us.is_empty()
    }

    pub fn into_latencies(mut self) -> Latencies {
        self.samples_us.sort_unstable();
        Latencies {
            sorted_us: self.samples_us,
        }
    }
}

/// Sorted latencies, for percentiles.
#[derive(Clone, Debug, Default)]
pub struct Latencies {
    sorted_us: Vec<u64>,
}

impl Latencies {
    pub fn len(&self) -> usize {
        self.sorted_us.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted_us.is_empty()
    }

    /// Nearest-rank percentile, `q` in [0, 1]: the smallest sample such
    /// that at least a fraction `q` of all samples are <= it. `None`
    /// without samples.
    pub fn percentile(&self, q: f64) -> Option<Duration> {
        let n = self.sorted_us.len();
        if n == 0 {
            return None;
        }
        let q = q.clamp(0.0, 1.0);
        // ceil(q * n) as a 1-based rank; computed in f64, exact for any
        // sample count a run can produce (< 2^53).
        let rank = (q * n as f64).ceil() as usize;
        let index = rank.clamp(1, n) - 1;
        Some(Duration::from_micros(self.sorted_us[index]))
    }

    pub fn max(&self) -> Option<Duration> {
        self.sorted_us.last().map(|us| Duration::from_micros(*us))
    }
}

/// One closed-loop run.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// Concurrent writers, each with one request in flight.
    pub writers: usize,
    /// Load before measuring (connections, caches, leader leases warm).
    pub warmup: Duration,
    /// Measured window.
    pub duration: Duration,
    /// Keys are `<key_prefix><n>`, n uniform in 0..keys.
    pub keys: u64,
    pub key_prefix: String,
    pub value_size: usize,
    pub op_timeout: Duration,
    /// Seeds the writers' key choice and values (writer i uses seed + i).
    pub seed: u64,
}

impl Default for LoadSpec {
    fn default() -> Self {
        Self {
            writers: 1,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(10),
            keys: 100_000,
            key_prefix: "/bench/".to_owned(),
            value_size: 256,
            op_timeout: DEFAULT_OP_TIMEOUT,
            seed: 0x5eed,
        }
    }
}

/// What one run measured. Only puts that completed inside the measured
/// window count, successes and errors alike.
#[derive(Clone, Debug)]
pub struct LoadReport {
    pub writers: usize,
    pub ops: u64,
    pub errors: u64,
    /// The first error seen (warm-up included), for the operator.
    pub first_error: Option<String>,
    /// Writers aborted at the hard deadline (hung puts).
    pub aborted_writers: usize,
    pub measured: Duration,
    pub latencies: Latencies,
}

impl LoadReport {
    pub fn ops_per_sec(&self) -> f64 {
        let secs = self.measured.as_secs_f64();
        if secs > 0.0 {
            self.ops as f64 / secs
        } else {
            0.0
        }
    }
}

#[derive(Default)]
struct WriterResult {
    ops: u64,
    errors: u64,
    first_error: Option<String>,
    latencies: LatencyRecorder,
}

/// Runs `spec.writers` writers, each calling `put(writer, key, value)` in a
/// loop and waiting for it, for `spec.warmup + spec.duration`.
pub async fn closed_loop<P, Fut, E>(spec: &LoadSpec, put: P) -> LoadReport
where
    P: Fn(usize, Vec<u8>, Vec<u8>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Display + Send + 'static,
{
    let put = Arc::new(put);
    let measure_start = Instant::now() + spec.warmup;
    let measure_end = measure_start + spec.duration;
    let hard_deadline = measure_end + spec.op_timeout + DRAIN_SLACK;

    let mut writers = JoinSet::new();
    for writer in 0..spec.writers {
        let put = Arc::clone(&put);
        let spec = spec.clone();
        writers.spawn(
            async move { run_writer(writer, &spec, &*put, measure_start, measure_end).await },
        );
    }

    let mut report = LoadReport {
        writers: spec.writers,
        ops: 0,
        errors: 0,
        first_error: None,
        aborted_writers: 0,
        measured: spec.duration,
        latencies: Latencies::default(),
    };
    let mut latencies = LatencyRecorder::default();
    loop {
        match tokio::time::timeout_at(hard_deadline, writers.join_next()).await {
            Ok(Some(Ok(result))) => {
                report.ops += result.ops;
                report.errors += result.errors;
                if report.first_error.is_none() {
                    report.first_error = result.first_error;
                }
                latencies.merge(result.latencies);
            }
            Ok(Some(Err(join_error))) => {
                report.errors += 1;
                report
                    .first_error
                    .get_or_insert_with(|| format!("writer task failed: {join_error}"));
            }
            Ok(None) => break,
            Err(_deadline) => {
                report.aborted_writers = writers.len();
                writers.abort_all();
                break;
            }
        }
    }
    report.latencies = latencies.into_latencies();
    report
}

async fn run_writer<P, Fut, E>(
    writer: usize,
    spec: &LoadSpec,
    put: &P,
    measure_start: Instant,
    measure_end: Instant,
) -> WriterResult
where
    P: Fn(usize, Vec<u8>, Vec<u8>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let mut rng = SmallRng::seed_from_u64(spec.seed.wrapping_add(writer as u64));
    // Random bytes: neither system gets to compress its way ahead.
    let mut value = vec![0u8; spec.value_size];
    rng.fill_bytes(&mut value);
    let keys = spec.keys.max(1);
    let mut result = WriterResult::default();
    while Instant::now() < measure_end {
        let key = format!("{}{}", spec.key_prefix, rng.random_range(0..keys)).into_bytes();
        let began = Instant::now();
        let outcome = tokio::time::timeout(spec.op_timeout, put(writer, key, value.clone())).await;
        let done = Instant::now();
        let counted = done >= measure_start && done < measure_end;
        let error = match outcome {
            Ok(Ok(())) => {
                if counted {
                    result.ops += 1;
                    result.latencies.record(done - began);
                }
                continue;
            }
            Ok(Err(e)) => e.to_string(),
            Err(_elapsed) => format!("no reply within {} ms", spec.op_timeout.as_millis()),
        };
        if counted {
            result.errors += 1;
        }
        result.first_error.get_or_insert(error);
        tokio::time::sleep(ERROR_BACKOFF).await;
    }
    result
}

fn ms(duration: Option<Duration>) -> String {
    match duration {
        Some(d) => format!("{:.2}", d.as_secs_f64() * 1e3),
        None => "-".to_owned(),
    }
}

/// One line per (system, run): throughput and latency percentiles.
pub fn results_table(rows: &[(&str, &LoadReport)]) -> String {
    let mut out = format!(
        "{:<10} {:>7} {:>10} {:>8} {:>8} {:>9} {:>7}\n",
        "system", "writers", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "errors"
    );
    for (system, report) in rows {
        let l = &report.latencies;
        let _ = writeln!(
            out,
            "{:<10} {:>7} {:>10.1} {:>8} {:>8} {:>9} {:>7}",
            system,
            report.writers,
            report.ops_per_sec(),
            ms(l.percentile(0.50)),
            ms(l.percentile(0.99)),
            ms(l.percentile(0.999)),
            report.errors,
        );
    }
    out
}

/// `ours / baseline` per writer count, for runs of the same writer count:
/// throughput ratio (> 1: ours is faster) and p99 ratio (< 1: ours has the
/// lower tail).
pub fn ratio_table(ours: &[LoadReport], baseline: &[LoadReport], names: (&str, &str)) -> String {
    let (a, b) = names;
    let mut out = format!(
        "{:>7} {:>12} {:>12} {:>11} {:>11} {:>11} {:>9}\n",
        "writers",
        format!("{a} ops/s"),
        format!("{b} ops/s"),
        "ops/s ratio",
        format!("{a} p99"),
        format!("{b} p99"),
        "p99 ratio"
    );
    for ours in ours {
        let Some(base) = baseline.iter().find(|b| b.writers == ours.writers) else {
            continue;
        };
        let throughput_ratio = ratio(ours.ops_per_sec(), base.ops_per_sec());
        let p99_ours = ours.latencies.percentile(0.99);
        let p99_base = base.latencies.percentile(0.99);
        let p99_ratio = match (p99_ours, p99_base) {
            (Some(x), Some(y)) => ratio(x.as_secs_f64(), y.as_secs_f64()),
            _ => "-".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:>7} {:>12.1} {:>12.1} {:>11} {:>11} {:>11} {:>9}",
            ours.writers,
            ours.ops_per_sec(),
            base.ops_per_sec(),
            throughput_ratio,
            ms(p99_ours),
            ms(p99_base),
            p99_ratio,
        );
    }
    out
}

fn ratio(x: f64, y: f64) -> String {
    if y > 0.0 {
        format!("{:.2}x", x / y)
    } else {
        "-".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn latencies(us: &[u64]) -> Latencies {
        let mut recorder = LatencyRecorder::default();
        for &u in us {
            recorder.record(Duration::from_micros(u));
        }
        recorder.into_latencies()
    }

    #[test]
    fn nearest_rank_percentiles() {
        // 1..=100 µs: pXX is XX µs.
        let l = latencies(&(1..=100).rev().collect::<Vec<_>>());
        assert_eq!(l.percentile(0.50), Some(Duration::from_micros(50)));
        assert_eq!(l.percentile(0.99), Some(Duration::from_micros(99)));
        assert_eq!(l.percentile(0.999), Some(Duration::from_micros(100)));
        assert_eq!(l.percentile(1.0), Some(Duration::from_micros(100)));
        assert_eq!(l.percentile(0.0), Some(Duration::from_micros(1)));
        assert_eq!(l.max(), Some(Duration::from_micros(100)));
    }

    #[test]
    fn percentiles_of_small_and_empty_sets() {
        let one = latencies(&[7]);
        assert_eq!(one.percentile(0.5), Some(Duration::from_micros(7)));
        assert_eq!(one.percentile(0.999), Some(Duration::from_micros(7)));
        let two = latencies(&[10, 20]);
        assert_eq!(two.percentile(0.5), Some(Duration::from_micros(10)));
        assert_eq!(two.percentile(0.51), Some(Duration::from_micros(20)));
        assert_eq!(latencies(&[]).percentile(0.5), None);
        // p99.9 of 1000 samples is the 999th, not the max.
        let thousand = latencies(&(1..=1000).collect::<Vec<_>>());
        assert_eq!(thousand.percentile(0.999), Some(Duration::from_micros(999)));
    }

    #[test]
    fn merge_keeps_every_sample() {
        let mut a = LatencyRecorder::default();
        a.record(Duration::from_micros(3));
        let mut b = LatencyRecorder::default();
        b.record(Duration::from_micros(1));
        b.record(Duration::from_micros(2));
        a.merge(b);
        let l = a.into_latencies();
        assert_eq!(l.len(), 3);
        assert_eq!(l.percentile(0.0), Some(Duration::from_micros(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn closed_loop_keeps_one_request_per_writer_in_flight() {
        let in_flight = Arc::new(AtomicU64::new(0));
        let peak = Arc::new(AtomicU64::new(0));
        let spec = LoadSpec {
            writers: 4,
            warmup: Duration::from_millis(100),
            duration: Duration::from_secs(1),
            keys: 10,
            ..LoadSpec::default()
        };
        let (f, p) = (Arc::clone(&in_flight), Arc::clone(&peak));
        let report = closed_loop(&spec, move |_writer, key, value| {
            let (f, p) = (Arc::clone(&f), Arc::clone(&p));
            async move {
                assert!(key.starts_with(b"/bench/"));
                assert_eq!(value.len(), 256);
                let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                f.fetch_sub(1, Ordering::SeqCst);
                Ok::<(), String>(())
            }
        })
        .await;
        assert_eq!(peak.load(Ordering::SeqCst), 4);
        // 4 writers x 1 s / 10 ms per put, give or take the window edges.
        assert!((396..=404).contains(&report.ops), "ops {}", report.ops);
        assert_eq!(report.errors, 0);
        assert_eq!(report.latencies.len() as u64, report.ops);
        assert_eq!(
            report.latencies.percentile(0.99),
            Some(Duration::from_millis(10))
        );
        assert!((report.ops_per_sec() - 400.0).abs() < 5.0);
    }

    #[tokio::test(start_paused = true)]
    async fn closed_loop_counts_errors_and_aborts_hung_writers() {
        let spec = LoadSpec {
            writers: 2,
            warmup: Duration::ZERO,
            duration: Duration::from_millis(100),
            op_timeout: Duration::from_millis(50),
            ..LoadSpec::default()
        };
        let report = closed_loop(&spec, |writer, _key, _value| async move {
            if writer == 0 {
                Err("refused")
            } else {
                // Hangs past the op timeout: counted as an error.
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            }
        })
        .await;
        assert_eq!(report.ops, 0);
        assert!(report.errors >= 2, "errors {}", report.errors);
        assert!(report.first_error.is_some());
        assert_eq!(report.aborted_writers, 0);
    }

    #[test]
    fn ratio_table_pairs_runs_by_writer_count() {
        let run = |writers, ops, p99_us| LoadReport {
            writers,
            ops,
            errors: 0,
            first_error: None,
            aborted_writers: 0,
            measured: Duration::from_secs(1),
            latencies: latencies(&[p99_us]),
        };
        let ours = [run(1, 200, 1000), run(16, 1600, 4000)];
        let base = [run(1, 100, 2000), run(16, 3200, 2000)];
        let table = ratio_table(&ours, &base, ("raftplane", "etcd"));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(
            lines[1].contains("2.00x") && lines[1].contains("0.50x"),
            "{table}"
        );
        assert!(
            lines[2].contains("0.50x") && lines[2].contains("2.00x"),
            "{table}"
        );
        let results = results_table(&[("etcd", &base[0])]);
        assert!(results.contains("100.0"), "{results}");
    }
}
