//! thresher's Python exceptions and the mapping of core errors to them.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyType;

pyo3::create_exception!(
    _core,
    ThresherError,
    pyo3::exceptions::PyException,
    "Base class of thresher's errors."
);

/// Maps a core error to `thresher.InvalidOptionError` (a `ValueError`) or
/// `ThresherError`.
pub(crate) fn to_py_err(py: Python<'_>, err: thresher_core::Error) -> PyErr {
    match err {
        thresher_core::Error::InvalidArgument(msg) => {
            let class = py
                .import("thresher.errors")
                .and_then(|m| m.getattr("InvalidOptionError"))
                .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
            match class {
                Ok(class) => PyErr::from_type(class, msg),
                Err(_) => PyValueError::new_err(msg),
            }
        }
        other => ThresherError::new_err(other.to_string()),
    }
}
