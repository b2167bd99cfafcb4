//! The demo organisation's OKRs and scorecard rules (`goals.toml`): `northstar demo`
//! shows them in place of any in the config, which describe a real organisation.

use crate::config::Config;
use crate::error::Result;

const GOALS: &str = include_str!("goals.toml");

/// `config` with the demo's objectives, scorecard rules and cost allocation.
pub fn with_demo_goals(config: &Config) -> Result<Config> {
    let goals = Config::parse(GOALS, "src/demo/goals.toml")?;
    crate::report::config_check::check(&goals)?;
    let mut out = config.clone();
    out.okrs = goals.okrs;
    out.scorecards = goals.scorecards;
    out.cost = goals.cost;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_goals_parse() {
        let demo = with_demo_goals(&Config::default()).unwrap();
        assert_eq!(demo.okrs.len(), 2);
        assert_eq!(demo.scorecards.rules.len(), 4);
        assert_eq!(demo.cost.rules.len(), 3);
        assert_eq!(demo.cost.budgets.len(), 4);
    }
}
