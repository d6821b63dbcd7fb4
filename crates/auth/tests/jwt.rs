//! Access tokens under attack: every forged, tampered or mis-addressed token
//! is refused, and only the configured algorithm is accepted.

use std::process::Command;

use base64::Engine as _;
use chrono::{TimeDelta, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use ytvc_auth::{JwtConfig, JwtTokenService, KeySource, SigningAlgorithm};
use ytvc_domain::accounts::{Role, User};
use ytvc_domain::auth::TokenService;
use ytvc_domain::ids::{SessionId, UserId};
use ytvc_domain::validation::Email;
use ytvc_quota::{AnchorDay, PlanName};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-only";

fn user() -> User {
    User {
        id: UserId::new(),
        email: Email::parse("t@example.com").unwrap(),
        password_hash: String::new(),
        role: Role::User,
        plan: PlanName::PRO,
        billing_anchor_day: AnchorDay::FIRST,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn hs() -> JwtTokenService {
    JwtTokenService::new(JwtConfig::hs256(SECRET.to_vec())).unwrap()
}

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn claims(u: &User, exp_in: i64) -> serde_json::Value {
    let now = Utc::now().timestamp();
    json!({"sub": u.id.to_string(), "jti": UserId::new().to_string(), "sid": SessionId::new().to_string(),
        "iat": now, "nbf": now, "exp": now + exp_in, "iss": "ytvc", "aud": "ytvc-api", "role": "user", "plan": "pro"})
}

#[test]
fn a_fresh_token_verifies_with_every_claim() {
    let t = hs();
    let u = user();
    let sid = SessionId::new();
    let issued = t.issue(&u, sid, Utc::now()).unwrap();
    let c = t.verify(&issued.token, Utc::now()).unwrap();
    assert_eq!(c.user, u.id);
    assert_eq!(c.session, sid);
    assert_eq!(c.plan, PlanName::PRO);
    assert_eq!(c.role, Role::User);
    assert_eq!(c.expires_at - c.issued_at, TimeDelta::minutes(15));
    let payload = issued.token.split('.').nth(1).unwrap();
    let raw: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    for claim in [
        "sub", "jti", "sid", "iat", "nbf", "exp", "iss", "aud", "role", "plan",
    ] {
        assert!(raw.get(claim).is_some(), "claim {claim}");
    }
}

#[test]
fn expiry_is_checked_against_the_given_clock_with_leeway() {
    let t = hs();
    let issued = t.issue(&user(), SessionId::new(), Utc::now()).unwrap();
    let later = Utc::now() + TimeDelta::minutes(15) + TimeDelta::seconds(31);
    assert!(
        t.verify(&issued.token, later).is_err(),
        "expired beyond the 30 s leeway"
    );
    let within = Utc::now() + TimeDelta::minutes(15) + TimeDelta::seconds(10);
    assert!(t.verify(&issued.token, within).is_ok(), "within the leeway");
    let before = Utc::now() - TimeDelta::minutes(5);
    assert!(
        t.verify(&issued.token, before).is_err(),
        "not yet valid / issued in the future"
    );
}

#[test]
fn tampering_alg_none_and_wrong_audience_are_refused() {
    let t = hs();
    let u = user();
    let token = t.issue(&u, SessionId::new(), Utc::now()).unwrap().token;
    let parts: Vec<&str> = token.split('.').collect();
    // Payload swapped for an admin one, signature kept.
    let mut forged = claims(&u, 600);
    forged["role"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], b64(&forged), parts[2]);
    assert!(t.verify(&tampered, Utc::now()).is_err());
    // alg: none.
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(&u, 600))
    );
    assert!(t.verify(&none, Utc::now()).is_err());
    // Correctly signed, wrong issuer / audience / missing claim.
    let sign = |c: &serde_json::Value| {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            c,
            &EncodingKey::from_secret(SECRET).unwrap(),
        )
        .unwrap()
    };
    assert!(
        t.verify(&sign(&claims(&u, 600)), Utc::now()).is_ok(),
        "control: a good forgery-free token passes"
    );
    let mut c = claims(&u, 600);
    c["iss"] = json!("someone-else");
    assert!(t.verify(&sign(&c), Utc::now()).is_err());
    let mut c = claims(&u, 600);
    c["aud"] = json!("another-api");
    assert!(t.verify(&sign(&c), Utc::now()).is_err());
    let mut c = claims(&u, 600);
    c.as_object_mut().unwrap().remove("aud");
    assert!(t.verify(&sign(&c), Utc::now()).is_err());
    let mut c = claims(&u, 600);
    c["sub"] = json!("not-a-uuid");
    assert!(t.verify(&sign(&c), Utc::now()).is_err());
    // Signed with another secret.
    let other = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(&u, 600),
        &EncodingKey::from_secret(b"another-secret-another-secret-another").unwrap(),
    )
    .unwrap();
    assert!(t.verify(&other, Utc::now()).is_err());
}

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl command is needed for key generation");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn keypair(kind: &str) -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let key = key.to_str().unwrap();
    match kind {
        "ed25519" => openssl(&["genpkey", "-algorithm", "ed25519", "-out", key]),
        _ => openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            key,
        ]),
    };
    let public = openssl(&["pkey", "-in", key, "-pubout"]);
    (std::fs::read(key).unwrap(), public)
}

fn asymmetric(alg: SigningAlgorithm, kind: &str) -> (JwtTokenService, Vec<u8>) {
    let (private, public) = keypair(kind);
    let mut config = JwtConfig::hs256(Vec::new());
    config.algorithm = alg;
    config.keys = KeySource::Pem {
        private,
        public: public.clone(),
    };
    (JwtTokenService::new(config).unwrap(), public)
}

#[test]
fn asymmetric_keys_work_and_hs256_signed_with_the_public_key_is_refused() {
    for (alg, kind) in [
        (SigningAlgorithm::EdDsa, "ed25519"),
        (SigningAlgorithm::Rs256, "rsa"),
    ] {
        let (t, public) = asymmetric(alg, kind);
        let u = user();
        let issued = t.issue(&u, SessionId::new(), Utc::now()).unwrap();
        assert_eq!(t.verify(&issued.token, Utc::now()).unwrap().user, u.id);
        // The classic confusion attack: HS256 with the (public) key as the secret.
        let confused = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(&u, 600),
            &EncodingKey::from_secret(&public).unwrap(),
        )
        .unwrap();
        assert!(t.verify(&confused, Utc::now()).is_err(), "{alg:?}");
    }
}

#[test]
fn bad_configurations_are_refused() {
    assert!(
        JwtTokenService::new(JwtConfig::hs256(vec![1; 31])).is_err(),
        "short secret"
    );
    let mut c = JwtConfig::hs256(SECRET.to_vec());
    c.algorithm = SigningAlgorithm::EdDsa;
    assert!(JwtTokenService::new(c).is_err(), "EdDSA with a secret");
    let mut c = JwtConfig::hs256(Vec::new());
    c.keys = KeySource::Pem {
        private: b"junk".to_vec(),
        public: b"junk".to_vec(),
    };
    c.algorithm = SigningAlgorithm::Rs256;
    assert!(JwtTokenService::new(c).is_err(), "junk PEM");
    assert_eq!(
        format!("{:?}", KeySource::Secret(SECRET.to_vec())),
        "Secret([redacted])"
    );
}

#[test]
fn refresh_tokens_are_long_random_and_hashed() {
    let t = hs();
    let (a, ha) = t.new_refresh_token();
    let (b, hb) = t.new_refresh_token();
    assert_ne!(a, b);
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&a)
            .unwrap()
            .len(),
        32
    );
    assert_eq!(ha.len(), 64);
    assert_ne!(ha, hb);
    assert!(!ha.contains(&a));
}
