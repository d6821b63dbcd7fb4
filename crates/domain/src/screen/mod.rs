//! The prompt-injection screen.
//!
//! [`check`] tells whether a text tries to steer the language model that
//! writes the storyboard, and which [`ScreenRule`] it broke; [`screen`] is
//! the same as a `VAL_004` [`ValidationError`]. [`Prompt::parse`] and
//! [`Title::parse`] call it, so a parsed prompt has passed the screen.
//!
//! How it works, in order (the first rule that matches wins; everything is
//! deterministic and linear-ish in the text length, no regex):
//!
//! 1. **Normalisation.** NFKD (fullwidth, mathematical, circled letters and
//!    ligatures become plain letters), invisible and formatting characters
//!    (zero-width spaces and joiners, bidi controls, soft hyphens, tags,
//!    variation selectors) and combining marks (diacritics) are dropped,
//!    Cyrillic/Greek/Armenian/IPA/small-capital look-alikes are mapped to
//!    ASCII, everything is lower-cased. From that *folded* text come word
//!    *tokens* (leetspeak digits mapped, `i g n o r e` joined) and a letters-only
//!    *skeleton* (`l`/`i`/`1`/`|` one class, repeated letters collapsed:
//!    `Ign0re...  prev-ious` → `ignoreprevious`).
//! 2. **Structure** (on the folded text): a role label at the start of a line
//!    or sentence followed by `:` (`System:`, `### Assistant:`), chat-template
//!    and delimiter tags (`<|im_start|>`, `[INST]`, `<<SYS>>`,
//!    `</user_prompt>`, our own [`USER_PROMPT_OPEN`] / [`USER_PROMPT_CLOSE`],
//!    any `<<<…>>>` tag), a code fence followed by a role word
//!    (```` ```system ````) and JSON role fields (`"role": "system"`).
//! 3. **Phrase patterns** (on tokens, with small gaps, and on the skeleton,
//!    contiguously): several words in a row, never a single word — an
//!    override verb and an instruction noun ("ignore … previous
//!    instructions"), a leak verb and a hidden-instruction object ("print
//!    your system prompt"), a role switch and an unbound role ("you are now
//!    DAN"), a boundary phrase ("END OF PROMPT"), a decode-and-obey request.
//!    "jailbreak" and "developer mode" count only near AI words ("the AI",
//!    "ChatGPT", "prompt", ...), so a prison-break film or an Android
//!    tutorial passes.
//! 4. **Encodings**: base64 and hex runs (≥ 16 chars) that decode to text,
//!    Unicode tag characters (invisible ASCII), reversed and ROT13 text are
//!    decoded and screened again (two levels deep); a hit is
//!    `encoded_payload`.

mod encoded;
mod matcher;
mod normalize;
mod rules;
mod structure;

use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;

#[cfg(doc)]
use crate::validation::{Prompt, Title};
use crate::validation::{ValidationError, ValidationErrorKind};

use matcher::Compiled;

/// The delimiter that opens the user prompt when it is sent to the language
/// model as data. The screen rejects prompts that contain it (or any tag like
/// it).
pub const USER_PROMPT_OPEN: &str = "<<<USER_PROMPT>>>";
/// The delimiter that closes the user prompt (see [`USER_PROMPT_OPEN`]).
pub const USER_PROMPT_CLOSE: &str = "<<<END_USER_PROMPT>>>";

/// Which rule of the screen a text broke. The string form (`as_str`, serde)
/// is what `VAL_004` details carry as `"rule"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScreenRule {
    /// Tries to cancel or replace the model's instructions ("ignore previous
    /// instructions", "you are now DAN").
    InstructionOverride,
    /// Tries to make the model reveal its system prompt.
    SystemPromptLeak,
    /// Poses as another chat role or authority ("System:", "\[INST\]",
    /// "developer mode enabled").
    RoleImpersonation,
    /// Contains data delimiters or chat-template markers meant to end the
    /// user data early ("END OF PROMPT", `</user_prompt>`).
    DelimiterSmuggling,
    /// Hides an attack in an encoding (base64, hex, reversed, ROT13,
    /// invisible tag characters) or asks for one to be decoded and obeyed.
    EncodedPayload,
}

impl ScreenRule {
    /// Every rule.
    pub const ALL: [ScreenRule; 5] = [
        ScreenRule::InstructionOverride,
        ScreenRule::SystemPromptLeak,
        ScreenRule::RoleImpersonation,
        ScreenRule::DelimiterSmuggling,
        ScreenRule::EncodedPayload,
    ];

    /// The stable rule id, e.g. `"instruction_override"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ScreenRule::InstructionOverride => "instruction_override",
            ScreenRule::SystemPromptLeak => "system_prompt_leak",
            ScreenRule::RoleImpersonation => "role_impersonation",
            ScreenRule::DelimiterSmuggling => "delimiter_smuggling",
            ScreenRule::EncodedPayload => "encoded_payload",
        }
    }

    /// A short, client-safe description.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            ScreenRule::InstructionOverride => "attempts to override instructions",
            ScreenRule::SystemPromptLeak => "asks for hidden instructions",
            ScreenRule::RoleImpersonation => "impersonates a system role",
            ScreenRule::DelimiterSmuggling => "contains reserved delimiters",
            ScreenRule::EncodedPayload => "contains an encoded payload",
        }
    }
}

impl fmt::Display for ScreenRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How deep encoded payloads are decoded and screened again.
const MAX_DEPTH: u8 = 2;

fn compiled() -> &'static [Compiled] {
    static COMPILED: OnceLock<Vec<Compiled>> = OnceLock::new();
    COMPILED.get_or_init(|| rules::patterns().map(Compiled::new).collect())
}

/// Screens `text` and returns the first rule it breaks, or `None` when it
/// looks like an ordinary prompt. Never panics; deterministic.
#[must_use]
pub fn check(text: &str) -> Option<ScreenRule> {
    check_at(text, 0)
}

/// [`check`] as a validation step for the `prompt` field.
///
/// # Errors
///
/// `VAL_004` with details `{"field": "prompt", "rule": "<rule id>"}`; the
/// text itself is never echoed.
pub fn screen(text: &str) -> Result<(), ValidationError> {
    screen_field(text, "prompt")
}

/// [`screen`] for any field name.
///
/// # Errors
///
/// `VAL_004` with details `{"field": field, "rule": "<rule id>"}`.
pub fn screen_field(text: &str, field: &str) -> Result<(), ValidationError> {
    match check(text) {
        None => Ok(()),
        Some(rule) => Err(ValidationError::new(
            field,
            ValidationErrorKind::Rejected { rule },
        )),
    }
}

fn check_at(text: &str, depth: u8) -> Option<ScreenRule> {
    let folded = normalize::fold(text);
    if let Some(rule) = structure::check(&folded) {
        return Some(rule);
    }
    let tokens = normalize::tokens(&folded);
    let skeleton = normalize::skeleton(&folded, false);
    let bar_skeleton = normalize::skeleton(&folded, true);
    let patterns = compiled();
    for pattern in patterns {
        if pattern.matches_tokens(&tokens)
            || pattern.matches_skeleton(&skeleton)
            || (bar_skeleton != skeleton && pattern.matches_skeleton(&bar_skeleton))
        {
            return Some(pattern.rule);
        }
    }
    if let Some(rule) = proximity(&tokens) {
        return Some(rule);
    }
    if depth >= MAX_DEPTH {
        return None;
    }
    // Reversed and ROT13 text.
    let reversed: Vec<u8> = skeleton.iter().rev().copied().collect();
    let rot13 = normalize::rot13_skeleton(&folded);
    if patterns
        .iter()
        .any(|p| p.matches_skeleton(&reversed) || p.matches_skeleton(&rot13))
    {
        return Some(ScreenRule::EncodedPayload);
    }
    // Base64, hex and tag-character payloads.
    for decoded in encoded::payloads(text) {
        if check_at(&decoded, depth + 1).is_some() {
            return Some(ScreenRule::EncodedPayload);
        }
    }
    None
}

fn proximity(tokens: &[normalize::Token]) -> Option<ScreenRule> {
    let words: Vec<&str> = tokens.iter().map(|t| t.word.as_str()).collect();
    let context: Vec<Vec<String>> = rules::AI_CONTEXT
        .iter()
        .map(|c| normalize::phrase_words(c))
        .collect();
    for rule in rules::PROXIMITY {
        for anchor in rule.anchors {
            let anchor = normalize::phrase_words(anchor);
            for start in find_all(&words, &anchor) {
                let lo = start.saturating_sub(rule.window);
                let hi = (start + anchor.len() + rule.window).min(words.len());
                let window = &words[lo..hi];
                if context.iter().any(|c| !find_all(window, c).is_empty()) {
                    return Some(rule.rule);
                }
            }
        }
    }
    None
}

fn find_all(words: &[&str], phrase: &[String]) -> Vec<usize> {
    if phrase.is_empty() || phrase.len() > words.len() {
        return Vec::new();
    }
    (0..=words.len() - phrase.len())
        .filter(|&i| {
            words[i..i + phrase.len()]
                .iter()
                .zip(phrase)
                .all(|(w, p)| *w == p)
        })
        .collect()
}

#[cfg(test)]
mod tests;
