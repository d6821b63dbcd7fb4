//! Structural rules on the folded text: role labels, chat-template and
//! delimiter tags, code fences with role words, JSON role fields.

use super::ScreenRule;
use super::normalize::skeleton;

/// The longest label before a `:` that is looked at.
const MAX_LABEL_CHARS: usize = 48;
/// The longest tag inside brackets that is looked at.
const MAX_TAG_CHARS: usize = 40;

fn skel(s: &str) -> Vec<u8> {
    skeleton(s, false)
}

fn in_list(list: &[&str], value: &[u8]) -> bool {
    !value.is_empty() && list.iter().any(|w| skel(w) == value)
}

/// Runs every structural rule.
pub(crate) fn check(folded: &str) -> Option<ScreenRule> {
    if role_label(folded) {
        return Some(ScreenRule::RoleImpersonation);
    }
    if let Some(rule) = tags(folded) {
        return Some(rule);
    }
    if fence_role(folded) || json_role(folded) {
        return Some(ScreenRule::RoleImpersonation);
    }
    None
}

/// Role labels that start a line or sentence when followed by `:`
/// ("System: ...", "### Assistant:"), as skeletons are compared.
const ROLE_LABELS: &[&str] = &[
    "system",
    "system prompt",
    "system message",
    "system instructions",
    "system instruction",
    "system note",
    "system override",
    "system update",
    "system notice",
    "system alert",
    "system command",
    "sys",
    "assistant",
    "developer",
    "developer message",
    "developer instructions",
    "developer note",
    "developer mode",
    "admin",
    "administrator",
    "admin override",
    "admin command",
    "root",
    "inst",
    "new instructions",
    "updated instructions",
    "real instructions",
    "actual instructions",
    "override instructions",
    "override",
    "secret instructions",
    "hidden instructions",
    "new system prompt",
    "im start",
    "openai",
    "chatgpt",
    "gpt",
    "dan",
    "instructions from developer",
    "instructions from the developer",
    "priority instructions",
    "new task",
    "new rules",
    "sudo",
];

/// `System: ...`, `### Assistant:`, `=== SYSTEM ===` at the start of a line
/// or sentence.
fn role_label(folded: &str) -> bool {
    for segment in folded.split(['\n', '.', '!', '?', ';']) {
        let segment = segment.trim();
        if segment.is_empty() {
            continue;
        }
        // "label: ..." with a short label.
        if let Some((label, _)) = segment.split_once([':', '：'])
            && label.chars().count() <= MAX_LABEL_CHARS
            && in_list(ROLE_LABELS, &skel(label))
        {
            return true;
        }
        // A decorated line that is only a role word: "### System", "[system]".
        let decorated = segment.starts_with(['#', '=', '*', '-', '[', '<', '(', '{', '>', '|']);
        if decorated
            && segment.chars().count() <= MAX_LABEL_CHARS
            && in_list(ROLE_LABELS, &skel(segment))
        {
            return true;
        }
    }
    false
}

/// Whether a bracketed inner text is tag-like: letters, digits, `_ - / | !`
/// and either no spaces or only one-letter parts (`< s y s >`).
fn tag_like(inner: &str) -> bool {
    let inner = inner.trim();
    if inner.is_empty() || inner.chars().count() > MAX_TAG_CHARS {
        return false;
    }
    let ok_chars = inner.chars().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '|' | '!' | ' ' | '.' | ':')
    });
    let parts: Vec<&str> = inner.split(' ').filter(|p| !p.is_empty()).collect();
    ok_chars && (parts.len() == 1 || parts.iter().all(|p| p.chars().count() <= 2))
}

/// Inner texts of `<tag>`, `[tag]`, `{tag}` that mark a chat role or a data
/// delimiter, as skeleton substrings.
const TAG_WORDS: &[&str] = &[
    "prompt",
    "instruction",
    "system",
    "assistant",
    "imstart",
    "imend",
    "im start",
    "im end",
    "endoftext",
    "end of text",
    "userinput",
    "user input",
    "usermessage",
    "user message",
    "userquery",
    "user query",
    "userdata",
    "user data",
    "developer",
    "context",
    "endofturn",
    "end of turn",
    "startofturn",
    "start of turn",
];

/// Inner texts that mark a role only when they are the whole tag.
const TAG_EXACT: &[&str] = &["inst", "sys", "user", "human", "s", "eos", "bos"];

fn tag_rule(inner: &str, triple: bool) -> Option<ScreenRule> {
    if !tag_like(inner) {
        return None;
    }
    let s = skel(inner);
    if s.is_empty() {
        return None;
    }
    if triple {
        // <<<ANYTHING>>> is never an ordinary prompt.
        return Some(ScreenRule::DelimiterSmuggling);
    }
    let contains = |w: &&str| {
        let w = skel(w);
        s.windows(w.len()).any(|win| win == w.as_slice())
    };
    if TAG_WORDS.iter().any(contains) {
        return Some(if inner.contains('|') {
            ScreenRule::RoleImpersonation
        } else {
            ScreenRule::DelimiterSmuggling
        });
    }
    if in_list(TAG_EXACT, &s)
        && (inner.contains('|')
            || inner.contains('/')
            || inner.chars().any(|c| c.is_ascii_uppercase())
            || s.len() > 1)
    {
        return Some(ScreenRule::RoleImpersonation);
    }
    None
}

/// `<|im_start|>`, `[INST]`, `<<SYS>>`, `</user_prompt>`, `<<<…>>>`,
/// `{{system}}`.
fn tags(folded: &str) -> Option<ScreenRule> {
    let chars: Vec<char> = folded.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let open = chars[i];
        let close = match open {
            '<' => '>',
            '[' => ']',
            '{' => '}',
            _ => {
                i += 1;
                continue;
            }
        };
        let mut j = i;
        while j < chars.len() && chars[j] == open {
            j += 1;
        }
        let opens = j - i;
        let start = j;
        while j < chars.len() && chars[j] != close && chars[j] != open && j - start <= MAX_TAG_CHARS
        {
            j += 1;
        }
        if j < chars.len() && chars[j] == close {
            let inner: String = chars[start..j].iter().collect();
            let mut k = j;
            while k < chars.len() && chars[k] == close {
                k += 1;
            }
            let triple = open == '<' && opens >= 3 && k - j >= 3;
            if let Some(rule) = tag_rule(&inner, triple) {
                return Some(rule);
            }
            i = k;
        } else {
            i = start.max(i + 1);
        }
    }
    None
}

/// Words after a code fence (```` ``` ````) that open a role block.
const FENCE_ROLES: &[&str] = &[
    "system",
    "assistant",
    "developer",
    "instructions",
    "instruction",
    "sys",
    "inst",
    "prompt",
    "system prompt",
    "systemprompt",
    "admin",
    "root",
    "user",
    "human",
    "override",
];

/// ```` ```system ````, `~~~ assistant`.
fn fence_role(folded: &str) -> bool {
    for fence in ["```", "~~~", "'''"] {
        let mut rest = folded;
        while let Some(pos) = rest.find(fence) {
            let after = rest[pos..].trim_start_matches(fence.chars().next().unwrap_or('`'));
            let after = after.trim_start();
            let word: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' '))
                .take(24)
                .collect();
            let first = word.split_whitespace().next().unwrap_or_default();
            if in_list(FENCE_ROLES, &skel(first)) || in_list(FENCE_ROLES, &skel(&word)) {
                return true;
            }
            rest = &rest[pos + fence.len()..];
        }
    }
    false
}

/// `"role": "system"`, `role=assistant`.
fn json_role(folded: &str) -> bool {
    let mut rest = folded;
    while let Some(pos) = rest.find("role") {
        let after = &rest[pos + 4..];
        let sep: String = after
            .chars()
            .take_while(|c| matches!(c, '"' | '\'' | '`' | ' ' | ':' | '='))
            .collect();
        if sep.contains(':') || sep.contains('=') {
            let value = after[sep.len()..].trim_start_matches(['"', '\'', '`']);
            if ["system", "assistant", "developer"]
                .iter()
                .any(|r| value.starts_with(r))
            {
                return true;
            }
        }
        rest = after;
    }
    false
}
