//! The error type of the core crate.

/// Errors raised by the core for invalid arguments. Problems found in input
/// data are not errors of this kind: they become rows of an errors table.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option is out of range or inconsistent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The call was cancelled (for example by Ctrl-C) before it finished.
    #[error("cancelled")]
    Cancelled,
    /// An Arrow array could not be built or read.
    #[error("arrow error: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// Result with the core error type.
pub type Result<T> = std::result::Result<T, Error>;
