//! `docs/errors.md` is generated from the enum; this test fails when it drifts.
//! Regenerate with `YTVC_BLESS=1 cargo test -p ytvc-error-codes`.

use std::path::PathBuf;

#[test]
fn committed_errors_md_matches_the_catalog() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/errors.md");
    let expected = ytvc_error_codes::catalog_markdown();
    if std::env::var_os("YTVC_BLESS").is_some() {
        std::fs::write(&path, &expected).expect("write docs/errors.md");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "docs/errors.md is out of date: run `YTVC_BLESS=1 cargo test -p ytvc-error-codes`"
    );
}
