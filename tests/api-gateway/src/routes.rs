//! The route table of the stack's HTTP API, as `template.yaml` declares it: each function's `HttpApi` events, today
//! all with `Method: ANY`, so that every method reaches the function (which answers a wrong one with the contract's
//! `405` and `Allow`). A test below reads `template.yaml` and fails when the two differ.

/// One `HttpApi` route: its method (`ANY` or one method), its path template, matched segment by segment, and the
/// function (the package under `functions/`, as `cargo lambda watch` serves it) that owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
}

impl Route {
    /// The route key API Gateway puts in the event's `routeKey`: `ANY /v1/requests/{id}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

pub const ROUTES: &[Route] = &[
    Route {
        method: "ANY",
        path: "/v1/requests",
        function: "request-intake",
    },
    Route {
        method: "ANY",
        path: "/v1/requests/{id}",
        function: "request-intake",
    },
    Route {
        method: "ANY",
        path: "/v1/pmcloud/events",
        function: "request-intake",
    },
    Route {
        method: "ANY",
        path: "/v1/settings/validate",
        function: "settings-validator",
    },
    Route {
        method: "ANY",
        path: "/v1/servicenow/events",
        function: "ticket-callback",
    },
];

/// The route a request matched, with the raw (still percent-encoded) segment each `{name}` matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub route: &'static Route,
    pub parameters: Vec<(&'static str, String)>,
}

/// The route of `ROUTES` that `method` and `path` (the raw path, without the stage and the query) match, or `None`
/// when none does and API Gateway itself answers `404`.
///
/// As in API Gateway, a literal segment matches only itself (case-sensitively), and `{name}` matches exactly one
/// non-empty segment. Segments are compared as sent, still percent-encoded, so `%2F` inside an id stays inside
/// that one segment. A trailing slash is a segment of its own (an empty one), so `/v1/requests/` matches no route.
/// When several routes match, the most specific wins, as in API Gateway: a route of the request's own method
/// before an `ANY` one, then the one with more literal segments.
pub fn route_for(method: &str, path: &str) -> Option<Matched> {
    ROUTES
        .iter()
        .filter(|route| route.method == "ANY" || route.method == method)
        .filter_map(|route| {
            let parameters = matches(route.path, path)?;
            Some(Matched { route, parameters })
        })
        // max_by_key keeps the last of equals: reversed, the table's first of equals wins.
        .rev()
        .max_by_key(|matched| {
            let literals = matched.route.path.split('/').count() - matched.parameters.len();
            (matched.route.method != "ANY", literals)
        })
}

/// The `{name}` segments of `template` and what each matched in `path`, or `None` when `path` does not match.
fn matches(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut wanted = template.split('/');
    let mut given = path.split('/');
    let mut parameters = Vec::new();
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(parameters),
            (Some(want), Some(got)) => {
                match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                    Some(name) if !got.is_empty() => parameters.push((name, got.to_string())),
                    Some(_) => return None,
                    None if want != got => return None,
                    None => {}
                }
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function_for(method: &str, path: &str) -> Option<&'static str> {
        route_for(method, path).map(|matched| matched.route.function)
    }

    #[test]
    fn each_route_goes_to_the_function_that_owns_it() {
        for (path, function, key) in [
            ("/v1/requests", "request-intake", "ANY /v1/requests"),
            (
                "/v1/pmcloud/events",
                "request-intake",
                "ANY /v1/pmcloud/events",
            ),
            (
                "/v1/requests/6f1c1a3e-2b0e-4e55-9d0e-8d1f2b3c4d5e",
                "request-intake",
                "ANY /v1/requests/{id}",
            ),
            (
                "/v1/requests/a%2Fb",
                "request-intake",
                "ANY /v1/requests/{id}",
            ),
            (
                "/v1/requests/%20",
                "request-intake",
                "ANY /v1/requests/{id}",
            ),
            (
                "/v1/settings/validate",
                "settings-validator",
                "ANY /v1/settings/validate",
            ),
            (
                "/v1/servicenow/events",
                "ticket-callback",
                "ANY /v1/servicenow/events",
            ),
        ] {
            for method in ["GET", "POST", "DELETE", "OPTIONS"] {
                let matched = route_for(method, path).expect(path);
                assert_eq!(matched.route.function, function, "{path}");
                assert_eq!(matched.route.key(), key, "{path}");
            }
        }
    }

    #[test]
    fn a_path_parameter_is_the_raw_segment_it_matched() {
        let matched = route_for("GET", "/v1/requests/a%2Fb%20c").unwrap();
        assert_eq!(matched.parameters, [("id", "a%2Fb%20c".to_string())]);
        assert!(
            route_for("GET", "/v1/requests")
                .unwrap()
                .parameters
                .is_empty()
        );
    }

    #[test]
    fn other_paths_match_no_route() {
        for path in [
            "",
            "/",
            "/v1",
            "/v1/",
            "/v1/requests/",
            "/v1/requests//",
            "/v1/requests/a/b",
            "/v1/requests/a/",
            "/V1/requests",
            "/v1/Requests",
            "/v1/settings",
            "/v1/settings/validate/",
            "/v1/settings/validate/x",
            "/v1/servicenow/events/",
            "/v2/requests",
            "//v1/requests",
            "/request-intake/v1/requests",
        ] {
            assert_eq!(function_for("GET", path), None, "{path:?}");
        }
    }

    /// The table above is `template.yaml`'s: every `HttpApi` event's `Method:` and `Path:`, with the `Binary` of the
    /// function it belongs to. A plain reading of the lines, enough for the template as it is written.
    #[test]
    fn the_table_is_the_templates() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
        let template = std::fs::read_to_string(path).expect("template.yaml");
        let mut binary = None;
        let mut in_http_api = false;
        let mut method = None;
        let mut route = None;
        let mut declared = Vec::new();
        for line in template.lines() {
            let line = line.trim();
            if let Some(name) = line.strip_prefix("Binary:") {
                binary = Some(name.trim().to_string());
            } else if let Some(kind) = line.strip_prefix("Type:") {
                in_http_api = kind.trim() == "HttpApi";
                (method, route) = (None, None);
            } else if let Some(value) = line.strip_prefix("Path:")
                && in_http_api
            {
                route = Some(value.trim().to_string());
            } else if let Some(value) = line.strip_prefix("Method:")
                && in_http_api
            {
                method = Some(value.trim().to_string());
            }
            if in_http_api && let (Some(method), Some(route)) = (&method, &route) {
                let function = binary
                    .clone()
                    .expect("an HttpApi event after its function's Binary:");
                // A greedy `{proxy+}` would need matching this gateway does not do.
                assert!(!route.contains('+'), "{route}: greedy path variables");
                declared.push((format!("{method} {route}"), function));
                in_http_api = false;
            }
        }
        let mut ours: Vec<_> = ROUTES
            .iter()
            .map(|route| (route.key(), route.function.to_string()))
            .collect();
        declared.sort();
        ours.sort();
        assert_eq!(
            ours, declared,
            "ROUTES must be template.yaml's HttpApi routes"
        );
    }
}
