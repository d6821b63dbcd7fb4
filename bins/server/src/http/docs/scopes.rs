//! Each secured operation's API-key scope, from the server's table
//! (`auth::ROUTE_SCOPES`): its security requirement names the scope (OpenAPI
//! 3.1 allows role names for any scheme) and its description says it.

use serde_json::{Value, json};

use crate::http::auth::{Needs, needs};

/// The scope a key needs for `method path`, if the table gives one.
pub(super) fn scope_of(method: &str, path: &str) -> Option<&'static str> {
    match needs(method, path)? {
        Needs::Scope(scope) => Some(scope.as_str()),
        Needs::Session => None,
    }
}

/// Names the operation's scope in its security requirement and description
/// (a no-op for an unsecured operation).
pub(super) fn document_scope(op: &mut Value, method: &str, path: &str, secured: bool) {
    if !secured {
        return;
    }
    let note = match needs(method, path) {
        Some(Needs::Scope(scope)) => {
            op["security"] = json!([{ "bearer": [scope.as_str()] }]);
            format!(
                "API keys need the scope `{}` (a key without it: 403 AUTH_005, `details.scope`).",
                scope.as_str()
            )
        }
        Some(Needs::Session) => {
            "Needs an access token: API keys cannot call it (403 AUTH_005).".to_owned()
        }
        None => "API keys cannot call it (403 AUTH_005).".to_owned(),
    };
    let text = match op["description"].as_str() {
        Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
        _ => note,
    };
    op["description"] = json!(text);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::http::auth::ROUTE_SCOPES;

    /// Every secured operation of the document is in the scope table, and
    /// every entry of the table is a secured operation of the document.
    #[test]
    fn the_scope_table_covers_exactly_the_secured_operations() {
        let doc = serde_json::to_value(super::super::openapi()).unwrap();
        let mut secured = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Some(reqs) = op["security"].as_array() else {
                    continue;
                };
                if reqs.iter().any(|r| r.get("bearer").is_some()) {
                    secured.insert((method.to_ascii_uppercase(), path.clone()));
                }
            }
        }
        let listed: BTreeSet<(String, String)> = ROUTE_SCOPES
            .iter()
            .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        assert_eq!(listed.len(), ROUTE_SCOPES.len(), "no route twice");
        assert_eq!(secured, listed);
        let quota = &doc["paths"]["/v1/quota"]["get"];
        assert_eq!(quota["security"], json!([{ "bearer": ["videos:read"] }]));
        let logout = &doc["paths"]["/v1/auth/logout"]["post"];
        assert_eq!(logout["security"], json!([{ "bearer": [] }]));
        assert!(
            logout["description"]
                .as_str()
                .unwrap()
                .contains("access token")
        );
    }
}
