//! Cost allocation: each current cost line → one or more (team, service, share)
//! rows, by the first `[[cost.rules]]` entry that matches it.
//!
//! A rule either assigns (a team and/or catalog service, fixed or read from a tag;
//! a service without a team takes its catalog owner) or splits the line among
//! teams: evenly, in proportion to each team's direct cost the same UTC day in the
//! same currency, or by fixed percentages. A line no rule matches goes to the
//! `unallocated` team, in full view. Every output row names the rule and method,
//! so the audit query can show which rule moved how much.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value as Json};

use crate::config::Pattern;
use crate::config::cost::{AllocationRule, SplitMethod};

/// The team of cost no rule matched.
pub const UNALLOCATED: &str = "unallocated";
/// The team of a service the catalog has no owner for.
pub const UNOWNED: &str = "unowned";

/// A cost line, as allocation needs it.
#[derive(Debug, Clone, Default)]
pub struct CostLine {
    /// `x_line_id`.
    pub line_id: String,
    /// UTC day of the charge (days since the epoch).
    pub day: i64,
    /// Billing currency.
    pub currency: String,
    /// EffectiveCost (the weight of proportional splits).
    pub effective_cost: f64,
    /// Provider.
    pub provider: String,
    /// BillingAccountId.
    pub account: String,
    /// SubAccountId.
    pub sub_account: Option<String>,
    /// ResourceId.
    pub resource_id: Option<String>,
    /// FOCUS ServiceName.
    pub cloud_service: Option<String>,
    /// Tags as a JSON object string.
    pub tags: Option<String>,
}

/// One allocation row: a share of a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// `x_line_id`.
    pub line_id: String,
    /// Team.
    pub team: String,
    /// Catalog service, if the rule gave one.
    pub service: Option<String>,
    /// The rule's name (`unallocated` when none matched).
    pub rule: String,
    /// `direct`, `even`, `proportional`, `fixed` or `unallocated`.
    pub method: &'static str,
    /// Fraction of the line.
    pub share: f64,
}

/// Whether no glob is given or one matches `value`.
fn any_match(patterns: &[Pattern], value: Option<&str>) -> bool {
    patterns.is_empty() || value.is_some_and(|v| patterns.iter().any(|p| p.matches(v)))
}

/// A tag value by key, case-insensitively, as text.
fn tag<'t>(tags: &'t Map<String, Json>, key: &str) -> Option<std::borrow::Cow<'t, str>> {
    let (_, v) = tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))?;
    let text = match v {
        Json::String(s) if s.trim().is_empty() => return None,
        Json::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
        Json::Null => return None,
        other => std::borrow::Cow::Owned(other.to_string()),
    };
    Some(text)
}

enum Outcome<'a> {
    Direct {
        team: String,
        service: Option<String>,
    },
    Split(&'a AllocationRule),
}

/// A rule's outcome for a line, if its conditions hold (the globs were compiled
/// when the config loaded).
struct Matcher<'a> {
    rule: &'a AllocationRule,
}

impl<'a> Matcher<'a> {
    fn apply(
        &self,
        line: &CostLine,
        tags: &Map<String, Json>,
        owners: &HashMap<String, String>,
    ) -> Option<Outcome<'a>> {
        let rule = self.rule;
        let accounts_match = rule.accounts.is_empty()
            || any_match(&rule.accounts, Some(&line.account))
            || any_match(&rule.accounts, line.sub_account.as_deref());
        let matches = accounts_match
            && any_match(&rule.resource_ids, line.resource_id.as_deref())
            && any_match(&rule.cloud_services, line.cloud_service.as_deref())
            && any_match(&rule.providers, Some(&line.provider))
            && rule
                .tags
                .iter()
                .all(|(k, p)| tag(tags, k).is_some_and(|v| p.matches(&v)));
        if !matches {
            return None;
        }
        if rule.split.is_some() {
            return Some(Outcome::Split(rule));
        }
        let from_tag = |key: &Option<String>| {
            key.as_deref()
                .and_then(|k| tag(tags, k))
                .map(std::borrow::Cow::into_owned)
        };
        // A rule matches only when it can name a team: fixed, from its tag, or as
        // the catalog owner of the service it found. A missing tag means no match.
        let team = rule.team.clone().or_else(|| from_tag(&rule.team_tag));
        let service = rule.service.clone().or_else(|| from_tag(&rule.service_tag));
        let team = match (team, &service) {
            (Some(t), _) => t,
            (None, Some(s)) => owners.get(s).cloned().unwrap_or_else(|| UNOWNED.into()),
            (None, None) => return None,
        };
        Some(Outcome::Direct { team, service })
    }
}

/// Allocates every line; `owners` maps catalog services to their team.
pub fn allocate(
    lines: &[CostLine],
    rules: &[AllocationRule],
    owners: &HashMap<String, String>,
) -> Vec<Allocation> {
    let compiled: Vec<Matcher> = rules.iter().map(|rule| Matcher { rule }).collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut splits: Vec<(&CostLine, &AllocationRule)> = Vec::new();
    // (day, currency) → team → direct EffectiveCost: the weights of proportional splits.
    let mut direct: HashMap<(i64, &str), BTreeMap<String, f64>> = HashMap::new();
    for line in lines {
        let tags = line
            .tags
            .as_deref()
            .and_then(|t| serde_json::from_str::<Map<String, Json>>(t).ok())
            .unwrap_or_default();
        let outcome = compiled
            .iter()
            .find_map(|c| c.apply(line, &tags, owners).map(|o| (o, &c.rule.name)));
        match outcome {
            Some((Outcome::Direct { team, service }, rule)) => {
                *direct
                    .entry((line.day, line.currency.as_str()))
                    .or_default()
                    .entry(team.clone())
                    .or_default() += line.effective_cost;
                out.push(Allocation {
                    line_id: line.line_id.clone(),
                    team,
                    service,
                    rule: rule.clone(),
                    method: "direct",
                    share: 1.0,
                });
            }
            Some((Outcome::Split(rule), _)) => splits.push((line, rule)),
            None => out.push(unallocated(line, UNALLOCATED.into())),
        }
    }
    for (line, rule) in splits {
        let weights = direct.get(&(line.day, line.currency.as_str()));
        out.extend(split(line, rule, weights));
    }
    out
}

fn unallocated(line: &CostLine, rule: String) -> Allocation {
    Allocation {
        line_id: line.line_id.clone(),
        team: UNALLOCATED.into(),
        service: None,
        rule,
        method: "unallocated",
        share: 1.0,
    }
}

/// Splits one shared line. Targets are the rule's `to` teams, else every team with
/// direct cost that day in that currency; a proportional split whose targets had no
/// positive direct cost that day falls back to even; no targets at all leaves the
/// line unallocated (named after the rule, so the audit shows why).
fn split(
    line: &CostLine,
    rule: &AllocationRule,
    weights: Option<&BTreeMap<String, f64>>,
) -> Vec<Allocation> {
    let method = rule.split.unwrap_or(SplitMethod::Even);
    let shares: Vec<(String, f64)> = match method {
        SplitMethod::Fixed => rule
            .shares
            .iter()
            .map(|(t, pct)| (t.clone(), pct / 100.0))
            .collect(),
        SplitMethod::Even | SplitMethod::Proportional => {
            let targets: Vec<String> = if rule.to.is_empty() {
                weights
                    .map(|w| w.keys().filter(|t| *t != UNALLOCATED).cloned().collect())
                    .unwrap_or_default()
            } else {
                rule.to.clone()
            };
            let weight = |t: &String| {
                weights
                    .and_then(|w| w.get(t))
                    .copied()
                    .unwrap_or(0.0)
                    .max(0.0)
            };
            let total: f64 = targets.iter().map(weight).sum();
            if method == SplitMethod::Proportional && total > 0.0 {
                targets
                    .iter()
                    .map(|t| (t.clone(), weight(t) / total))
                    .collect()
            } else {
                let n = targets.len() as f64;
                targets.into_iter().map(|t| (t, 1.0 / n)).collect()
            }
        }
    };
    if shares.is_empty() {
        return vec![unallocated(line, format!("{} (no target team)", rule.name))];
    }
    shares
        .into_iter()
        .map(|(team, share)| Allocation {
            line_id: line.line_id.clone(),
            team,
            service: None,
            rule: rule.name.clone(),
            method: method.name(),
            share,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, day: i64, cost: f64, tags: &str) -> CostLine {
        CostLine {
            line_id: id.into(),
            day,
            currency: "USD".into(),
            effective_cost: cost,
            provider: "AWS".into(),
            account: "1".into(),
            tags: Some(tags.into()),
            ..CostLine::default()
        }
    }

    #[test]
    fn first_matching_rule_wins_and_the_rest_is_unallocated() {
        let rules = vec![
            AllocationRule {
                name: "prod team".into(),
                tags: BTreeMap::from([("env".into(), Pattern::new("prod").expect("glob"))]),
                team_tag: Some("team".into()),
                ..AllocationRule::default()
            },
            AllocationRule {
                name: "service".into(),
                service_tag: Some("service".into()),
                ..AllocationRule::default()
            },
        ];
        let owners = HashMap::from([("api".to_string(), "core".to_string())]);
        let lines = [
            line(
                "a",
                0,
                10.0,
                r#"{"env":"prod","Team":"pay","service":"api"}"#,
            ),
            line(
                "b",
                0,
                10.0,
                r#"{"env":"dev","team":"pay","service":"api"}"#,
            ),
            line("c", 0, 10.0, r#"{"service":"ghost"}"#),
            line("d", 0, 10.0, r#"{"env":"prod"}"#),
        ];
        let got = allocate(&lines, &rules, &owners);
        let teams: Vec<(&str, &str, &str)> = got
            .iter()
            .map(|a| (a.line_id.as_str(), a.team.as_str(), a.rule.as_str()))
            .collect();
        assert_eq!(
            teams,
            vec![
                ("a", "pay", "prod team"),
                ("b", "core", "service"),
                ("c", UNOWNED, "service"),
                ("d", UNALLOCATED, UNALLOCATED),
            ]
        );
    }

    #[test]
    fn splits_even_proportional_and_fixed() {
        let mut rules = vec![
            AllocationRule {
                name: "team".into(),
                team_tag: Some("team".into()),
                ..AllocationRule::default()
            },
            AllocationRule {
                name: "shared".into(),
                tags: BTreeMap::from([("shared".into(), Pattern::new("*").expect("glob"))]),
                split: Some(SplitMethod::Proportional),
                ..AllocationRule::default()
            },
        ];
        let lines = [
            line("a", 0, 30.0, r#"{"team":"x"}"#),
            line("b", 0, 10.0, r#"{"team":"y"}"#),
            line("s", 0, 100.0, r#"{"shared":"yes"}"#),
            line("t", 1, 100.0, r#"{"shared":"yes"}"#),
        ];
        let shares = |got: &[Allocation], id: &str| -> Vec<(String, f64)> {
            got.iter()
                .filter(|a| a.line_id == id)
                .map(|a| (a.team.clone(), a.share))
                .collect()
        };
        let got = allocate(&lines, &rules, &HashMap::new());
        // 30 : 10 of direct cost on day 0.
        assert_eq!(
            shares(&got, "s"),
            vec![("x".into(), 0.75), ("y".into(), 0.25)]
        );
        // Day 1 has no direct cost: nobody to split to.
        assert_eq!(shares(&got, "t"), vec![(UNALLOCATED.into(), 1.0)]);
        rules[1].split = Some(SplitMethod::Even);
        let got = allocate(&lines, &rules, &HashMap::new());
        assert_eq!(
            shares(&got, "s"),
            vec![("x".into(), 0.5), ("y".into(), 0.5)]
        );
        rules[1].split = Some(SplitMethod::Fixed);
        rules[1].shares = BTreeMap::from([("x".into(), 60.0), ("z".into(), 40.0)]);
        let got = allocate(&lines, &rules, &HashMap::new());
        assert_eq!(
            shares(&got, "t"),
            vec![("x".into(), 0.6), ("z".into(), 0.4)]
        );
    }
}
