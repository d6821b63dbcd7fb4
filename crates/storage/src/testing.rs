//! For tests of storage users: the S3-compatible server under test, as CI
//! configures it (`YTVC_TEST_S3_ENDPOINT`, the bucket [`TEST_BUCKET`], the
//! usual `AWS_*` credentials).

/// The bucket CI creates on its S3-compatible server.
pub const TEST_BUCKET: &str = "ytvc-test";

/// The S3 endpoint to test against, or `None` (with the reason printed,
/// naming `test`) when `YTVC_TEST_S3_ENDPOINT` or the `AWS_*` credentials
/// are unset. Without credentials an S3 client would ask the instance
/// metadata service, so tests never run without them.
///
/// # Panics
/// When `YTVC_REQUIRE_S3=1` and it would return `None`.
#[must_use]
pub fn s3_endpoint(test: &str) -> Option<String> {
    let endpoint = std::env::var("YTVC_TEST_S3_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty());
    let credentials = std::env::var_os("AWS_ACCESS_KEY_ID").is_some()
        && std::env::var_os("AWS_SECRET_ACCESS_KEY").is_some();
    let required = std::env::var("YTVC_REQUIRE_S3").is_ok_and(|v| v == "1");
    match (endpoint, credentials) {
        (Some(e), true) => Some(e),
        (endpoint, _) => {
            let why = if endpoint.is_none() {
                "YTVC_TEST_S3_ENDPOINT is not set"
            } else {
                "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set"
            };
            assert!(!required, "{test}: YTVC_REQUIRE_S3=1 but {why}");
            eprintln!("{test}: S3 part skipped: {why}");
            None
        }
    }
}
