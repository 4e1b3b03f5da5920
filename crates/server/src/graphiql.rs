//! GraphiQL, served entirely from this binary: the page and its vendored
//! assets (see `assets/graphiql/README.md`), so it works offline.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::error::ApiError;

/// The vendored files: name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "react.production.min.js",
        "application/javascript",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "application/javascript",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "graphiql.min.js",
        "application/javascript",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
];

/// The GraphiQL page, pointed at `/graphql` and `/graphql/ws`.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>producer-projector GraphiQL</title>
<style>body { margin: 0; } #graphiql { height: 100vh; }</style>
<link rel="stylesheet" href="/assets/graphiql/graphiql.min.css">
<script src="/assets/graphiql/react.production.min.js"></script>
<script src="/assets/graphiql/react-dom.production.min.js"></script>
<script src="/assets/graphiql/graphiql.min.js"></script>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script>
  const origin = window.location.origin;
  const wsOrigin = origin.replace(/^http/, 'ws');
  const fetcher = GraphiQL.createFetcher({
    url: origin + '/graphql',
    subscriptionUrl: wsOrigin + '/graphql/ws',
  });
  const defaultQuery = `# producer-projector: AgentSync producers folded from the event log.
{
  stats { activeCount inactiveCount eventsInLog lastRunDate }
  projection { appliedPosition logHead lag }
}
`;
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher, defaultQuery, defaultEditorToolsVisibility: true })
  );
</script>
</body>
</html>
"#;

/// `GET /graphql`: the GraphiQL IDE.
pub async fn serve_graphiql() -> Html<&'static str> {
    Html(PAGE)
}

/// `GET /assets/graphiql/{file}`: one vendored file.
pub async fn serve_graphiql_asset(Path(file): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(name, _, _)| *name == file) else {
        return ApiError::NotFound.into_response();
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, *content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        *bytes,
    )
        .into_response()
}
