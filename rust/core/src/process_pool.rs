//! A rayon pool kept per process. A child made by `fork` inherits a pool
//! without its threads, so work handed to it would wait forever: the pool
//! is kept with the id of the process that built it, and built again when
//! the id changes.

use std::sync::{Arc, Mutex};

use rayon::{ThreadPool, ThreadPoolBuildError};

/// A pool built at first use in each process (see the module docs); meant
/// for a `static`.
pub struct ProcessPool {
    pool: Mutex<Option<(u32, Arc<ThreadPool>)>>,
}

impl ProcessPool {
    /// No pool yet.
    pub const fn new() -> Self {
        Self {
            pool: Mutex::new(None),
        }
    }

    /// This process's pool, built by `build` if this process has none yet.
    pub fn get(
        &self,
        build: impl FnOnce() -> Result<ThreadPool, ThreadPoolBuildError>,
    ) -> Result<Arc<ThreadPool>, ThreadPoolBuildError> {
        let pid = std::process::id();
        let mut guard = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((owner, pool)) = guard.as_ref() {
            if *owner == pid {
                return Ok(pool.clone());
            }
        }
        let pool = Arc::new(build()?);
        if let Some(inherited) = guard.replace((pid, pool.clone())) {
            // Its threads live only in the parent; dropping it here could wait on them.
            std::mem::forget(inherited);
        }
        Ok(pool)
    }
}

impl Default for ProcessPool {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pool_per_process() {
        let pools = ProcessPool::new();
        let build = || rayon::ThreadPoolBuilder::new().num_threads(1).build();
        let first = pools.get(build).unwrap();
        let again = pools.get(|| panic!("built twice")).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(again.install(rayon::current_num_threads), 1);
    }
}
