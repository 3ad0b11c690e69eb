//! The pages' HTML, JavaScript and CSS, hand-written and compiled into the binary: the console
//! works on a fresh machine with no CDN at run time and no npm at build time.

use axum::http::header;
use axum::response::{IntoResponse, Response};

pub const CHECKPOINT_HTML: &str = include_str!("assets/checkpoint.html");
pub const CHECKPOINT_JS: &str = include_str!("assets/checkpoint.js");
pub const NATIONAL_HTML: &str = include_str!("assets/national.html");
pub const NATIONAL_JS: &str = include_str!("assets/national.js");
pub const CSS: &str = include_str!("assets/console.css");

pub fn html(body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

pub fn javascript(body: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        body,
    )
        .into_response()
}

pub fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}
