//! A tiny phrase-pattern engine: a pattern is a sequence of slots, each a set
//! of alternative phrases repeated `min..=max` times. A pattern is matched
//! two ways:
//!
//! * on word tokens, allowing up to `gap` arbitrary words between slots
//!   (`ignore, please, all the previous instructions`);
//! * on the letters-only skeleton, contiguously, which defeats spacing,
//!   punctuation and words split in two (`ig-nore prev.ious`). A skeleton
//!   match must span at least [`MIN_SKELETON_MATCH`] letters, so that short
//!   phrases cannot match across word boundaries by accident.

use super::ScreenRule;
use super::normalize::{Token, fuzzy_phrase_tokens, phrase_skeleton};

/// The shortest skeleton match that counts.
pub(crate) const MIN_SKELETON_MATCH: usize = 10;

/// One position of a pattern.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub(crate) alts: &'static [&'static str],
    pub(crate) min: u8,
    pub(crate) max: u8,
}

/// Exactly one of `alts`.
pub(crate) const fn one(alts: &'static [&'static str]) -> Slot {
    Slot {
        alts,
        min: 1,
        max: 1,
    }
}

/// Zero or one of `alts`.
pub(crate) const fn opt(alts: &'static [&'static str]) -> Slot {
    Slot {
        alts,
        min: 0,
        max: 1,
    }
}

/// Zero to `max` of `alts`.
pub(crate) const fn many(alts: &'static [&'static str], max: u8) -> Slot {
    Slot { alts, min: 0, max }
}

/// One to `max` of `alts`.
pub(crate) const fn some(alts: &'static [&'static str], max: u8) -> Slot {
    Slot { alts, min: 1, max }
}

/// A phrase pattern and the rule it belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pattern {
    pub(crate) rule: ScreenRule,
    pub(crate) slots: &'static [Slot],
    /// Arbitrary words allowed between two slots in token matching.
    pub(crate) gap: u8,
    /// Whether the pattern is also matched on the skeleton.
    pub(crate) skeleton: bool,
}

struct CompiledSlot {
    min: u8,
    max: u8,
    tokens: Vec<Vec<String>>,
    skeletons: Vec<Vec<u8>>,
    /// Indexes into `skeletons` by first letter (`a`..`z`).
    by_first: [Vec<usize>; 26],
}

fn letter_index(b: u8) -> Option<usize> {
    b.is_ascii_lowercase().then(|| usize::from(b - b'a'))
}

/// A pattern with its phrases pre-split into fuzzy tokens and skeletons.
pub(crate) struct Compiled {
    pub(crate) rule: ScreenRule,
    gap: usize,
    skeleton: bool,
    slots: Vec<CompiledSlot>,
}

impl Compiled {
    pub(crate) fn new(pattern: &Pattern) -> Self {
        let slots = pattern
            .slots
            .iter()
            .map(|slot| {
                let skeletons: Vec<Vec<u8>> =
                    slot.alts.iter().map(|a| phrase_skeleton(a)).collect();
                let mut by_first: [Vec<usize>; 26] = Default::default();
                for (i, alt) in skeletons.iter().enumerate() {
                    if let Some(first) = alt.first().copied().and_then(letter_index) {
                        by_first[first].push(i);
                    }
                }
                CompiledSlot {
                    min: slot.min,
                    max: slot.max,
                    tokens: slot.alts.iter().map(|a| fuzzy_phrase_tokens(a)).collect(),
                    skeletons,
                    by_first,
                }
            })
            .collect();
        Self {
            rule: pattern.rule,
            gap: usize::from(pattern.gap),
            skeleton: pattern.skeleton,
            slots,
        }
    }

    /// Whether the pattern occurs in the token list.
    pub(crate) fn matches_tokens(&self, tokens: &[Token]) -> bool {
        let words: Vec<&str> = tokens.iter().map(|t| t.fuzzy.as_str()).collect();
        (0..words.len()).any(|start| self.tok_slot(0, &words, start))
    }

    fn tok_slot(&self, i: usize, words: &[&str], pos: usize) -> bool {
        if i == self.slots.len() {
            return true;
        }
        let max_skip = if i == 0 { 0 } else { self.gap };
        (0..=max_skip)
            .map(|skip| pos + skip)
            .take_while(|&p| p <= words.len())
            .any(|p| self.tok_repeat(i, words, p, 0))
    }

    fn tok_repeat(&self, i: usize, words: &[&str], pos: usize, count: u8) -> bool {
        let slot = &self.slots[i];
        if count >= slot.min && self.tok_slot(i + 1, words, pos) {
            return true;
        }
        if count < slot.max {
            for alt in &slot.tokens {
                let end = pos + alt.len();
                if !alt.is_empty()
                    && end <= words.len()
                    && words[pos..end].iter().zip(alt).all(|(w, a)| *w == a)
                    && self.tok_repeat(i, words, end, count + 1)
                {
                    return true;
                }
            }
        }
        false
    }

    /// Whether the pattern occurs contiguously in the skeleton, spanning at
    /// least [`MIN_SKELETON_MATCH`] letters.
    pub(crate) fn matches_skeleton(&self, skeleton: &[u8]) -> bool {
        if !self.skeleton {
            return false;
        }
        let Some(first) = self.slots.first() else {
            return false;
        };
        (0..skeleton.len()).any(|start| {
            let starts_here =
                letter_index(skeleton[start]).is_some_and(|l| !first.by_first[l].is_empty());
            starts_here
                && self
                    .skel_repeat(0, skeleton, start, 0)
                    .is_some_and(|end| end - start >= MIN_SKELETON_MATCH)
        })
    }

    /// Returns the furthest end of a match of slots `i..` from `pos`.
    fn skel_repeat(&self, i: usize, s: &[u8], pos: usize, count: u8) -> Option<usize> {
        if i == self.slots.len() {
            return Some(pos);
        }
        let slot = &self.slots[i];
        let mut best: Option<usize> = None;
        if count < slot.max {
            // Alternatives that start here, and (because repeated letters
            // collapse across word boundaries: "ignore" + "everything" ->
            // "ignoreverything") those that share their first letter with
            // the previous one.
            let here = s.get(pos).copied().and_then(letter_index);
            let shared = (pos > 0 && (i > 0 || count > 0))
                .then(|| letter_index(s[pos - 1]))
                .flatten()
                .filter(|&prev| Some(prev) != here);
            let direct = here
                .map(|l| slot.by_first[l].as_slice())
                .unwrap_or_default();
            let overlapping = shared
                .map(|l| slot.by_first[l].as_slice())
                .unwrap_or_default();
            for &k in direct.iter().chain(overlapping) {
                let alt = &slot.skeletons[k];
                let candidates = [
                    Some(alt.as_slice()),
                    (pos > 0 && (i > 0 || count > 0) && s[pos - 1] == alt[0]).then(|| &alt[1..]),
                ];
                for rest in candidates.into_iter().flatten() {
                    if s[pos..].starts_with(rest)
                        && let Some(end) = self.skel_repeat(i, s, pos + rest.len(), count + 1)
                    {
                        best = Some(best.map_or(end, |b| b.max(end)));
                    }
                }
            }
        }
        if count >= slot.min
            && let Some(end) = self.skel_repeat(i + 1, s, pos, 0)
        {
            best = Some(best.map_or(end, |b| b.max(end)));
        }
        best
    }
}
