//! Component schemas as the server really reads and writes them: one
//! component instead of its inline copies, the domain's constraints, and the
//! nullable fields it always sends marked `required`.

use serde_json::{Map, Value, json};
use ytvc_domain::accounts::Role;
use ytvc_domain::validation::{
    AspectRatio, DurationSeconds, Email, Language, Password, Prompt, Style, Title, Voice,
};

/// Replaces every inline copy of a component schema by a reference to it,
/// so what is said of the component (examples, constraints) holds everywhere.
pub(super) fn dedupe_inline_copies(schemas: &mut Map<String, Value>) {
    let mut components: Vec<(String, Value)> = schemas
        .iter()
        .map(|(n, s)| (n.clone(), s.clone()))
        .collect();
    // The largest first: a copy inside a copy goes with its container.
    components.sort_by_key(|(_, s)| std::cmp::Reverse(s.to_string().len()));
    for schema in schemas.values_mut() {
        if let Value::Object(map) = schema {
            for child in map.values_mut() {
                replace_copies(child, &components);
            }
        }
    }
}

fn replace_copies(value: &mut Value, components: &[(String, Value)]) {
    if value.is_object()
        && let Some((name, _)) = components.iter().find(|(_, c)| c == value)
    {
        *value = json!({ "$ref": format!("#/components/schemas/{name}") });
        return;
    }
    match value {
        Value::Object(map) => map.values_mut().for_each(|v| replace_copies(v, components)),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_copies(v, components)),
        _ => {}
    }
}

/// Calls `f` on every object inside `value`, `value` included.
fn for_each_object(value: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Object(map) => {
            f(map);
            map.values_mut().for_each(|v| for_each_object(v, f));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| for_each_object(v, f)),
        _ => {}
    }
}

fn require(schema: &mut Value, fields: &[&str]) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let required = obj.entry("required").or_insert_with(|| json!([]));
    if let Value::Array(list) = required {
        for field in fields {
            if !list.iter().any(|f| f == field) {
                list.push(json!(field));
            }
        }
    }
}

fn set_props(schema: &mut Value, field: &str, props: Value) {
    if let (Some(Value::Object(target)), Value::Object(props)) =
        (schema.pointer_mut(&format!("/properties/{field}")), props)
    {
        target.extend(props);
    }
}

/// A string enum that also accepts `null` (absent): `allowed` plus `null`.
fn nullable_enum(allowed: &[&str], default: &str) -> Value {
    let mut values: Vec<Value> = allowed.iter().map(|v| json!(v)).collect();
    values.push(Value::Null);
    json!({ "enum": values, "default": default })
}

/// The whitespace `str::trim` removes (Unicode `White_Space`), as a regex class.
const TRIMMED: &str =
    r"[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*";

/// The tags `Language::parse` accepts: a supported primary subtag (any
/// case), an optional script and an optional region, `-` or `_` between
/// them, surrounding whitespace trimmed.
fn language_pattern() -> String {
    let primaries: Vec<String> = Language::SUPPORTED
        .iter()
        .map(|tag| {
            tag.chars()
                .map(|c| format!("[{}{}]", c, c.to_ascii_uppercase()))
                .collect()
        })
        .collect();
    format!(
        "^{TRIMMED}(?:{})(?:[-_][A-Za-z]{{4}})?(?:[-_](?:[A-Za-z]{{2}}|[0-9]{{3}}))?{TRIMMED}$",
        primaries.join("|")
    )
}

/// Constraints and `required` lists the derive cannot express.
pub(super) fn constrain_schemas(schemas: &mut Map<String, Value>) {
    if let Some(req) = schemas.get_mut("VideoRequest") {
        require(req, &[Prompt::FIELD]);
        set_props(
            req,
            Prompt::FIELD,
            json!({ "type": "string", "minLength": Prompt::MIN_CHARS, "maxLength": Prompt::MAX_CHARS }),
        );
        set_props(
            req,
            Title::FIELD,
            json!({ "minLength": Title::MIN_CHARS, "maxLength": Title::MAX_CHARS }),
        );
        set_props(
            req,
            DurationSeconds::FIELD,
            json!({ "minimum": DurationSeconds::MIN, "maximum": DurationSeconds::MAX,
                    "default": DurationSeconds::DEFAULT.get() }),
        );
        set_props(
            req,
            Style::FIELD,
            nullable_enum(Style::ALLOWED, Style::DEFAULT.as_str()),
        );
        set_props(
            req,
            AspectRatio::FIELD,
            nullable_enum(AspectRatio::ALLOWED, AspectRatio::DEFAULT.as_str()),
        );
        set_props(
            req,
            Voice::FIELD,
            nullable_enum(Voice::ALLOWED, Voice::DEFAULT.as_str()),
        );
        set_props(
            req,
            Language::FIELD,
            json!({ "default": Language::DEFAULT_TAG, "examples": ["en", "en-US", "pt-BR"],
                    "pattern": language_pattern() }),
        );
        let cleaned = "counted in characters (Unicode scalar values) after NFC normalisation, \
                       dropping control characters and trimming whitespace";
        set_props(
            req,
            Prompt::FIELD,
            json!({ "description": format!(
                "What the video is about: {}..={} characters, {cleaned} (`\\n` and `\\t` are kept); \
                 screened for prompt injection (VAL_004).", Prompt::MIN_CHARS, Prompt::MAX_CHARS) }),
        );
        set_props(
            req,
            Title::FIELD,
            json!({ "description": format!(
                "Optional title: {}..={} characters on one line, {cleaned}; screened like the prompt.",
                Title::MIN_CHARS, Title::MAX_CHARS) }),
        );
    }
    // What the account and batch handlers enforce.
    if let Some(credentials) = schemas.get_mut("Credentials") {
        set_props(
            credentials,
            Password::FIELD,
            json!({ "minLength": Password::MIN_CHARS, "maxLength": Password::MAX_CHARS,
                    "description": format!("{}..={} characters (Unicode scalar values), kept as typed.",
                        Password::MIN_CHARS, Password::MAX_CHARS) }),
        );
        set_props(
            credentials,
            Email::FIELD,
            json!({ "format": "email", "maxLength": Email::MAX_CHARS }),
        );
    }
    if let Some(batch) = schemas.get_mut("BatchRequest") {
        set_props(batch, "videos", json!({ "minItems": 1 }));
    }
    let roles = [Role::User.as_str(), Role::Admin.as_str()];
    let plans: Vec<String> = ytvc_quota::Plans::default()
        .iter()
        .map(|p| p.name.as_str().to_owned())
        .collect();
    let plans: Vec<&str> = plans.iter().map(String::as_str).collect();
    if let Some(update) = schemas.get_mut("UserUpdate") {
        let mut role: Vec<Value> = roles.iter().map(|r| json!(r)).collect();
        role.push(Value::Null);
        let mut plan: Vec<Value> = plans.iter().map(|p| json!(p)).collect();
        plan.push(Value::Null);
        set_props(update, "role", json!({ "enum": role }));
        set_props(update, "plan", json!({ "enum": plan }));
    }
    if let Some(view) = schemas.get_mut("UserView") {
        set_props(view, "role", json!({ "enum": roles }));
        set_props(view, "plan", json!({ "enum": plans }));
    }
    // Nullable fields the server always writes (as `null` when unset).
    let always_present: [(&str, &[&str]); 4] = [
        ("QuotaView", &["quota", "remaining"]),
        (
            "VideoView",
            &[
                "title",
                "batch_id",
                "batch_index",
                "error",
                "artifacts",
                "video_url",
                "artifacts_expire_at",
                "started_at",
                "completed_at",
            ],
        ),
        ("BatchView", &["name"]),
        ("ErrorDetail", &["details"]),
    ];
    for (name, fields) in always_present {
        if let Some(schema) = schemas.get_mut(name) {
            require(schema, fields);
        }
    }
    // Every page says whether there is a next one.
    for schema in schemas.values_mut() {
        for_each_object(schema, &mut |obj| {
            let is_page = obj
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| {
                    p.len() == 2 && p.contains_key("items") && p.contains_key("next_cursor")
                });
            if is_page {
                let required = obj.entry("required").or_insert_with(|| json!([]));
                if let Value::Array(list) = required
                    && !list.iter().any(|f| f == "next_cursor")
                {
                    list.push(json!("next_cursor"));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_copies_become_references() {
        let item = json!({ "type": "object", "properties": { "id": { "type": "string" } } });
        let mut schemas = Map::new();
        schemas.insert("Item".into(), item.clone());
        schemas.insert(
            "Page".into(),
            json!({ "type": "object", "properties": {
                "items": { "type": "array", "items": item },
                "next_cursor": { "type": ["string", "null"] } } }),
        );
        dedupe_inline_copies(&mut schemas);
        constrain_schemas(&mut schemas);
        assert_eq!(
            schemas["Page"]["properties"]["items"]["items"],
            json!({ "$ref": "#/components/schemas/Item" })
        );
        assert_eq!(schemas["Item"], item);
        assert_eq!(schemas["Page"]["required"], json!(["next_cursor"]));
    }

    #[test]
    fn video_requests_carry_the_domains_constraints() {
        let mut schemas = Map::new();
        schemas.insert(
            "VideoRequest".into(),
            json!({ "type": "object", "properties": {
                Prompt::FIELD: { "type": "string" }, Style::FIELD: { "type": ["string", "null"] } } }),
        );
        constrain_schemas(&mut schemas);
        let req = &schemas["VideoRequest"];
        assert_eq!(req["required"], json!([Prompt::FIELD]));
        let prompt = &req["properties"][Prompt::FIELD];
        assert_eq!(prompt["minLength"], Prompt::MIN_CHARS);
        assert_eq!(prompt["maxLength"], Prompt::MAX_CHARS);
        let style = &req["properties"][Style::FIELD];
        assert_eq!(style["default"], Style::DEFAULT.as_str());
        assert_eq!(style["enum"].as_array().unwrap().last(), Some(&Value::Null));
    }
}
