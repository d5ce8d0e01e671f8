//! What the stack takes from `template.yaml`, so that the local run cannot drift from what the template deploys:
//! the requests table's definition, and how each function under `functions/` is triggered.

use std::path::Path;

use serde::Deserialize;
use serde_norway::Value;

/// `template.yaml`, read; CloudFormation's short-form tags (`!Ref`, `!GetAtt`, …) are kept as tagged values.
pub struct Template(Value);

/// How the template triggers a function package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// An `HttpApi` route: warmed up on its function URL at the first route's path (`{param}`s given a value no
    /// request has).
    Http { path: String },
    /// A DynamoDB stream event: a relay each, with the event's filter patterns (JSON texts; none: every record).
    Stream { filters: Vec<String> },
    /// A `ScheduleV2` (or `Schedule`) event: invoked every `DEV_SCHEDULE_SECONDS` with its sample event.
    Schedule,
    /// Not in the template: served, but nothing triggers it.
    Unknown,
}

/// A package under `functions/`: its binary's name and its trigger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    /// The function's logical id in the template (`DecisionNotifierFunction`), `-` when it is not there.
    pub logical_id: String,
    pub trigger: Trigger,
}

/// The requests table's `Properties` that matter to a local copy of it (CloudFormation's names).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableDefinition {
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeyElement>,
    pub billing_mode: String,
    pub stream_specification: StreamSpecification,
    #[serde(default)]
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    pub time_to_live_specification: Option<TimeToLive>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyElement {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSpecification {
    pub stream_view_type: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GlobalSecondaryIndex {
    pub index_name: String,
    pub key_schema: Vec<KeyElement>,
    pub projection: Projection,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    pub projection_type: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLive {
    pub attribute_name: String,
    pub enabled: bool,
}

impl Template {
    /// Reads the template at `path`.
    ///
    /// # Errors
    /// The file cannot be read or is not YAML.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        Self::parse(&text).map_err(|err| format!("{}: {err}", path.display()))
    }

    fn parse(text: &str) -> Result<Self, String> {
        serde_norway::from_str(text)
            .map(Template)
            .map_err(|err| err.to_string())
    }

    /// The `RequestsTable` resource's definition.
    ///
    /// # Errors
    /// The template has no such resource, or its properties lack what a table needs.
    pub fn requests_table(&self) -> Result<TableDefinition, String> {
        let properties = &self.0["Resources"]["RequestsTable"]["Properties"];
        serde_norway::from_value(properties.clone())
            .map_err(|err| format!("template.yaml's RequestsTable: {err}"))
    }

    /// Every package folder under `folder` (a folder with a `Cargo.toml`), in name order, with its trigger.
    ///
    /// # Errors
    /// The folder cannot be listed.
    pub fn functions(&self, folder: &Path) -> Result<Vec<Function>, String> {
        let entries = std::fs::read_dir(folder)
            .map_err(|err| format!("cannot list {}: {err}", folder.display()))?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().join("Cargo.toml").is_file())
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names.into_iter().map(|name| self.function(name)).collect())
    }

    /// The function whose `BuildProperties.Binary` is `name`.
    fn function(&self, name: String) -> Function {
        let Some((logical_id, properties)) = self.serverless_function(&name) else {
            return Function {
                name,
                logical_id: "-".into(),
                trigger: Trigger::Unknown,
            };
        };
        let streams = events_of(properties, "DynamoDB");
        let routes = events_of(properties, "HttpApi");
        let trigger = if !streams.is_empty() {
            Trigger::Stream {
                filters: streams
                    .iter()
                    .flat_map(|event| sequence(&event["FilterCriteria"]["Filters"]))
                    .filter_map(|filter| filter["Pattern"].as_str().map(str::to_owned))
                    .collect(),
            }
        } else if !events_of(properties, "ScheduleV2").is_empty()
            || !events_of(properties, "Schedule").is_empty()
        {
            Trigger::Schedule
        } else if let Some(route) = routes.first() {
            let path = route["Path"].as_str().unwrap_or("/");
            Trigger::Http {
                path: path
                    .split('/')
                    .map(|part| {
                        if part.starts_with('{') {
                            "warm-up"
                        } else {
                            part
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("/"),
            }
        } else {
            Trigger::Unknown
        };
        Function {
            name,
            logical_id,
            trigger,
        }
    }

    /// The logical id and `Properties` of the `AWS::Serverless::Function` built from binary `name`.
    fn serverless_function(&self, name: &str) -> Option<(String, &Value)> {
        let resources = self.0["Resources"].as_mapping()?;
        resources.iter().find_map(|(logical_id, resource)| {
            let built = resource["Type"].as_str() == Some("AWS::Serverless::Function")
                && resource["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(name);
            built.then(|| {
                (
                    logical_id.as_str().unwrap_or("-").to_owned(),
                    &resource["Properties"],
                )
            })
        })
    }
}

/// The `Properties` of the function's events of `kind` (`HttpApi`, `DynamoDB`, …).
fn events_of<'a>(properties: &'a Value, kind: &str) -> Vec<&'a Value> {
    properties["Events"]
        .as_mapping()
        .map(|events| {
            events
                .values()
                .filter(|event| event["Type"].as_str() == Some(kind))
                .map(|event| &event["Properties"])
                .collect()
        })
        .unwrap_or_default()
}

fn sequence(value: &Value) -> &[Value] {
    value.as_sequence().map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn template() -> Template {
        Template::read(&root().join("template.yaml")).unwrap()
    }

    #[test]
    fn each_function_has_the_templates_trigger() {
        let functions = template().functions(&root().join("functions")).unwrap();
        let find = |name: &str| {
            functions
                .iter()
                .find(|function| function.name == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        assert_eq!(
            find("request-intake").trigger,
            Trigger::Http {
                path: "/v1/requests".into()
            }
        );
        assert_eq!(find("reconciler").trigger, Trigger::Schedule);
        let notifier = find("decision-notifier");
        assert_eq!(notifier.logical_id, "DecisionNotifierFunction");
        let Trigger::Stream { filters } = &notifier.trigger else {
            panic!("a stream function")
        };
        assert_eq!(filters.len(), 1);
        assert!(
            filters[0].contains(r#""attempts": {"N": ["0"]}"#),
            "{filters:?}"
        );
        let mut names: Vec<_> = functions.iter().map(|f| f.name.as_str()).collect();
        names.dedup();
        assert!(names.is_sorted(), "{names:?}");
    }

    #[test]
    fn a_path_parameter_gets_a_value_no_request_has_and_tags_are_read() {
        let template = Template::parse(
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildProperties:\n        \
             Binary: f\n    Properties:\n      Role: !GetAtt R.Arn\n      Events:\n        Get:\n          \
             Type: HttpApi\n          Properties:\n            Path: /v1/things/{id}\n",
        )
        .unwrap();
        assert_eq!(
            template.function("f".into()).trigger,
            Trigger::Http {
                path: "/v1/things/warm-up".into()
            }
        );
        assert_eq!(template.function("g".into()).trigger, Trigger::Unknown);
    }

    #[test]
    fn the_table_is_the_templates() {
        let table = template().requests_table().unwrap();
        assert_eq!(table.billing_mode, "PAY_PER_REQUEST");
        assert_eq!(table.key_schema[0].attribute_name, "pk");
        assert_eq!(table.stream_specification.stream_view_type, "NEW_IMAGE");
        assert_eq!(table.global_secondary_indexes[0].index_name, "backlog");
        assert_eq!(
            table
                .time_to_live_specification
                .map(|ttl| ttl.attribute_name),
            Some("expiresAtEpoch".into())
        );
    }
}
