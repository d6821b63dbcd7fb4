//! Account inputs: [`Email`] and [`Password`].

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::{ValidationError, ValidationErrorKind};

/// An email address: trimmed, lower-cased, at most 254 chars, with a sane
/// shape.
///
/// Shape (a practical subset of RFC 5321, ASCII only): exactly one `@`; a
/// local part of 1..=64 chars from `a-z 0-9 . ! # $ % & ' * + / = ? ^ _ ` {
/// | } ~ -` that neither starts nor ends with `.` nor has `..`; a domain of at
/// least two dot-separated labels, each 1..=63 chars of `a-z 0-9 -` not
/// starting or ending with `-`, the last one (the TLD) alphabetic and at least
/// two chars, or punycode (`xn--…`). Quoted local parts, IP-literal domains
/// and non-ASCII addresses are refused (clients send IDN domains in
/// punycode). The whole address is lower-cased, so addresses are compared
/// case-insensitively.
///
/// Errors: `VAL_005` (details `field`, `length`, `max`) when longer than 254
/// chars; `VAL_007` (details `field`, `reason`) for a bad shape. The address
/// is never echoed in errors.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// The JSON field name used in errors.
    pub const FIELD: &'static str = "email";
    /// The longest address (RFC 5321 path limit less the angle brackets).
    pub const MAX_CHARS: usize = 254;

    /// Validates and normalises an email address.
    ///
    /// # Errors
    ///
    /// See the type documentation.
    pub fn parse(raw: impl AsRef<str>) -> Result<Self, ValidationError> {
        let email = raw.as_ref().trim().to_lowercase();
        let length = email.chars().count();
        if length > Self::MAX_CHARS {
            return Err(ValidationError::new(
                Self::FIELD,
                ValidationErrorKind::LengthOutOfRange {
                    length: Some(length),
                    min: 3,
                    max: Self::MAX_CHARS,
                },
            ));
        }
        check_shape(&email).map_err(|reason| ValidationError::malformed(Self::FIELD, reason))?;
        Ok(Self(email))
    }

    /// The normalised address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain part, after the `@`.
    #[must_use]
    pub fn domain(&self) -> &str {
        self.0.rsplit('@').next().unwrap_or_default()
    }

    /// The normalised address, by value.
    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

fn check_shape(email: &str) -> Result<(), &'static str> {
    if email.is_empty() {
        return Err("email address is empty");
    }
    if !email.is_ascii() {
        return Err("email address must be ASCII (use punycode for the domain)");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("email address must contain '@'");
    };
    if domain.contains('@') {
        return Err("email address must contain exactly one '@'");
    }
    const LOCAL_SPECIALS: &[u8] = b".!#$%&'*+/=?^_`{|}~-";
    if local.is_empty() || local.len() > 64 {
        return Err("the part before '@' must be 1 to 64 characters");
    }
    if !local
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(&b))
    {
        return Err("the part before '@' contains a character that is not allowed");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("the part before '@' has a misplaced '.'");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err("the domain must contain a '.'");
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return Err("each part of the domain must be 1 to 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err("the domain contains a character that is not allowed");
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    let tld_ok = (tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
        || (tld.starts_with("xn--") && tld.len() > 4);
    if !tld_ok {
        return Err("the domain must end with a valid top-level domain");
    }
    Ok(())
}

impl TryFrom<String> for Email {
    type Error = ValidationError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({:?})", self.0)
    }
}

/// A plaintext password of 8..=128 chars, kept exactly as typed (no trimming,
/// no normalisation), to be hashed and dropped.
///
/// It is deliberately not `Serialize`, not `Display`, and its `Debug` prints
/// `Password(***)`. Errors never contain it, nor its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// The JSON field name used in errors.
    pub const FIELD: &'static str = "password";
    /// The fewest characters.
    pub const MIN_CHARS: usize = 8;
    /// The most characters.
    pub const MAX_CHARS: usize = 128;

    /// Validates a password.
    ///
    /// # Errors
    ///
    /// `VAL_005` with details `field`, `min`, `max` (never the password or
    /// its length) when it has fewer than 8 or more than 128 chars.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        let raw: String = raw.into();
        let length = raw.chars().count();
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&length) {
            Ok(Self(raw))
        } else {
            Err(ValidationError::new(
                Self::FIELD,
                ValidationErrorKind::LengthOutOfRange {
                    length: None,
                    min: Self::MIN_CHARS,
                    max: Self::MAX_CHARS,
                },
            ))
        }
    }

    /// The plaintext, for the password hasher only.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(raw).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use ytvc_error_codes::ErrorCode;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        let e = Email::parse("  Alice.Smith+video@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "alice.smith+video@example.com");
        assert_eq!(e.domain(), "example.com");
        assert!(Email::parse("a@b.co").is_ok());
        assert!(Email::parse("x@xn--bcher-kva.xn--p1ai").is_ok());
    }

    #[test]
    fn email_bad_shapes_are_val_007_without_echo() {
        for bad in [
            "",
            "   ",
            "plainaddress",
            "@example.com",
            "alice@",
            "alice@localhost",
            "alice@@example.com",
            "a@b@example.com",
            "alice smith@example.com",
            ".alice@example.com",
            "alice.@example.com",
            "al..ice@example.com",
            "alice@-example.com",
            "alice@example-.com",
            "alice@example..com",
            "alice@example.c",
            "alice@example.123",
            "alice@exa_mple.com",
            "álice@example.com",
            "alice@example.com\n",
            "\"alice\"@example.com",
        ] {
            if bad == "alice@example.com\n" {
                // Trimmed: fine.
                assert!(Email::parse(bad).is_ok());
                continue;
            }
            let e = Email::parse(bad).expect_err(bad);
            assert_eq!(e.code(), ErrorCode::UnsupportedValue, "{bad}");
            assert_eq!(e.field(), "email");
            let details = e.details().to_string();
            assert!(
                bad.trim().is_empty() || !details.contains(bad.trim()),
                "{bad}"
            );
        }
    }

    #[test]
    fn email_length_limit() {
        let local = "a".repeat(64);
        let domain = format!(
            "{}.{}.{}.com",
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(57)
        );
        let ok = format!("{local}@{domain}");
        assert_eq!(ok.len(), 254);
        assert!(Email::parse(&ok).is_ok());
        let too_long = format!("{local}@e{domain}");
        let e = Email::parse(too_long).unwrap_err();
        assert_eq!(e.code(), ErrorCode::OutOfRange);
        assert_eq!(e.details()["max"], 254);
        assert_eq!(e.details()["length"], 255);
    }

    #[test]
    fn password_length_and_secrecy() {
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse("é".repeat(128)).is_ok());
        assert_eq!(
            Password::parse("  spaced  ").unwrap().expose_secret(),
            "  spaced  "
        );
        for bad in ["1234567".to_owned(), "x".repeat(129), String::new()] {
            let e = Password::parse(bad.clone()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::OutOfRange);
            assert_eq!(
                e.details(),
                json!({"field": "password", "min": 8, "max": 128})
            );
            assert_eq!(
                e.to_string(),
                "Field 'password' must be 8 to 128 characters long"
            );
            assert!(bad.is_empty() || !format!("{e:?}").contains(&bad));
        }
        let p = Password::parse("hunter2hunter2").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
        let p: Password = serde_json::from_value(json!("correct horse battery")).unwrap();
        assert_eq!(p.expose_secret(), "correct horse battery");
        let err = serde_json::from_value::<Password>(json!("short")).unwrap_err();
        assert!(!err.to_string().contains("short\""));
    }
}
