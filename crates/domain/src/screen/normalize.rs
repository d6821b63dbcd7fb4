//! Normalisation for matching: fold look-alikes to ASCII, then derive word
//! tokens and a letters-only skeleton.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Invisible or formatting code points that attackers insert between letters
/// (zero-width spaces and joiners, bidi controls, soft hyphens, variation
/// selectors, Unicode tags, Hangul fillers, ...), and control characters
/// other than whitespace.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{2800}' | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFF8}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}'
    ) || (c.is_control() && !c.is_whitespace())
}

/// Upper-case letters whose lower-case form would not look like the Latin
/// letter they imitate (Greek Eta looks like H, its lower case like n).
fn fold_upper(c: char) -> Option<char> {
    Some(match c {
        'Α' | 'А' => 'a',
        'Β' | 'В' => 'b',
        'С' | 'Ϲ' => 'c',
        'Ԁ' => 'd',
        'Ε' | 'Е' => 'e',
        'Η' | 'Н' => 'h',
        'Ι' | 'І' | 'Ӏ' => 'i',
        'Ј' => 'j',
        'Κ' | 'К' => 'k',
        'Μ' | 'М' => 'm',
        'Ν' => 'n',
        'Ο' | 'О' | 'Օ' => 'o',
        'Ρ' | 'Р' => 'p',
        'Ԛ' => 'q',
        'Ѕ' => 's',
        'Τ' | 'Т' => 't',
        'Υ' | 'У' | 'Ү' => 'y',
        'Χ' | 'Х' => 'x',
        'Ζ' => 'z',
        'Ԝ' => 'w',
        _ => return None,
    })
}

/// Lower-case look-alikes of Latin letters (Cyrillic, Greek, Armenian, IPA,
/// small capitals, regional indicators, ...).
fn fold_lower(c: char) -> char {
    match c {
        'а' | 'α' | 'ɑ' | 'ᴀ' => 'a',
        'в' | 'β' | 'ʙ' | 'ъ' | 'ь' => 'b',
        'с' | 'ς' | 'ϲ' | 'ᴄ' => 'c',
        'ԁ' | 'ᴅ' | 'đ' => 'd',
        'е' | 'ε' | 'ᴇ' | 'є' => 'e',
        'ꜰ' => 'f',
        'ɡ' | 'ɢ' => 'g',
        'н' | 'һ' | 'ʜ' | 'հ' | 'ħ' => 'h',
        'і' | 'ї' | 'ι' | 'ı' | 'ɩ' | 'ɪ' | 'ӏ' => 'i',
        'ј' | 'ȷ' | 'ᴊ' => 'j',
        'к' | 'κ' | 'ᴋ' => 'k',
        'ʟ' | 'ł' => 'l',
        'м' | 'ᴍ' => 'm',
        'п' | 'η' | 'π' | 'ɴ' | 'ո' => 'n',
        'о' | 'ο' | 'σ' | 'ᴏ' | 'օ' | 'ø' | 'ө' => 'o',
        'р' | 'ρ' | 'ᴘ' => 'p',
        'ԛ' => 'q',
        'г' | 'ʀ' => 'r',
        'ѕ' | 'ꜱ' | 'ß' => 's',
        'т' | 'τ' | 'ᴛ' => 't',
        'и' | 'й' | 'ц' | 'μ' | 'υ' | 'ᴜ' | 'ս' => 'u',
        'ν' | 'ᴠ' => 'v',
        'ш' | 'щ' | 'ω' | 'ԝ' | 'ᴡ' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' | 'ү' | 'ʏ' => 'y',
        'ζ' | 'ᴢ' => 'z',
        '\u{1F1E6}'..='\u{1F1FF}' => {
            // Regional indicator symbols 🇦..🇿.
            let offset = u32::from(c) - 0x1F1E6;
            char::from_u32(u32::from('a') + offset).unwrap_or(c)
        }
        '‹' | '⟨' | '〈' | '❮' | '﹤' => '<',
        '›' | '⟩' | '〉' | '❯' | '﹥' => '>',
        'ː' | '։' | '׃' | '꞉' | '∶' => ':',
        _ => c,
    }
}

/// Compatibility decomposition (NFKD: fullwidth, mathematical, circled and
/// superscript letters become plain ones, diacritics split off), then
/// invisible characters and combining marks are dropped, look-alikes folded
/// to ASCII and everything lower-cased. Punctuation, digits and whitespace
/// are kept (whitespace runs become one space).
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    for c in text.nfkd() {
        if is_invisible(c) || is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            if !last_space {
                out.push(if c == '\n' { '\n' } else { ' ' });
                last_space = true;
            } else if c == '\n' && out.ends_with(' ') {
                out.pop();
                out.push('\n');
            }
            continue;
        }
        last_space = false;
        if let Some(folded) = fold_upper(c) {
            out.push(folded);
            continue;
        }
        for lower in c.to_lowercase() {
            out.push(fold_lower(lower));
        }
    }
    out
}

/// Leetspeak digits and symbols that stand for letters.
fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        '8' => 'b',
        '9' => 'g',
        _ => return None,
    })
}

/// The fuzzy form of a letter: `l` and `i` (and `1`, `|`, `!`) are one class.
fn fuzzy(c: char) -> char {
    if c == 'l' { 'i' } else { c }
}

/// A word of the folded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// Letters with leetspeak mapped (`ign0re` → `ignore`).
    pub(crate) word: String,
    /// `word` with `l` → `i` and repeated letters collapsed
    /// (`ignoooore` → `ignore`, `all` → `ai`).
    pub(crate) fuzzy: String,
}

fn fuzzy_word(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    for c in word.chars().map(fuzzy) {
        if last != Some(c) {
            out.push(c);
            last = Some(c);
        }
    }
    out
}

/// Splits folded text into words of ASCII letters (leetspeak mapped).
/// Runs of three or more one-letter words are joined (`i g n o r e` →
/// `ignore`).
pub(crate) fn tokens(folded: &str) -> Vec<Token> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    for c in folded.chars() {
        let letter = if c.is_ascii_lowercase() {
            Some(c)
        } else {
            leet(c)
        };
        match letter {
            Some(l) => current.push(l),
            None => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    // Join runs of single letters.
    let mut joined: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let mut j = i;
        while j < words.len() && words[j].len() == 1 {
            j += 1;
        }
        if j - i >= 3 {
            joined.push(words[i..j].concat());
            i = j;
        } else {
            joined.push(std::mem::take(&mut words[i]));
            i += 1;
        }
    }
    joined
        .into_iter()
        .map(|word| Token {
            fuzzy: fuzzy_word(&word),
            word,
        })
        .collect()
}

/// The letters-only skeleton of folded text: every ASCII letter and
/// leetspeak character, fuzzy-folded, repeated letters collapsed, everything
/// else (spaces, punctuation, other scripts) dropped. With `bars_as_i`, `!`
/// and `|` count as `i` (they are otherwise separators).
pub(crate) fn skeleton(folded: &str, bars_as_i: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(folded.len());
    for c in folded.chars() {
        let letter = if c.is_ascii_lowercase() {
            Some(c)
        } else if bars_as_i && matches!(c, '!' | '|') {
            Some('i')
        } else {
            leet(c)
        };
        if let Some(l) = letter {
            let b = fuzzy(l) as u8;
            if out.last() != Some(&b) {
                out.push(b);
            }
        }
    }
    out
}

/// The words (not fuzzy) of a phrase.
pub(crate) fn phrase_words(phrase: &str) -> Vec<String> {
    tokens(&fold(phrase)).into_iter().map(|t| t.word).collect()
}

/// The fuzzy tokens of a pattern phrase.
pub(crate) fn fuzzy_phrase_tokens(phrase: &str) -> Vec<String> {
    tokens(&fold(phrase)).into_iter().map(|t| t.fuzzy).collect()
}

/// The skeleton of a pattern phrase (already lower-case ASCII).
pub(crate) fn phrase_skeleton(phrase: &str) -> Vec<u8> {
    skeleton(phrase, false)
}

/// ROT13 of a skeleton's source letters, re-skeletonised. Works on the
/// folded text so that `l`/`i` are still distinct before rotation.
pub(crate) fn rot13_skeleton(folded: &str) -> Vec<u8> {
    let rotated: String = folded
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                (((c as u8 - b'a' + 13) % 26) + b'a') as char
            } else if c.is_ascii_digit() {
                ' '
            } else {
                c
            }
        })
        .collect();
    skeleton(&rotated, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skel(s: &str) -> String {
        String::from_utf8(skeleton(&fold(s), false)).unwrap()
    }

    #[test]
    fn folds_lookalikes() {
        // Cyrillic і, о; Greek ο; fullwidth; math bold; zero-width joiners.
        assert_eq!(skel("іgnоre"), "ignore");
        assert_eq!(skel("ＩＧＮＯＲＥ"), "ignore");
        assert_eq!(skel("𝐢𝐠𝐧𝐨𝐫𝐞"), "ignore");
        assert_eq!(skel("ig\u{200b}no\u{200d}re"), "ignore");
        assert_eq!(skel("ΙGΝΟRΕ"), "ignore");
        assert_eq!(skel("ïgnörê"), "ignore");
        assert_eq!(skel("1gn0r3"), "ignore");
        assert_eq!(skel("i g n o r e . . . p r e v"), "ignoreprev");
        assert_eq!(skel("ꜱʏꜱᴛᴇᴍ"), "system");
        assert_eq!(skel("🇸🇾🇸🇹🇪🇲"), "system");
        assert_eq!(skel("all"), "ai");
    }

    #[test]
    fn tokens_join_spaced_letters() {
        let t: Vec<String> = tokens(&fold("I g n o r e the 4bove, ok?"))
            .into_iter()
            .map(|t| t.word)
            .collect();
        assert_eq!(t, ["ignore", "the", "above", "ok"]);
        let t: Vec<String> = tokens(&fold("a b test"))
            .into_iter()
            .map(|t| t.word)
            .collect();
        assert_eq!(t, ["a", "b", "test"]);
    }

    #[test]
    fn rot13() {
        assert_eq!(
            String::from_utf8(rot13_skeleton(&fold("vtaber"))).unwrap(),
            "ignore"
        );
    }
}
