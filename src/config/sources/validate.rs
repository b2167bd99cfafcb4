//! The checks a source passes at load, after its keys are known to fit its kind:
//! required keys, environment variable names, the API URL and HTTP settings. Globs
//! and ticket field references are compiled as they are read
//! ([`crate::config::pattern`]).

use super::{DeliveryMode, SourceConfig, SourceKind};
use crate::error::Result;

impl SourceConfig {
    /// Required keys, environment variable names, the API URL and HTTP settings.
    pub(super) fn validate(&self) -> Result<()> {
        self.check_required()?;
        for (key, var) in [
            ("token_env", self.token_env.as_deref()),
            ("webhook_secret_env", self.webhook_secret_env()),
            ("email_env", self.email_env()),
            ("user_env", self.user_env()),
        ] {
            if let Some(var) = var
                && !crate::config::is_env_name(var)
            {
                return Err(self.bad(
                    key,
                    format!("`{var}` is not an environment variable name (letters, digits, `_`)"),
                ));
            }
        }
        if let Some(api_url) = &self.api_url {
            check_api_url(api_url).map_err(|reason| self.bad("api_url", reason))?;
        }
        let http = &self.http;
        if http.concurrency == 0 {
            return Err(self.bad("http.concurrency", "must be at least 1"));
        }
        if http.timeout_secs.is_nan() || http.timeout_secs <= 0.0 {
            return Err(self.bad("http.timeout_secs", "must be positive"));
        }
        if http.per_page == 0 || http.per_page > 100 {
            return Err(self.bad("http.per_page", "must be between 1 and 100"));
        }
        Ok(())
    }

    fn email_env(&self) -> Option<&str> {
        match &self.kind {
            SourceKind::Jira(s) => s.email_env.as_deref(),
            _ => None,
        }
    }

    fn user_env(&self) -> Option<&str> {
        match &self.kind {
            SourceKind::Servicenow(s) => s.user_env.as_deref(),
            _ => None,
        }
    }

    fn check_required(&self) -> Result<()> {
        match &self.kind {
            SourceKind::Github(g) if g.repos.is_empty() && g.org.is_none() => {
                Err(self.bad("repos", "a github source needs `repos` or `org`"))
            }
            SourceKind::Github(g)
                if g.mode == DeliveryMode::WorkflowRuns && g.workflows.is_empty() =>
            {
                Err(self.bad("workflows", "workflow_runs mode needs `workflows`"))
            }
            SourceKind::Gitlab(g) if g.projects.is_empty() && g.group.is_none() => {
                Err(self.bad("projects", "a gitlab source needs `projects` or `group`"))
            }
            SourceKind::Jira(_) if self.api_url.is_none() => Err(self.bad(
                "api_url",
                "a jira source needs `api_url` (https://SITE.atlassian.net)",
            )),
            SourceKind::Servicenow(_) if self.api_url.is_none() => Err(self.bad(
                "api_url",
                "a servicenow source needs `api_url` (https://INSTANCE.service-now.com)",
            )),
            _ => Ok(()),
        }
    }
}

/// An `http://` or `https://` URL with a host.
fn check_api_url(text: &str) -> std::result::Result<(), String> {
    let expected =
        || format!("expected an http(s) URL such as https://api.example.com, got `{text}`");
    let url = url::Url::parse(text).map_err(|e| format!("{}: {e}", expected()))?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err(expected());
    }
    Ok(())
}
