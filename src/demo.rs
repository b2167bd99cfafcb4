//! A deterministic synthetic organisation for `northstar demo`.
//!
//! Eight teams with deliberately different delivery habits (elite daily deployers
//! down to a monthly one), their services, commit graphs, incidents, infra tickets,
//! platform self-service actions and a year of FOCUS billing. Everything flows from
//! one fixed seed through a PRNG defined here, so the demo (and every figure the
//! docs quote from it) never changes when a dependency is upgraded.
//!
//! The rows go through the same [`BatchBuilder`] and [`Lake::write`] path as an
//! import, so the demo also exercises the whole pipeline.

use chrono::{DateTime, Datelike, FixedOffset, Months, NaiveTime};

use crate::error::Result;
use crate::lake::batch::{BatchBuilder, Value};
use crate::lake::{Lake, WriteSummary, tables};

/// Rows for every canonical table, each row in the table's column order.
#[derive(Debug, Clone)]
pub struct DemoData {
    /// `(table name, rows)`, in the order the tables are written.
    pub tables: Vec<(&'static str, Vec<Vec<Value>>)>,
}

/// Fixed history: 12 months ending at DEMO_END (exclusive).
pub const DEMO_START: &str = "2025-11-01T00:00:00Z";
/// End of the demo history (exclusive).
pub const DEMO_END: &str = "2026-11-01T00:00:00Z";

const SEED: u64 = 0x6e6f_7274_6873_7461;
const SEC: i64 = 1_000_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const PROD: &str = "production";

/// SplitMix64: tiny, fast and fixed forever, unlike a crate's generator.
struct Rng(u64);

/// The SplitMix64 finaliser; a bijection, so distinct inputs give distinct outputs.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// An independent stream per section, so changing one section leaves the others.
    fn new(stream: u64) -> Self {
        Rng(mix(SEED ^ stream))
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform index below `len` (0 when `len` is 0).
    fn index(&mut self, len: usize) -> usize {
        (self.next_u64() % len.max(1) as u64) as usize
    }
    /// Uniform in [lo, hi); `lo` when the range is empty.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + (self.next_u64() % (hi - lo) as u64) as i64
        }
    }
    fn between_f(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Log-uniform in [lo, hi): durations spread evenly over orders of magnitude.
    fn log_between(&mut self, lo: i64, hi: i64) -> i64 {
        let (a, b) = ((lo as f64).ln(), (hi as f64).ln());
        self.between_f(a, b).exp() as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Exponential with this mean.
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
    /// Poisson count (Knuth); the rates used here are small.
    fn poisson(&mut self, lambda: f64) -> u32 {
        let limit = (-lambda).exp();
        let (mut n, mut product) = (0, self.unit());
        while product > limit && n < 1000 {
            n += 1;
            product *= self.unit();
        }
        n
    }
    /// Index of an item drawn with probability proportional to `weight`.
    fn weighted<T>(&mut self, items: &[T], weight: impl Fn(&T) -> f64) -> usize {
        let mut left = self.unit() * items.iter().map(&weight).sum::<f64>();
        for (i, item) in items.iter().enumerate() {
            left -= weight(item);
            if left < 0.0 {
                return i;
            }
        }
        items.len().saturating_sub(1)
    }
}

/// The demo calendar: day boundaries, weekdays and billing months.
struct Clock {
    start: i64,
    end: i64,
    days: i64,
    first_weekday: i64,
    months: Vec<i64>,
}

fn parse(s: &'static str) -> DateTime<FixedOffset> {
    // Only ever called with DEMO_START / DEMO_END, which are valid constants.
    DateTime::parse_from_rfc3339(s).expect("DEMO_START and DEMO_END are valid RFC 3339")
}

impl Clock {
    fn new() -> Self {
        let (start, end) = (parse(DEMO_START), parse(DEMO_END));
        let first = start.date_naive();
        let months = (0..=12)
            .filter_map(|n| first.checked_add_months(Months::new(n)))
            .map(|d| d.and_time(NaiveTime::MIN).and_utc().timestamp_micros())
            .collect();
        let (start_us, end_us) = (start.timestamp_micros(), end.timestamp_micros());
        Clock {
            start: start_us,
            end: end_us,
            days: (end_us - start_us) / DAY,
            first_weekday: i64::from(start.weekday().num_days_from_monday()),
            months,
        }
    }
    fn day(&self, d: i64) -> i64 {
        self.start + d * DAY
    }
    fn is_weekend(&self, d: i64) -> bool {
        (self.first_weekday + d) % 7 >= 5
    }
    /// How far through the year `t` is, 0..1: drives adoption and growth trends.
    fn progress(&self, t: i64) -> f64 {
        ((t - self.start) as f64 / (self.end - self.start) as f64).clamp(0.0, 1.0)
    }
    /// The calendar month containing `t`.
    fn billing_period(&self, t: i64) -> (i64, i64) {
        let i = self.months.partition_point(|&m| m <= t);
        let start = i.checked_sub(1).and_then(|j| self.months.get(j));
        (
            start.copied().unwrap_or(self.start),
            self.months.get(i).copied().unwrap_or(self.end),
        )
    }
}

/// A team and how it delivers: the spread between teams is what makes tiers differ.
struct Team {
    name: &'static str,
    services: [&'static str; 5],
    /// Expected production deployments per service per weekday.
    rate: f64,
    /// Most new main-line commits one deployment ships.
    batch: i64,
    /// Mean hours a pull request stays open.
    review_hours: f64,
    /// Chance a production deployment causes an incident.
    incident_rate: f64,
}

#[rustfmt::skip]
const TEAMS: [Team; 8] = [
    Team { name: "payments", rate: 1.0, batch: 4, review_hours: 8.0, incident_rate: 0.03,
        services: ["payments-api", "payments-ledger", "payments-gateway", "payments-fraud", "payments-reconciler"] },
    Team { name: "checkout", rate: 1.4, batch: 4, review_hours: 5.0, incident_rate: 0.04,
        services: ["checkout-web", "checkout-api", "cart-service", "pricing-service", "promotions-service"] },
    Team { name: "search", rate: 2.2, batch: 3, review_hours: 3.0, incident_rate: 0.025,
        services: ["search-api", "search-indexer", "search-ranker", "autocomplete-service", "catalog-service"] },
    Team { name: "identity", rate: 0.35, batch: 6, review_hours: 20.0, incident_rate: 0.06,
        services: ["identity-api", "auth-service", "session-service", "user-profile", "permissions-service"] },
    Team { name: "data-platform", rate: 0.25, batch: 6, review_hours: 30.0, incident_rate: 0.06,
        services: ["ingest-pipeline", "warehouse-loader", "events-stream", "metrics-api", "feature-store"] },
    Team { name: "mobile", rate: 0.15, batch: 8, review_hours: 48.0, incident_rate: 0.08,
        services: ["mobile-bff", "push-service", "mobile-config", "app-gateway", "deep-link-service"] },
    Team { name: "growth", rate: 0.8, batch: 4, review_hours: 6.0, incident_rate: 0.05,
        services: ["growth-api", "experiments-service", "referral-service", "email-campaigns", "legacy-newsletter"] },
    Team { name: "infra", rate: 0.04, batch: 8, review_hours: 72.0, incident_rate: 0.10,
        services: ["dns-controller", "cert-manager-hooks", "ci-runners", "cost-exporter", "legacy-batch"] },
];

/// Services with no catalog row: their deployments land in the `unowned` bucket.
const UNCATALOGUED: [&str; 2] = ["legacy-newsletter", "legacy-batch"];
/// Services born during the year, with the day (from DEMO_START) they were created.
const NEW_SERVICES: [(&str, i64); 4] = [
    ("promotions-service", 40),
    ("feature-store", 110),
    ("deep-link-service", 190),
    ("referral-service", 280),
];

#[rustfmt::skip]
const AUTHORS: [&str; 40] = [
    "Ada Moreau", "Ben Okafor", "Chen Wei", "Dana Levi", "Elif Kaya", "Farid Haddad",
    "Grace Kim", "Hugo Lenoir", "Ines Duarte", "Jonas Berg", "Kavya Rao", "Liam Walsh",
    "Maya Cohen", "Nico Rossi", "Olga Petrova", "Pablo Ruiz", "Quinn Taylor", "Rosa Jimenez",
    "Sam Park", "Tara Singh", "Umar Sheikh", "Vera Novak", "Wen Li", "Xavier Dubois",
    "Yara Haddad", "Zoe Martin", "Arjun Mehta", "Bea Schmidt", "Carlos Silva", "Dmitri Ivanov",
    "Emma Larsen", "Femi Adeyemi", "Gina Russo", "Hiro Tanaka", "Isla Brown", "Jamal Wright",
    "Kira Sato", "Leo Fischer", "Mina Ahmadi", "Noah Evans",
];
const BOTS: [&str; 2] = ["dependabot[bot]", "renovate[bot]"];

/// A service of the synthetic organisation.
struct Svc {
    name: &'static str,
    team: usize,
    created_at: i64,
    new: bool,
    tier: &'static str,
    on_platform: bool,
    catalogued: bool,
}

/// The 40 services; new ones are always born on the platform.
fn catalog(rng: &mut Rng, clock: &Clock) -> Vec<Svc> {
    let mut out = Vec::with_capacity(40);
    for (team, t) in TEAMS.iter().enumerate() {
        for (i, &name) in t.services.iter().enumerate() {
            let born = NEW_SERVICES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| *d);
            let created_at = match born {
                Some(d) => clock.day(d) + rng.between(9 * HOUR, 17 * HOUR),
                None => clock.start - rng.between(200, 1500) * DAY,
            };
            let catalogued = !UNCATALOGUED.contains(&name);
            let on_platform = catalogued && (born.is_some() || rng.chance(0.72));
            let tier = ["tier-1", "tier-2", "tier-2", "tier-3", "tier-3"][i % 5];
            out.push(Svc {
                name,
                team,
                created_at,
                new: born.is_some(),
                tier,
                on_platform,
                catalogued,
            });
        }
    }
    out
}

fn service_rows(svcs: &[Svc]) -> Vec<Vec<Value>> {
    svcs.iter()
        .filter(|s| s.catalogued)
        .map(|s| {
            vec![
                Value::text(s.name),
                Value::text(TEAMS[s.team].name),
                Value::Timestamp(s.created_at),
                Value::text(s.tier),
                Value::Bool(s.on_platform),
            ]
        })
        .collect()
}

/// Delivery rows of all services; ids and shas come from counters, so never collide.
#[derive(Default)]
struct Delivery {
    deployments: Vec<Vec<Value>>,
    commits: Vec<Vec<Value>>,
    incidents: Vec<Incident>,
    shas: u64,
}

impl Delivery {
    /// A 40-hex sha unique per counter value (the first 64 bits are a bijection of it).
    fn next_sha(&mut self) -> String {
        self.shas += 1;
        let n = self.shas;
        format!(
            "{:016x}{:016x}{:08x}",
            mix(n ^ 0xa5a5),
            mix(n ^ 0x5a5a_0000),
            mix(!n) as u32
        )
    }
}

/// An incident before ids are assigned (in start order, once all are known).
struct Incident {
    service: &'static str,
    severity: &'static str,
    title: String,
    started: i64,
    acknowledged: i64,
    resolved: Option<i64>,
    caused_by_deployment: Option<String>,
    caused_by_commit: Option<String>,
}

const SEVERITIES: [(&str, f64); 4] = [("sev1", 0.05), ("sev2", 0.2), ("sev3", 0.45), ("sev4", 0.3)];
const TITLES: [&str; 6] = [
    "Elevated error rate",
    "Latency above SLO",
    "Failed health checks",
    "Error budget burn",
    "Partial outage",
    "Queue backlog growing",
];

/// The pull request a commit arrived through.
struct Pr {
    id: String,
    created: i64,
    merged: i64,
}

/// What an event on a service's timeline does.
enum Kind {
    Planned,
    Hotfix,
    /// Redeploys this (previously live) sha.
    Rollback(String),
}

/// Per-service delivery state while its timeline is replayed in time order.
struct Lane<'a> {
    rng: &'a mut Rng,
    out: &'a mut Delivery,
    svc: &'a Svc,
    team: &'static Team,
    clock: &'a Clock,
    repo: String,
    /// Newest main-line commit and when it was merged.
    head: String,
    head_at: i64,
    /// Sha of the latest successful production deployment.
    live: Option<String>,
    prs: u64,
    /// Hotfixes and rollbacks scheduled by earlier events: (start, kind).
    pending: Vec<(i64, Kind)>,
    prod_finishes: Vec<i64>,
}

/// Deployments, commits and incidents of every service.
fn delivery(rng: &mut Rng, svcs: &[Svc], clock: &Clock) -> Delivery {
    let mut out = Delivery::default();
    for svc in svcs {
        Lane::new(rng, &mut out, svc, clock).replay();
    }
    out
}

impl<'a> Lane<'a> {
    /// Starts the repo with a root commit (no parents) at the service's birth.
    fn new(rng: &'a mut Rng, out: &'a mut Delivery, svc: &'a Svc, clock: &'a Clock) -> Self {
        let (head, head_at) = (out.next_sha(), svc.created_at);
        let (repo, team) = (format!("acme/{}", svc.name), &TEAMS[svc.team]);
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
        lane.commit(&head, Vec::new(), (head_at, head_at), author, None);
        lane
    }

    /// Replays planned deployments and the hotfixes and rollbacks they trigger.
    fn replay(mut self) {
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
        let n = self.out.deployments.len() + 1;
        let id = format!("demo:deploy:{n:06}");
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
        self.out.deployments.push(vec![
            Value::text(&id),
            Value::text("demo"),
            Value::text(&self.repo),
            Value::text(self.svc.name),
            Value::text(if tier == PROD { PROD } else { "staging" }),
            Value::text(tier),
            Value::text(status),
            Value::text(sha),
            Value::Timestamp(span.0),
            Value::Timestamp(span.1),
            Value::text(kind),
            Value::Bool(via),
            Value::text(format!("https://deploy.acme.example/{}/{n}", self.svc.name)),
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
            BOTS[self.rng.index(BOTS.len())]
        } else {
            self.author()
        };
        let sha = self.out.next_sha();
        let mut parents = vec![self.head.clone()];
        if style < 0.15 && !bot {
            let authored = merged - self.rng.between(MIN, 2 * HOUR);
            self.commit(&sha, parents, (authored, merged), author, None);
        } else {
            let review = if hotfix {
                self.rng.between(5 * MIN, 30 * MIN)
            } else {
                self.review()
            };
            self.prs += 1;
            let pr = Pr {
                id: format!("demo:{}#{}", self.repo, self.prs),
                created: merged - review,
                merged,
            };
            let authored = if style < 0.5 && !bot {
                parents.push(self.branch(&pr, author));
                merged
            } else {
                pr.created - self.rng.between(5 * MIN, 4 * HOUR)
            };
            self.commit(&sha, parents, (authored, merged), author, Some(&pr));
        }
        self.head.clone_from(&sha);
        self.head_at = merged;
        sha
    }

    /// 1–2 branch commits authored before the PR opened; returns the branch tip.
    fn branch(&mut self, pr: &Pr, author: &'static str) -> String {
        let mut tip = self.head.clone();
        let n = self.rng.between(1, 3);
        for j in 0..n {
            let authored = pr.created - (n - j) * self.rng.between(10 * MIN, 2 * HOUR);
            let committed = authored + self.rng.between(0, 10 * MIN);
            let sha = self.out.next_sha();
            self.commit(&sha, vec![tip], (authored, committed), author, Some(pr));
            tip = sha;
        }
        tip
    }

    /// Appends a commit row; `times` is (authored, committed).
    fn commit(
        &mut self,
        sha: &str,
        parents: Vec<String>,
        times: (i64, i64),
        author: &'static str,
        pr: Option<&Pr>,
    ) {
        self.out.commits.push(vec![
            Value::text(&self.repo),
            Value::text(sha),
            Value::TextList(parents),
            Value::Timestamp(times.0),
            Value::Timestamp(times.1),
            Value::text(author),
            Value::Bool(BOTS.contains(&author)),
            Value::opt_text(pr.map(|p| p.id.clone())),
            Value::opt_ts(pr.map(|p| p.created)),
            Value::opt_ts(pr.map(|p| p.merged)),
        ]);
    }

    /// One of the six or so people of the team (neighbouring teams share one).
    fn author(&mut self) -> &'static str {
        AUTHORS[(self.svc.team * 5 + self.rng.index(6)) % AUTHORS.len()]
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
        self.out.incidents.push(Incident {
            service: self.svc.name,
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

/// Incident rows with ids in start order; the three latest stay open (unresolved).
fn incident_rows(mut incidents: Vec<Incident>, end: i64) -> Vec<Vec<Value>> {
    incidents.sort_by(|a, b| a.started.cmp(&b.started).then(a.service.cmp(b.service)));
    let open_from = incidents.len().saturating_sub(3);
    incidents
        .into_iter()
        .enumerate()
        .map(|(i, inc)| {
            let resolved = if i >= open_from {
                None
            } else {
                inc.resolved.map(|r| r.min(end - MIN))
            };
            vec![
                Value::text(format!("demo:incident:{:05}", i + 1)),
                Value::text("demo"),
                Value::text(inc.service),
                Value::text(inc.severity),
                Value::text(inc.title),
                Value::Timestamp(inc.started),
                Value::Timestamp(inc.acknowledged),
                Value::opt_ts(resolved),
                Value::opt_text(inc.caused_by_deployment),
                Value::opt_text(inc.caused_by_commit),
            ]
        })
        .collect()
}

/// Ticket categories: (category, request type, assignee team, weight).
const CATEGORIES: [(&str, &str, &str, f64); 6] = [
    ("environment", "New environment", "platform", 0.25),
    ("database", "Database request", "infra", 0.2),
    ("access", "Access request", "platform", 0.2),
    ("ci", "CI pipeline change", "platform", 0.15),
    ("dns", "DNS change", "infra", 0.1),
    ("certificate", "Certificate renewal", "infra", 0.1),
];

/// Infra/platform tickets and their transitions. Volume falls over the year as
/// self-service replaces requests, and the infra teams answer faster.
fn tickets(rng: &mut Rng, clock: &Clock) -> (Vec<Vec<Value>>, Vec<Vec<Value>>) {
    let (mut rows, mut transitions) = (Vec::new(), Vec::new());
    for day in 0..clock.days {
        let rate = if clock.is_weekend(day) {
            0.8
        } else {
            17.0 - 11.0 * clock.progress(clock.day(day))
        };
        for _ in 0..rng.poisson(rate) {
            let created = clock.day(day) + rng.between(7 * HOUR, 18 * HOUR);
            let (row, moves) = ticket(rng, clock, rows.len() + 1, created);
            rows.push(row);
            transitions.extend(moves);
        }
    }
    (rows, transitions)
}

/// One ticket and its transitions; open ones at the end of the year stay open.
fn ticket(rng: &mut Rng, clock: &Clock, n: usize, created: i64) -> (Vec<Value>, Vec<Vec<Value>>) {
    const PRIORITIES: [(&str, f64); 4] = [
        ("Low", 0.3),
        ("Medium", 0.45),
        ("High", 0.2),
        ("Highest", 0.05),
    ];
    let (category, request_type, assignee, _) = CATEGORIES[rng.weighted(&CATEGORIES, |c| c.3)];
    let requester = TEAMS[rng.index(TEAMS.len())].name;
    let priority = PRIORITIES[rng.weighted(&PRIORITIES, |p| p.1)].0;
    let speed = 1.0 - 0.5 * clock.progress(created);
    let first = created + 5 * MIN + (rng.exp(3.0 * speed) * HOUR as f64) as i64;
    let work = if rng.chance(0.02) {
        rng.between(30, 90) * DAY
    } else {
        (rng.exp(40.0 * speed) * HOUR as f64) as i64
    };
    // A backlog of untouched tickets at the end of the year.
    let untouched = created > clock.end - 14 * DAY && rng.chance(0.3);
    let first = (first < clock.end && !untouched).then_some(first);
    let resolved = first
        .map(|f| f + 30 * MIN + work)
        .filter(|&r| r < clock.end);
    let status = match (first, resolved) {
        (_, Some(_)) => "Done",
        (Some(_), None) => "In Progress",
        _ => "To Do",
    };
    let id = format!("demo:OPS-{}", 1000 + n);
    let mut labels = vec![category.to_string(), format!("team-{requester}")];
    if priority == "Highest" {
        labels.push("urgent".into());
    }
    let row = vec![
        Value::text(&id),
        Value::text("demo"),
        Value::text("OPS"),
        Value::text("Service Request"),
        Value::text(request_type),
        Value::text(category),
        Value::text(requester),
        Value::text(assignee),
        Value::text(priority),
        Value::text(status),
        Value::Timestamp(created),
        Value::opt_ts(first),
        Value::opt_ts(resolved),
        Value::TextList(labels),
    ];
    (row, transitions(&id, [Some(created), first, resolved]))
}

/// The 1–3 status changes of a ticket from its (created, first response, resolved).
fn transitions(id: &str, times: [Option<i64>; 3]) -> Vec<Vec<Value>> {
    const STEPS: [(Option<&str>, &str, &str); 3] = [
        (None, "To Do", "new"),
        (Some("To Do"), "In Progress", "indeterminate"),
        (Some("In Progress"), "Done", "done"),
    ];
    let steps = times.into_iter().zip(STEPS);
    steps
        .filter_map(|(at, (from, to, category))| {
            let at = Value::Timestamp(at?);
            Some(vec![
                Value::text(id),
                at,
                Value::opt_text(from),
                Value::text(to),
                Value::text(category),
            ])
        })
        .collect()
}

/// Self-service actions: (action, ticket category it replaces, most minutes, weight).
const ACTIONS: [(&str, &str, i64, f64); 7] = [
    ("create_environment", "environment", 20, 0.15),
    ("create_ephemeral_environment", "environment", 8, 0.2),
    ("provision_database", "database", 25, 0.15),
    ("grant_access", "access", 3, 0.2),
    ("create_pipeline", "ci", 6, 0.15),
    ("create_dns_record", "dns", 5, 0.08),
    ("rotate_certificate", "certificate", 4, 0.07),
];

/// Platform actions by on-platform services, growing through the year.
fn platform_actions(rng: &mut Rng, svcs: &[Svc], clock: &Clock) -> Vec<Vec<Value>> {
    let adopters: Vec<&Svc> = svcs.iter().filter(|s| s.on_platform).collect();
    let mut rows = Vec::new();
    for day in 0..clock.days {
        let rate = if clock.is_weekend(day) {
            0.5
        } else {
            4.0 + 22.0 * clock.progress(clock.day(day))
        };
        for _ in 0..rng.poisson(rate) {
            let at = clock.day(day) + rng.between(6 * HOUR, 20 * HOUR);
            let live: Vec<&Svc> = adopters
                .iter()
                .copied()
                .filter(|s| s.created_at <= at)
                .collect();
            let Some(svc) = live.get(rng.index(live.len())) else {
                continue;
            };
            let (action, category, minutes, _) = ACTIONS[rng.weighted(&ACTIONS, |a| a.3)];
            let completed = at + rng.between(30 * SEC, minutes * MIN);
            let status = if rng.chance(0.04) {
                "failed"
            } else {
                "success"
            };
            rows.push(vec![
                Value::text(format!("demo:action:{:06}", rows.len() + 1)),
                Value::text("demo"),
                Value::text(action),
                Value::text(category),
                Value::text(TEAMS[svc.team].name),
                Value::text(svc.name),
                Value::Timestamp(at),
                Value::Timestamp(completed),
                Value::text(status),
            ]);
        }
    }
    rows
}

/// A billed AWS service: names as FOCUS spells them, a unit price and a daily range.
struct Cloud {
    name: &'static str,
    category: &'static str,
    code: &'static str,
    resource: &'static str,
    unit: &'static str,
    price: f64,
    daily: (f64, f64),
    /// Lowest EffectiveCost / BilledCost (savings plans and reservations).
    min_discount: f64,
}

/// The first three are billed per service, the rest are shared (untagged).
#[rustfmt::skip]
static CLOUDS: [Cloud; 6] = [
    Cloud { name: "Amazon Elastic Compute Cloud", category: "Compute", code: "ec2", resource: "instance",
        unit: "Hours", price: 0.384, daily: (60.0, 420.0), min_discount: 0.7 },
    Cloud { name: "Amazon Relational Database Service", category: "Databases", code: "rds", resource: "db",
        unit: "Hours", price: 0.48, daily: (40.0, 260.0), min_discount: 0.8 },
    Cloud { name: "Amazon Simple Storage Service", category: "Storage", code: "s3", resource: "bucket",
        unit: "GB-Month", price: 0.023, daily: (2.0, 30.0), min_discount: 1.0 },
    Cloud { name: "Amazon Virtual Private Cloud", category: "Networking", code: "vpc", resource: "natgateway",
        unit: "Hours", price: 0.045, daily: (80.0, 120.0), min_discount: 1.0 },
    Cloud { name: "Amazon CloudWatch", category: "Management and Governance", code: "cloudwatch", resource: "metric",
        unit: "Metrics", price: 0.3, daily: (60.0, 90.0), min_discount: 1.0 },
    Cloud { name: "AWS Key Management Service", category: "Security", code: "kms", resource: "key",
        unit: "Requests", price: 0.000_03, daily: (10.0, 20.0), min_discount: 1.0 },
];

/// One daily cost line: a resource of a service (or shared) in one AWS service.
struct CostLine {
    team: Option<&'static str>,
    service: Option<&'static str>,
    cloud: &'static Cloud,
    base: f64,
    discount: f64,
    /// Team's AWS account (shared spend has its own).
    account: u64,
    /// From when the resource exists (the service's creation).
    from: i64,
}

fn cost_line(rng: &mut Rng, cloud: &'static Cloud, owner: Option<&Svc>) -> CostLine {
    CostLine {
        team: owner.map(|s| TEAMS[s.team].name),
        service: owner.map(|s| s.name),
        cloud,
        base: rng.between_f(cloud.daily.0, cloud.daily.1),
        discount: rng.between_f(cloud.min_discount, 1.0),
        account: 210_000_000_000 + owner.map_or(99, |s| s.team as u64),
        from: owner.map_or(i64::MIN, |s| s.created_at),
    }
}

/// Daily FOCUS rows: slow monthly growth, quieter weekends for hourly resources,
/// one four-day compute spike (an anomaly) and ~3% shared, untagged spend.
fn costs(rng: &mut Rng, svcs: &[Svc], clock: &Clock) -> Vec<Vec<Value>> {
    let mut lines = Vec::new();
    for (i, s) in svcs.iter().enumerate() {
        for cloud in CLOUDS
            .iter()
            .take(3)
            .filter(|c| c.code != "rds" || i % 5 < 2)
        {
            lines.push(cost_line(rng, cloud, Some(s)));
        }
    }
    lines.extend(CLOUDS.iter().skip(3).map(|c| cost_line(rng, c, None)));
    let mut rows = Vec::with_capacity(lines.len() * clock.days as usize);
    for day in 0..clock.days {
        let t = clock.day(day);
        let growth = 1.0 + 0.3 * clock.progress(t);
        for line in lines.iter().filter(|l| l.from < t + DAY) {
            let weekly = if clock.is_weekend(day) && line.cloud.unit == "Hours" {
                0.85
            } else {
                1.0
            };
            let spike = line.service == Some("checkout-api")
                && line.cloud.code == "ec2"
                && (250..254).contains(&day);
            let factor =
                growth * weekly * if spike { 3.0 } else { 1.0 } * rng.between_f(0.95, 1.05);
            rows.push(cost_row(
                rows.len() + 1,
                line,
                clock.billing_period(t),
                t,
                cents(line.base * factor),
            ));
        }
    }
    rows
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn cost_row(n: usize, line: &CostLine, period: (i64, i64), day: i64, billed: f64) -> Vec<Value> {
    let tags = match (line.team, line.service) {
        (Some(t), Some(s)) => format!(r#"{{"team":"{t}","service":"{s}","env":"prod"}}"#),
        _ => r#"{"env":"shared"}"#.to_string(),
    };
    let c = line.cloud;
    let resource = format!("{}-{}", line.service.unwrap_or("shared"), c.code);
    let arn = format!(
        "arn:aws:{}:us-east-1:{}:{}/{resource}",
        c.code, line.account, c.resource
    );
    let quantity = (billed / c.price * 1000.0).round() / 1000.0;
    vec![
        Value::text(format!("demo-cost-{n}")),
        Value::text("demo"),
        Value::opt_text(line.team),
        Value::opt_text(line.service),
        Value::Float(billed),
        Value::Float(cents(billed * line.discount)),
        Value::Float(cents(billed * 1.08)),
        Value::Float(billed),
        Value::text("USD"),
        Value::text("210000000000"),
        Value::text("acme-payer"),
        Value::Timestamp(period.0),
        Value::Timestamp(period.1),
        Value::Timestamp(day),
        Value::Timestamp(day + DAY),
        Value::text("Usage"),
        Value::text(format!("{} usage", c.name)),
        Value::text("AWS"),
        Value::text("Amazon Web Services"),
        Value::text("Amazon Web Services, Inc."),
        Value::text(line.account.to_string()),
        Value::text(format!("acme-{}", line.team.unwrap_or("shared"))),
        Value::text("us-east-1"),
        Value::text("US East (N. Virginia)"),
        Value::text(arn),
        Value::text(resource),
        Value::text(c.resource),
        Value::text(c.category),
        Value::text(c.name),
        Value::text(format!("{}-{}", c.code, c.unit).to_uppercase()),
        Value::text(c.unit),
        Value::Float(quantity),
        Value::Float(quantity),
        Value::text(c.unit),
        Value::text(tags),
    ]
}

/// The whole synthetic organisation; each section draws from its own PRNG stream.
pub fn generate() -> DemoData {
    let clock = Clock::new();
    let svcs = catalog(&mut Rng::new(1), &clock);
    let delivery = delivery(&mut Rng::new(2), &svcs, &clock);
    let (tickets, transitions) = tickets(&mut Rng::new(3), &clock);
    DemoData {
        tables: vec![
            ("services", service_rows(&svcs)),
            ("deployments", delivery.deployments),
            ("commits", delivery.commits),
            ("incidents", incident_rows(delivery.incidents, clock.end)),
            ("tickets", tickets),
            ("ticket_transitions", transitions),
            (
                "platform_actions",
                platform_actions(&mut Rng::new(4), &svcs, &clock),
            ),
            ("costs", costs(&mut Rng::new(5), &svcs, &clock)),
        ],
    }
}

/// Writes every table through the lake writer (one `lake.write` per table).
pub async fn write(lake: &Lake, data: &DemoData) -> Result<Vec<WriteSummary>> {
    let mut summaries = Vec::with_capacity(data.tables.len());
    for (name, rows) in &data.tables {
        let spec = tables::table(name)?;
        let mut b = BatchBuilder::new(&spec);
        for r in rows {
            b.push(r)?;
        }
        summaries.push(lake.write(&spec, &b.finish()?).await?);
    }
    Ok(summaries)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn rows<'a>(data: &'a DemoData, table: &str) -> &'a [Vec<Value>] {
        let found = data.tables.iter().find(|(t, _)| *t == table);
        found.map_or(&[], |(_, r)| r)
    }

    fn text(v: &Value) -> &str {
        if let Value::Text(s) = v { s } else { "" }
    }

    #[test]
    fn generation_is_deterministic() {
        let (a, b) = (generate(), generate());
        let counts = |d: &DemoData| {
            d.tables
                .iter()
                .map(|(t, r)| (*t, r.len()))
                .collect::<Vec<_>>()
        };
        assert_eq!(counts(&a), counts(&b));
        let (da, db) = (rows(&a, "deployments"), rows(&b, "deployments"));
        assert!(!da.is_empty());
        assert_eq!((da.first(), da.last()), (db.first(), db.last()));
    }

    #[test]
    fn rows_fit_their_tables() {
        for (name, table_rows) in generate().tables {
            let spec = tables::table(name).unwrap();
            let mut builder = BatchBuilder::new(&spec);
            for row in &table_rows {
                assert_eq!(row.len(), spec.columns.len(), "{name}");
                for (value, col) in row.iter().zip(&spec.columns) {
                    assert!(
                        !col.required || *value != Value::Null,
                        "{name}.{}",
                        col.name
                    );
                    let allowed = col.allowed.is_empty() || col.allowed.contains(&text(value));
                    assert!(
                        allowed || *value == Value::Null,
                        "{name}.{}: {value:?}",
                        col.name
                    );
                }
                builder.push(row).unwrap();
            }
        }
    }

    #[test]
    fn production_deployments_ship_known_commits() {
        let data = generate();
        let shas: HashSet<&str> = rows(&data, "commits").iter().map(|r| text(&r[1])).collect();
        let deployments = rows(&data, "deployments");
        let prod: Vec<_> = deployments.iter().filter(|r| text(&r[5]) == PROD).collect();
        assert!(prod.len() > 5000, "{} production deployments", prod.len());
        for d in prod {
            assert!(
                shas.contains(text(&d[7])),
                "{:?} ships an unknown commit",
                d[0]
            );
        }
    }
}
