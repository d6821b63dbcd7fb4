//! The catalog rendered as Markdown (`docs/errors.md` is this text).

use crate::{Category, ErrorCode};
use std::fmt::Write as _;

/// Renders the whole catalog as the Markdown document committed at
/// `docs/errors.md`. A test fails when the committed file drifts from it.
#[must_use]
pub fn catalog_markdown() -> String {
    let mut out = String::new();
    out.push_str("# Error catalog\n\n");
    out.push_str(
        "<!-- Generated from crates/error-codes (ErrorCode). Do not edit by hand: \
         run `YTVC_BLESS=1 cargo test -p ytvc-error-codes` to regenerate. -->\n\n",
    );
    let _ = writeln!(
        out,
        "Every error answers with the envelope \
         `{{\"error\":{{\"code\",\"message\",\"details\",\"request_id\"}},\"timestamp\"}}` \
         and one of these {} codes. Clients match on `code`; the message may be reworded. \
         `GET /v1/errors` serves the same list as JSON.\n",
        ErrorCode::ALL.len()
    );
    out.push_str("Retryable means the same request may succeed later unchanged (honour `Retry-After` when present).\n");
    for cat in Category::ALL {
        let codes: Vec<_> = ErrorCode::ALL
            .iter()
            .filter(|c| c.category() == cat)
            .collect();
        let _ = writeln!(out, "\n## {} ({} codes)\n", cat.prefix(), codes.len());
        out.push_str("| code | HTTP | retryable | message |\n|---|---|---|---|\n");
        for code in codes {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                code.as_str(),
                code.http_status(),
                if code.retryable() { "yes" } else { "no" },
                code.default_message()
            );
        }
    }
    out
}
