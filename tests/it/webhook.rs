//! `northstar serve` over real HTTP: a router bound to an ephemeral port, driven
//! with reqwest, checked through the lake. GitHub payloads are the vendor's own
//! examples in `fixtures/github/webhooks/`, sent byte for byte.

use std::collections::BTreeSet;
use std::path::Path;

use hmac::{Hmac, Mac};
use northstar::config::Config;
use northstar::lake::Lake;
use northstar::serve::{AppState, WebhookSecrets, serve};
use serde_json::Value as Json;
use sha2::Sha256;
use tempfile::TempDir;

use crate::support::{fixture, query, temp_lake};

const GH_SECRET: &str = "gh-webhook-secret-7f3a9c";
const GL_SECRET: &str = "gl-webhook-token-51be02";

const CONFIG: &str = r#"
[[sources]]
kind = "github"
name = "gh"
repos = ["Codertocat/Hello-World"]
webhook_secret_env = "NORTHSTAR_TEST_WEBHOOK_GH_SECRET"

[[sources]]
kind = "gitlab"
name = "gl"
projects = ["group/app"]
webhook_secret_env = "NORTHSTAR_TEST_WEBHOOK_GL_SECRET"
"#;

/// A running server over a fresh lake; dropped with the test's runtime.
struct Server {
    base: String,
    client: reqwest::Client,
    lake: Lake,
    _dir: TempDir,
}

/// The reply to one request: its status and body.
struct Reply {
    status: u16,
    body: String,
}

impl Reply {
    fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn start(config: &str) -> Server {
    let (dir, lake) = temp_lake();
    let config = Config::parse(config, "test").expect("config");
    let secrets = WebhookSecrets::new()
        .with("gh", GH_SECRET)
        .with("gl", GL_SECRET);
    let state = AppState::new(&config, lake.clone(), secrets).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(serve(listener, state, std::future::pending()));
    Server {
        base,
        client: reqwest::Client::new(),
        lake,
        _dir: dir,
    }
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Server {
    /// Sends a request and checks that no secret comes back in any reply.
    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        let headers = format!("{:?}", response.headers());
        let body = response.text().await.expect("body");
        for secret in [GH_SECRET, GL_SECRET] {
            assert!(
                !body.contains(secret) && !headers.contains(secret),
                "secret leaked"
            );
        }
        Reply { status, body }
    }

    async fn github(
        &self,
        event: &str,
        delivery: &str,
        signature: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let mut request = self
            .client
            .post(format!("{}/webhooks/gh", self.base))
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", delivery)
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        self.send(request).await
    }

    /// A correctly signed GitHub delivery.
    async fn github_signed(&self, event: &str, delivery: &str, body: &[u8]) -> Reply {
        self.github(event, delivery, Some(&sign(GH_SECRET, body)), body)
            .await
    }

    async fn gitlab(&self, event: &str, token: &str, uuid: &str, body: &[u8]) -> Reply {
        let request = self
            .client
            .post(format!("{}/webhooks/gl", self.base))
            .header("content-type", "application/json")
            .header("x-gitlab-event", event)
            .header("x-gitlab-token", token)
            .header("x-gitlab-event-uuid", uuid)
            .body(body.to_vec());
        self.send(request).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }
}

fn webhook_fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture(&format!("github/webhooks/{name}"))).expect("fixture")
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.insert(rel.display().to_string());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_readiness() {
    let server = start(CONFIG).await;
    let health = server.get("/healthz").await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    assert_eq!(server.get("/readyz").await.status, 200);
    std::fs::remove_dir_all(server.lake.local_root()).expect("remove lake");
    assert_eq!(server.get("/readyz").await.status, 503);
}

#[tokio::test(flavor = "multi_thread")]
async fn deployment_status_is_written_once_and_redelivery_is_skipped() {
    let server = start(CONFIG).await;
    let body = webhook_fixture("deployment_status.created.json");
    let first = server
        .github_signed("deployment_status", "guid-1", &body)
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.json()["new_rows"], 1);
    let deployments = server.lake.local_root().join("deployments");
    let files = files_under(&deployments);
    assert_eq!(files.len(), 1);

    let again = server
        .github_signed("deployment_status", "guid-1", &body)
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["status"], "duplicate");
    assert_eq!(files_under(&deployments), files);

    let rows = query(
        &server.lake,
        "SELECT deployment_id, status, environment, env_tier, commit_sha, service FROM deployments",
    )
    .await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["deployment_id"], "gh:Codertocat/Hello-World:145988746");
    assert_eq!(row["status"], "success");
    assert_eq!(row["environment"], "production");
    assert_eq!(row["env_tier"], "production");
    assert_eq!(
        row["commit_sha"],
        "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    );
    assert_eq!(row["service"], "Hello-World");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_or_missing_signatures_are_refused_and_write_nothing() {
    let server = start(CONFIG).await;
    let body = webhook_fixture("deployment_status.created.json");
    let wrong = sign("not-the-secret", &body);
    let refused = server
        .github("deployment_status", "guid-2", Some(&wrong), &body)
        .await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    let missing = server
        .github("deployment_status", "guid-3", None, &body)
        .await;
    assert_eq!(missing.status, 401, "{}", missing.body);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let signed_original = sign(GH_SECRET, &body);
    let tamper = server
        .github(
            "deployment_status",
            "guid-4",
            Some(&signed_original),
            &tampered,
        )
        .await;
    assert_eq!(tamper.status, 401, "{}", tamper.body);
    assert_eq!(
        files_under(server.lake.local_root()),
        BTreeSet::new(),
        "nothing may be written for an unauthenticated delivery"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn closed_unmerged_pull_request_is_closed_without_merge_time() {
    let server = start(CONFIG).await;
    let body = webhook_fixture("pull_request.closed.json");
    let reply = server.github_signed("pull_request", "guid-5", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let rows = query(
        &server.lake,
        "SELECT pr_id, state, merged_at, merge_commit_sha, head_ref, base_ref, author FROM pull_requests",
    )
    .await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["pr_id"], "gh:Codertocat/Hello-World:2");
    assert_eq!(row["state"], "closed");
    assert_eq!(row["merged_at"], Json::Null);
    assert_eq!(row["merge_commit_sha"], Json::Null);
    assert_eq!(row["head_ref"], "changes");
    assert_eq!(row["base_ref"], "master");
    assert_eq!(row["author"], "Codertocat");
}

async fn parents(lake: &Lake) -> Vec<(String, Json, i64)> {
    query(
        lake,
        "SELECT commit_sha, parent_shas[1] AS parent, cardinality(parent_shas) AS n \
         FROM commits ORDER BY authored_at, commit_sha",
    )
    .await
    .into_iter()
    .map(|r| {
        (
            r["commit_sha"].as_str().unwrap_or_default().to_string(),
            r["parent"].clone(),
            r["n"].as_i64().unwrap_or(-1),
        )
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn push_commits_are_chained_in_push_order() {
    let server = start(CONFIG).await;
    // As documented: a new branch, so `before` is all zeros and the first commit
    // has no known parent.
    let body = webhook_fixture("push.new-branch.json");
    let reply = server.github_signed("push", "guid-6", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let head = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
    assert_eq!(
        parents(&server.lake).await,
        vec![(head.to_string(), Json::Null, 0)]
    );

    // A follow-up push of two commits on top of the head.
    let mut push: Json = serde_json::from_slice(&body).expect("json");
    let commit = push["commits"][0].clone();
    let mut next = Vec::new();
    for (sha, at) in [
        (
            "1111111111111111111111111111111111111111",
            "2019-05-15T16:00:00Z",
        ),
        (
            "2222222222222222222222222222222222222222",
            "2019-05-15T17:00:00Z",
        ),
    ] {
        let mut c = commit.clone();
        c["id"] = sha.into();
        c["timestamp"] = at.into();
        next.push(c);
    }
    push["before"] = head.into();
    push["after"] = next[1]["id"].clone();
    push["created"] = false.into();
    push["commits"] = Json::Array(next);
    let body = serde_json::to_vec(&push).expect("encode");
    let reply = server.github_signed("push", "guid-7", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let chain = parents(&server.lake).await;
    assert_eq!(
        chain,
        vec![
            (head.to_string(), Json::Null, 0),
            (
                "1111111111111111111111111111111111111111".to_string(),
                head.into(),
                1
            ),
            (
                "2222222222222222222222222222222222222222".to_string(),
                "1111111111111111111111111111111111111111".into(),
                1
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unused_deliveries_are_accepted_without_writing() {
    let server = start(CONFIG).await;
    let ping = server
        .github_signed("ping", "guid-8", b"{\"zen\":\"Keep it simple.\"}")
        .await;
    assert_eq!(ping.status, 200, "{}", ping.body);

    let mut event: Json =
        serde_json::from_slice(&webhook_fixture("deployment_status.created.json")).expect("json");
    event["deployment_status"]["state"] = "in_progress".into();
    let body = serde_json::to_vec(&event).expect("encode");
    let running = server
        .github_signed("deployment_status", "guid-9", &body)
        .await;
    assert_eq!(running.status, 202, "{}", running.body);

    event["deployment_status"]["state"] = "success".into();
    event["repository"]["full_name"] = "someone/else".into();
    let body = serde_json::to_vec(&event).expect("encode");
    let foreign = server
        .github_signed("deployment_status", "guid-10", &body)
        .await;
    assert_eq!(foreign.status, 202, "{}", foreign.body);

    let star = server.github_signed("star", "guid-11", b"{}").await;
    assert_eq!(star.status, 202, "{}", star.body);

    let unknown = server
        .send(
            server
                .client
                .post(format!("{}/webhooks/nope", server.base))
                .body("{}"),
        )
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(files_under(server.lake.local_root()), BTreeSet::new());
}

fn gitlab_deployment() -> Vec<u8> {
    let sha = "279484c09fbe69ededfced8c1bb6e6d24616b468";
    serde_json::to_vec(&serde_json::json!({
        "object_kind": "deployment",
        "status": "success",
        "status_changed_at": "2021-04-28 21:50:00 +0200",
        "deployment_id": 15,
        "deployable_id": 796,
        "deployable_url": "https://gitlab.example.com/group/app/-/jobs/796",
        "environment": "production",
        "environment_tier": "production",
        "environment_slug": "production",
        "environment_external_url": "https://app.example.com",
        "project": {
            "id": 30,
            "name": "app",
            "description": "",
            "web_url": "https://gitlab.example.com/group/app",
            "avatar_url": null,
            "namespace": "group",
            "visibility_level": 0,
            "path_with_namespace": "group/app",
            "default_branch": "main"
        },
        "short_sha": "279484c0",
        "user": {"id": 1, "name": "Administrator", "username": "root", "email": "admin@example.com"},
        "user_url": "https://gitlab.example.com/root",
        "commit_url": format!("https://gitlab.example.com/group/app/-/commit/{sha}"),
        "commit_title": "Add new file",
        "ref": "main",
        "sha": sha
    }))
    .expect("encode")
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_deployment_hook_with_token() {
    let server = start(CONFIG).await;
    let body = gitlab_deployment();
    let wrong = server
        .gitlab("Deployment Hook", "wrong-token", "uuid-1", &body)
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert_eq!(files_under(server.lake.local_root()), BTreeSet::new());

    let reply = server
        .gitlab("Deployment Hook", GL_SECRET, "uuid-2", &body)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let again = server
        .gitlab("Deployment Hook", GL_SECRET, "uuid-2", &body)
        .await;
    assert_eq!(again.json()["status"], "duplicate");

    let rows = query(
        &server.lake,
        "SELECT deployment_id, status, env_tier, commit_sha, kind, url, \
         to_char(finished_at, '%Y-%m-%dT%H:%M:%SZ') AS finished FROM deployments",
    )
    .await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["deployment_id"], "gl:group/app:15");
    assert_eq!(row["status"], "success");
    assert_eq!(row["env_tier"], "production");
    assert_eq!(
        row["commit_sha"],
        "279484c09fbe69ededfced8c1bb6e6d24616b468"
    );
    assert_eq!(row["kind"], "planned");
    assert_eq!(
        row["url"],
        "https://gitlab.example.com/group/app/-/jobs/796"
    );
    assert_eq!(row["finished"], "2021-04-28T19:50:00Z");
}

#[tokio::test(flavor = "multi_thread")]
async fn startup_needs_every_configured_secret() {
    let (_dir, lake) = temp_lake();
    let config = Config::parse(CONFIG, "test").expect("config");
    let only_github = WebhookSecrets::new().with("gh", GH_SECRET);
    let err = AppState::new(&config, lake.clone(), only_github)
        .expect_err("a missing secret is an error")
        .to_string();
    assert!(err.contains("sources.gl.webhook_secret_env"), "{err}");

    let unset = CONFIG.replace(
        "NORTHSTAR_TEST_WEBHOOK_GH_SECRET",
        "NORTHSTAR_TEST_WEBHOOK_SURELY_UNSET_4d1e",
    );
    let config = Config::parse(&unset, "test").expect("config");
    let err = WebhookSecrets::from_env(&config)
        .expect_err("an unset variable is an error")
        .to_string();
    assert!(
        err.contains("NORTHSTAR_TEST_WEBHOOK_SURELY_UNSET_4d1e"),
        "{err}"
    );
}
