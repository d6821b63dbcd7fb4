//! The screen against the red-team corpus in `tests/corpus/`: at least 95 %
//! of the attacks must be caught and no ordinary prompt may be rejected.
//! Run with `--nocapture` to see the rates and the misses.

use ytvc_domain::screen;

fn load(name: &str) -> Vec<String> {
    let path = format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(";;"))
        .map(unescape)
        .collect()
}

/// `\n` → newline, `\\` → backslash.
fn unescape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn corpus_rates() {
    let attacks = load("attacks.txt");
    let benign = load("benign.txt");
    assert!(attacks.len() >= 60, "only {} attacks", attacks.len());
    assert!(benign.len() >= 60, "only {} benign prompts", benign.len());

    let mut missed = Vec::new();
    let mut by_rule = std::collections::BTreeMap::new();
    for attack in &attacks {
        match screen::check(attack) {
            Some(rule) => *by_rule.entry(rule.as_str()).or_insert(0) += 1,
            None => missed.push(attack),
        }
    }
    let rejected: Vec<_> = benign
        .iter()
        .filter_map(|b| screen::check(b).map(|rule| (rule, b)))
        .collect();

    let caught = attacks.len() - missed.len();
    let catch_rate = 100.0 * caught as f64 / attacks.len() as f64;
    let fp_rate = 100.0 * rejected.len() as f64 / benign.len() as f64;
    println!(
        "screen corpus: attacks caught {caught}/{} = {catch_rate:.1} %; ordinary prompts rejected {}/{} = {fp_rate:.1} %",
        attacks.len(),
        rejected.len(),
        benign.len()
    );
    println!("caught by rule: {by_rule:?}");
    for m in &missed {
        println!("  missed attack: {m:?}");
    }
    for (rule, b) in &rejected {
        println!("  rejected ordinary prompt ({rule}): {b:?}");
    }
    assert!(catch_rate >= 95.0, "catch rate {catch_rate:.1} % < 95 %");
    assert!(
        rejected.is_empty(),
        "ordinary prompts rejected: {rejected:?}"
    );
}
