//! The thread pool every heavy call runs on, with the GIL released and
//! Ctrl-C checked while it runs.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use rayon::ThreadPool;
use thresher_core::process_pool::ProcessPool;
use thresher_core::Cancel;

use crate::errors::{to_py_err, ThresherError};

/// The rayon pool of this process (built again in a child made by `fork`).
fn pool() -> PyResult<Arc<ThreadPool>> {
    static POOL: ProcessPool = ProcessPool::new();
    // Honours RAYON_NUM_THREADS; defaults to the number of CPUs.
    POOL.get(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("thresher-{i}"))
            .build()
    })
    .map_err(|e| ThresherError::new_err(format!("cannot start threads: {e}")))
}

/// Runs `f` on the pool with the GIL released. While it runs, this thread
/// checks for signals (Ctrl-C) every 50 ms; a pending one cancels `f`
/// cooperatively and is raised once `f` has stopped.
pub(crate) fn run_released<T: Send>(
    py: Python<'_>,
    f: impl FnOnce(&Cancel) -> thresher_core::Result<T> + Send,
) -> PyResult<T> {
    let pool = pool()?;
    let cancel = Cancel::new();
    let (result, interrupt) = py.detach(|| {
        std::thread::scope(|scope| {
            let (done, finished) = mpsc::channel();
            let cancel = &cancel;
            scope.spawn(move || {
                // A send fails only if the receiver is gone, which it is not.
                let _ = done.send(pool.install(|| f(cancel)));
            });
            let mut interrupt: Option<PyErr> = None;
            loop {
                match finished.recv_timeout(Duration::from_millis(50)) {
                    Ok(result) => return (Some(result), interrupt),
                    Err(RecvTimeoutError::Timeout) => {
                        if interrupt.is_none() {
                            if let Err(e) = Python::attach(|py| py.check_signals()) {
                                cancel.cancel();
                                interrupt = Some(e);
                            }
                        }
                    }
                    // The worker panicked; the scope re-raises the panic.
                    Err(RecvTimeoutError::Disconnected) => return (None, interrupt),
                }
            }
        })
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    match result {
        Some(r) => r.map_err(|e| to_py_err(py, e)),
        None => Err(ThresherError::new_err(
            "the worker thread stopped without a result",
        )),
    }
}
