//! The local storyboard: scenes cut from the prompt itself.
//!
//! The prompt is split into sentences (`.`, `!`, `?`, `;`, new lines), or
//! into clauses (also `,`) when there are fewer sentences than planned
//! scenes. The scene count and lengths are the pipeline's plan
//! ([`plan_scene_durations`]). With at least as many parts as scenes, each
//! scene gets a contiguous run of parts; with fewer, parts repeat in order
//! and a repeated part is narrated as "(continued)".

use ytvc_domain::media::{Scene, Storyboard, plan_scene_durations};
use ytvc_domain::{Style, VideoSpec};

/// The storyboard the local provider writes for `spec`.
#[must_use]
pub fn storyboard(spec: &VideoSpec) -> Storyboard {
    let plan = plan_scene_durations(spec.duration_seconds);
    let prompt = spec.prompt.as_str();
    let mut parts = split(prompt, &['.', '!', '?', ';', '\n']);
    if parts.len() < plan.len() {
        let clauses = split(prompt, &['.', '!', '?', ';', '\n', ',']);
        if clauses.len() > parts.len() {
            parts = clauses;
        }
    }
    if parts.is_empty() {
        parts.push(prompt.trim().to_owned());
    }
    let n = plan.len();
    let len = parts.len();
    let scenes = plan
        .iter()
        .enumerate()
        .map(|(i, &duration_seconds)| {
            let (text, repeated) = if len >= n {
                (parts[i * len / n..(i + 1) * len / n].join(", "), false)
            } else {
                let k = i * len / n;
                (parts[k].clone(), i > 0 && (i - 1) * len / n == k)
            };
            let narration = if repeated {
                format!("{} (continued).", sentence_case(&text))
            } else {
                format!("{}.", sentence_case(&text))
            };
            Scene {
                index: i as u32 + 1,
                narration,
                visual_prompt: format!(
                    "{} of {}, {} frame",
                    style_phrase(spec.style),
                    text,
                    spec.aspect_ratio.as_str()
                ),
                duration_seconds,
            }
        })
        .collect();
    let title = spec.title.as_ref().map_or_else(
        || sentence_case(&shorten(&parts[0], 60)),
        |t| t.as_str().to_owned(),
    );
    Storyboard { title, scenes }
}

fn split(text: &str, separators: &[char]) -> Vec<String> {
    text.split(|c| separators.contains(&c))
        .map(|part| part.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|part| part.chars().any(char::is_alphanumeric))
        .collect()
}

fn sentence_case(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// At most `max` characters, cut at a word when possible.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() + word.chars().count() + 1 > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        out = text.chars().take(max).collect();
    }
    out
}

fn style_phrase(style: Style) -> &'static str {
    match style {
        Style::Cinematic => "Cinematic shot",
        Style::Documentary => "Documentary footage",
        Style::Animated => "Animated illustration",
        Style::Minimal => "Minimal composition",
        Style::Vlog => "Handheld first-person view",
        Style::Educational => "Explainer diagram",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ytvc_domain::RawVideoRequest;

    fn spec(prompt: &str, duration: i64) -> VideoSpec {
        VideoSpec::parse(RawVideoRequest {
            prompt: Some(prompt.into()),
            duration_seconds: Some(duration),
            ..RawVideoRequest::default()
        })
        .unwrap()
    }

    #[test]
    fn sentences_become_scenes() {
        let board = storyboard(&spec(
            "A fox wakes up. It hunts in the snow! Night falls",
            30,
        ));
        let narrations: Vec<_> = board.scenes.iter().map(|s| s.narration.as_str()).collect();
        assert_eq!(
            narrations,
            ["A fox wakes up.", "It hunts in the snow.", "Night falls."]
        );
        assert_eq!(board.title, "A fox wakes up");
        assert_eq!(
            board.scenes[1].visual_prompt,
            "Cinematic shot of It hunts in the snow, 16:9 frame"
        );
        assert_eq!(board.total_duration_seconds(), 30);
    }

    #[test]
    fn clauses_and_repeats_fill_the_plan() {
        let board = storyboard(&spec("a lighthouse, a storm, a ship", 60));
        assert_eq!(board.scenes.len(), 6);
        let narrations: Vec<_> = board.scenes.iter().map(|s| s.narration.as_str()).collect();
        assert_eq!(
            narrations,
            [
                "A lighthouse.",
                "A lighthouse (continued).",
                "A storm.",
                "A storm (continued).",
                "A ship.",
                "A ship (continued)."
            ]
        );
        // More parts than scenes: contiguous groups.
        let board = storyboard(&spec("one. two. three. four. five", 20));
        let narrations: Vec<_> = board.scenes.iter().map(|s| s.narration.as_str()).collect();
        assert_eq!(narrations, ["One, two.", "Three, four, five."]);
    }

    #[test]
    fn long_titles_are_cut_at_a_word() {
        let long = "word ".repeat(30);
        let board = storyboard(&spec(&long, 10));
        assert!(board.title.chars().count() <= 60);
        assert!(board.title.ends_with("word"));
    }
}
