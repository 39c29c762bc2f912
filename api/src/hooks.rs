//! The seams where per-kind behaviour plugs into the generic handlers:
//! defaulting and validation (kube-apiserver's strategies).

pub use crate::defaults::apply_defaults;
pub use crate::validation::Cause;
pub use crate::validation::validate;
pub use crate::validation::validate_status;
