//! The storyboard of the OpenAI-compatible provider, and how its answers
//! are classified, against a fake server replaying the answer and error
//! bodies of OpenAI, Ollama and llama.cpp.

mod openai_support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use openai_support::*;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use ytvc_domain::media::{MediaError, ScriptWriter, Service, script_request};
use ytvc_domain::screen::{USER_PROMPT_CLOSE, USER_PROMPT_OPEN};
use ytvc_media_clients::openai::{CallTimeouts, OpenAiConfig, Secret};
use ytvc_media_clients::resilience::{Backoff, BreakerState, ServiceGuards};

fn code(error: &MediaError) -> &'static str {
    error.code().as_str()
}

fn format_of(request: &wiremock::Request) -> Value {
    body(request)["response_format"]["type"].clone()
}

#[tokio::test]
async fn storyboard_by_json_schema_with_the_prompt_as_delimited_data_and_a_bearer_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(LLM_PATH))
        .and(header(
            "authorization",
            format!("Bearer {API_KEY}").as_str(),
        ))
        .respond_with(ok(completion(&storyboard_text())))
        .expect(1)
        .mount(&server)
        .await;
    let storyboard = provider(&server).write_script(&spec()).await.unwrap();
    assert_eq!(storyboard.title, "Life in the Tide Pools");
    assert_eq!(storyboard.scenes.len(), 2);
    assert_eq!(storyboard.scenes[1].index, 2);

    let received = requests(&server).await;
    let request = &received[0];
    assert!(request.url.query().is_none() && !request.url.as_str().contains(API_KEY));
    let body = body(request);
    assert_eq!(body["model"], "gpt-4o-mini");
    let expected = script_request(&spec());
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(
        messages[0]["content"],
        expected.system_instructions.as_str()
    );
    let system = messages[0]["content"].as_str().unwrap();
    assert!(!system.contains("zanzibarquux") && !system.contains("My own title"));
    assert_eq!(messages[1]["role"], "user");
    assert_eq!(
        messages[1]["content"],
        format!("{USER_PROMPT_OPEN}\n{PROMPT}\n{USER_PROMPT_CLOSE}")
    );
    let format = &body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "storyboard");
    assert_eq!(format["json_schema"]["strict"], true);
    let schema = &format["json_schema"]["schema"];
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["required"], json!(["refused", "title", "scenes"]));
    assert_eq!(
        schema["properties"]["scenes"]["items"]["additionalProperties"],
        false
    );
    // The prompt appears exactly once in the whole request.
    let raw = String::from_utf8_lossy(&request.body);
    assert_eq!(raw.matches("zanzibarquux").count(), 1);
}

#[tokio::test]
async fn servers_without_json_schema_get_json_object_once_and_then_always() {
    // llama.cpp before schemas (400), an LM Studio style string error, a
    // hosted API naming the parameter, and llama.cpp's older 500.
    let refusals = [
        (
            400,
            json!({"error": {"code": 400, "message": "response_format type must be one of \"text\" or \"json_object\", but got: json_schema", "type": "invalid_request_error"}}),
        ),
        (
            400,
            json!({"error": "'response_format.json_schema.schema' must be an object"}),
        ),
        (
            400,
            json!({"error": {"code": "InvalidParameter", "message": "The parameter `response_format.type` specified in the request are not valid: invalid value: `json_schema`, supported values are: `json_object` and `text`.", "param": "response_format.type", "type": "BadRequest"}}),
        ),
        (
            500,
            json!({"error": {"code": 500, "message": "response_format type must be one of \"text\" or \"json_object\", but got: json_schema", "type": "server_error"}}),
        ),
    ];
    for (status_code, refusal) in refusals {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(LLM_PATH))
            .and(wiremock::matchers::body_partial_json(
                json!({"response_format": {"type": "json_schema"}}),
            ))
            .respond_with(status(status_code, refusal.clone()))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(LLM_PATH))
            .and(wiremock::matchers::body_partial_json(
                json!({"response_format": {"type": "json_object"}}),
            ))
            .respond_with(ok(ollama_completion(&storyboard_text())))
            .mount(&server)
            .await;
        let provider = provider(&server);
        let storyboard = provider.write_script(&spec()).await.unwrap();
        assert_eq!(storyboard.scenes.len(), 2, "{refusal}");
        let received = requests(&server).await;
        assert_eq!(received.len(), 2, "{refusal}: no retries of the refusal");
        assert_eq!(format_of(&received[0]), "json_schema");
        assert_eq!(format_of(&received[1]), "json_object");
        assert_eq!(
            body(&received[1])["messages"],
            body(&received[0])["messages"]
        );

        // Remembered: the next storyboard starts with json_object.
        provider.write_script(&spec()).await.unwrap();
        let received = requests(&server).await;
        assert_eq!(received.len(), 3);
        assert_eq!(format_of(&received[2]), "json_object");
        assert_eq!(provider.guards().llm.breaker().stats().failures, 0);
    }
}

#[tokio::test]
async fn an_unparsable_storyboard_is_repaired_once() {
    let server = MockServer::start().await;
    let bad = "Sure! Here is your storyboard: {\"title\": \"Tide pools\", \"scenes\": [";
    mount_first(&server, "POST", LLM_PATH, 1, ok(completion(bad))).await;
    mount(
        &server,
        "POST",
        LLM_PATH,
        ok(completion(&storyboard_text())),
    )
    .await;
    let storyboard = provider(&server).write_script(&spec()).await.unwrap();
    assert_eq!(storyboard.scenes.len(), 2);

    let received = requests(&server).await;
    assert_eq!(received.len(), 2, "one answer, one repair");
    let first = body(&received[0]);
    let repair = body(&received[1]);
    let messages = repair["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[..2], first["messages"].as_array().unwrap()[..]);
    assert_eq!(messages[2], json!({"role": "assistant", "content": bad}));
    assert_eq!(messages[3]["role"], "user");
    let ask = messages[3]["content"].as_str().unwrap();
    assert!(ask.contains("JSON") && !ask.contains("zanzibarquux"));
    assert_eq!(repair["response_format"], first["response_format"]);
}

#[tokio::test]
async fn unparsable_twice_is_llm_003_and_a_non_json_answer_is_asked_again() {
    let server = serving(
        "POST",
        LLM_PATH,
        ok(completion(
            r#"{"refused": false, "title": "Tide pools", "scenes": []}"#,
        )),
    )
    .await;
    let error = provider(&server).write_script(&spec()).await.unwrap_err();
    assert_eq!(code(&error), "LLM_003");
    assert!(error.to_string().contains("after one repair"), "{error}");
    assert_eq!(requests(&server).await.len(), 2);

    let server = serving(
        "POST",
        LLM_PATH,
        ResponseTemplate::new(200).set_body_string("{\"choices\": [{\"message\": "),
    )
    .await;
    let error = provider(&server).write_script(&spec()).await.unwrap_err();
    assert_eq!(code(&error), "LLM_003");
    let received = requests(&server).await;
    assert_eq!(received.len(), 2);
    assert_eq!(body(&received[1]), body(&received[0]), "same request again");
}

#[tokio::test]
async fn refusals_are_final_llm_004() {
    for answer in [
        refusal_completion(),
        filtered_completion(),
        completion(r#"{"refused": true, "title": "", "scenes": []}"#),
        ollama_completion(r#"{"refused": true}"#),
    ] {
        let server = serving("POST", LLM_PATH, ok(answer.clone())).await;
        let error = provider(&server).write_script(&spec()).await.unwrap_err();
        assert_eq!(code(&error), "LLM_004", "{answer}");
        assert!(matches!(error, MediaError::Refused { .. }));
        assert!(!error.retryable());
        assert_eq!(requests(&server).await.len(), 1, "{answer}");
    }
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_after_the_servers_wait() {
    let server = MockServer::start().await;
    mount_first(
        &server,
        "POST",
        LLM_PATH,
        1,
        status(429, rate_limited()).insert_header("retry-after", "1"),
    )
    .await;
    mount(
        &server,
        "POST",
        LLM_PATH,
        ok(completion(&storyboard_text())),
    )
    .await;
    // Real guards: tokio sleep, random jitter (unused: the server's wait wins).
    let provider = provider_with(keyed(&server), ServiceGuards::new(backoff()));
    let started = Instant::now();
    provider.write_script(&spec()).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn rate_limit_waits_come_from_the_headers_of_the_exhausted_limit() {
    let ms = Duration::from_millis;
    type Headers = &'static [(&'static str, &'static str)];
    let cases: [(Headers, Option<Duration>); 5] = [
        (
            &[("retry-after-ms", "120"), ("retry-after", "1")],
            Some(ms(120)),
        ),
        (
            &[
                ("x-ratelimit-remaining-requests", "0"),
                ("x-ratelimit-remaining-tokens", "190000"),
                ("x-ratelimit-reset-requests", "20ms"),
                ("x-ratelimit-reset-tokens", "6m0s"),
            ],
            Some(ms(20)),
        ),
        (
            &[
                ("x-ratelimit-remaining-requests", "4999"),
                ("x-ratelimit-remaining-tokens", "0"),
                ("x-ratelimit-reset-requests", "12ms"),
                ("x-ratelimit-reset-tokens", "0.5s"),
            ],
            Some(ms(500)),
        ),
        // No header: the message's "Please try again in 134ms".
        (&[], Some(ms(134))),
        // The tokens limit resets in 6 minutes: longer than the 1 s the
        // backoff waits for, so the retries end at once.
        (
            &[
                ("x-ratelimit-reset-requests", "1s"),
                ("x-ratelimit-reset-tokens", "6m0s"),
            ],
            None,
        ),
    ];
    for (headers, wait) in cases {
        let server = MockServer::start().await;
        let mut limited = status(429, rate_limited());
        for (name, value) in headers {
            limited = limited.insert_header(*name, *value);
        }
        mount_first(&server, "POST", LLM_PATH, 1, limited).await;
        mount(
            &server,
            "POST",
            LLM_PATH,
            ok(completion(&storyboard_text())),
        )
        .await;
        let (guards, slept) = recording_guards();
        let result = provider_with(keyed(&server), guards)
            .write_script(&spec())
            .await;
        match wait {
            Some(wait) => {
                assert!(result.is_ok(), "{headers:?}");
                assert_eq!(*slept.lock().unwrap(), [wait], "{headers:?}");
                assert_eq!(requests(&server).await.len(), 2);
            }
            None => {
                let error = result.unwrap_err();
                assert_eq!(code(&error), "LLM_002");
                assert!(matches!(error, MediaError::Unavailable { .. }));
                assert!(error.retryable(), "the job may try later");
                assert!(slept.lock().unwrap().is_empty());
                assert_eq!(requests(&server).await.len(), 1);
            }
        }
    }
}

#[tokio::test]
async fn insufficient_quota_is_final_and_not_held_against_the_service() {
    let server = serving("POST", LLM_PATH, status(429, insufficient_quota())).await;
    let provider = provider(&server);
    let error = provider.write_script(&spec()).await.unwrap_err();
    assert_eq!(
        error,
        MediaError::QuotaExhausted {
            service: Service::Llm
        }
    );
    assert_eq!(code(&error), "LLM_002");
    assert!(!error.retryable(), "the job is not retried either");
    assert_eq!(requests(&server).await.len(), 1, "never retried");
    for _ in 0..15 {
        let _ = provider.write_script(&spec()).await;
    }
    assert_eq!(provider.guards().llm.state(), BreakerState::Closed);
    assert_eq!(provider.guards().llm.breaker().stats().failures, 0);
    assert_eq!(requests(&server).await.len(), 16);
}

#[tokio::test]
async fn a_refused_key_and_an_unknown_model_are_final_with_the_servers_message() {
    let cases = [
        (401, invalid_api_key(), "invalid_api_key"),
        (
            404,
            model_not_found("gpt-4o-mini"),
            "The model `gpt-4o-mini` does not exist",
        ),
        (
            404,
            ollama_model_not_found("gpt-4o-mini"),
            "try pulling it first",
        ),
        (
            403,
            openai_error(
                "Project `proj_x` does not have access to model `gpt-4o-mini`",
                "invalid_request_error",
                Value::Null,
                json!("model_not_found"),
            ),
            "does not have access",
        ),
    ];
    for (status_code, answer, kept) in cases {
        let server = serving("POST", LLM_PATH, status(status_code, answer.clone())).await;
        let error = provider(&server).write_script(&spec()).await.unwrap_err();
        assert!(matches!(error, MediaError::Rejected { .. }), "{error}");
        assert_eq!(code(&error), "LLM_002");
        assert!(!error.retryable());
        let text = error.to_string();
        assert!(text.contains(&format!("HTTP {status_code}")), "{text}");
        assert!(text.contains(kept), "{text}");
        assert!(!text.contains(API_KEY));
        assert_eq!(requests(&server).await.len(), 1, "{answer}");
    }
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed_or_end_unavailable() {
    for (status_code, answer) in [(503, overloaded()), (500, server_error())] {
        let server = MockServer::start().await;
        mount_first(
            &server,
            "POST",
            LLM_PATH,
            2,
            status(status_code, answer.clone()),
        )
        .await;
        mount(
            &server,
            "POST",
            LLM_PATH,
            ok(completion(&storyboard_text())),
        )
        .await;
        let (guards, slept) = recording_guards();
        provider_with(keyed(&server), guards)
            .write_script(&spec())
            .await
            .unwrap();
        assert_eq!(requests(&server).await.len(), 3);
        assert_eq!(slept.lock().unwrap().len(), 2, "backoff between attempts");

        let server = serving("POST", LLM_PATH, status(status_code, answer.clone())).await;
        let error = provider(&server).write_script(&spec()).await.unwrap_err();
        assert!(matches!(error, MediaError::Unavailable { .. }), "{error}");
        assert_eq!(code(&error), "LLM_002");
        assert_eq!(requests(&server).await.len(), 3, "max_attempts");
    }
}

#[tokio::test]
async fn slow_answers_time_out_and_a_closed_port_is_unavailable() {
    let server = serving(
        "POST",
        LLM_PATH,
        ok(completion(&storyboard_text())).set_delay(Duration::from_secs(2)),
    )
    .await;
    let once = Backoff {
        max_attempts: 1,
        ..backoff()
    };
    let provider = provider_with(
        keyed(&server),
        ServiceGuards::for_tests(once, Default::default()),
    );
    let started = Instant::now();
    let error = provider.write_script(&spec()).await.unwrap_err();
    assert_eq!(
        error,
        MediaError::Timeout {
            service: Service::Llm
        }
    );
    assert_eq!(code(&error), "LLM_001");
    assert!(started.elapsed() < Duration::from_millis(1500));

    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut config = OpenAiConfig::default().with_base_url(&format!("http://127.0.0.1:{port}/v1"));
    config.llm.timeouts = CallTimeouts::new(Duration::from_millis(300), Duration::from_millis(600));
    let error = provider_with(config, guards())
        .write_script(&spec())
        .await
        .unwrap_err();
    assert!(matches!(error, MediaError::Unavailable { .. }), "{error}");
    assert!(error.to_string().contains("connection failed"), "{error}");
}

#[tokio::test]
async fn the_key_never_shows_in_debug_output_or_error_strings() {
    // A hostile server echoes the whole key back.
    let server = MockServer::start().await;
    let echo = openai_error(
        &format!("Incorrect API key provided: {API_KEY}."),
        "invalid_request_error",
        Value::Null,
        json!("invalid_api_key"),
    );
    mount(&server, "POST", LLM_PATH, status(401, echo)).await;
    let provider = provider(&server);
    let error = provider.write_script(&spec()).await.unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(!text.contains(API_KEY), "{text}");
    assert!(text.contains("Incorrect API key provided: ***"), "{text}");

    let debug = format!("{provider:?} {:?}", provider.config());
    assert!(!debug.contains(API_KEY), "{debug}");
    assert!(debug.contains("***"));
    assert_eq!(provider.name(), "openai");
    let secret = Secret::new(API_KEY);
    assert_eq!(format!("{secret} {secret:?}"), "*** ***");
}
