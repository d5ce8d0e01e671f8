//! The connector's AWS resources in the local emulator: the requests table as `template.yaml` defines it, and the
//! settings secret.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
    TimeToLiveSpecification,
};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use dev_tool::error_chain;
use std::error::Error;

use crate::template::{KeyElement, TableDefinition};

/// The region and throwaway credentials every piece is given for the emulator, as `use_emulator` in
/// `scripts/lib.sh` gives them.
pub const REGION: &str = "us-east-1";
/// The access key id (and secret access key) of the emulator.
pub const CREDENTIAL: &str = "testing";

/// The SDK configuration for the emulator at `endpoint`.
pub async fn emulator(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            CREDENTIAL,
            CREDENTIAL,
            None,
            None,
            "local-stack",
        ))
        .load()
        .await
}

/// Creates table `name` from the template's `definition`, with its stream enabled, waits until it is active, and
/// turns on its time to live.
///
/// # Errors
/// The emulator's refusal, as `creating table NAME: CODE: message`.
pub async fn create_table(
    aws: &SdkConfig,
    name: &str,
    definition: &TableDefinition,
) -> Result<(), String> {
    let failed = |err: &dyn Error| format!("creating table {name}: {}", error_chain(err));
    let client = aws_sdk_dynamodb::Client::new(aws);
    let stream = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::from(
            definition.stream_specification.stream_view_type.as_str(),
        ))
        .build()
        .map_err(|err| failed(&err))?;
    let mut create = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::from(definition.billing_mode.as_str()))
        .stream_specification(stream)
        .set_key_schema(Some(
            keys(&definition.key_schema).map_err(|err| failed(&err))?,
        ));
    for attribute in &definition.attribute_definitions {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&attribute.attribute_name)
                .attribute_type(ScalarAttributeType::from(attribute.attribute_type.as_str()))
                .build()
                .map_err(|err| failed(&err))?,
        );
    }
    for index in &definition.global_secondary_indexes {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(keys(&index.key_schema).map_err(|err| failed(&err))?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(
                            index.projection.projection_type.as_str(),
                        ))
                        .build(),
                )
                .build()
                .map_err(|err| failed(&err))?,
        );
    }
    create.send().await.map_err(|err| failed(&err))?;
    wait_until_active(&client, name).await?;
    if let Some(ttl) = &definition.time_to_live_specification {
        let specification = TimeToLiveSpecification::builder()
            .attribute_name(&ttl.attribute_name)
            .enabled(ttl.enabled)
            .build()
            .map_err(|err| failed(&err))?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(specification)
            .send()
            .await
            .map_err(|err| failed(&err))?;
    }
    Ok(())
}

async fn wait_until_active(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), String> {
    for _ in 0..300 {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|err| format!("describing table {name}: {}", error_chain(&err)))?;
        if described.table().and_then(|table| table.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("table {name} did not become active within 30s"))
}

fn keys(
    elements: &[KeyElement],
) -> Result<Vec<KeySchemaElement>, aws_sdk_dynamodb::error::BuildError> {
    elements
        .iter()
        .map(|element| {
            KeySchemaElement::builder()
                .attribute_name(&element.attribute_name)
                .key_type(KeyType::from(element.key_type.as_str()))
                .build()
        })
        .collect()
}

/// Stores `value` as secret `name`, creating it or adding a version to it.
///
/// # Errors
/// The emulator's refusal, as `storing secret NAME: CODE: message`.
pub async fn put_secret(aws: &SdkConfig, name: &str, value: &str) -> Result<(), String> {
    let client = aws_sdk_secretsmanager::Client::new(aws);
    let failed = |err: &dyn Error| format!("storing secret {name}: {}", error_chain(err));
    match client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(err) if err.code() == Some("ResourceExistsException") => client
            .put_secret_value()
            .secret_id(name)
            .secret_string(value)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| failed(&err)),
        Err(err) => Err(failed(&err)),
    }
}
