//! The operator's HTTP endpoints: `/metrics` (Prometheus text format) and `/healthz`.
//!
//! [`router`] builds them as an `axum::Router` that knows nothing of how it is served:
//! [`serve`] runs it alone on `[metrics] listen`, and another listener (the web server)
//! can mount the same router. The counters themselves are recorded by
//! [`crate::telemetry`] through the `metrics` facade; [`install`] installs the
//! Prometheus recorder they go to.
//!
//! Why `metrics` + `metrics-exporter-prometheus` rather than `prometheus-client`: call
//! sites stay one line (`metrics::counter!(…)`) in every layer without passing a
//! registry down, a process without the recorder (console, `tick`, tests) records
//! nothing at no cost, and the exporter renders the text format with histograms.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::app::App;
use crate::telemetry::{self, Heartbeat};

/// Installs the process-wide Prometheus recorder (once; later calls return the same
/// handle) and records the build info.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    // Buckets (seconds) from a fast local answer to a request at the client's timeout.
    let seconds = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0,
    ];
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &seconds)
        .map_err(|error| anyhow::anyhow!("cannot set the metrics' buckets: {error}"))?
        .install_recorder()
        .map_err(|error| anyhow::anyhow!("cannot install the metrics recorder: {error}"))?;
    let handle = HANDLE.get_or_init(|| handle).clone();
    telemetry::build_info();
    Ok(handle)
}

/// What the endpoints read: the recorder's handle, the store (for the write check) and
/// the update listener's heartbeat.
#[derive(Clone)]
pub struct Health {
    /// The Prometheus recorder's handle.
    pub metrics: PrometheusHandle,
    /// The app whose store's writes `/healthz` checks.
    pub app: App,
    /// Whether updates are coming in.
    pub heartbeat: &'static Heartbeat,
}

/// `/metrics` and `/healthz`, independent of where they are served.
pub fn router(health: Health) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(health)
}

/// Serves [`router`] alone on `listener` (bound to `[metrics] listen`) until `shutdown`
/// resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    health: Health,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if let Ok(listen) = listener.local_addr() {
        tracing::info!(%listen, "serving /metrics and /healthz");
    }
    axum::serve(listener, router(health))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|error| anyhow::anyhow!("the metrics server failed: {error}"))
}

async fn metrics(State(health): State<Health>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        health.metrics.render(),
    )
}

/// 200 "ok" while updates come in and the store accepts a write (a flush: a real write
/// and sync); 503 with the reasons otherwise.
async fn healthz(State(health): State<Health>) -> impl IntoResponse {
    let mut problems = Vec::new();
    if let Err(reason) = health.heartbeat.alive() {
        problems.push(reason);
    }
    let app = health.app.clone();
    match tokio::task::spawn_blocking(move || app.ops().flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => problems.push(format!("the store cannot write: {error}")),
        Err(error) => problems.push(format!("the store check failed: {error}")),
    }
    if problems.is_empty() {
        (StatusCode::OK, "ok\n".to_string())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{}\n", problems.join("\n")),
        )
    }
}
