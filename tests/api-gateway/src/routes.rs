//! The route table of the stack's HTTP API, as `template.yaml` declares it: each function's `HttpApi` events, all
//! with `Method: ANY`, so that every method reaches the function (which answers a wrong one with the contract's
//! `405` and `Allow`). A test below reads `template.yaml` and fails when the two differ.

/// One `HttpApi` route: a path template, matched segment by segment, and the function (the package under
/// `functions/`, as `cargo lambda watch` serves it) that owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub path: &'static str,
    pub function: &'static str,
}

pub const ROUTES: &[Route] = &[
    Route {
        path: "/v1/requests",
        function: "request-intake",
    },
    Route {
        path: "/v1/requests/{id}",
        function: "request-intake",
    },
    Route {
        path: "/v1/settings/validate",
        function: "settings-validator",
    },
    Route {
        path: "/v1/servicenow/events",
        function: "ticket-callback",
    },
];

/// The function that owns `path` (the raw path of the request, without its query), or `None` when no route
/// matches and API Gateway itself answers `404`.
///
/// As in API Gateway, a literal segment matches only itself (case-sensitively), and `{name}` matches exactly one
/// non-empty segment. Segments are compared as sent, still percent-encoded, so `%2F` inside an id stays inside
/// that one segment. A trailing slash is a segment of its own (an empty one), so `/v1/requests/` matches no route.
pub fn function_for(path: &str) -> Option<&'static str> {
    ROUTES
        .iter()
        .find(|route| matches(route.path, path))
        .map(|route| route.function)
}

fn matches(template: &str, path: &str) -> bool {
    let mut wanted = template.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(want), Some(got)) => {
                let variable = want.starts_with('{') && want.ends_with('}');
                if variable && got.is_empty() || !variable && want != got {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_goes_to_the_function_that_owns_it() {
        for (path, function) in [
            ("/v1/requests", "request-intake"),
            (
                "/v1/requests/6f1c1a3e-2b0e-4e55-9d0e-8d1f2b3c4d5e",
                "request-intake",
            ),
            ("/v1/requests/a%2Fb", "request-intake"),
            ("/v1/requests/%20", "request-intake"),
            ("/v1/settings/validate", "settings-validator"),
            ("/v1/servicenow/events", "ticket-callback"),
        ] {
            assert_eq!(function_for(path), Some(function), "{path}");
        }
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
            assert_eq!(function_for(path), None, "{path:?}");
        }
    }

    /// The table above is `template.yaml`'s: every `Path:` of an `HttpApi` event, with the `Binary` of the
    /// function it belongs to. A plain reading of the lines, enough for the template as it is written.
    #[test]
    fn the_table_is_the_templates() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
        let template = std::fs::read_to_string(path).expect("template.yaml");
        let mut binary = None;
        let mut in_http_api = false;
        let mut declared = Vec::new();
        for line in template.lines() {
            let line = line.trim();
            if let Some(name) = line.strip_prefix("Binary:") {
                binary = Some(name.trim().to_string());
            } else if let Some(kind) = line.strip_prefix("Type:") {
                in_http_api = kind.trim() == "HttpApi";
            } else if let Some(route) = line.strip_prefix("Path:")
                && in_http_api
            {
                let function = binary
                    .clone()
                    .expect("a Path: after its function's Binary:");
                declared.push((route.trim().to_string(), function));
            } else if let Some(method) = line.strip_prefix("Method:")
                && in_http_api
            {
                assert_eq!(method.trim(), "ANY", "the gateway forwards every method");
            }
        }
        let mut ours: Vec<_> = ROUTES
            .iter()
            .map(|route| (route.path.to_string(), route.function.to_string()))
            .collect();
        declared.sort();
        ours.sort();
        assert_eq!(
            ours, declared,
            "ROUTES must be template.yaml's HttpApi routes"
        );
    }
}
