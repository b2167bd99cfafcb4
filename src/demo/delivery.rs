//! Deployments, commits (with parents and pull requests) and incidents, replayed
//! per service in time order.

use super::catalog::{Profile, Svc, TEAMS};
use super::clock::{Clock, DAY, HOUR, MIN, SEC};
use super::random::Rng;
use super::replay::{Delivery, Incident, PullRequest, Replay};
use crate::error::Result;
use crate::lake::batch::Value;

pub(crate) const PROD: &str = "production";

#[rustfmt::skip]
pub(crate) const AUTHORS: [&str; 40] = [
    "Ada Moreau", "Ben Okafor", "Chen Wei", "Dana Levi", "Elif Kaya", "Farid Haddad",
    "Grace Kim", "Hugo Lenoir", "Ines Duarte", "Jonas Berg", "Kavya Rao", "Liam Walsh",
    "Maya Cohen", "Nico Rossi", "Olga Petrova", "Pablo Ruiz", "Quinn Taylor", "Rosa Jimenez",
    "Sam Park", "Tara Singh", "Umar Sheikh", "Vera Novak", "Wen Li", "Xavier Dubois",
    "Yara Haddad", "Zoe Martin", "Arjun Mehta", "Bea Schmidt", "Carlos Silva", "Dmitri Ivanov",
    "Emma Larsen", "Femi Adeyemi", "Gina Russo", "Hiro Tanaka", "Isla Brown", "Jamal Wright",
    "Kira Sato", "Leo Fischer", "Mina Ahmadi", "Noah Evans",
];
pub(crate) const BOTS: [&str; 2] = ["dependabot[bot]", "renovate[bot]"];

pub(crate) const SEVERITIES: [(&str, f64); 4] =
    [("sev1", 0.05), ("sev2", 0.2), ("sev3", 0.45), ("sev4", 0.3)];
pub(crate) const TITLES: [&str; 6] = [
    "Elevated error rate",
    "Latency above SLO",
    "Failed health checks",
    "Error budget burn",
    "Partial outage",
    "Queue backlog growing",
];

/// The pull request a commit arrived through.
pub(super) struct Pr {
    pub(super) id: String,
    pub(super) created: i64,
    pub(super) merged: i64,
}

/// What an event on a service's timeline does.
pub(super) enum Kind {
    Planned,
    Hotfix,
    /// Redeploys this (previously live) sha.
    Rollback(String),
}

/// Per-service delivery state while its timeline is replayed in time order.
pub(crate) struct Lane<'a, 's> {
    pub(super) rng: &'a mut Rng,
    pub(super) out: &'a mut Replay<'s>,
    pub(super) svc: &'a Svc,
    pub(super) team: Profile,
    pub(super) clock: &'a Clock,
    pub(super) repo: String,
    /// Newest main-line commit and when it was merged.
    pub(super) head: String,
    pub(super) head_at: i64,
    /// Sha of the latest successful production deployment.
    pub(super) live: Option<String>,
    pub(super) prs: u64,
    /// Hotfixes and rollbacks scheduled by earlier events: (start, kind).
    pub(super) pending: Vec<(i64, Kind)>,
    pub(super) prod_finishes: Vec<i64>,
}

/// Deployments, commits and incidents of every service, in memory (the demo).
pub(super) fn delivery(rng: &mut Rng, svcs: &[Svc], clock: &Clock) -> Result<Delivery> {
    let mut out = Delivery::new()?;
    let mut replay = Replay::new(&mut out, "demo");
    for svc in svcs {
        Lane::new(rng, &mut replay, svc, clock).replay();
        replay.sink.check()?;
    }
    Ok(out)
}

impl<'a, 's> Lane<'a, 's> {
    /// Starts the repo with a root commit (no parents) at the service's birth.
    pub(crate) fn new(
        rng: &'a mut Rng,
        out: &'a mut Replay<'s>,
        svc: &'a Svc,
        clock: &'a Clock,
    ) -> Self {
        let (head, head_at) = (out.next_sha(), svc.created_at);
        let (repo, team) = (format!("acme/{}", svc.name), svc.profile);
        let (live, prs, pending, prod_finishes) = (None, 0, Vec::new(), Vec::new());
        let mut lane = Lane {
            rng,
            out,
            svc,
            team,
            clock,
            repo,
            head: head.clone(),
            head_at,
            live,
            prs,
            pending,
            prod_finishes,
        };
        let author = lane.author();
        lane.commit(&head, Vec::new(), (head_at, head_at), &author, None);
        lane
    }

    /// Replays planned deployments and the hotfixes and rollbacks they trigger.
    pub(crate) fn replay(mut self) {
        let planned = self.planned_starts();
        let mut next = 0;
        while let Some((start, kind)) = self.next_event(&planned, &mut next) {
            let upcoming = planned.get(next).copied().unwrap_or(self.clock.end);
            match kind {
                Kind::Planned => self.planned(start, upcoming),
                Kind::Hotfix => {
                    self.ship(1, start - 5 * MIN, true);
                    let (sha, finish) = (
                        self.head.clone(),
                        start + self.rng.between(3 * MIN, 12 * MIN),
                    );
                    self.deploy((PROD, "success", "hotfix"), &sha, (start, finish));
                }
                Kind::Rollback(sha) => {
                    let finish = start + self.rng.between(2 * MIN, 8 * MIN);
                    self.deploy((PROD, "success", "rollback"), &sha, (start, finish));
                }
            }
        }
        if self.team.rate < 0.1 {
            self.unrelated_incident();
        }
    }

    /// Production deployment starts: Poisson per weekday at the team's rate, rare
    /// weekends, business hours UTC. A new service deploys first 3–20 days after birth.
    fn planned_starts(&mut self) -> Vec<i64> {
        let (clock, rate, mut out) = (self.clock, self.team.rate, Vec::new());
        let mut first_day = 0;
        if self.svc.new {
            first_day = (self.svc.created_at - clock.start) / DAY + self.rng.between(3, 21);
            out.push(clock.day(first_day) + self.rng.between(10 * HOUR, 16 * HOUR));
            first_day += 1;
        }
        for day in first_day..clock.days {
            let lambda = if clock.is_weekend(day) {
                rate * 0.03
            } else {
                rate
            };
            let n = self.rng.poisson(lambda);
            let mut times: Vec<i64> = (0..n)
                .map(|_| clock.day(day) + self.rng.between(8 * HOUR, 17 * HOUR + 30 * MIN))
                .collect();
            times.sort_unstable();
            out.extend(times);
        }
        out.retain(|&t| t < clock.end);
        out
    }

    /// The earliest of the next planned deployment and the pending events.
    fn next_event(&mut self, planned: &[i64], next: &mut usize) -> Option<(i64, Kind)> {
        let soonest = self
            .pending
            .iter()
            .enumerate()
            .min_by_key(|(_, e)| e.0)
            .map(|(i, e)| (i, e.0));
        match (soonest, planned.get(*next)) {
            (Some((i, s)), Some(&p)) if s <= p => Some(self.pending.swap_remove(i)),
            (Some((i, _)), None) => Some(self.pending.swap_remove(i)),
            (_, Some(&p)) => {
                *next += 1;
                Some((p, Kind::Planned))
            }
            (None, None) => None,
        }
    }

    /// A planned release: new commits, sometimes staging first, sometimes a failed
    /// run; a successful one may cause an incident or be rolled back.
    fn planned(&mut self, start: i64, upcoming: i64) {
        let staging = start - self.rng.between(30 * MIN, 2 * HOUR);
        let staging =
            Some(staging).filter(|s| self.rng.chance(0.35) && s - 10 * MIN > self.head_at);
        let k = self.rng.between(1, self.team.batch + 1);
        let shipped = self.ship(k, staging.unwrap_or(start) - 5 * MIN, false);
        let sha = self.head.clone();
        if let Some(s) = staging {
            let status = if self.rng.chance(0.03) {
                "failure"
            } else {
                "success"
            };
            let finish = s + self.rng.between(3 * MIN, 15 * MIN);
            self.deploy(("staging", status, "planned"), &sha, (s, finish));
        }
        if self.rng.chance(0.05) {
            let finish = start + self.rng.between(2 * MIN, 10 * MIN);
            self.deploy((PROD, "failure", "planned"), &sha, (start, finish));
            return;
        }
        let before = self.live.clone();
        let finish = start + self.rng.between(3 * MIN, 25 * MIN);
        let id = self.deploy((PROD, "success", "planned"), &sha, (start, finish));
        if self.rng.chance(self.team.incident_rate) {
            self.caused_incident((&id, &shipped), finish, upcoming);
        } else if let Some(previous) = before.filter(|_| self.rng.chance(0.012)) {
            let at = finish + self.rng.between(10 * MIN, HOUR);
            // Only when nothing else deploys first: the rollback replaces this one.
            if at < upcoming.min(self.clock.end - HOUR) {
                self.pending.push((at, Kind::Rollback(previous)));
            }
        }
    }

    /// Appends a deployment row; `labels` is (env tier, status, kind), `span` is
    /// (started, finished). A successful production one becomes the live sha.
    fn deploy(&mut self, labels: (&str, &str, &str), sha: &str, span: (i64, i64)) -> String {
        let (tier, status, kind) = labels;
        let environment = if tier == PROD { PROD } else { "staging" };
        self.deployment_row((environment, tier, status, kind), sha, span)
    }

    /// Appends a deployment row to `environment`; `labels` is (environment, env
    /// tier, status, kind). Returns the deployment id.
    fn deployment_row(
        &mut self,
        labels: (&str, &str, &str, &str),
        sha: &str,
        span: (i64, i64),
    ) -> String {
        let (environment, tier, status, kind) = labels;
        let n = self.out.next_deployment();
        let id = format!("{}:deploy:{n:06}", self.out.source);
        let adoption = 0.6 + 0.38 * self.clock.progress(span.0);
        let via = self
            .rng
            .chance(if self.svc.on_platform { adoption } else { 0.05 });
        if tier == PROD {
            self.prod_finishes.push(span.1);
            if status == "success" {
                self.live = Some(sha.to_string());
            }
        }
        let url = format!("https://deploy.acme.example/{}/{n}", self.svc.name);
        self.out.sink.deployment([
            ("deployment_id", Value::text(&id)),
            ("source", Value::text(self.out.source)),
            ("repo", Value::text(&self.repo)),
            ("service", Value::text(&self.svc.name)),
            ("environment", Value::text(environment)),
            ("env_tier", Value::text(tier)),
            ("status", Value::text(status)),
            ("commit_sha", Value::text(sha)),
            ("started_at", Value::Timestamp(span.0)),
            ("finished_at", Value::Timestamp(span.1)),
            ("kind", Value::text(kind)),
            ("via_platform", Value::Bool(via)),
            ("url", Value::Text(url)),
        ]);
        id
    }

    /// Appends `k` main-line commits merged before `cutoff`; returns their shas.
    fn ship(&mut self, k: i64, cutoff: i64, hotfix: bool) -> Vec<String> {
        let lo = self
            .head_at
            .max(cutoff - if hotfix { HOUR } else { 21 * DAY });
        let mut times: Vec<i64> = (0..k).map(|_| self.rng.between(lo, cutoff)).collect();
        times.sort_unstable();
        times
            .into_iter()
            .map(|t| self.main_commit(t.max(self.head_at + SEC), hotfix))
            .collect()
    }

    /// One main-line commit: a direct push, a squash-merged PR, or a merge commit
    /// whose second parent is a short branch forked from the previous head.
    fn main_commit(&mut self, merged: i64, hotfix: bool) -> String {
        let style = if hotfix { 0.9 } else { self.rng.unit() };
        let bot = !hotfix && self.rng.chance(0.05);
        let author = if bot {
            BOTS[self.rng.index(BOTS.len())].to_string()
        } else {
            self.author()
        };
        let sha = self.out.next_sha();
        let mut parents = vec![self.head.clone()];
        if style < 0.15 && !bot {
            let authored = merged - self.rng.between(MIN, 2 * HOUR);
            self.commit(&sha, parents, (authored, merged), &author, None);
        } else {
            let review = if hotfix {
                self.rng.between(5 * MIN, 30 * MIN)
            } else {
                self.review()
            };
            self.prs += 1;
            let pr = Pr {
                id: format!("{}:{}#{}", self.out.source, self.repo, self.prs),
                created: merged - review,
                merged,
            };
            let mut branch = Vec::new();
            let authored = if style < 0.5 && !bot {
                branch = self.branch(&pr, &author);
                parents.extend(branch.last().cloned());
                merged
            } else {
                pr.created - self.rng.between(5 * MIN, 4 * HOUR)
            };
            self.commit(&sha, parents, (authored, merged), &author, Some(&pr));
            self.merged_pr(pr, (&sha, branch), author);
        }
        self.head.clone_from(&sha);
        self.head_at = merged;
        sha
    }

    /// 1–2 branch commits authored before the PR opened, oldest first.
    fn branch(&mut self, pr: &Pr, author: &str) -> Vec<String> {
        let mut shas: Vec<String> = Vec::new();
        let n = self.rng.between(1, 3);
        for j in 0..n {
            let authored = pr.created - (n - j) * self.rng.between(10 * MIN, 2 * HOUR);
            let committed = authored + self.rng.between(0, 10 * MIN);
            let sha = self.out.next_sha();
            let tip = shas.last().unwrap_or(&self.head).clone();
            self.commit(&sha, vec![tip], (authored, committed), author, Some(pr));
            shas.push(sha);
        }
        shas
    }

    /// Hands a merged pull request to the sink and, with previews on, deploys its
    /// branch to a `pr-<number>` development environment a few times while open.
    fn merged_pr(&mut self, pr: Pr, landed: (&str, Vec<String>), author: String) {
        let (merge_commit, commits) = landed;
        if self.out.previews && self.rng.chance(0.2) {
            let runs = self.rng.between(1, 3);
            let env = format!("pr-{}", self.prs);
            let sha = commits
                .last()
                .map_or(merge_commit, String::as_str)
                .to_string();
            for _ in 0..runs {
                let start = self
                    .rng
                    .between(pr.created, pr.merged.max(pr.created + MIN));
                let status = if self.rng.chance(0.08) {
                    "failure"
                } else {
                    "success"
                };
                let finish = start + self.rng.between(2 * MIN, 10 * MIN);
                self.deployment_row(
                    (&env, "development", status, "planned"),
                    &sha,
                    (start, finish),
                );
            }
        }
        self.out.sink.pull_request(PullRequest {
            id: pr.id,
            repo: self.repo.clone(),
            number: self.prs,
            author,
            created: pr.created,
            merged: pr.merged,
            merge_commit: merge_commit.to_string(),
            commits,
        });
    }

    /// Appends a commit row; `times` is (authored, committed).
    fn commit(
        &mut self,
        sha: &str,
        parents: Vec<String>,
        times: (i64, i64),
        author: &str,
        pr: Option<&Pr>,
    ) {
        self.out.sink.commit([
            ("repo", Value::text(&self.repo)),
            ("commit_sha", Value::text(sha)),
            ("parent_shas", Value::TextList(parents)),
            ("authored_at", Value::Timestamp(times.0)),
            ("committed_at", Value::Timestamp(times.1)),
            ("author", Value::text(author)),
            ("is_bot", Value::Bool(BOTS.contains(&author))),
            ("pr_id", Value::opt_text(pr.map(|p| p.id.clone()))),
            ("pr_created_at", Value::opt_ts(pr.map(|p| p.created))),
            ("pr_merged_at", Value::opt_ts(pr.map(|p| p.merged))),
        ]);
    }

    /// One of the six or so people of the team (neighbouring teams share one); a
    /// later generation of the teams has its own people.
    fn author(&mut self) -> String {
        let template = self.svc.team % TEAMS.len();
        let name = AUTHORS[(template * 5 + self.rng.index(6)) % AUTHORS.len()];
        super::catalog::suffixed(name, self.svc.generation())
    }

    /// How long a PR stays open: team dependent, occasionally weeks.
    fn review(&mut self) -> i64 {
        let scale = if self.rng.chance(0.03) { 8.0 } else { 1.0 };
        10 * MIN + (self.rng.exp(self.team.review_hours * scale) * HOUR as f64) as i64
    }

    /// An incident caused by the deployment `cause = (id, shipped shas)`. Link styles
    /// are mixed so every linking rule is exercised; some get a hotfix.
    fn caused_incident(&mut self, cause: (&str, &[String]), finish: i64, upcoming: i64) {
        let delay = 10 * MIN + (self.rng.unit().powi(3) * (2 * DAY) as f64) as i64;
        // Before the next planned deployment, so a time-window link blames this one.
        let started = (finish + delay).min((upcoming - 5 * MIN).max(finish + 10 * MIN));
        if started >= self.clock.end - HOUR {
            return;
        }
        let style = self.rng.unit();
        let deployment = (style < 0.2).then(|| cause.0.to_string());
        let pick = self.rng.index(cause.1.len());
        let commit = cause
            .1
            .get(pick)
            .filter(|_| (0.2..0.35).contains(&style))
            .cloned();
        let mut resolved = started + self.rng.log_between(20 * MIN, 2 * DAY);
        let hotfix = started + self.rng.between(20 * MIN, 3 * HOUR);
        if self.rng.chance(0.4) && hotfix < self.clock.end - HOUR {
            self.pending.push((hotfix, Kind::Hotfix));
            resolved = hotfix + self.rng.between(30 * MIN, 90 * MIN);
        }
        self.incident(started, resolved, (deployment, commit));
    }

    /// One incident in the first quiet stretch (no production deployment in the 7
    /// days before it), so some incidents correctly link to nothing.
    fn unrelated_incident(&mut self) {
        self.prod_finishes.sort_unstable();
        let finishes = std::mem::take(&mut self.prod_finishes);
        let mut prev = self.clock.start;
        for f in finishes.into_iter().chain([self.clock.end]) {
            let started = prev + 7 * DAY + self.rng.between(6 * HOUR, 2 * DAY);
            if started < f - HOUR && started < self.clock.end - 3 * DAY {
                let resolved = started + self.rng.log_between(20 * MIN, DAY);
                return self.incident(started, resolved, (None, None));
            }
            prev = f;
        }
    }

    /// Records an incident; `cause` is (caused_by_deployment_id, caused_by_commit_sha).
    fn incident(&mut self, started: i64, resolved: i64, cause: (Option<String>, Option<String>)) {
        let severity = SEVERITIES[self.rng.weighted(&SEVERITIES, |s| s.1)].0;
        let title = format!(
            "{} on {}",
            TITLES[self.rng.index(TITLES.len())],
            self.svc.name
        );
        let acknowledged = started + self.rng.between(MIN, 15 * MIN);
        self.out.sink.incident(Incident {
            service: self.svc.name.clone(),
            severity,
            title,
            started,
            acknowledged,
            resolved: Some(resolved),
            caused_by_deployment: cause.0,
            caused_by_commit: cause.1,
        });
    }
}
