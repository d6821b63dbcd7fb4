//! The plan catalog: built in, or replaced by a plans file.

use super::setting::{DefaultValue, Setting};
use super::sources::Sources;

pub(super) const PLANS_FILE: Setting = Setting {
    key: "plans_file",
    var: "YTVC_PLANS_FILE",
    default: DefaultValue::Unset("built-in plans"),
    meaning: "TOML file with `[[plans]]` entries (name, monthly_quota, batch_size_limit, priority, rate_limits)",
};

/// The plan catalog: the plans file's, else the built-in one.
pub(super) fn load(src: &mut Sources) -> ytvc_quota::Plans {
    src.optional(&PLANS_FILE, |s| {
        #[derive(serde::Deserialize)]
        struct PlansFile {
            plans: ytvc_quota::Plans,
        }
        let text = std::fs::read_to_string(s).map_err(|e| format!("cannot read {s}: {e}"))?;
        toml::from_str::<PlansFile>(&text)
            .map(|f| f.plans)
            .map_err(|e| format!("invalid plans file {s}: {e}"))
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn a_plans_file_replaces_the_catalog() {
        let path = std::env::temp_dir().join(format!("ytvc-plans-{}.toml", uuid::Uuid::new_v4()));
        std::fs::write(
            &path,
            r#"
[[plans]]
name = "free"
monthly_quota = 3
batch_size_limit = 2
priority = 3
rate_limits = { api = { limit = 10, window_secs = 60 }, batch_creations = { limit = 1, window_secs = 60 }, video_generations = { limit = 2, window_secs = 60 } }

[[plans]]
name = "unlimited"
monthly_quota = "unlimited"
batch_size_limit = 50
priority = 1
rate_limits = { api = { limit = 1000, window_secs = 3600 }, batch_creations = { limit = 50, window_secs = 3600 }, video_generations = { limit = 200, window_secs = 3600 } }
"#,
        )
        .unwrap();
        let p = path.display().to_string();
        let result = Config::load_from(None, &|k| (k == "YTVC_PLANS_FILE").then(|| p.clone()));
        let c = result.unwrap();
        assert_eq!(c.plans.get("free").unwrap().monthly_quota, Some(3));
        assert_eq!(c.plans.get("unlimited").unwrap().monthly_quota, None);
        assert!(
            !c.plans.contains("pro"),
            "the file replaces the built-in catalog"
        );
        let err = Config::load_from(None, &|k| {
            (k == "YTVC_PLANS_FILE").then(|| "/nonexistent.toml".to_owned())
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("YTVC_PLANS_FILE"), "{err}");
    }
}
