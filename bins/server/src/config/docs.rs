//! `docs/configuration.md`, generated from [`SETTINGS`]; a test keeps the
//! committed file up to date.

use super::SETTINGS;

/// Renders the settings table as Markdown (`docs/configuration.md` embeds it).
#[must_use]
pub fn settings_markdown() -> String {
    let mut out = String::from("| variable | file key | meaning | default |\n|---|---|---|---|\n");
    for s in SETTINGS {
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            s.var, s.key, s.meaning, s.default
        ));
    }
    out
}

/// The whole `docs/configuration.md`, generated from [`SETTINGS`].
#[must_use]
pub fn configuration_doc() -> String {
    format!(
        "# Configuration\n\n\
         <!-- Generated from bins/server/src/config/mod.rs (SETTINGS). Do not edit by hand: \
         run `YTVC_BLESS=1 cargo test -p ytvc-server configuration_doc` to regenerate. -->\n\n\
         The server reads an optional TOML file (`--config FILE` or `YTVC_CONFIG`) whose keys are \
         the file keys below, then the environment variables, which win. Every value is validated \
         at start-up; the server refuses to start (exit code 2) with one line per bad value, naming \
         the variable or file key. Unknown file keys are refused too (typos). Values holding \
         secrets are never printed.\n\n{}\n\
         Example file:\n\n```toml\nbind = \"0.0.0.0:8000\"\ndata_dir = \"/var/lib/ytvc\"\n\
         database_url = \"postgres://ytvc@db/ytvc\"\ncors_origins = [\"https://app.example.com\"]\n\
         log_format = \"json\"\n```\n",
        settings_markdown()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn configuration_doc_is_up_to_date() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
        let expected = super::configuration_doc();
        if std::env::var_os("YTVC_BLESS").is_some() {
            std::fs::write(&path, &expected).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "docs/configuration.md is out of date: run `YTVC_BLESS=1 cargo test -p ytvc-server configuration_doc`"
        );
    }
}
