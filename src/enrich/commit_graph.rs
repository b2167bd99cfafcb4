//! Which commits each production deployment shipped, from the commit graph.
//!
//! Per service, deployments are walked in finish order and each one claims the
//! commits reachable from its sha that no earlier deployment of the service reached.
//! For a service that only moves forward this is exactly `git rev-list new ^old`;
//! after a rollback it differs on purpose: commits that already reached production
//! once are not counted again when they are redeployed (ARCHITECTURE.md explains).
//! The walk is memoised through a per-service "reached" mark, so every commit is
//! visited once per service however many deployments there are.

use std::collections::HashMap;

/// The commit graph, nodes numbered densely.
pub struct CommitGraph {
    index: HashMap<String, u32>,
    shas: Vec<String>,
    parents: Vec<Vec<u32>>,
}

impl CommitGraph {
    /// Builds the graph from `(sha, parent shas)` pairs. Parents never seen as commits
    /// become nodes without parents (history cut off by the collector).
    pub fn new<'a>(commits: impl IntoIterator<Item = (&'a str, &'a [String])>) -> Self {
        let mut graph = CommitGraph {
            index: HashMap::new(),
            shas: Vec::new(),
            parents: Vec::new(),
        };
        for (sha, parents) in commits {
            let node = graph.node(sha);
            let parent_nodes: Vec<u32> = parents.iter().map(|p| graph.node(p)).collect();
            graph.parents[node as usize] = parent_nodes;
        }
        graph
    }

    fn node(&mut self, sha: &str) -> u32 {
        if let Some(&n) = self.index.get(sha) {
            return n;
        }
        let n = self.shas.len() as u32;
        self.index.insert(sha.to_string(), n);
        self.shas.push(sha.to_string());
        self.parents.push(Vec::new());
        n
    }

    /// Node number of a sha, if the graph knows it.
    pub fn lookup(&self, sha: &str) -> Option<u32> {
        self.index.get(sha).copied()
    }

    /// The sha of a node.
    pub fn sha(&self, node: u32) -> &str {
        &self.shas[node as usize]
    }

    /// Number of commits in the graph.
    pub fn len(&self) -> usize {
        self.shas.len()
    }

    /// Whether the graph is empty.
    pub fn is_empty(&self) -> bool {
        self.shas.is_empty()
    }
}

/// Walks one service's deployments in order, remembering what was reached.
///
/// The "reached" marks are epoch stamps shared by all services: starting the next
/// service is O(1) instead of clearing a bitmap the size of the whole graph.
pub struct GraphWalker<'g> {
    graph: &'g CommitGraph,
    marks: Vec<u32>,
    epoch: u32,
    stack: Vec<u32>,
}

impl<'g> GraphWalker<'g> {
    /// A walker over `graph`; call [`GraphWalker::next_service`] before each service.
    pub fn new(graph: &'g CommitGraph) -> Self {
        GraphWalker {
            graph,
            marks: vec![0; graph.len()],
            epoch: 0,
            stack: Vec::new(),
        }
    }

    /// Forgets everything reached so far: the next service starts from nothing.
    pub fn next_service(&mut self) {
        self.epoch += 1;
    }

    /// The commits reachable from `sha` that no earlier call for this service
    /// reached, in walk order. An unknown sha reaches nothing.
    pub fn advance(&mut self, sha: &str) -> Vec<u32> {
        let mut newly = Vec::new();
        let Some(start) = self.graph.lookup(sha) else {
            return newly;
        };
        self.stack.push(start);
        while let Some(node) = self.stack.pop() {
            let mark = &mut self.marks[node as usize];
            if *mark == self.epoch {
                continue;
            }
            *mark = self.epoch;
            newly.push(node);
            self.stack
                .extend(self.graph.parents[node as usize].iter().copied());
        }
        newly
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> CommitGraph {
        let owned: Vec<(String, Vec<String>)> = edges
            .iter()
            .map(|(s, ps)| (s.to_string(), ps.iter().map(|p| p.to_string()).collect()))
            .collect();
        CommitGraph::new(owned.iter().map(|(s, p)| (s.as_str(), p.as_slice())))
    }

    fn shas(g: &CommitGraph, nodes: Vec<u32>) -> Vec<String> {
        let mut v: Vec<String> = nodes.into_iter().map(|n| g.sha(n).to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn forward_walk_matches_rev_list() {
        // a1 <- a2 <- a3 (merge of a2 and b1) ; b1 <- ... branch from a1
        let g = graph(&[
            ("a1", &[]),
            ("a2", &["a1"]),
            ("b1", &["a1"]),
            ("a3", &["a2", "b1"]),
            ("a4", &["a3"]),
        ]);
        let mut walk = GraphWalker::new(&g);
        walk.next_service();
        assert_eq!(shas(&g, walk.advance("a2")), ["a1", "a2"]);
        // rev-list a4 ^a2 = a4 a3 b1
        assert_eq!(shas(&g, walk.advance("a4")), ["a3", "a4", "b1"]);
        // redeploying the same sha ships nothing
        assert!(walk.advance("a4").is_empty());
        assert!(walk.advance("unknown").is_empty());
        // Another service starts from nothing.
        walk.next_service();
        assert_eq!(shas(&g, walk.advance("a2")), ["a1", "a2"]);
    }
}
