//! The HTTP edge: routes, middleware, error rendering and the OpenAPI document.
//! Most of the server's actix-web code lives here: the server is the only
//! crate of the workspace that knows actix-web, and within it `startup`,
//! `cli` and `limits` use it too.

pub mod analytics;
pub mod api_keys;
pub mod artifacts;
pub mod auth;
pub mod batches;
pub mod body;
pub mod catalog;
pub mod cors;
pub mod docs;
pub mod error;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod quota;
pub mod submit;
pub mod videos;
pub mod views;

use actix_web::{App, HttpRequest, web};
use ytvc_error_codes::ErrorCode;

use crate::state::AppState;
use error::ApiError;

/// Registers every route and the extractor error handlers.
pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let limit = state.config.json_limit_bytes;
        cfg.app_data(
            web::JsonConfig::default()
                .limit(limit)
                .error_handler(move |err, _req| error::json_error(&err, limit).into()),
        )
        .app_data(web::PayloadConfig::default().limit(limit))
        .app_data(
            web::QueryConfig::default().error_handler(|err, _req| error::query_error(&err).into()),
        )
        .app_data(
            web::PathConfig::default().error_handler(|err, _req| error::path_error(&err).into()),
        )
        .app_data(web::Data::new(state.log.clone()))
        .app_data(web::Data::new(cors::CorsOrigins(std::rc::Rc::new(
            state.config.cors_origins.clone(),
        ))))
        .app_data(web::Data::from(state.metrics.clone()))
        .app_data(state.clone())
        .configure(auth::configure)
        .configure(api_keys::configure)
        .configure(videos::configure)
        .service(artifacts::get_artifact)
        .configure(batches::configure)
        .service(analytics::usage)
        .service(quota::get_quota)
        .service(health::health)
        .service(catalog::list_errors)
        .configure(docs::configure);
        // With an admin listener they are served there only (`admin_app`).
        if state.config.admin_bind.is_none() {
            cfg.service(metrics::metrics).service(health::ready);
        }
    }
}

/// The paths served on the admin listener instead of the public one when
/// `YTVC_ADMIN_BIND` is set.
pub const ADMIN_PATHS: [&str; 2] = ["/metrics", "/health/ready"];

/// The routes that are not operations of the OpenAPI document: the
/// document itself and the documentation pages (all `GET`).
const PAGE_ROUTES: [&str; 5] = [
    "/openapi.json",
    "/docs",
    "/docs/{_:.*}",
    "/redoc",
    "/redoc/redoc.standalone.js",
];

/// Every route pattern and the methods it answers: the operations of the
/// OpenAPI document (the e2e tests check that each is routed and that every
/// other method is 405) and the documentation pages.
static ROUTES: std::sync::LazyLock<Vec<(actix_web::dev::ResourceDef, String, Vec<String>)>> =
    std::sync::LazyLock::new(|| {
        let doc = serde_json::to_value(docs::openapi()).unwrap_or_default();
        let mut routes = Vec::new();
        if let Some(paths) = doc["paths"].as_object() {
            for (path, item) in paths {
                let methods: Vec<String> = ["get", "put", "post", "delete", "patch"]
                    .into_iter()
                    .filter(|m| item.get(*m).is_some())
                    .map(str::to_ascii_uppercase)
                    .collect();
                routes.push((
                    actix_web::dev::ResourceDef::new(path.as_str()),
                    path.clone(),
                    methods,
                ));
            }
        }
        for page in PAGE_ROUTES {
            routes.push((
                actix_web::dev::ResourceDef::new(page),
                page.to_owned(),
                vec!["GET".to_owned()],
            ));
        }
        routes
    });

/// The methods the route of `path` answers (empty when no route has it).
/// With an admin listener, its paths are not routes of the public one.
#[must_use]
pub fn allowed_methods(path: &str, admin_listener: bool) -> Vec<String> {
    let mut allowed: Vec<String> = Vec::new();
    for (def, pattern, methods) in ROUTES.iter() {
        if admin_listener && ADMIN_PATHS.contains(&pattern.as_str()) {
            continue;
        }
        if def.is_match(path) {
            for m in methods {
                if !allowed.contains(m) {
                    allowed.push(m.clone());
                }
            }
        }
    }
    allowed
}

/// The unknown-route handler: NOT_FOUND_004 in the envelope, or, on a known
/// path with a method its route does not have, 405 HTTP_001 with `Allow`.
///
/// A /v1 request from a known caller is still "any /v1 call": it counts
/// against the caller's API limit and carries its headers (RATE_001 when
/// over it). Without valid credentials it is just NOT_FOUND_004 / HTTP_001.
///
/// # Errors
/// Always: that is its job.
pub async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    if req.path().starts_with("/v1/")
        && req
            .headers()
            .contains_key(actix_web::http::header::AUTHORIZATION)
    {
        use actix_web::FromRequest as _;
        if let Err(e) = auth::ApiUser::from_request(&req, &mut actix_web::dev::Payload::None).await
            && e.code() == ErrorCode::ApiRateExceeded
        {
            return Err(e);
        }
    }
    let admin_listener = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.config.admin_bind.is_some());
    let allowed = allowed_methods(req.path(), admin_listener);
    if !allowed.is_empty() {
        return Err(method_not_allowed(
            req.method().as_str(),
            req.path(),
            &allowed,
        ));
    }
    Err(no_route(&req))
}

/// 404 NOT_FOUND_004 naming the method and path.
fn no_route(req: &HttpRequest) -> ApiError {
    ApiError::new(ErrorCode::ResourceNotFound)
        .message(format!("No route for {} {}", req.method(), req.path()))
        .details(serde_json::json!({ "method": req.method().as_str(), "path": req.path() }))
}

/// 405 HTTP_001 with `Allow`.
#[must_use]
pub fn method_not_allowed(method: &str, path: &str, allowed: &[String]) -> ApiError {
    let list = allowed.join(", ");
    let mut err = ApiError::new(ErrorCode::MethodNotAllowed)
        .message(format!(
            "{method} is not allowed on {path}; allowed: {list}"
        ))
        .details(serde_json::json!({ "method": method, "path": path, "allowed": allowed }));
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&list) {
        err = err.header(actix_web::http::header::ALLOW, value);
    }
    err
}

/// Builds the application with its middleware.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .configure(configure(state))
        .default_service(web::to(not_found))
        .wrap(actix_web::middleware::from_fn(cors::cors))
        .wrap(actix_web::middleware::from_fn(middleware::request_context))
}

/// The admin listener's unknown-route handler: 405 HTTP_001 on its paths
/// with another method, NOT_FOUND_004 for everything else.
///
/// # Errors
/// Always: that is its job.
pub async fn admin_not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    if ADMIN_PATHS.contains(&req.path()) {
        return Err(method_not_allowed(
            req.method().as_str(),
            req.path(),
            &["GET".to_owned()],
        ));
    }
    Err(no_route(&req))
}

/// The application of the admin listener (`YTVC_ADMIN_BIND`): `/metrics`
/// and `/health/ready`, with the same middleware as the public one.
pub fn admin_app(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(state.log.clone()))
        .app_data(web::Data::from(state.metrics.clone()))
        .app_data(state)
        .service(metrics::metrics)
        .service(health::ready)
        .default_service(web::to(admin_not_found))
        .wrap(actix_web::middleware::from_fn(middleware::request_context))
}
