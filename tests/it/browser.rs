//! The dashboards in a real browser: `northstar demo` renders them to files,
//! `northstar serve` serves them live from the demo lake, and headless Chromium loads
//! every page from both, dumps the DOM (every panel has an SVG with data in it),
//! watches the console (no message at all: the pages have no scripts, so any message
//! is a failed load or a blocked resource), takes a screenshot (kept under
//! `target/tmp/screenshots/`) and prints the executive page to PDF (one A4 page).
//!
//! Chromium comes from Debian (`chromium`), installed by `.ci/run`. Without it the
//! test prints SKIPPED, unless `NORTHSTAR_REQUIRE_BROWSER=1` (set by `.ci/run`) makes
//! that a failure.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::support::repo_root;

const DASHBOARDS: &[&str] = &["executive", "platform", "team-costs"];

fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    });
    if found.is_none() {
        assert!(
            std::env::var("NORTHSTAR_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "NORTHSTAR_REQUIRE_BROWSER=1 but no Chromium at /usr/bin/chromium (apt install chromium)"
        );
        eprintln!("SKIPPED: no Chromium (apt install chromium) for the browser test");
    }
    found
}

/// Runs headless Chromium on `url` with `extra` flags; stdout is the DOM with
/// `--dump-dom`, stderr carries the console messages.
fn browse(chromium: &Path, profile: &Path, url: &str, extra: &[String]) -> Output {
    Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1440,1800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("run chromium")
}

/// The console lines Chromium logged for the page.
fn console_messages(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect()
}

/// Every panel of a dumped page: (id, has an SVG, data points, data marks in it).
fn panels(dom: &str) -> Vec<(String, bool, usize, usize)> {
    dom.split("<section class=\"panel\"")
        .skip(1)
        .map(|chunk| {
            let body = chunk.split("</section>").next().unwrap_or_default();
            let attr = |name: &str| {
                body.split(&format!("{name}=\""))
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or_default()
                    .to_string()
            };
            let marks = ["<circle", "<polyline", "<path", "<rect", "<text"]
                .iter()
                .map(|m| body.matches(m).count())
                .sum();
            (
                attr("id"),
                body.contains("<svg"),
                attr("data-points").parse().unwrap_or(0),
                marks,
            )
        })
        .collect()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_ready(port: u16, server: &mut Server) {
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("northstar serve exited early: {status}");
        }
        if status(port, "/readyz") == Some(200) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "server not ready after 15 minutes"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The status of a plain HTTP/1.0 GET (the test drives processes; no runtime).
fn status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = String::new();
    stream.read_to_string(&mut head).ok()?;
    head.split_whitespace().nth(1)?.parse().ok()
}

fn check_page(chromium: &Path, profile: &Path, url: &str, shot: &Path) {
    let dump = browse(chromium, profile, url, &["--dump-dom".to_string()]);
    assert!(dump.status.success(), "chromium failed on {url}: {dump:?}");
    let dom = String::from_utf8_lossy(&dump.stdout);
    let console = console_messages(&dump);
    assert!(console.is_empty(), "{url}: console messages {console:#?}");
    let found = panels(&dom);
    assert!(!found.is_empty(), "{url}: no panels in the DOM");
    for (id, has_svg, points, marks) in &found {
        assert!(*has_svg, "{url}: panel {id} has no SVG");
        assert!(*points > 0, "{url}: panel {id} drew no data (no data yet?)");
        assert!(*marks > 3, "{url}: panel {id}'s SVG has {marks} marks");
    }
    let shot_run = browse(
        chromium,
        profile,
        url,
        &[format!("--screenshot={}", shot.display())],
    );
    assert!(shot_run.status.success(), "screenshot of {url} failed");
    let size = std::fs::metadata(shot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 20_000,
        "{}: screenshot only {size} bytes",
        shot.display()
    );
}

/// The PDF's page count (page objects are `/Type /Page`, the tree `/Type /Pages`).
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.matches("/Type /Page").count() - text.matches("/Type /Pages").count()
}

#[test]
fn the_console_detector_sees_a_console_error() {
    // The main test asserts there is no console message; this shows the detector
    // would see one, so that assertion can fail.
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("error.html");
    std::fs::write(&page, "<script>console.error('boom')</script><p>x</p>").expect("write page");
    let profile = dir.path().join("profile");
    let out = browse(
        &chromium,
        &profile,
        &format!("file://{}", page.display()),
        &["--dump-dom".to_string()],
    );
    let console = console_messages(&out);
    assert!(
        console.iter().any(|l| l.contains("boom")),
        "console error not seen; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn demo_dashboards_render_in_chromium_from_files_and_from_the_server() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("demo");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let profile = dir.path().join("profile");
    let bin = env!("CARGO_BIN_EXE_northstar");

    let demo = Command::new(bin)
        .args(["demo", "--out"])
        .arg(&out)
        .output()
        .expect("run demo");
    assert!(demo.status.success(), "demo failed: {demo:?}");
    let printed = String::from_utf8_lossy(&demo.stdout);
    assert!(printed.contains("dashboards (3): open"), "{printed}");

    for name in DASHBOARDS {
        let page = out.join("report").join(name).join("index.html");
        assert!(page.exists(), "{} missing", page.display());
        let url = format!("file://{}", page.display());
        check_page(
            &chromium,
            &profile,
            &url,
            &shots.join(format!("file-{name}.png")),
        );
    }

    // The executive page prints on one A4 page.
    let pdf = dir.path().join("executive.pdf");
    let page = out.join("report/executive/index.html");
    let printed = browse(
        &chromium,
        &profile,
        &format!("file://{}", page.display()),
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".to_string(),
        ],
    );
    assert!(printed.status.success(), "print to PDF failed: {printed:?}");
    let bytes = std::fs::read(&pdf).expect("pdf written");
    assert_eq!(
        pdf_pages(&bytes),
        1,
        "the executive page prints on one page"
    );

    // The same dashboards, live from the demo lake.
    let config = dir.path().join("northstar.toml");
    std::fs::copy(repo_root().join("src/demo/goals.toml"), &config).expect("config");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = Server(
        Command::new(bin)
            .arg("--lake")
            .arg(out.join("lake"))
            .arg("--config")
            .arg(&config)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(["--from", "2025-11-01", "--to", "2026-11-01"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start serve"),
    );
    wait_ready(port, &mut server);
    for name in DASHBOARDS {
        let url = format!("{base}/dashboards/{name}");
        check_page(
            &chromium,
            &profile,
            &url,
            &shots.join(format!("live-{name}.png")),
        );
    }
    eprintln!("screenshots: {}", shots.display());
}
