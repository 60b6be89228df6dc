//! Issue 24: the feed cannot be taken away. `vrev serve`'s publisher on real loopback sockets
//! (127.0.0.1 only, bounded loops): idle half-handshakes are dropped, connections are capped in
//! all and per address, browser origins are refused unless allowed, a shared token is checked.

use futures_util::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use vrev::feed::server::{serve, ServeOptions};
use vrev::market::synth::{generate, SynthOptions};

async fn start(opts: ServeOptions) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let bars = Arc::new(generate(&SynthOptions {
        days: 1,
        ..Default::default()
    }));
    tokio::spawn(serve(listener, bars, opts));
    url
}

fn opts() -> ServeOptions {
    let mut o = ServeOptions::new(false, 10, None);
    o.quiet = true;
    o
}

/// Completes a WebSocket handshake with `headers`; Err carries the HTTP status, if any.
async fn handshake(url: &str, headers: &[(&str, &str)]) -> Result<(), String> {
    let mut req = url.into_client_request().unwrap();
    for (k, v) in headers {
        let name =
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap();
        req.headers_mut().insert(name, v.parse().unwrap());
    }
    match tokio::time::timeout(
        Duration::from_secs(3),
        tokio_tungstenite::connect_async(req),
    )
    .await
    {
        Ok(Ok((mut ws, _))) => {
            // The vrev publisher greets with `hello`.
            let first = tokio::time::timeout(Duration::from_secs(3), ws.next()).await;
            match first {
                Ok(Some(Ok(m))) if m.to_text().unwrap_or("").contains("hello") => Ok(()),
                other => Err(format!("no hello: {other:?}")),
            }
        }
        Ok(Err(tokio_tungstenite::tungstenite::Error::Http(r))) => {
            Err(format!("http {}", r.status().as_u16()))
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}

async fn idle_sockets(url: &str, n: usize) -> Vec<TcpStream> {
    let addr = url.trim_start_matches("ws://");
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(TcpStream::connect(addr).await.unwrap());
    }
    v
}

/// The NinjaScript publisher had 16 unauthenticated slots that idle half-handshakes filled;
/// `vrev serve` had no cap at all (300 idle sockets used up the open-files limit).
#[tokio::test]
async fn idle_half_handshakes_are_dropped_and_cannot_lock_a_client_out() {
    let mut o = opts();
    o.handshake_timeout = Duration::from_millis(400);
    o.max_per_ip = 4;
    o.max_clients = 4;
    let url = start(o).await;
    let mut idle = idle_sockets(&url, 4).await;
    // Full: a fifth connection is closed at once, before any handshake.
    let mut extra = idle_sockets(&url, 1).await.pop().unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(2), extra.read(&mut buf))
        .await
        .expect("an over-cap socket is closed at once");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    // The idle ones are dropped after the handshake timeout...
    for s in &mut idle {
        let r = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
            .await
            .expect("an idle half-handshake is dropped within the timeout");
        assert!(matches!(r, Ok(0) | Err(_)), "{r:?}");
    }
    // ... and a real client gets in (a few tries while the server notices the closes).
    let started = Instant::now();
    let mut last = Err(String::new());
    for _ in 0..20 {
        last = handshake(&url, &[]).await;
        if last.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(last.is_ok(), "{last:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn the_per_address_cap_leaves_room_for_run_record_and_a_check() {
    let url = start(opts()).await;
    // The default caps: 8 per address, so four real clients from 127.0.0.1 always connect.
    let _idle = idle_sockets(&url, 4).await;
    for _ in 0..3 {
        handshake(&url, &[]).await.unwrap();
    }
}

/// The NinjaScript publisher accepted any `Origin`: a web page could read the feed.
#[tokio::test]
async fn a_browser_origin_is_refused_unless_allowed() {
    let url = start(opts()).await;
    assert_eq!(
        handshake(&url, &[("Origin", "https://evil.example")]).await,
        Err("http 403".into())
    );
    handshake(&url, &[]).await.unwrap();
    let mut o = opts();
    o.allowed_origins = vec!["http://localhost:3000".into()];
    let url = start(o).await;
    handshake(&url, &[("Origin", "http://localhost:3000")])
        .await
        .unwrap();
    assert_eq!(
        handshake(&url, &[("Origin", "http://localhost:3001")]).await,
        Err("http 403".into())
    );
}

#[tokio::test]
async fn a_shared_token_is_required_when_set_by_header_or_query() {
    let mut o = opts();
    o.token = Some("s3cret".into());
    let url = start(o).await;
    assert_eq!(handshake(&url, &[]).await, Err("http 401".into()));
    assert_eq!(
        handshake(&url, &[("X-Vrev-Token", "wrong")]).await,
        Err("http 401".into())
    );
    handshake(&url, &[("X-Vrev-Token", "s3cret")])
        .await
        .unwrap();
    handshake(&format!("{url}/?token=s3cret"), &[])
        .await
        .unwrap();
}

// ------------------------------------------------------------------------------------------
// The clients send the token (issue 24's gap): the real `vrev run` and `vrev record` against a
// publisher that requires it.

mod common;

/// A token-requiring `serve` on its own thread; returns the URL.
fn token_server(token: &str) -> String {
    let bars = Arc::new(generate(&SynthOptions {
        days: 1,
        ..Default::default()
    }));
    let mut o = opts();
    o.token = Some(token.to_string());
    common::serve_on_thread(bars, o)
}

/// Runs `vrev args` in `dir` (environment `env` added) until its stderr has `until` or 20 s
/// pass; then Ctrl+C. Returns (stdout, stderr).
fn vrev_until(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    until: &str,
) -> (String, String) {
    let err_path = dir.join(format!("stderr-{}.txt", args[0]));
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_vrev"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("VREV_FEED_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&err_path).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    while !std::fs::read_to_string(&err_path)
        .unwrap_or_default()
        .contains(until)
        && start.elapsed() < Duration::from_secs(20)
    {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        std::fs::read_to_string(&err_path).unwrap(),
    )
}

#[test]
fn run_and_record_send_the_configured_feed_token() {
    let url = token_server("s3cret");
    let p = common::Project::new();
    // Without the token: refused (401), so the next connections prove the token is sent.
    let (_, err) = vrev_until(
        p.dir.path(),
        &["run", "--url", &url, "--status-every", "0.2"],
        &[],
        "401",
    );
    assert!(
        err.contains("cannot connect") && err.contains("401"),
        "{err}"
    );
    assert!(!err.contains("s3cret"));
    // `vrev run` with `[feed] token` in config.toml.
    let cfg = std::fs::read_to_string(p.path("config.toml")).unwrap();
    p.write(
        "config.toml",
        &cfg.replacen("[feed]\n", "[feed]\ntoken = \"s3cret\"\n", 1),
    );
    let (out, err) = vrev_until(
        p.dir.path(),
        &["run", "--url", &url, "--status-every", "0.2"],
        &[],
        "history received",
    );
    assert!(err.contains("history received: 10 bars"), "{err}");
    assert!(!err.contains("401"), "{err}");
    assert!(!err.contains("s3cret") && !out.contains("s3cret"), "{err}");
    // `vrev record --token`, and `VREV_FEED_TOKEN` (which overrides a wrong `--token`).
    for (args, env) in [
        (vec!["--token", "s3cret"], vec![]),
        (
            vec!["--token", "wrong"],
            vec![("VREV_FEED_TOKEN", "s3cret")],
        ),
    ] {
        let mut a = vec![
            "record",
            "--url",
            &url,
            "--out",
            "rec.csv",
            "--status-every",
            "0.2",
        ];
        a.extend(args);
        let (out, err) = vrev_until(p.dir.path(), &a, &env, "status: connected");
        assert!(err.contains("status: connected"), "{err}");
        assert!(!err.contains("401"), "{err}");
        assert!(out.contains("recorded"), "{out}");
    }
}
