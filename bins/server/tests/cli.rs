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
fn migrate_revert_reverts_the_last_migrations_and_migrate_applies_them_again() {
    let dir = tempfile::tempdir().unwrap();
    let migrate = |args: &[&str]| {
        let out = server()
            .env("YTVC_DATA_DIR", dir.path())
            .arg("migrate")
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            stderr,
        )
    };
    let (code, _, err) = migrate(&[]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = migrate(&["--revert", "3"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "reverted 2026-11-28-000007_api_keys\nreverted 2026-11-28-000006_artifact_retention\nreverted 2026-11-28-000005_jobs\n"
    );
    // Without a number: the last one.
    let (_, out, _) = migrate(&["--revert"]);
    assert_eq!(out, "reverted 2026-11-28-000004_videos\n");
    let (_, out, _) = migrate(&["--revert", "all"]);
    assert_eq!(
        out,
        "reverted 2026-11-28-000003_auth\nreverted 2026-11-28-000002_quota\nreverted 2026-11-28-000001_users\n"
    );
    let (code, out, _) = migrate(&["--revert", "all"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("nothing to revert"), "{out}");
    let (code, _, err) = migrate(&["--revert", "0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--revert"), "{err}");
    // `migrate` applies all seven again.
    let (code, _, err) = migrate(&[]);
    assert_eq!(code, Some(0), "{err}");
    let (_, out, _) = migrate(&["--revert", "all"]);
    assert_eq!(out.lines().count(), 7, "{out}");
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
    http(address, "GET", path, None, None).2
}

/// A minimal HTTP/1.1 request: (status, lower-cased head, raw response).
fn http(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(address).unwrap();
    let body = body.map(ToString::to_string).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let head = out
        .split_once("\r\n\r\n")
        .map_or(out.as_str(), |(h, _)| h)
        .to_ascii_lowercase();
    (status, head, out)
}

fn json_body(raw: &str) -> serde_json::Value {
    serde_json::from_str(raw.split_once("\r\n\r\n").map_or("", |(_, b)| b)).unwrap_or_default()
}

/// A server process and its address; killed when dropped.
struct Server {
    child: std::process::Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(envs: &[(&str, String)]) -> Server {
    let mut cmd = server();
    cmd.env("YTVC_BIND", "127.0.0.1:0").stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("a log line").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if v["msg"] == "listening" {
            break v["address"].as_str().unwrap().to_owned();
        }
    };
    // Keep draining the logs so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Server { child, address }
}

#[test]
fn two_server_processes_sharing_redis_enforce_one_combined_limit() {
    let Ok(redis) = std::env::var("YTVC_TEST_REDIS_URL") else {
        eprintln!("skipping: YTVC_TEST_REDIS_URL is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let envs = [
        ("YTVC_DATA_DIR", dir.path().display().to_string()),
        ("REDIS_URL", redis),
        (
            "YTVC_JWT_SECRET",
            "a-shared-secret-for-both-instances-0123456789".to_owned(),
        ),
    ];
    let a = start(&envs);
    let b = start(&envs);
    let email = format!("{}@example.com", unique());
    let creds = serde_json::json!({"email": email, "password": "correct horse battery staple"});
    let (status, _, raw) = http(&a.address, "POST", "/v1/auth/register", None, Some(&creds));
    assert_eq!(status, 201, "{raw}");
    let (_, _, raw) = http(&b.address, "POST", "/v1/auth/login", None, Some(&creds));
    let token = json_body(&raw)["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, _, raw) = http(&a.address, "GET", "/health/ready", None, None);
    assert_eq!(
        json_body(&raw)["data"]["components"]["redis"]["status"],
        "up",
        "{raw}"
    );
    let mut admitted = 0;
    for i in 0..120 {
        let server = if i % 2 == 0 { &a } else { &b };
        let (status, head, raw) = http(&server.address, "GET", "/v1/auth/me", Some(&token), None);
        match status {
            200 => admitted += 1,
            429 => assert!(head.contains("retry-after:"), "{head}"),
            other => panic!("unexpected status {other}: {raw}"),
        }
    }
    assert_eq!(admitted, 100, "one free-plan limit across both instances");
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("u{}x{nanos:x}", std::process::id())
}

/// Starts a process and collects its log lines in `sink`.
fn start_collecting(
    args: &[&str],
    envs: &[(&str, String)],
    sink: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) -> Server {
    let mut cmd = server();
    cmd.args(args)
        .env("YTVC_BIND", "127.0.0.1:0")
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in lines.map_while(Result::ok) {
            if !sent && line.contains("\"listening\"") {
                let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                let _ = tx.send(v["address"].as_str().unwrap_or_default().to_owned());
                sent = true;
            }
            if !sent && line.contains("\"worker started\"") {
                let _ = tx.send(String::new());
                sent = true;
            }
            sink.lock().unwrap().push(line);
        }
    });
    let address = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("process started");
    Server { child, address }
}

#[test]
fn three_workers_in_three_processes_run_500_videos_exactly_once() {
    let Some(db) = ytvc_persistence::testing::TestDb::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let envs = [
        ("YTVC_DATA_DIR", dir.path().display().to_string()),
        ("DATABASE_URL", db.url().to_owned()),
        (
            "YTVC_JWT_SECRET",
            "a-shared-secret-for-every-process-0123456789".to_owned(),
        ),
        ("YTVC_WORKER_CONCURRENCY", "2".to_owned()),
        ("YTVC_WORKER_POLL_MS", "20".to_owned()),
        ("YTVC_JOB_LEASE_SECS", "20".to_owned()),
        // Exactly-once is the point here, not the MP4 (tested elsewhere).
        ("YTVC_VIDEO_ASSEMBLY", "off".to_owned()),
    ];
    // An enterprise account (unlimited quota) made with the CLI.
    let mut create = server();
    create
        .args([
            "user",
            "create",
            "--email",
            "load@example.com",
            "--plan",
            "enterprise",
        ])
        .stdin(Stdio::piped());
    for (k, v) in &envs {
        create.env(k, v);
    }
    let mut child = create
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"correct horse battery staple\n")
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let api = start_collecting(&["serve"], &envs, logs.clone());
    let _w1 = start_collecting(&["worker"], &envs, logs.clone());
    let _w2 = start_collecting(&["worker"], &envs, logs.clone());
    let creds = serde_json::json!({"email": "load@example.com", "password": "correct horse battery staple"});
    let (_, _, raw) = http(&api.address, "POST", "/v1/auth/login", None, Some(&creds));
    let token = json_body(&raw)["data"]["access_token"]
        .as_str()
        .expect("login")
        .to_owned();
    let mut ids = std::collections::HashSet::new();
    let mut batches = Vec::new();
    for b in 0..5 {
        let videos: Vec<serde_json::Value> = (0..100)
            .map(|i| serde_json::json!({"prompt": format!("Load test clip {b}-{i} about quiet forests"), "duration_seconds": 5, "voice": "none"}))
            .collect();
        let (status, _, raw) = http(
            &api.address,
            "POST",
            "/v1/batches",
            Some(&token),
            Some(&serde_json::json!({"videos": videos})),
        );
        assert_eq!(status, 202, "{raw}");
        let body = json_body(&raw);
        batches.push(body["data"]["id"].as_str().unwrap().to_owned());
        for v in body["data"]["videos"].as_array().unwrap() {
            ids.insert(v["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(ids.len(), 500);
    let started = Instant::now();
    loop {
        let done: u64 = batches
            .iter()
            .map(|b| {
                let (_, _, raw) = http(
                    &api.address,
                    "GET",
                    &format!("/v1/batches/{b}"),
                    Some(&token),
                    None,
                );
                json_body(&raw)["data"]["progress"]["completed"]
                    .as_u64()
                    .unwrap_or(0)
            })
            .sum();
        if done == 500 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "only {done} of 500 completed"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Every run ends with one "job finished" line naming its video.
    let logs = logs.lock().unwrap().clone();
    let mut finished: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    let mut workers = std::collections::HashSet::new();
    for line in &logs {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
        if v["msg"] == "job finished" {
            finished
                .entry(v["video"].as_str().unwrap().to_owned())
                .or_default()
                .push(v["outcome"].as_str().unwrap().to_owned());
        }
        if v["msg"] == "worker started" {
            workers.insert(v["worker"].as_str().unwrap_or_default().to_owned());
        }
    }
    assert_eq!(workers.len(), 3, "three workers ran");
    assert_eq!(finished.len(), 500, "every video ran");
    for (video, outcomes) in &finished {
        assert!(ids.contains(video));
        assert_eq!(
            outcomes,
            &vec!["completed".to_owned()],
            "video {video} ran {} times",
            outcomes.len()
        );
    }
    let (_, _, raw) = http(&api.address, "GET", "/v1/quota", Some(&token), None);
    let q = json_body(&raw);
    assert_eq!(
        (q["data"]["used"].as_u64(), q["data"]["reserved"].as_u64()),
        (Some(500), Some(0)),
        "{raw}"
    );
    eprintln!(
        "500 videos through 3 worker processes in {:?}",
        started.elapsed()
    );
}

#[test]
fn a_job_of_a_killed_worker_is_rescued_and_completes_once() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        ("YTVC_DATA_DIR", dir.path().display().to_string()),
        (
            "YTVC_JWT_SECRET",
            "a-shared-secret-for-every-process-0123456789".to_owned(),
        ),
        ("YTVC_WORKER_POLL_MS", "20".to_owned()),
        ("YTVC_JOB_LEASE_SECS", "2".to_owned()),
        ("YTVC_VIDEO_ASSEMBLY", "off".to_owned()),
    ];
    let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let api = start_collecting(&["serve", "--no-worker"], &base, logs.clone());
    let mut slow = base.to_vec();
    slow.push(("YTVC_MEDIA_FAULTS", "narrate=slow:4000".to_owned()));
    let doomed_logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut doomed = start_collecting(&["worker"], &slow, doomed_logs.clone());

    let creds =
        serde_json::json!({"email": "k@example.com", "password": "correct horse battery staple"});
    http(
        &api.address,
        "POST",
        "/v1/auth/register",
        None,
        Some(&creds),
    );
    let (_, _, raw) = http(&api.address, "POST", "/v1/auth/login", None, Some(&creds));
    let token = json_body(&raw)["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let video = serde_json::json!({"prompt": "A lighthouse keeper's evening routine", "duration_seconds": 5});
    let (status, _, raw) = http(
        &api.address,
        "POST",
        "/v1/videos",
        Some(&token),
        Some(&video),
    );
    assert_eq!(status, 202, "{raw}");
    let id = json_body(&raw)["data"]["id"].as_str().unwrap().to_owned();
    let get = |id: &str| {
        json_body(
            &http(
                &api.address,
                "GET",
                &format!("/v1/videos/{id}"),
                Some(&token),
                None,
            )
            .2,
        )["data"]
            .clone()
    };

    // Wait until the doomed worker is inside the pipeline, then kill -9 it.
    let started = Instant::now();
    while get(&id)["status"] != "processing" {
        assert!(started.elapsed() < Duration::from_secs(20), "never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .arg("-9")
        .arg(doomed.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let _ = doomed.child.wait();

    // A healthy worker reaps the expired lease and runs the job again.
    let _rescuer = start_collecting(&["worker"], &base, logs.clone());
    let started = Instant::now();
    let v = loop {
        let v = get(&id);
        if v["status"] == "completed" || v["status"] == "failed" {
            break v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not rescued: {v}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["attempts"], 2, "{v}");
    // The log line follows the database write (through an async drain and
    // a pipe): wait for it, then make sure no second one comes.
    let finished = || -> Vec<String> {
        logs.lock()
            .unwrap()
            .iter()
            .chain(doomed_logs.lock().unwrap().iter())
            .filter(|l| l.contains("\"job finished\""))
            .cloned()
            .collect()
    };
    let started = Instant::now();
    while finished().is_empty() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(finished().len(), 1, "{:?}", finished());
    let (_, _, raw) = http(&api.address, "GET", "/v1/quota", Some(&token), None);
    let q = json_body(&raw);
    assert_eq!(
        (q["data"]["used"].as_u64(), q["data"]["reserved"].as_u64()),
        (Some(1), Some(0)),
        "committed once: {raw}"
    );
}

// ------------------------------------------------------- providers check

/// A fake OpenAI-compatible server on loopback that knows `models`:
/// `GET /v1/models/{model}` answers the model object for them and OpenAI's
/// 404 `model_not_found` for any other. The runtime must outlive the
/// server (wiremock serves from its own thread meanwhile).
fn fake_openai(models: &[&str]) -> (tokio::runtime::Runtime, wiremock::MockServer) {
    use wiremock::matchers::{method, path_regex};
    use wiremock::{Mock, Request, ResponseTemplate};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let known: Vec<String> = models.iter().map(|m| (*m).to_owned()).collect();
    let server = runtime.block_on(async move {
        let server = wiremock::MockServer::start().await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/v1/models/.+$"))
            .respond_with(move |request: &Request| {
                let model = request.url.path().trim_start_matches("/v1/models/");
                if known.iter().any(|k| k == model) {
                    ResponseTemplate::new(200)
                        .set_body_json(serde_json::json!({"id": model, "object": "model", "owned_by": "system"}))
                } else {
                    ResponseTemplate::new(404).set_body_json(serde_json::json!({"error": {
                        "message": format!("The model `{model}` does not exist or you do not have access to it."),
                        "type": "invalid_request_error", "param": null, "code": "model_not_found"}}))
                }
            })
            .mount(&server)
            .await;
        server
    });
    (runtime, server)
}

/// `providers check` with `envs`: (exit code, stdout, stderr).
fn providers_check(envs: &[(&str, String)]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = server();
    cmd.env("YTVC_DATA_DIR", dir.path())
        .args(["providers", "check"]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `openai` provider on `server` for storyboards and narration,
/// stills offline, no clips.
fn openai_envs(server: &wiremock::MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("YTVC_LLM_PROVIDER", "openai".into()),
        ("YTVC_TTS_PROVIDER", "openai".into()),
        ("YTVC_IMAGE_PROVIDER", "local".into()),
        ("YTVC_CLIP_PROVIDER", "none".into()),
        ("YTVC_OPENAI_BASE_URL", format!("{}/v1", server.uri())),
        ("YTVC_OPENAI_LLM_MODEL", "llama3.1".into()),
        ("YTVC_OPENAI_TTS_MODEL", "kokoro".into()),
    ]
}

#[test]
fn providers_check_prints_one_row_per_service_and_exits_0_when_all_pass() {
    let (_runtime, openai) = fake_openai(&["llama3.1", "kokoro"]);
    let (code, out, err) = providers_check(&openai_envs(&openai));
    assert_eq!(code, Some(0), "{out}{err}");
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().take(4).collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["service", "provider", "model", "result"],
            vec!["llm", "openai", "llama3.1", "ok"],
            vec!["tts", "openai", "kokoro", "ok"],
            vec!["image", "local", "-", "ok"],
            vec!["clip", "none", "-", "ok"],
        ],
        "{out}"
    );
    let received = _runtime.block_on(openai.received_requests()).unwrap();
    let paths: Vec<&str> = received.iter().map(|r| r.url.path()).collect();
    assert_eq!(paths.len(), 2, "one lookup per external service: {paths:?}");
    assert!(paths.contains(&"/v1/models/llama3.1") && paths.contains(&"/v1/models/kokoro"));
}

#[test]
fn providers_check_names_an_unknown_model_and_exits_non_zero() {
    let (_runtime, openai) = fake_openai(&["kokoro"]);
    let (code, out, err) = providers_check(&openai_envs(&openai));
    assert_eq!(code, Some(1), "{out}{err}");
    let llm = out
        .lines()
        .find(|l| l.starts_with("llm"))
        .expect("an llm row");
    assert!(
        llm.contains("llama3.1")
            && llm.contains("LLM_002: llm rejected the request: model \"llama3.1\" not found")
            && llm.contains("The model `llama3.1` does not exist"),
        "{out}"
    );
    let tts = out
        .lines()
        .find(|l| l.starts_with("tts"))
        .expect("a tts row");
    assert!(tts.ends_with(" ok"), "{out}");
    assert!(
        err.contains("the providers check failed: llm (openai, llama3.1): LLM_002"),
        "{err}"
    );
}

/// Runs the server (the default `serve`) with `envs`; a start-up that is
/// refused exits at once; one that is not is stopped after 10 s.
fn start_up(envs: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = server();
    cmd.env("YTVC_DATA_DIR", dir.path())
        .env("YTVC_BIND", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status.and_then(|s| s.code()), err)
}

#[test]
fn bad_provider_configuration_stops_start_up_naming_the_variable_with_exit_2() {
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("YTVC_LLM_PROVIDER", "olama")],
            "YTVC_LLM_PROVIDER: invalid value \"olama\": expected `local`, `gemini`, `vertex` or `openai`",
        ),
        (
            &[("YTVC_MEDIA_PROVIDER", "openai")],
            "OPENAI_API_KEY: required by YTVC_MEDIA_PROVIDER=openai at OpenAI's API",
        ),
        (
            &[
                ("YTVC_TTS_PROVIDER", "openai"),
                ("YTVC_OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
                ("YTVC_OPENAI_TTS_BASE_URL", "127.0.0.1:8880/v1"),
            ],
            "YTVC_OPENAI_TTS_BASE_URL: invalid value [redacted]: expected an http(s) base URL (not a URL)",
        ),
        (
            &[("YTVC_IMAGE_PROVIDER", "gemini")],
            "GEMINI_API_KEY: required by YTVC_IMAGE_PROVIDER=gemini",
        ),
        (
            &[("YTVC_CLIP_PROVIDER", "vertex")],
            "GOOGLE_APPLICATION_CREDENTIALS: required by YTVC_CLIP_PROVIDER=vertex",
        ),
    ];
    for (envs, expected) in cases {
        let (code, err) = start_up(envs);
        assert_eq!(code, Some(2), "{envs:?}: {err}");
        assert!(err.contains(expected), "{envs:?}: {err}");
    }
}

#[test]
fn production_runs_the_providers_check_at_start_and_readiness_shows_it() {
    let (_runtime, openai) = fake_openai(&["llama3.1"]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = server();
    cmd.env("YTVC_DATA_DIR", dir.path())
        .env("YTVC_BIND", "127.0.0.1:0")
        .env("YTVC_ENV", "production")
        .env("YTVC_JWT_SECRET", "0123456789abcdef0123456789abcdef-cli")
        .stderr(Stdio::piped());
    for (k, v) in openai_envs(&openai) {
        cmd.env(k, v);
    }
    let mut process = Server {
        child: cmd.spawn().unwrap(),
        address: String::new(),
    };
    let mut lines = BufReader::new(process.child.stderr.take().unwrap()).lines();
    let mut before = Vec::new();
    process.address = loop {
        let line = lines.next().expect("a log line").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if v["msg"] == "listening" {
            break v["address"].as_str().unwrap().to_owned();
        }
        before.push(v);
    };
    std::thread::spawn(move || lines.for_each(drop));
    // The table is logged before the server listens, a row per service.
    let rows: Vec<&serde_json::Value> = before
        .iter()
        .filter(|v| v["msg"] == "providers check")
        .collect();
    let services: Vec<&str> = rows
        .iter()
        .map(|v| v["media_service"].as_str().unwrap())
        .collect();
    assert_eq!(services, ["llm", "tts", "image", "clip"], "{before:?}");
    let tts = rows[1];
    assert_eq!(tts["level"], "WARN", "{tts}");
    assert!(
        tts["result"].as_str().unwrap().starts_with("MEDIA_003: ") && tts["model"] == "kokoro",
        "{tts}"
    );
    assert!(
        before.iter().any(|v| v["msg"]
            .as_str()
            .is_some_and(|m| m.starts_with("providers check failed"))),
        "{before:?}"
    );
    let ready = json_body(&http_get(&process.address, "/health/ready"));
    let providers = &ready["data"]["components"]["providers"];
    assert_eq!(providers["status"], "degraded", "{ready}");
    assert!(
        providers["error"]
            .as_str()
            .unwrap()
            .contains("tts (openai, kokoro): MEDIA_003"),
        "{providers}"
    );
}
