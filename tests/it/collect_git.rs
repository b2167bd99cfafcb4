//! The local git collector against a real repository built with the `git` CLI, and
//! checked against git's own answers (`rev-parse`, `rev-list`).
//!
//! The history (all dates UTC unless noted):
//!
//! ```text
//! c1 03-01 09:00 "Initial commit"            ← v1.0.0 (lightweight: commit date)
//! c2 03-02 09:00 "Add api"
//! ├─ f1 03-03 09:00 "Feature work"           (branch feature)
//! ├─ f2 03-04 09:00 "Bump deps"              (author dependabot[bot])
//! c3 03-04 12:00 "Fix typo"                  (authored 03-03 20:00+05:30)
//! m  03-05 09:00 merge --no-ff feature       ← v1.1.0 (annotated, 03-05 12:00+02:00)
//! c4 03-06 09:00 "Break things"              ← v1.2.0 (annotated, 03-06 15:00)
//! r  03-07 09:00 "Revert \"Break things\""   ← v1.2.1 (lightweight): rollback
//! c5 03-08 09:00 "Null check"                ← v1.2.2-hotfix (annotated, 03-08 10:00): hotfix
//!                                            ← nightly (ignored: not v*)
//!                                            ← v-tree (a tree: skipped)
//! e1 03-09 09:00 "Experiment"                (branch experiment only, no tag)
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};
use northstar::collect::delivery::Delivery;
use northstar::collect::git::collect;
use northstar::config::{Config, SourceConfig};
use tempfile::TempDir;

use crate::support::{query, temp_lake};

/// Runs git in `dir` with no user or system config and fixed identities; `date`
/// sets both the author and committer (and so tagger) dates.
fn git(dir: &Path, args: &[&str], date: Option<&str>) -> String {
    let dates = date.map(|d| [("GIT_AUTHOR_DATE", d), ("GIT_COMMITTER_DATE", d)]);
    git_with(dir, args, dates.as_ref().map_or(&[][..], |d| &d[..]))
}

fn git_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Ann Dev")
        .env("GIT_AUTHOR_EMAIL", "ann@example.com")
        .env("GIT_COMMITTER_NAME", "Ann Dev")
        .env("GIT_COMMITTER_EMAIL", "ann@example.com")
        .envs(env.iter().copied());
    // A test run from a git hook must not touch the outer repository.
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

/// Commits a new file named after the message, so that a revert has a change to undo.
fn commit(dir: &Path, message: &str, date: &str) {
    let file = message.to_lowercase().replace(' ', "-") + ".txt";
    std::fs::write(dir.join(&file), message).expect("write file");
    git(dir, &["add", &file], None);
    git(dir, &["commit", "-q", "-m", message], Some(date));
}

/// The repository described in the module docs, in `<tmp>/shop-api.git`.
fn build_repo() -> (TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("shop-api.git");
    std::fs::create_dir(&dir).expect("mkdir");
    let d = dir.as_path();
    git(d, &["init", "-q", "-b", "main"], None);
    commit(d, "Initial commit", "2024-03-01T09:00:00Z");
    git(d, &["tag", "v1.0.0"], None);
    commit(d, "Add api", "2024-03-02T09:00:00Z");
    git(d, &["checkout", "-q", "-b", "feature"], None);
    commit(d, "Feature work", "2024-03-03T09:00:00Z");
    git(
        d,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "Bump deps",
            "--author",
            "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>",
        ],
        Some("2024-03-04T09:00:00Z"),
    );
    git(d, &["checkout", "-q", "main"], None);
    // Authored in India the evening before, committed the next day.
    git_with(
        d,
        &["commit", "-q", "--allow-empty", "-m", "Fix typo"],
        &[
            ("GIT_AUTHOR_DATE", "2024-03-03T20:00:00+05:30"),
            ("GIT_COMMITTER_DATE", "2024-03-04T12:00:00Z"),
        ],
    );
    git(
        d,
        &[
            "merge",
            "-q",
            "--no-ff",
            "feature",
            "-m",
            "Merge branch 'feature'",
        ],
        Some("2024-03-05T09:00:00Z"),
    );
    git(
        d,
        &["tag", "-a", "v1.1.0", "-m", "Release 1.1.0"],
        Some("2024-03-05T12:00:00+02:00"),
    );
    commit(d, "Break things", "2024-03-06T09:00:00Z");
    git(
        d,
        &["tag", "-a", "v1.2.0", "-m", "Release 1.2.0"],
        Some("2024-03-06T15:00:00Z"),
    );
    git(
        d,
        &["revert", "--no-edit", "HEAD"],
        Some("2024-03-07T09:00:00Z"),
    );
    git(d, &["tag", "v1.2.1"], None);
    commit(d, "Null check", "2024-03-08T09:00:00Z");
    git(
        d,
        &["tag", "-a", "v1.2.2-hotfix", "-m", "Hotfix 1.2.2"],
        Some("2024-03-08T10:00:00Z"),
    );
    git(d, &["tag", "nightly"], None);
    git(d, &["tag", "v-tree", "HEAD^{tree}"], None);
    git(d, &["checkout", "-q", "-b", "experiment"], None);
    commit(d, "Experiment", "2024-03-09T09:00:00Z");
    git(d, &["checkout", "-q", "main"], None);
    (tmp, dir)
}

/// A `kind = "git"` source over `path`, parsed like a user's config.
fn source(path: &Path) -> SourceConfig {
    let text = format!(
        "[[sources]]\nkind = \"git\"\nname = \"local\"\npath = {path:?}\ndeploy_tags = \"v*\"\n\
         services = {{ \"shop-api\" = \"shop\" }}\n\
         [sources.rules]\nhotfix_refs = [\"v*-hotfix\"]\n",
        path = path.display().to_string(),
    );
    let mut config = Config::parse(&text, "test").expect("config");
    config.sources.remove(0)
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("date")
}

fn collected(dir: &Path) -> Delivery {
    collect(&source(dir)).expect("collect")
}

#[test]
fn collect_git_tags_become_production_deployments() {
    let (_tmp, dir) = build_repo();
    let delivery = collected(&dir);
    let got: BTreeMap<String, _> = delivery
        .deployments
        .iter()
        .map(|d| {
            let fields = (d.commit_sha.clone(), d.finished_at, d.kind);
            (d.deployment_id.clone(), fields)
        })
        .collect();
    let expected: BTreeMap<String, _> = [
        ("v1.0.0", "2024-03-01T09:00:00Z", "planned"),
        ("v1.1.0", "2024-03-05T10:00:00Z", "planned"),
        ("v1.2.0", "2024-03-06T15:00:00Z", "planned"),
        ("v1.2.1", "2024-03-07T09:00:00Z", "rollback"),
        ("v1.2.2-hotfix", "2024-03-08T10:00:00Z", "hotfix"),
    ]
    .into_iter()
    .map(|(tag, at, kind)| {
        let sha = git(&dir, &["rev-parse", &format!("{tag}^{{commit}}")], None);
        let id = format!("local:shop-api:{tag}");
        (id, (Some(sha), Some(utc(at)), kind))
    })
    .collect();
    assert_eq!(
        got, expected,
        "only v* tags naming commits, nightly and v-tree left out"
    );
    for d in &delivery.deployments {
        assert_eq!(d.source, "local");
        assert_eq!((d.repo.as_str(), d.service.as_str()), ("shop-api", "shop"));
        assert_eq!(d.environment.as_deref(), Some("production"));
        assert_eq!((d.env_tier, d.status), ("production", "success"));
        assert_eq!(d.started_at, d.finished_at);
        assert!(!d.via_platform && d.url.is_none());
    }
    assert!(
        delivery.deployment_commits.is_empty(),
        "derived by the engine"
    );
}

#[test]
fn collect_git_commits_match_rev_list_all() {
    let (_tmp, dir) = build_repo();
    let delivery = collected(&dir);
    let expected: BTreeMap<String, Vec<String>> =
        git(&dir, &["rev-list", "--all", "--parents"], None)
            .lines()
            .map(|line| {
                let mut shas = line.split(' ').map(str::to_string);
                let sha = shas.next().expect("sha");
                (sha, shas.collect())
            })
            .collect();
    let got: BTreeMap<String, Vec<String>> = delivery
        .commits
        .iter()
        .map(|c| (c.commit_sha.clone(), c.parent_shas.clone()))
        .collect();
    assert_eq!(delivery.commits.len(), 10, "no commit twice");
    assert_eq!(got, expected);
    let all: BTreeSet<String> = git(&dir, &["rev-list", "--all"], None)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(got.keys().cloned().collect::<BTreeSet<_>>(), all);

    let by_sha = |rev: &str| {
        let sha = git(&dir, &["rev-parse", rev], None);
        delivery
            .commits
            .iter()
            .find(|c| c.commit_sha == sha)
            .unwrap_or_else(|| panic!("{rev} not collected"))
            .clone()
    };
    let merge = by_sha("v1.1.0^{commit}");
    assert_eq!(
        merge.parent_shas,
        [
            git(&dir, &["rev-parse", "v1.1.0^1"], None),
            git(&dir, &["rev-parse", "feature"], None)
        ]
    );
    let fix = by_sha("v1.1.0^1");
    assert_eq!(fix.authored_at, Some(utc("2024-03-03T14:30:00Z")));
    assert_eq!(fix.committed_at, Some(utc("2024-03-04T12:00:00Z")));
    assert_eq!(fix.author.as_deref(), Some("Ann Dev"));
    assert!(!fix.is_bot);
    let bump = by_sha("feature");
    assert_eq!(bump.author.as_deref(), Some("dependabot[bot]"));
    assert!(bump.is_bot);
    assert!(by_sha("v1.0.0").parent_shas.is_empty());
    assert!(delivery.commits.iter().all(|c| c.repo == "shop-api"));
}

#[tokio::test]
async fn collect_git_shipped_commits_equal_rev_list_between_tags_and_rewrite_nothing() {
    let (_tmp, dir) = build_repo();
    let (_lake_dir, lake) = temp_lake();
    let written = collected(&dir).write(&lake).await.expect("write");
    let counts = [
        written.table("deployments").new,
        written.table("commits").new,
        written.table("deployment_commits").total(),
        written.updated_rows(),
    ];
    assert_eq!(counts, [5, 10, 0, 0], "{written:?}");

    let rows = query(
        &lake,
        "SELECT deployment_id, commit_sha FROM deployment_commits ORDER BY 1, 2",
    )
    .await;
    let mut shipped: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &rows {
        let s = |k: &str| r[k].as_str().expect(k).to_string();
        shipped
            .entry(s("deployment_id"))
            .or_default()
            .insert(s("commit_sha"));
    }
    let tags = ["v1.0.0", "v1.1.0", "v1.2.0", "v1.2.1", "v1.2.2-hotfix"];
    let mut expected = BTreeMap::new();
    for pair in tags.windows(2) {
        let range = format!("{}..{}", pair[0], pair[1]);
        let shas: BTreeSet<String> = git(&dir, &["rev-list", &range], None)
            .lines()
            .map(str::to_string)
            .collect();
        expected.insert(format!("local:shop-api:{}", pair[1]), shas);
    }
    assert_eq!(
        expected["local:shop-api:v1.1.0"].len(),
        5,
        "c2, f1, f2, c3 and the merge"
    );
    // The first deployment ships nothing: its history is not a change.
    assert_eq!(shipped, expected);

    let again = collected(&dir).write(&lake).await.expect("write again");
    assert_eq!(again.new_rows() + again.updated_rows(), 0, "{again:?}");
}

#[test]
fn collect_git_errors_name_the_source_and_path() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let plain = tmp.path().join("not-a-repo");
    std::fs::create_dir(&plain).expect("mkdir");
    let missing = tmp.path().join("missing");
    // A folder inside a clone is not a clone: discovery stops at the configured path.
    let (_repo_tmp, repo) = build_repo();
    let inside = repo.join("sub");
    std::fs::create_dir(&inside).expect("mkdir");
    for (path, why) in [
        (&plain, "not a git repository"),
        (&missing, "No such file"),
        (&inside, "not a git repository"),
    ] {
        let err = collect(&source(path)).expect_err("must fail").to_string();
        let shown = path.canonicalize().unwrap_or(path.clone());
        let shown = shown.display().to_string();
        assert!(err.starts_with("source local:"), "{err}");
        assert!(err.contains(&shown) && err.contains(why), "{err}");
    }
}
