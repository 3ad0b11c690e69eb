//! The consoles' HTTP listener: loopback only, because the page acts with the operator's client
//! certificate and anyone who can reach it could verify or read as that operator.

use std::net::SocketAddr;

use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error(
        "{0}: the console serves on loopback only (it acts with your client certificate); \
         use e.g. --listen 127.0.0.1:7480"
    )]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Binds `addr`, refusing any address that is not loopback.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ListenError> {
    if !addr.ip().is_loopback() {
        return Err(ListenError::NotLoopback(addr));
    }
    TcpListener::bind(addr)
        .await
        .map_err(|source| ListenError::Bind { addr, source })
}

/// Serves `router`, behind the [`guard`](super::guard), on `listener` until the process is
/// interrupted.
pub async fn serve(listener: TcpListener, router: axum::Router) -> std::io::Result<()> {
    let router = router.layer(axum::middleware::from_fn(super::guard::same_page_only));
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_an_address_other_machines_reach() {
        let err = bind("0.0.0.0:0".parse().unwrap()).await.unwrap_err();
        assert!(matches!(err, ListenError::NotLoopback(_)), "{err}");
        assert!(bind("127.0.0.1:0".parse().unwrap()).await.is_ok());
    }
}
