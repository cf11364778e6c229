//! thresher's Python exceptions and the mapping of core errors to them.
//!
//! `ThresherError`, the base class, is defined here; its subclasses live in
//! `thresher.errors` (Python), which this module looks up when it raises one:
//!
//! * [`Error::InvalidArgument`] -> `InvalidOptionError` (also a `ValueError`);
//! * [`Error::Usage`] -> `UsageError` (calls in the wrong order);
//! * [`Error::Input`] -> `InputError`, with `source`, `member`, `offset`;
//! * anything else (internal faults, Arrow failures, cancellation) ->
//!   `ThresherError`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use thresher_core::Error;

pyo3::create_exception!(
    _core,
    ThresherError,
    pyo3::exceptions::PyException,
    "Base class of thresher's errors."
);

/// The exception class `name` of `thresher.errors`.
fn error_class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyType>> {
    py.import("thresher.errors")?
        .getattr(name)?
        .cast_into::<PyType>()
        .map_err(PyErr::from)
}

/// `thresher.InvalidOptionError(msg)`; a plain `ValueError` if the Python
/// package cannot be imported.
pub(crate) fn invalid_option(py: Python<'_>, msg: String) -> PyErr {
    match error_class(py, "InvalidOptionError") {
        Ok(class) => PyErr::from_type(class, msg),
        Err(_) => PyValueError::new_err(msg),
    }
}

/// Maps a core error to the Python exception of its kind (see the module docs).
pub(crate) fn to_py_err(py: Python<'_>, err: Error) -> PyErr {
    match err {
        Error::InvalidArgument(msg) => invalid_option(py, msg),
        Error::Usage(msg) => match error_class(py, "UsageError") {
            Ok(class) => PyErr::from_type(class, msg),
            Err(_) => ThresherError::new_err(msg),
        },
        Error::Input {
            input,
            member,
            offset,
            reason,
        } => input_error(py, &input, member.as_deref(), offset, &reason).unwrap_or_else(|_| {
            ThresherError::new_err(format!("{input}: byte {offset}: {reason}"))
        }),
        other => ThresherError::new_err(other.to_string()),
    }
}

/// `thresher.InputError(reason, source=..., member=..., offset=...)`.
fn input_error(
    py: Python<'_>,
    source: &str,
    member: Option<&str>,
    offset: u64,
    reason: &str,
) -> PyResult<PyErr> {
    let kwargs = PyDict::new(py);
    kwargs.set_item("source", source)?;
    kwargs.set_item("member", member)?;
    kwargs.set_item("offset", offset)?;
    let value = error_class(py, "InputError")?.call((reason,), Some(&kwargs))?;
    Ok(PyErr::from_value(value))
}
