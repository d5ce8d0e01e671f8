"""Creates the connector's AWS resources in the local emulator from template.yaml's own definitions.

Glue for scripts/dev.sh: the requests table is created with the template's key schema, billing mode and stream,
the settings secret from a settings file; the functions under functions/ are listed with how the template
triggers them, and each stream-triggered function's filter patterns are printed for its relay, so the local run
cannot drift from what the template deploys.
"""

import argparse
import json
import os
import signal
import sys

import yaml


class TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, ...) as plain values."""


TemplateLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: (
        loader.construct_scalar(node)
        if isinstance(node, yaml.ScalarNode)
        else loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
    ),
)


def load_template(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=TemplateLoader)


def create_table(template, name):
    import boto3  # only here: it takes a while to import, and only `create` needs it

    props = template["Resources"]["RequestsTable"]["Properties"]
    client = boto3.client("dynamodb")
    indexes = props.get("GlobalSecondaryIndexes")
    client.create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        BillingMode=props["BillingMode"],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": props["StreamSpecification"]["StreamViewType"]},
        **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
    )
    client.get_waiter("table_exists").wait(TableName=name)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def put_secret(name, settings):
    import boto3

    client = boto3.client("secretsmanager")
    try:
        client.create_secret(Name=name, SecretString=settings)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=settings)


# What pmcloud-sim accepts when its config names no API account (tests/pmcloud-sim/src/config.rs).
PMC_SIM_CLIENT_ID = "pmc-client"
PMC_SIM_CLIENT_SECRET = "pmc-client-secret"

# The function before there was more than one stream-triggered function: `filters` without --function.
DEFAULT_STREAM_FUNCTION = "TicketCreatorFunction"


def template_functions(template):
    """{binary name: (logical id, properties)} of every AWS::Serverless::Function built by cargo lambda."""
    functions = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        if binary:
            functions[binary] = (logical_id, resource.get("Properties", {}))
    return functions


def events_of(properties, event_type):
    """The Properties of the function's events of that type (HttpApi, DynamoDB, ...)."""
    events = properties.get("Events", {}).values()
    return [event.get("Properties", {}) for event in events if event.get("Type") == event_type]


def local_functions(template, folder):
    """One (name, kind, logical id, warm-up path) a package folder under `folder`, in name order.

    kind is "stream" (a DynamoDB stream triggers it: it gets a relay and is warmed up on the invoke URL), "http"
    (an HttpApi route: warmed up on the function URL, at that route's path), "schedule" (an EventBridge schedule:
    invoked on an interval, like the schedule would) or "unknown" (not in the template).
    """
    known = template_functions(template)
    found = []
    for name in sorted(os.listdir(folder)):
        if not os.path.isfile(os.path.join(folder, name, "Cargo.toml")):
            continue
        logical_id, properties = known.get(name, ("-", {}))
        routes = events_of(properties, "HttpApi")
        if events_of(properties, "DynamoDB"):
            found.append((name, "stream", logical_id, "-"))
        elif events_of(properties, "ScheduleV2") or events_of(properties, "Schedule"):
            found.append((name, "schedule", logical_id, "-"))
        elif routes:
            path = routes[0].get("Path", "/")
            # A path parameter such as {id} gets a value no request has.
            path = "/".join("warm-up" if part.startswith("{") else part for part in path.split("/"))
            found.append((name, "http", logical_id, path))
        else:
            found.append((name, "unknown", logical_id, "/"))
    return found


def filter_patterns(template, logical_id=DEFAULT_STREAM_FUNCTION):
    """The FilterCriteria patterns of the function's DynamoDB stream events (none: every record is delivered)."""
    properties = template["Resources"][logical_id]["Properties"]
    patterns = []
    for event in events_of(properties, "DynamoDB"):
        for entry in event.get("FilterCriteria", {}).get("Filters", []):
            patterns.append(entry["Pattern"])
    return patterns


def pmc_config(settings):
    """A pmcloud-sim config whose API account is the one the settings use (the simulator's own by default)."""
    pm_cloud = settings.get("pmCloud", {})
    return {
        "clientId": pm_cloud.get("clientId", PMC_SIM_CLIENT_ID),
        "clientSecret": pm_cloud.get("clientSecret", PMC_SIM_CLIENT_SECRET),
    }


def sim_config(settings, webhook_url):
    """The simulator's OAuth client, user, fields and webhook secret, taken from the settings they must match."""
    servicenow = settings["servicenow"]
    return {
        "clientId": servicenow["clientId"],
        "clientSecret": servicenow["clientSecret"],
        "users": [{"username": servicenow["username"], "password": servicenow["password"]}],
        "durationField": servicenow.get("durationField", "u_pm_duration"),
        "notesField": servicenow.get("notesField", "u_pm_message"),
        "webhook": {"url": webhook_url, "secret": settings["webhookSecrets"][0]},
    }


def main():
    # Ctrl-C on `make dev` reaches this script too: end at once and quietly, as a program does (dev.sh stops the
    # rest), rather than with a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", default="template.yaml")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create the table and the settings secret")
    create.add_argument("--table", required=True)
    create.add_argument("--secret", required=True)
    create.add_argument("--settings", required=True, help="settings JSON file")
    create.add_argument("--instance-url", help="replace servicenow.instanceUrl (the simulator's address)")
    create.add_argument(
        "--pmc-url",
        help="replace pmCloud.apiUrl (the PM Cloud simulator's address); a settings file without pmCloud gets the "
        "simulator's API account",
    )
    filters = sub.add_parser("filters", help="print a function's stream filter patterns, one JSON document a line")
    filters.add_argument(
        "--function",
        default=DEFAULT_STREAM_FUNCTION,
        help=f"the function's logical id in the template (default {DEFAULT_STREAM_FUNCTION})",
    )
    functions = sub.add_parser(
        "functions",
        help="print each function package: name, kind (http, stream or unknown), logical id, warm-up path; "
        "tab-separated, one a line",
    )
    functions.add_argument("--dir", default="functions", help="the folder of function packages")
    sim = sub.add_parser("sim-config", help="print a ServiceNow simulator config that accepts the settings")
    sim.add_argument("--settings", required=True, help="settings JSON file")
    sim.add_argument("--webhook-url", required=True, help="where the simulator sends approval webhooks")
    pmc = sub.add_parser("pmc-config", help="print a PM Cloud simulator config that accepts the settings")
    pmc.add_argument("--settings", required=True, help="settings JSON file")
    args = parser.parse_args()

    template = load_template(args.template)
    if args.command == "filters":
        if args.function not in template["Resources"]:
            sys.exit(f"dev_resources.py: no resource {args.function} in {args.template}")
        for pattern in filter_patterns(template, args.function):
            print(json.dumps(json.loads(pattern), separators=(",", ":")))
        return
    if args.command == "functions":
        for row in local_functions(template, args.dir):
            print("\t".join(row))
        return
    with open(args.settings, encoding="utf-8") as handle:
        settings = json.load(handle)
    if args.command == "sim-config":
        print(json.dumps(sim_config(settings, args.webhook_url), indent=2))
        return
    if args.command == "pmc-config":
        print(json.dumps(pmc_config(settings), indent=2))
        return
    if args.instance_url:
        settings["servicenow"]["instanceUrl"] = args.instance_url
    if args.pmc_url:
        others = {key: value for key, value in settings.get("pmCloud", {}).items() if key != "apiUrl"}
        settings["pmCloud"] = {"apiUrl": args.pmc_url, **pmc_config(settings), **others}
    create_table(template, args.table)
    put_secret(args.secret, json.dumps(settings))
    print(f"created table {args.table} and secret {args.secret}", file=sys.stderr)


if __name__ == "__main__":
    main()
