//! Proximity rules: a word that is harmless alone ("jailbreak", "developer
//! mode") rejects a text only within a few words of an AI word.

use crate::screen::ScreenRule::{self, RoleImpersonation};

/// A word that, near an anchor word, shows the text is about an AI model.
pub(crate) const AI_CONTEXT: &[&str] = &[
    "ai",
    "chatgpt",
    "gpt",
    "llm",
    "assistant",
    "chatbot",
    "bot",
    "openai",
    "claude",
    "gemini",
    "bard",
    "copilot",
    "prompt",
    "prompts",
    "language model",
    "yourself",
    "censorship",
    "uncensored",
    "unfiltered",
    "unrestricted",
    "content policy",
    "llama",
    "mistral",
];

/// Proximity rules: an anchor word within `window` words of an AI-context
/// word (so that a prison jailbreak film or an Android developer-mode
/// tutorial passes, but "jailbreak the AI" does not).
pub(crate) struct Proximity {
    pub(crate) rule: ScreenRule,
    pub(crate) anchors: &'static [&'static str],
    pub(crate) window: usize,
}

/// The proximity rules.
pub(crate) const PROXIMITY: &[Proximity] = &[
    Proximity {
        rule: RoleImpersonation,
        anchors: &[
            "jailbreak",
            "jailbroken",
            "jailbreaking",
            "jailbreaked",
            "jailbreaker",
        ],
        window: 5,
    },
    Proximity {
        rule: RoleImpersonation,
        anchors: &["developer mode", "dev mode", "dan mode", "god mode"],
        window: 8,
    },
];
