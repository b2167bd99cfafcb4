//! Local git clones as a delivery source (`kind = "git"`): tags matching
//! `deploy_tags` are production deployments, and every commit reachable from any
//! ref is a `commits` row with its parents.
//!
//! What each deployment shipped is not computed here: the engine derives it from
//! the parents (`enrich::commit_graph`), which for a service that only moves forward
//! is exactly `git rev-list <previous tag>..<tag>`.
//!
//! Why the `git` binary and not gix or git2: both add a large crate tree (git2 also
//! a C library) to a build that runs on two cores, for two read-only listings.
//! `git rev-list` is the reference the shipped commits are checked against, and the
//! binary understands every clone it made (shallow, partial, sha256, new ref
//! backends) without us tracking its format changes. The cost is that `git` must be
//! on `PATH`, which any clone on the machine already implies. Output is read through
//! NUL- and unit-separator-delimited plumbing formats, streamed, so neither message
//! text nor history size matters.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};

use crate::collect::delivery::{Commit, Delivery, Deployment};
use crate::collect::rules::{Facts, Rules};
use crate::config::{SourceConfig, SourceKind};
use crate::error::{Error, Result};

/// Inherited variables that would point git at another repository than `-C` names
/// (they are set while a git hook runs, for instance).
const REPOSITORY_ENV: [&str; 6] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_OBJECT_DIRECTORY",
];

/// `for-each-ref` fields, NUL-separated, one tag per line (no field can hold a
/// newline). `*` fields are those of the object an annotated tag points to;
/// `creatordate` is the tagger date of an annotated tag and the committer date of
/// the commit a lightweight tag names.
const TAG_FORMAT: &str = "--format=%(refname:strip=2)%00%(objecttype)%00%(objectname)\
                          %00%(*objecttype)%00%(*objectname)%00%(creatordate:iso-strict)\
                          %00%(contents:subject)";

/// `log` fields, unit-separated; `-z` ends each commit with NUL. The subject goes
/// last so that any separator inside it stays part of it.
const COMMIT_FORMAT: &str = "--format=%H%x1f%P%x1f%aI%x1f%cI%x1f%an%x1f%ae%x1f%s";

/// Reads the clone at `source.path`: tags matching `source.deploy_tags` (glob, default
/// "v*") become production deployments, and every commit reachable from any ref
/// becomes a `commits` row with its parents and dates.
pub fn collect(source: &SourceConfig) -> Result<Delivery> {
    let SourceKind::Git(settings) = &source.kind else {
        return Err(Error::collector(&source.name, "not a git source"));
    };
    let deploy = &settings.deploy_tags;
    let rules = Rules::new(source);
    let git = Git::open(&source.name, &settings.path)?;
    let repo = repo_name(&git.dir).ok_or_else(|| {
        Error::collector(
            &source.name,
            format!("path {}: no repository name", git.dir.display()),
        )
    })?;
    let service = source
        .services
        .get(&repo)
        .cloned()
        .unwrap_or_else(|| repo.clone());

    let mut tags = Vec::new();
    git.stream(&["for-each-ref", TAG_FORMAT, "refs/tags"], b'\n', |line| {
        let tag = parse_tag_line(line)?;
        if !deploy.matches(&tag.name) {
            return Ok(());
        }
        if tag.target_type != "commit" {
            tracing::debug!(source = %source.name, tag = %tag.name, object = %tag.target_type, "Skipped a tag that does not name a commit.");
            return Ok(());
        }
        tags.push(tag);
        Ok(())
    })?;

    // Only the tagged commits' subjects and dates are kept beyond their rows.
    let tagged: HashSet<&str> = tags.iter().map(|t| t.target.as_str()).collect();
    let mut tagged_commits: HashMap<String, (String, DateTime<Utc>)> = HashMap::new();
    let mut commits = Vec::new();
    let log = [
        "log",
        "--all",
        "-z",
        "--no-show-signature",
        "--encoding=UTF-8",
        COMMIT_FORMAT,
    ];
    git.stream(&log, b'\0', |record| {
        let c = parse_commit_record(record)?;
        if tagged.contains(c.sha.as_str()) {
            tagged_commits.insert(c.sha.clone(), (c.subject.clone(), c.committed_at));
        }
        commits.push(c.into_row(&repo));
        Ok(())
    })?;

    let deployments = tags
        .iter()
        .map(|tag| {
            let commit = tagged_commits.get(&tag.target);
            let commit_subject = commit.map_or("", |(s, _)| s.as_str());
            let at = tag.date.or(commit.map(|(_, at)| *at));
            Deployment {
                deployment_id: format!("{}:{}:{}", source.name, repo, tag.name),
                source: source.name.clone(),
                repo: repo.clone(),
                service: service.clone(),
                environment: Some("production".into()),
                env_tier: "production",
                status: "success",
                commit_sha: Some(tag.target.clone()),
                started_at: at,
                finished_at: at,
                kind: kind(&rules, &tag.name, [&tag.subject, commit_subject]),
                via_platform: false,
                url: None,
            }
        })
        .collect();
    Ok(Delivery {
        deployments,
        commits,
        ..Delivery::default()
    })
}

/// The shared rules' kind with the tag as the ref, judged on the tag's subject and
/// then the tagged commit's: a tag on a `Revert "…"` commit is a rollback however
/// the tag itself is worded.
fn kind(rules: &Rules, tag: &str, subjects: [&str; 2]) -> &'static str {
    let judge = |title: &str| {
        rules.kind(&Facts {
            git_ref: Some(tag),
            title: Some(title),
            ..Facts::default()
        })
    };
    subjects
        .into_iter()
        .map(judge)
        .find(|k| *k != "planned")
        .unwrap_or("planned")
}

/// Runs `git -C <clone>` for one source.
struct Git<'a> {
    source: &'a str,
    dir: PathBuf,
}

impl<'a> Git<'a> {
    fn open(source: &'a str, path: &Path) -> Result<Git<'a>> {
        let fail = |reason: String| Error::collector(source, reason);
        let dir = path
            .canonicalize()
            .map_err(|e| fail(format!("path {}: {e}", path.display())))?;
        Ok(Git { source, dir })
    }

    /// `git -C <dir> <args>`. Discovery stops at the clone itself
    /// (`GIT_CEILING_DIRECTORIES`): a folder inside some other repository is not a
    /// clone, and the repository's name comes from this path.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(parent) = self.dir.parent() {
            cmd.env("GIT_CEILING_DIRECTORIES", parent);
        }
        for var in REPOSITORY_ENV {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs git and hands each `separator`-terminated record of its output to `each`
    /// as it arrives. Errors name the command; git's own message comes first when it
    /// failed.
    fn stream(
        &self,
        args: &[&str],
        separator: u8,
        mut each: impl FnMut(&str) -> std::result::Result<(), String>,
    ) -> Result<()> {
        let what = format!("git -C {} {}", self.dir.display(), args[0]);
        let fail = |reason: String| Error::collector(self.source, format!("{what}: {reason}"));
        let mut child = self.command(args).spawn().map_err(|e| {
            fail(match e.kind() {
                std::io::ErrorKind::NotFound => format!("git is not on PATH ({e})"),
                _ => e.to_string(),
            })
        })?;
        // Drained on its own thread so that a chatty stderr cannot stall stdout.
        let stderr = child.stderr.take();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = stderr {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        });
        let parsed = match child.stdout.take() {
            Some(out) => read_records(out, separator, &mut each),
            None => Err("no stdout".into()),
        };
        if parsed.is_err() {
            // Stop reading history we will not use; the error below names why.
            let _ = child.kill();
        }
        let status = child.wait().map_err(|e| fail(e.to_string()))?;
        let stderr = stderr.join().unwrap_or_default();
        if parsed.is_ok() && !status.success() {
            let message = stderr.trim();
            return Err(fail(if message.is_empty() {
                status.to_string()
            } else {
                message.to_string()
            }));
        }
        parsed.map_err(fail)
    }
}

fn read_records(
    out: impl Read,
    separator: u8,
    each: &mut impl FnMut(&str) -> std::result::Result<(), String>,
) -> std::result::Result<(), String> {
    for record in BufReader::new(out).split(separator) {
        let record = record.map_err(|e| format!("reading output: {e}"))?;
        // Names and subjects are not always valid UTF-8 in old histories; shas and
        // dates always are, and they are what is checked.
        let record = String::from_utf8_lossy(&record);
        if !record.is_empty() {
            each(&record)?;
        }
    }
    Ok(())
}

/// The repository's name: the clone folder's name without `.git`, or the folder
/// holding it when the path is a work tree's `.git` folder itself.
fn repo_name(dir: &Path) -> Option<String> {
    let name = dir.file_name()?.to_str()?;
    match name.strip_suffix(".git") {
        Some("") => repo_name(dir.parent()?),
        Some(stem) => Some(stem.to_string()),
        None => Some(name.to_string()),
    }
}

/// One tag from `for-each-ref`.
#[derive(Debug, PartialEq)]
struct TagRef {
    /// The name under `refs/tags/`.
    name: String,
    /// The object the tag finally names, peeled through annotated tags.
    target: String,
    /// `commit`, or `tree`/`blob` for tags that do not name a commit.
    target_type: String,
    /// Tagger date, or the commit's committer date for a lightweight tag; none for
    /// an annotated tag without a tagger (some imported histories).
    date: Option<DateTime<Utc>>,
    /// The tag message's subject (a lightweight tag's is its commit's).
    subject: String,
}

fn parse_tag_line(line: &str) -> std::result::Result<TagRef, String> {
    let fields: Vec<&str> = line.splitn(7, '\0').collect();
    let [
        name,
        object_type,
        object,
        peeled_type,
        peeled,
        date,
        subject,
    ] = fields[..]
    else {
        return Err(format!("expected 7 NUL-separated fields: {line:?}"));
    };
    // An annotated tag's own object is the tag; what it names is the peeled one.
    let (target_type, target) = match object_type {
        "tag" => (peeled_type, peeled),
        _ => (object_type, object),
    };
    if name.is_empty() || target_type.is_empty() || !is_sha(target) {
        return Err(format!("no tag name, object type or object id: {line:?}"));
    }
    let date = match date {
        "" => None,
        d => Some(parse_time(d).map_err(|e| format!("{e}: {line:?}"))?),
    };
    Ok(TagRef {
        name: name.to_string(),
        target: target.to_string(),
        target_type: target_type.to_string(),
        date,
        subject: subject.to_string(),
    })
}

/// One commit from `log`.
#[derive(Debug, PartialEq)]
struct CommitRecord {
    sha: String,
    parents: Vec<String>,
    authored_at: DateTime<Utc>,
    committed_at: DateTime<Utc>,
    author_name: String,
    author_email: String,
    subject: String,
}

fn parse_commit_record(record: &str) -> std::result::Result<CommitRecord, String> {
    // `log -z` may start a record with the newline ending the previous one.
    let record = record.strip_prefix('\n').unwrap_or(record);
    let fields: Vec<&str> = record.splitn(7, '\x1f').collect();
    let [sha, parents, authored, committed, name, email, subject] = fields[..] else {
        return Err(format!("expected 7 fields: {record:?}"));
    };
    let parents: Vec<String> = parents.split_whitespace().map(str::to_string).collect();
    if !is_sha(sha) || !parents.iter().all(|p| is_sha(p)) {
        return Err(format!("bad commit or parent id: {record:?}"));
    }
    let time = |t: &str| parse_time(t).map_err(|e| format!("{e}: {record:?}"));
    Ok(CommitRecord {
        sha: sha.to_string(),
        parents,
        authored_at: time(authored)?,
        committed_at: time(committed)?,
        author_name: name.to_string(),
        author_email: email.to_string(),
        subject: subject.to_string(),
    })
}

impl CommitRecord {
    fn into_row(self, repo: &str) -> Commit {
        let is_bot = is_bot(&self.author_name, &self.author_email);
        let author = [self.author_name, self.author_email]
            .into_iter()
            .find(|s| !s.is_empty());
        Commit {
            repo: repo.to_string(),
            commit_sha: self.sha,
            parent_shas: self.parents,
            authored_at: Some(self.authored_at),
            committed_at: Some(self.committed_at),
            author,
            is_bot,
        }
    }
}

/// A deliberately simple rule: GitHub Apps commit as `name[bot]` from
/// `…[bot]@users.noreply.github.com`, and older bot accounts use addresses like
/// `renovatebot@…`. Anything subtler belongs to the services catalog, not here.
fn is_bot(name: &str, email: &str) -> bool {
    let email = email.to_ascii_lowercase();
    name.to_ascii_lowercase().contains("[bot]")
        || email.contains("[bot]")
        || email
            .split_once('@')
            .is_some_and(|(local, _)| local.ends_with("bot"))
}

/// A full object id: SHA-1 (40 hex digits) or SHA-256 (64).
fn is_sha(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// git's `iso-strict` dates: RFC 3339 with the author's offset, or `Z`.
fn parse_time(s: &str) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("bad date {s:?} ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "2855d07888697cafa3e9718af2fc8e8d811c74ed";
    const B: &str = "3480aeb3aae2c7b6a68a4204662dc5862f8e2bf8";
    const T: &str = "dd189aece553cc8fa5bff6d51db43b42205da58a";

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn lightweight_and_annotated_tags_name_their_commit() {
        let light = format!("v1\0commit\0{A}\0\0\02024-03-01T09:00:00Z\0first");
        let tag = parse_tag_line(&light).unwrap();
        assert_eq!((tag.name.as_str(), tag.target.as_str()), ("v1", A));
        assert_eq!(tag.date, Some(utc("2024-03-01T09:00:00Z")));

        let annotated = format!("v2\0tag\0{T}\0commit\0{B}\02024-03-05T12:00:00+02:00\0Release 2");
        let tag = parse_tag_line(&annotated).unwrap();
        assert_eq!(
            (tag.target.as_str(), tag.target_type.as_str()),
            (B, "commit")
        );
        assert_eq!(tag.date, Some(utc("2024-03-05T10:00:00Z")));
        assert_eq!(tag.subject, "Release 2");

        let untagged = format!("old\0tag\0{T}\0commit\0{B}\0\0Imported");
        assert_eq!(parse_tag_line(&untagged).unwrap().date, None);
        let tree = format!("t\0tree\0{A}\0\0\0\0");
        assert_eq!(parse_tag_line(&tree).unwrap().target_type, "tree");
    }

    #[test]
    fn malformed_tag_lines_are_named_in_the_error() {
        for bad in [
            "v1\0commit".to_string(),
            "v1\0commit\0nothex\0\0\0\0s".to_string(),
            format!("v1\0commit\0{A}\0\0\0yesterday\0s"),
        ] {
            let err = parse_tag_line(&bad).unwrap_err();
            assert!(err.contains("v1"), "{err}");
        }
    }

    #[test]
    fn commit_records_keep_parents_dates_and_separators_in_subjects() {
        let record = format!(
            "\n{B}\x1f{A} {T}\x1f2024-03-03T20:00:00+05:30\x1f2024-03-04T00:00:00Z\x1fAnn\x1fann@x\x1fMerge\x1fa b"
        );
        let c = parse_commit_record(&record).unwrap();
        assert_eq!(c.parents, [A, T]);
        assert_eq!(c.authored_at, utc("2024-03-03T14:30:00Z"));
        assert_eq!(c.committed_at, utc("2024-03-04T00:00:00Z"));
        assert_eq!(c.subject, "Merge\x1fa b");

        let root =
            format!("{A}\x1f\x1f2024-03-01T09:00:00Z\x1f2024-03-01T09:00:00Z\x1f\x1fbot@x\x1f");
        let row = parse_commit_record(&root).unwrap().into_row("api");
        assert!(row.parent_shas.is_empty());
        assert_eq!(row.author.as_deref(), Some("bot@x"), "email when no name");
        assert!(row.is_bot);

        let err = parse_commit_record(&format!("{A}\x1fzz\x1fx")).unwrap_err();
        assert!(err.contains(A), "{err}");
        assert!(parse_commit_record(&root.replace("2024-03-01T09", "03/01/2024 09")).is_err());
    }

    #[test]
    fn bots_are_recognised_by_simple_marks_only() {
        assert!(is_bot(
            "dependabot[bot]",
            "49699333+dependabot[bot]@users.noreply.github.com"
        ));
        assert!(is_bot("Renovate", "renovatebot@example.com"));
        assert!(!is_bot("Abbot Lee", "lee@example.com"));
        assert!(!is_bot("Ann", "ann@bot.example.com"));
    }

    #[test]
    fn repo_names_drop_git_suffixes() {
        assert_eq!(
            repo_name(Path::new("/src/shop-api")).as_deref(),
            Some("shop-api")
        );
        assert_eq!(
            repo_name(Path::new("/srv/shop-api.git")).as_deref(),
            Some("shop-api")
        );
        assert_eq!(
            repo_name(Path::new("/src/shop-api/.git")).as_deref(),
            Some("shop-api")
        );
        assert_eq!(repo_name(Path::new("/")), None);
    }

    #[test]
    fn kinds_read_the_tag_name_then_either_subject() {
        let text = "[[sources]]\nkind='git'\nname='g'\npath='.'\n\
                    [sources.rules]\nhotfix_refs=['v*-hotfix']\n";
        let config = crate::config::Config::parse(text, "t").unwrap();
        let rules = Rules::new(&config.sources[0]);
        assert_eq!(kind(&rules, "v1.0.0", ["Release", "Add api"]), "planned");
        assert_eq!(kind(&rules, "v1.0.1-hotfix", ["", "Fix"]), "hotfix");
        assert_eq!(
            kind(&rules, "v1.0.2", ["Rollback to 1.0.0", "x"]),
            "rollback"
        );
        assert_eq!(
            kind(&rules, "v1.0.3", ["Release", "Revert \"Add\""]),
            "rollback"
        );
        // The shared rules put the ref first.
        assert_eq!(
            kind(&rules, "v1.0.4-hotfix", ["", "Revert \"Add\""]),
            "hotfix"
        );
    }

    #[test]
    fn bad_globs_are_config_errors_at_load() {
        let text = "[[sources]]\nkind='git'\nname='g'\npath='.'\ndeploy_tags='v[*'\n";
        let err = crate::config::Config::parse(text, "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sources.g.deploy_tags"), "{err}");
    }
}
