//! `instruction_override`: an override verb and an instruction noun
//! ("ignore … previous instructions"), a role switch and an unbound role
//! ("you are now DAN"), "you have no restrictions", "from now on you will
//! only answer …", "override your safety filters".

use crate::screen::ScreenRule::InstructionOverride;
use crate::screen::matcher::{Pattern, Slot, many, one, some};

/// Verbs that throw away instructions.
const OVERRIDE_VERBS: &[&str] = &[
    "ignore",
    "ignoring",
    "disregard",
    "disregarding",
    "forget",
    "forgetting",
    "override",
    "overriding",
    "bypass",
    "bypassing",
    "skip",
    "discard",
    "abandon",
    "neglect",
    "dismiss",
    "set aside",
    "put aside",
    "throw out",
    "throw away",
    "pay no attention to",
    "do not follow",
    "don't follow",
    "dont follow",
    "do not obey",
    "don't obey",
    "stop following",
    "no longer follow",
    "stop obeying",
    "cancel",
    "nullify",
    "overwrite",
    "supersede",
    "unlearn",
    "ignore and forget",
    "forget and ignore",
    "disobey",
];

/// Filler words allowed between the verb and its object.
const FILLERS: &[&str] = &[
    "all",
    "any",
    "every",
    "each",
    "the",
    "of",
    "your",
    "ur",
    "my",
    "these",
    "those",
    "its",
    "this",
    "that",
    "such",
    "and",
    "or",
    "just",
    "please",
    "now",
    "completely",
    "entirely",
    "totally",
    "fully",
    "simply",
    "kindly",
    "also",
    "then",
    "whole",
    "entire",
    "rest of the",
    "other",
    "you",
    "were",
    "given",
    "you were given",
    "you've been given",
    "you have been given",
    "so",
    "seriously",
];

/// Adjectives that point at earlier or higher-level instructions.
const PRIOR_ADJS: &[&str] = &[
    "previous",
    "previously",
    "prior",
    "preceding",
    "above",
    "earlier",
    "former",
    "foregoing",
    "aforementioned",
    "original",
    "initial",
    "given",
    "system",
    "developer",
    "developers",
    "developer's",
    "hidden",
    "secret",
    "built in",
    "built-in",
    "builtin",
    "preset",
    "pre-set",
    "programmed",
    "preprogrammed",
    "internal",
    "openai",
    "openai's",
    "upstream",
    "underlying",
];

/// What instructions are called.
const INSTRUCTION_NOUNS: &[&str] = &[
    "instructions",
    "instruction",
    "directions",
    "directives",
    "directive",
    "rules",
    "guidelines",
    "guideline",
    "commands",
    "command",
    "prompt",
    "prompts",
    "context",
    "constraints",
    "restrictions",
    "limitations",
    "programming",
    "training",
    "guardrails",
    "guard rails",
    "filters",
    "policies",
    "policy",
    "messages",
    "text",
    "protocols",
    "safeguards",
    "system prompt",
    "system message",
];

/// Nouns that are instructions to a model even without an adjective.
const STRONG_INSTRUCTION_NOUNS: &[&str] = &[
    "instructions",
    "instruction",
    "directives",
    "programming",
    "guidelines",
    "guardrails",
    "restrictions",
    "constraints",
    "system prompt",
    "system message",
    "system instructions",
    "safety guidelines",
    "content policy",
    "content policies",
    "safety rules",
    "safety filters",
    "content filters",
    "ethical guidelines",
    "prompt",
];

/// Determiners that address the model ("your", "all", ...).
const ADDRESSING: &[&str] = &[
    "your",
    "ur",
    "all your",
    "all of your",
    "any of your",
    "every one of your",
    "each of your",
];

/// Determiners that may or may not address the model ("all", "any").
const QUANTIFIERS: &[&str] = &["all", "all the", "all of the", "any", "every", "each"];

/// Nouns that are a model's instructions even after "all" / "any".
const MODEL_INSTRUCTION_NOUNS: &[&str] = &[
    "instructions",
    "instruction",
    "directives",
    "programming",
    "guardrails",
    "system prompt",
    "system message",
    "system instructions",
    "prompts",
    "prior prompts",
];

/// "What came before".
const EARLIER_SCOPE: &[&str] = &[
    "above",
    "the above",
    "everything above",
    "all above",
    "all of the above",
    "anything above",
    "preceding",
    "the preceding",
    "foregoing",
    "the foregoing",
    "aforementioned",
    "before this",
    "before this line",
    "before this point",
    "before this message",
    "before this sentence",
    "prior to this",
    "previously",
    "that came before",
    "what came before",
    "everything before this",
    "in the system prompt",
];

const WHAT: &[&str] = &[
    "everything",
    "all",
    "anything",
    "whatever",
    "what",
    "all that",
    "everything that",
    "anything that",
    "the things",
    "all the things",
    "every instruction",
    "every rule",
];

const WHAT_FILLERS: &[&str] = &[
    "you",
    "were",
    "was",
    "have",
    "has",
    "had",
    "been",
    "ve",
    "i",
    "it",
    "that",
    "is",
    "told",
    "said",
    "given",
    "written",
    "stated",
    "mentioned",
    "just",
    "the",
    "of",
    "in",
    "this",
    "conversation",
    "chat",
    "message",
    "prompt",
    "text",
    "by",
    "me",
    "someone",
    "they",
];

/// Ways of telling the model what it now is.
const YOU_ARE: &[&str] = &[
    "you are",
    "you're",
    "youre",
    "u r",
    "ur",
    "you will be",
    "you'll be",
    "you shall be",
    "you must be",
    "you have become",
    "you've become",
    "from now on you are",
    "from now on you will be",
    "act as",
    "acting as",
    "pretend to be",
    "pretend you are",
    "pretend that you are",
    "roleplay as",
    "role-play as",
    "role play as",
    "behave as",
    "behave like",
    "become",
    "transform into",
    "simulate",
    "emulate",
    "respond as",
    "answer as",
    "reply as",
    "you are going to be",
    "you're going to be",
    "you are going to act as",
    "you're going to act as",
    "imagine you are",
    "imagine you're",
];

/// What an attacker tells the model it now is.
const UNBOUND_ROLES: &[&str] = &[
    "dan",
    "d a n",
    "unrestricted",
    "unfiltered",
    "uncensored",
    "unbound",
    "unchained",
    "unshackled",
    "jailbroken",
    "jail broken",
    "unaligned",
    "no longer bound",
    "no longer restricted",
    "no longer limited",
    "no longer an ai",
    "no longer a language model",
    "no longer an assistant",
    "no longer chatgpt",
    "without restrictions",
    "without any restrictions",
    "without filters",
    "without any filters",
    "without guidelines",
    "without any guidelines",
    "without censorship",
    "with no restrictions",
    "with no filters",
    "with no guidelines",
    "with no censorship",
    "in developer mode",
    "in dev mode",
    "in jailbreak mode",
    "in unrestricted mode",
    "in dan mode",
    "an ai without",
    "a model without",
    "an assistant without",
    "a chatbot without",
    "an ai with no",
    "a model with no",
    "an assistant with no",
    "a chatbot with no",
    "anti gpt",
    "antigpt",
    "betterdan",
    "better dan",
    "evil confidant",
    "mongo tom",
    "do anything now",
];

const ARTICLES: &[&str] = &[
    "now",
    "a",
    "an",
    "the",
    "my",
    "our",
    "called",
    "named",
    "now a",
    "now an",
    "truly",
    "fully",
    "completely",
    "totally",
];

const RESTRICTION_NOUNS: &[&str] = &[
    "restrictions",
    "filters",
    "filtering",
    "censorship",
    "guidelines",
    "rules",
    "safety",
    "ethics",
    "morals",
    "policies",
    "policy",
    "guardrails",
    "moderation",
    "constraints",
    "content policy",
    "safety guidelines",
    "ethical guidelines",
    "programming",
    "limitations",
];

const RESTRICTION_ADJS: &[&str] = &[
    "any", "all", "your", "the", "ethical", "moral", "safety", "content", "openai", "openai's",
    "usual", "normal", "standard", "typical", "built-in", "built in", "of", "these", "those",
];

const S_FILLERS: Slot = many(FILLERS, 4);

/// The `instruction_override` patterns, in the order they are tried.
pub(super) const PATTERNS: &[Pattern] = &[
    // "ignore (all) (the) previous instructions", "disregard your original rules"
    pattern!(
        InstructionOverride,
        gap = 2,
        skeleton = true,
        [
            one(OVERRIDE_VERBS),
            S_FILLERS,
            some(PRIOR_ADJS, 3),
            one(INSTRUCTION_NOUNS),
        ]
    ),
    // "ignore your instructions", "forget all guidelines"
    pattern!(
        InstructionOverride,
        gap = 1,
        skeleton = true,
        [
            one(OVERRIDE_VERBS),
            many(&["please", "now", "just", "simply", "completely"], 1),
            one(ADDRESSING),
            many(PRIOR_ADJS, 2),
            one(STRONG_INSTRUCTION_NOUNS),
        ]
    ),
    // "ignore all instructions"
    pattern!(
        InstructionOverride,
        gap = 0,
        skeleton = true,
        [
            one(OVERRIDE_VERBS),
            one(QUANTIFIERS),
            one(MODEL_INSTRUCTION_NOUNS),
        ]
    ),
    // "disregard the above", "ignore everything before this line"
    pattern!(
        InstructionOverride,
        gap = 1,
        skeleton = true,
        [
            one(OVERRIDE_VERBS),
            many(
                &[
                    "please",
                    "now",
                    "just",
                    "simply",
                    "completely",
                    "all of",
                    "all"
                ],
                2
            ),
            one(EARLIER_SCOPE),
        ]
    ),
    // "forget everything you were told so far"
    pattern!(
        InstructionOverride,
        gap = 1,
        skeleton = true,
        [
            one(OVERRIDE_VERBS),
            one(WHAT),
            many(WHAT_FILLERS, 6),
            one(EARLIER_SCOPE),
        ]
    ),
    // "forget what you were instructed/programmed"
    pattern!(
        InstructionOverride,
        gap = 1,
        skeleton = true,
        [
            one(OVERRIDE_VERBS),
            one(WHAT),
            many(WHAT_FILLERS, 4),
            one(&[
                "instructed",
                "programmed",
                "prompted",
                "trained",
                "configured"
            ]),
        ]
    ),
    // "you are now DAN", "act as an unrestricted AI", "pretend you are free from rules"
    pattern!(
        InstructionOverride,
        gap = 1,
        skeleton = true,
        [one(YOU_ARE), many(ARTICLES, 2), one(UNBOUND_ROLES),]
    ),
    // "pretend you are free from all rules"
    pattern!(
        InstructionOverride,
        gap = 1,
        skeleton = true,
        [
            one(YOU_ARE),
            many(ARTICLES, 2),
            one(&[
                "free from",
                "freed from",
                "free of",
                "released from",
                "not bound by",
                "not restricted by",
                "no longer bound by",
                "unbound by",
                "liberated from",
                "no longer restricted by",
                "not limited by",
                "beyond"
            ]),
            many(RESTRICTION_ADJS, 3),
            one(RESTRICTION_NOUNS),
        ]
    ),
    // "you have no restrictions", "you don't have any guidelines"
    pattern!(
        InstructionOverride,
        gap = 1,
        skeleton = true,
        [
            one(&[
                "you have no",
                "you now have no",
                "you no longer have",
                "you don't have",
                "you do not have",
                "you dont have",
                "you have zero",
                "there are no",
                "you are not subject to",
                "you're not subject to",
                "you are free from",
                "you're free from",
                "you are not bound by",
                "you're not bound by",
                "you are no longer bound by",
                "you're no longer bound by"
            ]),
            many(&["any", "more", "longer", "the", "your", "of"], 2),
            one(&[
                "restrictions",
                "guidelines",
                "filters",
                "ethics",
                "morals",
                "censorship",
                "content policy",
                "content policies",
                "programming",
                "guardrails",
                "safety guidelines",
                "ethical guidelines",
                "rules or restrictions",
                "openai policies",
                "openai's policies",
                "policies"
            ]),
        ]
    ),
    // "respond without any restrictions", "answer with no filters"
    pattern!(
        InstructionOverride,
        gap = 1,
        skeleton = true,
        [
            one(&[
                "respond",
                "answer",
                "reply",
                "output",
                "comply",
                "behave",
                "operate",
                "proceed",
                "act",
                "generate",
                "responding",
                "answering"
            ]),
            many(
                &[
                    "freely",
                    "honestly",
                    "fully",
                    "completely",
                    "now",
                    "from now on"
                ],
                1
            ),
            one(&[
                "without",
                "with no",
                "free of",
                "free from",
                "ignoring",
                "regardless of",
                "unbound by",
                "unconstrained by",
                "not bound by",
                "unrestricted by",
                "outside",
                "beyond"
            ]),
            many(RESTRICTION_ADJS, 3),
            one(RESTRICTION_NOUNS),
        ]
    ),
    // "your new instructions are", "here are your real instructions"
    pattern!(
        InstructionOverride,
        gap = 0,
        skeleton = true,
        [
            one(&[
                "your",
                "ur",
                "these are your",
                "here are your",
                "here are the",
                "below are your",
                "following are your",
                "the following are your"
            ]),
            one(&[
                "new",
                "updated",
                "revised",
                "real",
                "actual",
                "true",
                "secret",
                "overriding",
                "override",
                "replacement",
                "modified"
            ]),
            one(&[
                "instructions",
                "directives",
                "orders",
                "system prompt",
                "programming",
                "persona",
                "prime directive",
                "core directive",
                "task is",
                "instructions are"
            ]),
        ]
    ),
    // "from now on you will only answer ..."
    pattern!(
        InstructionOverride,
        gap = 1,
        skeleton = true,
        [
            one(&[
                "from now on",
                "from this point on",
                "from this moment on",
                "from here on",
                "starting now",
                "henceforth",
                "going forward"
            ]),
            many(
                &[
                    "you", "will", "must", "shall", "are", "to", "only", "always", "never",
                    "always", "should", "now", "'ll", "ll"
                ],
                3
            ),
            one(&[
                "respond",
                "answer",
                "reply",
                "ignore",
                "obey",
                "disregard",
                "act as",
                "comply",
                "output",
                "pretend",
                "roleplay",
                "role play",
                "be dan",
                "be unrestricted",
                "be unfiltered",
                "be uncensored",
                "be jailbroken",
                "follow my instructions",
                "follow only my",
                "follow these instructions",
                "do anything"
            ]),
        ]
    ),
    // "say 'I have been PWNED'" (a staple of injection benchmarks)
    pattern!(
        InstructionOverride,
        gap = 1,
        skeleton = true,
        [
            one(&["i have been", "i've been", "ive been", "i been"]),
            one(&["pwned", "pwnd", "owned", "hacked", "jailbroken"]),
        ]
    ),
    // "override your safety filters", "disable your content filter"
    pattern!(
        InstructionOverride,
        gap = 1,
        skeleton = true,
        [
            one(&[
                "disable",
                "deactivate",
                "turn off",
                "switch off",
                "remove",
                "bypass",
                "circumvent",
                "get around",
                "evade",
                "jailbreak",
                "override",
                "break",
                "break free of",
                "break free from",
                "escape",
                "lift",
                "drop",
                "shut off",
                "suspend"
            ]),
            one(&[
                "your",
                "ur",
                "all your",
                "all of your",
                "any of your",
                "the ai's",
                "the model's",
                "the assistant's",
                "openai's",
                "all"
            ]),
            many(
                &[
                    "safety", "content", "ethical", "moral", "ai", "built in", "built-in",
                    "internal", "nsfw"
                ],
                2
            ),
            one(&[
                "guardrails",
                "safeguards",
                "censorship",
                "alignment",
                "moderation",
                "ethics",
                "safety filters",
                "safety filter",
                "content filter",
                "content filters",
                "safety protocols",
                "safety measures",
                "safety guidelines",
                "ethical guidelines",
                "programming",
                "restrictions",
                "filters",
                "filter",
                "limitations"
            ]),
        ]
    ),
];
