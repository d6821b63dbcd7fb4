//! [`WorkerProcess`]: a separate `ytvc-server worker` process on a test
//! app's database, as a worker on another machine would run.

use std::process::{Child, Command, Stdio};

use crate::TestApp;

/// A running `ytvc-server worker` process, killed when dropped.
pub struct WorkerProcess {
    child: Child,
    _data_dir: tempfile::TempDir,
}

impl WorkerProcess {
    /// Starts `binary worker` (the test's `env!("CARGO_BIN_EXE_ytvc-e2e-server")`)
    /// on `app`'s database, with its own data dir, the `AWS_*` variables of
    /// this process and `vars` (e.g. the shared `YTVC_STORAGE_URL`). Nothing
    /// else of this process's environment reaches it. Its log is discarded
    /// unless `YTVC_TEST_LOG` is set.
    ///
    /// # Panics
    /// When the process cannot be started.
    #[must_use]
    pub fn start(binary: &str, app: &TestApp, vars: &[(&str, String)]) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(binary);
        command
            .arg("worker")
            .env_clear()
            .envs(
                std::env::vars()
                    .filter(|(k, _)| k.starts_with("AWS_") || k == "PATH" || k == "HOME"),
            )
            .env("DATABASE_URL", app.db().url())
            .env("YTVC_DATA_DIR", data_dir.path())
            .env("YTVC_WORKER_POLL_MS", "50")
            .env("YTVC_LOG_FORMAT", "json")
            .stdin(Stdio::null());
        for (name, value) in vars {
            command.env(name, value);
        }
        if std::env::var_os("YTVC_TEST_LOG").is_none() {
            command.stdout(Stdio::null()).stderr(Stdio::null());
        }
        let child = command.spawn().expect("the worker process starts");
        Self {
            child,
            _data_dir: data_dir,
        }
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
