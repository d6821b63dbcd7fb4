//! The raw values of one load (the file, then the environment, which wins),
//! their parsing with each setting's default, and the problems found.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::SETTINGS;
use super::setting::Setting;

/// Why the configuration was refused: every problem found, each naming its
/// variable (or file key) and the value expected.
#[derive(Debug)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Where a raw value came from, to name it in errors.
struct Raw {
    value: String,
    origin: String,
}

/// Where a problem is listed: the file's first, then the bad values in the
/// order of [`SETTINGS`], then the checks across settings in the order made.
type Rank = usize;
const FILE_RANK: Rank = 0;
const CHECK_RANK: Rank = Rank::MAX;

/// Reads the file (if any) and the environment into raw strings, env winning.
pub(super) struct Sources {
    values: BTreeMap<&'static str, Raw>,
    problems: Vec<(Rank, String)>,
}

impl Sources {
    /// Reads every setting of [`SETTINGS`] from `file` and `env`.
    pub(super) fn load(file: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut values = BTreeMap::new();
        let mut problems = Vec::new();
        if let Some(path) = file {
            match std::fs::read_to_string(path) {
                Err(e) => {
                    problems.push((FILE_RANK, format!("config file {}: {e}", path.display())))
                }
                Ok(text) => match text.parse::<toml::Table>() {
                    Err(e) => {
                        problems.push((FILE_RANK, format!("config file {}: {e}", path.display())));
                    }
                    Ok(table) => {
                        for (key, value) in table {
                            let Some(setting) = SETTINGS.iter().find(|s| s.key == key) else {
                                problems.push((
                                    FILE_RANK,
                                    format!("config file {}: unknown key `{key}`", path.display()),
                                ));
                                continue;
                            };
                            let value = match value {
                                toml::Value::String(s) => s,
                                toml::Value::Array(items) => items
                                    .iter()
                                    .map(|v| {
                                        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                                    })
                                    .collect::<Vec<_>>()
                                    .join(","),
                                other => other.to_string(),
                            };
                            let origin = format!("`{key}` in {}", path.display());
                            values.insert(setting.key, Raw { value, origin });
                        }
                    }
                },
            }
        }
        for setting in SETTINGS {
            if let Some(value) = env(setting.var) {
                values.insert(
                    setting.key,
                    Raw {
                        value,
                        origin: setting.var.to_owned(),
                    },
                );
            }
        }
        Self { values, problems }
    }

    /// The setting as configured, else its default, both parsed by `parse`;
    /// a bad value is recorded as a problem and the default stands in for it.
    pub(super) fn value<T>(
        &mut self,
        setting: &Setting,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> T {
        match self.optional(setting, &parse) {
            Some(v) => v,
            None => setting.default_value(parse),
        }
    }

    /// The setting as configured, else its default in `env` (see
    /// [`DefaultValue::ByEnvironment`](super::DefaultValue::ByEnvironment)),
    /// both parsed by `parse`; a bad value is recorded as a problem and the
    /// default stands in for it.
    pub(super) fn value_in<T>(
        &mut self,
        setting: &Setting,
        env: super::Environment,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> T {
        match self.optional(setting, &parse) {
            Some(v) => v,
            None => setting.default_value_in(env, parse),
        }
    }

    /// The setting as configured, parsed by `parse`; `None` when it is not
    /// configured, or when its value is bad (then recorded as a problem).
    pub(super) fn optional<T>(
        &mut self,
        setting: &Setting,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let rank = 1 + SETTINGS
            .iter()
            .position(|s| s.key == setting.key)
            .unwrap_or_else(|| panic!("{} is missing from SETTINGS", setting.key));
        let raw = self.values.get(setting.key)?;
        match parse(raw.value.trim()) {
            Ok(v) => Some(v),
            Err(expected) => {
                let key = setting.key;
                let shown =
                    if key.contains("secret") || key.contains("url") || key.ends_with("_key") {
                        "[redacted]".to_owned()
                    } else {
                        format!("{:?}", raw.value)
                    };
                let problem = format!("{}: invalid value {shown}: {expected}", raw.origin);
                self.problems.push((rank, problem));
                None
            }
        }
    }

    /// Whether the file or the environment gives the setting (valid or not).
    pub(super) fn is_set(&self, setting: &Setting) -> bool {
        self.values.contains_key(setting.key)
    }

    /// What names the setting in a problem: where its value came from, else
    /// its variable.
    pub(super) fn origin(&self, setting: &Setting) -> String {
        self.values
            .get(setting.key)
            .map_or_else(|| setting.var.to_owned(), |r| r.origin.clone())
    }

    /// Records a problem found by a check across settings.
    pub(super) fn refuse(&mut self, problem: String) {
        self.problems.push((CHECK_RANK, problem));
    }

    /// Ends the load: every problem, if any, in their listing order.
    pub(super) fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            return Ok(());
        }
        let mut problems = self.problems;
        problems.sort_by_key(|(rank, _)| *rank);
        Err(ConfigError(problems.into_iter().map(|(_, p)| p).collect()))
    }
}

/// A whole number in `range`.
pub(super) fn number<T>(range: std::ops::RangeInclusive<T>) -> impl Fn(&str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + fmt::Display,
{
    move |s| {
        let expected = || {
            format!(
                "expected a whole number in {}..={}",
                range.start(),
                range.end()
            )
        };
        let v: T = s.parse().map_err(|_| expected())?;
        if range.contains(&v) {
            Ok(v)
        } else {
            Err(expected())
        }
    }
}

/// A path where a readable file is.
pub(super) fn existing_file(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!("no readable file at {s}"))
    }
}
