//! The DynamoDB tables of the stack as the emulator gets them: the webhooks table and
//! the delivery-logs table, shaped as `infra/template.yaml` defines them.

use aws_sdk_dynamodb::types::{
    BillingMode, GlobalSecondaryIndex, KeyType, Projection, ProjectionType, TimeToLiveSpecification,
};

use super::{attribute, key, unique, Moto};

impl Moto {
    /// A new webhooks table as `infra/template.yaml` defines it: partition key `id`,
    /// GSIs `by_event` (`event`, `id`) and `by_subscription` (`sub`, `webhook_id`),
    /// both projecting ALL. No marker: see `webhooks_aws::migrate`.
    pub async fn create_webhooks_table(&self) -> String {
        let name = unique("webhooks");
        let index = |name: &str, partition: &str, sort: &str| {
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(partition, KeyType::Hash))
                .key_schema(key(sort, KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("a valid index")
        };
        self.clients
            .dynamodb
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("id"))
            .attribute_definitions(attribute("event"))
            .attribute_definitions(attribute("sub"))
            .attribute_definitions(attribute("webhook_id"))
            .key_schema(key("id", KeyType::Hash))
            .global_secondary_indexes(index(webhooks_aws::EVENT_INDEX, "event", "id"))
            .global_secondary_indexes(index(webhooks_aws::SUBSCRIPTION_INDEX, "sub", "webhook_id"))
            .send()
            .await
            .expect("create the webhooks table");
        name
    }

    /// A new delivery-logs table: partition key `webhook_id`, sort key `sk`, TTL on
    /// `expires_at`.
    pub async fn create_delivery_logs_table(&self) -> String {
        let name = unique("delivery-logs");
        let dynamodb = &self.clients.dynamodb;
        dynamodb
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("webhook_id"))
            .attribute_definitions(attribute("sk"))
            .key_schema(key("webhook_id", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .send()
            .await
            .expect("create the delivery-logs table");
        dynamodb
            .update_time_to_live()
            .table_name(&name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name("expires_at")
                    .enabled(true)
                    .build()
                    .expect("a valid TTL specification"),
            )
            .send()
            .await
            .expect("enable TTL on the delivery-logs table");
        name
    }
}
