//! What the end-to-end tests need to reach the running dev stack, which `scripts/dev.sh` starts and describes
//! in environment variables. Without them a test fails with the fix, rather than skipping.

/// The value of `name`, which the dev stack exports.
pub fn stack_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: the end-to-end tests need the dev stack; run them through `make test`")
    })
}

/// `http://127.0.0.1:<port>/lambda-url`: a function's route is `{functions_url}/{function}{route}`.
pub fn functions_url() -> String {
    stack_var("E2E_FUNCTIONS_URL")
}

/// The ServiceNow simulator's base URL (its control API is under `/sim`).
pub fn simulator_url() -> String {
    stack_var("E2E_SIM_URL")
}

/// The PM Cloud API key in the dev settings.
pub fn pmc_key() -> String {
    stack_var("E2E_PMC_KEY")
}

/// The URL of `route` on `function`.
pub fn route(function: &str, route: &str) -> String {
    format!("{}/{function}{route}", functions_url())
}
