//! The error type of the core crate.

/// Errors raised by the core. Problems found in input data are mostly not
/// errors: they become rows of an errors table; [`Error::Input`] is for
/// those that must stop a call instead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option is out of range or inconsistent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A call came in the wrong order, such as a pass of the streaming
    /// [`crate::DedupEngine`] before the pass it needs.
    #[error("wrong order of calls: {0}")]
    Usage(String),
    /// The input could not be read, at this place.
    #[error("{input}{}: byte {offset}: {reason}", member.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Input {
        /// The input file or stream.
        input: String,
        /// The archive member, if the problem is inside one.
        member: Option<String>,
        /// Byte offset of the problem in the member (or the file).
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A fault of thresher itself, not of the call or its input.
    #[error("internal error: {0}")]
    Internal(String),
    /// The call was cancelled (for example by Ctrl-C) before it finished.
    #[error("cancelled")]
    Cancelled,
    /// An Arrow array could not be built or read.
    #[error("arrow error: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// Result with the core error type.
pub type Result<T> = std::result::Result<T, Error>;
