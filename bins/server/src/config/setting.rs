//! What one setting is: its file key, its variable, its default and its
//! meaning, the row of `docs/configuration.md` it becomes.

use std::fmt;

use super::server::Environment;

/// One configuration setting: its file key, its variable and its documentation.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The key in the TOML file.
    pub key: &'static str,
    /// The environment variable.
    pub var: &'static str,
    /// What applies when it is not configured: the one place its default is
    /// written, read both by the loader and by the documentation.
    pub default: DefaultValue,
    /// What it means.
    pub meaning: &'static str,
}

/// What a setting is when neither the file nor the environment gives it.
#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    /// A value written as one would configure it: the loader parses it with
    /// the setting's own parser, and the documentation shows it as it is.
    Value(&'static str),
    /// No value: the setting stays unset, and this text says what applies
    /// instead (a generated key, an in-memory store, the built-in plans…).
    Unset(&'static str),
    /// No value: the setting stays unset and the default of the component
    /// using it applies; the function reads that default for the documentation.
    Delegated(fn() -> String),
    /// A value that depends on `YTVC_ENV`, each written as one would
    /// configure it (parsed like [`Value`](Self::Value)).
    ByEnvironment {
        /// In production.
        production: &'static str,
        /// In development.
        development: &'static str,
    },
}

impl fmt::Display for DefaultValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(text) | Self::Unset(text) => f.write_str(text),
            Self::Delegated(read) => f.write_str(&read()),
            Self::ByEnvironment {
                production,
                development,
            } => write!(
                f,
                "{production} in production, {development} in development"
            ),
        }
    }
}

impl Setting {
    /// Its default value, parsed by `parse` like a configured one.
    ///
    /// # Panics
    /// When the setting has no default value, or its default does not parse:
    /// a mistake in the table, which any load (every test) runs into.
    pub(super) fn default_value<T>(&self, parse: impl Fn(&str) -> Result<T, String>) -> T {
        let DefaultValue::Value(text) = self.default else {
            panic!("{} has no default value", self.var);
        };
        parse(text)
            .unwrap_or_else(|e| panic!("the default of {} ({text:?}) is invalid: {e}", self.var))
    }

    /// Its default value in `env`, parsed by `parse` like a configured one.
    ///
    /// # Panics
    /// Like [`default_value`](Self::default_value).
    pub(super) fn default_value_in<T>(
        &self,
        env: Environment,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> T {
        let text = match (self.default, env) {
            (DefaultValue::ByEnvironment { production, .. }, Environment::Production) => production,
            (DefaultValue::ByEnvironment { development, .. }, Environment::Development) => {
                development
            }
            (DefaultValue::Value(text), _) => text,
            _ => panic!("{} has no default value", self.var),
        };
        parse(text)
            .unwrap_or_else(|e| panic!("the default of {} ({text:?}) is invalid: {e}", self.var))
    }
}
