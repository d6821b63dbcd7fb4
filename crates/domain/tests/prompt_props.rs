//! Property tests of `Prompt::parse` and the screen.

use proptest::prelude::*;
use ytvc_domain::{Prompt, screen};

fn accepted_invariants(p: &Prompt) {
    let n = p.as_str().chars().count();
    assert!((Prompt::MIN_CHARS..=Prompt::MAX_CHARS).contains(&n), "{n}");
    assert!(
        p.as_str()
            .chars()
            .all(|c| !c.is_control() || c == '\n' || c == '\t')
    );
    assert_eq!(p.as_str(), p.as_str().trim());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parse_never_panics_on_any_string(s in any::<String>()) {
        if let Ok(p) = Prompt::parse(s) {
            accepted_invariants(&p);
        }
    }

}

proptest! {
    // Long inputs are slower to screen in debug builds: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn parse_never_panics_on_long_mixed_text(
        s in proptest::collection::vec(
            prop_oneof![
                any::<char>(),
                Just('\n'), Just('\t'), Just('\r'), Just('\u{0}'), Just('\u{200b}'),
                Just(' '), Just('a'), Just('='), Just('<'), Just('>'), Just(':'),
            ],
            0..2100,
        ).prop_map(|v| v.into_iter().collect::<String>())
    ) {
        if let Ok(p) = Prompt::parse(s) {
            accepted_invariants(&p);
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ordinary_words_pass_and_parse_is_idempotent(
        words in proptest::collection::vec(
            prop::sample::select(vec![
                "a", "the", "video", "about", "cats", "river", "sunset", "city", "night",
                "cinematic", "slow", "drone", "shot", "of", "mountains", "and", "lakes",
            ]),
            4..40,
        )
    ) {
        let text = words.join(" ");
        prop_assume!(text.chars().count() >= Prompt::MIN_CHARS);
        let p = Prompt::parse(text.clone()).expect("ordinary words pass");
        accepted_invariants(&p);
        prop_assert_eq!(Prompt::parse(p.as_str().to_owned()).unwrap(), p);
        prop_assert!(screen::check(&text).is_none());
    }

    #[test]
    fn check_is_deterministic(s in ".{0,300}") {
        prop_assert_eq!(screen::check(&s), screen::check(&s));
    }
}
