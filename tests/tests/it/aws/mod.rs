//! The tests that need the moto emulator: the AWS adapters' conformance, the Lambda
//! functions' real binaries (the log-writer's refusals among them), and the
//! producers' examples.

mod conformance_aws;
mod conformance_sinks;
mod isolation_lambda;
mod lambda_functions;
mod log_writer_refusals;
mod producers;
