//! The phrase patterns of the screen, one file per [`ScreenRule`] they
//! reject for, each with its word lists next to the patterns that use them.
//! Every pattern needs several words in a row (an attack verb AND an attack
//! object, a role word AND a role marker, ...): single words such as
//! "ignore", "system", "assistant", "jailbreak" or "base64" never reject a
//! prompt on their own.
//!
//! [`ScreenRule`]: crate::screen::ScreenRule

use super::matcher::Pattern;

macro_rules! pattern {
    ($rule:expr, gap = $gap:literal, skeleton = $skel:literal, [$($slot:expr),+ $(,)?]) => {
        Pattern {
            rule: $rule,
            slots: &[$($slot),+],
            gap: $gap,
            skeleton: $skel,
        }
    };
}

mod delimiter_smuggling;
mod encoded_payload;
mod instruction_override;
mod proximity;
mod role_impersonation;
mod system_prompt_leak;

pub(crate) use proximity::{AI_CONTEXT, PROXIMITY};

/// Every phrase pattern, in the order they are tried (the first match
/// wins): instruction override, system prompt leak, role impersonation,
/// delimiter smuggling, encoded payload.
pub(crate) fn patterns() -> impl Iterator<Item = &'static Pattern> {
    [
        instruction_override::PATTERNS,
        system_prompt_leak::PATTERNS,
        role_impersonation::PATTERNS,
        delimiter_smuggling::PATTERNS,
        encoded_payload::PATTERNS,
    ]
    .into_iter()
    .flatten()
}
