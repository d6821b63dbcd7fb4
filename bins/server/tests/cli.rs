//! The real binary: start-up failures, subcommands and graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn server() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ytvc-server"));
    // A clean environment: only what each test sets.
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[test]
fn a_bad_config_value_names_the_variable_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = server()
        .env("YTVC_DATA_DIR", dir.path())
        .env("YTVC_BIND", "not-an-address")
        .env("YTVC_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("YTVC_BIND") && err.contains("HOST:PORT"),
        "{err}"
    );
    assert!(err.contains("YTVC_LOG_FORMAT"), "{err}");
}

#[test]
fn production_without_a_secret_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = server()
        .env("YTVC_DATA_DIR", dir.path())
        .env("YTVC_ENV", "production")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("YTVC_JWT_SECRET"), "{err}");
}

#[test]
fn an_unreachable_postgres_exits_fast_naming_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = server()
        .env("YTVC_DATA_DIR", dir.path())
        .env(
            "DATABASE_URL",
            "postgres://postgres:pw-not-shown@127.0.0.1:1/ytvc",
        )
        .env("YTVC_DB_CONNECT_TIMEOUT_MS", "2000")
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("database unavailable"), "{err}");
    assert!(
        err.contains("refused") || err.contains("127.0.0.1"),
        "{err}"
    );
    assert!(!err.contains("pw-not-shown"), "password leaked: {err}");
}

#[test]
fn openapi_prints_the_document() {
    let out = server().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/health"].is_object());
}

#[test]
fn migrate_applies_migrations_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let out = server()
        .env("YTVC_DATA_DIR", dir.path())
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("ytvc.db").exists());
}

#[test]
fn serve_answers_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = server()
        .env("YTVC_DATA_DIR", dir.path())
        .env("YTVC_BIND", "127.0.0.1:0")
        .env("YTVC_SHUTDOWN_TIMEOUT_SECS", "2")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("a log line").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
        if v["msg"] == "listening" {
            break v["address"].as_str().unwrap().to_owned();
        }
    };
    let reply = http_get(&address, "/health");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let started = Instant::now();
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("\"stopped\"")), "{rest:?}");
}

/// A minimal HTTP/1.1 GET over a socket (no client dependency needed).
fn http_get(address: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(address).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}
