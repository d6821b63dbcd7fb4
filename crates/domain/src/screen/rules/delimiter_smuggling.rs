//! `delimiter_smuggling`: boundary phrases that pretend the user data has
//! ended or a new block begins ("END OF PROMPT", "begin system prompt",
//! "end of user input"). (Delimiter tags such as `</user_prompt>` are the
//! structural rules of [`structure`](crate::screen::structure).)

use crate::screen::ScreenRule::DelimiterSmuggling;
use crate::screen::matcher::{Pattern, many, one, opt};

const BOUNDARY_WORDS: &[&str] = &[
    "end",
    "ending",
    "close",
    "closing",
    "stop",
    "begin",
    "beginning",
    "start",
    "starting",
    "open",
    "opening",
];

const BOUNDARY_OWNERS: &[&str] = &["user", "system", "admin", "developer"];

const BOUNDARY_OBJECTS: &[&str] = &[
    "prompt",
    "input",
    "instructions",
    "system prompt",
    "user prompt",
    "user input",
    "system message",
    "prompt text",
    "prompt data",
];

const OWNED_BOUNDARY_OBJECTS: &[&str] = &[
    "message",
    "data",
    "query",
    "content",
    "text",
    "turn",
    "block",
    "instructions",
    "prompt",
    "input",
    "request",
];

/// The `delimiter_smuggling` patterns, in the order they are tried.
pub(super) const PATTERNS: &[Pattern] = &[
    // "END OF PROMPT", "begin system prompt", "end of user input"
    pattern!(
        DelimiterSmuggling,
        gap = 0,
        skeleton = true,
        [
            one(&["end", "ending", "begin", "beginning"]),
            opt(&["of", "of the"]),
            one(BOUNDARY_OBJECTS),
        ]
    ),
    pattern!(
        DelimiterSmuggling,
        gap = 0,
        skeleton = true,
        [
            one(BOUNDARY_WORDS),
            one(&["of", "of the"]),
            one(BOUNDARY_OBJECTS),
        ]
    ),
    pattern!(
        DelimiterSmuggling,
        gap = 0,
        skeleton = true,
        [
            one(BOUNDARY_WORDS),
            many(&["of", "of the", "the"], 1),
            one(BOUNDARY_OWNERS),
            one(OWNED_BOUNDARY_OBJECTS),
        ]
    ),
];
