"""Creates the connector's AWS resources in the local emulator from template.yaml's own definitions.

Glue for scripts/dev.sh: the requests table is created with the template's key schema, billing mode and stream,
the settings secret from a settings file; and the stream's filter patterns are printed for the relay, so the
local run cannot drift from what the template deploys.
"""

import argparse
import json
import sys

import boto3
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
    props = template["Resources"]["RequestsTable"]["Properties"]
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        BillingMode=props["BillingMode"],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": props["StreamSpecification"]["StreamViewType"]},
    )
    client.get_waiter("table_exists").wait(TableName=name)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def put_secret(name, settings):
    client = boto3.client("secretsmanager")
    try:
        client.create_secret(Name=name, SecretString=settings)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=settings)


def filter_patterns(template):
    events = template["Resources"]["TicketCreatorFunction"]["Properties"]["Events"]
    filters = events["NewRequests"]["Properties"]["FilterCriteria"]["Filters"]
    return [entry["Pattern"] for entry in filters]


def sim_config(settings, webhook_url):
    """The simulator's OAuth client, user, fields and webhook secret, taken from the settings they must match."""
    servicenow = settings["servicenow"]
    return {
        "clientId": servicenow["clientId"],
        "clientSecret": servicenow["clientSecret"],
        "users": [{"username": servicenow["username"], "password": servicenow["password"]}],
        "durationField": servicenow.get("durationField", "u_pm_duration"),
        "notesField": servicenow.get("notesField", "close_notes"),
        "webhook": {"url": webhook_url, "secret": settings["webhookSecrets"][0]},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", default="template.yaml")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create the table and the settings secret")
    create.add_argument("--table", required=True)
    create.add_argument("--secret", required=True)
    create.add_argument("--settings", required=True, help="settings JSON file")
    create.add_argument("--instance-url", help="replace servicenow.instanceUrl (the simulator's address)")
    sub.add_parser("filters", help="print the stream's filter patterns, one JSON document a line")
    sim = sub.add_parser("sim-config", help="print a ServiceNow simulator config that accepts the settings")
    sim.add_argument("--settings", required=True, help="settings JSON file")
    sim.add_argument("--webhook-url", required=True, help="where the simulator sends approval webhooks")
    args = parser.parse_args()

    template = load_template(args.template)
    if args.command == "filters":
        for pattern in filter_patterns(template):
            print(json.dumps(json.loads(pattern), separators=(",", ":")))
        return
    with open(args.settings, encoding="utf-8") as handle:
        settings = json.load(handle)
    if args.command == "sim-config":
        print(json.dumps(sim_config(settings, args.webhook_url), indent=2))
        return
    if args.instance_url:
        settings["servicenow"]["instanceUrl"] = args.instance_url
    create_table(template, args.table)
    put_secret(args.secret, json.dumps(settings))
    print(f"created table {args.table} and secret {args.secret}", file=sys.stderr)


if __name__ == "__main__":
    main()
