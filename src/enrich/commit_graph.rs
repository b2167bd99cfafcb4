//! Which commits each production deployment shipped, from the commit graph.
//!
//! Per service, deployments are walked in finish order and each one claims the
//! commits reachable from its sha that no earlier deployment of the service reached.
//! For a service that only moves forward this is exactly `git rev-list new ^old`;
//! after a rollback it differs on purpose: commits that already reached production
//! once are not counted again when they are redeployed (ARCHITECTURE.md explains).
//! The walk is memoised through a per-service "reached" mark, so every commit is
//! visited once per service however many deployments there are.
//!
//! The graph is built for tens of millions of commits: a git sha is kept as its 20
//! bytes (any other id as its text), the index holds node numbers only (the shas
//! live once, in node order), and parents are one flat array of node numbers. Ten
//! million commits take about half a GiB, against several GiB as strings.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// A commit id as the graph keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sha {
    /// A 40-digit lower-case hexadecimal git sha, as its bytes.
    Hex([u8; 20]),
    /// Any other id, as given.
    Text(Box<str>),
}

/// A commit id as looked up: [`Sha`] without the allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum ShaRef<'a> {
    Hex([u8; 20]),
    Text(&'a str),
}

impl<'a> ShaRef<'a> {
    /// Lower-case hex of 40 digits is stored as bytes; anything else (upper case
    /// included, so the text round-trips exactly) as text.
    fn parse(sha: &'a str) -> ShaRef<'a> {
        let digits = sha.as_bytes();
        if digits.len() != 40 {
            return ShaRef::Text(sha);
        }
        let mut bytes = [0u8; 20];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(hi), Some(lo)) => *byte = hi << 4 | lo,
                _ => return ShaRef::Text(sha),
            }
        }
        ShaRef::Hex(bytes)
    }

    fn owned(self) -> Sha {
        match self {
            ShaRef::Hex(bytes) => Sha::Hex(bytes),
            ShaRef::Text(text) => Sha::Text(text.into()),
        }
    }
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

impl Sha {
    fn as_ref(&self) -> ShaRef<'_> {
        match self {
            Sha::Hex(bytes) => ShaRef::Hex(*bytes),
            Sha::Text(text) => ShaRef::Text(text),
        }
    }
}

/// The shas of a graph's nodes, by node number: what is left of a graph once
/// its walk is done and only the results need writing out.
#[derive(Debug, Default)]
pub struct Shas(Vec<Sha>);

impl Shas {
    /// The sha of `node`, written into `buf` when it has to be spelled out.
    pub fn text<'a>(&'a self, node: u32, buf: &'a mut [u8; 40]) -> &'a str {
        match &self.0[node as usize] {
            Sha::Text(text) => text,
            Sha::Hex(bytes) => {
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                for (pair, byte) in buf.chunks_exact_mut(2).zip(bytes) {
                    pair[0] = DIGITS[usize::from(byte >> 4)];
                    pair[1] = DIGITS[usize::from(byte & 0xf)];
                }
                // Only ASCII hex digits were written.
                std::str::from_utf8(buf).unwrap_or_default()
            }
        }
    }

    /// The sha of `node` as an owned string.
    pub fn to_string(&self, node: u32) -> String {
        let mut buf = [0u8; 40];
        self.text(node, &mut buf).to_string()
    }
}

/// Builds a [`CommitGraph`] one commit at a time, as the rows stream in.
#[derive(Default)]
pub struct GraphBuilder {
    hasher: DefaultHashBuilder,
    index: HashTable<u32>,
    shas: Vec<Sha>,
    /// Per node, the last row that gave its parents (a later row replaces them).
    last_row: Vec<u32>,
    /// `(child, row, parent)`, parents in the order given.
    edges: Vec<(u32, u32, u32)>,
    rows: u32,
}

impl GraphBuilder {
    /// Adds a commit and its parents. Parents never seen as commits become nodes
    /// without parents (history cut off by the collector); a commit given twice
    /// keeps the parents of its last row.
    pub fn add<'a>(&mut self, sha: &str, parents: impl IntoIterator<Item = &'a str>) {
        self.rows += 1;
        let row = self.rows;
        let node = self.node(sha);
        self.last_row[node as usize] = row;
        for parent in parents {
            let parent = self.node(parent);
            self.edges.push((node, row, parent));
        }
    }

    fn node(&mut self, sha: &str) -> u32 {
        let key = ShaRef::parse(sha);
        let hash = self.hasher.hash_one(key);
        let shas = &self.shas;
        if let Some(&n) = self.index.find(hash, |&n| shas[n as usize].as_ref() == key) {
            return n;
        }
        let n = u32::try_from(self.shas.len()).unwrap_or(u32::MAX);
        let hasher = &self.hasher;
        self.index
            .insert_unique(hash, n, |&m| hasher.hash_one(shas[m as usize].as_ref()));
        self.shas.push(key.owned());
        self.last_row.push(0);
        n
    }

    /// The graph: parents laid out flat, by node.
    pub fn finish(mut self) -> CommitGraph {
        // Stable: parents keep their order within a row.
        self.edges.sort_by_key(|&(child, row, _)| (child, row));
        let mut parent_start = Vec::with_capacity(self.shas.len() + 1);
        let mut parents = Vec::with_capacity(self.edges.len());
        let mut edges = self.edges.iter().peekable();
        for (node, &last) in self.last_row.iter().enumerate() {
            parent_start.push(parents.len() as u64);
            while let Some(&&(child, row, parent)) = edges.peek() {
                if child as usize != node {
                    break;
                }
                if row == last {
                    parents.push(parent);
                }
                edges.next();
            }
        }
        parent_start.push(parents.len() as u64);
        CommitGraph {
            hasher: self.hasher,
            index: self.index,
            shas: Shas(self.shas),
            parent_start,
            parents,
        }
    }
}

/// The commit graph, nodes numbered densely.
pub struct CommitGraph {
    hasher: DefaultHashBuilder,
    index: HashTable<u32>,
    shas: Shas,
    parent_start: Vec<u64>,
    parents: Vec<u32>,
}

impl Default for CommitGraph {
    fn default() -> Self {
        GraphBuilder::default().finish()
    }
}

impl CommitGraph {
    /// Builds the graph from `(sha, parent shas)` pairs (see [`GraphBuilder::add`]).
    pub fn new<'a>(commits: impl IntoIterator<Item = (&'a str, &'a [String])>) -> Self {
        let mut builder = GraphBuilder::default();
        for (sha, parents) in commits {
            builder.add(sha, parents.iter().map(String::as_str));
        }
        builder.finish()
    }

    /// Node number of a sha, if the graph knows it.
    pub fn lookup(&self, sha: &str) -> Option<u32> {
        let key = ShaRef::parse(sha);
        let hash = self.hasher.hash_one(key);
        self.index
            .find(hash, |&n| self.shas.0[n as usize].as_ref() == key)
            .copied()
    }

    /// The shas by node; see [`CommitGraph::into_shas`] to keep only them.
    pub fn shas(&self) -> &Shas {
        &self.shas
    }

    /// The shas by node, the index and parents dropped.
    pub fn into_shas(self) -> Shas {
        self.shas
    }

    fn parents(&self, node: u32) -> &[u32] {
        let n = node as usize;
        // Offsets were pushed from `parents.len()`, so they fit in usize.
        let (start, end) = (
            self.parent_start[n] as usize,
            self.parent_start[n + 1] as usize,
        );
        &self.parents[start..end]
    }

    /// Number of commits in the graph.
    pub fn len(&self) -> usize {
        self.shas.0.len()
    }

    /// Whether the graph is empty.
    pub fn is_empty(&self) -> bool {
        self.shas.0.is_empty()
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

    /// The commits reachable from node `start` that no earlier call for this
    /// service reached, in walk order.
    pub fn advance(&mut self, start: u32) -> Vec<u32> {
        let mut newly = Vec::new();
        self.stack.push(start);
        while let Some(node) = self.stack.pop() {
            let mark = &mut self.marks[node as usize];
            if *mark == self.epoch {
                continue;
            }
            *mark = self.epoch;
            newly.push(node);
            self.stack.extend(self.graph.parents(node).iter().copied());
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
        let mut v: Vec<String> = nodes.into_iter().map(|n| g.shas().to_string(n)).collect();
        v.sort();
        v
    }

    fn advance(g: &CommitGraph, walk: &mut GraphWalker, sha: &str) -> Vec<String> {
        match g.lookup(sha) {
            Some(node) => shas(g, walk.advance(node)),
            None => Vec::new(),
        }
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
        assert_eq!(advance(&g, &mut walk, "a2"), ["a1", "a2"]);
        // rev-list a4 ^a2 = a4 a3 b1
        assert_eq!(advance(&g, &mut walk, "a4"), ["a3", "a4", "b1"]);
        // redeploying the same sha ships nothing
        assert!(advance(&g, &mut walk, "a4").is_empty());
        assert!(advance(&g, &mut walk, "unknown").is_empty());
        // Another service starts from nothing.
        walk.next_service();
        assert_eq!(advance(&g, &mut walk, "a2"), ["a1", "a2"]);
    }

    #[test]
    fn git_shas_round_trip_and_other_ids_stay_as_given() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        let upper = "0123456789ABCDEF0123456789ABCDEF01234567";
        let g = graph(&[(hex, &[upper]), (upper, &["short"]), ("short", &[])]);
        assert_eq!(g.len(), 3);
        let mut walk = GraphWalker::new(&g);
        walk.next_service();
        assert_eq!(advance(&g, &mut walk, hex), [upper, hex, "short"]);
        assert!(matches!(g.shas.0[0], Sha::Hex(_)));
        assert!(matches!(g.shas.0[1], Sha::Text(_)));
    }

    #[test]
    fn a_commit_given_twice_keeps_its_last_parents() {
        let g = graph(&[("c", &["a"]), ("a", &[]), ("b", &[]), ("c", &["b"])]);
        let mut walk = GraphWalker::new(&g);
        walk.next_service();
        assert_eq!(advance(&g, &mut walk, "c"), ["b", "c"]);
    }
}
