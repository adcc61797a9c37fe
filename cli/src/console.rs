//! The admin console: the static single-page app under `console/`, embedded in the
//! binary and served at `/` beside the API. The page itself is public; the API calls it
//! makes carry the bearer token when `serve` has one.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Everything the page loads comes from this origin; no inline scripts or styles.
/// `apiBase` in the embedded `config.js` is empty (same origin), so `connect-src 'self'`
/// covers the API; a console pointed elsewhere is hosted elsewhere, with its own policy.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'; object-src 'none'";

const HTML: &str = "text/html; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// One embedded file: the path it is served at, its content type and its text.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: HTML,
        body: include_str!("../../console/index.html"),
    },
    Asset {
        path: "/index.html",
        content_type: HTML,
        body: include_str!("../../console/index.html"),
    },
    Asset {
        path: "/config.js",
        content_type: JAVASCRIPT,
        body: include_str!("../../console/config.js"),
    },
    Asset {
        path: "/style.css",
        content_type: CSS,
        body: include_str!("../../console/style.css"),
    },
    Asset {
        path: "/favicon.svg",
        content_type: SVG,
        body: include_str!("../../console/favicon.svg"),
    },
    Asset {
        path: "/app.js",
        content_type: JAVASCRIPT,
        body: include_str!("../../console/app.js"),
    },
    Asset {
        path: "/api.js",
        content_type: JAVASCRIPT,
        body: include_str!("../../console/api.js"),
    },
    Asset {
        path: "/dom.js",
        content_type: JAVASCRIPT,
        body: include_str!("../../console/dom.js"),
    },
    Asset {
        path: "/ui.js",
        content_type: JAVASCRIPT,
        body: include_str!("../../console/ui.js"),
    },
    Asset {
        path: "/report.js",
        content_type: JAVASCRIPT,
        body: include_str!("../../console/report.js"),
    },
    Asset {
        path: "/list.js",
        content_type: JAVASCRIPT,
        body: include_str!("../../console/list.js"),
    },
    Asset {
        path: "/form.js",
        content_type: JAVASCRIPT,
        body: include_str!("../../console/form.js"),
    },
    Asset {
        path: "/headers.js",
        content_type: JAVASCRIPT,
        body: include_str!("../../console/headers.js"),
    },
    Asset {
        path: "/logs.js",
        content_type: JAVASCRIPT,
        body: include_str!("../../console/logs.js"),
    },
    Asset {
        path: "/health.js",
        content_type: JAVASCRIPT,
        body: include_str!("../../console/health.js"),
    },
];

/// `GET` routes for every console file. No fallback: the API router has one, and the
/// console is merged beside it, outside the bearer check.
pub fn router() -> Router {
    ASSETS.iter().fold(Router::new(), |router, asset| {
        router.route(asset.path, get(move || async move { serve(asset) }))
    })
}

fn serve(asset: &'static Asset) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        ],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::net::SocketAddr;

    use axum::http::StatusCode;

    use super::*;

    /// Serves `app` on a free loopback port for the test's lifetime.
    async fn spawn(app: Router) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        addr
    }

    fn served_paths() -> BTreeSet<&'static str> {
        ASSETS.iter().map(|asset| asset.path).collect()
    }

    /// `src="..."`, `href="..."` and `from "./x.js"` / `import("./x.js")` references.
    fn references(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for marker in ["src=\"", "href=\"", "from \"./", "import(\"./"] {
            let mut rest = text;
            while let Some(start) = rest.find(marker) {
                let after = &rest[start + marker.len()..];
                let end = after.find('"').unwrap_or(after.len());
                let target = after[..end].trim_start_matches("./");
                if !target.starts_with('#') && !target.contains("://") && !target.is_empty() {
                    found.push(format!("/{target}"));
                }
                rest = &after[end..];
            }
        }
        found
    }

    #[tokio::test]
    async fn every_file_is_served_with_its_type_and_the_security_headers() {
        // GIVEN the console router on its own
        let addr = spawn(router()).await;
        let client = reqwest::Client::new();
        for asset in ASSETS {
            // WHEN each file is fetched
            let response = client
                .get(format!("http://{addr}{}", asset.path))
                .send()
                .await
                .unwrap();
            // THEN it is answered with its content type, no caching and a strict policy
            assert_eq!(response.status(), StatusCode::OK, "{}", asset.path);
            let headers = response.headers();
            assert_eq!(headers[header::CONTENT_TYPE], asset.content_type);
            assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(csp.contains("script-src 'self';"), "{csp}");
            assert!(csp.contains("style-src 'self';"), "{csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
            assert!(!csp.contains("unsafe"), "{csp}");
            assert_eq!(response.text().await.unwrap(), asset.body);
        }
    }

    #[test]
    fn every_file_the_page_and_its_modules_load_is_served() {
        // GIVEN the page and every script it loads
        let served = served_paths();
        assert!(
            references(include_str!("../../console/index.html")).contains(&"/app.js".to_owned())
        );
        assert!(references(include_str!("../../console/app.js")).contains(&"/list.js".to_owned()));
        for asset in ASSETS {
            // THEN each file they reference is one the router serves
            for target in references(asset.body) {
                assert!(
                    served.contains(target.as_str()),
                    "{} references {target}, which is not served",
                    asset.path
                );
            }
        }
    }

    #[test]
    fn the_page_has_no_inline_scripts_or_styles() {
        let page = include_str!("../../console/index.html");
        assert!(
            !page.contains("<style"),
            "inline <style> is refused by the CSP"
        );
        assert!(
            !page.contains("style=\""),
            "style attributes are refused by the CSP"
        );
        let mut rest = page;
        while let Some(start) = rest.find("<script") {
            let tag_end = rest[start..].find('>').unwrap() + start;
            assert!(
                rest[start..tag_end].contains("src=\""),
                "inline <script> is refused by the CSP"
            );
            rest = &rest[tag_end..];
        }
    }

    #[test]
    fn the_embedded_config_points_at_the_same_origin() {
        let config = include_str!("../../console/config.js");
        assert!(config.contains("apiBase: \"\""), "{config}");
    }

    #[tokio::test]
    async fn merges_beside_a_router_with_a_fallback() {
        // GIVEN an API-like router with its own fallback
        let api = Router::new()
            .route("/event-types", get(|| async { "[]" }))
            .fallback(|| async { (StatusCode::NOT_FOUND, "api fallback") });
        // WHEN the console is merged beside it
        let addr = spawn(router().merge(api)).await;
        let client = reqwest::Client::new();
        // THEN the console, the API and the fallback each answer their own paths
        let page = client.get(format!("http://{addr}/")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("app.js"));
        let api = client
            .get(format!("http://{addr}/event-types"))
            .send()
            .await
            .unwrap();
        assert_eq!(api.text().await.unwrap(), "[]");
        let missing = client
            .get(format!("http://{addr}/nope.js"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(missing.text().await.unwrap(), "api fallback");
    }
}
