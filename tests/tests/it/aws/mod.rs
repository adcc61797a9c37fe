//! The tests that need the moto emulator (or its venv): the AWS adapters'
//! conformance, the Lambda functions' real binaries (the log-writer's refusals among
//! them), the producers' examples, concurrent admins on the AWS adapters, and the
//! CLI's SigV4 signing (checked by botocore) and DLQ commands.

mod admin_races;
mod cli_dlq;
mod cli_sigv4;
mod conformance_aws;
mod conformance_sinks;
mod custom_headers_lambda;
mod delivery_stack;
mod disabled_notice;
mod hand_back;
mod held_tasks;
mod isolation_lambda;
mod kms_secrets_lambda;
mod lambda_functions;
mod log_writer_refusals;
mod migrate_subscriptions;
mod producers;
mod rate_limit_lambda;
mod recover_lambda;
mod secret_batches;
mod secret_tags;
mod stats_lambda;
