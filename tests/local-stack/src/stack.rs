//! The stack, started in order and served until it is asked to stop or a piece stops on its own: moto, the
//! simulators, the table and secret, cargo lambda watch with every function warmed up, the stream relays, the
//! schedule, and the API gateway; then `.dev/stack.env` and, in the foreground, the walkthrough.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::children::Children;
use crate::config::{Config, Mode, planned_ports};
use crate::env_file::{StackDescription, functions_env, write};
use crate::functions::Watch;
use crate::settings::Settings;
use crate::template::{Template, Trigger};
use crate::walkthrough::Walkthrough;
use crate::{aws, ports};

/// What `scripts/dev.sh start` prints when the stack is ready, and what `local-stack start` waits for.
pub const READY: &str =
    "dev stack ready; described in .dev/stack.env; stop it with scripts/dev.sh stop";

/// The pieces running in this process, each reporting why it ended.
type Tasks = JoinSet<(String, Result<(), String>)>;

/// Starts the stack and serves it until one of its pieces stops (an error) or the caller drops this future (a
/// stop was asked). `children` holds moto and cargo lambda watch; the caller stops them.
///
/// # Errors
/// What kept a piece from starting, or the piece that stopped on its own.
pub async fn serve(config: &Config, mode: Mode, children: &mut Children) -> Result<(), String> {
    let state = config.state_dir();
    std::fs::create_dir_all(state.join("logs"))
        .map_err(|err| format!("cannot create {}: {err}", state.join("logs").display()))?;
    let settings = Settings::read(&config.settings_file, config.own_settings)?;
    // A file of one's own runs against a real instance and tenant, unless it points at this machine (as
    // dev/settings-approvals.json does): then the simulators stand in for them.
    let servicenow_sim = !config.own_settings || settings.points_here("servicenow", "instanceUrl");
    let pmcloud_sim = !config.own_settings
        || !settings.has_pm_cloud()
        || settings.points_here("pmCloud", "apiUrl");

    let mut listening = Vec::new();
    if config.endpoint.is_none() {
        listening.push(&config.moto_port);
    }
    if servicenow_sim {
        listening.push(&config.sim_port);
    }
    if pmcloud_sim {
        listening.push(&config.pmc_port);
    }
    listening.extend([&config.watch_port, &config.api_port]);
    let planned = planned_ports(&listening)?;
    ports::ensure_free(&planned)?;
    let port_of = |variable: &str| {
        planned
            .iter()
            .find(|(name, _)| *name == variable)
            .map_or(0, |(_, port)| *port)
    };

    let venv = config.root.join(".venv");
    let (endpoint, suffix) = match &config.endpoint {
        Some(endpoint) => {
            let answers = reqwest::Client::new()
                .get(endpoint)
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            if answers.is_err() {
                return Err(format!(
                    "the AWS emulator at AWS_ENDPOINT_URL={endpoint} does not answer"
                ));
            }
            let epoch = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_secs());
            (endpoint.clone(), format!("-{epoch}-{}", std::process::id()))
        }
        None => {
            let port = port_of("DEV_MOTO_PORT");
            let mut moto = Command::new(venv.join("bin/moto_server"));
            moto.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            children.spawn("moto", moto, None)?;
            let endpoint = format!("http://127.0.0.1:{port}");
            let moto_api = format!("{endpoint}/moto-api/");
            children
                .await_answer(
                    "moto",
                    "moto",
                    &moto_api,
                    Duration::from_secs(30),
                    port,
                    "DEV_MOTO_PORT",
                )
                .await?;
            (endpoint, String::new())
        }
    };
    let table = format!("pmc-connector-requests{suffix}");
    let secret = format!("pmc-connector/settings{suffix}");
    let aws = aws::emulator(&endpoint).await;

    let watch_port = port_of("DEV_WATCH_PORT");
    let api_port = port_of("DEV_API_PORT");
    let api_url = match &config.api_stage {
        Some(stage) => format!("http://127.0.0.1:{api_port}/{stage}"),
        None => format!("http://127.0.0.1:{api_port}"),
    };
    // ServiceNow's business rule calls the HTTP API, as it does in AWS.
    let callback_url = format!("{api_url}/v1/servicenow/events");

    let servicenow = match servicenow_sim {
        true => {
            let port = port_of("DEV_SIM_PORT");
            let sim = servicenow_sim::Simulator::start_on(
                local(port),
                settings.servicenow_sim(&callback_url)?,
            )
            .await
            .map_err(|_| ports::taken(port, "DEV_SIM_PORT"))?;
            Some(sim)
        }
        false => None,
    };
    let pmcloud = match pmcloud_sim {
        true => {
            let port = port_of("DEV_PMC_PORT");
            let sim = pmcloud_sim::PmCloudSim::start_on(local(port), settings.pmcloud_sim())
                .await
                .map_err(|_| ports::taken(port, "DEV_PMC_PORT"))?;
            Some(sim)
        }
        false => None,
    };
    let sim_url = servicenow.as_ref().map(|sim| sim.base_url());
    let pmc_url = pmcloud.as_ref().map(|sim| sim.base_url());

    let template = Template::read(&config.root.join("template.yaml"))?;
    aws::create_table(&aws, &table, &template.requests_table()?).await?;
    let stored = settings.stored(sim_url.as_deref(), pmc_url.as_deref());
    aws::put_secret(&aws, &secret, &stored.to_string()).await?;
    eprintln!("created table {table} and secret {secret}");

    let functions_env_file = state.join("functions.env");
    write(
        &functions_env_file,
        &functions_env(&table, &secret, &endpoint, config),
    )?;
    let binaries = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.to_path_buf()))
        .ok_or("cannot tell where this program was built")?;
    let echo = Arc::new(AtomicBool::new(false));
    let mut lambda = Command::new(venv.join("bin/cargo-lambda"));
    lambda
        .current_dir(&config.root)
        .args(["lambda", "watch", "--invoke-address", "127.0.0.1"])
        .args(["--invoke-port", &watch_port.to_string()])
        .arg("--env-file")
        .arg(&functions_env_file);
    if mode == Mode::Start {
        // A background stack keeps what was built: the functions `cargo build --workspace --all-targets` built
        // beside this program, which `cargo test` then finds up to date (cargo lambda watch's own `cargo run
        // --bin NAME` would resolve features for the functions alone, and build everything again).
        lambda
            .arg("--ignore-changes")
            .env("CARGO", binaries.join("prebuilt-cargo"));
    }
    children.spawn("watch", lambda, Some(echo.clone()))?;
    let watch_url = format!("http://127.0.0.1:{watch_port}/");
    children
        .await_answer(
            "watch",
            "cargo lambda watch",
            &watch_url,
            Duration::from_secs(60),
            watch_port,
            "DEV_WATCH_PORT",
        )
        .await?;

    let watch = Watch {
        functions_url: format!("http://127.0.0.1:{watch_port}/lambda-url"),
        invoke_url: format!("http://127.0.0.1:{watch_port}/2015-03-31/functions"),
        binaries,
        client: reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|err| err.to_string())?,
    };
    let pmc_key = settings.pmc_key()?;
    let functions = template.functions(&config.root.join("functions"))?;
    for (index, function) in functions.iter().enumerate() {
        if let Err(err) = watch
            .warm(&config.root, function, &pmc_key, index == 0)
            .await
        {
            children.check()?;
            return Err(format!(
                "{err}\nerror: cargo lambda watch's log ({}) ends:\n{}",
                children.log("watch").display(),
                crate::children::log_tail(&children.log("watch"))
            ));
        }
    }

    // Dropping `stop` stops every piece served in this process.
    let (stop, stopped) = watch::channel(());
    let until_stopped = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.changed().await;
        }
    };
    let mut tasks = Tasks::new();
    let mut stream_functions = Vec::new();
    for function in &functions {
        let name = function.name.clone();
        match &function.trigger {
            // One relay per stream-triggered function, as Lambda runs one event source mapping per function:
            // its own filter, its own position in the stream, its own failures.
            Trigger::Stream { filters } => {
                let failures = state.join(format!("failed-stream-records-{name}.jsonl"));
                let mut args = vec![
                    "--table".to_owned(),
                    table.clone(),
                    "--invoke-url".to_owned(),
                    watch.invocations(&name),
                    "--failures-file".to_owned(),
                    failures.display().to_string(),
                ];
                for filter in filters {
                    args.extend(["--filter-pattern".to_owned(), filter.clone()]);
                }
                let relay = match stream_relay::parse_args(args)? {
                    stream_relay::Command::Run(relay) => relay,
                    stream_relay::Command::Help => unreachable!("no --help was given"),
                };
                let (aws, stopped) = (aws.clone(), until_stopped());
                tasks.spawn(async move {
                    let ended = stream_relay::run(&relay, &aws, stopped).await;
                    (
                        format!("the stream relay to {name}"),
                        ended.map_err(|err| err.to_string()),
                    )
                });
                stream_functions.push(function.name.clone());
            }
            // The schedule's stand-in, as EventBridge Scheduler invokes it in AWS.
            Trigger::Schedule => {
                let schedule =
                    watch
                        .clone()
                        .schedule(config.root.clone(), name.clone(), config.schedule);
                tasks.spawn(async move {
                    schedule.await;
                    (format!("the schedule of {name}"), Ok(()))
                });
            }
            Trigger::Http { .. } | Trigger::Unknown => {}
        }
    }

    // The HTTP API as API Gateway serves it, once every function is built, so that no call through it waits for a
    // build. In the foreground cargo lambda watch rebuilds a function that changed on its next call, which takes
    // longer than API Gateway's 30 seconds: the gateway then waits as long as the warm-up does.
    let mut gateway_args = vec![
        "--listen".to_owned(),
        local(api_port).to_string(),
        "--invoke-url".to_owned(),
        watch.invoke_url.clone(),
    ];
    if let Some(stage) = &config.api_stage {
        gateway_args.extend(["--stage".to_owned(), stage.clone()]);
    }
    if mode == Mode::Run {
        gateway_args.extend(["--timeout-seconds".to_owned(), "1200".to_owned()]);
    }
    let gateway = match api_gateway::parse_args(gateway_args)? {
        api_gateway::Command::Run(gateway) => gateway,
        api_gateway::Command::Help => unreachable!("no --help was given"),
    };
    let listener = TcpListener::bind(gateway.listen)
        .await
        .map_err(|_| ports::taken(api_port, "DEV_API_PORT"))?;
    let stopped = until_stopped();
    tasks.spawn(async move {
        let ended = api_gateway::serve(listener, &gateway, stopped).await;
        ("the API gateway".to_owned(), ended)
    });

    let description = StackDescription {
        api_url: api_url.clone(),
        functions_url: watch.functions_url.clone(),
        invoke_url: watch.invoke_url.clone(),
        sim_url: sim_url.clone(),
        pmc_url: pmc_url.clone(),
        pmc_key: pmc_key.clone(),
        webhook_secret: settings.webhook_secret()?,
        table: table.clone(),
        settings_file: config.settings_file.display().to_string(),
    };
    write(&state.join("stack.env"), &description.env_file())?;

    {
        let walkthrough = Walkthrough {
            root: config.root.display().to_string(),
            venv: venv.display().to_string(),
            settings_file: config.settings_file.display().to_string(),
            api_url,
            functions_url: watch.functions_url.clone(),
            endpoint,
            table,
            pmc_key,
            watch_port,
            schedule_seconds: config.schedule.as_secs(),
            sim_url,
            pmc_url,
            notifier: stream_functions
                .iter()
                .any(|name| name == "decision-notifier"),
            stream_functions,
            scheduled: functions
                .iter()
                .any(|function| function.trigger == Trigger::Schedule),
            approvals: settings.has_approvals(),
        };
        let template = config.root.join("dev/walkthrough.txt");
        let text = std::fs::read_to_string(&template)
            .map_err(|err| format!("cannot read {}: {err}", template.display()))?;
        let text = walkthrough.render(&text)?;
        // Kept in a file in both modes: in the foreground the logs that follow scroll it away, and a background
        // stack prints only that it is ready.
        write(&state.join("walkthrough.txt"), &text)?;
        if mode == Mode::Start {
            println!("{READY}");
        } else {
            print!("{text}");
            echo.store(true, Ordering::Relaxed);
        }
    }

    let outcome = watch_over(children, &mut tasks).await;
    drop(stop);
    drop((servicenow, pmcloud));
    outcome
}

/// Until a piece stops on its own: a task of this process, or a child.
async fn watch_over(children: &mut Children, tasks: &mut Tasks) -> Result<(), String> {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            Some(ended) = tasks.join_next() => {
                return Err(match ended {
                    Ok((name, Ok(()))) => format!("{name} stopped on its own"),
                    Ok((name, Err(err))) => format!("{name} stopped: {err}"),
                    Err(err) => format!("a piece of the stack failed: {err}"),
                });
            }
            _ = tick.tick() => children.check()?,
        }
    }
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// The repository's root: the working directory `scripts/dev.sh` gives.
pub fn root() -> Result<PathBuf, String> {
    std::env::current_dir().map_err(|err| format!("cannot tell the working directory: {err}"))
}
