//! The HTTP edge: routes, middleware, error rendering and the OpenAPI document.
//! Most of the server's actix-web code lives here: the server is the only
//! crate of the workspace that knows actix-web, and within it `startup`,
//! `cli` and `limits` use it too.

pub mod analytics;
pub mod api_keys;
pub mod artifacts;
pub mod auth;
pub mod batches;
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
        .app_data(state)
        .service(metrics::metrics)
        .configure(auth::configure)
        .configure(api_keys::configure)
        .configure(videos::configure)
        .service(artifacts::get_artifact)
        .configure(batches::configure)
        .service(analytics::usage)
        .service(quota::get_quota)
        .service(health::health)
        .service(health::ready)
        .service(catalog::list_errors)
        .configure(docs::configure);
    }
}

/// The unknown-route handler: NOT_FOUND_004 in the envelope.
///
/// A /v1 request from a known caller is still "any /v1 call": it counts
/// against the caller's API limit and carries its headers (RATE_001 when
/// over it). Without valid credentials it is just NOT_FOUND_004.
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
    Err(ApiError::new(ErrorCode::ResourceNotFound)
        .message(format!("No route for {} {}", req.method(), req.path()))
        .details(serde_json::json!({ "method": req.method().as_str(), "path": req.path() })))
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
