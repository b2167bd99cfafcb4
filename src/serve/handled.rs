//! [`Handled`]: what a webhook delivery amounts to once its payload is mapped.
//!
//! Its own module because both sides use it: the GitHub and GitLab mappers
//! (`github_hooks`, `gitlab_hooks`) return it, and the intake (`webhooks`) turns it
//! into a reply and a lake write.

use crate::collect::delivery::Delivery;

/// What a delivery amounts to.
#[derive(Debug)]
pub(crate) enum Handled {
    /// Rows to write.
    Rows(Delivery),
    /// Nothing to do, and why (shown to the sender).
    Ignored(String),
    /// A GitHub `ping`.
    Pong,
}
