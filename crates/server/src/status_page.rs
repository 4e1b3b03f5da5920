//! `GET /`: a small status page for people, rendered here with no
//! front-end build. Its figures come from the GraphQL schema itself, so the
//! page and the API can never disagree.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use serde_json::Value;

use crate::router::AppState;

/// What the page shows, as one GraphQL query.
const STATUS_QUERY: &str = "{
  stats { activeCount inactiveCount eventsInLog unfoldedEvents testDeliveries lastRunDate lastDeliveryAt
          recentRejections { reason count lastAt } }
  projection { appliedPosition logHead lag generation rebuilding lastRebuildAt }
}";

/// Seconds between the page's own refreshes.
const REFRESH_SECS: u32 = 5;

/// Renders the status page.
pub async fn show_status_page(State(state): State<AppState>) -> (StatusCode, Html<String>) {
    let response = state.schema.execute(STATUS_QUERY).await;
    if !response.errors.is_empty() {
        tracing::warn!(errors = ?response.errors, "status page query failed");
        let page =
            layout("<p class=\"error\">The status could not be read; see the server log.</p>");
        return (StatusCode::SERVICE_UNAVAILABLE, Html(page));
    }
    let data = response.data.into_json().unwrap_or(Value::Null);
    (StatusCode::OK, Html(layout(&body(&data))))
}

fn body(data: &Value) -> String {
    let stats = &data["stats"];
    let projection = &data["projection"];
    let rejections = rejection_rows(&stats["recentRejections"]);
    format!(
        r#"<section class="figures">
  {}{}{}{}{}
</section>
<table>
  <tr><th>Last delivery received</th><td id="last-delivery">{}</td></tr>
  <tr><th>Last NIPR refresh (runDate)</th><td id="last-run-date">{}</td></tr>
  <tr><th>Projection</th><td id="projection">position {} of {} (lag {}), generation {}{}</td></tr>
  <tr><th>Last rebuild</th><td>{}</td></tr>
</table>
<h2>Rejected deliveries, last 24 hours</h2>
{rejections}
<p class="links"><a href="/graphql">GraphiQL</a> · <a href="/metrics">Prometheus metrics</a> · <a href="/readyz">readiness</a></p>"#,
        figure("active", "Active producers", &stats["activeCount"]),
        figure("inactive", "Inactive producers", &stats["inactiveCount"]),
        figure("events", "Events in the log", &stats["eventsInLog"]),
        figure("unfolded", "Not understood", &stats["unfoldedEvents"]),
        figure(
            "test-deliveries",
            "Test deliveries",
            &stats["testDeliveries"]
        ),
        text(&stats["lastDeliveryAt"]),
        text(&stats["lastRunDate"]),
        text(&projection["appliedPosition"]),
        text(&projection["logHead"]),
        text(&projection["lag"]),
        text(&projection["generation"]),
        if projection["rebuilding"] == true {
            " — rebuilding"
        } else {
            ""
        },
        text(&projection["lastRebuildAt"]),
    )
}

fn figure(id: &str, label: &str, value: &Value) -> String {
    format!(
        "<div class=\"figure\"><span class=\"value\" id=\"{id}\">{}</span><span class=\"label\">{label}</span></div>",
        text(value)
    )
}

fn rejection_rows(rejections: &Value) -> String {
    let rows: Vec<String> = rejections
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(&row["reason"]),
                text(&row["count"]),
                text(&row["lastAt"])
            )
        })
        .collect();
    if rows.is_empty() {
        return "<p id=\"rejections\">None.</p>".to_owned();
    }
    format!(
        "<table id=\"rejections\"><tr><th>Reason</th><th>Count</th><th>Latest</th></tr>{}</table>",
        rows.concat()
    )
}

/// A JSON value as escaped HTML text; `—` for null.
fn text(value: &Value) -> String {
    let raw = match value {
        Value::Null => return "—".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    raw.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn layout(content: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{REFRESH_SECS}">
<title>producer-projector status</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1d2433; }}
.figures {{ display: flex; gap: 1rem; margin-bottom: 1.5rem; }}
.figure {{ border: 1px solid #d0d7e2; border-radius: 8px; padding: 1rem 1.5rem; min-width: 9rem; }}
.value {{ display: block; font-size: 2rem; font-weight: 600; }}
.label {{ color: #5b6475; }}
table {{ border-collapse: collapse; margin-bottom: 1rem; }}
th, td {{ text-align: left; padding: .3rem 1rem .3rem 0; }}
.error {{ color: #b00020; }}
</style>
</head>
<body>
<h1>producer-projector</h1>
{content}
<p class="refresh">Refreshes every {REFRESH_SECS} s.</p>
</body>
</html>"#
    )
}
