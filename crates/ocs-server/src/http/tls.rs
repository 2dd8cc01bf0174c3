//! `GET /cacert.pem`: the private CA certificate the server generated, which agents need
//! (`--ca`) to check the HTTPS certificate. Public: it is not a secret, and an agent being
//! installed has no account.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::app::AppState;

/// The route.
pub fn router() -> Router<AppState> {
    Router::new().route("/cacert.pem", get(cacert_get))
}

async fn cacert_get(State(state): State<AppState>) -> Response {
    let config = std::sync::Arc::clone(&state.config);
    let read = tokio::task::spawn_blocking(move || crate::tls::ca_certificate_pem(&config)).await;
    match read {
        Ok(Ok(Some(pem))) => (
            [
                (header::CONTENT_TYPE, "application/x-pem-file"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"cacert.pem\"",
                ),
            ],
            pem,
        )
            .into_response(),
        Ok(Ok(None)) => (
            StatusCode::NOT_FOUND,
            "no generated CA: this server uses the certificate given in [tls] cert_file, or HTTPS is off\n",
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot read the CA certificate");
            (StatusCode::INTERNAL_SERVER_ERROR, "cannot read the CA certificate\n").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "reading the CA certificate stopped");
            (StatusCode::INTERNAL_SERVER_ERROR, "cannot read the CA certificate\n").into_response()
        }
    }
}
