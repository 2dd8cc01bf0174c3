//! `/rollout`: the agent rollout files page (administrators only): list, upload (streamed to
//! disk), delete; and `GET /ocsinventory/deploy/<name>`, where launchers fetch them.

use std::pin::Pin;
use std::task::{Context, Poll};

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::handler::Handler;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hyper::body::Frame;
use tokio::io::{AsyncRead, ReadBuf};

use super::{done, error_page, failed, outcome, render, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::deployment::rollout::{self, RolloutFile, Upload};
use crate::app::{AppError, AppState};

/// Routes of the page.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/rollout",
            // The limit is the configured one, checked while streaming.
            get(rollout_get).post(rollout_post.layer(DefaultBodyLimit::disable())),
        )
        .route("/rollout/{name}/delete", post(rollout_delete_post))
}

#[derive(Template)]
#[template(path = "deployment/rollout.html")]
struct RolloutPage {
    page: PageCtx,
    files: Vec<RolloutFile>,
    limit: String,
}

async fn rollout_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        rollout::list_files(&state, &admin).await
    }
    .await;
    match result {
        Ok(files) => render(
            &signed.ctx,
            StatusCode::OK,
            &RolloutPage {
                page: PageCtx::new(&signed.ctx, &signed.viewer, "rollout"),
                files,
                limit: format!("{} MiB", state.config.deployment.max_package_bytes >> 20),
            },
        ),
        Err(e) => error_page(&signed.ctx, &e),
    }
}

async fn rollout_post(
    State(state): State<AppState>,
    signed: SignedIn,
    mut multipart: Multipart,
) -> Response {
    let admin = match require_admin(&signed.viewer) {
        Ok(a) => a,
        Err(e) => return error_page(&signed.ctx, &e),
    };
    let upload_error = |e: axum::extract::multipart::MultipartError| {
        AppError::bad_request("E_BAD_UPLOAD", format!("unreadable upload: {e}"))
    };
    let mut stored = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return failed(&signed.ctx, "/rollout", &upload_error(e)),
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        if name.is_empty() {
            continue;
        }
        let mut upload = match Upload::begin(&state, &admin, &name).await {
            Ok(u) => u,
            Err(e) => return failed(&signed.ctx, "/rollout", &e),
        };
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if let Err(e) = upload.write(&chunk).await {
                        return failed(&signed.ctx, "/rollout", &e);
                    }
                }
                Ok(None) => break,
                Err(e) => return failed(&signed.ctx, "/rollout", &upload_error(e)),
            }
        }
        match upload.finish(&state, &admin).await {
            Ok(file) => stored = Some(file),
            Err(e) => return failed(&signed.ctx, "/rollout", &e),
        }
        // One file per upload.
        break;
    }
    match stored {
        Some(file) => done(
            &signed.ctx,
            "/rollout",
            &signed.ctx.tr.fmt("rollout.stored", &[("name", &file.name)]),
        ),
        None => failed(
            &signed.ctx,
            "/rollout",
            &AppError::bad_request("E_NO_FILE", "rollout.no_file"),
        ),
    }
}

async fn rollout_delete_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(name): Path<String>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        rollout::delete_file(&state, &admin, &name).await
    }
    .await;
    outcome(&signed.ctx, "/rollout", result, "rollout.deleted")
}

/// `GET /ocsinventory/deploy/<name>` for launchers: the file, streamed; `None` when there is
/// none to give (DEPLOY off, bad name, no such file), for the agent endpoint to answer with
/// the original's statuses (403 when off, 400 otherwise).
pub async fn deploy_file(state: &AppState, name: &str) -> Option<Response> {
    match rollout::open_for_agent(state, name).await {
        Ok((file, len)) => Some(
            (
                [
                    (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                    (header::CONTENT_LENGTH, len.to_string()),
                ],
                Body::new(FileBody { file, left: len }),
            )
                .into_response(),
        ),
        Err(e) if e.status() == 404 => None,
        Err(e) => {
            tracing::error!(error = %e, "cannot serve a deploy file");
            Some(
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "cannot read the deploy file\n",
                )
                    .into_response(),
            )
        }
    }
}

/// A file sent in 64 KiB frames, so a large installer is never held in memory.
struct FileBody {
    file: tokio::fs::File,
    left: u64,
}

impl axum::body::HttpBody for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let mut buf = vec![0u8; 64 * 1024];
        let mut read = ReadBuf::new(&mut buf);
        match Pin::new(&mut self.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let n = read.filled().len();
                if n == 0 {
                    // The file shrank under us: end here rather than promise more.
                    self.left = 0;
                    return Poll::Ready(None);
                }
                let n = n.min(usize::try_from(self.left).unwrap_or(usize::MAX));
                self.left -= n as u64;
                buf.truncate(n);
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))))
            }
        }
    }
}
