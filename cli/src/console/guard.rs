//! Keeps other web pages out of the console. Loopback alone is not enough: any page the
//! operator's browser opens can send requests to 127.0.0.1, and the console answers them with
//! the operator's certificate. So a request must name a loopback host (no DNS rebinding) and a
//! POST must carry a header that a cross-site page cannot add without a CORS preflight, which
//! the console never grants.

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The header the consoles' own pages send with every POST.
pub const HEADER: &str = "x-huren-console";

pub async fn same_page_only(request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !is_loopback_host(host) {
        return (
            StatusCode::FORBIDDEN,
            "the console answers only pages opened at 127.0.0.1 or localhost",
        )
            .into_response();
    }
    if request.method() == Method::POST && !request.headers().contains_key(HEADER) {
        return (
            StatusCode::FORBIDDEN,
            "the console answers only its own page",
        )
            .into_response();
    }
    next.run(request).await
}

/// `127.0.0.1:7480`, `localhost:7480`, `[::1]:7480` (a port is optional).
fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    matches!(name, "localhost" | "[::1]")
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_are_hosts_of_the_console() {
        for ok in [
            "127.0.0.1:7480",
            "localhost:7480",
            "[::1]:7480",
            "127.0.0.1",
            "localhost",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:7480",
            "",
            "127.0.0.1.evil.example",
            "10.0.0.1:7480",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }
}
