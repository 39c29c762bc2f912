//! One supervised child process: spawned with its output appended to a log
//! file, signalled by PID, and never left behind.
//!
//! Three layers keep children from outliving the harness:
//! 1. [`ChildProcess`]'s `Drop` sends SIGKILL and reaps (runs on panic
//!    unwinding too).
//! 2. Children get `PR_SET_PDEATHSIG = SIGKILL`, so they die when the
//!    harness process dies without unwinding (SIGKILL, abort, a test
//!    runner's timeout).
//! 3. PDEATHSIG fires when the *thread* that forked the child exits, not the
//!    process; so children are forked from a dedicated [`Spawner`] thread
//!    that lives as long as its owner, never from a tokio worker or
//!    blocking-pool thread whose lifetime we do not control.
//!
//! Invariant: a PID is signalled only while its process is unreaped (a
//! zombie at worst), so a signal can never hit a recycled PID.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Poll interval while waiting for a child to exit.
const EXIT_POLL_INTERVAL: Duration = Duration::from_millis(10);
/// How long [`ChildProcess::kill`] waits for the kernel to reap a SIGKILLed
/// child. A process in uninterruptible sleep (fsync on a slow disk) can take
/// a moment; one that takes longer is a kernel problem worth reporting.
const KILL_REAP_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes of log read back for error messages.
const LOG_TAIL_BYTES: u64 = 8 * 1024;

type SpawnJob = (Command, mpsc::SyncSender<io::Result<Child>>);

/// A thread that forks children on request, so their PDEATHSIG is tied to
/// a thread that lives exactly as long as this value.
#[derive(Debug)]
pub struct Spawner {
    jobs: Option<mpsc::Sender<SpawnJob>>,
    thread: Option<JoinHandle<()>>,
}

impl Spawner {
    pub fn new() -> io::Result<Self> {
        let (jobs, receiver) = mpsc::channel::<SpawnJob>();
        let thread = std::thread::Builder::new()
            .name("chaos-spawner".to_owned())
            .spawn(move || {
                for (mut command, reply) in receiver {
                    // The requester may have given up; nothing to do then
                    // (the Child is dropped, and std does not kill it, but
                    // requesters never give up: `spawn` blocks on the reply).
                    let _ = reply.send(command.spawn());
                }
            })?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Forks and execs `command` on the spawner thread. Blocks the caller
    /// for the duration of fork+exec (about a millisecond).
    pub fn spawn(&self, command: Command) -> io::Result<Child> {
        let (reply, result) = mpsc::sync_channel(1);
        let jobs = self
            .jobs
            .as_ref()
            .expect("invariant: jobs is only taken in Drop");
        jobs.send((command, reply))
            .map_err(|_| io::Error::other("chaos-spawner thread is gone"))?;
        result
            .recv()
            .map_err(|_| io::Error::other("chaos-spawner thread dropped the request"))?
    }
}

impl Drop for Spawner {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop.
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What to run and where its output goes.
#[derive(Clone, Debug)]
pub struct ProcessSpec {
    /// Human name for messages: "raftplane member 2", "etcd m1".
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Extra environment, on top of the harness's own.
    pub env: Vec<(OsString, OsString)>,
    /// stdout and stderr are appended here, after a marker line.
    pub log_path: PathBuf,
}

/// A running (or exited but remembered) child process.
#[derive(Debug)]
pub struct ChildProcess {
    name: String,
    child: Child,
    log_path: PathBuf,
    /// Length of the log file when this process was spawned: its own
    /// output starts here.
    log_offset: u64,
    exit: Option<ExitStatus>,
    paused: bool,
}

impl ChildProcess {
    pub fn spawn(spawner: &Spawner, spec: &ProcessSpec) -> io::Result<Self> {
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.log_path)
            .map_err(|e| with_path(e, "open log", &spec.log_path))?;
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        writeln!(
            log,
            "=== chaos: spawning {} at unix_ms={unix_ms}: {} {} ===",
            spec.name,
            spec.program.display(),
            spec.args
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        )?;
        log.flush()?;
        let log_offset = log.metadata()?.len();
        let stderr = log.try_clone()?;

        let mut command = Command::new(&spec.program);
        command
            .args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(stderr));
        let harness_pid = std::process::id();
        // SAFETY: the closure runs between fork and exec in the child and
        // only makes async-signal-safe syscalls (prctl, getppid) and builds
        // io::Errors from raw OS codes, which does not allocate.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // The harness may have died between fork and prctl, in
                // which case nobody would ever kill this child.
                if u32::try_from(libc::getppid()).ok() != Some(harness_pid) {
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
        let child = spawner
            .spawn(command)
            .map_err(|e| with_path(e, "spawn", &spec.program))?;
        tracing::debug!(name = %spec.name, pid = child.id(), log = %spec.log_path.display(), "spawned");
        Ok(Self {
            name: spec.name.clone(),
            child,
            log_path: spec.log_path.clone(),
            log_offset,
            exit: None,
            paused: false,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Reaps the child if it has exited; `Some(status)` once it has.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait()?;
        }
        Ok(self.exit)
    }

    /// Sends `signal` to the child. Fails with ESRCH once it was reaped.
    pub fn signal(&mut self, signal: libc::c_int) -> io::Result<()> {
        if self.try_wait()?.is_some() {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        let pid = libc::pid_t::try_from(self.child.id())
            .map_err(|_| io::Error::other("pid does not fit pid_t"))?;
        // SAFETY: plain syscall; the pid is our unreaped child (see the
        // module invariant).
        if unsafe { libc::kill(pid, signal) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// SIGSTOP: the process stays alive (its sockets accept connections)
    /// but does nothing until [`ChildProcess::resume`].
    pub fn pause(&mut self) -> io::Result<()> {
        self.signal(libc::SIGSTOP)?;
        self.paused = true;
        Ok(())
    }

    pub fn resume(&mut self) -> io::Result<()> {
        self.signal(libc::SIGCONT)?;
        self.paused = false;
        Ok(())
    }

    /// Waits up to `timeout` for the child to exit.
    pub async fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(EXIT_POLL_INTERVAL).await;
        }
    }

    /// SIGKILL and reap. Returns the exit status; if the process had
    /// already exited on its own, that earlier status.
    pub async fn kill(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.try_wait()? {
            return Ok(status);
        }
        self.signal(libc::SIGKILL)?;
        self.paused = false;
        self.wait_timeout(KILL_REAP_TIMEOUT)
            .await?
            .ok_or_else(|| io::Error::other(format!("{} survived SIGKILL", self.name)))
    }

    /// SIGTERM, wait up to `grace`, then SIGKILL. A paused process is
    /// continued after SIGTERM so that it can act on it.
    pub async fn terminate(&mut self, grace: Duration) -> io::Result<ExitStatus> {
        if let Some(status) = self.try_wait()? {
            return Ok(status);
        }
        self.signal(libc::SIGTERM)?;
        if self.paused {
            self.resume()?;
        }
        if let Some(status) = self.wait_timeout(grace).await? {
            return Ok(status);
        }
        tracing::warn!(name = %self.name, grace_ms = grace.as_millis() as u64, "no exit after SIGTERM; sending SIGKILL");
        self.kill().await
    }

    /// This process's own output so far (everything after its marker line).
    pub fn output(&self) -> String {
        read_log(&self.log_path, self.log_offset, u64::MAX)
    }

    /// The last few KiB of this process's own output, for error messages.
    pub fn output_tail(&self) -> String {
        read_log(&self.log_path, self.log_offset, LOG_TAIL_BYTES)
    }

    /// SIGKILL and reap, blocking. For `Drop`.
    fn kill_blocking(&mut self) {
        match self.try_wait() {
            Ok(Some(_)) => return,
            Ok(None) => {}
            Err(e) => tracing::warn!(name = %self.name, error = %e, "try_wait failed"),
        }
        if let Err(e) = self.signal(libc::SIGKILL) {
            tracing::warn!(name = %self.name, error = %e, "SIGKILL failed");
        }
        match self.child.wait() {
            Ok(status) => self.exit = Some(status),
            Err(e) => tracing::warn!(name = %self.name, error = %e, "wait after SIGKILL failed"),
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill_blocking();
    }
}

/// Up to `max_bytes` from the end of the log, not before `offset`.
fn read_log(path: &Path, offset: u64, max_bytes: u64) -> String {
    let read = || -> io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        let start = offset.max(len.saturating_sub(max_bytes));
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        file.take(max_bytes).read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    read().unwrap_or_else(|e| format!("<cannot read {}: {e}>", path.display()))
}

/// Whether a process's output says it could not bind its port (Rust's
/// io::Error text, Go's syscall text, or the raw errno).
pub fn mentions_addr_in_use(output: &str) -> bool {
    let lower = output.to_ascii_lowercase();
    lower.contains("address already in use")
        || lower.contains("addrinuse")
        || lower.contains("os error 98")
}

fn with_path(error: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{what} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &Path, script: &str) -> ProcessSpec {
        ProcessSpec {
            name: "test sh".to_owned(),
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), script.into()],
            env: vec![],
            log_path: dir.join("sh.log"),
        }
    }

    #[tokio::test]
    async fn output_is_logged_and_kill_reaps() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spawner = Spawner::new().expect("spawner");
        let mut child =
            ChildProcess::spawn(&spawner, &spec(dir.path(), "echo hello; exec sleep 60"))
                .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !child.output().contains("hello") {
            assert!(Instant::now() < deadline, "no output: {}", child.output());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        child.pause().expect("pause");
        let status = child.kill().await.expect("kill");
        assert!(!status.success());
        assert!(
            child.signal(libc::SIGTERM).is_err(),
            "reaped pid must not be signalled"
        );
        // A second process appends after the first one's output.
        let second =
            ChildProcess::spawn(&spawner, &spec(dir.path(), "echo second")).expect("spawn");
        let full = std::fs::read_to_string(dir.path().join("sh.log")).expect("log");
        assert!(full.contains("hello"));
        drop(second);
    }

    #[tokio::test]
    async fn terminate_continues_a_paused_process() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spawner = Spawner::new().expect("spawner");
        let mut child =
            ChildProcess::spawn(&spawner, &spec(dir.path(), "exec sleep 60")).expect("spawn");
        child.pause().expect("pause");
        let status = child
            .terminate(Duration::from_secs(5))
            .await
            .expect("terminate");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGTERM));
    }

    #[test]
    fn addr_in_use_detection() {
        assert!(mentions_addr_in_use(
            "Error: bind 127.0.0.1:7001: Address already in use (os error 98)"
        ));
        assert!(mentions_addr_in_use(
            "listen tcp 127.0.0.1:2380: bind: address already in use"
        ));
        assert!(!mentions_addr_in_use("connection refused"));
    }
}
