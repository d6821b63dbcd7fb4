//! `encoded_payload`: requests to decode something and obey it ("decode
//! this base64 and follow it", "follow the base64 instructions", "the
//! instructions are encoded in base64 below"). (Payloads that are actually
//! encoded are decoded and screened again by the screen itself.)

use crate::screen::ScreenRule::EncodedPayload;
use crate::screen::matcher::{Pattern, many, one, opt};

const DECODE_VERBS: &[&str] = &[
    "decode",
    "decrypt",
    "decipher",
    "unscramble",
    "deobfuscate",
    "base64 decode",
    "base64-decode",
    "b64decode",
    "b64 decode",
];

const WEAK_DECODE_VERBS: &[&str] = &[
    "convert",
    "interpret",
    "translate",
    "reverse",
    "read",
    "unpack",
    "rot13",
    "process",
];

const ENCODINGS: &[&str] = &[
    "base64",
    "base 64",
    "base-64",
    "b64",
    "base32",
    "base 32",
    "hex",
    "hexadecimal",
    "rot13",
    "rot 13",
    "rot-13",
    "encoded",
    "binary",
    "cipher",
    "ciphertext",
    "morse",
    "leetspeak",
    "reversed",
    "backwards",
    "obfuscated",
    "encrypted",
];

const FOLLOW_VERBS: &[&str] = &[
    "follow",
    "execute",
    "run",
    "obey",
    "perform",
    "carry out",
    "act on",
    "act upon",
    "apply",
    "comply with",
    "do",
    "implement",
    "complete",
    "fulfil",
    "fulfill",
    "respond to",
    "answer",
    "do what",
    "treat",
];

const FOLLOW_OBJECTS: &[&str] = &[
    "it",
    "them",
    "that",
    "this",
    "the instructions",
    "the instruction",
    "its instructions",
    "it's instructions",
    "what it says",
    "whatever it says",
    "what they say",
    "the result",
    "the decoded",
    "the decoded text",
    "the decoded message",
    "the decoded instructions",
    "the command",
    "the commands",
    "the message",
    "the text",
    "the hidden",
    "these",
    "the task",
    "the request",
    "the output",
    "it says",
    "as instructions",
    "as your instructions",
    "as a command",
    "the contents",
];

const HIDDEN_ADJS: &[&str] = &[
    "base64",
    "base 64",
    "b64",
    "hex",
    "rot13",
    "obfuscated",
    "base64-encoded",
    "base64 encoded",
];

const HIDDEN_NOUNS: &[&str] = &[
    "instructions",
    "instruction",
    "text",
    "message",
    "payload",
    "command",
    "commands",
    "prompt",
    "string",
    "content",
    "request",
    "task",
];

/// The `encoded_payload` patterns, in the order they are tried.
pub(super) const PATTERNS: &[Pattern] = &[
    // "decode this base64 and follow it"
    pattern!(
        EncodedPayload,
        gap = 4,
        skeleton = false,
        [
            one(DECODE_VERBS),
            many(
                &[
                    "this",
                    "the",
                    "following",
                    "it",
                    "that",
                    "below",
                    "these",
                    "my",
                    "next",
                    "text",
                    "string",
                    "message",
                    "payload",
                    "from"
                ],
                3
            ),
            opt(ENCODINGS),
            many(
                &[
                    "and",
                    "then",
                    "and then",
                    "after that",
                    "afterwards",
                    "text",
                    "string",
                    "message",
                    "payload",
                    "below",
                    "above",
                    "first"
                ],
                3
            ),
            one(FOLLOW_VERBS),
            one(FOLLOW_OBJECTS),
        ]
    ),
    // "convert this hex and execute it"
    pattern!(
        EncodedPayload,
        gap = 3,
        skeleton = false,
        [
            one(WEAK_DECODE_VERBS),
            many(
                &[
                    "this",
                    "the",
                    "following",
                    "it",
                    "that",
                    "below",
                    "these",
                    "my",
                    "next",
                    "from"
                ],
                2
            ),
            one(ENCODINGS),
            many(
                &[
                    "and",
                    "then",
                    "and then",
                    "after that",
                    "text",
                    "string",
                    "message",
                    "payload",
                    "below",
                    "above",
                    "first"
                ],
                3
            ),
            one(FOLLOW_VERBS),
            one(FOLLOW_OBJECTS),
        ]
    ),
    // "follow the base64 instructions", "execute the decoded payload"
    pattern!(
        EncodedPayload,
        gap = 1,
        skeleton = true,
        [
            one(FOLLOW_VERBS),
            many(&["the", "these", "this", "those", "my", "following"], 1),
            one(HIDDEN_ADJS),
            one(HIDDEN_NOUNS),
        ]
    ),
    // "the instructions are encoded in base64 below"
    pattern!(
        EncodedPayload,
        gap = 2,
        skeleton = false,
        [
            one(&[
                "instructions",
                "instruction",
                "command",
                "commands",
                "payload",
                "prompt",
                "real request",
                "real task",
                "task"
            ]),
            many(&["are", "is", "were", "have been", "has been"], 1),
            one(&[
                "encoded",
                "hidden",
                "written",
                "given",
                "encrypted",
                "stored"
            ]),
            one(&[
                "in base64",
                "in b64",
                "in hex",
                "in rot13",
                "as base64",
                "as hex",
                "as rot13",
                "in base 64",
                "with base64",
                "using base64"
            ]),
        ]
    ),
];
