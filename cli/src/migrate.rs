//! `webhooks migrate subscriptions --table NAME [--region R]`: the backfill of a
//! deployed stack's webhooks table after the upgrade that brought subscription items
//! (`webhooks_aws::migrate`, docs/storage.md). Safe to run again, and while the
//! service runs. The AWS SDK comes with the `dynamodb` feature (a default one).

use crate::error::CliError;

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub command: MigrateCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum MigrateCommand {
    /// Write every webhook's subscription items (fan-out reads only those) and the
    /// marker that switches fan-out and listing to them; idempotent.
    Subscriptions(SubscriptionsArgs),
}

#[derive(Debug, clap::Args)]
pub struct SubscriptionsArgs {
    /// The webhooks table (the stack's WebhooksTableName output).
    #[arg(long, value_name = "NAME")]
    pub table: String,

    /// The table's region (default: AWS_REGION or the profile's).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Print the counts as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// DynamoDB's rule for a table name: 3–255 of `a-z A-Z 0-9 _ - .`.
fn check_table(table: &str) -> Result<(), CliError> {
    let valid = (3..=255).contains(&table.len())
        && table
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(())
    } else {
        Err(CliError::invalid_argument(
            "--table",
            "is not a DynamoDB table name (3–255 of a-z, A-Z, 0-9, _, -, .)",
        ))
    }
}

pub async fn run(args: MigrateArgs) -> Result<(), CliError> {
    match args.command {
        MigrateCommand::Subscriptions(args) => {
            check_table(&args.table)?;
            with_dynamodb::subscriptions(args).await
        }
    }
}

#[cfg(feature = "dynamodb")]
mod with_dynamodb {
    use serde_json::json;
    use webhooks_aws::migrate::{migrate_subscriptions, MigrationReport};
    use webhooks_aws::{sdk, AwsClients};
    use webhooks_core::domain::time::{Clock, SystemClock};

    use super::SubscriptionsArgs;
    use crate::error::CliError;
    use crate::output;

    fn render(table: &str, report: &MigrationReport, as_json: bool) -> String {
        if as_json {
            return format!(
                "{}\n",
                json!({
                    "table": table,
                    "webhooks": report.webhooks,
                    "migrated": report.migrated,
                    "skipped": report.skipped,
                    "removed": report.removed,
                })
            );
        }
        format!(
            "{table}: {} webhooks, {} migrated, {} skipped (edited or deleted meanwhile: \
             their edit wrote their subscriptions), {} stale subscription items removed; \
             marker written\n",
            report.webhooks, report.migrated, report.skipped, report.removed
        )
    }

    pub async fn subscriptions(args: SubscriptionsArgs) -> Result<(), CliError> {
        let config = sdk::load_in(args.region.as_deref()).await;
        sdk::check_usable(&config)
            .await
            .map_err(CliError::runtime)?;
        let clients = AwsClients::new(&config);
        let report = migrate_subscriptions(&clients.dynamodb, &args.table, SystemClock.now())
            .await
            .map_err(|error| CliError::runtime(format!("the backfill stopped: {error}")))?;
        output::emit(&render(&args.table, &report, args.json))
    }
}

#[cfg(not(feature = "dynamodb"))]
mod with_dynamodb {
    use super::SubscriptionsArgs;
    use crate::error::CliError;

    pub async fn subscriptions(_args: SubscriptionsArgs) -> Result<(), CliError> {
        Err(CliError::invalid_argument(
            "--table",
            "this build of webhooks has no DynamoDB support (built without the `dynamodb` feature)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_name_is_checked_before_any_call() {
        // GIVEN names DynamoDB takes and refuses
        // THEN only the valid ones pass
        assert!(check_table("my-stack-WebhooksTable-1AB2.x_y").is_ok());
        for bad in ["", "ab", "has space", "slash/name"] {
            assert!(check_table(bad).is_err(), "{bad:?}");
        }
    }
}
