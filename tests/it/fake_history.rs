//! A scenario's commit graph, shared by the fake forges: find commits by name, and
//! answer compares the way git does (`git log base..head`).

use std::collections::BTreeSet;

/// A commit of a scenario's graph; times are hours after the scenario's start.
#[derive(Debug, Clone)]
pub struct FakeCommit {
    /// Name in the scenario (`c1`, `f1`, …).
    pub name: &'static str,
    /// Parent names.
    pub parents: Vec<&'static str>,
    /// Author time.
    pub hours: f64,
    /// Author name.
    pub author: &'static str,
}

/// A commit by name.
pub fn commit<'a>(commits: &'a [FakeCommit], name: &str) -> Option<&'a FakeCommit> {
    commits.iter().find(|c| c.name == name)
}

/// Names of the commits reachable from `from`, itself included.
pub fn reachable(commits: &[FakeCommit], from: &str) -> BTreeSet<&'static str> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&'static str> = commit(commits, from)
        .map(|c| vec![c.name])
        .unwrap_or_default();
    while let Some(n) = stack.pop() {
        if seen.insert(n)
            && let Some(c) = commit(commits, n)
        {
            stack.extend(c.parents.iter().copied());
        }
    }
    seen
}

/// Commits in `head` and not in `base`, oldest first.
pub fn between<'a>(commits: &'a [FakeCommit], base: &str, head: &str) -> Vec<&'a FakeCommit> {
    let not = reachable(commits, base);
    let mut out: Vec<&FakeCommit> = reachable(commits, head)
        .difference(&not)
        .filter_map(|n| commit(commits, n))
        .collect();
    out.sort_by(|x, y| x.hours.total_cmp(&y.hours));
    out
}
