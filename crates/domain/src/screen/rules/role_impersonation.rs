//! `role_impersonation`: "DAN mode enabled", "admin override granted",
//! "you are now in developer mode", "enable DAN", "I am your developer",
//! "do anything now". (Role labels, chat-template tags and JSON role fields
//! are the structural rules of [`structure`](crate::screen::structure); a
//! lone "jailbreak" or "developer mode" near AI words is a
//! [`proximity`](super::proximity) rule.)

use crate::screen::ScreenRule::RoleImpersonation;
use crate::screen::matcher::{Pattern, many, one};

const MODE_STRONG: &[&str] = &[
    "jailbreak",
    "jailbroken",
    "jail break",
    "dan",
    "unrestricted",
    "unfiltered",
    "uncensored",
    "no restrictions",
    "no filter",
    "no filters",
    "anything goes",
    "opposite",
];

const MODE_WEAK: &[&str] = &[
    "developer",
    "dev",
    "debug",
    "admin",
    "administrator",
    "sudo",
    "root",
    "maintenance",
    "superuser",
    "super user",
    "override",
];

const YOU_IN: &[&str] = &[
    "you are in",
    "you are now in",
    "you're in",
    "you're now in",
    "youre in",
    "youre now in",
    "you will be in",
    "you are running in",
    "you're running in",
    "you are operating in",
    "you're operating in",
    "put yourself in",
    "put yourself into",
    "switch yourself to",
    "switch yourself into",
    "you are now operating in",
    "you're now operating in",
    "you have entered",
    "you've entered",
    "you will enter",
    "you must enter",
    "you're switched to",
    "you are switched to",
];

const I_AM: &[&str] = &[
    "i am",
    "i'm",
    "im",
    "this is",
    "speaking as",
    "message from",
    "instructions from",
    "instruction from",
    "update from",
    "notice from",
    "order from",
    "orders from",
    "directive from",
    "command from",
    "override from",
    "signed",
];

const AUTHORITIES: &[&str] = &[
    "your developer",
    "your developers",
    "your creator",
    "your creators",
    "your admin",
    "your administrator",
    "your owner",
    "your operator",
    "your programmer",
    "your programmers",
    "your maker",
    "your makers",
    "your master",
    "your system administrator",
    "your sysadmin",
    "your dev team",
    "your engineers",
    "your trainer",
    "the system administrator",
];

/// The `role_impersonation` patterns, in the order they are tried.
pub(super) const PATTERNS: &[Pattern] = &[
    // "DAN mode enabled", "jailbreak mode"
    pattern!(
        RoleImpersonation,
        gap = 0,
        skeleton = true,
        [one(MODE_STRONG), one(&["mode", "persona"]),]
    ),
    // "admin override granted"
    pattern!(
        RoleImpersonation,
        gap = 0,
        skeleton = true,
        [
            one(&[
                "admin",
                "administrator",
                "sudo",
                "root",
                "superuser",
                "developer",
                "system"
            ]),
            one(&["override", "access", "privileges", "permissions"]),
            one(&[
                "granted",
                "enabled",
                "activated",
                "accepted",
                "confirmed",
                "unlocked"
            ]),
        ]
    ),
    // "you are now in developer mode"
    pattern!(
        RoleImpersonation,
        gap = 1,
        skeleton = true,
        [
            one(YOU_IN),
            many(&["the", "a", "now", "full", "special"], 2),
            one(MODE_WEAK),
            one(&["mode"]),
        ]
    ),
    // "enable DAN", "activate jailbreak"
    pattern!(
        RoleImpersonation,
        gap = 1,
        skeleton = true,
        [
            one(&[
                "enable",
                "activate",
                "enter",
                "switch to",
                "turn on",
                "unlock",
                "engage",
                "initiate",
                "start",
                "launch",
                "boot into",
                "go into"
            ]),
            many(&["the", "a", "now", "full"], 1),
            one(&[
                "dan",
                "jailbreak mode",
                "jailbroken mode",
                "unrestricted mode",
                "unfiltered mode",
                "uncensored mode",
                "dan mode",
                "developer mode for chatgpt",
                "developer mode in chatgpt"
            ]),
        ]
    ),
    // "I am your developer", "message from your creators"
    pattern!(
        RoleImpersonation,
        gap = 1,
        skeleton = true,
        [
            one(I_AM),
            many(&["actually", "really", "now", "the"], 1),
            one(AUTHORITIES),
        ]
    ),
    // "do anything now"
    pattern!(
        RoleImpersonation,
        gap = 0,
        skeleton = true,
        [one(&[
            "do anything now",
            "can do anything now",
            "stay in dan",
            "stay dan",
            "as dan",
            "dan prompt",
            "dan jailbreak",
            "dan mode",
            "dan persona"
        ]),]
    ),
];
