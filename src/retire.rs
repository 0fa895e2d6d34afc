//! `retire`: what to do next with a certificate on its way to deletion. Pure decisions; the
//! flow that acts on them is [`crate::lifecycle::Retire`].
//!
//! The API deletes only an `inactive` certificate, and answers 500 otherwise. A certificate
//! that Gateway TLS inspection uses (`in_use`) or a custom (BYO-PKI) one is never touched.

use crate::envelope::{binding_status, string_field, Json};
#[allow(unused_imports)]
use crate::prelude::*;

/// A step of `retire`, `retireMany`, `createAndActivate` or `setInUse`, reported through
/// `onProgress`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Reading the certificate before changing anything.
    Checking,
    /// Asking the edge to unbind it (POST deactivate).
    Deactivating,
    /// Polling until it is `inactive`.
    Waiting,
    /// DELETE.
    Deleting,
    /// Finished: deleted (retire), available (createAndActivate), in use (setInUse).
    Done,
    /// `retireMany`: this certificate was refused (in use, or custom); nothing was changed.
    Refused,
    /// `retireMany`: this certificate failed.
    Failed,
    /// `createAndActivate`: POST create.
    Creating,
    /// `createAndActivate`: POST activate.
    Activating,
    /// `setInUse`: PATCH of the Gateway configuration.
    Switching,
}

impl Step {
    /// The step's name in `onProgress` events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Checking => "checking",
            Self::Deactivating => "deactivating",
            Self::Waiting => "waiting",
            Self::Deleting => "deleting",
            Self::Done => "done",
            Self::Refused => "refused",
            Self::Failed => "failed",
            Self::Creating => "creating",
            Self::Activating => "activating",
            Self::Switching => "switching",
        }
    }
}

/// What to do with a certificate in the state seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Refuse: Gateway TLS inspection uses it.
    RefuseInUse,
    /// Refuse: a custom certificate is not deleted through this endpoint.
    RefuseCustom,
    /// It is `inactive`: delete it.
    Delete,
    /// Already on its way (`pending_deletion`): wait.
    Wait,
    /// Anything else (`available`, legacy `active`, `pending_deployment`, an unknown or missing
    /// status): deactivate, then wait.
    Deactivate,
}

/// Decides the next step for a certificate state.
pub fn next<J: Json>(cert: &J) -> Next {
    if cert.get("in_use").and_then(|v| v.as_bool()) == Some(true) {
        return Next::RefuseInUse;
    }
    if string_field(cert, "type").as_deref() == Some("custom") {
        return Next::RefuseCustom;
    }
    match binding_status(cert).as_deref() {
        Some("inactive") => Next::Delete,
        Some("pending_deletion") => Next::Wait,
        _ => Next::Deactivate,
    }
}

/// Options of `retire`: how it waits for `inactive`.
pub use crate::lifecycle::WaitOptions as RetireOptions;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decisions() {
        let cases = [
            (
                json!({"binding_status": "inactive", "in_use": false, "type": "gateway_managed"}),
                Next::Delete,
            ),
            (json!({"binding_status": "available"}), Next::Deactivate),
            (json!({"binding_status": "active"}), Next::Deactivate),
            (
                json!({"binding_status": "pending_deployment"}),
                Next::Deactivate,
            ),
            (json!({"binding_status": "pending_deletion"}), Next::Wait),
            (json!({"binding_status": "something_new"}), Next::Deactivate),
            (json!({}), Next::Deactivate),
            (json!({"binding_status": 5}), Next::Deactivate),
            (
                json!({"binding_status": "inactive", "in_use": true}),
                Next::RefuseInUse,
            ),
            (
                json!({"binding_status": "available", "in_use": true, "type": "custom"}),
                Next::RefuseInUse,
            ),
            (
                json!({"binding_status": "inactive", "type": "custom"}),
                Next::RefuseCustom,
            ),
            (
                json!({"binding_status": "inactive", "in_use": "true"}),
                Next::Delete,
            ),
        ];
        for (cert, want) in cases {
            assert_eq!(next(&cert), want, "{cert}");
        }
        let names: Vec<_> = [
            Step::Checking,
            Step::Deactivating,
            Step::Waiting,
            Step::Deleting,
            Step::Done,
        ]
        .iter()
        .map(|s| s.as_str())
        .collect();
        assert_eq!(
            names,
            ["checking", "deactivating", "waiting", "deleting", "done"]
        );
        assert_eq!(RetireOptions::default().poll_interval_ms, 2000);
        assert_eq!(RetireOptions::default().wait_timeout_ms, 300_000);
        let more: Vec<_> = [
            Step::Refused,
            Step::Failed,
            Step::Creating,
            Step::Activating,
            Step::Switching,
        ]
        .iter()
        .map(|s| s.as_str())
        .collect();
        assert_eq!(
            more,
            ["refused", "failed", "creating", "activating", "switching"]
        );
    }
}
