//! What the tests of the delivery function's binary share: a fresh webhooks table,
//! retry, logs and events-DLQ queues and a secret prefix on moto, and the function
//! started on them with a 2 s delivery timeout and loopback receivers allowed.

use webhooks_tests::functions::Function;
use webhooks_tests::moto::Moto;

pub(super) struct DeliveryStack {
    pub moto: Moto,
    pub table: String,
    pub retry: String,
    pub logs: String,
    pub dlq: String,
    pub prefix: String,
}

impl DeliveryStack {
    pub async fn create() -> Self {
        let moto = Moto::connect().await;
        Self {
            table: moto.create_webhooks_table().await,
            retry: moto.create_queue("retry").await,
            logs: moto.create_queue("logs").await,
            dlq: moto.create_queue("events-dlq").await,
            prefix: moto.secret_prefix(),
            moto,
        }
    }

    /// The delivery function on this stack; `overrides` replace or add variables.
    pub async fn delivery(&self, overrides: &[(&str, &str)]) -> Function {
        let mut env: Vec<(&str, &str)> = vec![
            ("WEBHOOKS_TABLE", &self.table),
            ("RETRY_QUEUE_URL", &self.retry),
            ("LOGS_QUEUE_URL", &self.logs),
            ("EVENTS_DLQ_URL", &self.dlq),
            ("METRICS_STACK", "webhooks-test"),
            ("SECRET_PREFIX", &self.prefix),
            ("DELIVERY_TIMEOUT_MS", "2000"),
            ("WEBHOOKS_ALLOW_NETS", "127.0.0.0/8"),
            ("WEBHOOKS_REQUIRE_HTTPS", "false"),
        ];
        for (name, value) in overrides {
            env.retain(|(set, _)| set != name);
            env.push((name, value));
        }
        Function::start("delivery", &env, &self.moto).await
    }
}
