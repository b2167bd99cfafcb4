//! The config's references to names the engine and the report define: the North
//! Star metric, scorecard checks, key result metrics and token roles.
//!
//! `config` is plain data and knows nothing of queries or access rules, so these
//! names are checked here, on the side that defines them, right after a config is
//! loaded ([`check`]). The error texts are the ones a config error has always had.

use crate::config::Config;
use crate::engine::queries;
use crate::error::{Error, Result};
use crate::report::access::Access;

/// Checks every name the config refers to; call it after `Config::load`/`parse`.
pub fn check(config: &Config) -> Result<()> {
    check_roles(config)?;
    check_north_star(config)?;
    check_key_result_metrics(config)?;
    check_scorecards(config)
}

fn check_roles(config: &Config) -> Result<()> {
    for token in &config.serve.tokens {
        Access::parse(&token.role).map_err(|e| Error::Config {
            key: format!("serve.tokens (env {})", token.env),
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

fn check_north_star(config: &Config) -> Result<()> {
    let known = queries::north_star_names();
    let metric = &config.north_star.metric;
    if !known.contains(&metric.as_str()) {
        return Err(Error::Config {
            key: "north_star.metric".into(),
            reason: format!("`{metric}` is not one of {}", known.join(", ")),
        });
    }
    Ok(())
}

fn check_key_result_metrics(config: &Config) -> Result<()> {
    for o in &config.okrs {
        for kr in &o.key_results {
            // Custom metrics are read at run time; their names are checked then.
            if queries::metric_sql(&kr.metric).is_none() && !kr.metric.starts_with("custom/") {
                return Err(Error::Config {
                    key: format!("okrs.{}.key_results.{}.metric", o.id, kr.id),
                    reason: "names no query (north_star/<name>, dora/<name>, custom/<name>)".into(),
                });
            }
        }
    }
    Ok(())
}

fn check_scorecards(config: &Config) -> Result<()> {
    for rule in &config.scorecards.rules {
        if queries::scorecard_sql(&rule.check).is_none() {
            let known = queries::scorecard_checks();
            return Err(Error::Config {
                key: format!("scorecards.rules.{}.check", rule.id),
                reason: format!("`{}` is not one of {}", rule.check, known.join(", ")),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        let config = Config::parse(text, "t").expect("config-level valid");
        check(&config).unwrap_err().to_string()
    }

    #[test]
    fn unknown_names_are_rejected_with_the_key() {
        assert!(err("[north_star]\nmetric = 'nope'").contains("north_star.metric"));
        let rule = "[[scorecards.rules]]\nid='r'\ntitle='t'\nlevel='gold'\ncheck='nope'";
        assert!(err(rule).contains("scorecards.rules.r.check"));
        let token = "[[serve.tokens]]\nenv='X'\nrole='admin'";
        assert!(err(token).contains("serve.tokens (env X)"));
    }

    #[test]
    fn the_defaults_name_known_things() {
        check(&Config::default()).unwrap();
    }
}
