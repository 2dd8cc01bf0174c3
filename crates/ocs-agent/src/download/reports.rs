//! The status codes the agent reports with `QUERY=DOWNLOAD` (reference §6.6): exactly the
//! set the Unix agent sends, and when it sends each is documented on the variant. Sending
//! is the transport's job; this module names the codes.

/// One package status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `SUCCESS`: EXECUTE or STORE done.
    Success,
    /// `SUCCESS_<n>`: LAUNCH done, the program exited with n.
    SuccessCode(i32),
    /// `SUCCESS_ALREADY_SETUP`: the history has the package and the server did not force it.
    AlreadySetup,
    /// `ERR_BAD_ID`: the info file's ID is not the package's.
    ErrBadId,
    /// `ERR_DOWNLOAD_INFO`: the info file could not be fetched or read.
    ErrDownloadInfo,
    /// `ERR_BAD_DIGEST`: the assembled archive does not match the info file's digest.
    ErrBadDigest,
    /// `ERR_BUILD`: a fragment is missing or the archive cannot be unpacked (or escapes).
    ErrBuild,
    /// `ERR_EXECUTE`: the action failed.
    ErrExecute,
    /// `ERR_CLEAN`: the package directory could not be removed.
    ErrClean,
    /// `ERR_TIMEOUT`: the package is older than CONF `TIMEOUT` days, or its first-seen
    /// time is unreadable.
    ErrTimeout,
}

impl Status {
    /// The code sent to the server.
    pub fn code(self) -> String {
        match self {
            Status::Success => "SUCCESS".into(),
            Status::SuccessCode(n) => format!("SUCCESS_{n}"),
            Status::AlreadySetup => "SUCCESS_ALREADY_SETUP".into(),
            Status::ErrBadId => "ERR_BAD_ID".into(),
            Status::ErrDownloadInfo => "ERR_DOWNLOAD_INFO".into(),
            Status::ErrBadDigest => "ERR_BAD_DIGEST".into(),
            Status::ErrBuild => "ERR_BUILD".into(),
            Status::ErrExecute => "ERR_EXECUTE".into(),
            Status::ErrClean => "ERR_CLEAN".into(),
            Status::ErrTimeout => "ERR_TIMEOUT".into(),
        }
    }

    /// Whether the package counts as deployed (goes into the history).
    pub fn is_success(self) -> bool {
        matches!(self, Status::Success | Status::SuccessCode(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(Status::Success.code(), "SUCCESS");
        assert_eq!(Status::SuccessCode(0).code(), "SUCCESS_0");
        assert_eq!(Status::AlreadySetup.code(), "SUCCESS_ALREADY_SETUP");
        assert_eq!(Status::ErrBadDigest.code(), "ERR_BAD_DIGEST");
        assert_eq!(Status::ErrTimeout.code(), "ERR_TIMEOUT");
        assert!(Status::SuccessCode(2).is_success() && !Status::ErrClean.is_success());
    }
}
